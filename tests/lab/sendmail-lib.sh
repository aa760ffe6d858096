# tests/lab/sendmail-lib.sh - a private sendmail 8.17 for the lab tests
# (sourced after lib.sh; POSIX sh).
#
# sendmail-bin conflicts with postfix as a Debian package, so it is never
# installed: "apt-get download" fetches sendmail-bin, sendmail-base and
# sendmail-cf (the shared libraries it links with are installed by
# quickstart: libdb5.3 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2
# libwrap0), "dpkg -x" unpacks them into
# a cache directory kept across runs ($SENDMAIL_CACHE, default
# $top_builddir/tests/tmp/sendmail), and the binary runs from there with
# LD_LIBRARY_PATH (its set-group-ID bit is cleared: the loader ignores
# LD_LIBRARY_PATH for set-ID programs).
#
#	. "$top_srcdir/tests/lab/lib.sh"
#	. "$top_srcdir/tests/lab/sendmail-lib.sh"
#	lab_init; lab_netns_create
#	sm_fetch                       # or lab_skip when it cannot be had
#	sm_init sm                     # $LAB_TMP/sm: queue, logs, certs
#	sm_mc_base sm > mc; echo "DAEMON_OPTIONS(...)" >> mc
#	sm_cf sm mc                    # m4 -> $LAB_TMP/sm/sendmail.cf
#	sm_start sm 127.0.0.1:25 [::1]:25   # returns once each greets 220
#	sm_stop sm                     # by PID
#
# sendmail runs in the test's network namespace and in a mount namespace
# of its own, where /etc/hosts names the host fully (otherwise every start
# sleeps 60 s on "unqualified host name"), /etc/resolv.conf points at
# nothing, and /dev/log leads to a datagram listener of the test (there is
# no syslog daemon): $LAB_TMP/NAME/syslog holds what sendmail logged.
# Certificates live under /tmp, hence TrustStickyBit. The load-average
# limits are off: a busy test machine must not make sendmail refuse or
# queue connections.

SM_CACHE=
SM_ROOT=
SM_BIN=
SM_RUNNING=

# sm_fetch - make $SM_ROOT hold an unpacked sendmail; skip the test with
# the reason when it cannot be downloaded or unpacked (a failure under
# ./quickstart test, where lab_skip fails: see DANEGUARD_TEST_STRICT).
sm_fetch()
{
	SM_CACHE=${SENDMAIL_CACHE:-${top_builddir:-.}/tests/tmp/sendmail}
	case $SM_CACHE in /*) ;; *) SM_CACHE=$(pwd)/$SM_CACHE ;; esac
	SM_ROOT=$SM_CACHE/root
	SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
	[ -f "$SM_CACHE/.complete" ] && [ -x "$SM_BIN" ] && return 0
	lab_require apt-get:apt dpkg:dpkg m4:m4
	# Unpacked beside the cache and moved in whole: a run that is
	# interrupted, or two that race, never leave a half cache behind.
	sm_tmp=$SM_CACHE.tmp.$$
	rm -rf "$sm_tmp"
	mkdir -p "$sm_tmp/debs" || lab_fail "cannot make $sm_tmp"
	if ! (cd "$sm_tmp/debs" && apt-get download sendmail-bin \
	    sendmail-base sendmail-cf) \
	    >"$sm_tmp/download.log" 2>&1; then
		sm_why=$(grep -E '^(E|Err):' "$sm_tmp/download.log" | head -n 1)
		rm -rf "$sm_tmp"
		lab_skip "cannot download sendmail from the Debian mirror" \
		    "(apt-get download sendmail-bin ...: ${sm_why:-failed};" \
		    "run apt-get update, or set SENDMAIL_CACHE to an unpacked copy)"
	fi
	for sm_deb in "$sm_tmp"/debs/*.deb; do
		dpkg -x "$sm_deb" "$sm_tmp/root" 2>>"$sm_tmp/download.log" || {
			rm -rf "$sm_tmp"
			lab_skip "cannot unpack $(basename "$sm_deb") (dpkg -x)"
		}
	done
	[ -x "$sm_tmp/root/usr/libexec/sendmail/sendmail" ] || {
		rm -rf "$sm_tmp"
		lab_skip "no usr/libexec/sendmail/sendmail in sendmail-bin"
	}
	chmod g-s "$sm_tmp/root/usr/libexec/sendmail/sendmail"
	touch "$sm_tmp/.complete"
	rm -rf "$SM_CACHE"
	mv "$sm_tmp" "$SM_CACHE" || lab_fail "cannot move $sm_tmp to $SM_CACHE"
}

# sm_dir NAME - the instance's directory.
sm_dir()
{
	echo "$LAB_TMP/$1"
}

# sm_init NAME - lay out $LAB_TMP/NAME: queue (root, 0700, as sendmail
# insists), the host's files for the mount namespace, an empty access
# map source (sm_access adds lines), and the syslog listener.
sm_init()
{
	sm_d=$LAB_TMP/$1
	mkdir -p "$sm_d/queue" "$sm_d/etc" "$sm_d/dev" ||
	    lab_fail "cannot make $sm_d"
	chmod 700 "$sm_d/queue"
	cat >"$sm_d/etc/hosts" <<EOF
127.0.0.1	mx1.example.test mx1 localhost
::1	mx1.example.test mx1 localhost ip6-localhost
EOF
	echo "nameserver 127.0.0.1" >"$sm_d/etc/resolv.conf"
	echo "hosts files" >"$sm_d/service.switch"
	: >"$sm_d/local-host-names"
	: >"$sm_d/helpfile"
	: >"$sm_d/statistics"
	# Mail from the test's clients to example.test is relayed (and then
	# discarded, see sm_mc_base).
	cat >"$sm_d/access" <<'EOF'
Connect:127	RELAY
Connect:IPv6:0:0:0:0:0:0:0:1	RELAY
To:example.test	RELAY
EOF
	: >"$sm_d/syslog"
	# A datagram listener for /dev/log, stopped by PID at cleanup.
	perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM,
		    Local => $ARGV[0]) or die "$ARGV[0]: $!\n";
		open(my $o, ">>", $ARGV[1]) or die "$ARGV[1]: $!\n";
		$o->autoflush(1);
		my $b;
		while (defined $s->recv($b, 65536)) { print $o "$b\n"; }
	    ' "$sm_d/log.sock" "$sm_d/syslog" 2>"$sm_d/syslog.err" &
	sm_logpid=$!
	lab_at_exit "lab_kill_pid $sm_logpid"
	sm_n=0
	until [ -S "$sm_d/log.sock" ]; do
		sm_n=$((sm_n + 1))
		[ $sm_n -gt 50 ] && lab_fail "syslog listener: $(cat "$sm_d/syslog.err")"
		sleep 0.1
	done
}

# sm_access NAME "KEY VALUE"... - add lines to the access map source; it
# is rebuilt (makemap hash) by sm_cf and sm_start.
sm_access()
{
	sm_d=$LAB_TMP/$1
	shift
	for sm_l in "$@"; do
		printf '%s\n' "$sm_l" >>"$sm_d/access"
	done
}

# sm_certs NAME RSA_KEY RSA_CHAIN ECDSA_KEY ECDSA_CHAIN - the files
# sendmail serves (copied; keys mode 0600 as sendmail requires).
sm_certs()
{
	sm_d=$LAB_TMP/$1
	cp "$2" "$sm_d/rsa.key" && cp "$3" "$sm_d/rsa-chain.pem" &&
	    cp "$4" "$sm_d/ecdsa.key" && cp "$5" "$sm_d/ecdsa-chain.pem" ||
	    lab_fail "cannot copy certificates into $sm_d"
	chmod 600 "$sm_d/rsa.key" "$sm_d/ecdsa.key"
}

# sm_mc_base NAME - the common part of a test .mc on stdout: paths under
# $LAB_TMP/NAME, STARTTLS with the RSA and the ECDSA chain at once, the
# access map, and every recipient routed to a mailer that discards.
# The caller appends DAEMON_OPTIONS and INPUT_MAIL_FILTER lines.
sm_mc_base()
{
	sm_d=$LAB_TMP/$1
	cat <<EOF
divert(-1)
# made by tests/lab/sendmail-lib.sh
divert(0)dnl
VERSIONID(\`daneguard lab')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx1.example.test')dnl
define(\`QUEUE_DIR', \`$sm_d/queue')dnl
define(\`confPID_FILE', \`$sm_d/sendmail.pid')dnl
define(\`STATUS_FILE', \`$sm_d/statistics')dnl
define(\`HELP_FILE', \`$sm_d/helpfile')dnl
define(\`confCW_FILE', \`$sm_d/local-host-names')dnl
define(\`confSERVICE_SWITCH_FILE', \`$sm_d/service.switch')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confSERVER_CERT', \`$sm_d/rsa-chain.pem,$sm_d/ecdsa-chain.pem')dnl
define(\`confSERVER_KEY', \`$sm_d/rsa.key,$sm_d/ecdsa.key')dnl
define(\`confCLIENT_CERT', \`')dnl
define(\`confCACERT_PATH', \`$sm_d')dnl
define(\`confCACERT', \`$sm_d/rsa-chain.pem')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`confMAX_DAEMON_CHILDREN', \`0')dnl
define(\`confCONNECTION_RATE_THROTTLE', \`0')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $sm_d/access')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`nouucp', \`reject')dnl
FEATURE(\`no_default_msa')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MAILER_DEFINITIONS
Mdiscard,	P=/bin/sh, F=lsDFMqSn, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP,
		T=DNS/RFC822/SMTP, A=sh -c cat>/dev/null sh \$u
LOCAL_RULE_0
R\$* < @ \$* > \$*	\$#discard \$@ \$2 \$: \$1 < @ \$2 > \$3
EOF
}

# sm_cf NAME MCFILE - build $LAB_TMP/NAME/sendmail.cf and the access map.
sm_cf()
{
	sm_d=$LAB_TMP/$1
	sm_cfdir=$SM_ROOT/usr/share/sendmail/cf
	m4 -D_CF_DIR_="$sm_cfdir/" "$sm_cfdir/m4/cf.m4" "$2" \
	    >"$sm_d/sendmail.cf" 2>"$sm_d/m4.err" ||
	    { cat "$sm_d/m4.err" >&2; lab_fail "m4 $2 failed"; }
	[ -s "$sm_d/m4.err" ] && { cat "$sm_d/m4.err" >&2; lab_fail "m4 $2 warned"; }
	sm_makemap "$1"
}

sm_makemap()
{
	sm_d=$LAB_TMP/$1
	LD_LIBRARY_PATH=$SM_ROOT/usr/lib/x86_64-linux-gnu \
	    "$SM_ROOT/usr/libexec/sendmail/makemap" -C "$sm_d/sendmail.cf" \
	    hash "$sm_d/access" <"$sm_d/access" 2>"$sm_d/makemap.err" ||
	    { cat "$sm_d/makemap.err" >&2
	      lab_fail "makemap hash $sm_d/access failed"; }
}

# sm_log NAME - show what sendmail logged (for a failure).
sm_log()
{
	echo "--- $LAB_TMP/$1/syslog (last 40 lines)" >&2
	tail -n 40 "$LAB_TMP/$1/syslog" >&2 2>/dev/null || :
	echo "--- $LAB_TMP/$1/sendmail.out" >&2
	cat "$LAB_TMP/$1/sendmail.out" >&2 2>/dev/null || :
	echo "---" >&2
}

# sm_pid NAME - the running daemon's PID, or nothing.
sm_pid()
{
	cat "$LAB_TMP/$1/daemon.pid" 2>/dev/null
}

# sm_start NAME LISTENER... - start "sendmail -bD" (the daemon in the
# foreground, so its PID is known) inside the namespaces and wait until
# every LISTENER (127.0.0.1:25, [::1]:25) greets with 220.
sm_start()
{
	sm_name=$1
	sm_d=$LAB_TMP/$1
	shift
	sm_makemap "$sm_name"
	# In the mount namespace: /etc/hosts, /etc/resolv.conf, and a /dev
	# whose entries lead to the real ones, plus log -> the listener.
	ip netns exec "$LAB_NETNS" unshare -m sh -c '
		d=$1; shift
		set -e
		mount --make-rprivate /
		mount --bind "$d/etc/hosts" /etc/hosts
		mount --bind "$d/etc/resolv.conf" /etc/resolv.conf
		mkdir -p "$d/dev/real"
		mount --rbind /dev "$d/dev/real"
		mount -t tmpfs -o mode=755 none /dev
		for f in "$d"/dev/real/* "$d"/dev/real/.[!.]*; do
			[ -e "$f" ] || [ -L "$f" ] || continue
			ln -s "$f" "/dev/${f##*/}"
		done
		ln -s "$d/log.sock" /dev/log
		set +e
		exec setsid "$@"
	    ' sh "$sm_d" env LD_LIBRARY_PATH="$SM_ROOT/usr/lib/x86_64-linux-gnu" \
	    "$SM_BIN" -C "$sm_d/sendmail.cf" -bD -O LogLevel=14 \
	    >"$sm_d/sendmail.out" 2>&1 &
	echo $! >"$sm_d/daemon.pid"
	SM_RUNNING="$SM_RUNNING $sm_name"
	lab_at_exit "sm_stop $sm_name"
	for sm_l in "$@"; do
		sm_port=${sm_l##*:}
		sm_host=${sm_l%:*}
		if ! lab_wait_banner "$sm_host" "$sm_port" 15; then
			sm_log "$sm_name"
			lab_fail "sendmail $sm_name does not answer on $sm_l"
		fi
	done
}

# sm_stop NAME - end the daemon by its PID (TERM, then KILL).
sm_stop()
{
	sm_p=$(sm_pid "$1")
	[ -n "$sm_p" ] && lab_kill_pid "$sm_p"
	rm -f "$LAB_TMP/$1/daemon.pid"
	return 0
}
