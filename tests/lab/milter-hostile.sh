#!/bin/sh
# tests/lab/milter-hostile.sh - a hostile local peer on the milter socket.
#
# A private Postfix in a namespace uses daneguard as its milter. A local
# process that reaches the socket (tests/milter/hostile.pl) sends what
# Postfix never sends: truncated lengths, a 2 GiB length, a zero length,
# commands out of order, garbage, and macro packets with an odd number of
# strings, which make libmilter's smfi_getsymval read past its list and
# crash the milter process (daneguard(8), BUGS). After each kind:
#   - the milter answers a well-formed session on its socket;
#   - mail through Postfix is seen by the milter: the listener's session
#     count in status.json grows after a sweep (status.json advances);
# and after the crash:
#   - the supervisor logged the signal and started the milter again;
#   - the check states came back from state_dir: no state is logged
#     again as new (was=none), and the "since" times in guard.state are
#     those from before the crash.
# Then 500 idle connections held open while Postfix sends mail, and
# 1000 SIGUSR2 in a row: the guard still sweeps, and the log has a
# line or two about them, not a thousand.
#
# Environment: CERTDIR, top_srcdir, top_builddir (make check).
# Needs root and the Debian packages postfix, swaks, perl, iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"

lab_init
DANEGUARD=${DANEGUARD:-$top_builddir/milter/daneguard}
[ -x "$DANEGUARD" ] || lab_fail "DANEGUARD='$DANEGUARD' is not an executable"
[ -n "$CERTDIR" ] && [ -r "$CERTDIR/rsa-chain.pem" ] ||
    lab_fail "CERTDIR='$CERTDIR' has no rsa-chain.pem"
lab_require_root
lab_require postfix:postfix postconf:postfix swaks:swaks perl:perl-base
HOSTILE="perl $top_srcdir/tests/milter/hostile.pl"

fails=0
checks=0
state=$LAB_TMP/state
sock=$LAB_TMP/dg.sock
log=$LAB_TMP/dg.log
mkdir -p "$state" && chown nobody "$state" || lab_fail "state dir"

# DNS has no signed zone in the namespace (libunbound answers .test
# itself): G7 CRITICAL for the TLSA records, a state with a "since" to
# carry across the crash.
cat > "$LAB_TMP/dg.conf" <<CONF
state_dir      = "$state"
probe_interval = 300
probe_timeout  = 5
host "mx1.example.test" {
	port  = 25
	probe = { "127.0.0.1" }
	cert "rsa" { chain = "$CERTDIR/rsa-chain.pem" key = "$CERTDIR/rsa.key" }
}
CONF

lab_netns_create
lab_postfix_init pf
pfdir=$(lab_postfix_dir pf)
lab_postfix_conf pf \
    "smtpd_milters = { unix:$sock, default_action=accept }" \
    "milter_connect_macros = j {daemon_name} {daemon_addr} {daemon_port} v"
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_start pf
lab_dg_start nobody:postfix "$LAB_TMP/dg.conf" "$sock" "$log" \
    "$state/guard.state"

# sessions - the listener's session count in status.json (0 if none).
sessions()
{
	n=$(sed -n 's/.*"addr": "127.0.0.1", "port": 25, "sessions": \([0-9]*\).*/\1/p' \
	    "$state/status.json" 2>/dev/null | head -n 1)
	echo "${n:-0}"
}

# milter_counts WHAT - mail through Postfix, a sweep (SIGUSR2), and wait
# until status.json shows one session more than before; 0 if it did.
milter_counts()
{
	mc_before=$(sessions)
	lab_ns swaks --server 127.0.0.1:25 --from a@example.test \
	    --to b@example.test >"$LAB_TMP/swaks.out" 2>&1 &&
	    grep -q 'queued as' "$LAB_TMP/swaks.out" ||
	    { cat "$LAB_TMP/swaks.out"; return 1; }
	kill -USR2 "$dg_pid"
	mc_n=0
	while [ "$(sessions)" -le "$mc_before" ]; do
		mc_n=$((mc_n + 1))
		if [ $mc_n -gt 300 ]; then
			echo "      sessions stayed at $mc_before ($1)"
			tail -n 20 "$log" | sed 's/^/      | /'
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# wait_count PATTERN N TENTHS - until the daemon's log has N lines with
# PATTERN, TENTHS tenths of a second at most; 1 if it had not.
wait_count()
{
	wc_n=0
	until [ "$(grep -c "$1" "$log")" -ge "$2" ]; do
		wc_n=$((wc_n + 1))
		[ $wc_n -gt "$3" ] && return 1
		sleep 0.1
	done
	return 0
}

# wait_log PATTERN - until the daemon's log has PATTERN (30 s at most).
wait_log()
{
	wl_n=0
	until grep -q "$1" "$log"; do
		wl_n=$((wl_n + 1))
		[ $wl_n -gt 300 ] && return 1
		sleep 0.1
	done
}

milter_counts "before" || lab_fail "the milter counts no Postfix session at all"
echo "ok    Postfix's sessions are counted before the hostile peer"

for kind in truncated oversized zerolength outoforder garbage; do
	$HOSTILE "$sock" $kind 5
	$HOSTILE "$sock" session
	lab_result "$kind packets: the milter answers a session after them" $?
	milter_counts "$kind"
	lab_result "$kind packets: Postfix's mail counted in status.json" $?
done

# The odd macro packet: libmilter crashes, the supervisor restarts.
was_none=$(grep -c 'was=none' "$log")
item='^G7	mx1.example.test	TLSA	'
since_before=$(grep "$item" "$state/guard.state")
[ -n "$since_before" ] || { cat "$state/guard.state"; lab_fail "no G7 TLSA line in guard.state"; }
# One connection at a time (up to three, should one not crash it), and
# the next only once the last had its chance: packets queued on the
# socket behind a crash would crash each restarted process in turn, in
# the middle of the checks that follow.
try=0
crashed=1
while [ $try -lt 3 ] && [ $crashed -ne 0 ]; do
	try=$((try + 1))
	$HOSTILE "$sock" oddmacro 1
	wait_count 'milter process [0-9]* killed by signal' 1 50
	crashed=$?
done
# Where the bytes past libmilter's list happen to be readable (a
# sanitizer build lays memory out otherwise), no packet crashes it: the
# supervisor's part is then shown with a SIGKILL to the milter process.
if [ $crashed -ne 0 ]; then
	echo "      the odd macro packets did not crash this build: SIGKILL to the milter process instead"
	child=$(pgrep -P "$dg_pid")
	[ -n "$child" ] && kill -KILL $child
	wait_count 'milter process [0-9]* killed by signal' 1 300
	crashed=$?
fi
[ $crashed -eq 0 ] && wait_count 'restarted on' 1 300
lab_result "odd macro count: the milter process died, the supervisor logged the signal and restarted it" $?
grep 'killed by signal' "$log" | head -n 1
$HOSTILE "$sock" session
lab_result "odd macro count: the restarted milter answers a session" $?
milter_counts "after the restart"
lab_result "odd macro count: Postfix's mail counted after the restart (status.json advances)" $?
[ "$(grep -c 'was=none' "$log")" -eq "$was_none" ]
lab_result "after the restart no state is logged again as new" $? ||
    grep 'was=none' "$log" | sed 's/^/      | /'
[ "$(grep "$item" "$state/guard.state")" = "$since_before" ]
lab_result "after the restart G7 TLSA keeps its state and since ($since_before)" $? ||
    sed 's/^/      | /' "$state/guard.state"
lab_pid_alive "$dg_pid"
lab_result "the supervisor (PID $dg_pid) still runs" $?

# 500 idle connections held open while Postfix keeps sending.
$HOSTILE "$sock" idle 500 >"$LAB_TMP/idle.out" 2>&1 &
idle_pid=$!
lab_at_exit "kill $idle_pid 2>/dev/null"
n=0
until grep -q ready "$LAB_TMP/idle.out" || [ $n -gt 300 ]; do
	n=$((n + 1))
	sleep 0.1
done
grep -q ready "$LAB_TMP/idle.out"
lab_result "500 idle connections to the milter socket held open" $? ||
    cat "$LAB_TMP/idle.out"
milter_counts "with 500 idle connections" && milter_counts "again" &&
    $HOSTILE "$sock" session
lab_result "500 idle connections: Postfix's mail still counted, sessions answered" $?
kill "$idle_pid"

# A SIGUSR2 storm: sweeps coalesce, and the log says so in a line or two
# (it wrote one line per signal).
n0=$(grep -c 'sweep requested' "$log")
i=0
while [ $i -lt 1000 ]; do
	kill -USR2 "$dg_pid"
	i=$((i + 1))
done
milter_counts "after 1000 SIGUSR2"
lab_result "1000 SIGUSR2: the guard still sweeps and counts Postfix's mail" $?
n1=$(grep -c 'sweep requested' "$log")
[ $((n1 - n0)) -le 3 ]
lab_result "1000 SIGUSR2 (and one more): $((n1 - n0)) 'sweep requested' lines, at most 3" $?

# Stopped by its pid: the milter process goes too (libmilter takes a
# few seconds to notice).
child=$(pgrep -P "$dg_pid" | head -n 1)
kill -TERM "$dg_pid"
n=0
while lab_pid_alive "$dg_pid" || { [ -n "$child" ] && lab_pid_alive "$child"; }
do
	n=$((n + 1))
	[ $n -gt 300 ] && break
	sleep 0.1
done
[ -n "$child" ] && ! lab_pid_alive "$dg_pid" && ! lab_pid_alive "$child"
lab_result "SIGTERM to the supervisor stops the milter process ($child) too" $?

if grep -q 'Sanitizer\|runtime error' "$log"; then
	fails=$((fails + 1))
	echo "FAIL  sanitizer finding:"
	grep -A20 'Sanitizer\|runtime error' "$log" | head -n 40
fi
echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
