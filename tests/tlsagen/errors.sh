#!/bin/sh
#
# errors.sh - every error tlsagen(1) lists: exit status 2 and one line on
# stderr that names the file (or option, or host); warnings that leave the
# exit status 0; a failed run that leaves an existing -o file alone;
# --check's exit statuses; --new-key.
#
# Environment: TLSAGEN, CERTDIR. Exit 0 pass, 1 fail, 77 skip.

if [ -z "$TLSAGEN" ] || [ -z "$CERTDIR" ]; then
	echo "errors.sh: TLSAGEN and CERTDIR must be set" >&2
	exit 77
fi
[ -x "$TLSAGEN" ] || { echo "errors.sh: $TLSAGEN missing" >&2; exit 77; }
command -v openssl >/dev/null 2>&1 || exit 77

tmp=$(mktemp -d "${TMPDIR:-/tmp}/errors.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
cd "$CERTDIR" || exit 1
fail=0
ncase=0
RUNAS=
H="-H mx1.example.test"

bad() {
	echo "FAIL $*"
	fail=1
}

# err NAME 'TEXT' ARGS...: exit 2, exactly one stderr line "tlsagen: ..."
# that contains TEXT, nothing on stdout.
err() {
	name=$1 text=$2
	shift 2
	ncase=$((ncase + 1))
	# shellcheck disable=SC2086
	$RUNAS "$TLSAGEN" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 2 ]; then
		bad "$name: exit $rc, want 2: tlsagen $*"
		cat "$tmp/err"
		return
	fi
	if [ "$(wc -l <"$tmp/err")" -ne 1 ] ||
	    ! grep -q '^tlsagen: ' "$tmp/err" ||
	    ! grep -qF -- "$text" "$tmp/err"; then
		bad "$name: want one line with '$text': tlsagen $*"
		cat "$tmp/err"
	fi
	if [ -s "$tmp/out" ]; then
		bad "$name: output on a failed run: tlsagen $*"
		cat "$tmp/out"
	fi
}

# warn NAME 'TEXT' ARGS...: exit 0, stdout not empty, a "tlsagen: warning:"
# line on stderr that contains TEXT.
warn() {
	name=$1 text=$2
	shift 2
	ncase=$((ncase + 1))
	"$TLSAGEN" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$tmp/out" ] ||
	    ! grep -F -- "$text" "$tmp/err" | grep -q '^tlsagen: warning: '
	then
		bad "$name: exit $rc, want 0 and a warning '$text': tlsagen $*"
		cat "$tmp/err"
	fi
}

# --------------------------------------------------------------- input files
err missing 'nosuch.pem: no such file' $H nosuch.pem
err missing-next 'nosuch.key' $H rsa.pem --next nosuch.key
err directory 'dir.pem' $H dir.pem
err empty 'empty.pem' $H empty.pem
err garbage 'garbage.pem' $H garbage.pem
err truncated 'truncated.pem' $H truncated.pem
err truncated-mid 'truncated-mid.pem' $H truncated-mid.pem
err encrypted 'rsa-enc.key: encrypted' $H rsa.pem rsa-enc.key
ncase=$((ncase + 1))
if ! "$TLSAGEN" -f rdata rsa.pem rsa-enc.key --passphrase-file pass.txt \
    >"$tmp/out" 2>"$tmp/err" || [ -s "$tmp/err" ] ||
    ! grep -q '^3 1 1 [0-9a-f]\{64\}$' "$tmp/out"; then
	bad "encrypted key with --passphrase-file"
	cat "$tmp/err"
fi
echo "not the passphrase" >"$tmp/wrong.txt"
err wrong-pass 'rsa-enc.key' $H rsa.pem rsa-enc.key \
    --passphrase-file "$tmp/wrong.txt"
err missing-pass 'nosuch.txt' $H rsa.pem rsa-enc.key \
    --passphrase-file nosuch.txt
# A key that is not the leaf's: both files named.
err mismatch 'ecdsa.key' $H rsa.pem ecdsa.key
grep -qF 'rsa.pem' "$tmp/err" || bad "mismatch: rsa.pem not named"
err mismatch-many 'rsa-other.key' $H rsa-chain.pem ecdsa-chain.pem \
    rsa-other.key
err key-alone 'rsa.key' $H rsa.key
err dsa 'dsa.pem' $H dsa.pem
grep -qi 'dsa' "$tmp/err" || bad "dsa: algorithm not named"
err dsa-key 'dsa.key' $H rsa.pem --next dsa.key
err secp256k1 'k256.pem' $H k256.pem
grep -q 'secp256k1' "$tmp/err" || bad "secp256k1: curve not named"
# A chain followed by NUL bytes: what a crash leaves of a half-written copy.
{ cat rsa.pem; head -c 4096 /dev/zero; } >"$tmp/nul.pem"
err nul-bytes 'nul.pem: NUL bytes in a PEM file' $H "$tmp/nul.pem"
# Unreadable: root reads anything, so as root read as nobody.
cp rsa.pem "$tmp/unreadable.pem"
chmod 000 "$tmp/unreadable.pem"
chmod 755 "$tmp"
if [ "$(id -u)" -ne 0 ]; then
	err unreadable 'unreadable.pem: permission denied' \
	    $H "$tmp/unreadable.pem"
elif command -v setpriv >/dev/null 2>&1; then
	RUNAS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	err unreadable 'unreadable.pem: permission denied' \
	    $H "$tmp/unreadable.pem"
	RUNAS=
else
	echo "errors.sh: no setpriv: unreadable file not tested"
fi

# ------------------------------------------------------------------ options
err no-host 'no host' rsa.pem
# -H follows the rule of a host section of -c
label64=$(printf '%064d' 0 | tr 0 a)
err host-label64 "not a host name" -H "$label64.example.test" rsa.pem
err host-5000 "not a host name" -H "$(printf '%05000d' 0 | tr 0 a)" rsa.pem
err host-underscore "not a host name" -H "mx_1.example.test" rsa.pem
err no-host-generic 'no host' -f generic rsa.pem
err no-host-nsupdate 'no host' -f nsupdate rsa.pem
err usage-1 'usage 1 (PKIX-EE)' $H -r "1 1 1" rsa.pem
grep -q 'RFC 7672' "$tmp/err" || bad "usage-1: no reason given"
err usage-0 'usage 0 (PKIX-TA)' $H -r "0 0 1" rsa.pem
err bad-r "-r '3 2 1'" $H -r "3 2 1" rsa.pem
err bad-r-text "-r 'x'" $H -r x rsa.pem
err bad-r-mtype "-r '3 1 3'" $H -r "3 1 3" rsa.pem
err bad-p "-p '0'" $H -p 0 rsa.pem
err bad-p-big "-p '65536'" $H -p 65536 rsa.pem
err bad-p-text "-p 'smtp'" $H -p smtp rsa.pem
err bad-t "-t '-1'" $H -t -1 rsa.pem
err bad-t-text "-t 'long'" $H -t long rsa.pem
err bad-f "-f 'bind'" $H -f bind rsa.pem
err bad-rollover "--rollover 'next'" $H --rollover next rsa.pem
err bad-depth "--issuer-depth '0'" $H --issuer-depth 0 rsa.pem
err unknown-long "'--frobnicate'" $H --frobnicate rsa.pem
err unknown-short "'-Z'" $H -Z rsa.pem
err needs-arg "-H: needs an argument" rsa.pem -H
err depfile-no-o '--depfile needs -o' $H --depfile "$tmp/d" rsa.pem
err no-input 'no input' $H
err zone-no-check '--zone is only used with --check' $H --zone x rsa.pem
err sync-zone-form '--sync prints nsupdate commands or json' $H --sync -f zone rsa.pem
err sync-check '--sync prints the changes on standard output' $H --sync --check --dns rsa.pem
err sync-output '--sync prints the changes on standard output' $H --sync -o "$tmp/x" rsa.pem
err sync-no-host 'no host: --sync needs -H HOST' --sync rsa.pem
err min-age-alone '--min-age is only used with --check --dns or --sync' $H --min-age 60 rsa.pem
err conf-and-files '-c' -c /nonexistent.conf rsa.pem
err issuer-missing 'rsa.pem' $H --rollover current+issuer rsa.pem
err issuer-not-ca 'leafonly-as-ca.pem' $H --rollover current+issuer \
    leafonly-as-ca.pem
err conf-missing 'nosuch.conf' -c "$tmp/nosuch.conf"
printf 'host "mx1.example.test" {\n\tcert "rsa" { chain = "%s/rsa.pem" }\n}\n' \
    "$CERTDIR" >"$tmp/one.conf"
err conf-host 'mx9.example.test' -c "$tmp/one.conf" -H mx9.example.test

# ----------------------------------------------------------------- warnings
warn selector0 'selector 0' $H -r "3 0 1" rsa.pem
warn mtype0 'matching type 0' $H -r "3 1 0" rsa.pem
warn ttl-short 'TTL 300' $H -t 300 rsa.pem
warn ttl-long 'TTL 86400' $H -t 86400 rsa.pem
warn expired 'expired 2020-03-01' $H expired.pem
grep -q '^; note: .*expired 2020-03-01' "$tmp/out" ||
    bad "expired: no note in the zone output"
grep -q '3 1 1 [0-9a-f]\{64\}$' "$tmp/out" || bad "expired: no record"
# certbot's renewal file without key reuse: the next renewal's new key is
# announced by no record.
mkdir -p "$tmp/le/live/mx1" "$tmp/le/renewal"
cp rsa-chain.pem "$tmp/le/live/mx1/fullchain.pem"
printf '[renewalparams]\nkey_type = rsa\n' > "$tmp/le/renewal/mx1.conf"
printf 'host "mx1.example.test" {\n\tcert "rsa" { chain = "%s" }\n}\n' \
    "$tmp/le/live/mx1/fullchain.pem" > "$tmp/le.conf"
warn certbot-no-reuse 'le/renewal/mx1.conf has no reuse_key = True' -c "$tmp/le.conf"
printf '[renewalparams]\nreuse_key = True\n' > "$tmp/le/renewal/mx1.conf"
ncase=$((ncase + 1))
"$TLSAGEN" -c "$tmp/le.conf" >/dev/null 2>"$tmp/err" && [ ! -s "$tmp/err" ] ||
    { bad "certbot-reuse: a warning with reuse_key = True"; cat "$tmp/err"; }
ncase=$((ncase + 1))
"$TLSAGEN" -q $H -t 60 -r "3 0 1" rsa.pem >"$tmp/out" 2>"$tmp/err" &&
    [ ! -s "$tmp/err" ] || bad "-q: warnings printed"

# ------------------------------------------ a failed run leaves -o alone
ncase=$((ncase + 1))
printf '; the published records, hand-checked\n' >"$tmp/keep.zone"
cp "$tmp/keep.zone" "$tmp/keep.orig"
for args in "garbage.pem" "rsa.pem ecdsa.key" "-r 1,1,1 rsa.pem" \
    "rsa.pem --next nosuch.key" "--rollover current+issuer rsa.pem"; do
	# shellcheck disable=SC2086
	"$TLSAGEN" $H -o "$tmp/keep.zone" --depfile "$tmp/keep.d" $args \
	    >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || bad "keep ($args): exit $rc, want 2"
	cmp -s "$tmp/keep.zone" "$tmp/keep.orig" ||
	    bad "keep ($args): -o file changed by a failed run"
	[ ! -e "$tmp/keep.d" ] || bad "keep ($args): depfile written"
	leftover=$(find "$tmp" -name 'keep.zone?*' | head -1)
	[ -z "$leftover" ] || bad "keep ($args): temporary $leftover left"
done

# ------------------------------------------------------------------- --check
TWO="rsa-chain.pem ecdsa-chain.pem --next rsa-next.key --next ecdsa-next.key"
# shellcheck disable=SC2086
"$TLSAGEN" $H $TWO >"$tmp/full.zone" || bad "check: cannot make the zone"
ecdsa=$("$TLSAGEN" -f rdata ecdsa-chain.pem | cut -d' ' -f4)
next=$("$TLSAGEN" -f rdata --next ecdsa-next.key | cut -d' ' -f4)
grep -v "$ecdsa" "$tmp/full.zone" >"$tmp/no-ecdsa.zone"
grep -v "$next" "$tmp/full.zone" >"$tmp/no-next.zone"

# check NAME STATUS ZONE [extra args]
check() {
	name=$1 want=$2 zone=$3
	shift 3
	ncase=$((ncase + 1))
	# shellcheck disable=SC2086
	"$TLSAGEN" --check --zone "$zone" $H "$@" $TWO >"$tmp/out" \
	    2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		bad "check $name: exit $rc, want $want"
		cat "$tmp/out" "$tmp/err"
	fi
}
check covered 0 "$tmp/full.zone"
[ "$(grep -c '^ok ' "$tmp/out")" -eq 4 ] || bad "check covered: not 4 ok lines"
check no-ecdsa 1 "$tmp/no-ecdsa.zone"
grep -q '^MISSING .*ecdsa-p256 current ecdsa-chain.pem' "$tmp/out" ||
    bad "check no-ecdsa: no MISSING line for ecdsa"
grep -q "^_25._tcp.mx1.example.test. 3600 IN TLSA 3 1 1 $ecdsa\$" \
    "$tmp/out" || bad "check no-ecdsa: record to publish not shown"
[ "$(grep -c '^MISSING' "$tmp/out")" -eq 1 ] ||
    bad "check no-ecdsa: other items reported missing"
check no-next 1 "$tmp/no-next.zone"
grep -q '^MISSING .*ecdsa-p256 next ecdsa-next.key' "$tmp/out" ||
    bad "check no-next: no MISSING line for the next key"
grep -q '^ok .*ecdsa-p256 current' "$tmp/out" ||
    bad "check no-next: current ecdsa not ok"
# issuers = { ... }: a sibling CA without its 2 x x record is MISSING,
# with that record to publish and no other (the record by openssl).
cat >"$tmp/sib.conf" <<EOF
host "mx1.example.test" {
  rollover = "current+issuer"
  cert "rsa" { chain = "$CERTDIR/rsa-chain.pem" issuers = { "$CERTDIR/ca.pem" } }
}
EOF
sib=$(openssl x509 -in ca.pem -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1)
"$TLSAGEN" -c "$tmp/sib.conf" >"$tmp/sib.zone" || bad "check sibling: cannot make the zone"
grep -q "IN TLSA 2 1 1 $sib\$" "$tmp/sib.zone" || bad "check sibling: no 2 1 1 for ca.pem"
grep -v "$sib" "$tmp/sib.zone" >"$tmp/sib-missing.zone"
ncase=$((ncase + 1))
"$TLSAGEN" -c "$tmp/sib.conf" --check --zone "$tmp/sib.zone" >"$tmp/out" 2>&1 ||
    { bad "check sibling: not covered with every record"; cat "$tmp/out"; }
ncase=$((ncase + 1))
"$TLSAGEN" -c "$tmp/sib.conf" --check --zone "$tmp/sib-missing.zone" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q '^MISSING .* issuer .*/ca.pem: no usable 2 x x record' "$tmp/out" &&
    [ "$(grep -c '^MISSING' "$tmp/out")" -eq 1 ] &&
    [ "$(grep '^_25\._tcp' "$tmp/out")" = "_25._tcp.mx1.example.test. 3600 IN TLSA 2 1 1 $sib" ] ||
    { bad "check sibling missing: exit $rc"; cat "$tmp/out"; }

# Relative names with --origin, generic rdata, another TTL: still covered.
{
	echo '$ORIGIN example.test.'
	echo '$TTL 1800'
	"$TLSAGEN" $H -f generic $TWO | grep -v '^;' |
	    sed 's/^_25._tcp.mx1.example.test. 3600/_25._tcp.mx1/'
} >"$tmp/relative.zone"
check origin 0 "$tmp/relative.zone"
echo '_25._tcp.mx1 IN TLSA 3 1 1 00' >"$tmp/bad.zone"
check bad-zone 2 "$tmp/bad.zone"
grep -q 'bad.zone' "$tmp/err" || bad "check bad-zone: file not named"
check no-zone-file 2 "$tmp/nosuch.zone"
err check-no-zone '--check needs --zone' --check $H rsa.pem
err check-no-host 'no host' --check --zone "$tmp/full.zone" rsa.pem

# ----------------------------------------------------------------- --new-key
for alg in rsa ecdsa; do
	ncase=$((ncase + 1))
	key=$tmp/new-$alg.key
	out=$("$TLSAGEN" --new-key "$alg" -o "$key" $H 2>"$tmp/err")
	rc=$?
	[ "$rc" -eq 0 ] || { bad "new-key $alg: exit $rc"; cat "$tmp/err"; }
	mode=$(stat -c %a "$key" 2>/dev/null)
	[ "$mode" = 600 ] || bad "new-key $alg: mode $mode, want 600"
	want=$(openssl pkey -in "$key" -pubout -outform DER 2>/dev/null |
	    openssl dgst -sha256 -r | cut -d' ' -f1)
	[ "$out" = "_25._tcp.mx1.example.test. 3600 IN TLSA 3 1 1 $want" ] ||
	    bad "new-key $alg: printed '$out', want the 3 1 1 of $want"
	rdata=$("$TLSAGEN" --new-key "$alg" -o "$key.2" 2>/dev/null)
	want=$(openssl pkey -in "$key.2" -pubout -outform DER 2>/dev/null |
	    openssl dgst -sha256 -r | cut -d' ' -f1)
	[ "$rdata" = "3 1 1 $want" ] || bad "new-key $alg: rdata '$rdata'"
	# Never overwrite.
	cp "$key" "$tmp/before" 2>/dev/null
	err "new-key-exists-$alg" "new-$alg.key" --new-key "$alg" -o "$key"
	cmp -s "$key" "$tmp/before" || bad "new-key $alg: existing key changed"
done
case $(openssl pkey -in "$tmp/new-rsa.key" -noout -text 2>/dev/null |
    head -1) in
*2048*) ;;
*) bad "new-key rsa: not RSA-2048" ;;
esac
openssl pkey -in "$tmp/new-ecdsa.key" -noout -text 2>/dev/null |
    grep -q 'prime256v1\|P-256' || bad "new-key ecdsa: not P-256"
err new-key-alg "--new-key 'dsa'" --new-key dsa -o "$tmp/dsa.key"
[ ! -e "$tmp/dsa.key" ] || bad "new-key dsa: a file was made"
err new-key-no-o '--new-key needs -o' --new-key rsa

[ "$fail" -eq 0 ] && echo "errors.sh: $ncase cases passed"
exit "$fail"
