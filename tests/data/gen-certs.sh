#!/bin/sh
#
# gen-certs.sh DIR - make the test certificates listed in README.md.
#
# Keys are committed in keys/ so that selector-1 records are stable; the
# certificates are signed afresh on every run so none silently expires.
# Only the openssl command line is used, and no key is generated here
# (RSA key generation would make this slow and the records unstable).
#
set -e

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
out=$1
keys=$(cd "$(dirname "$0")" && pwd)/keys
mkdir -p "$out"
out=$(cd "$out" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# Our own configuration, so that the system openssl.cnf (whose [v3_ca]
# would make every certificate a CA) plays no part.
cat >"$tmp/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca_noskid_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx1.example.test,DNS:mx2.example.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
default_ca = expired_ca
[expired_ca]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[any]
commonName = supplied
EOF
: >"$tmp/index.txt"
echo 1000 >"$tmp/serial"
export OPENSSL_CONF="$tmp/openssl.cnf"
cnf="-config $tmp/openssl.cnf"

for k in ca int rsa ecdsa ed25519 ed448 p384 p521 rsa-next ecdsa-next \
    expired rsa-other selfsigned dsa k256; do
	cp "$keys/$k.key" "$out/$k.key"
done

serial=1
# sign NAME ISSUER CN EXT: NAME.pem over NAME.key, issued by ISSUER.
sign() {
	serial=$((serial + 1))
	openssl req $cnf -x509 -new -key "$out/$1.key" -subj "/CN=$3" \
	    -CA "$out/$2.pem" -CAkey "$out/$2.key" -set_serial "$serial" \
	    -days 30 -sha256 -extensions "$4" -out "$out/$1.pem"
}

openssl req $cnf -x509 -new -key "$out/ca.key" \
    -subj "/CN=daneguard test root CA" -set_serial 1 -days 60 -sha256 \
    -extensions ca_ext -out "$out/ca.pem"
sign int ca "daneguard test intermediate CA" ca_ext

for k in rsa ecdsa ed25519 ed448 p384 p521 rsa-other k256; do
	sign $k int mx1.example.test leaf_ext
done
for k in rsa ecdsa ed25519 rsa-other; do
	cat "$out/$k.pem" "$out/int.pem" >"$out/$k-chain.pem"
done
cat "$out/rsa.pem" "$out/int.pem" "$out/ca.pem" >"$out/rsa-full.pem"
# A CA that did not issue the leaf; a stray certificate above the chain.
cat "$out/rsa.pem" "$out/ca.pem" >"$out/rsa-notissuer.pem"
cat "$out/rsa.pem" "$out/int.pem" "$out/rsa-other.pem" >"$out/rsa-stray.pem"
# A CA with the intermediate's name but another key (and no key
# identifier): only the signature tells that it did not issue the leaf.
openssl req $cnf -x509 -new -key "$out/p384.key" \
    -subj "/CN=daneguard test intermediate CA" -set_serial 102 -days 60 \
    -sha256 -extensions ca_noskid_ext -out "$out/fakeint.pem"
cat "$out/rsa.pem" "$out/fakeint.pem" >"$out/rsa-fakeint.pem"

# Self-signed leaf, and a DSA certificate (unsupported algorithm).
openssl req $cnf -x509 -new -key "$out/selfsigned.key" \
    -subj "/CN=mx1.example.test" -set_serial 100 -days 30 -sha256 \
    -extensions leaf_ext -out "$out/selfsigned.pem"
openssl req $cnf -x509 -new -key "$out/dsa.key" \
    -subj "/CN=mx1.example.test" -set_serial 101 -days 30 -sha256 \
    -extensions leaf_ext -out "$out/dsa.pem"

# A genuinely expired leaf: "openssl ca" is the one openssl 3.0 command
# that takes explicit validity dates.
openssl req $cnf -new -key "$out/expired.key" -subj "/CN=mx1.example.test" \
    -out "$tmp/expired.csr"
openssl ca $cnf -batch -notext -cert "$out/int.pem" -keyfile "$out/int.key" \
    -startdate 20200101000000Z -enddate 20200301000000Z \
    -extfile "$tmp/openssl.cnf" -extensions leaf_ext \
    -in "$tmp/expired.csr" -out "$out/expired.pem" 2>/dev/null

# A leaf valid now under an expired intermediate CA (the p521 key, issued
# by ca, valid 2020-01-01 to 2020-03-01): DANE-TA with that CA as the
# trust anchor still verifies in OpenSSL (a trust anchor's dates are not
# checked), with ca as the trust anchor it does not ("certificate has
# expired").
cp "$out/p521.key" "$out/expired-int.key"
cp "$out/ecdsa.key" "$out/ecdsa-expint.key"
openssl req $cnf -new -key "$out/expired-int.key" \
    -subj "/CN=daneguard test expired intermediate CA" -out "$tmp/expint.csr"
openssl ca $cnf -batch -notext -cert "$out/ca.pem" -keyfile "$out/ca.key" \
    -startdate 20200101000000Z -enddate 20200301000000Z \
    -extfile "$tmp/openssl.cnf" -extensions ca_ext \
    -in "$tmp/expint.csr" -out "$out/expired-int.pem" 2>/dev/null
sign ecdsa-expint expired-int mx1.example.test leaf_ext
cat "$out/ecdsa-expint.pem" "$out/expired-int.pem" >"$out/ecdsa-expint-chain.pem"
cat "$out/ecdsa-expint.pem" "$out/expired-int.pem" "$out/ca.pem" \
    >"$out/ecdsa-expint-full.pem"

# Other forms of the same keys.
openssl pkey -in "$keys/ecdsa-next.key" -pubout -out "$out/ecdsa-next.pub"
openssl pkey -in "$keys/ecdsa-next.key" -pubout -outform DER \
    -out "$out/ecdsa-next.pub.der"
openssl ec -in "$keys/ecdsa-next.key" -pubout -conv_form compressed \
    -out "$out/ecdsa-next-compressed.pub" 2>/dev/null
openssl rsa -in "$keys/rsa.key" -traditional -out "$out/rsa-trad.key" \
    2>/dev/null
openssl ec -in "$keys/ecdsa.key" -out "$out/ecdsa-trad.key" 2>/dev/null
openssl pkey -in "$keys/rsa.key" -outform DER -out "$out/rsa.key.der"
openssl x509 -in "$out/rsa.pem" -outform DER -out "$out/rsa.pem.der"
echo "correct horse battery staple" >"$out/pass.txt"
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$keys/rsa.key" \
    -passout "file:$out/pass.txt" -out "$out/rsa-enc.key"

cat "$out/ecdsa.key" "$out/ecdsa-chain.pem" >"$out/combined.pem"
cat "$out/rsa.pem" "$out/ecdsa.pem" >"$out/leafonly-as-ca.pem"

# Broken files. The garbage is a fixed AES-CTR keystream, so that it is
# the same on every run (it starts with neither "-" nor a DER SEQUENCE).
head -c 1024 /dev/zero | openssl enc -aes-128-ctr -nosalt \
    -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 \
    >"$out/garbage.pem"
: >"$out/empty.pem"
# rsa.pem is 20-odd lines: BEGIN line and 64-column base64.
head -n 8 "$out/rsa.pem" >"$out/truncated.pem"
{ head -n 8 "$out/rsa.pem"; tail -n 1 "$out/rsa.pem"; } \
    >"$out/truncated-mid.pem"
mkdir -p "$out/dir.pem"
rm -f "$out/unreadable.pem"
cp "$out/rsa.pem" "$out/unreadable.pem"
chmod 000 "$out/unreadable.pem"
