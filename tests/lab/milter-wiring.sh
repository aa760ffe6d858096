#!/bin/sh
# tests/lab/milter-wiring.sh - the shipped samples agree, and the guard
# says so when the MTA does not call it (check M1).
#
#  1. A private Postfix whose main.cf ends with conf/postfix-main.cf as
#     shipped, and daneguard listening where conf/daneguard.conf puts its
#     socket (the sample's /var/spool/postfix moved to this instance's
#     queue directory, mode and owner as the sample says): mail goes
#     through the milter (the listener's sessions are counted) and M1 is
#     OK.
#  2. Postfix pointed elsewhere (the old sample's inet:127.0.0.1:8895,
#     where nothing listens), default_action=accept: mail still flows,
#     and once a second sweep has reached the MTA, M1 is WARNING with
#     "no milter session since start: is the MTA's milter setting
#     pointing here?", logged once, in status.json and metrics.prom.
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make check).
# Needs root and the Debian packages postfix, swaks, openssl, iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"

lab_init
lab_require_guard
lab_require postfix:postfix postconf:postfix swaks:swaks bash:bash \
    script:bsdutils timeout:coreutils

host=mx1.example.test
fails=0
checks=0
certs=$LAB_TMP/certs
mkdir -p "$certs" || lab_fail "mkdir"
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-next.key \
    ecdsa-next.key; do
	cp "$CERTDIR/$f" "$certs/$f" || lab_fail "cp $CERTDIR/$f"
done

# ------------------------------------------------------------ the samples

lab_netns_create
lab_postfix_init pf
pfdir=$(lab_postfix_dir pf)
lab_postfix_conf pf \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $certs/ecdsa.key $certs/ecdsa-chain.pem $certs/rsa.key $certs/rsa-chain.pem"
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "[::1]:25"
# The snippet as shipped, continuation lines and all.
cat "$top_srcdir/conf/postfix-main.cf" >>"$pfdir/etc/main.cf" ||
    lab_fail "cannot append conf/postfix-main.cf"
echo "Postfix: $(postconf -c "$pfdir/etc" -h smtpd_milters)"

sample=$(sed -n 's/^socket[[:space:]]*=[[:space:]]*"\(.*\)"[[:space:]]*$/\1/p' \
    "$top_srcdir/conf/daneguard.conf")
case $sample in
unix:/var/spool/postfix/*) ;;
*) lab_fail "conf/daneguard.conf: socket \"$sample\" is not a unix socket in Postfix's queue directory" ;;
esac
sock=$pfdir/queue/${sample#unix:/var/spool/postfix/}
echo "daneguard: socket $sample, here $sock"
# As conf/daneguard.conf says: the directory owned by the milter's user,
# group postfix, 0750.
install -d -o nobody -g postfix -m 0750 "$(dirname "$sock")" ||
    lab_fail "cannot make $(dirname "$sock")"
lab_postfix_start pf

conf=$LAB_TMP/daneguard.conf
cat > "$conf" <<EOF
state_dir      = "$LAB_TMP/state"
probe_interval = 300
probe_timeout  = 5
xclient        = no
tlsa_file      = "$LAB_TMP/published.zone"
EOF
lab_dg_host "$host" "$certs" >> "$conf"
"$TLSAGEN" -q -c "$conf" -o "$LAB_TMP/published.zone" ||
    lab_fail "tlsagen -c $conf failed"

# m1 STATE - the M1 item of status.json in that state (prints it).
m1()
{
	grep "\"check\": \"M1\", \"host\": \"\", \"addr\": \"\", \"alg\": \"\", \"state\": \"$1\"" \
	    "$LAB_TMP/state/status.json" 2>/dev/null
}

# wait_m1 STATE - after the first sweep, SIGUSR2 (a second sweep) and
# wait up to 30 s for M1 in STATE.
wait_m1()
{
	n=0
	until m1 "$1" >/dev/null; do
		n=$((n + 1))
		[ $n -eq 1 ] && kill -USR2 "$dg_pid"
		if [ $n -gt 300 ]; then
			sed 's/^/      | /' "$LAB_TMP/state/status.json" "$LAB_TMP/dg.log"
			return 1
		fi
		sleep 0.1
	done
}

# start_dg - a fresh daemon (counters from zero), first sweep written.
start_dg()
{
	rm -rf "$LAB_TMP/state"
	install -d -o nobody "$LAB_TMP/state" || lab_fail "state dir"
	lab_dg_start nobody:postfix "$conf" "$sock" "$LAB_TMP/dg.log" \
	    "$LAB_TMP/state/metrics.prom"
}

# mail [SWAKS-ARG...] - one message over STARTTLS; true when queued.
mail()
{
	lab_ns swaks --server 127.0.0.1:25 --tls --from a@example.test \
	    --to b@example.test "$@" >"$LAB_TMP/swaks.out" 2>&1 &&
	    grep -q 'queued as' "$LAB_TMP/swaks.out"
}

# ------------------------------------------------------------ 1. wired

start_dg
ls -l "$sock" | sed 's/^/  /'
[ "$(stat -c '%a %U %G' "$sock")" = "660 nobody postfix" ]
lab_result "socket srw-rw---- for the milter's user and group only" $?
mail
lab_result "mail through the sample snippet's milter: queued" $? ||
    cat "$LAB_TMP/swaks.out"
wait_m1 OK
lab_result "samples agree: M1 OK ($(m1 OK | sed 's/.*"reason": "\([^"]*\)".*/\1/'))" $?
# The message's session is in the listener counts of the next sweep.
kill -USR2 "$dg_pid"
n=0
until grep -q '"addr": "127.0.0.1", "port": 25, "sessions": [1-9]' \
    "$LAB_TMP/state/status.json"; do
	n=$((n + 1))
	[ $n -gt 300 ] && break
	sleep 0.1
done
grep -q '"addr": "127.0.0.1", "port": 25, "sessions": [1-9]' \
    "$LAB_TMP/state/status.json"
lab_result "the listener's session counted" $?
! grep -q 'check=M1' "$LAB_TMP/dg.log"
lab_result "no M1 message in the log" $? || grep 'check=M1' "$LAB_TMP/dg.log"
lab_kill_pid "$dg_pid"

# ------------------------------------------------------------ 2. miswired

lab_postfix_conf pf \
    "smtpd_milters = { inet:127.0.0.1:8895, default_action=accept }"
lab_ns postfix -c "$pfdir/etc" reload >/dev/null 2>&1 || lab_fail "reload"
start_dg
# The first sweep alone judges nothing: its probes are the proof.
! m1 WARNING >/dev/null
lab_result "first sweep: no M1 verdict yet" $?
mail
lab_result "miswired: mail still flows (default_action=accept)" $? ||
    cat "$LAB_TMP/swaks.out"
wait_m1 WARNING
lab_result "miswired: M1 WARNING after the second sweep" $?
m1 WARNING | grep -q 'no milter session since start: is the MTA.s milter setting pointing here?'
lab_result "M1 reason: \"no milter session since start: ...\"" $?
grep -q '^  "state": "WARNING",$' "$LAB_TMP/state/status.json"
lab_result "status.json: overall WARNING" $?
# metrics.prom follows status.json in the same write.
n=0
until grep -q '^daneguard_check_state{check="M1",host="",addr="",alg="",client=""} 1$' \
    "$LAB_TMP/state/metrics.prom"; do
	n=$((n + 1))
	[ $n -gt 50 ] && break
	sleep 0.1
done
grep -q '^daneguard_check_state{check="M1",host="",addr="",alg="",client=""} 1$' \
    "$LAB_TMP/state/metrics.prom"
lab_result "metrics.prom: M1 state 1" $?
# A third sweep (metrics.prom is replaced: a new inode) logs nothing new.
ino=$(stat -c %i "$LAB_TMP/state/metrics.prom")
kill -USR2 "$dg_pid"
n=0
while [ "$(stat -c %i "$LAB_TMP/state/metrics.prom")" = "$ino" ]; do
	n=$((n + 1))
	[ $n -gt 300 ] && lab_fail "no sweep 30 s after SIGUSR2"
	sleep 0.1
done
grep 'check=M1' "$LAB_TMP/dg.log" | sed 's/^/  /'
[ "$(grep -c 'check=M1 state=WARNING' "$LAB_TMP/dg.log")" -eq 1 ]
lab_result "M1 WARNING logged once" $?
lab_kill_pid "$dg_pid"
! grep -q 'Sanitizer\|runtime error' "$LAB_TMP/dg.log"
lab_result "no sanitizer finding" $?

echo "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
