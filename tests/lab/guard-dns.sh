#!/bin/sh
# tests/lab/guard-dns.sh - the guard's published set from DNSSEC-signed
# DNS (no tlsa_file), its probe addresses from the host's A/AAAA records
# (no probe list), check G7, and agreement with Postfix's own DANE client.
#
# In a network namespace of its own: a private Postfix serves an RSA and
# an ECDSA chain on 127.0.0.1:25 and [::1]:25, the addresses of
# mx1.example.test in the zone. example.test is signed at test time and
# served by NSD on 127.0.0.2 and ::2, with unsigned.example.test delegated
# without DS. The guard's libunbound gets a stub for example.test there
# and the zone's DS as its trust anchor (dns { trust_anchor_file,
# resolver_config }).
# "daneguard --check" must say:
#   records matching the served chains     exit 0; G3 OK on both addresses
#                                          (found through A/AAAA) and
#                                          algorithms; G7 TLSA/A/AAAA OK
#   the RSA record for another key         exit 2; G3 CRITICAL for rsa
#                                          only; G4 CRITICAL for rsa; the
#                                          stale record a G4 WARNING
#   the zone tampered after signing        G7 TLSA CRITICAL "bogus"; G3
#                                          UNKNOWN, never CRITICAL
#   a host in the unsigned child           G7 TLSA and A CRITICAL
#                                          "insecure"; no G3 CRITICAL
#   NSD stopped                            exit 3; G7 UNKNOWN (tempfail);
#                                          with a probe list, G3 UNKNOWN
# The daemon (-f) writes G7 into status.json and metrics.prom.
#
# Agreement (when the unbound daemon is installed): a validating unbound
# on 127.0.0.1:53 in the namespace, /etc/resolv.conf replaced for
# posttls-finger only (unshare -m, bind mount). For every address and
# algorithm posttls-finger connects with (by default ECDSA; RSA forced
# with TLS 1.2 and aECDSA excluded), it prints "Verified TLS connection
# established" exactly when the guard's G3 for that address and
# algorithm is OK: healthy, wrong key, tampered.
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make check).
# Needs root and the Debian packages postfix, nsd, ldnsutils, iproute2,
# util-linux; unbound for the agreement part.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_dns_init postfix:postfix postconf:postfix unshare:util-linux

d=$LAB_TMP
host=mx1.example.test
disk=$d/disk
lab_copy_certs "$disk" rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem \
    rsa-next.key ecdsa-next.key rsa-other-chain.pem

# conf FILE HOST [PROBE-LINE] - a guard configuration for HOST, published
# set from DNS through $d/ub.conf.
conf()
{
	{
		cat <<EOF
state_dir      = "$d/state"
probe_interval = 300
probe_timeout  = 2
EOF
		lab_dg_dns "$LAB_TMP/keys/example.test/anchor.ds" "$d/ub.conf"
		lab_dg_host "$2" "$disk" "$3"
	} > "$1"
}
conf "$d/dg.conf" "$host"
conf "$d/dg-probe.conf" "$host" 'probe = { "127.0.0.1", "::1" }'
conf "$d/dg-unsigned.conf" mx1.unsigned.example.test

# ------------------------------------------------------------ zones

# The records a deployment publishes for the deployed files (current and
# next), by the openssl command line (lab_oracle_311), not by tlsagen,
# which shares lib/tlsa.c with the guard; tlsagen must agree with them.
lab_rdata "$d"
"$TLSAGEN" -q -c "$d/dg.conf" -f rdata > "$d/tlsagen.rdata" 2>"$d/tlsagen.err" ||
    { cat "$d/tlsagen.err" >&2; lab_fail "tlsagen -c $d/dg.conf failed"; }
sort "$d/rdata" > "$d/rdata.sorted"
sort "$d/tlsagen.rdata" > "$d/tlsagen.sorted"
cmp -s "$d/rdata.sorted" "$d/tlsagen.sorted" ||
    { diff "$d/rdata.sorted" "$d/tlsagen.sorted" >&2
      lab_fail "tlsagen's records are not openssl's"; }

# zone SERIAL RDATA-FILE OUT [TTL] - example.test with these TLSA records
# (with TTL, default the zone's 3600)
zone()
{
	{
		lab_zone "$1"
		cat <<EOF
ns1	IN AAAA ::2
mx1	IN AAAA ::1
unsigned IN NS ns1
EOF
		sed "s/^/_25._tcp.mx1 ${4:-3600} IN TLSA /" "$2"
	} > "$3"
}
zone 1 "$d/rdata" "$d/healthy.zone"
zone 2 "$d/rdata.wrong" "$d/wrong.zone"
zone 3 "$d/rdata" "$d/retamper.zone"
zone 4 "$d/rdata" "$d/short.zone" 5
zone 5 "$d/rdata.wrong" "$d/short-wrong.zone" 5
lab_dns_sign example.test "$d/healthy.zone" "$d/healthy.signed"
lab_dns_sign example.test "$d/wrong.zone" "$d/wrong.signed"
lab_dns_sign example.test "$d/retamper.zone" "$d/retamper.signed"
lab_dns_sign example.test "$d/short.zone" "$d/short.signed"
lab_dns_sign example.test "$d/short-wrong.zone" "$d/short-wrong.signed"
lab_dns_tamper "$d/retamper.signed" "$d/tampered.signed" "$(echo "$lab_rsa_rec" | cut -c7-30)"
anchor=$LAB_TMP/keys/example.test/anchor.ds

cat > "$d/unsigned.zone" <<EOF
\$ORIGIN unsigned.example.test.
\$TTL 600
@	IN SOA ns1.example.test. hostmaster 1 3600 900 604800 300
	IN NS ns1.example.test.
mx1	IN A 127.0.0.1
	IN AAAA ::1
EOF
sed 's/^/_25._tcp.mx1 IN TLSA /' "$d/rdata" >> "$d/unsigned.zone"

# NSD reads the zone through one path; scenarios copy a version there.
cp "$d/healthy.signed" "$d/served.zone"

lab_netns_create
lab_ns ip addr add ::2/128 dev lo || lab_fail "cannot add ::2 to lo"
lab_ubconf "$anchor" example.test 127.0.0.2 ::2 > "$d/ub.conf"
lab_nsd_start ns "example.test=$d/served.zone unsigned.example.test=$d/unsigned.zone" \
    127.0.0.2 ::2

# serve FILE - NSD serves that version of example.test from now on.
serve()
{
	cp "$1" "$d/served.zone" || lab_fail "cp $1"
	lab_nsd_reload ns example.test 127.0.0.2
}

# ------------------------------------------------------------ Postfix

lab_postfix_tls pf "$disk"
pfdir=$(lab_postfix_dir pf)
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "[::1]:25"
lab_postfix_start pf

# ------------------------------------------------------------ checks

# run_check CONF - daneguard --check; output in $d/check.out, exit in $rc.
run_check()
{
	lab_dg_check "$1" "$d/check.out" "$d/check.err"
}

# state CHECK HOST ADDR ALG - the STATE column of that row, or "missing".
state()
{
	lab_dg_state "$d/check.out" "$@"
}

# expect WHAT RC HOST ROWS, has WHAT REGEX, hasnt WHAT REGEX - on the
# last run_check (lab_dg_expect, lab_dg_has, lab_dg_hasnt).
expect() { lab_dg_expect "$d/check.out" "$d/check.err" "$@"; }
has() { lab_dg_has "$d/check.out" "$@"; }
hasnt() { lab_dg_hasnt "$d/check.out" "$@"; }

R=

addrs="127.0.0.1 ::1"
algs="rsa ecdsa"

# ------------------------------------------------------------ agreement

# The reference: Postfix's DANE client through a validating unbound.
agree=no
if lab_finger_available; then
	agree=yes
else
	echo "SKIP  agreement with posttls-finger: the unbound daemon is" \
	    "not installed (Debian package unbound)"
fi

# finger ADDR ALG - posttls-finger -c -l dane '[mx1.example.test]:25',
# the family of ADDR first; for rsa with TLS 1.2 and ECDHE-RSA suites
# only (unforced, Postfix serves ECDSA). Output in $d/finger.out.
finger()
{
	case $1 in *:*) fam=ipv6 ;; *) fam=ipv4 ;; esac
	if [ "$2" = rsa ]; then
		lab_finger "$d/finger.out" "[mx1.example.test]:25" -a $fam \
		    -p '<=TLSv1.2' \
		    -o 'tls_medium_cipherlist=ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384'
	else
		lab_finger "$d/finger.out" "[mx1.example.test]:25" -a $fam
	fi
}

# agreement WHAT - after run_check of $d/dg.conf: for each address and
# algorithm (ECDSA by default, RSA forced), posttls-finger verified the
# connection exactly when G3 of that address and algorithm is OK; where
# G3 is CRITICAL it says "no matching DANE TLSA records", where G3 is
# UNKNOWN (records not seen) it reports a TLSA lookup problem.
agreement()
{
	[ $agree = yes ] || return 0
	lab_unbound_start "$anchor" example.test 127.0.0.2 ::2
	for v in ecdsa rsa; do
		for a in $addrs; do
			finger $a $v
			checks=$((checks + 1))
			g3=$(state G3 "$host" "$a" "$v")
			# The algorithm: TLS 1.3 names the server's
			# signature, TLS 1.2 the cipher suite.
			[ $v = rsa ] && sig='(server-signature RSA|ECDHE-RSA-)' ||
			    sig='(server-signature ECDSA|ECDHE-ECDSA-)'
			pv=no
			grep -Eq "^posttls-finger: Verified TLS connection established to mx1\.example\.test\[$a\]:25: .*$sig" \
			    "$d/finger.out" && pv=yes
			# And why not, as the reference sees it.
			case $g3 in
			CRITICAL) why="verification failed for mx1\.example\.test\[$a\]:25: .*no matching DANE TLSA records" ;;
			UNKNOWN) why="DANE TLSA lookup problem" ;;
			*) why=. ;;
			esac
			if { [ "$g3" = OK ] && [ $pv = yes ]; } ||
			    { [ "$g3" != OK ] && [ $pv = no ] &&
			    grep -q "$why" "$d/finger.out"; }; then
				echo "ok    $1: $v $a: guard G3 $g3, posttls-finger verified: $pv"
			else
				fails=$((fails + 1))
				echo "FAIL  $1: $v $a: guard G3 $g3, posttls-finger verified: $pv"
				sed 's/^/      | /' "$d/finger.out"
			fi
		done
	done
	grep -m1 -E 'Verified|Untrusted|TLSA|error' "$d/finger.out" |
	    sed 's/^/      | /'
}

# ------------------------------------------------------------ scenarios

# 1. healthy: addresses from A/AAAA, published set from DNS.
run_check "$d/dg.conf"
R=
lab_rows OK "G1 G2 G3 G5" "$addrs" "$algs"
lab_rows OK G4 - "$algs"
lab_rows OK G4 - -
lab_rows OK G7 "TLSA A AAAA" -
expect "healthy: every check OK, exit 0 (probes on A and AAAA)" 0 "$host" "$R"
has "healthy: G3 names the DNS as the source" \
    '^G3 .* OK .*record of the DNS'
cp "$d/check.out" "$d/healthy.out"
agreement healthy

# The same through a validating resolver we forward to (dns { resolver }),
# the unbound daemon of the agreement part: libunbound still validates
# the answers itself, from the same anchor. Its settings file only
# undoes the built-in NXDOMAIN zone test.
if [ -n "$LAB_UB_PID" ]; then
	printf 'server:\n\tlocal-zone: "test." nodefault\n' > "$d/fwd.conf"
	sed "s|resolver_config   = \"$d/ub.conf\"|resolver = \"127.0.0.1\"\\
  resolver_config = \"$d/fwd.conf\"|" "$d/dg.conf" > "$d/dg-fwd.conf"
	grep -q 'resolver = "127.0.0.1"' "$d/dg-fwd.conf" ||
	    lab_fail "cannot make the forwarding configuration"
	run_check "$d/dg-fwd.conf"
	R=
	lab_rows OK "G1 G2 G3 G5" "$addrs" "$algs"
	lab_rows OK G4 - "$algs"
	lab_rows OK G7 "TLSA A AAAA" -
	expect "healthy through a forwarding resolver: OK" 0 "$host" "$R"
fi
run_check "$d/dg-probe.conf"
R=
lab_rows OK "G1 G2 G3 G5" "$addrs" "$algs"
lab_rows OK G7 "TLSA A AAAA" -
expect "healthy with a probe list: OK, the published A/AAAA looked up too" 0 "$host" "$R"
hasnt "probe list: every listed address is published, none reported" '^G7 .* WARNING '

# A trust anchor libunbound cannot use: "daneguard -n" says so (and the
# daemon would not start), instead of G7 UNKNOWN forever.
echo "not a trust anchor" > "$d/junk.anchor"
sed "s|trust_anchor_file = \".*\"|trust_anchor_file = \"$d/junk.anchor\"|" \
    "$d/dg.conf" > "$d/dg-junk.conf"
checks=$((checks + 1))
if "$DANEGUARD" -n -c "$d/dg-junk.conf" >"$d/n.out" 2>&1; then
	fails=$((fails + 1))
	echo "FAIL  daneguard -n accepts a junk trust anchor:"
	sed 's/^/      | /' "$d/n.out"
elif grep -q "cannot start the resolver: .*$d/junk.anchor" "$d/n.out"; then
	echo "ok    daneguard -n names the unusable trust anchor"
	sed 's/^/      | /' "$d/n.out"
else
	fails=$((fails + 1))
	echo "FAIL  daneguard -n on a junk trust anchor:"
	sed 's/^/      | /' "$d/n.out"
fi

# 2. the RSA record names another key (zone re-signed)
serve "$d/wrong.signed"
run_check "$d/dg.conf"
R=
lab_rows CRITICAL G3 "$addrs" rsa
lab_rows OK G3 "$addrs" ecdsa
lab_rows CRITICAL G4 - rsa
lab_rows OK G4 - ecdsa
lab_rows WARNING G4 - -
lab_rows OK G7 "TLSA A AAAA" -
expect "wrong key: G3 and G4 CRITICAL for rsa only, stale record WARNING" 2 "$host" "$R"
has "wrong key: the stale record is a retirement candidate after 2 x TTL" \
    '^G4 .* WARNING .*candidates to retire 2 x TTL'
agreement "wrong key"

# 3. the zone tampered after signing: bogus, never "absent"
serve "$d/tampered.signed"
run_check "$d/dg.conf"
R=
lab_rows CRITICAL G7 TLSA -
lab_rows OK G7 "A AAAA" -
lab_rows UNKNOWN G3 "$addrs" "$algs"
lab_rows UNKNOWN G4 - "$algs"
lab_rows OK "G1 G2 G5" "$addrs" "$algs"
expect "tampered: G7 TLSA bogus CRITICAL, G3 UNKNOWN" 2 "$host" "$R"
has "tampered: G7 says bogus, with the reason" '^G7 .* TLSA .*CRITICAL .*bogus \(DNSSEC validation failed: .+\)'
hasnt "tampered: no G3 CRITICAL" '^G3 .* CRITICAL '
hasnt "tampered: nothing claims the records are absent" 'no record of|not published'
agreement tampered

# 4. a host in the unsigned child (delegated without DS)
run_check "$d/dg-unsigned.conf"
R=
lab_rows CRITICAL G7 "TLSA A AAAA" -
lab_rows UNKNOWN G3 "$addrs" "$algs"
lab_rows OK "G1 G2 G5" "$addrs" "$algs"
expect "unsigned child: G7 insecure CRITICAL, G3 UNKNOWN" 2 \
    mx1.unsigned.example.test "$R"
has "unsigned child: G7 TLSA says insecure" '^G7 .* TLSA .*CRITICAL .*insecure.*do not count'
has "unsigned child: G7 A names RFC 7672" '^G7 .* A .*CRITICAL .*insecure .*RFC 7672'
hasnt "unsigned child: no G3 CRITICAL" '^G3 .* CRITICAL '

# 5. the nameserver is dead: tempfail, UNKNOWN, no false CRITICAL
serve "$d/healthy.signed"
lab_nsd_stop ns
lab_pid_alive "$LAB_NSD_PID_ns" && lab_fail "NSD still runs after it was stopped"
run_check "$d/dg.conf"
R=
lab_rows UNKNOWN G7 "TLSA A AAAA" -
lab_rows UNKNOWN G4 - "$algs"
expect "NSD dead: exit 3, G7 UNKNOWN" 3 "$host" "$R"
has "NSD dead: tempfail named" '^G7 .* TLSA .*UNKNOWN .*tempfail'
hasnt "NSD dead: no CRITICAL at all" ' CRITICAL '
run_check "$d/dg-probe.conf"
R=
lab_rows UNKNOWN G7 TLSA -
lab_rows UNKNOWN G3 "$addrs" "$algs"
lab_rows OK "G1 G2 G5" "$addrs" "$algs"
expect "NSD dead, probe list: G3 UNKNOWN (set unknown), exit 3" 3 "$host" "$R"
has "NSD dead: G3 says the set is unknown" '^G3 .* UNKNOWN .*unknown \(lookup (servfail|timeout)'
hasnt "NSD dead, probe list: no G3 CRITICAL" '^G3 .* CRITICAL '
lab_nsd_start ns "example.test=$d/served.zone unsigned.example.test=$d/unsigned.zone" \
    127.0.0.2 ::2

# ------------------------------------------------------------ the daemon

# jstate CHECK ADDR ALG - the state of that item in status.json
jstate()
{
	grep "\"check\": \"$1\", \"host\": \"$host\", \"addr\": \"$2\", \"alg\": \"$3\"" \
	    "$state_dir/status.json" 2>/dev/null |
	    sed -n 's/.*"state": "\([A-Z]*\)".*/\1/p' | grep . || echo missing
}

# The daemon: TLSA records with a TTL of 5 s; a new RRset is seen when
# the TTL runs out, without a signal (the probe_interval is 300 s).
# The daemon's checks run whenever the daemon can: a daneguard that
# cannot even print its version fails them all, it does not skip them.
if "$DANEGUARD" -V >"$LAB_TMP/dg-V.out" 2>&1; then
	serve "$d/short.signed"
	state_dir=$d/state
	mkdir -p "$state_dir" && chown nobody "$state_dir" ||
	    lab_fail "state dir"
	lab_dg_start nobody "$d/dg.conf" "$d/dg.sock" "$d/dg.log" \
	    "$state_dir/status.json"
	checks=$((checks + 1))
	if grep -q '"check": "G7", "host": "mx1.example.test", "addr": "TLSA", "alg": "", "state": "OK"' \
	    "$state_dir/status.json" &&
	    grep -q '^  "state": "OK",$' "$state_dir/status.json" &&
	    grep -q '^daneguard_check_state{check="G7",host="mx1.example.test",addr="TLSA",alg="",client=""} 0$' \
	    "$state_dir/metrics.prom" &&
	    grep -q '^daneguard_check_state{check="G3",host="mx1.example.test",addr="::1",alg="rsa",client=""} 0$' \
	    "$state_dir/metrics.prom"; then
		echo "ok    daemon: G7 and G3 (addresses from DNS) OK in status.json and metrics.prom"
	else
		fails=$((fails + 1))
		echo "FAIL  daemon: status.json/metrics.prom"
		sed 's/^/      | /' "$state_dir/status.json" "$d/dg.log"
	fi
	serve "$d/short-wrong.signed"
	# Every state seen while waiting counts: OK (the old RRset still
	# cached), then CRITICAL, nothing else (60 s: a hang).
	n=0 seen6= seen4=
	while :; do
		s6=$(jstate G3 ::1 rsa) s4=$(jstate G3 127.0.0.1 rsa)
		case "$seen6" in *" $s6") ;; *) seen6="$seen6 $s6" ;; esac
		case "$seen4" in *" $s4") ;; *) seen4="$seen4 $s4" ;; esac
		[ "$s6" = CRITICAL ] && [ "$s4" = CRITICAL ] && break
		n=$((n + 1))
		[ $n -gt 600 ] && break
		sleep 0.1
	done
	echo "      G3 rsa on ::1 went$seen6; on 127.0.0.1 went$seen4"
	checks=$((checks + 1))
	if case "$seen6/$seen4" in
	    " OK CRITICAL/ OK CRITICAL") ;; *) false ;; esac &&
	    [ "$(jstate G3 ::1 rsa)" = CRITICAL ] &&
	    [ "$(jstate G3 ::1 ecdsa)" = OK ] &&
	    [ "$(jstate G7 TLSA "")" = OK ] &&
	    grep -q 'dns: 1 answer(s) changed; sweeping' "$d/dg.log" &&
	    grep -q 'check=G3 host=mx1.example.test addr=::1 alg=rsa state=CRITICAL was=OK' "$d/dg.log"; then
		echo "ok    daemon: TLSA RRset changed in DNS -> re-looked-up when its TTL ran out, G3 rsa CRITICAL without a signal"
		grep 'dns: ' "$d/dg.log" | head -n 1 | sed 's/^/      | /'
	else
		fails=$((fails + 1))
		echo "FAIL  daemon: new TLSA RRset not seen (OK, then CRITICAL) within 60 s"
		sed 's/^/      | /' "$state_dir/status.json" "$d/dg.log"
	fi
	lab_kill_pid $dg_pid
	checks=$((checks + 1))
	if grep -q 'Sanitizer\|runtime error' "$d/dg.log"; then
		fails=$((fails + 1))
		echo "FAIL  daemon: sanitizer finding"
		head -n 60 "$d/dg.log"
	else
		echo "ok    daemon: no sanitizer finding"
	fi
else
	lab_result "daemon: daneguard -V runs, so the daemon's checks can" 1
	sed 's/^/      | /' "$LAB_TMP/dg-V.out"
fi

lab_finish
