#!/bin/sh
# tests/tlsagen/crosscheck.sh - tlsagen's records against three references.
#
# Every record tlsagen emits (-f rdata) must equal, byte for byte, what each
# independent reference computes from the same certificate:
#   openssl    the command-line pipeline (x509 -pubkey | pkey -pubin
#              -outform DER, or x509 -outform DER; dgst -sha256/-sha512;
#              od for matching type 0)
#   danetool   GnuTLS (gnutls-bin): --x509 for selector 0, --hash, --ca for
#              usage 2; it has no matching type 0 and reads only the first
#              certificate of a file, so a CA is given to it alone
#   ldns-dane  ldns (ldnsutils): "-c FILE create"; for usage 2 it picks the
#              certificate "-o N" places from the end of the chain file
# A reference that cannot make a combination is listed as "n/a (tool
# cannot)".  Then tlsagen --check --zone and ldns-dane's offline verifier
# (-t ZONE verify, no DNS) must reach the same verdict for each chain
# against several zones.
#
# Environment: TLSAGEN, CERTDIR (tests/data/README.md), top_srcdir.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/lab/lib.sh"

lab_init
[ -n "$TLSAGEN" ] && [ -x "$TLSAGEN" ] || lab_fail "TLSAGEN='$TLSAGEN' is not an executable"
[ -n "$CERTDIR" ] && [ -d "$CERTDIR" ] || lab_fail "CERTDIR='$CERTDIR' is not a directory"
lab_require openssl:openssl danetool:gnutls-bin ldns-dane:ldnsutils od:coreutils
for f in rsa.pem ecdsa.pem ed25519.pem rsa-chain.pem rsa-full.pem ca.pem \
    int.pem rsa.key ecdsa.key ecdsa-chain.pem rsa-other.pem
do
	[ -r "$CERTDIR/$f" ] || lab_fail "$CERTDIR/$f missing (tests/data/gen-certs.sh)"
done

H=mx1.example.test
T=$LAB_TMP
fails=0
cd "$CERTDIR" || lab_fail "cannot cd to $CERTDIR"

bad()
{
	fails=$((fails + 1))
	echo "FAIL: $*"
}

# hexnorm - lower case, no blanks: how binary data is compared.
hexnorm()
{
	tr -d ' \t\n:' | tr 'A-F' 'a-f'
}

# split_chain FILE - write each certificate of FILE to $T/FILE.DEPTH.pem
# (0 = leaf); print how many there are.
split_chain()
{
	awk -v p="$T/$1" '
	/-----BEGIN CERTIFICATE-----/ { f = sprintf("%s.%d.pem", p, n++); on = 1 }
	on { print > f }
	/-----END CERTIFICATE-----/ { on = 0; close(f) }
	END { print n }' "$1"
}

# ref_openssl CERT S M - the association data by the OpenSSL CLI pipeline.
ref_openssl()
{
	if [ "$2" = 1 ]; then
		openssl x509 -in "$1" -noout -pubkey |
		    openssl pkey -pubin -outform DER > "$T/obj.der"
	else
		openssl x509 -in "$1" -outform DER > "$T/obj.der"
	fi || { echo "error"; return; }
	case $3 in
	0)	od -An -v -tx1 "$T/obj.der" | hexnorm ;;
	1)	openssl dgst -sha256 -r "$T/obj.der" | cut -d' ' -f1 | hexnorm ;;
	2)	openssl dgst -sha512 -r "$T/obj.der" | cut -d' ' -f1 | hexnorm ;;
	esac
}

# ref_danetool CERT U S M - "U S M HEX" from danetool, "n/a" if it cannot.
ref_danetool()
{
	case $4 in
	0)	echo "n/a"; return ;;
	1)	set -- "$1" "$2" "$3" "$4" --hash sha256 ;;
	2)	set -- "$1" "$2" "$3" "$4" --hash sha512 ;;
	esac
	c=$1 u=$2 s=$3
	shift 4
	[ "$u" = 2 ] && set -- "$@" --ca
	[ "$s" = 0 ] && set -- "$@" --x509
	danetool --tlsa-rr --load-certificate "$c" --host "$H" --port 25 \
	    "$@" 2>"$T/danetool.err" |
	sed -n 's/.*( *0*\([0-9]\) 0*\([0-9]\) 0*\([0-9]\) \([0-9a-fA-F ]*\)).*/\1 \2 \3 \4/p' |
	awk '{ h = ""; for (i = 4; i <= NF; i++) h = h $i; print $1, $2, $3, tolower(h) }'
}

# ref_ldns FILE U S M [OFFSET] - "U S M HEX" from ldns-dane create.
ref_ldns()
{
	f=$1 u=$2 s=$3 m=$4
	if [ -n "$5" ]; then
		set -- -o "$5"
	else
		set --
	fi
	ldns-dane -c "$f" "$@" create "$H" 25 "$u" "$s" "$m" 2>"$T/ldns.err" |
	awk '$4 == "TLSA" { print $5, $6, $7, tolower($8) }'
}

# compare NAME REF MINE - "agree", "n/a (tool cannot)" or "DISAGREE" for
# the reference's "U S M HEX" against tlsagen's; a mismatch is kept for
# the failure report.
compare()
{
	case $2 in
	n/a)	echo "n/a (tool cannot)"; return ;;
	esac
	if [ "$2" = "$3" ]; then
		echo "agree"
	else
		echo "DISAGREE"
		printf '  %-10s %s\n  %-10s %s\n' "$1:" "$2" "tlsagen:" "$3" \
		    >> "$T/details"
	fi
}

printf '%-6s %-14s %-5s %-9s %-9s %-18s %s\n' \
    record file depth tlsagen openssl danetool ldns-dane
: > "$T/details"

# row FILE DEPTH U S M HEX - one line of the table for a record tlsagen
# emitted, checked against the certificate at DEPTH of FILE.
row()
{
	file=$1 depth=$2 u=$3 s=$4 m=$5 hex=$6
	n=$(split_chain "$file")
	cert=$T/$file.$depth.pem
	if [ ! -s "$cert" ]; then
		bad "$file has no certificate at depth $depth"
		return
	fi
	r1=$(ref_openssl "$cert" "$s" "$m")
	a1=$(compare openssl "$u $s $m $r1" "$u $s $m $hex")
	r2=$(ref_danetool "$cert" "$u" "$s" "$m")
	[ -n "$r2" ] || r2="error: $(cat "$T/danetool.err")"
	a2=$(compare danetool "$r2" "$u $s $m $hex")
	if [ "$u" = 2 ]; then
		r3=$(ref_ldns "$file" "$u" "$s" "$m" $((n - 1 - depth)))
	else
		r3=$(ref_ldns "$file" "$u" "$s" "$m")
	fi
	[ -n "$r3" ] || r3="error: $(cat "$T/ldns.err")"
	a3=$(compare ldns-dane "$r3" "$u $s $m $hex")
	printf '%-6s %-14s %-5s %-9s %-9s %-18s %s\n' \
	    "$u $s $m" "$file" "$depth" emitted "$a1" "$a2" "$a3"
	case "$a1 $a2 $a3" in
	*DISAGREE*)
		bad "$u $s $m for $file (depth $depth):"
		cat "$T/details"
		: > "$T/details"
		;;
	esac
}

# gen WANT FILE DEPTH TLSAGEN-ARGS... - run tlsagen -f rdata; check every
# record it emits (usage 3 against the leaf, usage 2 against DEPTH) and
# that the wanted "U S M" is among them.
gen()
{
	g_want=$1 g_file=$2 g_depth=$3
	shift 3
	if ! "$TLSAGEN" -f rdata "$@" "$g_file" >"$T/gen.out" 2>"$T/gen.err"
	then
		printf '%-6s %-14s %-5s %s\n' "$g_want" "$g_file" "$g_depth" \
		    "tlsagen failed"
		bad "tlsagen -f rdata $* $g_file exited non-zero:"
		sed 's/^/  | /' "$T/gen.err"
		return
	fi
	grep -q "^$g_want [0-9a-fA-F]" "$T/gen.out" || {
		printf '%-6s %-14s %-5s %s\n' "$g_want" "$g_file" "$g_depth" \
		    "NOT emitted"
		bad "tlsagen -f rdata $* $g_file emitted no '$g_want' record:"
		sed 's/^/  | /' "$T/gen.out"
	}
	# row() runs in the loop and sets its own globals: keep ours apart.
	while read -r g_u g_s g_m g_hex g_rest; do
		if [ -n "$g_rest" ] || [ -z "$g_hex" ]; then
			bad "tlsagen -f rdata $* $g_file: not an rdata line: '$g_u $g_s $g_m $g_hex $g_rest'"
			continue
		fi
		g_hex=$(echo "$g_hex" | hexnorm)
		case $g_u in
		3)	row "$g_file" 0 "$g_u" "$g_s" "$g_m" "$g_hex" ;;
		2)	row "$g_file" "$g_depth" "$g_u" "$g_s" "$g_m" "$g_hex" ;;
		*)	bad "tlsagen -f rdata $* $g_file: usage $g_u emitted" ;;
		esac
	done < "$T/gen.out"
}

# ------------------------------------------------------------ records

# The split must give exactly the files the chain was made from.
split_chain rsa-full.pem >/dev/null
for pair in 1:int.pem 2:ca.pem; do
	openssl x509 -in "$T/rsa-full.pem.${pair%%:*}.pem" -outform DER > "$T/a.der"
	openssl x509 -in "${pair#*:}" -outform DER > "$T/b.der"
	cmp -s "$T/a.der" "$T/b.der" ||
	    bad "rsa-full.pem depth ${pair%%:*} is not ${pair#*:}"
done

for usm in "3 1 1" "3 0 1" "3 1 2" "3 0 0"; do
	for file in rsa.pem ecdsa.pem ed25519.pem rsa-chain.pem rsa-full.pem; do
		gen "$usm" "$file" 0 -r "$usm"
	done
done
for usm in "2 1 1" "2 0 1"; do
	for depth in 1 2; do
		gen "$usm" rsa-full.pem $depth -r "$usm" \
		    --rollover current+issuer --issuer-depth $depth
	done
	gen "$usm" rsa-chain.pem 1 -r "$usm" --rollover current+issuer
done
# The default record set of current+issuer: 3 1 1 plus 2 1 1 of depth 1.
gen "2 1 1" rsa-chain.pem 1 --rollover current+issuer
gen "3 1 1" rsa-full.pem 2 --rollover current+issuer --issuer-depth 2

# A CA that the chain file does not hold gets no record (exit 2).
for args in "--issuer-depth 2 rsa-chain.pem" "rsa.pem"; do
	# shellcheck disable=SC2086 # word splitting wanted
	"$TLSAGEN" -f rdata --rollover current+issuer $args >"$T/gen.out" 2>"$T/gen.err"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$T/gen.out" ] && grep -q '^tlsagen: ' "$T/gen.err"
	then
		echo "refused as it must: tlsagen --rollover current+issuer $args: $(cat "$T/gen.err")"
	else
		bad "tlsagen -f rdata --rollover current+issuer $args: exit $rc (want 2, an error line and no output)"
		sed 's/^/  | /' "$T/gen.out" "$T/gen.err"
	fi
done

# ------------------------------------------------------------ --check
#
# Offline verdicts for chain files against zone files: ldns-dane -c CHAIN
# -t ZONE verify (RFC 6698 matching; names checked for 2 x x) must agree
# with tlsagen --check --zone ZONE -H HOST CHAIN, chain by chain and for
# all chains at once (which passes only if each does).

echo
zone()
{
	z=$T/$1.zone
	shift
	"$TLSAGEN" -f zone -H "$H" "$@" > "$z" 2>"$T/gen.err" || {
		bad "tlsagen -f zone -H $H $* failed:"
		sed 's/^/  | /' "$T/gen.err"
	}
}
zone own rsa-chain.pem rsa.key ecdsa-chain.pem ecdsa.key
zone rsaonly rsa-chain.pem rsa.key
zone other rsa-other.pem
zone selector0 -r "3 0 1" rsa-chain.pem ecdsa-chain.pem
"$TLSAGEN" -f zone -H "$H" --rollover current+issuer rsa-chain.pem 2>"$T/gen.err" |
    grep -v ' TLSA 3 ' > "$T/issuer.zone"
grep -q ' TLSA 2 1 1 ' "$T/issuer.zone" ||
    bad "no 2 1 1 line in tlsagen -f zone -H $H --rollover current+issuer rsa-chain.pem"
# One hex digit changed in the RSA record: a corrupted publication.
rsahex=$(awk '$NF ~ /^[0-9a-f]+$/ && $(NF-3) == "3" { print $NF; exit }' "$T/rsaonly.zone")
[ -n "$rsahex" ] || bad "no 3 1 1 record in tlsagen's zone output for rsa-chain.pem"
first=$(echo "$rsahex" | cut -c1)
if [ "$first" = 0 ]; then flip=1; else flip=0; fi
sed "s/$rsahex/$flip${rsahex#?}/" "$T/own.zone" > "$T/tampered.zone"

verdict()
{
	if [ "$1" -eq 0 ]; then echo pass; else echo fail; fi
}

printf '%-10s %-32s %-10s %-10s %s\n' zone chains ldns-dane tlsagen agreed
for z in own rsaonly other selector0 issuer tampered; do
	for chains in rsa-chain.pem ecdsa-chain.pem "rsa-chain.pem ecdsa-chain.pem"
	do
		lv=0
		for c in $chains; do
			ldns-dane -c "$c" -t "$T/$z.zone" verify "$H" 25 \
			    >"$T/ldns.out" 2>&1 || lv=1
			cat "$T/ldns.out" >> "$T/ldns.all"
		done
		# shellcheck disable=SC2086 # word splitting wanted
		"$TLSAGEN" --check --zone "$T/$z.zone" -H "$H" $chains \
		    >"$T/check.out" 2>&1
		tv=$?
		if [ $tv -gt 1 ]; then
			agreed="NO (tlsagen exit $tv)"
		elif [ $tv -eq $lv ]; then
			agreed=yes
		else
			agreed=NO
		fi
		printf '%-10s %-32s %-10s %-10s %s\n' "$z" "$chains" \
		    "$(verdict $lv)" "$(verdict $tv)" "$agreed"
		if [ "$agreed" != yes ]; then
			bad "zone $z, chains $chains: ldns-dane and tlsagen --check differ"
			echo "  zone:"
			sed 's/^/  | /' "$T/$z.zone"
			echo "  ldns-dane:"
			sed 's/^/  | /' "$T/ldns.all"
			echo "  tlsagen --check --zone $z.zone -H $H $chains (exit $tv):"
			sed 's/^/  | /' "$T/check.out"
		fi
		rm -f "$T/ldns.all"
	done
done

# The verdicts themselves, not only their agreement.
expect_check()
{
	want=$1 z=$2
	shift 2
	"$TLSAGEN" --check --zone "$T/$z.zone" -H "$H" "$@" >/dev/null 2>&1
	got=$?
	[ $got -eq "$want" ] ||
	    bad "tlsagen --check --zone $z.zone -H $H $*: exit $got, want $want"
}
expect_check 0 own rsa-chain.pem ecdsa-chain.pem
expect_check 1 rsaonly rsa-chain.pem ecdsa-chain.pem
expect_check 1 other rsa-chain.pem
expect_check 1 tampered rsa-chain.pem

echo
if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all records agree with every reference that can make them"
exit 0
