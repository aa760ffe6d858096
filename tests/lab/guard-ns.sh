#!/bin/sh
# tests/lab/guard-ns.sh - G8: every address of every authoritative
# nameserver of the host's zone, asked directly and validated.
#
# In a network namespace of its own: a private Postfix serves an RSA and
# an ECDSA chain on 127.0.0.1:25 and [::1]:25 (mx1.example.test).
# example.test (signed at test time, SOA refresh 1 s) has four NS:
#   ns1 127.0.0.2  NSD, serial 10, records that match       G8 OK
#   ns2 127.0.0.3  NSD, serial 9, the same records           behind: OK with
#                                                            a note, then
#                                                            WARNING once
#                                                            behind longer
#                                                            than the refresh
#   ns3 127.0.0.4  nothing listens: no answer                G8 UNKNOWN
#   ns4 127.0.0.5  NSD, serial 10, the RSA record of         G8 CRITICAL
#                  another key
# The guard's own resolver asks ns1 only (it sees nothing wrong: G3 OK).
# Ground truth, independent of this project: drill at each address (the
# serial, the records, no answer at ns3), and openssl s_client
# -dane_tlsa_rrdata with the records each address serves against the
# served RSA chain ("no matching DANE TLSA records" for ns4's, a match
# for ns1's): G8 must agree with it.
# "daneguard --check": exit 2, the four rows above (ns2 OK: a single
# check cannot tell for how long it lags). The daemon (ns_interval 1):
# ns2's G8 goes from OK (behind, within the refresh) to WARNING, logged
# once "state=WARNING was=OK"; status.json and metrics.prom carry one
# item and one daneguard_ns_soa_serial series per nameserver address.
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, DANEGUARD (make check).
# Needs root and the Debian packages postfix, nsd, ldnsutils, openssl,
# iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_init
lab_require_guard
lab_require postfix:postfix postconf:postfix nsd:nsd openssl:openssl \
    ldns-keygen:ldnsutils ldns-signzone:ldnsutils drill:ldnsutils \
    timeout:coreutils

d=$LAB_TMP
host=mx1.example.test
fails=0
checks=0
disk=$d/disk
mkdir -p "$disk" || lab_fail "mkdir $disk"
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-next.key \
    ecdsa-next.key; do
	cp "$CERTDIR/$f" "$disk/$f" || lab_fail "cp $CERTDIR/$f"
done

# ------------------------------------------------------------ zones

# The records a deployment publishes (current and next keys), by the
# openssl command line, not by this project's code.
for f in rsa-chain.pem rsa-next.key ecdsa-chain.pem ecdsa-next.key; do
	lab_oracle_311 "$CERTDIR/$f" || exit 1
done > "$d/rdata"
rsa_rec=$(lab_oracle_311 "$CERTDIR/rsa-chain.pem") || exit 1
other_rec=$(lab_oracle_311 "$CERTDIR/rsa-other-chain.pem") || exit 1
grep -vF "$rsa_rec" "$d/rdata" > "$d/rdata.wrong"
echo "$other_rec" >> "$d/rdata.wrong"

# zone SERIAL RDATA-FILE OUT - example.test with these TLSA records, SOA
# refresh and retry 1 s (so that a lag outgrows the refresh in a test).
zone()
{
	{
		cat <<EOF
\$ORIGIN example.test.
\$TTL 3600
@	IN SOA ns1 hostmaster $1 1 1 604800 300
	IN NS ns1
	IN NS ns2
	IN NS ns3
	IN NS ns4
ns1	IN A 127.0.0.2
ns2	IN A 127.0.0.3
ns3	IN A 127.0.0.4
ns4	IN A 127.0.0.5
mx1	IN A 127.0.0.1
	IN AAAA ::1
EOF
		sed "s/^/_25._tcp.mx1 IN TLSA /" "$2"
	} > "$3"
}
zone 10 "$d/rdata" "$d/ns1.zone"
zone 9 "$d/rdata" "$d/ns2.zone"
zone 10 "$d/rdata.wrong" "$d/ns4.zone"
for n in 1 2 4; do
	lab_dns_sign example.test "$d/ns$n.zone" "$d/ns$n.signed"
done
anchor=$LAB_TMP/keys/example.test/anchor.ds

lab_netns_create
lab_ubconf "$anchor" example.test 127.0.0.2 > "$d/ub.conf"
lab_nsd_start ns1 "example.test=$d/ns1.signed" 127.0.0.2
lab_nsd_start ns2 "example.test=$d/ns2.signed" 127.0.0.3
lab_nsd_start ns4 "example.test=$d/ns4.signed" 127.0.0.5

# ------------------------------------------------------------ Postfix

lab_postfix_init pf
lab_postfix_conf pf \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $disk/ecdsa.key $disk/ecdsa-chain.pem $disk/rsa.key $disk/rsa-chain.pem"
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "[::1]:25"
lab_postfix_start pf

# conf FILE NS_INTERVAL - a guard configuration, published set from DNS.
conf()
{
	cat > "$1" <<EOF
state_dir      = "$d/state"
probe_interval = 300
probe_timeout  = 2
ns_interval    = $2
dns {
  trust_anchor_file = "$anchor"
  resolver_config   = "$d/ub.conf"
}
host "$host" {
  port     = 25
  ttl      = 3600
  rollover = "current+next"
  cert "rsa"   { chain = "$disk/rsa-chain.pem"   key = "$disk/rsa.key"
                 next_key = "$disk/rsa-next.key" }
  cert "ecdsa" { chain = "$disk/ecdsa-chain.pem" key = "$disk/ecdsa.key"
                 next_key = "$disk/ecdsa-next.key" }
}
EOF
}
conf "$d/dg.conf" 900
conf "$d/dg-fast.conf" 1

# ------------------------------------------------------------ ground truth

# What each address serves, by drill: "serial N" and the TLSA records.
truth()
{
	lab_ns drill -Q @"$1" SOA example.test 2>/dev/null |
	    awk '{ print "serial", $3 }'
	lab_ns drill @"$1" TLSA _25._tcp.$host 2>/dev/null |
	    awk '$4 == "TLSA" { print $5, $6, $7, tolower($8 $9 $10 $11) }' |
	    sort
}
for a in 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5; do
	truth $a > "$d/truth-$a"
done
[ "$(head -n 1 "$d/truth-127.0.0.2")" = "serial 10" ] &&
    [ "$(head -n 1 "$d/truth-127.0.0.3")" = "serial 9" ] &&
    [ "$(head -n 1 "$d/truth-127.0.0.5")" = "serial 10" ] &&
    [ ! -s "$d/truth-127.0.0.4" ] ||
    { head "$d"/truth-*; lab_fail "the nameservers do not serve the scenario"; }

# dane ADDR - openssl s_client with the TLSA records that ADDR serves,
# RSA forced, against the Postfix listener: 0 when they match the chain.
dane()
{
	dane_in=$d/truth-$1
	set --
	while read -r u sel m h; do
		[ "$u" = serial ] && continue
		set -- "$@" -dane_tlsa_rrdata "$u $sel $m $h"
	done < "$dane_in"
	lab_ns timeout 30 openssl s_client -brief -starttls smtp \
	    -connect 127.0.0.1:25 -verify_return_error -tls1_2 \
	    -cipher ECDHE-RSA-AES128-GCM-SHA256 -dane_ee_no_namechecks \
	    -dane_tlsa_domain $host "$@" </dev/null >"$d/dane.out" 2>&1
}

# ------------------------------------------------------------ --check

lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"
state()
{
	lab_dg_state "$d/check.out" G8 "$host" "$1" -
}
expect_row()
{
	got=$(state "$1")
	checks=$((checks + 1))
	if [ "$got" = "$2" ] && grep -Eq "^G8 +$host +$1 .*$3" "$d/check.out"
	then
		echo "ok    --check: G8 $1 $2"
		grep -E "^G8 +$host +$1 " "$d/check.out" | sed 's/^/      | /'
	else
		fails=$((fails + 1))
		echo "FAIL  --check: G8 $1 is $got, not $2 (or no '$3')"
		sed 's/^/      | /' "$d/check.out" "$d/check.err"
	fi
}
lab_result "--check: exit 2 (CRITICAL)" $([ "$rc" -eq 2 ]; echo $?) ||
    sed 's/^/      | /' "$d/check.out" "$d/check.err"
expect_row ns1.example.test/127.0.0.2 OK "match every served chain.*SOA serial 10"
expect_row ns2.example.test/127.0.0.3 OK "SOA serial 9 behind the highest 10"
expect_row ns3.example.test/127.0.0.4 UNKNOWN "does not answer"
expect_row ns4.example.test/127.0.0.5 CRITICAL "no record of nameserver ns4.example.test. at 127.0.0.5 .*rsa"
# The guard's own resolver asks ns1: it sees nothing wrong.
checks=$((checks + 1))
if [ "$(lab_dg_state "$d/check.out" G3 "$host" 127.0.0.1 rsa)" = OK ]; then
	echo "ok    --check: G3 rsa OK through the resolver (only G8 sees ns4)"
else
	fails=$((fails + 1))
	echo "FAIL  --check: G3 127.0.0.1 rsa is not OK"
	sed 's/^/      | /' "$d/check.out"
fi

# G9, on by default, in the same pass: the lab zone (signed for 30 days,
# SOA EXPIRE 7 days) is healthy at ns1, and the zone is its own trust
# anchor (no parent): the anchor's DS is matched against its keys.
lab_result "--check: G9 on by default, rrsig OK at ns1" \
    $([ "$(lab_dg_state "$d/check.out" G9 "$host" 127.0.0.2 rrsig)" = OK ];
    echo $?) || sed 's/^/      | /' "$d/check.out"
lab_result "--check: G9 ds OK from the trust anchor file" \
    $([ "$(lab_dg_state "$d/check.out" G9 "$host" example.test. ds)" = OK ] &&
    grep -Eq "^G9 +$host +example.test. +ds .*in the trust anchor file $anchor" \
    "$d/check.out"; echo $?) || sed 's/^/      | /' "$d/check.out"

# The reference on the records of ns1 and ns4.
dane 127.0.0.2
lab_result "openssl s_client with ns1's records: the RSA chain matches (G8 OK)" \
    $(grep -q 'DANE TLSA 3 1 1 .* matched EE certificate' "$d/dane.out"; echo $?) ||
    sed 's/^/      | /' "$d/dane.out"
dane 127.0.0.5
lab_result "openssl s_client with ns4's records: no match for the RSA chain (G8 CRITICAL)" \
    $(grep -q 'no matching DANE TLSA records' "$d/dane.out"; echo $?) ||
    sed 's/^/      | /' "$d/dane.out"

# ------------------------------------------------------------ the daemon

# jfield ADDR FIELD - FIELD ("state", "soa_serial") of ns ADDR's G8 item
# in status.json, or "missing".
jfield()
{
	grep "\"check\": \"G8\", \"host\": \"$host\", \"addr\": \"$1\"" \
	    "$state_dir/status.json" 2>/dev/null |
	    sed -n "s/.*\"$2\": \"*\\([A-Z0-9]*\\)\"*[,}].*/\\1/p" | grep . ||
	    echo missing
}

state_dir=$d/state
mkdir -p "$state_dir" && chown nobody "$state_dir" || lab_fail "state dir"
lab_dg_start nobody "$d/dg-fast.conf" "$d/dg.sock" "$d/dg.log" \
    "$state_dir/status.json"
# The event: ns2's lag outgrew the refresh (1 s) between two passes.
n=0
until grep -q "check=G8 host=$host addr=ns2.example.test/127.0.0.3 state=WARNING" "$d/dg.log"; do
	n=$((n + 1))
	[ $n -gt 600 ] && break
	sleep 0.1
done
checks=$((checks + 1))
if grep -q "check=G8 host=$host addr=ns2.example.test/127.0.0.3 state=WARNING was=OK reason=\".*SOA serial 9 lags the highest 10 for .*longer than the SOA refresh (1s)" "$d/dg.log"; then
	echo "ok    daemon: ns2 behind within the refresh (OK), then longer (WARNING, logged was=OK)"
	grep "addr=ns2.example.test" "$d/dg.log" | head -n 1 | sed 's/^/      | /'
else
	fails=$((fails + 1))
	echo "FAIL  daemon: no 'state=WARNING was=OK' for ns2 within 60 s"
	sed 's/^/      | /' "$d/dg.log"
fi
# Logged once: ns2 stays WARNING in the passes that follow.
checks=$((checks + 1))
if [ "$(grep -c "addr=ns2.example.test/127.0.0.3 state=WARNING" "$d/dg.log")" -eq 1 ]; then
	echo "ok    daemon: the WARNING is logged once"
else
	fails=$((fails + 1))
	echo "FAIL  daemon: the WARNING is logged more than once"
	grep "addr=ns2" "$d/dg.log" | sed 's/^/      | /'
fi
# status.json after that event: every address, its state and its serial
# as drill sees it.
n=0
until [ "$(jfield ns2.example.test/127.0.0.3 state)" = WARNING ]; do
	n=$((n + 1))
	[ $n -gt 300 ] && break
	sleep 0.1
done
for row in "127.0.0.2 ns1 OK" "127.0.0.3 ns2 WARNING" \
    "127.0.0.4 ns3 UNKNOWN" "127.0.0.5 ns4 CRITICAL"; do
	set -- $row
	a=$2.example.test/$1
	want_serial=$(awk '$1 == "serial" { print $2 }' "$d/truth-$1")
	[ -n "$want_serial" ] || want_serial=missing
	checks=$((checks + 1))
	if [ "$(jfield "$a" state)" = "$3" ] &&
	    [ "$(jfield "$a" soa_serial)" = "$want_serial" ] &&
	    grep -q "^daneguard_check_state{check=\"G8\",host=\"$host\",addr=\"$a\",alg=\"\",client=\"\"} " "$state_dir/metrics.prom" &&
	    { [ "$want_serial" = missing ] ||
	    grep -q "^daneguard_ns_soa_serial{check=\"G8\",host=\"$host\",addr=\"$a\",alg=\"\",client=\"\"} $want_serial\$" "$state_dir/metrics.prom"; }
	then
		echo "ok    daemon: $a $3, serial $want_serial (drill) in status.json and metrics.prom"
	else
		fails=$((fails + 1))
		echo "FAIL  daemon: $a: state $(jfield "$a" state) (not $3), serial $(jfield "$a" soa_serial) (drill: $want_serial)"
		sed 's/^/      | /' "$state_dir/status.json" "$state_dir/metrics.prom"
	fi
done
lab_kill_pid $dg_pid
checks=$((checks + 1))
if grep -q 'Sanitizer\|runtime error' "$d/dg.log"; then
	fails=$((fails + 1))
	echo "FAIL  daemon: sanitizer finding"
	head -n 60 "$d/dg.log"
else
	echo "ok    daemon: no sanitizer finding"
fi

echo "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
