#!/bin/sh
# tests/tlsagen/oracle.sh - TLSA data by the openssl command line alone,
# as the independent reference that tlsagen's and the probe's expected
# records are checked against (they share lib/tlsa.c: a record computed
# by the code under test proves nothing about that code).
#
#	sh oracle.sh [-p PASSFILE] FILE...
#
# For every certificate in each FILE (PEM, several per file, or DER) and
# every key (private or public, PEM or DER, encrypted with PASSFILE),
# prints lines
#	SELECTOR MTYPE HEX INDEX FILE
# for selector 0 (the whole certificate; certificates only) and 1 (the
# SubjectPublicKeyInfo, EC points uncompressed as a server sends them) and
# matching types 0 (full), 1 (SHA-256) and 2 (SHA-512, both by
# coreutils); INDEX is the
# certificate's place in its file (0 = the first, the leaf of a chain)
# and 0 for a key. Files that hold neither give no lines.

pass=
if [ "$1" = -p ]; then
	pass=$2
	shift 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/oracle.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# emit SEL IDX FILE < DER
emit()
{
	cat > "$tmp/der"
	[ -s "$tmp/der" ] || return 0
	echo "$1 0 $(od -An -v -tx1 "$tmp/der" | tr -d ' \n') $2 $3"
	echo "$1 1 $(sha256sum < "$tmp/der" | cut -d' ' -f1) $2 $3"
	echo "$1 2 $(sha512sum < "$tmp/der" | cut -d' ' -f1) $2 $3"
}

cert()	# cert PEMFILE IDX NAME
{
	openssl x509 -in "$1" -outform DER 2>/dev/null | emit 0 "$2" "$3"
	openssl x509 -in "$1" -noout -pubkey >"$tmp/pub.pem" 2>/dev/null
	# -ec_conv_form is for EC keys only
	{ openssl pkey -pubin -in "$tmp/pub.pem" -outform DER \
	    -ec_conv_form uncompressed 2>/dev/null ||
	    openssl pkey -pubin -in "$tmp/pub.pem" -outform DER 2>/dev/null; } |
	    emit 1 "$2" "$3"
}

key()	# key FILE FORM NAME
{
	for io in "" "-pubin"; do
		# shellcheck disable=SC2086
		openssl pkey $io -in "$1" -inform "$2" -pubout -outform DER \
		    ${pass:+-passin file:$pass} -ec_conv_form uncompressed \
		    >"$tmp/pub" 2>/dev/null ||
		    openssl pkey $io -in "$1" -inform "$2" -pubout \
		    -outform DER ${pass:+-passin file:$pass} \
		    >"$tmp/pub" 2>/dev/null || continue
		emit 1 0 "$3" < "$tmp/pub"
		return
	done
}

for f in "$@"; do
	[ -f "$f" ] && [ -r "$f" ] || continue
	if grep -q -- '-----BEGIN' "$f" 2>/dev/null; then
		# one file per certificate, in order
		rm -f "$tmp"/c.*
		awk -v d="$tmp" '/-----BEGIN CERTIFICATE-----/ { n++; out = d "/c." n }
		    out { print > out } /-----END CERTIFICATE-----/ { out = "" }' "$f"
		i=0
		while [ -f "$tmp/c.$((i + 1))" ]; do
			cert "$tmp/c.$((i + 1))" "$i" "$f"
			i=$((i + 1))
		done
		grep -q -- '-----BEGIN .*\(PRIVATE\|PUBLIC\) KEY-----' "$f" &&
		    key "$f" PEM "$f"
	else
		if openssl x509 -inform DER -in "$f" -out "$tmp/c.der.pem" \
		    2>/dev/null; then
			cert "$tmp/c.der.pem" 0 "$f"
		else
			key "$f" DER "$f"
		fi
	fi
done
exit 0
