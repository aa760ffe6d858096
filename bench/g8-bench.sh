#!/bin/sh
# bench/g8-bench.sh - the guard's G8 pass (every address of every
# nameserver of each host's zone, asked directly) over 50 hosts against
# the same pass over one host, side by side in one run, with a network
# between the guard and the nameservers; and the CPU and memory of the
# guard with G8 on against the same guard with ns_interval = 0.
# Target: 50 hosts <= 2 x one host (the hosts of a zone share one batch
# of questions per address).
#
# Run as root from the build directory (after "make" and "make check",
# which makes the test certificates):
#
#	sh $srcdir/bench/g8-bench.sh
#
# Environment (all optional):
#	DANEGUARD    default ./milter/daneguard
#	CERTDIR      default ./tests/tmp/certs
#	BENCH_ROUNDS rounds, default 10; each round asks A B B A (A = the
#	             guard with one host, B = the guard with 50) for a sweep
#	             and a G8 pass (SIGUSR2) and waits for each
#	BENCH_RTT_MS round trip between the guard and the nameservers,
#	             default 20
#	BENCH_G9     dnssec_health of the guards, default no (G8 alone);
#	             yes adds G9's questions to each pass (its default)
#
# In a network namespace of its own, NSD serves bench.test (signed at
# test time) on 127.0.0.1: NS ns1..ns8 at 127.0.0.11 .. 127.0.0.18, which
# are bench/delayproxy relays (UDP) to it that hold every datagram
# BENCH_RTT_MS/2 each way (this kernel has no netem); mx1..mx50 with a
# TLSA record and an A record each. Three guards (daneguard -f -v, no
# MTA: the probes are refused at once, which the comparison does not
# need) run with the same dns section (a stub to the eight relays): one
# host, 50 hosts, and 50 hosts with ns_interval = 0. The pass time is the
# guard's own "G8: pass done in" debug line. CPU is utime + stime of
# the milter process over the rounds (/proc/PID/stat), memory its VmRSS
# and VmHWM at the end. Prints the rounds, then a Markdown table.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

DANEGUARD=${DANEGUARD:-./milter/daneguard}
CERTDIR=${CERTDIR:-./tests/tmp/certs}
BENCH_ROUNDS=${BENCH_ROUNDS:-10}
BENCH_RTT_MS=${BENCH_RTT_MS:-20}
NHOSTS=50

lab_init
lab_require_root
lab_require nsd:nsd ldns-keygen:ldnsutils ldns-signzone:ldnsutils \
    drill:ldnsutils
[ -x "$DANEGUARD" ] || lab_fail "DANEGUARD=$DANEGUARD is not an executable"
[ -r "$CERTDIR/rsa-chain.pem" ] ||
    lab_fail "no $CERTDIR/rsa-chain.pem (run make check first)"
DANEGUARD=$(cd "$(dirname "$DANEGUARD")" && pwd)/$(basename "$DANEGUARD")
d=$LAB_TMP
chmod 755 "$d"

rec=$(lab_oracle_311 "$CERTDIR/rsa-chain.pem") || exit 1
rtt8="127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 127.0.0.16"
rtt8="$rtt8 127.0.0.17 127.0.0.18"
{
	printf '$ORIGIN bench.test.\n$TTL 3600\n'
	printf '@\tIN SOA ns1 hostmaster 1 3600 900 604800 300\n'
	i=1
	for a in $rtt8; do printf '\tIN NS ns%d\n' $i; i=$((i + 1)); done
	i=1
	for a in $rtt8; do printf 'ns%d\tIN A %s\n' $i "$a"; i=$((i + 1)); done
	i=1
	while [ $i -le $NHOSTS ]; do
		printf 'mx%d\tIN A 127.0.0.1\n' $i
		printf '_25._tcp.mx%d\tIN TLSA %s\n' $i "$rec"
		i=$((i + 1))
	done
} > "$d/bench.zone"
lab_dns_sign bench.test "$d/bench.zone" "$d/bench.signed"

lab_netns_create
lab_nsd_start all "bench.test=$d/bench.signed" 127.0.0.1
# shellcheck disable=SC2086
lab_ubconf "$LAB_TMP/keys/bench.test/anchor.ds" bench.test $rtt8 \
    > "$d/ub.conf"

cc -O2 -o "$d/delayproxy" "$top_srcdir/bench/delayproxy.c" -lpthread ||
    lab_fail "cannot build bench/delayproxy.c"
pairs=
for a in $rtt8; do pairs="$pairs udp:$a:53=127.0.0.1:53"; done
# shellcheck disable=SC2086
ip netns exec "$LAB_NETNS" setsid "$d/delayproxy" $((BENCH_RTT_MS / 2)) \
    $pairs >"$d/delayproxy.log" 2>&1 &
dp_pid=$!
lab_at_exit "lab_kill_pid $dp_pid"
for a in $rtt8; do lab_nsd_wait all bench.test "$a"; done

# conf NAME HOSTS NS_INTERVAL - a guard configuration with HOSTS hosts.
conf()
{
	mkdir -p "$d/$1" && chown nobody "$d/$1" || lab_fail "mkdir $d/$1"
	{
		cat <<EOF
state_dir      = "$d/$1"
probe_interval = 86400
probe_timeout  = 5
ns_interval    = $3
dns {
  trust_anchor_file = "$LAB_TMP/keys/bench.test/anchor.ds"
  resolver_config   = "$d/ub.conf"
  dnssec_health     = ${BENCH_G9:-no}
}
EOF
		i=1
		while [ $i -le "$2" ]; do
			cat <<EOF
host "mx$i.bench.test" {
  cert "rsa" { chain = "$CERTDIR/rsa-chain.pem" key = "$CERTDIR/rsa.key" }
}
EOF
			i=$((i + 1))
		done
	} > "$d/$1.conf"
}
conf one 1 900
conf fifty $NHOSTS 900
conf off $NHOSTS 0

# start NAME - the guard of NAME.conf; its supervisor's PID in pid_NAME,
# the milter process's (where the guard thread runs) in child_NAME.
start()
{
	lab_dg_start nobody "$d/$1.conf" "$d/$1.sock" "$d/$1.log" \
	    "$d/$1/status.json" -v
	eval "pid_$1=$dg_pid"
	eval "child_$1=\$(pgrep -P $dg_pid | head -n 1)"
}

# wait_lines NAME PATTERN COUNT - until NAME.log has COUNT lines matching
# PATTERN (120 s: a hang).
wait_lines()
{
	n=0
	while [ "$(grep -c "$2" "$d/$1.log")" -lt "$3" ]; do
		n=$((n + 1))
		[ $n -gt 1200 ] && lab_fail "$1: no $3 lines '$2' in 120 s"
		sleep 0.1
	done
}

start one
start fifty
start off
# The first sweep and pass (at start) are the warm-up.
wait_lines one 'G8: pass done' 1
wait_lines fifty 'G8: pass done' 1
wait_lines off 'sweep done' 1
n=$(grep -c '"check": "G8"' "$d/fifty/status.json")
[ "$n" -eq $((NHOSTS * 8)) ] ||
    lab_fail "the 50-host guard has $n G8 items, not $((NHOSTS * 8))"

# cpu NAME - utime + stime of NAME's milter process, in clock ticks.
cpu()
{
	eval "p=\$child_$1"
	awk '{ print $14 + $15 }' "/proc/$p/stat"
}

# pass NAME - one sweep and G8 pass of NAME (SIGUSR2); prints the pass's
# seconds from its log (for "off": the sweep's).
pass()
{
	eval "p=\$child_$1"
	if [ "$1" = off ]; then pat='sweep done'; else pat='G8: pass done'; fi
	c=$(grep -c "$pat" "$d/$1.log")
	kill -USR2 "$p"
	wait_lines "$1" "$pat" $((c + 1))
	grep "$pat" "$d/$1.log" | tail -n 1 |
	    sed -n 's/.* in \([0-9.]*\) s.*/\1/p'
}

cpu0_fifty=$(cpu fifty) cpu0_off=$(cpu off)
: > "$d/t.one"
: > "$d/t.fifty"
r=0
while [ $r -lt "$BENCH_ROUNDS" ]; do
	for g in one fifty fifty one; do
		t=$(pass $g) || exit 1
		echo "$t" >> "$d/t.$g"
		echo "round $r $g $t s"
	done
	pass off >/dev/null
	pass off >/dev/null
	r=$((r + 1))
done
cpu1_fifty=$(cpu fifty) cpu1_off=$(cpu off)
echo "the last pass of each, as the guards log it:"
grep 'G8: ' "$d/one.log" | tail -n 3
grep 'G8: ' "$d/fifty.log" | tail -n 3
hz=$(getconf CLK_TCK)

median()
{
	sort -n "$1" | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
		  else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }
mem()
{
	eval "p=\$child_$1"
	awk '/^VmRSS|^VmHWM/ { printf "%s %d MiB ", $1, $2 / 1024 }' \
	    "/proc/$p/status"
}
m1=$(median "$d/t.one")
m50=$(median "$d/t.fifty")
rounds=$((BENCH_ROUNDS * 2))
echo
echo "| G8 pass, ${BENCH_RTT_MS} ms RTT, 8 nameserver addresses | passes | median (s) |"
echo "|---|---|---|"
echo "| 1 host | $(wc -l < "$d/t.one") | **$m1** |"
echo "| $NHOSTS hosts | $(wc -l < "$d/t.fifty") | **$m50** |"
echo
echo "ratio $NHOSTS hosts / 1 host: $(ratio "$m50" "$m1")x (target <= 2x)"
echo
echo "| guard, $NHOSTS hosts | CPU per sweep (s) | memory at the end |"
echo "|---|---|---|"
echo "| G8 on (sweep + pass) | $(echo "$cpu0_fifty $cpu1_fifty $rounds $hz" |
    awk '{ printf "%.3f", ($2 - $1) / $3 / $4 }') | $(mem fifty) |"
echo "| G8 off (ns_interval = 0, sweep) | $(echo "$cpu0_off $cpu1_off $rounds $hz" |
    awk '{ printf "%.3f", ($2 - $1) / $3 / $4 }') | $(mem off) |"
exit 0
