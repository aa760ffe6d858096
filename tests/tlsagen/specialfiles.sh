#!/bin/sh
#
# specialfiles.sh - a FIFO or a device at every path the programs read.
#
# Each file that tlsagen and daneguard read (the configuration, chains,
# keys, next keys, passphrase files, zone and tlsa files, the trust
# anchor, resolver_config, the first-seen state, the access map) is
# replaced in turn by a FIFO with no writer and by /dev/zero. A FIFO
# used to block for ever, /dev/zero to spin. Each must now end at once
# (well within the 20 s that catch a hang) with a one-line error that
# names the file and says it is not a regular file, and a documented
# non-zero exit status. And tlsagen -o refuses a target that is not a
# regular file (a symbolic link, a FIFO, a device node) and leaves it.
#
# Environment: TLSAGEN, CERTDIR, top_builddir. Also run under the
# sanitizers (a build configured with CFLAGS=-fsanitize=address,undefined):
# a sanitizer report on stderr fails the case.

: "${top_builddir:?}" "${TLSAGEN:?}" "${CERTDIR:?}"
DANEGUARD=${DANEGUARD:-$top_builddir/milter/daneguard}
[ -x "$TLSAGEN" ] && [ -x "$DANEGUARD" ] ||
	{ echo "specialfiles.sh: $TLSAGEN or $DANEGUARD missing"; exit 1; }
command -v mkfifo >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1 ||
	{ echo "specialfiles.sh: mkfifo, timeout (coreutils) missing"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/specialfiles.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
mkfifo "$tmp/fifo" || exit 1
cp "$CERTDIR/rsa-chain.pem" "$CERTDIR/rsa.key" "$CERTDIR/rsa-next.key" \
    "$tmp/" || exit 1
printf 'secret\n' >"$tmp/pass"
printf '. IN DS 20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d\n' \
    >"$tmp/anchor"
printf 'server:\n' >"$tmp/unbound.conf"
printf 'Connect:192.0.2.1 OK\n' >"$tmp/access"
"$TLSAGEN" -q -H mx1.example.test "$tmp/rsa-chain.pem" >"$tmp/zone" || exit 1

fail=0
n=0

# conf FILE [KEY=PATH...] - a daneguard.conf with the good files, any of
# them replaced: chain= key= next= pass= anchor= rconf= access= tlsa=
conf() {
	out=$1
	shift
	chain=$tmp/rsa-chain.pem key=$tmp/rsa.key next=$tmp/rsa-next.key
	pass= anchor=$tmp/anchor rconf= access= tlsa=
	for kv in "$@"; do
		eval "${kv%%=*}=\${kv#*=}"
	done
	{
		echo "state_dir = \"$tmp/state\""
		[ -n "$tlsa" ] && echo "tlsa_file = \"$tlsa\""
		[ -n "$access" ] && echo "sendmail_access = \"$access\""
		echo "dns { trust_anchor_file = \"$anchor\""
		# nothing leaves the host: lookups fail at once
		echo "  resolver = \"127.0.0.1@1\""
		[ -n "$rconf" ] && echo "  resolver_config = \"$rconf\""
		echo "}"
		echo "host \"mx1.example.test\" {"
		echo "  probe = { \"127.0.0.1\" }"
		echo "  port = 1"
		echo "  cert \"rsa\" { chain = \"$chain\" key = \"$key\""
		echo "    next_key = \"$next\""
		[ -n "$pass" ] && echo "    passphrase_file = \"$pass\""
		echo "  }"
		echo "}"
	} >"$out"
}

# expect WHAT PATH WANT-STATUS CMD... - CMD ends with status WANT-STATUS
# within 20 s, its stderr is one line naming PATH "not a regular file",
# and no sanitizer spoke.
expect() {
	what=$1 path=$2 want=$3
	shift 3
	n=$((n + 1))
	timeout 20 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	lines=$(grep -c . "$tmp/err")
	if [ $rc -eq 124 ]; then
		echo "FAIL $what: still running after 20 s (hang or spin)"
	elif grep -q 'Sanitizer\|runtime error' "$tmp/err"; then
		echo "FAIL $what: sanitizer report"
	elif [ $rc -ne "$want" ]; then
		echo "FAIL $what: exit $rc, want $want"
	elif [ "$lines" -ne 1 ] ||
	    ! grep -qF "$path: " "$tmp/err" ||
	    ! grep -q "not a regular file" "$tmp/err"; then
		echo "FAIL $what: want one line naming $path, not a regular file"
	else
		echo "ok   $what: $(cat "$tmp/err")"
		return 0
	fi
	sed 's/^/  | /' "$tmp/err" | head -n 40
	fail=1
}

# expect_check WHAT PATH CONF - "daneguard --check -c CONF" (one sweep, as
# the guard makes them) ends within 20 s with exit 2 or 3 (CRITICAL: the
# .test names are insecure in libunbound's built-in local zone; UNKNOWN)
# and a row naming PATH "not a regular file".
expect_check() {
	n=$((n + 1))
	timeout 20 "$DANEGUARD" --check -c "$3" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ $rc -eq 124 ]; then
		echo "FAIL $1: still running after 20 s (hang or spin)"
	elif grep -q 'Sanitizer\|runtime error' "$tmp/err"; then
		echo "FAIL $1: sanitizer report"
	elif [ $rc -ne 2 ] && [ $rc -ne 3 ]; then
		echo "FAIL $1: exit $rc, want 2 or 3"
	elif ! grep -F "$2: " "$tmp/out" | grep -q "not a regular file"; then
		echo "FAIL $1: no row naming $2, not a regular file"
	else
		echo "ok   $1: $(grep -F "$2: " "$tmp/out" | head -n 1)"
		return 0
	fi
	sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -n 40
	fail=1
}

for special in "$tmp/fifo" /dev/zero; do
	kind=FIFO
	[ "$special" = /dev/zero ] && kind=/dev/zero

	# The configuration itself.
	expect "daneguard -n -c $kind" "$special" 1 "$DANEGUARD" -n -c "$special"
	expect "tlsagen -c $kind" "$special" 2 "$TLSAGEN" -c "$special"

	# Chains, keys, next keys, passphrase files: tlsagen -c reads them all.
	for f in chain key next pass; do
		conf "$tmp/c.conf" "$f=$special"
		expect "tlsagen -c, $f = $kind" "$special" 2 \
		    "$TLSAGEN" -q -c "$tmp/c.conf"
	done
	expect "tlsagen CHAIN, chain $kind" "$special" 2 \
	    "$TLSAGEN" -H mx1.example.test "$special"
	expect "tlsagen --next $kind" "$special" 2 \
	    "$TLSAGEN" -H mx1.example.test --next "$special" "$tmp/rsa-chain.pem"
	expect "tlsagen --passphrase-file $kind" "$special" 2 \
	    "$TLSAGEN" -H mx1.example.test --passphrase-file "$special" \
	    "$tmp/rsa-chain.pem" "$tmp/rsa.key"

	# Zone files.
	expect "tlsagen --check --zone $kind" "$special" 2 \
	    "$TLSAGEN" --check --zone "$special" -H mx1.example.test \
	    "$tmp/rsa-chain.pem"

	# The resolver's files: daneguard -n is the reload gate.
	conf "$tmp/c.conf" "anchor=$special"
	expect "daneguard -n, trust_anchor_file = $kind" "$special" 1 \
	    "$DANEGUARD" -n -c "$tmp/c.conf"
	conf "$tmp/c.conf" "rconf=$special"
	expect "daneguard -n, resolver_config = $kind" "$special" 1 \
	    "$DANEGUARD" -n -c "$tmp/c.conf"
	expect "tlsagen --check --dns --resolver-config $kind" "$special" 2 \
	    "$TLSAGEN" --check --dns --resolver-config "$special" \
	    -H mx1.example.test "$tmp/rsa-chain.pem"
	expect "tlsagen --check --dns --state $kind" "$special" 2 \
	    "$TLSAGEN" --check --dns --state "$special" \
	    -H mx1.example.test "$tmp/rsa-chain.pem"

	# What the guard reads at every sweep: chains, tlsa_file, the access
	# map (daneguard --check makes one sweep the same way).
	conf "$tmp/c.conf" "chain=$special"
	expect_check "daneguard --check, chain = $kind" "$special" "$tmp/c.conf"
	conf "$tmp/c.conf" "tlsa=$special"
	expect_check "daneguard --check, tlsa_file = $kind" "$special" \
	    "$tmp/c.conf"
	conf "$tmp/c.conf" "access=$special"
	expect_check "daneguard --check, sendmail_access = $kind" "$special" \
	    "$tmp/c.conf"
done

# tlsagen -o replaces regular files only: a symbolic link, a FIFO or a
# device node at the target is refused and left as it was (once, as
# root, "-o /dev/null" turned /dev/null into a regular file).
printf 'original\n' >"$tmp/target"
chmod 600 "$tmp/target"
ln -s "$tmp/target" "$tmp/link.zone"
targets="$tmp/link.zone $tmp/fifo"
if [ "$(id -u)" = 0 ] && mknod "$tmp/null" c 1 3 2>/dev/null; then
	targets="$targets $tmp/null"
fi
for t in $targets; do
	before=$(ls -l "$t")
	expect "tlsagen -o $(basename "$t")" "$t" 2 \
	    "$TLSAGEN" -H mx1.example.test -o "$t" "$tmp/rsa-chain.pem"
	[ "$(ls -l "$t")" = "$before" ] ||
		{ echo "FAIL tlsagen -o $t changed it: $(ls -l "$t")"; fail=1; }
done
[ "$(cat "$tmp/target")" = original ] ||
	{ echo "FAIL tlsagen -o through a link wrote its target"; fail=1; }

if [ $fail -eq 0 ]; then
	echo "$n cases passed"
fi
exit $fail
