#!/bin/sh
# tests/lab/guard-domain.sh - the MX view (issue 13): domain sections and
# domains_file, the other MX hosts of a domain checked without keys, and
# "daneguard --check --domain" / "--check --remote -H" with no host
# section, exit codes and JSON.
#
# In a network namespace of its own: example.test is signed at test time
# and served by NSD on 127.0.0.2, with unsigned.example.test delegated
# without DS. A private Postfix listens on 127.0.0.1:25 (mx1, this
# machine's host: the RSA chain), 127.0.0.5:25 (mx2, "another machine":
# the rsa-other chain, whose keys the guard does not have) and
# 127.0.0.6:25 (mx3: mx1's chain again, one key on two MX hosts).
#   example.test         MX mx1, mx2   G7 MX OK; mx2 probed keyless:
#                                      G1/G2/G3 OK while its record
#                                      matches rsa-other; G3 CRITICAL
#                                      (found through --domain too) once
#                                      the zone publishes mx1's record
#                                      for it; posttls-finger to mx2
#                                      verifies exactly when G3 is OK
#   shared.example.test  MX mx1, mx3   G3 MX-keys WARNING naming both
#   bogus.example.test   MX mx1,       G7 MX CRITICAL "bogus"
#                        tampered
#   unsigned.example.test              G7 MX WARNING "DANE is not in
#   (from domains_file)                force for mail to ..."
#   elsewhere.example.test MX mx2      G7 MX-hosts WARNING: mx1 is not
#                                      among its MX hosts
#
# Environment: CERTDIR, DANEGUARD, top_srcdir (make check). Needs root
# and the Debian packages postfix, nsd, ldnsutils, unbound, python3, iproute2,
# util-linux.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_init
lab_require_guard
lab_require postfix:postfix postconf:postfix nsd:nsd \
    ldns-keygen:ldnsutils ldns-signzone:ldnsutils drill:ldnsutils \
    unshare:util-linux timeout:coreutils unbound:unbound \
    posttls-finger:postfix python3:python3

d=$LAB_TMP
fails=0
checks=0
disk=$d/disk
mkdir -p "$disk" || lab_fail "mkdir $disk"
for f in rsa.key rsa-chain.pem rsa-other.key rsa-other-chain.pem; do
	cp "$CERTDIR/$f" "$disk/$f" || lab_fail "cp $CERTDIR/$f"
done
anchor=$LAB_TMP/keys/example.test/anchor.ds

good=$(lab_oracle_311 "$disk/rsa-chain.pem") || exit 1
other=$(lab_oracle_311 "$disk/rsa-other-chain.pem") || exit 1
[ "$good" != "$other" ] || lab_fail "the two chains have one key"

# ------------------------------------------------------------ DNS

serial=0
# zone MX2-RECORD [MX-TTL [MX-HOSTS]] - sign example.test with that TLSA
# record for mx2 (the others fixed; example.test's MX RRset with that TTL,
# default 3600, naming MX-HOSTS, default "mx1 mx2"), tamper with bogus's
# MX, make NSD serve it.
zone()
{
	serial=$((serial + 1))
	pref=0
	apex=
	for h in ${3:-mx1 mx2}; do
		pref=$((pref + 10))
		apex="$apex@ ${2:-3600} IN MX $pref $h
"
	done
	cat > "$d/zone.$serial" <<EOF
\$ORIGIN example.test.
\$TTL 3600
@	IN SOA ns1 hostmaster $serial 3600 900 86400 300
	IN NS ns1
$apex
ns1	IN A 127.0.0.2
mx1	IN A 127.0.0.1
mx2	IN A 127.0.0.5
mx3	IN A 127.0.0.6
shared	IN MX 10 mx1
	IN MX 20 mx3
bogus	IN MX 10 mx1
elsewhere IN MX 10 mx2
unsigned IN NS ns1
_25._tcp.mx1 IN TLSA $good
_25._tcp.mx2 IN TLSA $1
_25._tcp.mx3 IN TLSA $good
EOF
	lab_dns_sign example.test "$d/zone.$serial" "$d/zone.$serial.signed"
	# bogus's MX names mx2 after signing: its RRSIG no longer verifies.
	awk '$1 == "bogus.example.test." && $4 == "MX" {
		sub(/mx1\.example\.test\.$/, "mx2.example.test."); n++ }
	    { print } END { if (n != 1) exit 1 }' "$d/zone.$serial.signed" \
	    > "$d/served.new" || lab_fail "no MX of bogus.example.test to tamper"
	mv "$d/served.new" "$d/served.zone" || lab_fail "mv zone"
	if [ $serial -eq 1 ]; then
		cat > "$d/unsigned.zone" <<EOF
\$ORIGIN unsigned.example.test.
\$TTL 600
@	IN SOA ns1.example.test. hostmaster 1 3600 900 604800 300
	IN NS ns1.example.test.
	IN MX 10 mx1.example.test.
EOF
		lab_nsd_start ns "example.test=$d/served.zone unsigned.example.test=$d/unsigned.zone" \
		    127.0.0.2
	else
		lab_nsd_reload ns example.test 127.0.0.2
	fi
}

lab_netns_create
zone "$other"
lab_ubconf "$anchor" example.test 127.0.0.2 > "$d/ub.conf"
lab_unbound_start "$anchor" example.test 127.0.0.2

# ------------------------------------------------------------ Postfix

lab_postfix_init pf
lab_postfix_conf pf \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $disk/rsa.key $disk/rsa-chain.pem"
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "127.0.0.5:25" \
    "-o smtpd_tls_chain_files=$disk/rsa-other.key,$disk/rsa-other-chain.pem"
lab_postfix_listen pf "127.0.0.6:25"
lab_postfix_start pf

# ------------------------------------------------------------ the guard

printf '# hosted domains\nunsigned.example.test\n\n' > "$d/domains"
cat > "$d/dg.conf" <<EOF
state_dir      = "$d/state"
probe_timeout  = 5
domains_file   = "$d/domains"
dns {
  trust_anchor_file = "$anchor"
  resolver_config   = "$d/ub.conf"
}
host "mx1.example.test" {
  cert "rsa" { chain = "$disk/rsa-chain.pem" key = "$disk/rsa.key" }
}
domain "example.test" { hosts = { "mx1.example.test" } }
domain "shared.example.test" { }
domain "bogus.example.test" { }
domain "elsewhere.example.test" { }
EOF
# Only the dns section and probe_timeout count with --remote/--domain.
cat > "$d/dns.conf" <<EOF
probe_timeout  = 5
dns {
  trust_anchor_file = "$anchor"
  resolver_config   = "$d/ub.conf"
}
EOF

# expect WHAT RC ROWS - after a check into $d/check.out: exit RC and every
# row of ROWS ("CHECK HOST ADDR ALG STATE") with that state.
expect()
{
	why=
	[ "$rc" -eq "$2" ] || why="exit $rc, not $2"
	why=$why$(echo "$3" | while read -r c h a g st; do
		[ -n "$c" ] || continue
		got=$(lab_dg_state "$d/check.out" "$c" "$h" "$a" "$g")
		[ "$got" = "$st" ] || printf '; %s %s %s %s is %s, not %s' \
		    "$c" "$h" "$a" "$g" "$got" "$st"
	done)
	why=${why#; }
	if lab_result "$1${why:+: $why}" "$([ -z "$why" ]; echo $?)"; then
		head -n 1 "$d/check.out" | sed 's/^/      | /'
	else
		sed 's/^/      | /' "$d/check.out" "$d/check.err"
	fi
}

# has WHAT REGEX - a row of $d/check.out matches.
has()
{
	if grep -Eq "$2" "$d/check.out"; then
		lab_result "$1" 0
	else
		lab_result "$1: no row matches '$2'" 1
		sed 's/^/      | /' "$d/check.out"
	fi
}

# remote ARGS... - daneguard --check -c dns.conf ARGS in the namespace.
remote()
{
	lab_ns timeout 120 "$DANEGUARD" --check -c "$d/dns.conf" "$@" \
	    >"$d/check.out" 2>"$d/check.err"
	rc=$?
}

# json STATE G3-HOST G3-STATE - $d/check.out is JSON (status.json's
# form) with that overall state and exactly one G3 row of G3-HOST, in
# G3-STATE.
json()
{
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
g3 = [c for c in r["checks"] if c["check"] == "G3" and c["host"] == sys.argv[3]]
sys.exit(0 if r["state"] == sys.argv[2] and len(g3) == 1 and
    g3[0]["state"] == sys.argv[4] else 1)' "$d/check.out" "$@"
}

# finger WHAT G3 - posttls-finger to [mx2.example.test]:25 through the
# validating resolver verifies exactly when the guard's G3 state is OK.
finger()
{
	lab_finger "$d/finger.out" "[mx2.example.test]:25" -a ipv4
	pv=no
	grep -q '^posttls-finger: Verified TLS connection established' \
	    "$d/finger.out" && pv=yes
	if { [ "$2" = OK ] && [ $pv = yes ]; } || { [ "$2" = CRITICAL ] &&
	    [ $pv = no ] && grep -q 'no matching DANE TLSA records' \
	    "$d/finger.out"; }; then
		lab_result "$1: guard G3 $2, posttls-finger verified: $pv" 0
	else
		lab_result "$1: guard G3 $2, posttls-finger verified: $pv" 1
		sed 's/^/      | /' "$d/finger.out"
	fi
}

# 1. The configured domains, mx2 healthy.
lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"
expect "domains: bogus MX CRITICAL, others as published" 2 \
"G7 example.test MX - OK
G7 example.test MX-hosts - OK
G3 example.test MX-keys - OK
G1 mx2.example.test 127.0.0.5 - OK
G2 mx2.example.test 127.0.0.5 rsa OK
G3 mx2.example.test 127.0.0.5 rsa OK
G7 mx2.example.test TLSA - OK
G3 mx1.example.test 127.0.0.1 rsa OK
G5 mx1.example.test 127.0.0.1 rsa OK
G7 shared.example.test MX - OK
G3 shared.example.test MX-keys - WARNING
G3 mx3.example.test 127.0.0.6 rsa OK
G7 bogus.example.test MX - CRITICAL
G7 bogus.example.test MX-hosts - missing
G7 unsigned.example.test MX - WARNING
G7 elsewhere.example.test MX - OK
G7 elsewhere.example.test MX-hosts - WARNING"
has "insecure MX: DANE not in force" \
    '^G7 +unsigned\.example\.test +MX .*WARNING +DANE is not in force for mail to unsigned\.example\.test'
has "bogus MX says bogus" '^G7 +bogus\.example\.test +MX .*CRITICAL .*bogus'
has "shared key names both hosts" \
    '^G3 +shared\.example\.test +MX-keys .*mx1\.example\.test and mx3\.example\.test'
has "keyless host probed: a G1 row" '^G1 +mx2\.example\.test'
if grep -Eq '^G[45] +mx2\.example\.test' "$d/check.out"; then
	lab_result "keyless host has no G4/G5 rows" 1
else
	lab_result "keyless host has no G4/G5 rows" 0
fi
finger "healthy remote MX" "$(lab_dg_state "$d/check.out" G3 \
    mx2.example.test 127.0.0.5 rsa)"

# 2. --check --domain / --remote, no host section, JSON.
remote --domain example.test
expect "--domain example.test: healthy, exit 0" 0 \
"G7 example.test MX - OK
G3 example.test MX-keys - OK
G3 mx1.example.test 127.0.0.1 rsa OK
G3 mx2.example.test 127.0.0.5 rsa OK"
remote --remote -H mx2.example.test --json
json OK mx2.example.test OK
lab_result "--remote -H mx2 --json: state OK, G3 OK (exit $rc)" \
    "$([ $? -eq 0 ] && [ $rc -eq 0 ]; echo $?)" ||
    sed 's/^/      | /' "$d/check.out" "$d/check.err"

# 3. mx2's record is mx1's: its chain matches no record.
zone "$good"
lab_dg_check "$d/dg.conf" "$d/check.out" "$d/check.err"
expect "remote MX whose chain matches no record: G3 CRITICAL" 2 \
"G3 mx2.example.test 127.0.0.5 rsa CRITICAL
G3 mx1.example.test 127.0.0.1 rsa OK"
finger "remote MX whose chain matches no record" "$(lab_dg_state \
    "$d/check.out" G3 mx2.example.test 127.0.0.5 rsa)"
remote --domain example.test
expect "--domain example.test finds it: exit 2" 2 \
"G3 mx2.example.test 127.0.0.5 rsa CRITICAL
G3 mx1.example.test 127.0.0.1 rsa OK"
remote --domain example.test --json
json CRITICAL mx2.example.test CRITICAL
lab_result "--domain --json: state CRITICAL, mx2's G3 CRITICAL (exit $rc)" \
    "$([ $? -eq 0 ] && [ $rc -eq 2 ]; echo $?)" ||
    sed 's/^/      | /' "$d/check.out" "$d/check.err"
# G9 is part of it: rrsig rows for the remote MX host's zone and the MX.
python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
g9 = [c for c in r["checks"] if c["check"] == "G9" and c["alg"] == "rrsig"]
sys.exit(0 if {"mx2.example.test", "example.test"} <= {c["host"] for c in g9}
    and all(c["state"] == "OK" for c in g9) else 1)' "$d/check.out"
lab_result "--domain: G9 rrsig rows OK for mx2.example.test and the MX" $? ||
    sed 's/^/      | /' "$d/check.out"
# G8 too: mx2's nameserver serves records that match no chain mx2 serves.
python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
g8 = [c for c in r["checks"] if c["check"] == "G8"
    and c["host"] == "mx2.example.test"]
sys.exit(0 if g8 and all(c["state"] == "CRITICAL" and "/" in c["addr"]
    for c in g8) else 1)' "$d/check.out"
lab_result "--domain: G8 CRITICAL for mx2.example.test at its nameserver" $? ||
    sed 's/^/      | /' "$d/check.out"
remote --domain unsigned.example.test
expect "--domain of an insecure MX RRset: exit 1" 1 \
"G7 unsigned.example.test MX - WARNING"
remote --domain bogus.example.test
expect "--domain of a bogus MX RRset: exit 2" 2 \
"G7 bogus.example.test MX - CRITICAL"

# Bad input: one line, UNKNOWN.
remote --domain "not a domain"
lab_result "--domain with a bad name: exit 3, one line" \
    "$([ $rc -eq 3 ] && [ "$(wc -l < "$d/check.out")" -eq 1 ]; echo $?)" ||
    cat "$d/check.out"

# 4. The daemon: the domain rows in status.json and metrics.prom, and an
# MX RRset that changes in DNS is seen when its TTL (5 s) runs out,
# without a signal (probe_interval 300 s).
zone "$good" 5
state_dir=$d/state
mkdir -p "$state_dir" && chown nobody "$state_dir" || lab_fail "state dir"
lab_dg_start nobody "$d/dg.conf" "$d/dg.sock" "$d/dg.log" \
    "$state_dir/status.json"
# jstate CHECK HOST ADDR ALG - that item's state in status.json
jstate()
{
	grep "\"check\": \"$1\", \"host\": \"$2\", \"addr\": \"$3\", \"alg\": \"$4\"" \
	    "$state_dir/status.json" 2>/dev/null |
	    sed -n 's/.*"state": "\([A-Z]*\)".*/\1/p' | grep . || echo missing
}
lab_result "daemon: status.json has the MX view (bogus MX CRITICAL, mx2 G3 CRITICAL, shared key WARNING)" \
    "$([ "$(jstate G7 bogus.example.test MX "")" = CRITICAL ] &&
    [ "$(jstate G3 mx2.example.test 127.0.0.5 rsa)" = CRITICAL ] &&
    [ "$(jstate G3 shared.example.test MX-keys "")" = WARNING ] &&
    grep -q '^daneguard_check_state{check="G7",host="unsigned.example.test",addr="MX",alg="",client=""} 1$' \
    "$state_dir/metrics.prom"; echo $?)" ||
    sed 's/^/      | /' "$state_dir/status.json" "$d/dg.log"
# The daemon's nameserver pass covers the keyless MX host mx2 too (as
# --check does): its G8 row CRITICAL once the pass after the first sweep
# has written status.json again.
n=0
until [ "$(jstate G8 mx2.example.test ns1.example.test/127.0.0.2 "")" = CRITICAL ]; do
	n=$((n + 1))
	[ $n -gt 600 ] && break		# 60 s: a hang
	sleep 0.1
done
lab_result "daemon: G8 CRITICAL for the keyless MX host mx2.example.test" \
    "$([ "$(jstate G8 mx2.example.test ns1.example.test/127.0.0.2 "")" = CRITICAL ];
    echo $?)" || sed 's/^/      | /' "$state_dir/status.json" "$d/dg.log"
zone "$good" 5 mx1
n=0
until grep -q 'secure MX RRset: mx1.example.test (10)"' \
    "$state_dir/status.json"; do
	n=$((n + 1))
	[ $n -gt 600 ] && break		# 60 s: a hang
	sleep 0.1
done
lab_result "daemon: MX RRset changed in DNS -> re-looked-up when its TTL ran out and swept" \
    "$(grep -q 'dns: [0-9]* answer(s) changed; sweeping' "$d/dg.log" &&
    grep -q 'secure MX RRset: mx1.example.test (10)"' \
    "$state_dir/status.json" &&
    [ "$(jstate G7 example.test MX-hosts "")" = OK ]; echo $?)" ||
    sed 's/^/      | /' "$state_dir/status.json" "$d/dg.log"
lab_kill_pid $dg_pid
if grep -q 'Sanitizer\|runtime error' "$d/dg.log"; then
	lab_result "daemon: no sanitizer finding" 1
	head -n 60 "$d/dg.log"
else
	lab_result "daemon: no sanitizer finding" 0
fi

echo "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
