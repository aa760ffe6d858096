# tests/lab/lib.sh - shell helpers for the lab tests (sourced; POSIX sh).
#
# A lab test starts real servers (Postfix now; NSD, unbound and the milter
# later) on loopback inside a network namespace of its own: only "lo"
# exists there, so nothing the test starts can reach another machine, a
# stray DNS lookup fails at once, and parallel runs never collide on ports.
#
#	. "$top_srcdir/tests/lab/lib.sh"
#	lab_init                        # temp dir $LAB_TMP, exit trap
#	lab_require_root
#	lab_require postfix:postfix openssl:openssl   # command:Debian package
#	lab_netns_create                # namespace $LAB_NETNS, lo up
#	lab_postfix_init pf             # config, queue, data dir under $LAB_TMP/pf
#	lab_postfix_conf pf "smtpd_tls_security_level = may"
#	lab_postfix_listen pf 127.0.0.1:25
#	lab_postfix_start pf            # returns once 127.0.0.1:25 says 220
#	lab_ns openssl s_client ...     # any command inside the namespace
#	exit 0                          # the trap stops servers, deletes the
#	                                # namespace and the temp dir
#
# Every server is stopped by its own PID (never by name).  Readiness is
# proven by a real connect that reads the greeting, never by a sleep.
# Helpers print diagnostics on stderr; lab_fail/lab_skip exit.

: "${top_builddir:=.}"
LAB_NAME=$(basename "$0" .sh)
LAB_TMP=
LAB_NETNS=
LAB_POSTFIX=
LAB_AT_EXIT=

lab_log()
{
	echo "$LAB_NAME: $*" >&2
}

lab_fail()
{
	echo "$LAB_NAME: FAIL: $*" >&2
	exit 1
}

# Skip only when a tool or a privilege is really missing: CI has them all.
# Under "./quickstart test" (DANEGUARD_TEST_STRICT set) a skip is a
# failure: there every test is expected to run.
lab_skip()
{
	if [ -n "${DANEGUARD_TEST_STRICT:-}" ]; then
		echo "$LAB_NAME: FAIL: would skip: $* (DANEGUARD_TEST_STRICT" \
		    "is set: every test must run here)" >&2
		exit 1
	fi
	echo "$LAB_NAME: SKIP: $*" >&2
	exit 77
}

# lab_require CMD:PACKAGE... - skip, naming the Debian package, unless
# every command is installed (sbin directories included: non-root PATHs
# often lack them).
lab_require()
{
	for lab_req in "$@"; do
		lab_cmd=${lab_req%%:*}
		command -v "$lab_cmd" >/dev/null 2>&1 && continue
		lab_skip "$lab_cmd not found (Debian package ${lab_req#*:})"
	done
}

# lab_require_guard - the guard tests' preconditions: DANEGUARD (the
# built daemon unless set) is an executable, make check's environment is
# there, and we are root.
lab_require_guard()
{
	DANEGUARD=${DANEGUARD:-$top_builddir/milter/daneguard}
	[ -x "$DANEGUARD" ] ||
	    lab_fail "DANEGUARD='$DANEGUARD' is not an executable"
	lab_require_make_env
	lab_require_root
}

# lab_require_make_env - TLSAGEN and CERTDIR as make check exports them.
lab_require_make_env()
{
	[ -n "$TLSAGEN" ] && [ -x "$TLSAGEN" ] ||
	    lab_fail "TLSAGEN='$TLSAGEN' is not an executable"
	[ -n "$CERTDIR" ] && [ -d "$CERTDIR" ] ||
	    lab_fail "CERTDIR='$CERTDIR' is not a directory"
}

lab_require_root()
{
	[ "$(id -u)" -eq 0 ] ||
	    lab_skip "needs root (network namespaces, a private Postfix)"
	command -v ip >/dev/null 2>&1 ||
	    lab_skip "ip not found (Debian package iproute2)"
}

# lab_init - make $LAB_TMP and install the cleanup trap.  The directory is
# world-searchable because Postfix's unprivileged daemons open files in
# their data directory below it by absolute path.  Zeroes the counters
# lab_result and lab_dg_check keep ($checks, $fails).
lab_init()
{
	checks=0
	fails=0
	case ":$PATH:" in
	*:/usr/sbin:*)	;;
	*)		PATH=$PATH:/usr/sbin:/sbin; export PATH ;;
	esac
	LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dglab.XXXXXX") ||
	    lab_fail "cannot make a temporary directory"
	chmod 755 "$LAB_TMP"
	# shellcheck disable=SC2154 # lab_rc is set inside the trap
	trap 'lab_rc=$?; trap - EXIT; lab_cleanup; exit $lab_rc' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
}

# lab_guard_init CMD:PACKAGE... - a guard test's start: lab_init,
# lab_require_guard, then lab_require CMD:PACKAGE....
lab_guard_init()
{
	lab_init
	lab_require_guard
	lab_require "$@"
}

# lab_copy_certs DIR FILE... - make DIR and copy each FILE there from
# $CERTDIR (the test certificates and keys).
lab_copy_certs()
{
	lab_cd=$1
	shift
	mkdir -p "$lab_cd" || lab_fail "cannot make $lab_cd"
	for lab_cf in "$@"; do
		cp "$CERTDIR/$lab_cf" "$lab_cd/$lab_cf" ||
		    lab_fail "cannot copy $CERTDIR/$lab_cf (tests/data/gen-certs.sh makes it)"
	done
}

# lab_finish - print the counts of lab_result and exit: 0 when no check
# failed, else 1.
lab_finish()
{
	echo "$checks checks, $fails failed"
	[ "$fails" -eq 0 ] || exit 1
	exit 0
}

# lab_at_exit "COMMAND" - run COMMAND (with eval) at cleanup, before the
# servers are stopped; the last registered runs first.
lab_at_exit()
{
	LAB_AT_EXIT="$1
$LAB_AT_EXIT"
}

lab_cleanup()
{
	lab_saved_ifs=$IFS
	IFS='
'
	for lab_cmd in $LAB_AT_EXIT; do
		IFS=$lab_saved_ifs
		eval "$lab_cmd" || :
	done
	IFS=$lab_saved_ifs
	for lab_pf in $LAB_POSTFIX; do
		lab_postfix_stop "$lab_pf"
	done
	[ -n "$LAB_NETNS" ] && lab_netns_delete
	[ -n "$LAB_TMP" ] && rm -rf "$LAB_TMP"
	LAB_TMP=
}

# lab_pid_alive PID - true while PID runs; a zombie passes "kill -0" but
# is not running.
lab_pid_alive()
{
	[ -r "/proc/$1/status" ] || return 1
	! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# lab_kill_pid PID - TERM, wait up to 5 s, then KILL.
lab_kill_pid()
{
	lab_pid_alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	lab_n=0
	while lab_pid_alive "$1" && [ $lab_n -lt 50 ]; do
		sleep 0.1
		lab_n=$((lab_n + 1))
	done
	lab_pid_alive "$1" && kill -KILL "$1" 2>/dev/null
	return 0
}

# ------------------------------------------------------------ namespaces

# lab_netns_create - a fresh namespace with lo up, named uniquely per run
# ("dglab-PID-RANDOM") and recorded in $LAB_NETNS for cleanup.
lab_netns_create()
{
	lab_rand=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	LAB_NETNS="dglab-$$-$lab_rand"
	ip netns add "$LAB_NETNS" ||
	    { LAB_NETNS=; lab_fail "ip netns add failed"; }
	ip netns exec "$LAB_NETNS" ip link set lo up ||
	    lab_fail "cannot bring up lo in $LAB_NETNS"
}

# lab_ns COMMAND [ARG...] - run a command inside the test's namespace.
lab_ns()
{
	ip netns exec "$LAB_NETNS" "$@"
}

# lab_netns_delete - end what is left in the namespace (only this test's
# own processes can be there), then delete it.
lab_netns_delete()
{
	for lab_pid in $(ip netns pids "$LAB_NETNS" 2>/dev/null); do
		lab_log "process $lab_pid left in $LAB_NETNS; ending it"
		lab_kill_pid "$lab_pid"
	done
	ip netns del "$LAB_NETNS" 2>/dev/null ||
	    lab_log "warning: cannot delete namespace $LAB_NETNS"
	LAB_NETNS=
}

# lab_wait_banner ADDR PORT [SECONDS] [CODE] - poll by connecting inside the
# namespace until the server greets with CODE (default 220); ADDR may be
# "::1" or "[::1]".  Returns 1 after SECONDS (default 10).  bash is used
# only for its /dev/tcp connect with a read timeout.
lab_wait_banner()
{
	lab_addr=${1#[}
	lab_addr=${lab_addr%]}
	lab_tries=$(( ${3:-10} * 10 ))
	while [ $lab_tries -gt 0 ]; do
		lab_ns bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
		    IFS= read -r -t 2 line <&3 || exit 1
		    case $line in "$3"*) exit 0 ;; esac
		    exit 2' sh "$lab_addr" "$2" "${4:-220}" 2>/dev/null &&
		    return 0
		lab_tries=$((lab_tries - 1))
		sleep 0.1
	done
	lab_log "nothing greets with ${4:-220} on $1 port $2 after ${3:-10} s"
	return 1
}

# ------------------------------------------------------------ Postfix

# lab_postfix_init NAME - lay out a private Postfix instance in
# $LAB_TMP/NAME: etc/ (main.cf, master.cf), queue/, data/, maillog.  It
# accepts mail for example.test and discards it; no listeners yet.
lab_postfix_init()
{
	lab_d=$LAB_TMP/$1
	mkdir -p "$lab_d/etc" "$lab_d/queue" "$lab_d/data" ||
	    lab_fail "cannot make $lab_d"
	chown postfix "$lab_d/data" || lab_fail "no user postfix?"
	cat > "$lab_d/etc/main.cf" <<EOF
# private test instance made by tests/lab/lib.sh
compatibility_level = 3.6
queue_directory = $lab_d/queue
data_directory = $lab_d/data
maillog_file = $lab_d/maillog
maillog_file_prefixes = $lab_d
myhostname = mx1.example.test
mydomain = example.test
mydestination =
relay_domains = example.test
mynetworks = 127.0.0.0/8 [::1]/128
default_transport = discard:
local_transport = discard:
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = all
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no
EOF
	# chroot column "n": nothing to copy into a jail.
	cat > "$lab_d/etc/master.cf" <<'EOF'
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# lab_postfix_tls NAME DIR ["parameter = value"]... - lab_postfix_init
# NAME, offering STARTTLS with the ECDSA and the RSA chain in DIR
# (ecdsa.key, ecdsa-chain.pem, rsa.key, rsa-chain.pem), and the further
# main.cf parameters given; no listeners yet.
lab_postfix_tls()
{
	lab_postfix_init "$1"
	lab_postfix_conf "$1" "smtpd_tls_security_level = may" \
	    "smtpd_tls_chain_files = $2/ecdsa.key $2/ecdsa-chain.pem $2/rsa.key $2/rsa-chain.pem"
	lab_pn=$1
	shift 2
	[ $# -eq 0 ] || lab_postfix_conf "$lab_pn" "$@"
}

lab_postfix_dir()
{
	echo "$LAB_TMP/$1"
}

# lab_postfix_conf NAME "parameter = value"... - set main.cf parameters.
lab_postfix_conf()
{
	lab_d=$LAB_TMP/$1
	shift
	postconf -c "$lab_d/etc" -e "$@" ||
	    lab_fail "postconf -c $lab_d/etc -e $* failed"
}

# lab_postfix_listen NAME ADDR:PORT [-o name=value]... - add an smtpd
# listener (IPv6 written [::1]:PORT).
lab_postfix_listen()
{
	lab_d=$LAB_TMP/$1
	shift
	lab_listener=$1
	shift
	echo "$lab_listener inet n - n - - smtpd $*" >> "$lab_d/etc/master.cf"
}

# lab_postfix_master_pid NAME - the master's PID from its pid file.
lab_postfix_master_pid()
{
	lab_pidf=$LAB_TMP/$1/queue/pid/master.pid
	[ -r "$lab_pidf" ] && tr -d ' \n' < "$lab_pidf"
}

# lab_postfix_log NAME - show the instance's log and "postfix check"
# findings (which go only to a tty or syslog, hence script(1)).
lab_postfix_log()
{
	lab_d=$LAB_TMP/$1
	echo "--- postfix check ($lab_d/etc)" >&2
	script -qec "postfix -c $lab_d/etc check" /dev/null >&2 2>&1 || :
	echo "--- $lab_d/maillog (last 40 lines)" >&2
	tail -n 40 "$lab_d/maillog" >&2 2>/dev/null || :
	echo "---" >&2
}

# lab_postfix_start NAME - start the instance inside the namespace and wait
# until every listener of master.cf greets with 220.
lab_postfix_start()
{
	lab_d=$LAB_TMP/$1
	LAB_POSTFIX="$LAB_POSTFIX $1"
	if ! lab_ns postfix -c "$lab_d/etc" start >"$lab_d/start.out" 2>&1
	then
		cat "$lab_d/start.out" >&2
		lab_postfix_log "$1"
		lab_fail "postfix -c $lab_d/etc start failed"
	fi
	for lab_l in $(awk '$2 == "inet" { print $1 }' "$lab_d/etc/master.cf")
	do
		lab_port=${lab_l##*:}
		lab_host=${lab_l%:*}
		if ! lab_wait_banner "$lab_host" "$lab_port" 15; then
			lab_postfix_log "$1"
			lab_fail "Postfix $1 does not answer on $lab_l"
		fi
	done
}

# lab_postfix_stop NAME - "postfix stop", then make sure the master (found
# by its pid file) is gone.
lab_postfix_stop()
{
	lab_d=$LAB_TMP/$1
	lab_mpid=$(lab_postfix_master_pid "$1")
	lab_ns postfix -c "$lab_d/etc" stop >/dev/null 2>&1
	[ -n "$lab_mpid" ] && lab_kill_pid "$lab_mpid"
	LAB_POSTFIX=$(echo "$LAB_POSTFIX" | sed "s/ $1\$//; s/ $1 / /")
}

# ------------------------------------------------------------ records

# lab_oracle_311 FILE - "3 1 1 HEX" for the leaf (or the key) in FILE, by
# the openssl command line (tests/tlsagen/oracle.sh), never by tlsagen:
# tlsagen, the probe and the guard share lib/tlsa.c, so an expectation
# computed by it would pass a bug in it.
lab_oracle_311()
{
	lab_h=$(sh "$top_srcdir/tests/tlsagen/oracle.sh" "$1" |
	    awk '$1 == 1 && $2 == 1 && $4 == 0 { print $3; exit }')
	[ -n "$lab_h" ] || lab_fail "tests/tlsagen/oracle.sh: no 3 1 1 data for $1"
	echo "3 1 1 $lab_h"
}

# lab_oracle_zone HOST FILE... - the zone lines a deployment publishes
# for these files: "_25._tcp.HOST. 3600 IN TLSA 3 1 1 HEX", by the oracle.
lab_oracle_zone()
{
	lab_zh=$1
	shift
	for lab_zf in "$@"; do
		lab_r=$(lab_oracle_311 "$lab_zf") || return 1
		echo "_25._tcp.$lab_zh. 3600 IN TLSA $lab_r"
	done
}

# ------------------------------------------------------------ daneguard

# lab_result WHAT STATUS - count a check ($checks) that passed when
# STATUS is 0, else a failure ($fails); prints "ok" or "FAIL" and WHAT.
lab_result()
{
	checks=$((checks + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok    $1"
		return 0
	fi
	fails=$((fails + 1))
	echo "FAIL  $1"
	return 1
}


# lab_dg_check CONF OUT ERR - "$DANEGUARD --check -c CONF" inside the
# namespace: the table in OUT, stderr in ERR, the exit status in $rc. A
# sanitizer report on stderr counts as a failure of its own ($fails).
lab_dg_check()
{
	lab_ns timeout 120 "$DANEGUARD" --check -c "$1" >"$2" 2>"$3"
	rc=$?
	if grep -q 'Sanitizer\|runtime error' "$3"; then
		fails=$((fails + 1))
		echo "FAIL  sanitizer finding in daneguard --check:"
		head -n 60 "$3"
	fi
}

# lab_dg_state OUT CHECK HOST ADDR ALG - the STATE column of that row of
# the --check table in OUT ("-" for an empty column), or "missing".
lab_dg_state()
{
	awk -v c="$2" -v h="$3" -v a="$4" -v g="$5" '
	    NR > 2 && $1 == c && $2 == h && $3 == a && $4 == g { print $5; f = 1 }
	    END { if (!f) print "missing" }' "$1"
}

# lab_rows STATE CHECKS ADDRS ALGS - append to $R a line "CHECK ADDR ALG
# STATE" for every combination (ROWS for lab_dg_expect).
lab_rows()
{
	for lab_c in $2; do for lab_a in $3; do for lab_g in $4; do
		R="$R$lab_c $lab_a $lab_g $1
"
	done; done; done
}

# lab_dg_expect OUT ERR WHAT RC HOST ROWS - after lab_dg_check (table
# in OUT, stderr in ERR): a check (lab_result) named WHAT that the exit
# status $rc is RC and that every row of ROWS (lines "CHECK ADDR ALG
# STATE") has that state for HOST.
lab_dg_expect()
{
	lab_o=$1 lab_e=$2
	shift 2
	lab_why=
	[ "$rc" -eq "$2" ] || lab_why="exit $rc, not $2"
	lab_why=$lab_why$(echo "$4" | while read -r c a g st; do
		[ -n "$c" ] || continue
		got=$(lab_dg_state "$lab_o" "$c" "$3" "$a" "$g")
		[ "$got" = "$st" ] || printf '; %s %s %s is %s, not %s' \
		    "$c" "$a" "$g" "$got" "$st"
	done)
	lab_why=${lab_why#; }
	if [ -z "$lab_why" ]; then
		lab_result "$1" 0
		head -n 1 "$lab_o" | sed 's/^/      | /'
	else
		lab_result "$1: $lab_why" 1
		sed 's/^/      | /' "$lab_o" "$lab_e"
	fi
}

# lab_dg_has OUT WHAT REGEX / lab_dg_hasnt OUT WHAT REGEX - a check
# (lab_result) named WHAT that a row of the table in OUT matches the
# extended REGEX (or that none does).
lab_dg_has()
{
	if grep -Eq "$3" "$1"; then
		lab_result "$2" 0
		grep -E "$3" "$1" | head -n 1 | sed 's/^/      | /'
	else
		lab_result "$2: no row matches '$3'" 1
		sed 's/^/      | /' "$1"
	fi
}
lab_dg_hasnt()
{
	if grep -Eq "$3" "$1"; then
		lab_result "$2: a row matches '$3'" 1
		grep -E "$3" "$1" | sed 's/^/      | /'
	else
		lab_result "$2" 0
	fi
}

# lab_dg_start USER CONF SOCKET LOG READY [ARG...] - the daneguard daemon
# in the namespace: "-f -c CONF -p unix:SOCKET -u USER ARG...", output in
# LOG, started as root (it reads the keys before it drops privileges) and
# stopped by its PID ($dg_pid) at cleanup. Returns once READY (the socket,
# or a report file) exists and is not empty; fails after 30 s.
lab_dg_start()
{
	lab_u=$1 lab_c=$2 lab_s=$3 lab_l=$4 lab_r=$5
	shift 5
	ip netns exec "$LAB_NETNS" setsid "$DANEGUARD" -f -c "$lab_c" \
	    -p "unix:$lab_s" -u "$lab_u" "$@" >"$lab_l" 2>&1 &
	dg_pid=$!
	lab_at_exit "lab_kill_pid $dg_pid"
	lab_n=0
	until [ -S "$lab_r" ] || [ -s "$lab_r" ]; do
		lab_n=$((lab_n + 1))
		if [ $lab_n -gt 300 ] || ! lab_pid_alive $dg_pid; then
			cat "$lab_l" >&2
			lab_fail "daneguard (PID $dg_pid) made no $lab_r in 30 s"
		fi
		sleep 0.1
	done
}

# lab_dg_host HOST DIR [PROBE] - a daneguard.conf host section for HOST
# on port 25 with the RSA and ECDSA chains, keys and next keys in DIR
# (rsa-chain.pem, rsa.key, rsa-next.key, ecdsa-...), probed on 127.0.0.1
# and ::1, or as the line PROBE says (none when PROBE is empty: the host's
# addresses from DNS).
lab_dg_host()
{
	lab_probe=${3-'probe    = { "127.0.0.1", "::1" }'}
	cat <<EOF

host "$1" {
  port     = 25
  ttl      = 3600
  rollover = "current+next"${lab_probe:+
  $lab_probe}
  cert "rsa"   { chain = "$2/rsa-chain.pem"   key = "$2/rsa.key"
                 next_key = "$2/rsa-next.key" }
  cert "ecdsa" { chain = "$2/ecdsa-chain.pem" key = "$2/ecdsa.key"
                 next_key = "$2/ecdsa-next.key" }
}
EOF
}

# ------------------------------------------------------------ TLS-RPT

# lab_tlsrpt_init - $fixtures (tests/data/tlsrpt) and $yesterday (UTC,
# YYYY-MM-DD: the day reports are dated, read once so that a test run
# across midnight dates all of its reports alike).
lab_tlsrpt_init()
{
	fixtures=$top_srcdir/tests/data/tlsrpt
	yesterday=$(date -u -d yesterday +%Y-%m-%d) ||
	    lab_fail "GNU date needed"
}

# lab_tlsrpt_report OUT ID [SED...] - the three-policy DANE fixture (42
# failed sessions for mx1.example.test) dated $yesterday, with report-id
# ID and the further sed expressions applied, into OUT.
lab_tlsrpt_report()
{
	lab_out=$1 lab_id=$2
	shift 2
	sed -e "s/2026-12-04/$yesterday/g" \
	    -e "s/\"report-id\": \"[^\"]*\"/\"report-id\": \"$lab_id\"/" \
	    "$@" "$fixtures/dane-multi.json" > "$lab_out" || lab_fail "sed"
}

# lab_tlsrpt_sum STATE RESULT - the sum of the counts of RESULT in the
# TLS-RPT store of state_dir STATE.
lab_tlsrpt_sum()
{
	cat "$1"/tlsrpt/[0-9a-f][0-9a-f] 2>/dev/null |
	    awk -F '\t' -v r="$2" '$1 == "c" && $6 == r { n += $9 }
	        END { print n + 0 }'
}

# lab_tlsrpt_digest STATE - a checksum of that TLS-RPT store.
lab_tlsrpt_digest()
{
	cat "$1"/tlsrpt/[0-9a-f][0-9a-f] 2>/dev/null | cksum
}
