#!/bin/sh
# tests/lab/probe-live.sh - lib/probe.c (through tests/lab/probe-tool)
# against a live Postfix.
#
# A private Postfix in a network namespace of its own serves an RSA and an
# ECDSA chain at once on 127.0.0.1:25 and [::1]:25, authorises XCLIENT
# from loopback and withholds STARTTLS from 192.0.2.66
# (smtpd_discard_ehlo_keyword_address_maps); 127.0.0.1:2525 has STARTTLS
# off; 127.0.0.1:2526 speaks only TLS 1.0 and 1.1.  The probe must:
#   - force rsa and ecdsa on both addresses and get each algorithm's own
#     chain (its leaf's 3 1 1 equal to what the openssl command line
#     computes for the chain file);
#   - report no-starttls on 2525, and for XCLIENT ADDR=192.0.2.66 (ok for
#     192.0.2.77, and IPv6 2001:db8::66 over [::1]);
#   - report tls-old on 2526 (after openssl s_client -tls1 proves that
#     Postfix really serves TLS 1.0 there);
#   - report unreachable once Postfix is stopped.
#
# Environment: TLSAGEN, CERTDIR (tests/data/README.md), top_srcdir,
# top_builddir.  Needs root and the Debian packages postfix, openssl,
# iproute2, bsdutils.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"

lab_init
PROBE_TOOL=$top_builddir/tests/lab/probe-tool
[ -x "$PROBE_TOOL" ] || lab_fail "$PROBE_TOOL is not built (make check builds it)"
lab_require_make_env
lab_require_root
lab_require postfix:postfix postconf:postfix openssl:openssl bash:bash \
    script:bsdutils timeout:coreutils
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem; do
	[ -r "$CERTDIR/$f" ] || lab_fail "$CERTDIR/$f missing (tests/data/gen-certs.sh)"
done

fails=0
checks=0
timeout_ms=3000

# The expected leaf records come from the openssl command line
# (lab_oracle_311), not from tlsagen: the probe and tlsagen share
# lib/tlsa.c, so an expectation from tlsagen would pass a bug in it.
rec311()
{
	lab_oracle_311 "$CERTDIR/$1"
}
rsa_rec=$(rec311 rsa-chain.pem) || exit 1
ecdsa_rec=$(rec311 ecdsa-chain.pem) || exit 1
[ "$rsa_rec" != "$ecdsa_rec" ] || lab_fail "rsa and ecdsa records are equal"

# ------------------------------------------------------------ Postfix

lab_netns_create
lab_postfix_init pf
pfdir=$(lab_postfix_dir pf)
echo "192.0.2.66/32 starttls" > "$pfdir/etc/no_starttls.cidr"
echo "[2001:db8::66]/128 starttls" >> "$pfdir/etc/no_starttls.cidr"
lab_postfix_conf pf \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $CERTDIR/ecdsa.key $CERTDIR/ecdsa-chain.pem $CERTDIR/rsa.key $CERTDIR/rsa-chain.pem" \
    "smtpd_tls_loglevel = 1" \
    "smtpd_authorized_xclient_hosts = 127.0.0.1, [::1]" \
    "smtpd_discard_ehlo_keyword_address_maps = cidr:$pfdir/etc/no_starttls.cidr"
lab_postfix_listen pf 127.0.0.1:25
lab_postfix_listen pf "[::1]:25"
lab_postfix_listen pf 127.0.0.1:2525 -o smtpd_tls_security_level=none
# TLS 1.0/1.1 only.  Postfix 3.7 with OpenSSL 3.0 needs nothing more than
# the protocol range (measured: no @SECLEVEL=0 in tls_medium_cipherlist is
# needed on the server side, unlike for openssl s_client below); the
# s_client check proves it rather than trusting the configuration.
lab_postfix_listen pf 127.0.0.1:2526 \
    "-o { smtpd_tls_protocols = >=TLSv1, <=TLSv1.1 }" \
    "-o { smtpd_tls_mandatory_protocols = >=TLSv1, <=TLSv1.1 }"
lab_postfix_start pf
echo "Postfix running in namespace $LAB_NETNS"

# probe WHAT EXPECT-STATUS [EXPECT-RECORD] -- probe-tool ARGS - run the
# probe inside the namespace; check the status and, when given, the served
# leaf's 3 1 1 record.
probe()
{
	what=$1 want=$2 wantrec=$3
	shift 4
	checks=$((checks + 1))
	lab_ns timeout 60 "$PROBE_TOOL" -t $timeout_ms "$@" \
	    >"$LAB_TMP/probe.out" 2>&1
	rc=$?
	why=
	[ $rc -eq 0 ] || why="exit $rc"
	status=$(sed -n 's/^status=\([^ ]*\) .*/\1/p' "$LAB_TMP/probe.out")
	[ "$status" = "$want" ] || why="$why; status '$status', not '$want'"
	if [ -n "$wantrec" ]; then
		got=$(sed -n 's/^leaf_311=//p' "$LAB_TMP/probe.out")
		[ "$got" = "$wantrec" ] ||
		    why="$why; served leaf '$got' is not openssl's '$wantrec'"
	fi
	why=${why#; }
	detail=$(sed -n 's/^detail=//p' "$LAB_TMP/probe.out")
	ms=$(sed -n 's/.* elapsed_ms=//p' "$LAB_TMP/probe.out")
	if [ -z "$why" ]; then
		echo "ok    $what: $status (${ms} ms) $detail"
	else
		fails=$((fails + 1))
		echo "FAIL  $what: $why"
		echo "      command: probe-tool -t $timeout_ms $*"
		sed 's/^/      | /' "$LAB_TMP/probe.out"
	fi
}

for addr in 127.0.0.1 ::1; do
	probe "$addr rsa" ok "$rsa_rec" -- -a rsa $addr 25
	probe "$addr ecdsa" ok "$ecdsa_rec" -- -a ecdsa $addr 25
done
probe "127.0.0.1 unforced" ok "$ecdsa_rec" -- 127.0.0.1 25
probe "127.0.0.1 ed25519 (not served)" tls-failed "" -- -a ed25519 127.0.0.1 25
probe "127.0.0.1:2525 STARTTLS off" no-starttls "" -- -a rsa 127.0.0.1 2525
probe "XCLIENT 192.0.2.66" no-starttls "" -- -a rsa -x 192.0.2.66 127.0.0.1 25
probe "XCLIENT 192.0.2.77" ok "$rsa_rec" -- -a rsa -x 192.0.2.77 127.0.0.1 25
probe "[::1] XCLIENT 2001:db8::66" no-starttls "" -- -a ecdsa -x 2001:db8::66 ::1 25
probe "[::1] XCLIENT 2001:db8::77" ok "$ecdsa_rec" -- -a ecdsa -x 2001:db8::77 ::1 25

# Prove with an independent client that 2526 really serves TLS 1.0.
checks=$((checks + 1))
lab_ns timeout 30 openssl s_client -brief -starttls smtp -tls1 \
    -cipher 'DEFAULT:@SECLEVEL=0' -connect 127.0.0.1:2526 </dev/null \
    >"$LAB_TMP/sclient.out" 2>&1
if grep -q '^Protocol version: TLSv1$' "$LAB_TMP/sclient.out"; then
	echo "ok    127.0.0.1:2526: openssl s_client -tls1 completes a TLS 1.0 handshake"
else
	fails=$((fails + 1))
	echo "FAIL  127.0.0.1:2526: openssl s_client -tls1 did not get TLS 1.0"
	sed 's/^/      | /' "$LAB_TMP/sclient.out"
fi
# ... and that it refuses TLS 1.2.
checks=$((checks + 1))
if lab_ns timeout 30 openssl s_client -brief -starttls smtp -tls1_2 \
    -connect 127.0.0.1:2526 </dev/null >"$LAB_TMP/sclient.out" 2>&1; then
	fails=$((fails + 1))
	echo "FAIL  127.0.0.1:2526: a TLS 1.2 handshake completed"
	sed 's/^/      | /' "$LAB_TMP/sclient.out"
else
	echo "ok    127.0.0.1:2526: openssl s_client -tls1_2 is refused"
fi
probe "127.0.0.1:2526 TLS 1.0/1.1 rsa" tls-old "$rsa_rec" -- -a rsa 127.0.0.1 2526
probe "127.0.0.1:2526 TLS 1.0/1.1 ecdsa" tls-old "$ecdsa_rec" -- -a ecdsa 127.0.0.1 2526

lab_postfix_stop pf
for addr in 127.0.0.1 ::1; do
	probe "$addr Postfix stopped" unreachable "" -- -a rsa $addr 25
done

echo "$checks checks, $fails failed"
if [ $fails -ne 0 ]; then
	lab_postfix_log pf
	exit 1
fi
exit 0
