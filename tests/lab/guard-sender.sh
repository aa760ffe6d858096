#!/bin/sh
# tests/lab/guard-sender.sh - the guard's verdict is what a DANE sender
# sees (issue 9, sections 1-3): SNI, MX host names that are CNAMEs, and
# every published address.
#
# In a network namespace of its own: a private Postfix whose default chain
# (rsa-other) differs from the chain its tls_server_sni_maps give the MX
# names (rsa), on 127.0.0.1:25, and a second listener on 127.0.0.5:25
# without the SNI map (it serves the default chain whatever the client
# asks). example.test is signed at test time and served by NSD on
# 127.0.0.2; the guard's libunbound and a validating unbound daemon (for
# posttls-finger, the reference) both take the zone's DS as trust anchor.
#
# "daneguard --check" and posttls-finger must agree (G3 OK exactly when
# posttls-finger verifies), one scenario per row:
#   SNI chain published, default chain not     OK (probes without SNI
#                                               would see the default
#                                               chain: false CRITICAL)
#   default chain published, SNI chain not     CRITICAL (false OK
#                                               without SNI)
#   MX name a CNAME, records only at target    OK, "mx1 -> mail" named
#   wrong records at target, right at alias    CRITICAL (the target wins)
#   records only at the alias                  OK (senders fall back; SNI
#                                               is the alias then)
#   CNAME into another signed zone on its      OK, then CRITICAL (wrong at
#   own nameserver (the hoster's)               the target, right at the
#                                               alias); tlsagen --check
#                                               --dns asks the hoster's
#                                               nameserver, and the
#                                               alias's when the target
#                                               has no records; so does
#                                               tlsagen --sync (the add
#                                               goes to the hoster's
#                                               zone, at the target)
#   probe list 127.0.0.1, A record 127.0.0.5   127.0.0.5 probed: CRITICAL;
#                                               127.0.0.1 reported as not
#                                               published
#   published address nobody listens on        UNKNOWN naming it (never a
#                                               silent OK); mapped to the
#                                               local listener
#                                               ("127.0.0.6 = 127.0.0.1"):
#                                               OK, probed there
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make check). Needs root
# and the Debian packages postfix, nsd, ldnsutils, unbound, iproute2,
# util-linux.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_dns_init postfix:postfix postconf:postfix postmap:postfix \
    unshare:util-linux unbound:unbound posttls-finger:postfix

d=$LAB_TMP
disk=$d/disk
lab_copy_certs "$disk" rsa.key rsa-chain.pem rsa-other.key \
    rsa-other-chain.pem
anchor=$LAB_TMP/keys/example.test/anchor.ds

# conf FILE HOST CHAIN KEY [PROBE-LINE] - a guard configuration for HOST
# (one RSA chain on disk), published set from DNS.
conf()
{
	cat > "$1" <<EOF
state_dir      = "$d/state"
probe_timeout  = 2
$(lab_dg_dns "$anchor" "$d/ub.conf")
host "$2" {
  $5
  cert "rsa" { chain = "$disk/$3" key = "$disk/$4" }
}
EOF
}

# The 3 1 1 records of the SNI chain and of the default chain.
good=$(openssl x509 -in "$disk/rsa-chain.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -c1-64)
other=$(openssl x509 -in "$disk/rsa-other-chain.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -c1-64)
[ ${#good} -eq 64 ] && [ ${#other} -eq 64 ] && [ "$good" != "$other" ] ||
    lab_fail "cannot compute the two 3 1 1 records"

# ------------------------------------------------------------ DNS

# tlsa "NAME RECORD"... - TLSA lines (NAME relative, RECORD "good" or
# "other").
tlsa()
{
	for r in "$@"; do
		case ${r#* } in
		good)	rd=$good ;;
		other)	rd=$other ;;
		*)	lab_fail "zone: record ${r#* }" ;;
		esac
		echo "_25._tcp.${r% *} IN TLSA 3 1 1 $rd"
	done
}

serial=0
# zone "NAME RECORD"... - sign example.test with these TLSA records and
# make NSD serve it. provider.example.test is a signed child zone on its
# own nameserver (127.0.0.3), the hoster of mx4's CNAME target.
zone()
{
	serial=$((serial + 1))
	{
		cat <<EOF
\$ORIGIN example.test.
\$TTL 3600
@	IN SOA ns1 hostmaster $serial 3600 900 604800 300
	IN NS ns1
ns1	IN A 127.0.0.2
ns3	IN A 127.0.0.3
sni	IN A 127.0.0.1
mx1	IN CNAME mail
mail	IN A 127.0.0.1
mx2	IN A 127.0.0.5
mx3	IN A 127.0.0.6
mx4	IN CNAME mail.provider
provider IN NS ns3
EOF
		cat "$LAB_TMP/keys/provider.example.test/anchor.ds"
		tlsa "$@"
	} > "$d/zone.$serial"
	lab_dns_sign example.test "$d/zone.$serial" "$d/zone.$serial.signed"
	cp "$d/zone.$serial.signed" "$d/served.zone" || lab_fail "cp zone"
	if [ $serial -eq 1 ]; then
		lab_nsd_start ns "example.test=$d/served.zone" 127.0.0.2
	else
		lab_nsd_reload ns example.test 127.0.0.2
	fi
}

pserial=0
# pzone "NAME RECORD"... - the same for provider.example.test.
pzone()
{
	pserial=$((pserial + 1))
	{
		cat <<EOF
\$ORIGIN provider.example.test.
\$TTL 3600
@	IN SOA ns3.example.test. hostmaster $pserial 3600 900 604800 300
	IN NS ns3.example.test.
mail	IN A 127.0.0.1
EOF
		tlsa "$@"
	} > "$d/pzone.$pserial"
	lab_dns_sign provider.example.test "$d/pzone.$pserial" \
	    "$d/pzone.$pserial.signed"
	cp "$d/pzone.$pserial.signed" "$d/pserved.zone" || lab_fail "cp pzone"
	if [ $pserial -eq 1 ]; then
		lab_nsd_start pns "provider.example.test=$d/pserved.zone" \
		    127.0.0.3
	else
		lab_nsd_reload pns provider.example.test 127.0.0.3
	fi
}

lab_netns_create
pzone "mail good"
zone "sni good"
lab_ubconf "$anchor" example.test 127.0.0.2 > "$d/ub.conf"
lab_unbound_start "$anchor" example.test 127.0.0.2

# ------------------------------------------------------------ Postfix

lab_postfix_init pf
pfdir=$(lab_postfix_dir pf)
# The SNI table holds the PEM data itself (postmap -F).
for n in sni mail mx2 mx3 mail.provider; do
	echo "$n.example.test $disk/rsa.key $disk/rsa-chain.pem"
done > "$pfdir/etc/sni"
postmap -F -c "$pfdir/etc" "hash:$pfdir/etc/sni" ||
    lab_fail "postmap -F $pfdir/etc/sni"
lab_postfix_conf pf \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $disk/rsa-other.key $disk/rsa-other-chain.pem" \
    "tls_server_sni_maps = hash:$pfdir/etc/sni"
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "127.0.0.5:25" -o tls_server_sni_maps=
lab_postfix_start pf

# ------------------------------------------------------------ checks

run_check()
{
	lab_dg_check "$1" "$d/check.out" "$d/check.err"
}

# expect WHAT RC HOST ROWS, has WHAT REGEX, hasnt WHAT REGEX - on the
# last run_check (lab_dg_expect, lab_dg_has, lab_dg_hasnt).
expect() { lab_dg_expect "$d/check.out" "$d/check.err" "$@"; }
has() { lab_dg_has "$d/check.out" "$@"; }
hasnt() { lab_dg_hasnt "$d/check.out" "$@"; }

# agree WHAT HOST ADDR - posttls-finger to [HOST]:25 verifies exactly when
# the guard's G3 for HOST, ADDR, rsa is OK; where G3 is CRITICAL it says
# "no matching DANE TLSA records", where G1 is UNKNOWN it did not connect.
agree()
{
	lab_finger "$d/finger.out" "[$2]:25" -a ipv4
	g3=$(lab_dg_state "$d/check.out" G3 "$2" "$3" rsa)
	g1=$(lab_dg_state "$d/check.out" G1 "$2" "$3" rsa)
	pv=no
	grep -q '^posttls-finger: Verified TLS connection established' \
	    "$d/finger.out" && pv=yes
	case $g1/$g3 in
	UNKNOWN/*) why="Connection refused|connect to" ;;
	*/CRITICAL) why="no matching DANE TLSA records" ;;
	*) why=. ;;
	esac
	if [ "$g3" = missing ]; then
		lab_result "$1: the guard has no G3 row for $3" 1
		sed 's/^/      | /' "$d/check.out"
	elif { [ "$g3" = OK ] && [ $pv = yes ]; } ||
	    { [ "$g3" != OK ] && [ $pv = no ] &&
	    grep -Eq "$why" "$d/finger.out"; }; then
		lab_result "$1: guard G1 $g1 G3 $g3, posttls-finger verified: $pv" 0
		grep -m1 -E 'Verified|Untrusted|TLSA|connect' "$d/finger.out" |
		    sed 's/^/      | /'
	else
		lab_result "$1: guard G1 $g1 G3 $g3, posttls-finger verified: $pv" 1
		sed 's/^/      | /' "$d/finger.out"
	fi
}

# ------------------------------------------------------------ 1. SNI

conf "$d/sni.conf" sni.example.test rsa-chain.pem rsa.key
run_check "$d/sni.conf"
expect "SNI chain published: OK" 0 sni.example.test \
"G1 127.0.0.1 rsa OK
G3 127.0.0.1 rsa OK
G5 127.0.0.1 rsa OK
G4 - rsa OK
G7 TLSA - OK"
agree "SNI chain published" sni.example.test 127.0.0.1

zone "sni other"
run_check "$d/sni.conf"
expect "default chain published, SNI chain not: CRITICAL" 2 \
    sni.example.test \
"G3 127.0.0.1 rsa CRITICAL
G5 127.0.0.1 rsa OK"
agree "default chain published, SNI chain not" sni.example.test 127.0.0.1

# ------------------------------------------------------------ 2. CNAME

conf "$d/cname.conf" mx1.example.test rsa-chain.pem rsa.key
zone "mail good"
run_check "$d/cname.conf"
expect "CNAME, records only at the target: OK" 0 mx1.example.test \
"G3 127.0.0.1 rsa OK
G5 127.0.0.1 rsa OK
G4 - rsa OK
G7 TLSA - OK
G7 A - OK"
has "CNAME: G7 shows both names" \
    '^G7 +mx1\.example\.test +TLSA .*mx1\.example\.test → mail\.example\.test .*_25\._tcp\.mail\.example\.test'
agree "CNAME, records only at the target" mx1.example.test 127.0.0.1

zone "mail other" "mx1 good"
run_check "$d/cname.conf"
expect "CNAME, wrong records at the target, right at the alias: CRITICAL" \
    2 mx1.example.test \
"G3 127.0.0.1 rsa CRITICAL
G4 - rsa CRITICAL
G7 TLSA - OK"
has "CNAME: G3 names the target's owner" \
    '^G3 .* CRITICAL .*_25\._tcp\.mail\.example\.test'
agree "CNAME, wrong records at the target" mx1.example.test 127.0.0.1

# Only the alias has records: senders fall back to it, and send it as
# SNI, so the server answers with its default chain.
conf "$d/fallback.conf" mx1.example.test rsa-other-chain.pem rsa-other.key
zone "mx1 other"
run_check "$d/fallback.conf"
expect "CNAME, records only at the alias: OK (fallback)" 0 \
    mx1.example.test \
"G3 127.0.0.1 rsa OK
G5 127.0.0.1 rsa OK
G7 TLSA - OK"
has "CNAME fallback: G7 says why the alias counts" \
    '^G7 .* TLSA .*no TLSA records at _25\._tcp\.mail\.example\.test'
agree "CNAME, records only at the alias" mx1.example.test 127.0.0.1

# The alias in the customer's zone, the target in the hoster's zone on
# its own nameserver: the guard, and the pre-deploy gate, which must ask
# the nameservers of the zone that holds the expanded name.

# gate WHAT RC ERE - tlsagen --check --dns for mx4 and the chain on disk
# exits RC with an output line matching ERE.
gate()
{
	lab_ns "$TLSAGEN" --check --dns --resolver-config "$d/ub.conf" \
	    --timeout 2 --min-age 0 --state "$d/firstseen" \
	    -H mx4.example.test "$disk/rsa-chain.pem" >"$d/gate.out" \
	    2>"$d/gate.err"
	grc=$?
	if [ $grc -eq "$2" ] && grep -Eq "$3" "$d/gate.out"; then
		lab_result "$1" 0
		sed 's/^/      | /' "$d/gate.out" "$d/gate.err"
	else
		lab_result "$1: exit $grc, not $2, or no line '$3'" 1
		sed 's/^/      | /' "$d/gate.out" "$d/gate.err"
	fi
}

# sync WHAT RC ERE - tlsagen --sync for mx4 (cname4.conf) exits RC with
# an output line matching ERE.
sync_()
{
	lab_ns "$TLSAGEN" -q -c "$d/cname4.conf" --sync >"$d/sync.out" \
	    2>"$d/sync.err"
	src=$?
	if [ $src -eq "$2" ] && grep -Eq "$3" "$d/sync.out"; then
		lab_result "$1" 0
	else
		lab_result "$1: exit $src, not $2, or no line '$3'" 1
	fi
	sed 's/^/      | /' "$d/sync.out" "$d/sync.err"
}

conf "$d/cname4.conf" mx4.example.test rsa-chain.pem rsa.key
mkdir -p "$d/state" || lab_fail "mkdir $d/state"
zone
run_check "$d/cname4.conf"
expect "CNAME into another zone, records at the target: OK" 0 \
    mx4.example.test \
"G3 127.0.0.1 rsa OK
G5 127.0.0.1 rsa OK
G7 TLSA - OK"
agree "CNAME into another zone, records at the target" mx4.example.test \
    127.0.0.1
gate "gate: asks the hoster's nameserver for the target's records" 0 \
    '^mail\.provider\.example\.test\. ns3\.example\.test\. 127\.0\.0\.3 serial [0-9]+ present$'
grep -q 'mx4\.example\.test\. → mail\.provider\.example\.test\.' \
    "$d/gate.err"
lab_result "gate: says which name it follows" $?

pzone "mail other"
zone "mx4 good"
run_check "$d/cname4.conf"
expect "CNAME into another zone, wrong at the target, right at the alias: CRITICAL" \
    2 mx4.example.test \
"G3 127.0.0.1 rsa CRITICAL
G7 TLSA - OK"
agree "CNAME into another zone, wrong at the target" mx4.example.test \
    127.0.0.1
gate "gate: the target's records are missing on the hoster's nameserver" 1 \
    '^mail\.provider\.example\.test\. ns3\.example\.test\. 127\.0\.0\.3 serial [0-9]+ missing: '
# tlsagen --sync follows the same rule: the record goes to the hoster's
# zone, at the target, and nothing is said about the alias's records.
sync_ "sync: adds the record at the target, in the hoster's zone" 1 \
    "^update add _25\\._tcp\\.mail\\.provider\\.example\\.test\\. [0-9]+ IN TLSA 3 1 1 $good\$"
grep -q '^zone provider\.example\.test\.$' "$d/sync.out" &&
    grep -q '^; mx4\.example\.test\. → mail\.provider\.example\.test\. ' \
    "$d/sync.out" && ! grep -q '_25\._tcp\.mx4' "$d/sync.out"
lab_result "sync: names the hoster's zone and both names, not the alias's owner" $?

pzone
gate "gate: no records at the target, the alias's count (fallback)" 0 \
    '^mx4\.example\.test\. ns1\.example\.test\. 127\.0\.0\.2 serial [0-9]+ present$'
sync_ "sync: no records at the target, the alias's are in sync (fallback)" 0 \
    '^; mx4\.example\.test\. 1 nameserver address of example\.test\.: in sync$'

# ------------------------------------------------------------ 3. addresses

# The probe list says 127.0.0.1, DNS publishes 127.0.0.5 (no SNI map
# there: the default chain).
conf "$d/moved.conf" mx2.example.test rsa-chain.pem rsa.key \
    'probe = { "127.0.0.1" }'
zone "mx2 good" "mx3 good"
run_check "$d/moved.conf"
expect "published address not in the probe list: probed, CRITICAL" 2 \
    mx2.example.test \
"G3 127.0.0.5 rsa CRITICAL
G7 127.0.0.1 - WARNING
G7 A - OK"
hasnt "the listed address no longer published is not probed" \
    '^G[1-5] +mx2\.example\.test +127\.0\.0\.1 '
has "the listed address no longer published is named" \
    '^G7 .* 127\.0\.0\.1 .*WARNING .*not among the published'
agree "published address not in the probe list" mx2.example.test 127.0.0.5

# 127.0.0.6 is published, nothing listens there.
conf "$d/dead.conf" mx3.example.test rsa-chain.pem rsa.key
run_check "$d/dead.conf"
expect "published address unreachable: UNKNOWN" 3 mx3.example.test \
"G1 127.0.0.6 rsa UNKNOWN
G3 127.0.0.6 rsa UNKNOWN"
has "unreachable address named, mapping suggested" \
    '^G1 .* UNKNOWN .*127\.0\.0\.6 cannot be reached from here.*127\.0\.0\.6 = LOCAL'
agree "published address unreachable" mx3.example.test 127.0.0.6

# NAT: the published address reaches the local listener.
conf "$d/nat.conf" mx3.example.test rsa-chain.pem rsa.key \
    'probe = { "127.0.0.6 = 127.0.0.1" }'
run_check "$d/nat.conf"
expect "published address mapped to a local listener: OK" 0 \
    mx3.example.test \
"G1 127.0.0.6 rsa OK
G3 127.0.0.6 rsa OK
G5 127.0.0.6 rsa OK"
has "mapped address: G1 says where it was probed" \
    '^G1 .* 127\.0\.0\.6 .*OK .*probed at 127\.0\.0\.1'

lab_finish
