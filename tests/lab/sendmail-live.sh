#!/bin/sh
# tests/lab/sendmail-live.sh - daneguard attached to a live sendmail 8.17.
#
# A private sendmail (tests/lab/sendmail-lib.sh: Debian's packages
# unpacked, never installed) serves an RSA and an ECDSA chain at once on
# 127.0.0.1:25 and [::1]:25 inside a network namespace of its own, with
# daneguard as its milter over a unix socket, attached with the lines of
# conf/sendmail.mc. The daemon (-f, xclient = no, sendmail_access = the
# access map's source) must find:
#   healthy        G1-G5 OK for both addresses and algorithms; mail with
#                  and without TLS through sendmail and the milter, none
#                  rejected or tempfailed, the sessions counted per
#                  listener (TLS or not), {daemon_name} and the TLS macros
#                  read
#   scenario 2     the RSA chain replaced by one with a new key and
#                  sendmail restarted -> G3 and G4 CRITICAL for rsa only
#   scenario 4     "Srv_Features:127.0.0.2 S" in the access map -> a
#                  plaintext session from 127.0.0.2 (no STARTTLS offered)
#                  counted on its listener, and G6 CRITICAL naming
#                  127.0.0.2; another client still offered STARTTLS
#   scenario 5     the [::1]:25 daemon with M=S -> G1 CRITICAL on ::1 only
#                  (probes), and G1 CRITICAL for listener [::1]:25 from
#                  {daemon_flags} once mail came through it, also for a
#                  listener the guard does not probe (127.0.0.1:2525);
#                  OK again when a session without S follows
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make check);
# SENDMAIL_CACHE (default $top_builddir/tests/tmp/sendmail). Needs root,
# network access to the Debian mirror once (else SKIP, exit 77; FAIL
# under ./quickstart test, which sets DANEGUARD_TEST_STRICT), and the
# Debian packages m4, openssl, swaks, iproute2, util-linux, perl.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/sendmail-lib.sh"

lab_init
lab_require_guard
lab_require openssl:openssl swaks:swaks perl:perl unshare:util-linux \
    timeout:coreutils bash:bash
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-next.key \
    ecdsa-next.key rsa-other.key rsa-other-chain.pem; do
	[ -r "$CERTDIR/$f" ] || lab_fail "$CERTDIR/$f missing (tests/data/gen-certs.sh)"
done
sm_fetch

host=mx1.example.test
fails=0
checks=0
disk=$LAB_TMP/disk
conf=$LAB_TMP/daneguard.conf
state=$LAB_TMP/state
mkdir -p "$disk" "$state" || lab_fail "mkdir"
chown nobody "$state" || lab_fail "chown nobody $state"
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-next.key \
    ecdsa-next.key; do
	cp "$CERTDIR/$f" "$disk/$f" || lab_fail "cp $f"
done
chmod 600 "$disk"/*.key

lab_netns_create
sm_init sm
smdir=$(sm_dir sm)
sm_certs sm "$disk/rsa.key" "$disk/rsa-chain.pem" "$disk/ecdsa.key" \
    "$disk/ecdsa-chain.pem"

cat > "$conf" <<EOF
state_dir       = "$state"
probe_interval  = 300
probe_timeout   = 5
xclient         = no
tlsa_file       = "$LAB_TMP/published.zone"
sendmail_access = "$smdir/access"
EOF
lab_dg_host "$host" "$disk" >> "$conf"
# published: the openssl command line's records, not tlsagen's (which
# shares lib/tlsa.c with the guard)
lab_oracle_zone "$host" "$disk/rsa-chain.pem" "$disk/rsa-next.key" \
    "$disk/ecdsa-chain.pem" "$disk/ecdsa-next.key" \
    > "$LAB_TMP/published.zone" || exit 1

# make_mc V6FLAGS - the test .mc: two daemons on port 25 (the [::1] one
# with M=V6FLAGS when given), one more on 127.0.0.1:2525 with M=S that the
# guard does not probe, and the attachment exactly as conf/sendmail.mc
# ships it, with the test's socket.
make_mc()
{
	{
		sm_mc_base sm
		echo "DAEMON_OPTIONS(\`Family=inet, Addr=127.0.0.1, Port=25, Name=MTA, Listen=256')dnl"
		echo "DAEMON_OPTIONS(\`Family=inet6, Addr=::1, Port=25, Name=MTA-v6, Listen=256${1:+, M=$1}')dnl"
		echo "DAEMON_OPTIONS(\`Family=inet, Addr=127.0.0.1, Port=2525, Name=NOTLS, M=S, Listen=256')dnl"
		sed "s|local:/run/daneguard/daneguard.sock|local:$LAB_TMP/dg.sock|" \
		    "$top_srcdir/conf/sendmail.mc"
	} > "$smdir/test.mc"
	grep -q "local:$LAB_TMP/dg.sock" "$smdir/test.mc" ||
	    lab_fail "conf/sendmail.mc has no S=local:/run/daneguard/daneguard.sock line"
	sm_cf sm "$smdir/test.mc"
}
make_mc ""
grep -q '^O Milter.macros.connect=.*{daemon_flags}' "$smdir/sendmail.cf" ||
    lab_fail "conf/sendmail.mc does not add {daemon_flags} to the connect macros"
grep -q "^Xdaneguard, S=local:$LAB_TMP/dg.sock, F=, T=" "$smdir/sendmail.cf" ||
    { grep '^X' "$smdir/sendmail.cf"; lab_fail "no Xdaneguard line in the .cf"; }

# The milter first, so that sendmail's first sessions go through it. As
# root with -u nobody: the keys are read before the drop.
lab_dg_start nobody "$conf" "$LAB_TMP/dg.sock" "$LAB_TMP/dg.log" \
    "$LAB_TMP/dg.sock" -v
sm_start sm 127.0.0.1:25 "[::1]:25" 127.0.0.1:2525

# ------------------------------------------------------------ helpers


# item CHECK HOST ADDR ALG CLIENT - the state of that item in status.json,
# or "missing" (one item per line, see milter/report.c; "client" only
# when there is one).
item()
{
	if [ -n "$5" ]; then ic=", \"client\": \"$5\""; else ic=; fi
	grep -F "\"check\": \"$1\", \"host\": \"$2\", \"addr\": \"$3\", \"alg\": \"$4\"$ic, \"state\"" \
	    "$state/status.json" 2>/dev/null |
	    sed -n 's/.*"state": "\([A-Z]*\)".*/\1/p' | grep . || echo missing
}

# want WHAT ROWS - after a sweep asked for with SIGUSR2, every row
# "CHECK HOST ADDR ALG CLIENT STATE" ("-" for "") must hold; retried for
# up to 30 s (restarts, the sweep's own time: a hang). Every state seen on
# the way counts: a row may show what it showed when want began (the
# change not seen yet), then the new state, nothing else and never back.
want()
{
	what=$1 wrows=$2
	: > "$LAB_TMP/want.seen"
	first=1
	end=$(( $(date +%s) + 30 ))
	while :; do
		why=$(echo "$wrows" | while read -r c h a g cl st; do
			[ -n "$c" ] || continue
			[ "$h" = - ] && h=
			[ "$a" = - ] && a=
			[ "$g" = - ] && g=
			[ "$cl" = - ] && cl=
			got=$(item "$c" "$h" "$a" "$g" "$cl")
			echo "$c ${h:--} ${a:--} ${g:--} ${cl:--} $got" \
			    >> "$LAB_TMP/want.seen"
			[ "$got" = "$st" ] || printf '; %s %s %s %s %s is %s, not %s' \
			    "$c" "${h:--}" "${a:--}" "${g:--}" "${cl:--}" "$got" "$st"
		done)
		if [ $first = 1 ]; then
			# what the rows showed before this want's sweep
			cp "$LAB_TMP/want.seen" "$LAB_TMP/want.before"
			first=0
			kill -USR2 $dg_pid
			continue
		fi
		[ -z "$why" ] && break
		if [ "$(date +%s)" -ge $end ]; then
			lab_result "$what: ${why#; }" 1
			sed 's/^/      | /' "$state/status.json"
			tail -n 20 "$LAB_TMP/dg.log" | sed 's/^/      | /'
			return 1
		fi
		sleep 0.3
		kill -USR2 $dg_pid
	done
	wrong=$(echo "$wrows" | while read -r c h a g cl st; do
		[ -n "$c" ] || continue
		k="$c $h $a $g $cl"
		old=$(awk -v k="$k" '$1" "$2" "$3" "$4" "$5 == k { print $6 }' \
		    "$LAB_TMP/want.before")
		seq=$(awk -v k="$k" 'NR > 0 && $1" "$2" "$3" "$4" "$5 == k \
		    { printf "%s ", $6 }' "$LAB_TMP/want.seen")
		echo "$seq" | awk -v o="$old" -v n="$st" '
		    { for (i = 1; i <= NF; i++) {
			if ($i == n) newseen = 1
			else if ($i != o || newseen) bad = 1 } }
		    END { exit bad }' ||
		    printf '; %s went %s(wanted %s)' "$k" "$seq" "$st"
	done)
	if [ -n "$wrong" ]; then
		lab_result "$what: wrong state seen: ${wrong#; }" 1
		return 1
	fi
	lab_result "$what" 0
}

# rows STATE CHECKS ADDRS ALGS - lines for want (host $host, no client).
rows()
{
	for c in $2; do for a in $3; do for g in $4; do
		echo "$c $host $a $g - $1"
	done; done; done
}

# mail WHERE [SWAKS ARGS] - one message; must be accepted (250) by sendmail.
mail()
{
	mw=$1
	shift
	case $mw in
	*:*:*)	ms="--server ${mw%:*} --port ${mw##*:}" ;;
	*)	ms="--server $mw" ;;
	esac
	# shellcheck disable=SC2086
	lab_ns timeout 30 swaks $ms --from a@example.test --to b@example.test \
	    "$@" >"$LAB_TMP/swaks.out" 2>&1 &&
	    grep -q '^<[-~]  250 2.0.0 .* Message accepted for delivery' \
	    "$LAB_TMP/swaks.out" && return 0
	echo "      mail $mw $*: not accepted:"
	sed 's/^/      | /' "$LAB_TMP/swaks.out"
	return 1
}

# listener ADDR PORT FIELD - a counter of that listener in status.json.
listener()
{
	sed -n "s/.*{\"addr\": \"$1\", \"port\": $2, .*\"$3\": \([0-9]*\).*/\1/p" \
	    "$state/status.json" | head -n 1
}

addrs="127.0.0.1 ::1"
algs="rsa ecdsa"

# ------------------------------------------------------------ healthy

# Both chains served: the algorithm forced, as the guard's probes do.
bad=0
for a in 127.0.0.1 ::1; do
	case $a in *:*) c="[$a]:25" ;; *) c="$a:25" ;; esac
	for s in rsa_pss_rsae_sha256 ecdsa_secp256r1_sha256; do
		lab_ns timeout 10 openssl s_client -brief -starttls smtp \
		    -connect "$c" -sigalgs "$s" </dev/null >"$LAB_TMP/s.out" 2>&1 ||
		    bad=1
		grep -q 'Protocol version: TLSv1.3' "$LAB_TMP/s.out" || bad=1
	done
done
lab_result "sendmail serves STARTTLS with RSA and ECDSA on 127.0.0.1 and ::1" $bad ||
    cat "$LAB_TMP/s.out"

R=$(rows OK "G1 G2 G3 G5" "$addrs" "$algs"; rows OK G4 - "$algs"
    echo "G6 - - - - OK")
want "healthy: G1-G5 OK for both addresses and algorithms, access map read" "$R"
grep -q "\"check\": \"G6\", .*\"alg\": \"\", \"state\": \"OK\", \"reason\": \"no Srv_Features entry in $smdir/access withholds STARTTLS" \
    "$state/status.json"
lab_result "healthy: G6 says no Srv_Features entry withholds STARTTLS" $?

# Mail with and without TLS, IPv4 and IPv6, through sendmail and the milter.
bad=0
mail 127.0.0.1:25 --tls || bad=1
grep -q 'TLS started' "$LAB_TMP/swaks.out" || bad=1
mail ::1:25 --tls || bad=1
mail 127.0.0.1:25 || bad=1
mail ::1:25 || bad=1
grep -q 'TLS started' "$LAB_TMP/swaks.out" && bad=1
lab_result "healthy: mail with and without TLS accepted on 127.0.0.1 and ::1" $bad ||
    cat "$LAB_TMP/swaks.out"
# sendmail talked to the milter and was never told to reject, tempfail or
# wait: its log shows no milter trouble, and the guard counted the sessions.
n=$(grep -c 'from=<a@example.test>.*daemon=MTA' "$smdir/syslog")
[ "$n" -ge 4 ] &&
    ! grep -Eiq 'Milter.*(reject|tempfail|error|timeout|discard|quarantine)|Milter: no active filter' \
    "$smdir/syslog"
lab_result "healthy: sendmail logged $n messages, no milter reject/tempfail/error/timeout" $? ||
    grep -i milter "$smdir/syslog" | tail -n 20
kill -USR2 $dg_pid
n=0
until [ "$(listener 127.0.0.1 25 sessions)" = 2 ] &&
    [ "$(listener ::1 25 sessions)" = 2 ]; do
	n=$((n + 1))
	[ $n -gt 300 ] && break		# 30 s: a hang, not a speed limit
	sleep 0.1
done
[ "$(listener 127.0.0.1 25 tls)" = 1 ] &&
    [ "$(listener 127.0.0.1 25 plaintext)" = 1 ] &&
    [ "$(listener ::1 25 tls)" = 1 ] && [ "$(listener ::1 25 plaintext)" = 1 ] &&
    [ "$(listener 127.0.0.1 25 TLSv1.3)" = 1 ]
lab_result "healthy: milter counted 1 TLS (1.3) + 1 plaintext session on each listener" $? ||
    sed -n '/"listeners"/,$p' "$state/status.json"

# ------------------------------------------------------------ scenario 2

# A renewal with a key that has no record, deployed, sendmail restarted.
cp "$CERTDIR/rsa-other-chain.pem" "$disk/rsa-chain.pem"
cp "$CERTDIR/rsa-other.key" "$disk/rsa.key"
sm_certs sm "$disk/rsa.key" "$disk/rsa-chain.pem" "$disk/ecdsa.key" \
    "$disk/ecdsa-chain.pem"
sm_stop sm
sm_start sm 127.0.0.1:25 "[::1]:25" 127.0.0.1:2525
R=$(rows CRITICAL G3 "$addrs" rsa; rows OK "G1 G2 G5" "$addrs" rsa
    rows OK "G1 G2 G3 G5" "$addrs" ecdsa; rows CRITICAL G4 - rsa
    rows OK G4 - ecdsa)
want "scenario 2: new RSA key, sendmail restarted -> G3+G4 CRITICAL for rsa only" "$R"
grep 'check=G3 .*alg=rsa state=CRITICAL' "$LAB_TMP/dg.log" | head -n 1
cp "$CERTDIR/rsa-chain.pem" "$disk/rsa-chain.pem"
cp "$CERTDIR/rsa.key" "$disk/rsa.key"
sm_certs sm "$disk/rsa.key" "$disk/rsa-chain.pem" "$disk/ecdsa.key" \
    "$disk/ecdsa-chain.pem"
sm_stop sm
sm_start sm 127.0.0.1:25 "[::1]:25" 127.0.0.1:2525
R=$(rows OK "G1 G2 G3 G5" "$addrs" "$algs"; rows OK G4 - "$algs")
want "scenario 2 undone: every check OK again" "$R"

# ------------------------------------------------------------ scenario 4

# STARTTLS withheld from 127.0.0.2 by the access map (sendmail reads the
# rebuilt access.db at the next lookup: no restart).
sm_access sm "Srv_Features:127.0.0.2	S"
sm_makemap sm
p0=$(listener 127.0.0.1 25 plaintext)
mail 127.0.0.1:25 --local-interface 127.0.0.2 &&
    ! grep -q STARTTLS "$LAB_TMP/swaks.out"
lab_result "scenario 4: 127.0.0.2 is offered no STARTTLS, its mail accepted" $? ||
    cat "$LAB_TMP/swaks.out"
lab_ns timeout 30 swaks --server 127.0.0.1:25 --local-interface 127.0.0.3 \
    --quit-after EHLO >"$LAB_TMP/swaks.out" 2>&1
grep -q '250-STARTTLS' "$LAB_TMP/swaks.out"
lab_result "scenario 4: 127.0.0.3 is still offered STARTTLS" $?
want "scenario 4: G6 CRITICAL naming 127.0.0.2 (access map)" \
    "G6 - - - 127.0.0.2 CRITICAL"
grep -q "\"client\": \"127.0.0.2\", \"state\": \"CRITICAL\", \"reason\": \"STARTTLS withheld from client 127.0.0.2 on every sendmail listener: $smdir/access:4 has" \
    "$state/status.json" &&
    grep -q 'check=G6 client=127.0.0.2 state=CRITICAL was=none' "$LAB_TMP/dg.log"
lab_result "scenario 4: the reason names the file and line; logged" $? ||
    grep 'G6' "$state/status.json" "$LAB_TMP/dg.log"
# A sweep may have begun before that session: wait for one after it.
n=0
until [ "$(listener 127.0.0.1 25 plaintext)" = $((p0 + 1)) ] &&
    [ "$(item G6 $host 127.0.0.1:25 "" "")" = OK ] &&
    grep -q "\"addr\": \"127.0.0.1:25\", .*\"reason\": \"$((p0 + 1)) of [0-9]* sessions in plaintext" \
    "$state/status.json"; do
	n=$((n + 1))
	[ $n -gt 150 ] && break		# 30 s: a hang, not a speed limit
	kill -USR2 $dg_pid
	sleep 0.2
done
[ $n -le 150 ]
lab_result "scenario 4: the plaintext session counted in the listener's share" $? ||
    grep '"G6"\|"addr": "127' "$state/status.json"

# ------------------------------------------------------------ scenario 5

# STARTTLS switched off on the [::1]:25 daemon (M=S).
make_mc S
sm_stop sm
sm_start sm 127.0.0.1:25 "[::1]:25" 127.0.0.1:2525
mail ::1:25 && mail 127.0.0.1:2525 && ! grep -q STARTTLS "$LAB_TMP/swaks.out"
lab_result "scenario 5: mail through the M=S daemons, no STARTTLS offered" $? ||
    cat "$LAB_TMP/swaks.out"
R=$(rows CRITICAL G1 ::1 "$algs"; rows OK "G1 G2 G3 G5" 127.0.0.1 "$algs"
    echo "G1 $host [::1]:25 - - CRITICAL"
    echo "G1 - 127.0.0.1:2525 - - CRITICAL")
want "scenario 5: M=S on [::1]:25 -> G1 CRITICAL on ::1 only; {daemon_flags} names [::1]:25 and 127.0.0.1:2525" "$R"
[ "$(item G1 $host 127.0.0.1:25 "" "")" = missing ]
lab_result "scenario 5: no {daemon_flags} finding for 127.0.0.1:25" $?
grep -q '"check": "G1", "host": "mx1.example.test", "addr": "\[::1\]:25", .*"reason": "sendmail daemon MTA-v6 on \[::1\]:25 offers no STARTTLS to anyone' \
    "$state/status.json"
lab_result "scenario 5: the reason names the daemon (MTA-v6, {daemon_name})" $? ||
    grep '"G1"' "$state/status.json"
make_mc ""
sm_stop sm
sm_start sm 127.0.0.1:25 "[::1]:25" 127.0.0.1:2525
mail ::1:25 --tls
lab_result "scenario 5 undone: TLS mail on [::1]:25 again" $?
R=$(rows OK G1 ::1 "$algs"; echo "G1 $host [::1]:25 - - OK"
    echo "G1 - 127.0.0.1:2525 - - CRITICAL")
want "scenario 5 undone: G1 OK on ::1 (probe and {daemon_flags}); 2525 still off" "$R"

# ------------------------------------------------------------ the end

lab_pid_alive $dg_pid
lab_result "daneguard still running" $? || cat "$LAB_TMP/dg.log"
! grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$LAB_TMP/dg.log"
lab_result "daneguard: no sanitizer finding" $? ||
    sed -n '/Sanitizer\|runtime error/,$p' "$LAB_TMP/dg.log" | head -n 60
! grep -Eiq 'Milter.*(reject|tempfail|timeout)' "$smdir/syslog"
lab_result "sendmail: no milter reject, tempfail or timeout in the whole run" $? ||
    grep -i milter "$smdir/syslog" | tail -n 20

echo "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
