#!/bin/sh
# tests/lab/dns-lab.sh - lib/dns.c (through tests/lab/dns-tool) against a
# DNSSEC-signed zone served by NSD on loopback.
#
# In a network namespace of its own, example.test is signed at test time
# (ECDSA P-256, ldns-signzone) and served by NSD on 127.0.0.1 and ::1,
# together with unsigned.example.test, delegated without DS. A second NSD
# on 127.0.0.2 serves a tampered copy (one hex digit of a TLSA record
# changed after signing). libunbound gets an unbound.conf-style file with
# a stub for example.test and the KSK's DS as its only trust anchor. The
# lookups must say:
#   - TLSA of _25._tcp.mx1: secure, the records tlsagen makes for the test
#     chains; A and AAAA of mx1: secure, the zone's addresses;
#   - a missing name: nxdomain; a missing type: nodata;
#   - the tampered server: bogus, with a reason, and no records;
#   - the unsigned child: insecure (records, but not secure);
#   - NSD stopped: servfail or timeout within the deadline, never insecure.
#
# Environment: TLSAGEN, CERTDIR (tests/data/README.md), top_srcdir,
# top_builddir.  Needs root and the Debian packages nsd, ldnsutils,
# iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_init
DNS_TOOL=$top_builddir/tests/lab/dns-tool
[ -x "$DNS_TOOL" ] || lab_fail "$DNS_TOOL is not built (make check builds it)"
lab_require_make_env
lab_require_root
lab_require nsd:nsd ldns-keygen:ldnsutils ldns-signzone:ldnsutils \
    drill:ldnsutils

fails=0
checks=0
d=$LAB_TMP

# ------------------------------------------------------------ zones

# rdata FILE - the leaf's 3 1 1 record by the openssl command line (never
# by tlsagen, which shares lib/tlsa.c with the code under test)
rdata()
{
	lab_oracle_311 "$CERTDIR/$1"
}
rsa_rec=$(rdata rsa-chain.pem) || exit 1
ecdsa_rec=$(rdata ecdsa-chain.pem) || exit 1
printf '%s\n%s\n' "$rsa_rec" "$ecdsa_rec" | sort > "$d/expect.tlsa"

cat > "$d/example.test" <<EOF
\$ORIGIN example.test.
\$TTL 3600
@	IN SOA ns1 hostmaster 1 3600 900 604800 300
	IN NS ns1
ns1	IN A 127.0.0.1
	IN AAAA ::1
mx1	IN A 192.0.2.25
	IN AAAA 2001:db8::25
_25._tcp.mx1 IN TLSA $rsa_rec
_25._tcp.mx1 IN TLSA $ecdsa_rec
unsigned IN NS ns1
EOF
cat > "$d/unsigned.example.test" <<EOF
\$ORIGIN unsigned.example.test.
\$TTL 600
@	IN SOA ns1.example.test. hostmaster 1 3600 900 604800 300
	IN NS ns1.example.test.
mx	IN A 192.0.2.26
_25._tcp.mx IN TLSA $rsa_rec
EOF

lab_dns_sign example.test "$d/example.test" "$d/example.test.signed"
# Tamper: flip one hex digit in the signed data of the RSA record.
lab_dns_tamper "$d/example.test.signed" "$d/example.test.tampered" \
    "$(echo "$rsa_rec" | cut -c7-16)"

lab_netns_create
zones="example.test=$d/example.test.signed"
zones="$zones unsigned.example.test=$d/unsigned.example.test"
lab_nsd_start good "$zones" 127.0.0.1 ::1
lab_nsd_start bad "example.test=$d/example.test.tampered" 127.0.0.2

anchor=$LAB_TMP/keys/example.test/anchor.ds
lab_ubconf "$anchor" example.test 127.0.0.1 ::1 > "$d/good.conf"
lab_ubconf "$anchor" example.test 127.0.0.2 > "$d/bad.conf"

# ------------------------------------------------------------ checks

# look CONF NAME TYPE [TIMEOUT-MS] - dns-tool's output in $d/out
look()
{
	lab_ns "$DNS_TOOL" --config "$d/$1.conf" --timeout "${4:-5000}" \
	    "$2" "$3" > "$d/out" 2>"$d/err" ||
	    { cat "$d/err" >&2; lab_fail "dns-tool $*: exit $?"; }
	# A sanitizer build reports on stderr (UBSan without failing).
	! grep -q 'runtime error\|Sanitizer' "$d/err" ||
	    { cat "$d/err" >&2; lab_fail "dns-tool $*: sanitizer report"; }
}

# expect WHAT GREP-PATTERN - the last lookup's output matches
expect()
{
	checks=$((checks + 1))
	if grep -q -- "$2" "$d/out"; then
		lab_log "ok: $1"
	else
		lab_log "FAIL: $1 (want /$2/):"
		sed 's/^/    /' "$d/out" >&2
		fails=$((fails + 1))
	fi
}
expect_not()
{
	checks=$((checks + 1))
	if grep -q -- "$2" "$d/out"; then
		lab_log "FAIL: $1 (must not match /$2/):"
		sed 's/^/    /' "$d/out" >&2
		fails=$((fails + 1))
	else
		lab_log "ok: $1"
	fi
}

look good _25._tcp.mx1.example.test TLSA
expect "TLSA secure" '^status=secure ttl=3600 '
sed -n 's/^tlsa=//p' "$d/out" | sort > "$d/got.tlsa"
checks=$((checks + 1))
if cmp -s "$d/expect.tlsa" "$d/got.tlsa"; then
	lab_log "ok: TLSA records equal tlsagen's"
else
	lab_log "FAIL: TLSA records differ from tlsagen's:"
	diff "$d/expect.tlsa" "$d/got.tlsa" >&2
	fails=$((fails + 1))
fi
expect "TLSA owner and ttl" '^tlsa_rr=_25\._tcp\.mx1\.example\.test\. 3600 IN TLSA 3 1 1 '

look good mx1.example.test A
expect "A secure" '^status=secure '
expect "A address" '^addr=192\.0\.2\.25$'
look good mx1.example.test AAAA
expect "AAAA secure" '^status=secure '
expect "AAAA address" '^addr=2001:db8::25$'

look good nothing.example.test A
expect "NXDOMAIN" '^status=nxdomain '
look good _25._tcp.mx1.example.test A
expect "NODATA" '^status=nodata '

look bad _25._tcp.mx1.example.test TLSA
expect "tampered: bogus" '^status=bogus '
expect "tampered: a reason" '^why=..*'
lab_log "bogus because: $(sed -n 's/^why=//p' "$d/out")"
expect_not "tampered: no records" '^tlsa='

look good _25._tcp.mx.unsigned.example.test TLSA
expect "unsigned child: insecure" '^status=insecure '
expect "unsigned child: the record" "^tlsa=$rsa_rec\$"
look good nothing.unsigned.example.test A
expect "unsigned child, missing name: insecure" '^status=insecure .*'
expect "unsigned child, missing name: nxdomain flag" 'nxdomain=1'

# A dead nameserver: a tempfail within the deadline, never "insecure".
lab_nsd_stop good
good_pid=$LAB_NSD_PID_good
lab_ns drill -Q @127.0.0.1 SOA example.test >/dev/null 2>&1 &&
    lab_fail "NSD (PID $good_pid) still answers after it was stopped"
look good _25._tcp.mx1.example.test TLSA 2000
expect "NSD stopped: servfail or timeout" '^status=\(servfail\|timeout\) '
expect_not "NSD stopped: no records" '^tlsa='
# The deadline is 2 s; no speed is asserted (bench/ measures speed), only
# that the lookup ended long before libunbound's own retries would give
# up on a dead server (17 s to 2 min): a deadline that is not applied.
elapsed=$(sed -n 's/.*elapsed_ms=\([0-9]*\).*/\1/p' "$d/out")
checks=$((checks + 1))
if [ -n "$elapsed" ] && [ "$elapsed" -lt 15000 ]; then
	lab_log "ok: dead server answered in $elapsed ms (deadline 2000)"
else
	lab_log "FAIL: dead server took ${elapsed:-?} ms: the 2000 ms deadline is not applied"
	fails=$((fails + 1))
fi

lab_log "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
