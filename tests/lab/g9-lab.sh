#!/bin/sh
# tests/lab/g9-lab.sh - check G9, DNSSEC health before it breaks: RRSIG
# expiry as each authoritative address serves it, the parent's DS against
# the zone's keys, signatures against the SOA EXPIRE, the TTL note.
#
# In a network namespace of its own: the parent zone test. (signed, the
# guard's trust anchor is its KSK's DS) on 127.0.0.3, delegating
# example.test (signed at test time, with the DS the scenario needs) to
# ns1 (127.0.0.2) and ns2 (127.0.0.4), one NSD serving both addresses.
# Each scenario signs example.test again (ldns-signzone -i/-e) and reloads
# NSD, then runs "daneguard --check" (dns { dnssec_health = yes }):
#   signatures for 30 days, TTL 3600     rrsig OK at both addresses, ds OK,
#                                        ttl "as recommended"
#   expiring in 6 h                      rrsig CRITICAL, with the expiry
#                                        time drill shows for the RRSIG
#   expiring in 2 days (EXPIRE 1 day)    rrsig WARNING, the same check;
#                                        OK with rrsig_warning = 36 h
#   60 days, TLSA TTL 300                rrsig OK; ttl note "below 1800"
#   5 days, TTL 3 days                   rrsig WARNING (2 x TTL rule)
#   10 days, SOA EXPIRE 14 days          rrsig WARNING naming SOA EXPIRE
#   DS of another key at the parent      ds CRITICAL
#   DS of the KSK and of a second,       ds OK (a roll in progress)
#     published but not signing, KSK
#   the MX RRSIG alone expiring in 5 h   the domain's rrsig CRITICAL naming
#     (domain "example.test")            MX; the host's rows OK
# The daemon writes G9 into status.json and metrics.prom and keeps it
# across sweeps.
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make check).
# Needs root and the Debian packages nsd, ldnsutils, iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_init
lab_require_guard
lab_require nsd:nsd ldns-keygen:ldnsutils ldns-signzone:ldnsutils \
    drill:ldnsutils ldns-key2ds:ldnsutils timeout:coreutils

d=$LAB_TMP
host=mx1.example.test
fails=0
checks=0

pass() { checks=$((checks + 1)); echo "ok    $1"; }
fail()
{
	checks=$((checks + 1))
	fails=$((fails + 1))
	echo "FAIL  $1"
	[ -n "$2" ] && sed 's/^/      /' "$2"
}

# expect NAME OUT ALG ADDR STATE - the G9 row (ALG, ADDR) of OUT is STATE
# (host column: $row, default the host).
expect()
{
	got=$(lab_dg_state "$2" G9 "${row:-$host}" "$4" "$3")
	if [ "$got" = "$5" ]; then
		pass "$1: G9 ${row:-$host} $3 $4 $5"
	else
		fail "$1: G9 ${row:-$host} $3 $4 is $got, expected $5" "$2"
	fi
}

# expect_text NAME OUT ALG ADDR TEXT - that row's reason contains TEXT.
expect_text()
{
	if awk -v a="$4" -v g="$3" -v h="${row:-$host}" \
	    '$1 == "G9" && $2 == h && $3 == a && $4 == g' "$2" |
	    grep -qF -- "$5"; then
		pass "$1: G9 $3 $4 says '$5'"
	else
		fail "$1: G9 $3 $4 does not say '$5'" "$2"
	fi
}

# ------------------------------------------------------------ configuration

# conf FILE [DNS-LINES] - the guard for mx1.example.test (no MTA runs
# here: G1-G3 are not what this test reads), G9 on.
conf()
{
	cat > "$1" <<EOF
state_dir      = "$d/state"
probe_interval = 300
probe_timeout  = 3
dns {
  trust_anchor_file = "$LAB_TMP/keys/test/anchor.ds"
  resolver_config   = "$d/ub.conf"
  dnssec_health     = yes
  $2
}
EOF
	lab_dg_host "$host" "$CERTDIR" >> "$1"
	echo 'domain "example.test" { hosts = { "mx1.example.test" } }' >> "$1"
}
conf "$d/dg.conf"
conf "$d/dg-36h.conf" "rrsig_warning = 129600"

rec=$(lab_oracle_311 "$CERTDIR/ecdsa-chain.pem") || exit 1

# ------------------------------------------------------------ zones

# child SERIAL OUT TTL EXPIRE [EXTRA] - example.test, TLSA TTL TTL, SOA
# REFRESH min(TTL, 3600), SOA EXPIRE EXPIRE; EXTRA lines appended.
child()
{
	refresh=$3
	[ "$refresh" -gt 3600 ] && refresh=3600
	cat > "$2" <<EOF
\$ORIGIN example.test.
\$TTL 3600
@	IN SOA ns1 hostmaster $1 $refresh 900 $4 300
	IN NS ns1
	IN NS ns2
	IN MX 10 mx1
ns1	IN A 127.0.0.2
ns2	IN A 127.0.0.4
mx1	IN A 127.0.0.1
	IN AAAA ::1
_25._tcp.mx1 $3 IN TLSA $rec
EOF
	[ -n "$5" ] && cat "$5" >> "$2"
	return 0
}

# sign IN OUT SECONDS - sign example.test valid from an hour ago until
# SECONDS from now (lab_dns_sign's keys, so its anchor.ds is the DS).
sign()
{
	kd=$LAB_TMP/keys/example.test
	now=$(date +%s)
	ldns-signzone -o example.test -i $((now - 3600)) -e $((now + $3)) \
	    -f "$2" "$1" "$kd/$(cat "$kd/ksk")" "$kd/$(cat "$kd/zsk")" ||
	    lab_fail "cannot sign $1 (ldns-signzone)"
}

# parent SERIAL DS-FILE - test. delegating example.test with DS-FILE.
parent()
{
	cat > "$d/parent.zone" <<EOF
\$ORIGIN test.
\$TTL 3600
@	IN SOA ns hostmaster $1 3600 900 1209600 300
	IN NS ns
ns	IN A 127.0.0.3
example	IN NS ns1.example
	IN NS ns2.example
ns1.example IN A 127.0.0.2
ns2.example IN A 127.0.0.4
EOF
	cat "$2" >> "$d/parent.zone"
	lab_dns_sign test "$d/parent.zone" "$d/parent.signed"
}

# Keys: example.test's own (lab_dns_sign makes them on first use), and a
# second KSK that is never used to sign.
mkdir -p "$d/other"
child 1 "$d/first.zone" 3600 604800
lab_dns_sign example.test "$d/first.zone" "$d/child.signed"
other=$(cd "$d/other" && ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom \
    example.test) || lab_fail "ldns-keygen"
grep -v '^;' "$LAB_TMP/keys/example.test/anchor.ds" > "$d/ds.good"
grep -v '^;' "$d/other/$other.ds" > "$d/ds.other"
cat "$d/ds.good" "$d/ds.other" > "$d/ds.both"
grep -v '^;' "$d/other/$other.key" > "$d/other.dnskey"

parent 1 "$d/ds.good"
cat > "$d/ub.conf" <<EOF
server:
	do-not-query-localhost: no
	local-zone: "test." transparent
	val-log-level: 2
stub-zone:
	name: "test."
	stub-addr: 127.0.0.3@53
stub-zone:
	name: "example.test."
	stub-addr: 127.0.0.2@53
	stub-addr: 127.0.0.4@53
EOF

lab_netns_create
lab_nsd_start parent "test=$d/parent.signed" 127.0.0.3
lab_nsd_start child "example.test=$d/child.signed" 127.0.0.2 127.0.0.4
serial=1
pserial=1

# scenario NAME TTL EXPIRE SECONDS [EXTRA] - sign example.test with a
# new serial, reload NSD, wait until both addresses serve it, --check.
scenario()
{
	serial=$((serial + 1))
	child $serial "$d/$1.zone" "$2" "$3" "$5"
	sign "$d/$1.zone" "$d/child.signed" "$4"
	lab_nsd_reload child example.test 127.0.0.2
	lab_nsd_serial 127.0.0.4 $serial
	lab_dg_check "$d/dg.conf" "$d/$1.out" "$d/$1.err"
	echo "--- $1:"
	awk '$1 == "G9"' "$d/$1.out"
}

# lab_nsd_serial ADDR SERIAL - wait until ADDR serves example.test SERIAL.
lab_nsd_serial()
{
	tries=50
	until [ "$(lab_ns drill -Q @"$1" SOA example.test 2>/dev/null |
	    awk '{print $3}')" = "$2" ]; do
		tries=$((tries - 1))
		[ $tries -le 0 ] && lab_fail "$1 does not serve serial $2"
		sleep 0.1
	done
}

# reparent DS-FILE - the parent with other DS records, reloaded.
reparent()
{
	pserial=$((pserial + 1))
	parent $pserial "$1"
	lab_nsd_reload parent test 127.0.0.3
}

# drill_expiry ADDR - the expiration field (YYYYMMDDHHMMSS) of the RRSIG
# over the TLSA RRset as ADDR serves it.
drill_expiry()
{
	lab_ns drill -D @"$1" TLSA _25._tcp.$host 2>/dev/null |
	    awk '$4 == "RRSIG" && $5 == "TLSA" { print $9; exit }'
}

# as_utc YYYYMMDDHHMMSS - "YYYY-MM-DD HH:MM:SS UTC".
as_utc()
{
	echo "$1" | sed -E 's/^(....)(..)(..)(..)(..)(..)$/\1-\2-\3 \4:\5:\6 UTC/'
}

# ------------------------------------------------------------ scenarios

scenario healthy 3600 604800 $((30 * 86400))
for a in 127.0.0.2 127.0.0.4; do
	expect healthy "$d/healthy.out" rrsig $a OK
done
expect healthy "$d/healthy.out" ds example.test. OK
expect healthy "$d/healthy.out" ttl _25._tcp.$host. OK
expect_text healthy "$d/healthy.out" ttl _25._tcp.$host. "as recommended"

scenario hours 3600 604800 $((6 * 3600))
for a in 127.0.0.2 127.0.0.4; do
	expect hours "$d/hours.out" rrsig $a CRITICAL
	exp=$(drill_expiry $a)
	[ -n "$exp" ] || fail "hours: drill shows no RRSIG TLSA at $a"
	expect_text hours "$d/hours.out" rrsig $a "$(as_utc "$exp")"
done
expect_text hours "$d/hours.out" rrsig 127.0.0.2 "signer example.test."

scenario days 3600 86400 $((2 * 86400))
for a in 127.0.0.2 127.0.0.4; do
	expect days "$d/days.out" rrsig $a WARNING
	expect_text days "$d/days.out" rrsig $a "$(as_utc "$(drill_expiry $a)")"
done
lab_dg_check "$d/dg-36h.conf" "$d/days36.out" "$d/days36.err"
expect "days, rrsig_warning 36h" "$d/days36.out" rrsig 127.0.0.2 OK

# The earliest over the RRsets: the DNSKEY RRset's RRSIG from a signing
# that expires in 5 h, the rest from one that lasts 30 days (same keys).
serial=$((serial + 1))
child $serial "$d/mixed.zone" 3600 604800
sign "$d/mixed.zone" "$d/mixed-long.signed" $((30 * 86400))
sign "$d/mixed.zone" "$d/mixed-short.signed" $((5 * 3600))
{
	awk '!($4 == "RRSIG" && $5 == "DNSKEY")' "$d/mixed-long.signed"
	awk '$4 == "RRSIG" && $5 == "DNSKEY"' "$d/mixed-short.signed"
} > "$d/child.signed"
lab_nsd_reload child example.test 127.0.0.2
lab_nsd_serial 127.0.0.4 $serial
lab_dg_check "$d/dg.conf" "$d/mixed.out" "$d/mixed.err"
awk '$1 == "G9"' "$d/mixed.out"
expect "DNSKEY RRSIG expiring first" "$d/mixed.out" rrsig 127.0.0.2 CRITICAL
expect_text "DNSKEY RRSIG expiring first" "$d/mixed.out" rrsig 127.0.0.2 \
    "the RRSIG of example.test. DNSKEY"

# The domain's MX RRset (a domain section): its RRSIG alone expires in
# 5 h. The host's rows do not cover it; the domain's rows do.
serial=$((serial + 1))
child $serial "$d/mx.zone" 3600 604800
sign "$d/mx.zone" "$d/mx-long.signed" $((30 * 86400))
sign "$d/mx.zone" "$d/mx-short.signed" $((5 * 3600))
{
	awk '!($4 == "RRSIG" && $5 == "MX")' "$d/mx-long.signed"
	awk '$4 == "RRSIG" && $5 == "MX"' "$d/mx-short.signed"
} > "$d/child.signed"
lab_nsd_reload child example.test 127.0.0.2
lab_nsd_serial 127.0.0.4 $serial
lab_dg_check "$d/dg.conf" "$d/mxsoon.out" "$d/mxsoon.err"
awk '$1 == "G9"' "$d/mxsoon.out"
expect "MX RRSIG expiring" "$d/mxsoon.out" rrsig 127.0.0.2 OK
row=example.test
expect "MX RRSIG expiring" "$d/mxsoon.out" rrsig 127.0.0.2 CRITICAL
expect "MX RRSIG expiring" "$d/mxsoon.out" rrsig 127.0.0.4 CRITICAL
expect_text "MX RRSIG expiring" "$d/mxsoon.out" rrsig 127.0.0.2 \
    "the RRSIG of example.test. MX"
expect "MX RRSIG expiring" "$d/mxsoon.out" ds example.test. OK
row=

scenario shortttl 300 604800 $((60 * 86400))
expect "long signatures, short TTL" "$d/shortttl.out" rrsig 127.0.0.2 OK
expect "long signatures, short TTL" "$d/shortttl.out" ttl _25._tcp.$host. OK
expect_text "long signatures, short TTL" "$d/shortttl.out" ttl \
    _25._tcp.$host. "note: TTL 300 is below 1800"

scenario longttl 259200 86400 $((5 * 86400))
expect "TTL 3 days, 5 days left" "$d/longttl.out" rrsig 127.0.0.2 WARNING
expect_text "TTL 3 days, 5 days left" "$d/longttl.out" rrsig 127.0.0.2 \
    "WARNING below 6d"

scenario soaexpire 3600 1209600 $((10 * 86400))
expect "SOA EXPIRE 14 days, 10 days left" "$d/soaexpire.out" rrsig \
    127.0.0.2 WARNING
expect_text "SOA EXPIRE 14 days, 10 days left" "$d/soaexpire.out" rrsig \
    127.0.0.2 "SOA EXPIRE of 14d"

# The DS: back to healthy signatures; then a DS of another key only.
scenario dsgood 3600 604800 $((30 * 86400))
reparent "$d/ds.other"
lab_dg_check "$d/dg.conf" "$d/dswrong.out" "$d/dswrong.err"
expect "DS of another key" "$d/dswrong.out" ds example.test. CRITICAL
expect_text "DS of another key" "$d/dswrong.out" ds example.test. \
    "names a key that signs the DNSKEY RRset"

# A roll: both DS at the parent, the second KSK published, not signing.
reparent "$d/ds.both"
scenario roll 3600 604800 $((30 * 86400)) "$d/other.dnskey"
lab_ns drill -D @127.0.0.2 DNSKEY example.test > "$d/roll.dnskey" 2>&1
[ "$(grep -v "^;" "$d/roll.dnskey" | awk '$4 == "DNSKEY"' | wc -l)" -eq 3 ] ||
    fail "roll: example.test does not serve 3 DNSKEYs" "$d/roll.dnskey"
expect "KSK roll in progress" "$d/roll.out" ds example.test. OK
expect "KSK roll in progress" "$d/roll.out" rrsig 127.0.0.2 OK

# The daemon: G9 in status.json and metrics.prom after its first
# nameserver pass (G8's), the seconds left as drill dates the RRSIG, and
# still there after a second sweep (SIGUSR2).
mkdir -p "$d/state"
chown nobody "$d/state"
lab_dg_start nobody:nogroup "$d/dg.conf" "$d/dg.sock" "$d/dg.log" \
    "$d/state/metrics.prom"
m=$d/state/metrics.prom
# G9 runs in the nameserver pass, right after the first sweep: wait for
# its rows (metrics.prom is replaced whole).
tries=300
until grep -q '^daneguard_rrsig_expiry_seconds{check="G9",host="'$host'",addr="127.0.0.2"' "$m"; do
	tries=$((tries - 1))
	[ $tries -le 0 ] && { cat "$m"; lab_fail "no G9 rows in metrics.prom"; }
	sleep 0.1
done
exp=$(drill_expiry 127.0.0.2)
exp_epoch=$(date -u -d "$(as_utc "$exp" | sed 's/ UTC$//')" +%s)
sweep=$(awk '$1 == "daneguard_sweep_timestamp_seconds" { print $2 }' "$m")
left=$(grep '^daneguard_rrsig_expiry_seconds{check="G9",host="'$host'",addr="127.0.0.2",alg="rrsig"' "$m" |
    awk '{ print $2 }')
if [ -n "$left" ] && [ -n "$sweep" ] &&
    [ $((exp_epoch - sweep - left)) -ge 0 ] &&
    [ $((exp_epoch - sweep - left)) -le 300 ]; then
	pass "daemon: daneguard_rrsig_expiry_seconds $left, drill's expiry $exp"
else
	fail "daemon: daneguard_rrsig_expiry_seconds '$left' vs drill's $exp (sweep $sweep)" "$m"
fi
grep -q '"check": "G9", "host": "'$host'", "addr": "example.test.", "alg": "ds", "state": "OK"' \
    "$d/state/status.json" && pass "daemon: G9 ds OK in status.json" ||
    fail "daemon: no G9 ds OK in status.json" "$d/state/status.json"
# A second sweep must start in a later second than the first, so that
# its timestamp tells the two apart.
while [ "$(date +%s)" -le "$sweep" ]; do sleep 0.1; done
kill -USR2 "$dg_pid"
tries=300
while [ "$(awk '$1 == "daneguard_sweep_timestamp_seconds" { print $2 }' "$m" 2>/dev/null)" = "$sweep" ]; do
	tries=$((tries - 1))
	[ $tries -le 0 ] && lab_fail "no second sweep after SIGUSR2"
	sleep 0.1
done
# metrics.prom is replaced atomically: the new one is whole.
grep -q '^daneguard_rrsig_expiry_seconds{check="G9",host="'$host'",addr="127.0.0.4"' "$m" &&
    pass "daemon: G9 kept in the second sweep" ||
    fail "daemon: G9 missing after the second sweep" "$m"

echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
