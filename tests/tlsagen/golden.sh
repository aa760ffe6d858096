#!/bin/sh
#
# golden.sh - tlsagen's output, byte for byte, in every form.
#
# Each case runs tlsagen inside CERTDIR (so comments show bare file names)
# and compares stdout with golden/NAME.out and stderr with golden/NAME.err
# (no .err file: stderr must be empty). Keys are committed, so records over
# a public key (selector 1) are fixed; certificates are signed anew each
# run, so the golden files hold @PLACEHOLDERS@ for records over a whole
# certificate (selector 0), filled in here with values that the openssl
# command line computes independently of tlsagen. Then every record of
# every golden file is checked against the openssl command line
# (oracle.sh), since the golden files themselves came from tlsagen.
#
# GOLDEN_UPDATE=1 rewrites the golden files from the current tool (check
# the diff by eye before committing it).
#
# Environment: TLSAGEN, CERTDIR, top_srcdir. Exit 0 pass, 1 fail, 77 skip.

if [ -z "$TLSAGEN" ] || [ -z "$CERTDIR" ] || [ -z "$top_srcdir" ]; then
	echo "golden.sh: TLSAGEN, CERTDIR and top_srcdir must be set" >&2
	exit 77
fi
[ -x "$TLSAGEN" ] || { echo "golden.sh: $TLSAGEN missing" >&2; exit 77; }
command -v openssl >/dev/null 2>&1 || exit 77
command -v xxd >/dev/null 2>&1 || exit 77

golden=$top_srcdir/tests/tlsagen/golden
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
cd "$CERTDIR" || exit 1

# Selector 0 values, by the openssl pipeline.
der() { openssl x509 -in "$1" -outform DER; }
sha() { der "$1" | openssl dgst -"$2" -r | cut -d' ' -f1; }
RSA_S0M1=$(sha rsa.pem sha256)
RSA_S0M2=$(sha rsa.pem sha512)
RSA_S0M0=$(der rsa.pem | xxd -p | tr -d '\n')
CA_S0M1=$(sha ca.pem sha256)
INT_S0M1=$(sha int.pem sha256)
for v in "$RSA_S0M1" "$RSA_S0M2" "$RSA_S0M0" "$CA_S0M1" "$INT_S0M1"; do
	[ -n "$v" ] || { echo "golden.sh: openssl pipeline failed" >&2; exit 1; }
done

# golden text -> expected text
fill() {
	sed -e "s|@CERTDIR@|$CERTDIR|g" \
	    -e "s|@RSA_S0M1@|$RSA_S0M1|g" -e "s|@RSA_S0M2@|$RSA_S0M2|g" \
	    -e "s|@RSA_S0M0@|$RSA_S0M0|g" -e "s|@CA_S0M1@|$CA_S0M1|g" \
	    -e "s|@INT_S0M1@|$INT_S0M1|g"
}
# tool output -> golden text (GOLDEN_UPDATE)
unfill() {
	sed -e "s|$CERTDIR|@CERTDIR@|g" \
	    -e "s|$RSA_S0M0|@RSA_S0M0@|g" -e "s|$RSA_S0M2|@RSA_S0M2@|g" \
	    -e "s|$RSA_S0M1|@RSA_S0M1@|g" -e "s|$CA_S0M1|@CA_S0M1@|g" \
	    -e "s|$INT_S0M1|@INT_S0M1@|g"
}

fail=0
ncase=0

# check NAME ARGS...: run tlsagen ARGS, expect exit 0 and the golden output
check() {
	name=$1
	shift
	ncase=$((ncase + 1))
	"$TLSAGEN" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $name: exit $rc: tlsagen $*"
		cat "$tmp/$name.err"
		fail=1
		return
	fi
	if [ -n "$GOLDEN_UPDATE" ]; then
		mkdir -p "$golden"
		unfill <"$tmp/$name.out" >"$golden/$name.out"
		if [ -s "$tmp/$name.err" ]; then
			unfill <"$tmp/$name.err" >"$golden/$name.err"
		else
			rm -f "$golden/$name.err"
		fi
		return
	fi
	for kind in out err; do
		if [ -f "$golden/$name.$kind" ]; then
			fill <"$golden/$name.$kind" >"$tmp/$name.$kind.want"
		else
			: >"$tmp/$name.$kind.want"
		fi
		if ! cmp -s "$tmp/$name.$kind.want" "$tmp/$name.$kind"; then
			echo "FAIL $name ($kind): tlsagen $*"
			diff -u "$tmp/$name.$kind.want" "$tmp/$name.$kind"
			fail=1
		fi
	done
}

H1=mx1.example.test
H2=mx2.example.test
TWO="rsa-chain.pem rsa.key ecdsa-chain.pem ecdsa.key --next rsa-next.key --next ecdsa-next.key"

# Two algorithms with next keys, in every form.
for form in zone generic nsupdate rdata json; do
	# shellcheck disable=SC2086
	check "two-$form" -H $H1 -f "$form" $TWO
done
# Every MX host that serves the certificates: one set per host.
for form in zone nsupdate rdata json; do
	check "hosts-$form" -H $H1 -H $H2 -f "$form" rsa-chain.pem ecdsa-chain.pem
done
check hosts-dup -H $H1 -H MX1.Example.Test. rsa.pem
# Port and TTL; every supported algorithm.
check port-ttl -H $H1 -p 2525 -t 1800 ed25519-chain.pem ed448.pem \
    p384.pem p521.pem
# Record type lists; a next key gets 3 1 M for each 3 x M asked for.
check records -H $H1 -r "3 1 1" -r "3 1 2" rsa.pem --next rsa-next.key
check records-rdata -f rdata -r 3,1,2 -r "3 1 1" rsa.pem ecdsa.pem
# Selector 0 and matching type 0: allowed, with warnings.
check selector0 -H $H1 -r "3 0 1" -r "3 0 2" -r "3 1 1" rsa.pem
check full -f rdata -r "3 0 0" rsa.pem.der
# current+issuer: 2 1 1 for the issuing CA that the chain file holds.
check issuer -H $H1 --rollover current+issuer rsa-chain.pem ecdsa-chain.pem
check issuer-depth -H $H1 --rollover current+issuer --issuer-depth 2 \
    -r "3 1 1" -r "2 0 1" rsa-full.pem
check issuer-s0 -H $H1 -r "3 1 1" -r "2 0 1" rsa-chain.pem
# A key shared by several chains gives one record.
check dedupe -H $H1 rsa.pem rsa-chain.pem rsa-full.pem rsa.pem.der
check dedupe-next -f rdata --next ecdsa-next.pub \
    --next ecdsa-next-compressed.pub --next ecdsa-next.pub.der
# Key forms: in the chain file, traditional PEM, DER, encrypted.
check keyforms -H $H1 combined.pem rsa.pem.der rsa-trad.key ecdsa-trad.key
check keyforms-der -f rdata rsa.key.der rsa.pem
check encrypted -H $H1 rsa-enc.key rsa.pem --passphrase-file pass.txt
# A next key without a chain of its family stands alone.
check next-alone -H $H1 rsa-chain.pem --next ecdsa-next.pub
check next-only -f json --next rsa-next.key
# No host: rdata and json work.
check nohost-json -f json rsa-chain.pem ecdsa.pem
# Expired leaf: fine for 3 x x, noted.
check expired -H $H1 expired.pem
check expired-rdata -f rdata expired.pem
# TTL outside the recommended range.
check ttl-long -H $H1 -t 86400 ecdsa.pem
check quiet -q -H $H1 -t 60 -r "3 1 0" ecdsa.pem

# Configuration file mode.
cat >"$tmp/test.conf" <<EOF
host "mx1.example.test" {
	ttl = 1800
	cert "rsa" {
		chain = "$CERTDIR/rsa-chain.pem"
		key = "$CERTDIR/rsa.key"
		next_key = "$CERTDIR/rsa-next.key"
	}
	cert "ecdsa" {
		chain = "$CERTDIR/ecdsa-chain.pem"
		key = "$CERTDIR/ecdsa.key"
		next_key = "$CERTDIR/ecdsa-next.pub"
	}
}
host "mx2.example.test" {
	port = 2525
	rollover = "current+issuer"
	records = { "3 1 1", "3 1 2" }
	cert "ec" { chain = "$CERTDIR/ecdsa-chain.pem" }
	cert "enc" {
		chain = "$CERTDIR/rsa-full.pem"
		key = "$CERTDIR/rsa-enc.key"
		passphrase_file = "$CERTDIR/pass.txt"
	}
}
EOF
check conf-zone -c "$tmp/test.conf"
check conf-json -c "$tmp/test.conf" -H $H2 -f json
check conf-nsupdate -c "$tmp/test.conf" -f nsupdate
check conf-override -c "$tmp/test.conf" -H $H1 -p 26 -t 3000 -r "3 1 2"

if [ -n "$GOLDEN_UPDATE" ]; then
	echo "golden.sh: $ncase golden files written to $golden"
	exit 0
fi

# ------------------------------------------------------------ the oracle
# The golden files were written by tlsagen itself: a digest it got wrong
# when they were made would pass the comparison above for ever. So every
# record of every golden file, in every form, is checked against what
# the openssl command line computes from the inputs (oracle.sh): the
# data must be openssl's value for that selector and matching type, of
# the very file the record names as its source where the form names one
# (zone and generic comments, JSON "source"), of the leaf (or a key) for
# usage 3, of a CA certificate of the file for usage 2.
inputs="rsa-chain.pem rsa.key ecdsa-chain.pem ecdsa.key rsa-next.key
 ecdsa-next.key rsa.pem ecdsa.pem ed25519-chain.pem ed448.pem p384.pem
 p521.pem rsa-full.pem rsa.pem.der ecdsa-next.pub ecdsa-next-compressed.pub
 ecdsa-next.pub.der combined.pem rsa-trad.key ecdsa-trad.key rsa.key.der
 rsa-enc.key expired.pem"
# shellcheck disable=SC2086
sh "$top_srcdir/tests/tlsagen/oracle.sh" -p pass.txt $inputs >"$tmp/oracle" ||
    { echo "FAIL oracle.sh"; fail=1; }
for f in $inputs; do
	grep -q " $f\$" "$tmp/oracle" ||
	    { echo "FAIL oracle: nothing from $f"; fail=1; }
done

# records FILE - "USAGE SELECTOR MTYPE HEX SOURCE" for every record in a
# tlsagen output of any form (SOURCE "-" where the form names none).
records()
{
	awk -v cd="$CERTDIR/" '
	function out(u, s, m, h) {
		if (src != "" && index(src, cd) == 1)
			src = substr(src, length(cd) + 1)
		print u, s, m, tolower(h), (src == "" ? "-" : src); src = ""
	}
	/^; / { if ($2 ~ /\.$/ && NF == 6) src = $NF; next }
	/ TLSA / { for (i = 1; $i != "TLSA"; i++) ; h = ""
		for (j = i + 4; j <= NF; j++) h = h $j
		out($(i + 1), $(i + 2), $(i + 3), h); next }
	/ TYPE52 / { for (i = 1; $i != "\\#"; i++) ; h = ""
		for (j = i + 2; j <= NF; j++) h = h $j
		if (length(h) != 2 * $(i + 1)) print "bad-length", $0
		out(substr(h, 2, 1) + 0, substr(h, 4, 1) + 0, substr(h, 6, 1) + 0,
		    substr(h, 7)); next }
	/"usage":/ { split($0, kv, /[,{}]/); u = s = m = h = ""
		for (k in kv) {
			split(kv[k], p, ":"); gsub(/"/, "", p[1]); gsub(/"/, "", p[2])
			if (p[1] == "usage") u = p[2]; if (p[1] == "selector") s = p[2]
			if (p[1] == "mtype") m = p[2]; if (p[1] == "data") h = p[2]
			if (p[1] == "source") src = p[2]
		}
		out(u, s, m, h); next }
	/^[0-3] [01] [0-2] [0-9a-fA-F]/ { h = ""
		for (j = 4; j <= NF; j++) h = h $j
		out($1, $2, $3, h) }' "$1"
}

nrec=0
for g in "$golden"/*.out; do
	name=$(basename "$g" .out)
	fill <"$g" >"$tmp/oracle.golden"
	records "$tmp/oracle.golden" >"$tmp/oracle.records"
	if grep -q '^bad-length' "$tmp/oracle.records"; then
		echo "FAIL golden $name: a generic record whose length is wrong"
		fail=1
	fi
	n=$(wc -l <"$tmp/oracle.records")
	nrec=$((nrec + n))
	awk 'NR == FNR { ok[$1 " " $2 " " $3] = ok[$1 " " $2 " " $3] " " $5 ":" $4; next }
	    { u = $1; key = $2 " " $3 " " $4; src = $5; good = 0
	      n = split(ok[key], c, " ")
	      for (i = 1; i <= n; i++) {
		split(c[i], fi, ":")
		if (src != "-" && fi[1] != src) continue
		if (u == 3 && fi[2] != 0) continue
		if (u == 2 && fi[2] == 0) continue
		good = 1
	      }
	      if (!good) { print "FAIL golden " name ": " u " " $2 " " $3 " " \
		substr($4, 1, 16) "... (source " src ") is not what openssl" \
		" computes from that input"; bad = 1 } }
	    END { exit bad }' name="$name" "$tmp/oracle" "$tmp/oracle.records" ||
	    fail=1
	# every golden output with records shows them (none lost in parsing)
	if [ "$n" -eq 0 ] && grep -q '[0-9a-f]\{40\}' "$tmp/oracle.golden"; then
		echo "FAIL golden $name: records not recognised for the oracle check"
		fail=1
	fi
done
echo "golden.sh: $nrec golden records agree with the openssl command line"
[ "$fail" -eq 0 ] && echo "golden.sh: $ncase cases passed"
exit "$fail"
