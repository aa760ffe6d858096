#!/bin/sh
# tests/lab/verdict-lab.sh - the guard's verdict against Postfix's own DANE
# client (posttls-finger through a validating resolver) for the records
# senders cannot use and for digest agility, both directions each; and
# files on disk that are wrong (a key that does not match its
# certificate, a chain file that does not load) reported without
# stopping the daemon or the other algorithms' checks.
#
# In a network namespace of its own: a private Postfix serves an RSA and
# an ECDSA chain on 127.0.0.1:25, the address of mx1.example.test in a
# zone signed at test time and served by NSD on 127.0.0.2; the guard's
# libunbound and a validating unbound daemon (for posttls-finger) use it
# with the zone's DS as trust anchor. For each published set:
#   usage 1 records and a 3 1 7 only    G3 WARNING "none usable ... senders
#                                       deliver without authentication";
#                                       posttls-finger: TLS, not verified
#   the same plus usable 3 1 1 records  G3 OK; posttls-finger: verified
#   3 1 1 for the keys, 3 1 2 for       G3 CRITICAL "ignored by senders";
#   another key                         posttls-finger: no match
#   3 1 1 for another key, 3 1 2 for    G3 OK; posttls-finger: verified
#   the keys
# and, for the files: key that does not match -> G4 CRITICAL naming both
# files, the daemon runs on; a chain file that does not load -> that
# algorithm's G4 UNKNOWN with its error, the other algorithm OK. On
# 127.0.0.3 Postfix also serves an Ed25519 and an Ed448 chain no cert
# section describes (G5 WARNING for each, the second found by the probe
# after the one that offers both; G3 as openssl s_client forcing Ed25519
# sees it, with and without its record); on 127.0.0.4 it serves no ECDSA chain
# while the configuration has one ("serves no ECDSA chain"); on 127.0.0.5
# it serves an expired leaf: G11 WARNING under 3 x x, CRITICAL under
# 2 x x, as s_client sees it; on 127.0.0.6 and .7 a valid leaf under an
# expired CA: G3 and G11 under 3 x x, 2 x x with that CA as the trust
# anchor, and 2 x x with the root above it, as s_client sees them.
# Section 7 (current+issuer), posttls-finger as the reference, the MX
# name mx2.example.test in DNS: on 127.0.0.8 a chain file with a stray
# certificate after the real issuer (tlsagen warns, names it, and emits
# the real issuer's 2 1 1: the guard and the sender say OK); on
# 127.0.0.9 and .10 a chain whose depth-1 certificate did not issue the
# leaf (the root CA; a CA with the intermediate's name but another key):
# tlsagen refuses, and a 2 1 1 record for that certificate, as a tool
# that takes depth 1 publishes it, fails senders and the guard alike.
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make check).
# Needs root and the Debian packages postfix, nsd, ldnsutils, unbound,
# iproute2, util-linux.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_init
lab_require_guard
lab_require postfix:postfix posttls-finger:postfix nsd:nsd unbound:unbound \
    ldns-keygen:ldnsutils ldns-signzone:ldnsutils drill:ldnsutils \
    unshare:util-linux timeout:coreutils

d=$LAB_TMP
host=mx1.example.test
fails=0
checks=0
disk=$d/disk
mkdir -p "$disk" "$d/state" || lab_fail "mkdir"
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-next.key \
    ecdsa-next.key rsa-other.key garbage.pem ed25519.key ed25519-chain.pem \
    ed448.key ed448.pem int.pem \
    expired.key expired.pem ecdsa-expint.key ecdsa-expint-chain.pem \
    ecdsa-expint-full.pem rsa-stray.pem rsa-notissuer.pem rsa-fakeint.pem; do
	cp "$CERTDIR/$f" "$disk/$f" || lab_fail "cp $CERTDIR/$f"
done
cat "$disk/expired.pem" "$CERTDIR/int.pem" > "$disk/expired-chain.pem" ||
    lab_fail "expired chain"
anchor=$LAB_TMP/keys/example.test/anchor.ds

# conf FILE RSAKEY ECDSACHAIN - a guard configuration, records from DNS.
conf()
{
	cat > "$1" <<EOF
state_dir      = "$d/state"
probe_interval = 300
probe_timeout  = 5
dns {
  trust_anchor_file = "$anchor"
  resolver_config   = "$d/ub.conf"
}
host "$host" {
  port     = 25
  ttl      = 3600
  rollover = "current+next"
  cert "rsa"   { chain = "$disk/rsa-chain.pem"   key = "$disk/$2" }
  cert "ecdsa" { chain = "$disk/$3" key = "$disk/ecdsa.key" }
}
EOF
}
conf "$d/dg.conf" rsa.key ecdsa-chain.pem
conf "$d/dg-mismatch.conf" rsa-other.key ecdsa-chain.pem
conf "$d/dg-broken.conf" rsa.key garbage.pem

# rec U S M FILE - the rdata of that type for FILE (tlsagen, 3 x x).
rec()
{
	"$TLSAGEN" -q -f rdata -r "$1 $2 $3" "$CERTDIR/$4" | head -n 1 |
	    cut -d' ' -f4
}
rsa1=$(rec 3 1 1 rsa-chain.pem)
ec1=$(rec 3 1 1 ecdsa-chain.pem)
other1=$(rec 3 1 1 rsa-other-chain.pem)
rsa2=$(rec 3 1 2 rsa-chain.pem)
ec2=$(rec 3 1 2 ecdsa-chain.pem)
other2=$(rec 3 1 2 rsa-other-chain.pem)
for v in "$rsa1" "$ec1" "$other1" "$rsa2" "$ec2" "$other2"; do
	[ -n "$v" ] || lab_fail "tlsagen -f rdata gave no record"
done

# zone NAME SERIAL "RDATA" ... - example.test with these TLSA rdata at
# _25._tcp.mx1, signed into $d/NAME.signed.
zone()
{
	n=$1 s=$2
	shift 2
	{
		cat <<EOF
\$ORIGIN example.test.
\$TTL 3600
@	IN SOA ns1 hostmaster $s 3600 900 604800 300
	IN NS ns1
ns1	IN A 127.0.0.2
mx1	IN A 127.0.0.1
mx2	IN A ${mx2addr:-127.0.0.8}
EOF
		# "RDATA" at mx1, "NAME: RDATA" at NAME.
		for r in "$@"; do
			case $r in
			*:*)	echo "_25._tcp.${r%%:*} IN TLSA ${r#*: }" ;;
			*)	echo "_25._tcp.mx1 IN TLSA $r" ;;
			esac
		done
	} > "$d/$n.zone"
	lab_dns_sign example.test "$d/$n.zone" "$d/$n.signed"
}
zone healthy 1 "3 1 1 $rsa1" "3 1 1 $ec1"
zone unusable 2 "1 1 1 $rsa1" "1 1 1 $ec1" "3 1 7 $rsa1"
zone unusable-plus 3 "1 1 1 $rsa1" "3 1 7 $rsa1" "3 1 1 $rsa1" "3 1 1 $ec1"
zone agility-hides 4 "3 1 1 $rsa1" "3 1 1 $ec1" "3 1 2 $other2"
zone agility-ok 5 "3 1 1 $other1" "3 1 2 $rsa2" "3 1 2 $ec2"

cp "$d/healthy.signed" "$d/served.zone"
lab_netns_create
lab_ubconf "$anchor" example.test 127.0.0.2 > "$d/ub.conf"
lab_nsd_start ns "example.test=$d/served.zone" 127.0.0.2

serve()
{
	cp "$d/$1.signed" "$d/served.zone" || lab_fail "cp $1"
	lab_nsd_reload ns example.test 127.0.0.2
}

lab_postfix_init pf
lab_postfix_conf pf \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $disk/ecdsa.key $disk/ecdsa-chain.pem $disk/rsa.key $disk/rsa-chain.pem"
lab_postfix_listen pf "127.0.0.1:25"
# mx2: also an Ed25519 and an Ed448 chain, which no cert section
# describes; mx3: only the RSA chain, while the configuration has an
# ECDSA one too.
lab_postfix_listen pf "127.0.0.3:25" \
    "-o smtpd_tls_chain_files=$disk/ecdsa.key,$disk/ecdsa-chain.pem,$disk/rsa.key,$disk/rsa-chain.pem,$disk/ed25519.key,$disk/ed25519-chain.pem,$disk/ed448.key,$disk/ed448.pem,$disk/int.pem"
lab_postfix_listen pf "127.0.0.4:25" \
    "-o smtpd_tls_chain_files=$disk/rsa.key,$disk/rsa-chain.pem"
# mx4: an expired leaf (issued by the intermediate CA).
lab_postfix_listen pf "127.0.0.5:25" \
    "-o smtpd_tls_chain_files=$disk/expired.key,$disk/expired-chain.pem"
# mx5, mx6: a leaf valid now under an expired intermediate CA, without
# and with the root above it.
lab_postfix_listen pf "127.0.0.6:25" \
    "-o smtpd_tls_chain_files=$disk/ecdsa-expint.key,$disk/ecdsa-expint-chain.pem"
lab_postfix_listen pf "127.0.0.7:25" \
    "-o smtpd_tls_chain_files=$disk/ecdsa-expint.key,$disk/ecdsa-expint-full.pem"
# mx2 in DNS (section 7): a stray certificate after the issuer; a
# depth-1 certificate that did not issue the leaf (two kinds).
lab_postfix_listen pf "127.0.0.8:25" \
    "-o smtpd_tls_chain_files=$disk/rsa.key,$disk/rsa-stray.pem"
lab_postfix_listen pf "127.0.0.9:25" \
    "-o smtpd_tls_chain_files=$disk/rsa.key,$disk/rsa-notissuer.pem"
lab_postfix_listen pf "127.0.0.10:25" \
    "-o smtpd_tls_chain_files=$disk/rsa.key,$disk/rsa-fakeint.pem"
lab_postfix_start pf
lab_unbound_start "$anchor" example.test 127.0.0.2

state()
{
	lab_dg_state "$d/check.out" "$@"
}

# has WHAT REGEX - a row of the last --check table matches REGEX.
has()
{
	grep -Eq "$2" "$d/check.out"
	lab_result "$1" $? || sed 's/^/      | /' "$d/check.out" "$d/check.err"
}
hasnt()
{
	! grep -Eq "$2" "$d/check.out"
	lab_result "$1" $? || grep -E "$2" "$d/check.out" | sed 's/^/      | /'
}

# agree WHAT - for rsa and ecdsa on 127.0.0.1: G3 OK exactly when
# posttls-finger verifies the connection; G3 WARNING (no usable record)
# exactly when it establishes TLS without verifying; G3 CRITICAL exactly
# when it finds no matching record.
agree()
{
	for alg in rsa ecdsa; do
		if [ $alg = rsa ]; then
			lab_finger "$d/finger.out" "[$host]:25" -a ipv4 \
			    -p '<=TLSv1.2' -o 'tls_medium_cipherlist=ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384'
		else
			lab_finger "$d/finger.out" "[$host]:25" -a ipv4
		fi
		g3=$(state G3 "$host" 127.0.0.1 $alg)
		[ $alg = rsa ] && sig='(server-signature RSA|ECDHE-RSA-)' ||
		    sig='(server-signature ECDSA|ECDHE-ECDSA-)'
		if grep -Eq "Verified TLS connection established to $host\[127\.0\.0\.1\]:25: .*$sig" "$d/finger.out"; then
			ref=verified
		elif grep -Eq "no matching DANE TLSA records" "$d/finger.out"; then
			ref="no match"
		elif grep -Eq "(Untrusted|Anonymous) TLS connection established to $host\[127\.0\.0\.1\]:25: .*$sig" "$d/finger.out"; then
			ref="TLS, not authenticated"
		else
			ref=other
		fi
		case "$g3/$ref" in
		"OK/verified"|"CRITICAL/no match"|"WARNING/TLS, not authenticated")
			st=0 ;;
		*)	st=1 ;;
		esac
		lab_result "$1: $alg: guard G3 $g3, posttls-finger: $ref" $st ||
		    sed 's/^/      | /' "$d/finger.out" "$d/check.out"
	done
}

# 0. healthy: the reference agrees with the guard at all.
lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"
lab_result "healthy: exit 0" $rc || cat "$d/check.out" "$d/check.err"
agree healthy
has "healthy: G11 shows the days to expiry of the served leaf and the leaf on disk" \
    '^G11 .*127\.0\.0\.1 +rsa +OK +served leaf expires in [0-9]+ days \(.*\); leaf on disk expires in [0-9]+ days'

# 1. every record unusable for SMTP: senders deliver without
# authentication; never "cannot deliver", never "no TLSA records".
serve unusable
lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"
has "unusable: G3 WARNING names the unusable records" \
    '^G3 .* WARNING .*3 records published at _25\._tcp\.mx1\.example\.test\., none usable by DANE SMTP senders: .*usage 1 \(PKIX-EE\)'
has "unusable: G3 names the unknown matching type" \
    '^G3 .* WARNING .*none usable by DANE SMTP senders: .*3 1 7 \('
has "unusable: G3 says senders deliver without authentication" \
    '^G3 .* WARNING .*senders deliver without authentication'
hasnt "unusable: nothing says senders cannot deliver" 'cannot deliver|no TLSA records'
agree "unusable (false alarm direction)"

# 2. unusable records beside usable ones do not matter.
serve unusable-plus
lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"
has "unusable beside usable: G3 OK" '^G3 .* rsa +OK '
agree "unusable beside usable (false OK direction)"

# 3. digest agility: a 3 1 2 record makes senders ignore the 3 1 1 ones.
serve agility-hides
lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"
has "agility: G3 CRITICAL says why" \
    '^G3 .* CRITICAL .*the 3 1 1 record that matches is ignored by senders: the RRset also has 3 1 2 records'
has "agility: G4 names the ignored record, not a retirement" \
    '^G4 .* records .* WARNING .*ignored by senders'
agree "agility hides the match (false OK direction)"
"$TLSAGEN" --check --zone "$d/agility-hides.zone" -c "$d/dg.conf" \
    > "$d/tlsagen.out" 2>&1
grep -q "^_25._tcp.mx1.example.test. 3600 IN TLSA 3 1 2 $rsa2\$" \
    "$d/tlsagen.out" && ! grep -q "IN TLSA 3 1 1 " "$d/tlsagen.out"
lab_result "agility: tlsagen --check proposes the 3 1 2 record, no 3 1 1" $? ||
    sed 's/^/      | /' "$d/tlsagen.out"

serve agility-ok
lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"
has "agility: a stronger digest that matches: G3 OK" '^G3 .* rsa +OK .*3 1 2'
agree "agility, stronger digest matches (false alarm direction)"

# 4. files on disk: a key that does not match its certificate (a renewal
# that paired the new certificate with the old key) is reported, naming
# both files, and the daemon starts and keeps running.
serve healthy
lab_dg_check "$d/dg-mismatch.conf" "$d/check.out" "$d/check.err"
has "key mismatch: G4 rsa CRITICAL naming both files" \
    "^G4 .* rsa +CRITICAL .*$disk/rsa-other.key does not match the certificate in $disk/rsa-chain.pem"
[ "$(state G4 "$host" - ecdsa)" = OK ] && [ "$(state G3 "$host" 127.0.0.1 rsa)" = OK ]
lab_result "key mismatch: ecdsa G4 and rsa G3 still OK" $? || cat "$d/check.out"
chown nobody "$d/state" || lab_fail "chown"
lab_dg_start nobody "$d/dg-mismatch.conf" "$d/dg.sock" "$d/dg.log" \
    "$d/state/status.json"
grep -q '"check": "G4", "host": "mx1.example.test", "addr": "", "alg": "rsa", "state": "CRITICAL"' \
    "$d/state/status.json" && lab_pid_alive $dg_pid
lab_result "key mismatch: the daemon runs and reports G4 rsa CRITICAL" $? ||
    sed 's/^/      | /' "$d/state/status.json" "$d/dg.log"
lab_kill_pid $dg_pid

# 5. one cert section whose chain does not load: its own error, the other
# algorithm checked as usual, G3 (which needs no files) still judged.
lab_dg_check "$d/dg-broken.conf" "$d/check.out" "$d/check.err"
has "broken ecdsa chain: G4 ecdsa UNKNOWN with its file named" \
    "^G4 .* ecdsa +UNKNOWN .*garbage\.pem"
[ "$(state G4 "$host" - rsa)" = OK ] && [ "$(state G5 "$host" 127.0.0.1 rsa)" = OK ] &&
    [ "$(state G3 "$host" 127.0.0.1 rsa)" = OK ]
lab_result "broken ecdsa chain: rsa G3, G4, G5 OK" $? || cat "$d/check.out"
hasnt "broken ecdsa chain: no rsa row shows its error" '^G[0-9] .* rsa .*garbage'

# 6. algorithms: one served that no cert section describes (a WARNING,
# and G3 judged anyway: senders see it), and one configured but not
# served (named as such, not as a bare TLS alert). The reference is
# openssl s_client forcing that algorithm with the published records
# (the algorithm, not DNS, is the point: records from a tlsa_file).
ed1=$(rec 3 1 1 ed25519-chain.pem)
[ -n "$ed1" ] || lab_fail "tlsagen: no ed25519 record"
# tconf FILE HOST ADDR - a configuration with an RSA and an ECDSA cert
# section, published set from $d/published.zone, one address.
tconf()
{
	cat > "$1" <<EOF
state_dir      = "$d/state"
probe_timeout  = 5
tlsa_file      = "$d/published.zone"
host "$2" {
  probe    = { "$3" }
  cert "rsa"   { chain = "$disk/rsa-chain.pem"   key = "$disk/rsa.key" }
  cert "ecdsa" { chain = "$disk/ecdsa-chain.pem" key = "$disk/ecdsa.key" }
}
EOF
}
tconf "$d/dg-mx2.conf" mx2.example.test 127.0.0.3
tconf "$d/dg-mx3.conf" mx3.example.test 127.0.0.4
# sclient ADDR HOST SIGALGS - s_client forcing SIGALGS with the rdata of
# $d/published.zone; 0 when DANE verifies.
sclient()
{
	a=$1 h=$2 sg=$3
	set --
	while read -r o t c ty ru rs rm hex; do
		set -- "$@" -dane_tlsa_rrdata "$ru $rs $rm $hex"
	done < "$d/published.zone"
	echo QUIT | lab_ns timeout 30 openssl s_client -brief -starttls smtp \
	    -connect "$a:25" -sigalgs "$sg" -verify_return_error \
	    -dane_ee_no_namechecks -dane_tlsa_domain "$h" "$@" \
	    >"$d/sclient.out" 2>&1
}
for with in no yes; do
	{
		echo "_25._tcp.mx2.example.test. 3600 IN TLSA 3 1 1 $rsa1"
		echo "_25._tcp.mx2.example.test. 3600 IN TLSA 3 1 1 $ec1"
		if [ $with = yes ]; then
			echo "_25._tcp.mx2.example.test. 3600 IN TLSA 3 1 1 $ed1"
		fi
	} > "$d/published.zone"
	lab_dg_check "$d/dg-mx2.conf" "$d/check.out" "$d/check.err"
	has "Ed25519 served, not configured ($with record): G5 WARNING" \
	    '^G5 .*127\.0\.0\.3 +ed25519 +WARNING .*also serves Ed25519 \(ed25519\), which no cert section describes'
	g3=$(state G3 mx2.example.test 127.0.0.3 ed25519)
	sclient 127.0.0.3 mx2.example.test ed25519
	ref=$?
	{ [ $with = yes ] && [ "$g3" = OK ] && [ $ref -eq 0 ]; } ||
	    { [ $with = no ] && [ "$g3" = CRITICAL ] && [ $ref -ne 0 ] &&
	    grep -q 'no matching DANE TLSA records' "$d/sclient.out"; }
	lab_result "Ed25519 served, $with record: guard G3 $g3, s_client exit $ref" $? ||
	    sed 's/^/      | /' "$d/check.out" "$d/sclient.out"
done
# One probe offers Ed25519 and Ed448 together; the server chose one, so
# a second probe asked for the other: both are reported, by their names.
has "Ed448 served too, not configured: G5 WARNING" \
    '^G5 .*127\.0\.0\.3 +ed448 +WARNING .*also serves Ed448 \(ed448\), which no cert section describes'
hasnt "no row under the probe's pair of algorithms" '^G[0-9] .* ed25519\+ed448 '

{
	echo "_25._tcp.mx3.example.test. 3600 IN TLSA 3 1 1 $rsa1"
	echo "_25._tcp.mx3.example.test. 3600 IN TLSA 3 1 1 $ec1"
} > "$d/published.zone"
lab_dg_check "$d/dg-mx3.conf" "$d/check.out" "$d/check.err"
hasnt "no row for Ed25519 or Ed448, which mx3 does not serve" \
    '^G[0-9] .* (ed25519|ed448) '
has "ECDSA configured, not served: named as such" \
    '^G2 .*127\.0\.0\.4 +ecdsa +CRITICAL +127\.0\.0\.4:25 serves no ECDSA chain \(is it in smtpd_tls_chain_files\?\)'
[ "$(state G2 mx3.example.test 127.0.0.4 rsa)" = OK ] &&
    [ "$(state G3 mx3.example.test 127.0.0.4 rsa)" = OK ]
lab_result "ECDSA not served: RSA G2 and G3 OK" $? || cat "$d/check.out"
sclient 127.0.0.4 mx3.example.test ECDSA+SHA256
[ $? -ne 0 ] && ! grep -q 'Verification: OK' "$d/sclient.out"
lab_result "ECDSA not served: s_client forcing ECDSA gets no verified handshake either" $? ||
    sed 's/^/      | /' "$d/sclient.out"

# 7. certificate dates (G11): an expired leaf under 3 x x is fine for
# senders (a WARNING as an operational note, never CRITICAL, and the
# reason says DANE senders still deliver); under 2 x x senders check the
# dates and defer (CRITICAL). The reference: openssl s_client with the
# published records. The leaf names mx1 and mx2.example.test: host mx2
# here (a 2 x x record is name-checked).
cat > "$d/dg-mx4.conf" <<EOF
state_dir      = "$d/state"
probe_timeout  = 5
tlsa_file      = "$d/published.zone"
host "mx2.example.test" {
  probe    = { "127.0.0.5" }
  cert "ecdsa" { chain = "$disk/expired-chain.pem" key = "$disk/expired.key" }
}
EOF
exp3=$(rec 3 1 1 expired.pem)
int2=$("$TLSAGEN" -q -f rdata -H mx2.example.test --rollover current+issuer \
    "$disk/expired-chain.pem" 2>/dev/null | grep '^2 1 1 ' | cut -d' ' -f4)
[ -n "$exp3" ] && [ -n "$int2" ] || lab_fail "tlsagen: no records for the expired chain"
for usage in 3 2; do
	if [ $usage = 3 ]; then r="3 1 1 $exp3"; else r="2 1 1 $int2"; fi
	echo "_25._tcp.mx2.example.test. 3600 IN TLSA $r" > "$d/published.zone"
	lab_dg_check "$d/dg-mx4.conf" "$d/check.out" "$d/check.err"
	g3=$(state G3 mx2.example.test 127.0.0.5 ecdsa)
	g11=$(state G11 mx2.example.test 127.0.0.5 ecdsa)
	sclient 127.0.0.5 mx2.example.test ECDSA+SHA256
	ref=$?
	if [ $usage = 3 ]; then
		[ "$g3" = OK ] && [ "$g11" = WARNING ] && [ $ref -eq 0 ]
	else
		[ "$g3" = CRITICAL ] && [ "$g11" = CRITICAL ] && [ $ref -ne 0 ] &&
		    grep -q 'certificate has expired' "$d/sclient.out"
	fi
	lab_result "expired leaf under $usage x x: guard G3 $g3, G11 $g11; s_client exit $ref" $? ||
	    sed 's/^/      | /' "$d/check.out" "$d/sclient.out"
	if [ $usage = 3 ]; then
		has "expired leaf under 3 x x: G11 says DANE senders still deliver, as s_client did" \
		    '^G11 .* WARNING +served leaf expired [0-9]+ days ago .*DANE senders still deliver \(they ignore the dates under 3 x x records'
	fi
done
has "expired leaf under 2 x x: G11 says senders check the dates" \
    '^G11 .* CRITICAL +served leaf expired [0-9]+ days ago .*senders check the dates under 2 x x records'

# 8. an expired CA in the served chain (leaf valid). Under 3 x x senders
# ignore the chain: G3 OK, G11 WARNING. Under 2 x x with that CA as the
# trust anchor OpenSSL does not check its dates and verifies: G3 OK,
# G11 WARNING (other DANE senders may not). Under 2 x x with the root as
# the trust anchor, the expired CA below it fails the chain: G3 and G11
# CRITICAL. The reference: openssl s_client -dane_tlsa_rrdata.
# The records, by openssl itself: SHA-256 of a key, of a certificate.
spki() { openssl x509 -in "$CERTDIR/$1" -noout -pubkey |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }
full() { openssl x509 -in "$CERTDIR/$1" -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1; }
for case in 3ee 2ta 2below; do
	case $case in
	3ee)	a=127.0.0.6 chain=ecdsa-expint-chain.pem rtype="3 1 1" r=$(spki ecdsa-expint.pem) ;;
	2ta)	a=127.0.0.6 chain=ecdsa-expint-chain.pem rtype="2 1 1" r=$(spki expired-int.pem) ;;
	2below)	a=127.0.0.7 chain=ecdsa-expint-full.pem rtype="2 0 1" r=$(full ca.pem) ;;
	esac
	[ -n "$r" ] || lab_fail "openssl: no $rtype record for $case"
	r="$rtype $r"
	cat > "$d/dg-expint.conf" <<EOF
state_dir      = "$d/state"
probe_timeout  = 5
tlsa_file      = "$d/published.zone"
host "mx2.example.test" {
  probe    = { "$a" }
  cert "ecdsa" { chain = "$disk/$chain" key = "$disk/ecdsa-expint.key" }
}
EOF
	echo "_25._tcp.mx2.example.test. 3600 IN TLSA $r" > "$d/published.zone"
	lab_dg_check "$d/dg-expint.conf" "$d/check.out" "$d/check.err"
	g3=$(state G3 mx2.example.test "$a" ecdsa)
	g11=$(state G11 mx2.example.test "$a" ecdsa)
	sclient "$a" mx2.example.test ECDSA+SHA256
	ref=$?
	case $case in
	3ee)	[ "$g3" = OK ] && [ "$g11" = WARNING ] && [ $ref -eq 0 ] &&
		    grep -q 'the CA at depth 1 of the served chain expired .*fine for 3 x x' "$d/check.out" ;;
	2ta)	[ "$g3" = OK ] && [ "$g11" = WARNING ] && [ $ref -eq 0 ] &&
		    grep -q 'the trust anchor of the 2 x x record, expired .*still verify' "$d/check.out" ;;
	2below)	[ "$g3" = CRITICAL ] && [ "$g11" = CRITICAL ] && [ $ref -ne 0 ] &&
		    grep -q 'certificate has expired' "$d/sclient.out" &&
		    grep -q 'below the trust anchor of the 2 x x records' "$d/check.out" ;;
	esac
	lab_result "expired CA in the chain ($case, $rtype): guard G3 $g3, G11 $g11; s_client exit $ref" $? ||
	    sed 's/^/      | /' "$d/check.out" "$d/sclient.out"
done

# 9. current+issuer (section 7): which certificate a 2 x x record is for.
# The guard (DNS mode, SNI mx2.example.test, host mx2 at ADDR by its A
# record) and posttls-finger through the validating resolver must agree:
# G3 OK exactly when posttls-finger verifies.
serial9=9
for case in stray notissuer fakeint; do
	case $case in
	stray)		a=127.0.0.8 chain=rsa-stray.pem ;;
	notissuer)	a=127.0.0.9 chain=rsa-notissuer.pem ;;
	fakeint)	a=127.0.0.10 chain=rsa-fakeint.pem ;;
	esac
	"$TLSAGEN" -f rdata -H mx2.example.test --rollover current+issuer \
	    "$disk/$chain" > "$d/tlsagen.out" 2> "$d/tlsagen.err"
	trc=$?
	if [ $case = stray ]; then
		# The record tlsagen emits for the issuer, and only that one
		# (a 3 1 1 would verify whatever the 2 1 1 says).
		rr=$(grep '^2 1 1 ' "$d/tlsagen.out")
		[ $trc -eq 0 ] && [ "$rr" = "2 1 1 $(spki int.pem)" ] &&
		    grep -q "rsa-stray.pem: the certificate at depth 2 (/CN=mx1.example.test) did not issue the certificate at depth 1 .*senders ignore it" "$d/tlsagen.err"
		lab_result "issuer: stray certificate: tlsagen emits the real issuer's 2 1 1 and names the stray one" $? ||
		    sed 's/^/      | /' "$d/tlsagen.out" "$d/tlsagen.err"
	else
		# What a tool that takes depth 1 as the issuer publishes.
		[ $case = notissuer ] && rr=ca.pem || rr=fakeint.pem
		rr="2 1 1 $(spki $rr)"
		[ $trc -ne 0 ] && ! grep -q '^2 ' "$d/tlsagen.out" &&
		    grep -q "$chain: the certificate at depth 1 .* did not issue the certificate at depth 0" "$d/tlsagen.err"
		lab_result "issuer: $case: tlsagen refuses a 2 x x record for the depth-1 certificate" $? ||
		    sed 's/^/      | /' "$d/tlsagen.out" "$d/tlsagen.err"
	fi
	mx2addr=$a zone "issuer-$case" $serial9 "mx2: $rr"
	serial9=$((serial9 + 1))
	serve "issuer-$case"
	cat > "$d/dg-issuer.conf" <<EOF
state_dir      = "$d/state"
probe_timeout  = 5
dns {
  trust_anchor_file = "$anchor"
  resolver_config   = "$d/ub.conf"
}
host "mx2.example.test" {
  rollover = "current+issuer"
  cert "rsa" { chain = "$disk/$chain" key = "$disk/rsa.key" }
}
EOF
	lab_dg_check "$d/dg-issuer.conf" "$d/check.out" "$d/check.err"
	g3=$(state G3 mx2.example.test "$a" rsa)
	lab_finger "$d/finger.out" "[mx2.example.test]:25" -a ipv4
	if grep -Eq "Verified TLS connection established to mx2\.example\.test\[$a\]:25" "$d/finger.out"; then
		ref=verified
	elif grep -Eq "(Untrusted|Anonymous) TLS connection established to mx2\.example\.test\[$a\]:25|certificate verification failed|no matching DANE TLSA records" "$d/finger.out"; then
		ref="not verified"
	else
		ref=other
	fi
	case "$case/$g3/$ref" in
	"stray/OK/verified"|"notissuer/CRITICAL/not verified"|"fakeint/CRITICAL/not verified")
		st=0 ;;
	*)	st=1 ;;
	esac
	lab_result "issuer: $case ($rr): guard G3 $g3, posttls-finger: $ref" $st ||
	    sed 's/^/      | /' "$d/finger.out" "$d/check.out" "$d/check.err"
done

echo "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
