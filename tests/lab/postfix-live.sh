#!/bin/sh
# tests/lab/postfix-live.sh - tlsagen's records against a live Postfix.
#
# A private Postfix instance in a network namespace of its own serves an RSA
# and an ECDSA chain at once (smtpd_tls_chain_files) on 127.0.0.1:25 and
# [::1]:25.  OpenSSL's DANE verifier (s_client, no DNS) must accept the
# record tlsagen made for each algorithm, at TLS 1.3 and TLS 1.2 with the
# algorithm forced, and must reject the other algorithm's record and the
# record of another key (a renewal with a new key that was never
# published).  A 2 1 1 record for the intermediate CA (rollover
# current+issuer) must verify with name checks on, and fail for a name the
# certificate does not carry: proof that the checks were really on.
#
# Environment: TLSAGEN, CERTDIR (tests/data/README.md), top_srcdir.
# Needs root and the Debian packages postfix, openssl, iproute2, bsdutils.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/lab/lib.sh"

lab_init
lab_require_make_env
lab_require_root
lab_require postfix:postfix postconf:postfix openssl:openssl bash:bash \
    script:bsdutils timeout:coreutils
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-other.pem int.pem
do
	[ -r "$CERTDIR/$f" ] || lab_fail "$CERTDIR/$f missing (tests/data/gen-certs.sh)"
done

host=mx1.example.test
port=25
fails=0
checks=0

# ------------------------------------------------------------ records

# tlsagen_one WHAT PATTERN ARGS... - the one rdata line of tlsagen's
# output that starts with PATTERN; fail unless there is exactly one.
tlsagen_one()
{
	what=$1 pat=$2
	shift 2
	out=$("$TLSAGEN" -f rdata "$@" 2>"$LAB_TMP/tlsagen.err")
	rc=$?
	if [ $rc -ne 0 ]; then
		cat "$LAB_TMP/tlsagen.err" >&2
		lab_fail "$what: tlsagen -f rdata $* exited $rc"
	fi
	line=$(echo "$out" | grep -c "^$pat [0-9a-fA-F]*\$")
	if [ "$line" -ne 1 ]; then
		echo "$out" >&2
		lab_fail "$what: expected one '$pat HEX' line from tlsagen -f rdata $*"
	fi
	echo "$out" | grep "^$pat "
}

cd "$CERTDIR" || lab_fail "cannot cd to $CERTDIR"
rsa_rec=$(tlsagen_one "rsa" "3 1 1" rsa-chain.pem rsa.key) || exit 1
ecdsa_rec=$(tlsagen_one "ecdsa" "3 1 1" ecdsa-chain.pem ecdsa.key) || exit 1
other_rec=$(tlsagen_one "rsa-other" "3 1 1" rsa-other.pem) || exit 1
ta_rec=$(tlsagen_one "rsa issuer" "2 1 1" --rollover current+issuer \
    rsa-chain.pem rsa.key) || exit 1
ta_rec_ec=$(tlsagen_one "ecdsa issuer" "2 1 1" --rollover current+issuer \
    ecdsa-chain.pem ecdsa.key) || exit 1
cd - >/dev/null || exit 1
[ "$ta_rec" = "$ta_rec_ec" ] ||
    lab_fail "both chains have issuer int.pem, yet the 2 1 1 records differ: '$ta_rec' '$ta_rec_ec'"
[ "$rsa_rec" != "$ecdsa_rec" ] && [ "$rsa_rec" != "$other_rec" ] ||
    lab_fail "records that must differ are equal: '$rsa_rec' '$ecdsa_rec' '$other_rec'"
echo "records from tlsagen:"
echo "  rsa       $rsa_rec"
echo "  ecdsa     $ecdsa_rec"
echo "  rsa-other $other_rec"
echo "  issuer    $ta_rec"

# ------------------------------------------------------------ Postfix

lab_netns_create
lab_postfix_init pf
lab_postfix_conf pf \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $CERTDIR/ecdsa.key $CERTDIR/ecdsa-chain.pem $CERTDIR/rsa.key $CERTDIR/rsa-chain.pem" \
    "smtpd_tls_loglevel = 1"
lab_postfix_listen pf "127.0.0.1:$port"
lab_postfix_listen pf "[::1]:$port"
lab_postfix_start pf
echo "Postfix running in namespace $LAB_NETNS on 127.0.0.1:$port and [::1]:$port"

# ------------------------------------------------------------ probes

# force ALG TLSVERSION - s_client options that make the server show ALG.
force()
{
	case $1/$2 in
	rsa/1.3)	echo "-tls1_3 -sigalgs rsa_pss_rsae_sha256" ;;
	ecdsa/1.3)	echo "-tls1_3 -sigalgs ecdsa_secp256r1_sha256" ;;
	rsa/1.2)	echo "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256" ;;
	ecdsa/1.2)	echo "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256" ;;
	esac
}

# probe ADDR ALG TLSVERSION EXPECT DOMAIN RECORD [s_client options] -
# one STARTTLS handshake with DANE verification.  EXPECT: "EE" or "TA" (must
# verify, matching the leaf at depth 0 or the issuer at depth 1), "nomatch"
# (must fail for want of a matching record, not for any other reason),
# "badname" (must fail on the name check).
probe()
{
	addr=$1 alg=$2 ver=$3 expect=$4 domain=$5 rec=$6
	shift 6
	checks=$((checks + 1))
	case $addr in
	*:*)	connect="[$addr]:$port" ;;
	*)	connect="$addr:$port" ;;
	esac
	# shellcheck disable=SC2046 # force() yields several words on purpose
	lab_ns timeout 30 openssl s_client -brief -starttls smtp \
	    -connect "$connect" -verify_return_error \
	    -dane_tlsa_domain "$domain" -dane_tlsa_rrdata "$rec" \
	    $(force "$alg" "$ver") "$@" </dev/null >"$LAB_TMP/probe.out" 2>&1
	rc=$?
	out=$(cat "$LAB_TMP/probe.out")
	u_s_m=$(echo "$rec" | cut -d' ' -f1-3)
	why=
	case $expect in
	EE|TA)
		if [ "$expect" = EE ]; then depth=0; else depth=1; fi
		[ $rc -eq 0 ] || why="exit $rc"
		echo "$out" | grep -q "^Verification: OK" ||
		    why="$why; no 'Verification: OK'"
		echo "$out" | grep -q "DANE TLSA $u_s_m .*matched $expect certificate at depth $depth" ||
		    why="$why; no 'DANE TLSA $u_s_m ... matched $expect certificate at depth $depth'"
		echo "$out" | grep -q "^Protocol version: TLSv$ver\$" ||
		    why="$why; not TLS $ver"
		# The server must have signed with the forced algorithm.
		case $alg in
		rsa)	sigpat='RSA' ;;
		ecdsa)	sigpat='ECDSA' ;;
		esac
		echo "$out" | grep -q "^\(Peer s\|S\)ignature type: $sigpat" ||
		    why="$why; the server did not sign with $alg"
		;;
	nomatch)
		[ $rc -eq 1 ] || why="exit $rc, not 1"
		echo "$out" | grep -qi "no matching DANE TLSA records" ||
		    why="$why; no 'No matching DANE TLSA records'"
		;;
	badname)
		[ $rc -eq 1 ] || why="exit $rc, not 1"
		echo "$out" | grep -qi "hostname mismatch" ||
		    why="$why; no 'hostname mismatch'"
		;;
	esac
	why=${why#; }
	hex=${rec##* }
	label="$connect $alg TLS$ver '$u_s_m $(echo "$hex" | cut -c1-12)...' $domain: expect $expect"
	if [ -z "$why" ]; then
		echo "ok    $label"
	else
		fails=$((fails + 1))
		echo "FAIL  $label: $why"
		echo "      command: openssl s_client -brief -starttls smtp -connect $connect -verify_return_error -dane_tlsa_domain $domain -dane_tlsa_rrdata '$rec' $(force "$alg" "$ver") $*"
		sed 's/^/      | /' "$LAB_TMP/probe.out"
	fi
}

for addr in 127.0.0.1 ::1; do
	for ver in 1.3 1.2; do
		for alg in rsa ecdsa; do
			if [ $alg = rsa ]; then
				mine=$rsa_rec theirs=$ecdsa_rec
			else
				mine=$ecdsa_rec theirs=$rsa_rec
			fi
			probe $addr $alg $ver EE $host "$mine" -dane_ee_no_namechecks
			probe $addr $alg $ver nomatch $host "$theirs" -dane_ee_no_namechecks
			probe $addr $alg $ver nomatch $host "$other_rec" -dane_ee_no_namechecks
			probe $addr $alg $ver TA $host "$ta_rec"
			probe $addr $alg $ver badname mx9.example.test "$ta_rec"
		done
	done
done

echo "$checks handshakes, $fails failed"
if [ $fails -ne 0 ]; then
	lab_postfix_log pf
	exit 1
fi
exit 0
