#!/bin/sh
# tests/lab/guard-faults.sh - a running daemon under two faults it cannot
# prevent (issue 11, item 5): its resolver gone and back, and its wall
# clock set forward by days and back by hours.
#
# In a network namespace of its own: a private Postfix on 127.0.0.1:25 and
# [::1]:25 with the daemon as its milter (xclient = yes); example.test
# signed at test time, served by NSD on 127.0.0.2, its TLSA records with a
# TTL of 5 s; a validating unbound on 127.0.0.1:53 that the daemon's
# libunbound forwards to (dns { resolver }). The daemon runs under
# libfaketime (LD_PRELOAD, FAKETIME_TIMESTAMP_FILE re-read at every call,
# the monotonic clock left alone): writing an offset to that file steps
# its wall clock, as NTP or "date -s" would.
#
#   resolver stopped (by PID)   G7 TLSA and G3 UNKNOWN, never CRITICAL;
#                               mail through the milter still queued with
#                               no milter warning from Postfix; sweeps
#                               still written
#   resolver started again      the true verdicts (G7, G3 OK) return
#                               without a restart, same PID
#   wall clock +3 days          the step logged once ("set forward by
#                               3d"); every check still OK; status.json's
#                               sweep time is the new wall time; G6
#                               follow-up probes not flooded
#   wall clock back 6 hours     the step logged once; a TLSA RRset changed
#                               in DNS is still seen within its TTL (G3
#                               rsa CRITICAL without a signal: the old
#                               time(NULL) expiries held it for 6 hours);
#                               a sweep comes at probe_interval unasked
# Throughout: one daemon process, no restart, no sanitizer finding, no
# negative or day-long duration in the log.
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make check).
# Needs root and the Debian packages postfix, nsd, ldnsutils, unbound,
# swaks, faketime, iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_dns_init postfix:postfix postconf:postfix unbound:unbound swaks:swaks \
    faketime:faketime
ftlib=
for f in /usr/lib/*/faketime/libfaketimeMT.so.1 \
    /usr/lib/faketime/libfaketimeMT.so.1; do
	[ -r "$f" ] && ftlib=$f && break
done
[ -n "$ftlib" ] ||
    lab_skip "libfaketimeMT.so.1 not found (Debian package libfaketime)"

d=$LAB_TMP
host=mx1.example.test
interval=30
disk=$d/disk
state=$d/state
lab_copy_certs "$disk" rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem \
    rsa-next.key ecdsa-next.key rsa-other-chain.pem

# ------------------------------------------------------------ DNS

lab_rdata "$d"

# zone SERIAL RDATA-FILE OUT - example.test with these TLSA records (TTL 5)
zone()
{
	{
		lab_zone "$1"
		echo "mx1	IN AAAA ::1"
		sed 's/^/_25._tcp.mx1 5 IN TLSA /' "$2"
	} > "$3"
}
zone 1 "$d/rdata" "$d/healthy.zone"
zone 2 "$d/rdata.wrong" "$d/wrong.zone"
# Valid from an hour ago for a week: the daemon's clock only runs ahead.
lab_dns_sign example.test "$d/healthy.zone" "$d/healthy.signed"
lab_dns_sign example.test "$d/wrong.zone" "$d/wrong.signed"
anchor=$LAB_TMP/keys/example.test/anchor.ds
cp "$d/healthy.signed" "$d/served.zone"

lab_netns_create
lab_nsd_start ns "example.test=$d/served.zone" 127.0.0.2
lab_unbound_start "$anchor" example.test 127.0.0.2

# ------------------------------------------------------------ Postfix

lab_postfix_tls pf "$disk" \
    "smtpd_milters = { unix:$d/dg.sock, default_action=accept }" \
    "smtpd_authorized_xclient_hosts = 127.0.0.1, [::1]"
pfdir=$(lab_postfix_dir pf)
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "[::1]:25"
lab_postfix_start pf

# ------------------------------------------------------------ daemon

printf 'server:\n\tlocal-zone: "test." nodefault\n' > "$d/fwd.conf"
cat > "$d/dg.conf" <<EOF
state_dir      = "$state"
probe_interval = $interval
probe_timeout  = 5
xclient        = yes
dns {
  trust_anchor_file = "$anchor"
  resolver          = "127.0.0.1"
  resolver_config   = "$d/fwd.conf"
}
$(lab_dg_host "$host" "$disk" "")
EOF
install -d -o nobody "$state" || lab_fail "state dir"

# The daemon under libfaketime: its wall clock is real time plus the
# offset in $d/faketime.rc; CLOCK_MONOTONIC and file times are left
# alone. An ASan runtime must otherwise come first in the library list.
echo "+0" > "$d/faketime.rc"
chmod 644 "$d/faketime.rc"
cat > "$d/dg-faketime" <<EOF
#!/bin/sh
LD_PRELOAD=$ftlib
FAKETIME_TIMESTAMP_FILE=$d/faketime.rc
FAKETIME_NO_CACHE=1
FAKETIME_DONT_FAKE_MONOTONIC=1
NO_FAKE_STAT=1
ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0
export LD_PRELOAD FAKETIME_TIMESTAMP_FILE FAKETIME_NO_CACHE \\
    FAKETIME_DONT_FAKE_MONOTONIC NO_FAKE_STAT ASAN_OPTIONS
exec "$DANEGUARD" "\$@"
EOF
chmod 755 "$d/dg-faketime"
DANEGUARD_REAL=$DANEGUARD
DANEGUARD=$d/dg-faketime
lab_dg_start nobody:postfix "$d/dg.conf" "$d/dg.sock" "$d/dg.log" \
    "$state/metrics.prom" -v
DANEGUARD=$DANEGUARD_REAL
pid0=$dg_pid

# jstate CHECK ADDR ALG - the state of that item in status.json
jstate()
{
	grep "\"check\": \"$1\", \"host\": \"$host\", \"addr\": \"$2\", \"alg\": \"$3\"" \
	    "$state/status.json" 2>/dev/null |
	    sed -n 's/.*"state": "\([A-Z]*\)".*/\1/p' | grep . || echo missing
}

# sweep_time - the "time" of the last sweep in status.json
sweep_time()
{
	sed -n 's/^  "sweep": {"time": \([0-9]*\),.*/\1/p' "$state/status.json" \
	    2>/dev/null
}

# wait_for WHAT SECONDS COMMAND... - poll COMMAND every 0.1 s until it
# succeeds; false (and a FAIL line naming WHAT) after SECONDS (a hang).
wait_for()
{
	wf_what=$1 wf_n=$(($2 * 10))
	shift 2
	until "$@"; do
		wf_n=$((wf_n - 1))
		if [ $wf_n -le 0 ]; then
			echo "      (no $wf_what within the deadline)"
			return 1
		fi
		sleep 0.1
	done
}

# states_are STATE CHECK/ADDR/ALG... - every item in STATE
states_are()
{
	sa_st=$1
	shift
	for sa in "$@"; do
		sa_c=${sa%%/*} sa_r=${sa#*/}
		[ "$(jstate "$sa_c" "${sa_r%%/*}" "${sa_r#*/}")" = "$sa_st" ] ||
		    return 1
	done
}

dns_items="G7/TLSA/ G3/127.0.0.1/rsa G3/127.0.0.1/ecdsa G3/::1/rsa G3/::1/ecdsa"
no_critical()
{
	! grep -q '"state": "CRITICAL"' "$state/status.json"
}

# newer_sweep T - a sweep later than T is in status.json
newer_sweep()
{
	ns_t=$(sweep_time)
	[ -n "$ns_t" ] && [ "$ns_t" -gt "$1" ]
}

# log_has REGEX - the daemon's log has a matching line
log_has()
{
	grep -Eq "$1" "$d/dg.log"
}

# log_count REGEX - how many lines of the daemon's log match
log_count()
{
	grep -Ec "$1" "$d/dg.log"
}

# uptime_s - seconds on the monotonic clock
uptime_s()
{
	cut -d. -f1 /proc/uptime
}

# plain CLIENT - one message in plaintext from CLIENT (XCLIENT); queued
plain()
{
	lab_ns swaks --server 127.0.0.1:25 --xclient-addr "$1" \
	    --from a@example.test --to b@example.test \
	    >"$d/swaks.out" 2>&1 && grep -q 'queued as' "$d/swaks.out"
}

show()
{
	sed 's/^/      | /' "$state/status.json"
	tail -n 40 "$d/dg.log" | sed 's/^/      | /'
}

wait_for "healthy first sweep" 60 states_are OK $dns_items
lab_result "start: G7 TLSA and G3 OK (records from DNS through unbound)" $? ||
    show

# ------------------------------------------------------------ resolver

lab_kill_pid "$LAB_UB_PID"
lab_pid_alive "$LAB_UB_PID" && lab_fail "unbound still runs after it was stopped"
wait_for "UNKNOWN verdicts" 90 states_are UNKNOWN $dns_items
lab_result "resolver gone: G7 TLSA and every G3 UNKNOWN" $? || show
no_critical
lab_result "resolver gone: nothing CRITICAL" $? || show
grep -q '"check": "G7", .*"addr": "TLSA".*tempfail' "$state/status.json"
lab_result "resolver gone: G7 says tempfail" $? || show
mlines=$(wc -l < "$pfdir/maillog")
plain 192.0.2.50
lab_result "resolver gone: mail through the milter queued" $? ||
    sed 's/^/      | /' "$d/swaks.out"
tail -n +$((mlines + 1)) "$pfdir/maillog" > "$d/maillog.outage"
! grep -i 'milter' "$d/maillog.outage" | grep -qi 'warning\|timeout\|error'
lab_result "resolver gone: Postfix has no milter warning for it" $? ||
    grep -i milter "$d/maillog.outage" | sed 's/^/      | /'
t=$(sweep_time)
kill -USR2 "$dg_pid"
wait_for "sweep after SIGUSR2" 60 newer_sweep "${t:-0}"
lab_result "resolver gone: sweeps still written (SIGUSR2)" $? || show

LAB_UB_PID=
lab_unbound_start "$anchor" example.test 127.0.0.2
wait_for "recovered verdicts" 120 states_are OK $dns_items
lab_result "resolver back: G7 TLSA and G3 OK again, no restart" $? || show
[ "$dg_pid" = "$pid0" ] && lab_pid_alive "$dg_pid" &&
    ! log_has 'restarting it'
lab_result "resolver: the same daemon process throughout" $?

# ------------------------------------------------------------ clock

# Forward three days.
echo "+259200" > "$d/faketime.rc"
real=$(date +%s)
wait_for "log line of the forward step" 30 \
    log_has 'clock: the wall clock was set forward by 3d'
lab_result "clock +3d: the step logged" $? || show
s0=$(uptime_s)
sweeps0=$(log_count 'sweep start')
kill -USR2 "$dg_pid"
wait_for "sweep after the forward step" 60 newer_sweep $((real + 250000))
lab_result "clock +3d: the sweep's time is the new wall time" $? || show
states_are OK $dns_items && no_critical
lab_result "clock +3d: every check still OK, nothing stale" $? || show
# No flood: sessions from one plaintext client are probed at most once
# per 60 s, however many come.
g6a=$(log_count 'G6: follow-up probe .* as client 192.0.2.66$')
ok=0
for i in 1 2 3; do
	plain 192.0.2.66 || { ok=1; break; }
done
lab_result "clock +3d: plaintext mail from 192.0.2.66 queued" $ok ||
    sed 's/^/      | /' "$d/swaks.out"
wait_for "G6 follow-up probe" 30 eval \
    '[ "$(log_count "G6: follow-up probe .* as client 192.0.2.66\$")" -gt "$g6a" ]'
t2=$(uptime_s)
g6b=$(log_count 'G6: follow-up probe .* as client 192.0.2.66$')
# G6 items merge into status.json; none may be lost meanwhile.
[ $((g6b - g6a)) -le $((1 + (t2 - s0) / 60)) ]
lab_result "clock +3d: $((g6b - g6a)) G6 follow-up probe(s) for 3 sessions in $((t2 - s0)) s" $? ||
    grep 'G6: ' "$d/dg.log" | sed 's/^/      | /'
sweeps1=$(log_count 'sweep start')
[ $((sweeps1 - sweeps0)) -le $((4 + (t2 - s0) / interval)) ]
lab_result "clock +3d: $((sweeps1 - sweeps0)) sweep(s) in $((t2 - s0)) s (one asked for)" $? ||
    grep 'sweep' "$d/dg.log" | tail -n 20 | sed 's/^/      | /'

# Back six hours (still ahead of the real time: the zone's signatures and
# the certificates stay valid).
echo "+237600" > "$d/faketime.rc"
wait_for "log line of the backward step" 30 \
    log_has 'clock: the wall clock was set back by 6h'
lab_result "clock -6h: the step logged" $? || show
# The TLSA RRset changes in DNS: seen when its TTL (5 s) runs out and
# the failed-lookup retry at most, not six hours later.
cp "$d/wrong.signed" "$d/served.zone" || lab_fail "cp wrong.signed"
lab_nsd_reload ns example.test 127.0.0.2
wait_for "G3 rsa CRITICAL" 60 states_are CRITICAL G3/127.0.0.1/rsa G3/::1/rsa
lab_result "clock -6h: a TLSA RRset changed in DNS seen without a signal (G3 rsa CRITICAL)" $? ||
    show
states_are OK G3/127.0.0.1/ecdsa G3/::1/ecdsa G7/TLSA/
lab_result "clock -6h: ecdsa and G7 TLSA still OK" $? || show
[ "$(log_count 'check=G3 host=mx1.example.test addr=::1 alg=rsa state=CRITICAL was=OK')" -eq 1 ]
lab_result "clock -6h: the change logged once" $? || show
# A sweep comes by itself at probe_interval (none asked for since).
sw=$(log_count 'sweep start')
wait_for "a scheduled sweep" $((interval + 30)) eval \
    '[ "$(log_count "sweep start")" -gt "$sw" ]'
lab_result "clock -6h: the next sweep comes at probe_interval, unasked" $? ||
    show

# ------------------------------------------------------------ overall

[ "$dg_pid" = "$pid0" ] && lab_pid_alive "$dg_pid" &&
    ! log_has 'restarting it|giving up'
lab_result "one daemon process throughout, never restarted" $? || show
[ "$(log_count 'clock: ')" -eq 2 ]
lab_result "each step logged exactly once" $? ||
    grep 'clock: ' "$d/dg.log" | sed 's/^/      | /'
! log_has 'in -[0-9]|sweep done in [0-9]{4,}\.'
lab_result "no negative or day-long duration in the log" $? ||
    grep -E 'in -[0-9]|sweep done in [0-9]{4,}\.' "$d/dg.log" | sed 's/^/      | /'
lab_kill_pid "$dg_pid"
! grep -q 'Sanitizer\|runtime error' "$d/dg.log"
lab_result "no sanitizer finding" $? || head -n 60 "$d/dg.log"

lab_finish
