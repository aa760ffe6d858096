#!/bin/sh
# bench/gate-bench.sh - the pre-deploy gate (tlsagen --check --dns) over a
# zone with 8 nameserver addresses against the same gate over a zone with
# one, side by side in one run. Target: 8 addresses <= 2 x one address
# (the 8 are asked in parallel, each through a libunbound context of its
# own that validates what that address serves).
#
# Run as root from the build directory (after "make" and "make check",
# which makes the test certificates):
#
#	sh $srcdir/bench/gate-bench.sh
#
# Environment (all optional):
#	TLSAGEN      default ./tlsagen/tlsagen
#	CERTDIR      default ./tests/tmp/certs
#	BENCH_ROUNDS rounds, default 10; each round runs A B B A (A = one
#	             address, B = eight), so drift hits both sides alike
#	BENCH_RTT_MS round trip of the second, network-bound comparison,
#	             default 20
#
# In a network namespace of its own, one NSD serves one.test (NS ns1 ->
# 127.0.0.1) and eight.test (NS ns1..ns8 -> 127.0.0.1 .. 127.0.0.4 and
# fd00::1 .. fd00::4), both signed at test time with their own keys. Then
# the same with a network between the gate and the nameservers: one.rtt
# (NS -> 127.0.0.21) and eight.rtt (NS -> 127.0.0.11 .. 127.0.0.18),
# where those addresses are bench/delayproxy relays (UDP) to NSD that hold
# every datagram BENCH_RTT_MS/2 each way (this kernel has no netem). Every
# run must exit 0 (all addresses present), or the bench stops. Prints one
# line per run, then the medians and the ratios as a Markdown table.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

TLSAGEN=${TLSAGEN:-./tlsagen/tlsagen}
CERTDIR=${CERTDIR:-./tests/tmp/certs}
BENCH_ROUNDS=${BENCH_ROUNDS:-10}
BENCH_RTT_MS=${BENCH_RTT_MS:-20}

lab_init
lab_require_root
lab_require nsd:nsd ldns-keygen:ldnsutils ldns-signzone:ldnsutils \
    drill:ldnsutils
[ -x "$TLSAGEN" ] || lab_fail "TLSAGEN=$TLSAGEN is not an executable"
[ -r "$CERTDIR/rsa-chain.pem" ] ||
    lab_fail "no $CERTDIR/rsa-chain.pem (run make check first)"
TLSAGEN=$(cd "$(dirname "$TLSAGEN")" && pwd)/$(basename "$TLSAGEN")
d=$LAB_TMP

rec=$("$TLSAGEN" -f rdata "$CERTDIR/rsa-chain.pem" | grep '^3 1 1 ') ||
    lab_fail "tlsagen gave no record"
addrs="127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 fd00::1 fd00::2 fd00::3 fd00::4"

# zone NAME ADDR... - a zone with one NS per address.
zone()
{
	z=$1
	shift
	printf '$ORIGIN %s.\n$TTL 3600\n' "$z"
	printf '@\tIN SOA ns1 hostmaster 1 3600 900 604800 300\n'
	i=1
	for a in "$@"; do printf '\tIN NS ns%d\n' $i; i=$((i + 1)); done
	i=1
	for a in "$@"; do
		case $a in
		*:*)	printf 'ns%d\tIN AAAA %s\n' $i "$a" ;;
		*)	printf 'ns%d\tIN A %s\n' $i "$a" ;;
		esac
		i=$((i + 1))
	done
	printf '_25._tcp.mx\tIN TLSA %s\n' "$rec"
}
rtt8="127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 127.0.0.16"
rtt8="$rtt8 127.0.0.17 127.0.0.18"
# shellcheck disable=SC2086
zone eight.test $addrs > "$d/eight"
zone one.test 127.0.0.1 > "$d/one"
# shellcheck disable=SC2086
zone eight.rtt $rtt8 > "$d/eight-rtt"
zone one.rtt 127.0.0.21 > "$d/one-rtt"
lab_dns_sign eight.test "$d/eight" "$d/eight.signed"
lab_dns_sign one.test "$d/one" "$d/one.signed"
lab_dns_sign eight.rtt "$d/eight-rtt" "$d/eight-rtt.signed"
lab_dns_sign one.rtt "$d/one-rtt" "$d/one-rtt.signed"

lab_netns_create
for a in fd00::1 fd00::2 fd00::3 fd00::4; do
	lab_ns ip addr add "$a/128" dev lo || lab_fail "cannot add $a"
done
# shellcheck disable=SC2086
lab_nsd_start all "eight.test=$d/eight.signed one.test=$d/one.signed \
    eight.rtt=$d/eight-rtt.signed one.rtt=$d/one-rtt.signed" $addrs
for a in $addrs; do lab_nsd_wait all eight.test "$a"; done
{
	# shellcheck disable=SC2086
	lab_ubconf "$LAB_TMP/keys/eight.test/anchor.ds" eight.test $addrs
	lab_ubconf "$LAB_TMP/keys/one.test/anchor.ds" one.test 127.0.0.1
	# shellcheck disable=SC2086
	lab_ubconf "$LAB_TMP/keys/eight.rtt/anchor.ds" eight.rtt $rtt8
	lab_ubconf "$LAB_TMP/keys/one.rtt/anchor.ds" one.rtt 127.0.0.21
} > "$d/ub.conf"

cc -O2 -o "$d/delayproxy" "$top_srcdir/bench/delayproxy.c" -lpthread ||
    lab_fail "cannot build bench/delayproxy.c"
pairs=
for a in $rtt8 127.0.0.21; do pairs="$pairs udp:$a:53=127.0.0.1:53"; done
# shellcheck disable=SC2086
ip netns exec "$LAB_NETNS" setsid "$d/delayproxy" $((BENCH_RTT_MS / 2)) \
    $pairs >"$d/delayproxy.log" 2>&1 &
dp_pid=$!
lab_at_exit "lab_kill_pid $dp_pid"

# run one|eight - one gate run; prints its wall time in seconds.
run()
{
	t0=$(date +%s%N)
	lab_ns "$TLSAGEN" --check --dns --min-age 0 --resolver-config \
	    "$d/ub.conf" -H "mx.$1" "$CERTDIR/rsa-chain.pem" \
	    >"$d/out.$1" 2>&1 || {
		cat "$d/out.$1" >&2
		lab_fail "the gate over $1 did not pass"
	}
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) | awk '{ printf "%.4f\n", $1 / 1e6 }'
}

for z in eight.test one.test eight.rtt one.rtt; do
	run $z >/dev/null	# warm-up, and the check that it passes
done
for z in eight.test eight.rtt; do
	n=$(grep -c ' present$' "$d/out.$z")
	[ "$n" -eq 8 ] || lab_fail "the gate over $z saw $n addresses, not 8"
done

for z in eight.test one.test eight.rtt one.rtt; do : > "$d/t.$z"; done
r=0
while [ $r -lt "$BENCH_ROUNDS" ]; do
	for z in one.test eight.test eight.rtt one.rtt \
	    one.rtt eight.rtt eight.test one.test; do
		t=$(run $z) || exit 1
		echo "$t" >> "$d/t.$z"
		echo "round $r $z $t s"
	done
	r=$((r + 1))
done

median()
{
	sort -n "$1" | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
		  else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }
m1=$(median "$d/t.one.test")
m8=$(median "$d/t.eight.test")
r1=$(median "$d/t.one.rtt")
r8=$(median "$d/t.eight.rtt")
echo
echo "| gate run | runs | median (s) |"
echo "|---|---|---|"
echo "| loopback, 1 address (one.test) | $(wc -l < "$d/t.one.test") | **$m1** |"
echo "| loopback, 8 addresses (eight.test) | $(wc -l < "$d/t.eight.test") | **$m8** |"
echo "| ${BENCH_RTT_MS} ms RTT, 1 address (one.rtt) | $(wc -l < "$d/t.one.rtt") | **$r1** |"
echo "| ${BENCH_RTT_MS} ms RTT, 8 addresses (eight.rtt) | $(wc -l < "$d/t.eight.rtt") | **$r8** |"
echo
echo "ratio 8 / 1: loopback $(ratio "$m8" "$m1")x, ${BENCH_RTT_MS} ms RTT $(ratio "$r8" "$r1")x (target <= 2x)"
exit 0
