#!/bin/sh
# tests/release/sanitize.sh TARBALL - the bad-input and special-file
# cases again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
#
# The release tarball (make dist) is unpacked in a temporary directory,
# configured with -fsanitize=address,undefined and built; then the tests
# that feed the programs what an administrator should never give them
# run there: garbage, truncated and hostile files (errors.sh), FIFOs,
# devices, directories and links where files belong (specialfiles.sh),
# and the unit tests of the readers and writers behind them. A sanitizer
# report fails a test (the scripts look for one on stderr; the unit tests
# die of it: halt_on_error). ./quickstart test runs it after distcheck.
#
# Exit status: 0 all passed; 1 a test failed; 2 the build failed.
set -u

[ $# -eq 1 ] && [ -r "$1" ] || {
	echo "usage: sh tests/release/sanitize.sh daneguard-VERSION.tar.gz" >&2
	exit 2
}
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d /tmp/dg-sanitize.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

cd "$tmp" && tar -xzf "$tarball" && cd daneguard-* || {
	echo "sanitize: cannot unpack $tarball" >&2
	exit 2
}
flags='-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined'
if ! ./configure -q CFLAGS="$flags" LDFLAGS='-fsanitize=address,undefined' \
    >configure.out 2>&1 || ! make -j"$(nproc)" >build.out 2>&1; then
	echo "sanitize: the sanitizer build failed:" >&2
	tail -n 30 configure.out build.out >&2
	exit 2
fi
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS
tests='tests/tlsagen/errors.sh tests/tlsagen/specialfiles.sh
    tests/unit/test_atomicfile tests/unit/test_fileio tests/unit/test_certkey tests/unit/test_conf
    tests/unit/test_tlsa tests/unit/test_report tests/unit/test_firstseen'
if make -j"$(nproc)" check TESTS="$(echo $tests)" >check.out 2>&1; then
	grep -E '^(PASS|FAIL|SKIP|ERROR):' check.out
	exit 0
fi
grep -E '^(PASS|FAIL|SKIP|ERROR):' check.out
for t in $tests; do
	grep -q '^:test-result: PASS' "$t.trs" 2>/dev/null && continue
	echo "--- $t"
	tail -n 40 "$t.log" 2>/dev/null
done
exit 1
