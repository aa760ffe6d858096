#!/bin/sh
# bench/g9-bench.sh - what check G9 (dns { dnssec_health = yes }) costs the
# guard: CPU seconds and peak RSS of "daneguard --check" with G9 off (A)
# and on (B), side by side (rounds of A B B A): one sweep, G9 included.
#
# Run as root from the build directory (after "make" and "make check",
# which makes the test certificates):
#
#	sh $srcdir/bench/g9-bench.sh
#
# Environment (all optional):
#	DANEGUARD    default ./milter/daneguard
#	CERTDIR      default ./tests/tmp/certs
#	BENCH_HOSTS  host sections, default 20 (mx1 .. mxN.example.test)
#	BENCH_ROUNDS rounds of A B B A, default 5
#
# In a network namespace of its own: test. (signed; the trust anchor) on
# 127.0.0.3 delegates example.test (signed) to four nameserver addresses
# (127.0.0.2, 127.0.0.4, 127.0.0.5, 127.0.0.6), one NSD. Each host has an
# A record and a TLSA record there, and a probe list naming 127.0.0.1,
# where nothing listens (G1-G5 fail at once, the same in A and B). G8
# runs on both sides (its pass asks each address SOA and every TLSA
# owner), so the difference is G9 in that pass: per host its A and AAAA
# added to each address's batch, per zone the DNSKEY and the parent's DS,
# every answer's RRSIGs read.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

DANEGUARD=${DANEGUARD:-./milter/daneguard}
CERTDIR=${CERTDIR:-./tests/tmp/certs}
BENCH_HOSTS=${BENCH_HOSTS:-20}
BENCH_ROUNDS=${BENCH_ROUNDS:-5}

lab_init
lab_require_root
lab_require nsd:nsd ldns-keygen:ldnsutils ldns-signzone:ldnsutils \
    drill:ldnsutils time:time
[ -x "$DANEGUARD" ] || lab_fail "DANEGUARD=$DANEGUARD is not an executable"
[ -r "$CERTDIR/rsa-chain.pem" ] ||
    lab_fail "no $CERTDIR/rsa-chain.pem (run make check first)"
DANEGUARD=$(cd "$(dirname "$DANEGUARD")" && pwd)/$(basename "$DANEGUARD")
CERTDIR=$(cd "$CERTDIR" && pwd)
d=$LAB_TMP
rec=$(lab_oracle_311 "$CERTDIR/ecdsa-chain.pem") || exit 1

{
	cat <<EOF
\$ORIGIN example.test.
\$TTL 3600
@	IN SOA ns1 hostmaster 1 3600 900 259200 300
	IN NS ns1
	IN NS ns2
	IN NS ns3
	IN NS ns4
ns1	IN A 127.0.0.2
ns2	IN A 127.0.0.4
ns3	IN A 127.0.0.5
ns4	IN A 127.0.0.6
EOF
	i=1
	while [ $i -le "$BENCH_HOSTS" ]; do
		printf 'mx%d IN A 127.0.0.1\n_25._tcp.mx%d IN TLSA %s\n' \
		    $i $i "$rec"
		i=$((i + 1))
	done
} > "$d/child.zone"
lab_dns_sign example.test "$d/child.zone" "$d/child.signed"
{
	cat <<EOF
\$ORIGIN test.
\$TTL 3600
@	IN SOA ns hostmaster 1 3600 900 1209600 300
	IN NS ns
ns	IN A 127.0.0.3
EOF
	for n in 1 2 3 4; do echo "example IN NS ns$n.example"; done
	echo "ns1.example IN A 127.0.0.2"
	echo "ns2.example IN A 127.0.0.4"
	echo "ns3.example IN A 127.0.0.5"
	echo "ns4.example IN A 127.0.0.6"
	grep -v '^;' "$LAB_TMP/keys/example.test/anchor.ds"
} > "$d/parent.zone"
lab_dns_sign test "$d/parent.zone" "$d/parent.signed"
cat > "$d/ub.conf" <<EOF
server:
	do-not-query-localhost: no
	local-zone: "test." transparent
stub-zone:
	name: "test."
	stub-addr: 127.0.0.3@53
stub-zone:
	name: "example.test."
	stub-addr: 127.0.0.2@53
EOF

# conf FILE yes|no
conf()
{
	cat > "$1" <<EOF
state_dir      = "$d/state-$2"
probe_interval = 3600
probe_timeout  = 3
dns {
  trust_anchor_file = "$LAB_TMP/keys/test/anchor.ds"
  resolver_config   = "$d/ub.conf"
  dnssec_health     = $2
}
EOF
	i=1
	while [ $i -le "$BENCH_HOSTS" ]; do
		cat >> "$1" <<EOF
host "mx$i.example.test" {
  probe = { "127.0.0.1" }
  cert "ecdsa" { chain = "$CERTDIR/ecdsa-chain.pem" key = "$CERTDIR/ecdsa.key" }
}
EOF
		i=$((i + 1))
	done
}
conf "$d/off.conf" no
conf "$d/on.conf" yes

lab_netns_create
lab_nsd_start parent "test=$d/parent.signed" 127.0.0.3
lab_nsd_start child "example.test=$d/child.signed" 127.0.0.2 127.0.0.4 \
    127.0.0.5 127.0.0.6

# run off|on - one --check; appends "CPU-SECONDS MAXRSS-KB WALL" to
# $d/SIDE.runs; the on side must have G9 rows, all OK.
run()
{
	lab_ns /usr/bin/time -f '%U %S %M %e' -o "$d/time" \
	    "$DANEGUARD" --check -c "$d/$1.conf" > "$d/$1.out" 2>"$d/$1.err"
	if [ "$1" = on ]; then
		n=$(awk '$1 == "G9" && $5 == "OK"' "$d/on.out" | wc -l)
		bad=$(awk '$1 == "G9" && $5 != "OK"' "$d/on.out" | wc -l)
		[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] ||
		    { cat "$d/on.out"; lab_fail "G9 is not all OK"; }
	fi
	tail -n 1 "$d/time" | awk '{ printf "%.2f %d %.2f\n", $1 + $2, $3, $4 }' \
	    >> "$d/$1.runs"
	echo "$1 $(tail -n 1 "$d/$1.runs")"
}

r=0
while [ $r -lt "$BENCH_ROUNDS" ]; do
	run off; run on; run on; run off
	r=$((r + 1))
done

# median FILE COLUMN
median()
{
	awk -v c="$2" '{ print $c }' "$1" | sort -n |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

a_cpu=$(median "$d/off.runs" 1) b_cpu=$(median "$d/on.runs" 1)
a_rss=$(median "$d/off.runs" 2) b_rss=$(median "$d/on.runs" 2)
a_wall=$(median "$d/off.runs" 3) b_wall=$(median "$d/on.runs" 3)
cat <<EOF

$BENCH_HOSTS hosts in one zone with 4 nameserver addresses, $BENCH_ROUNDS rounds of A B B A, medians:

| daneguard --check | G9 off (A) | G9 on (B) | B / A |
|---|---|---|---|
| CPU seconds (user + sys) | $a_cpu | $b_cpu | $(awk -v a="$a_cpu" -v b="$b_cpu" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }') |
| peak RSS (MB) | $(awk -v k="$a_rss" 'BEGIN { printf "%.1f", k / 1024 }') | $(awk -v k="$b_rss" 'BEGIN { printf "%.1f", k / 1024 }') | $(awk -v a="$a_rss" -v b="$b_rss" 'BEGIN { printf "%.2f", b / a }') |
| wall seconds | $a_wall | $b_wall | $(awk -v a="$a_wall" -v b="$b_wall" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }') |

EOF
