#!/bin/sh
# tests/lab/tlsrpt-dns.sh - G10's check of the _smtp._tls TXT records
# (RFC 8460 section 3) of the domains a host lists in tlsrpt_domains,
# looked up through the guard's validating resolver (libunbound) from a
# zone signed at test time and served by NSD:
#
#   good      one well-formed record, DNSSEC-signed: OK, the rua shown
#   split     a record in two character-strings (joined), https rua: OK
#   none      no record at all (NXDOMAIN): OK with a note
#   spf       TXT records, none of them TLSRPT: OK with a note
#   bad       "rua=" without a URI scheme: WARNING, saying why
#   two       two TLSRPT records (senders need exactly one): WARNING
#   unsigned  a good record in an unsigned child zone: OK with a note
#   tampered  the signed zone with the TXT record's signature broken:
#             WARNING (bogus)
#
# Environment: CERTDIR, top_srcdir, top_builddir (make check). Needs root
# and the Debian packages nsd, ldnsutils, iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_dns_init
[ -r "$CERTDIR/rsa-chain.pem" ] ||
    lab_fail "$CERTDIR/rsa-chain.pem missing (tests/data/gen-certs.sh)"

d=$LAB_TMP
host=mx1.example.test

# ------------------------------------------------------------ zones

cat > "$d/example.zone" <<EOF
$(lab_zone 1)
_smtp._tls.good	IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"
_smtp._tls.split IN TXT "v=TLSRPTv1;" " rua=https://reports.example.test/v1/tlsrpt"
_smtp._tls.spf	IN TXT "v=spf1 -all"
_smtp._tls.bad	IN TXT "v=TLSRPTv1; rua=tlsrpt@example.test"
_smtp._tls.two	IN TXT "v=TLSRPTv1; rua=mailto:a@example.test"
_smtp._tls.two	IN TXT "v=TLSRPTv1; rua=mailto:b@example.test"
_smtp._tls.tampered IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"
unsigned	IN NS ns1
EOF
cat > "$d/unsigned.zone" <<'EOF'
$ORIGIN unsigned.example.test.
$TTL 600
@	IN SOA ns1.example.test. hostmaster 1 3600 900 604800 300
	IN NS ns1.example.test.
_smtp._tls	IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@unsigned.example.test"
EOF
lab_dns_sign example.test "$d/example.zone" "$d/example.signed"
anchor=$LAB_TMP/keys/example.test/anchor.ds
# Break the signature of _smtp._tls.tampered's TXT: change its record
# after signing (the RRSIG stays as it was).
awk '$1 == "_smtp._tls.tampered.example.test." && $4 == "TXT" {
	sub(/mailto:tlsrpt@/, "mailto:attacker@"); done = 1 }
    { print } END { if (!done) exit 1 }' "$d/example.signed" \
    > "$d/example.served" ||
    lab_fail "no TXT record of _smtp._tls.tampered in the signed zone"

lab_netns_create
lab_ubconf "$anchor" example.test 127.0.0.2 > "$d/ub.conf"
lab_nsd_start ns \
    "example.test=$d/example.served unsigned.example.test=$d/unsigned.zone" \
    127.0.0.2

# ------------------------------------------------------------ the guard

mkdir -p "$d/state" || lab_fail "mkdir state"
cat > "$d/dg.conf" <<EOF
state_dir      = "$d/state"
probe_timeout  = 5
$(lab_dg_dns "$anchor" "$d/ub.conf")
host "$host" {
  probe = { "127.0.0.1" }
  tlsrpt_domains = { "good.example.test", "split.example.test",
                     "none.example.test", "spf.example.test",
                     "bad.example.test", "two.example.test",
                     "unsigned.example.test", "tampered.example.test" }
  cert "rsa" { chain = "$CERTDIR/rsa-chain.pem" }
}
EOF
lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"

# row DOMAIN - the --check table's G10 row for _smtp._tls.DOMAIN.
row()
{
	awk -v a="_smtp._tls.$1" '$1 == "G10" && $3 == a' "$d/check.out"
}

# expect DOMAIN STATE TEXT WHAT - that row has STATE and TEXT.
expect()
{
	st=$(lab_dg_state "$d/check.out" G10 "$host" "_smtp._tls.$1" -)
	[ "$st" = "$2" ] && row "$1" | grep -qF -- "$3"
	lab_result "$4" $? || { echo "      | state $st, wanted $2"
	    sed 's/^/      | /' "$d/check.out" "$d/check.err"; }
}

expect good.example.test OK \
    "published (DNSSEC-signed), reports to mailto:tlsrpt@example.test" \
    "a signed, well-formed record: OK with its rua"
expect split.example.test OK \
    "reports to https://reports.example.test/v1/tlsrpt" \
    "a record in two strings, joined: OK"
expect none.example.test OK "note: no TLS-RPT record at _smtp._tls.none.example.test" \
    "no record: OK with a note saying what to publish"
expect spf.example.test OK "note: no TLS-RPT record" \
    "TXT records, none of them TLSRPT: a note"
expect bad.example.test WARNING 'rua "tlsrpt@example.test" is not a URI' \
    "rua without a URI scheme: WARNING saying why"
expect two.example.test WARNING "2 records beginning with" \
    "two TLSRPT records: WARNING"
expect unsigned.example.test OK "is not DNSSEC-signed" \
    "a record in an unsigned zone: a note"
expect tampered.example.test WARNING "is bogus" \
    "a record whose signature does not verify: WARNING (bogus)"
lab_finish
