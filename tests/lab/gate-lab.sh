#!/bin/sh
# tests/lab/gate-lab.sh - tlsagen --check --dns, the pre-deploy gate,
# against two real nameservers that serve different versions of a zone.
#
# In a network namespace of its own, example.test (NS ns1 A 127.0.0.1,
# ns2 AAAA ::1) is signed at test time; one NSD per address, so the two
# can lag behind each other. Version 1 publishes the RSA chain's record,
# version 2 adds the ECDSA chain's (the "new key"). libunbound gets a
# config with a stub for example.test at both addresses and the zone's
# KSK as trust anchor - the gate must still ask each address alone.
#   (a) ns1 serves v2, ns2 v1: exit 1 naming ns2 ::1 and ecdsa; once ns2
#       reloads v2 (SIGHUP): exit 0 (--min-age 0); ns2's line notes
#       that its SOA serial 1 is behind the highest, 2 (G8's rule);
#   (b) --min-age: a just-seen record is too young (default 2 x TTL, and
#       an explicit --min-age); made old enough by editing the first-seen
#       times in the state file (no sleeping): exit 0; garbage lines in
#       the state file are ignored with a warning naming file:line;
#   (d) both serve v4, whose SOA REFRESH (1 d) is longer than the TLSA
#       TTL (1 h): exit 0 with a warning naming the zone (G9's TTL rule);
#   (c) ns2 serves a tampered v3: bogus, exit 1, and a note that its
#       serial lags ns1's; ns2 serves v4 without its ZSK (TLSA answers
#       byte for byte ns1's): bogus; ns2 stopped: unreachable,
#       exit 1; both stopped: exit 2; bad arguments: exit 2 with a
#       one-line message.
# Every per-server line of (a) is cross-checked with dig +norec @address
# (an independent client): records present or missing, and the serial.
#
# Environment: TLSAGEN, CERTDIR, top_srcdir. Needs root and the Debian
# packages nsd, ldnsutils, bind9-dnsutils, iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_init
lab_require_make_env
lab_require_root
lab_require nsd:nsd ldns-keygen:ldnsutils ldns-signzone:ldnsutils \
    drill:ldnsutils dig:bind9-dnsutils

d=$LAB_TMP
fails=0
checks=0
HOST=mx.example.test
OWNER=_25._tcp.$HOST

check()
{
	checks=$((checks + 1))
	if [ "$2" = ok ]; then
		lab_log "ok: $1"
	else
		lab_log "FAIL: $1: $2"
		fails=$((fails + 1))
	fi
}

# gate ARGS... - run the gate over both chains; output in $d/out,
# standard error in $d/err, exit status in $rc.
gate()
{
	lab_ns "$TLSAGEN" --check --dns --resolver-config "$d/ub.conf" \
	    --timeout 2 -H $HOST "$@" "$CERTDIR/rsa-chain.pem" \
	    "$CERTDIR/ecdsa-chain.pem" >"$d/out" 2>"$d/err"
	rc=$?
	sed 's/^/    | /' "$d/out" "$d/err" >&2
}

# expect_rc WHAT STATUS
expect_rc()
{
	if [ "$rc" -eq "$2" ]; then check "$1: exit $2" ok
	else check "$1: exit $2" "exit $rc"; fi
}

# expect_line WHAT ERE - a line of the output matches ERE.
expect_line()
{
	if grep -Eq "$2" "$d/out"; then check "$1" ok
	else check "$1" "no line matching '$2'"; fi
}

# rdata FILE - the leaf's 3 1 1 record by the openssl command line (never
# by tlsagen, which shares lib/tlsa.c with the code under test)
rdata()
{
	lab_oracle_311 "$CERTDIR/$1"
}
rsa_rec=$(rdata rsa-chain.pem) || exit 1
ecdsa_rec=$(rdata ecdsa-chain.pem) || exit 1
rsa_hex=$(echo "$rsa_rec" | cut -d' ' -f4)
ecdsa_hex=$(echo "$ecdsa_rec" | cut -d' ' -f4)

lab_twons_zone 1 192.0.2.25 "$rsa_rec" > "$d/v1"
lab_twons_zone 2 192.0.2.25 "$rsa_rec" "$ecdsa_rec" > "$d/v2"
lab_twons_zone 3 192.0.2.25 "$rsa_rec" "$ecdsa_rec" > "$d/v3"
lab_twons_zone 4 192.0.2.25 "$rsa_rec" "$ecdsa_rec" |
    sed 's/^\(@.*SOA ns1 hostmaster 4\) 3600 /\1 86400 /' > "$d/v4"
grep -q "hostmaster 4 86400 " "$d/v4" || lab_fail "v4: SOA REFRESH not set"
for v in v1 v2 v3 v4; do lab_dns_sign example.test "$d/$v" "$d/$v.signed"; done
lab_dns_tamper "$d/v3.signed" "$d/v3.tampered" "$(echo "$ecdsa_hex" |
    cut -c1-12)"
anchor=$LAB_TMP/keys/example.test/anchor.ds

lab_twons_start "$d/v2.signed" "$d/v1.signed" "$anchor"

# crosscheck ADDR - the gate's line for ADDR against dig +norec @ADDR:
# "present" exactly when dig sees both records, "missing: ecdsa" exactly
# when it sees the RSA record only; the SOA serial the same.
crosscheck()
{
	dig_tlsa=$(lab_ns dig +norec +short @"$1" $OWNER TLSA |
	    tr -d ' ' | tr A-F a-f)
	dig_serial=$(lab_ns dig +norec +short @"$1" example.test SOA |
	    awk '{print $3}')
	line=$(grep -E "^$HOST\. ns[12]\.example\.test\. $1 " "$d/out")
	has_rsa=no has_ec=no
	case "$dig_tlsa" in *"311$rsa_hex"*) has_rsa=yes ;; esac
	case "$dig_tlsa" in *"311$ecdsa_hex"*) has_ec=yes ;; esac
	case "$has_rsa $has_ec $line" in
	"yes yes "*" present"|"yes no "*" missing: ecdsa current "*)
		check "$1: gate agrees with dig +norec (rsa $has_rsa, ecdsa $has_ec)" ok ;;
	*)	check "$1: gate agrees with dig +norec" \
		    "dig: rsa $has_rsa ecdsa $has_ec; gate: $line" ;;
	esac
	case "$line" in
	*" serial $dig_serial "*)
		check "$1: serial $dig_serial as dig says" ok ;;
	*)	check "$1: serial as dig says" "dig $dig_serial; gate: $line" ;;
	esac
}

# ------------------------------------------------------------ (a)
lab_log "(a) ns1 serves v2, ns2 still v1"
gate --min-age 0
expect_rc "ns2 lags" 1
expect_line "ns1 127.0.0.1 present, serial 2" \
    "^$HOST\. ns1\.example\.test\. 127\.0\.0\.1 serial 2 present$"
expect_line "ns2 ::1 missing the ecdsa record, serial 1" \
    "^$HOST\. ns2\.example\.test\. ::1 serial 1 missing: ecdsa current .*ecdsa-chain\.pem(: .*)?; note: "
expect_line "ns2: its serial lags the highest, with the SOA refresh" \
    "::1 serial 1 .*; note: SOA serial 1 behind the highest 2 \(.*SOA refresh, 1h, .*\)$"
expect_line "verdict names the lagging server" \
    "^verdict: FAIL: 1 of 2 .*ns2\.example\.test\. ::1 \(missing\)"
crosscheck 127.0.0.1
crosscheck ::1

cp "$d/v2.signed" "$d/ns2.zone"
lab_nsd_reload ns2 example.test ::1
gate --min-age 0
expect_rc "ns2 reloaded v2" 0
expect_line "ns2 ::1 present, serial 2" \
    "^$HOST\. ns2\.example\.test\. ::1 serial 2 present$"
expect_line "verdict PASS" "^verdict: PASS: all 2 nameserver addresses"
crosscheck 127.0.0.1
crosscheck ::1

# ------------------------------------------------------------ (b)
lab_log "(b) --min-age through the state file"
state=$d/firstseen
gate --state "$state"
expect_rc "just seen: too young (2 x TTL)" 1
expect_line "ns1: too young, counts in 2h" \
    "^$HOST\. ns1\.example\.test\. 127\.0\.0\.1 serial 2 too young: rsa current counts in 2h, ecdsa current counts in 2h \(min-age 2h, 2 x TTL\)$"
expect_line "verdict names both servers" \
    "^verdict: FAIL: 2 of 2 .*127\.0\.0\.1 \(too young\).*::1 \(too young\)"
n=$(grep -c "^127.0.0.1 $OWNER\. 3 1 1 \|^::1 $OWNER\. 3 1 1 " "$state")
if [ "$n" -eq 4 ]; then check "state: 2 records x 2 servers" ok
else check "state: 2 records x 2 servers" "$n lines"; fi

# The clock, through the state file: the ecdsa record on ::1 first seen
# an hour ago, everything else three hours ago.
now=$(date +%s)
awk -v old=$((now - 10800)) -v mid=$((now - 3600)) -v ec="$ecdsa_hex" '
	/^#/ { print; next }
	{ $7 = ($1 == "::1" && $6 == ec) ? mid : old; print }' \
	"$state" > "$state.new" && mv "$state.new" "$state"
echo "this line is garbage" >> "$state"
gate --state "$state"
expect_rc "one record 1h old, min-age 2h" 1
expect_line "ns1 present" \
    "^$HOST\. ns1\.example\.test\. 127\.0\.0\.1 serial 2 present$"
expect_line "ns2: ecdsa too young, counts in about 1h" \
    "^$HOST\. ns2\.example\.test\. ::1 serial 2 too young: ecdsa current counts in (1h|59m[0-9]*s?) \(min-age 2h, 2 x TTL\)$"
if grep -q "firstseen:[0-9]*: ignored: " "$d/err"; then
	check "garbage state line: warning naming file:line" ok
else
	check "garbage state line: warning naming file:line" "none"
fi
if grep -q garbage "$state"; then
	check "garbage line gone after the rewrite" "still there"
else
	check "garbage line gone after the rewrite" ok
fi
gate --state "$state" --min-age 30m
expect_rc "--min-age 30m: every record old enough" 0
gate --state "$state" --min-age 90m
expect_rc "--min-age 90m: the 1h-old record is not" 1
expect_line "too young with the explicit min-age" \
    "::1 serial 2 too young: ecdsa current counts in (30m|29m[0-9]*s?) \(min-age 1h30m\)$"

# ------------------------------------------------------------ (d)
lab_log "(d) SOA REFRESH longer than the TLSA TTL"
cp "$d/v4.signed" "$d/ns1.zone"
lab_nsd_reload ns1 example.test 127.0.0.1
cp "$d/v4.signed" "$d/ns2.zone"
lab_nsd_reload ns2 example.test ::1
gate --min-age 0
expect_rc "refresh advice is a warning only" 0
expect_line "ns1 present, serial 4, no note" \
    "^$HOST\. ns1\.example\.test\. 127\.0\.0\.1 serial 4 present$"
expect_line "ns2 present, serial 4, no note" \
    "^$HOST\. ns2\.example\.test\. ::1 serial 4 present$"
if grep -q "^tlsagen: warning: $OWNER\. (zone example\.test\.): SOA REFRESH 86400 is longer than the TLSA TTL 3600" "$d/err"
then
	check "warning: SOA REFRESH longer than the TLSA TTL" ok
else
	check "warning: SOA REFRESH longer than the TLSA TTL" "$(cat "$d/err")"
fi

# ------------------------------------------------------------ (c)
lab_log "(c) tampered, dead, all dead, errors"
cp "$d/v3.tampered" "$d/ns2.zone"
lab_nsd_reload ns2 example.test ::1
gate --min-age 0
expect_rc "tampered ns2" 1
expect_line "ns2 bogus, with the reason" \
    "^$HOST\. ns2\.example\.test\. ::1 serial 3 bogus: .+"
expect_line "ns2 behind ns1: a note" \
    "::1 serial 3 bogus: .*; note: SOA serial 3 behind the highest 4 \(.*SOA refresh, 1d, .*\)$"
expect_line "ns1 still present" \
    "^$HOST\. ns1\.example\.test\. 127\.0\.0\.1 serial 4 present$"
if lab_ns dig +norec +dnssec @::1 $OWNER TLSA | grep -q "status: NOERROR"
then
	check "dig: the tampered server answers NOERROR (only validation tells)" ok
else
	check "dig: the tampered server answers" "no NOERROR"
fi

# ns2 serves the same TLSA records and signatures as ns1, but a DNSKEY
# RRset without the zone's signing key: its answers are the same bytes
# as ns1's, yet no sender can validate them there (the gate validates
# only the answers that differ from its reference address's, and the
# DNSKEY RRset must be the same too).
awk '!($4 == "DNSKEY" && $5 == 256)' "$d/v4.signed" > "$d/v4.nozsk"
cmp -s "$d/v4.signed" "$d/v4.nozsk" && lab_fail "v4.nozsk: no ZSK removed"
cp "$d/v4.nozsk" "$d/ns2.zone"
lab_nsd_reload ns2 example.test ::1
gate --min-age 0
expect_rc "ns2 without the ZSK" 1
expect_line "ns2: the same TLSA answer as ns1, bogus there" \
    "^$HOST\. ns2\.example\.test\. ::1 serial - bogus: .+"
expect_line "ns1 present" \
    "^$HOST\. ns1\.example\.test\. 127\.0\.0\.1 serial 4 present$"
a1=$(lab_ns dig +norec +dnssec @127.0.0.1 $OWNER TLSA | grep -E "IN[[:space:]]+(TLSA|RRSIG)" | sort)
a2=$(lab_ns dig +norec +dnssec @::1 $OWNER TLSA | grep -E "IN[[:space:]]+(TLSA|RRSIG)" | sort)
if [ -n "$a1" ] && [ "$a1" = "$a2" ]; then
	check "dig: ns1 and ns2 serve the same TLSA records and RRSIGs" ok
else
	check "dig: ns1 and ns2 serve the same TLSA records and RRSIGs" "differ"
fi

# The resolver finds the zone through ns1 (a stub at ns2 alone would
# make libunbound spend the deadline on the dead address first); the
# gate still asks ns2 itself.
lab_nsd_stop ns2
lab_ubconf "$anchor" example.test 127.0.0.1 > "$d/ub.conf"
gate --min-age 0 --timeout 1
expect_rc "ns2 dead, ns1 answers" 1
expect_line "ns2 unreachable" \
    "^$HOST\. ns2\.example\.test\. ::1 serial - unreachable: "
expect_line "verdict names it" "^verdict: FAIL: .*::1 \(unreachable\)"

# With both dead not even the zone can be found: exit 2 either way.
lab_nsd_stop ns1
gate --min-age 0 --timeout 1
expect_rc "all dead" 2
if grep -q "$HOST" "$d/err"; then
	check "all dead: message names the host" ok
else
	check "all dead: message names the host" "$(cat "$d/err")"
fi
expect_line "verdict ERROR" "^verdict: ERROR: "

# Errors: one line naming the option or file, exit 2.
bad()
{
	what=$1
	shift
	lab_ns "$TLSAGEN" "$@" >"$d/out" 2>"$d/err"
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l < "$d/err")" -eq 1 ] &&
	    grep -q -- "$what" "$d/err"; then
		check "bad arguments: $what" ok
	else
		check "bad arguments: $what" "exit $rc: $(cat "$d/err")"
	fi
}
c=$CERTDIR/rsa-chain.pem
bad "--min-age" --check --dns --min-age 5y -H $HOST "$c"
bad "--min-age" --check --dns --min-age -1 -H $HOST "$c"
bad "--timeout" --check --dns --timeout 0 -H $HOST "$c"
bad "--dns is only used with --check" --dns -H $HOST "$c"
bad "not both" --check --dns --zone "$d/v1" -H $HOST "$c"
bad "--state is only used" --state "$d/s" -H $HOST "$c"
bad "$d/nonexistent.conf: cannot read" --check --dns --resolver-config \
    "$d/nonexistent.conf" -H $HOST "$c"
# A trust anchor libunbound cannot parse: said before any lookup.
echo "not a trust anchor" > "$d/junk.anchor"
printf 'dns {\n  trust_anchor_file = "%s"\n  resolver_config = "%s"\n}\nhost "%s" {\n  cert "rsa" { chain = "%s" }\n}\n' \
    "$d/junk.anchor" "$d/ub.conf" "$HOST" "$c" > "$d/junk.conf"
bad "cannot start the resolver: .*check trust anchor $d/junk.anchor" \
    --check --dns -c "$d/junk.conf"
mkdir -p "$d/statedir"
bad "$d/statedir" --check --dns --resolver-config "$d/ub.conf" \
    --state "$d/statedir" -H $HOST "$c"

lab_log "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
