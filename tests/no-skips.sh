#!/bin/sh
# tests/no-skips.sh - after "make check": fail if any test, or any part of
# one, was skipped, unless it is on the allow-list below with its reason.
#
# "./quickstart test" (and so CI) runs this: on a fresh Debian 12 with the
# packages quickstart installs, every test can run, so a skip there means
# a test silently vanished (a failed download, a missing package, a lost
# environment variable) and must not pass as green. What it finds:
#   - an automake verdict SKIP (exit 77) in tests/**/*.trs
#   - cmocka's "[  SKIPPED ] name" (skip() inside a unit test, which
#     still exits 0 and counts as PASS)
#   - a line starting "SKIP" in a test's log (a part of a script test
#     left out, e.g. "SKIP  agreement with posttls-finger: ...")
#
#	sh tests/no-skips.sh [BUILDDIR]     exit 0 none (or only allowed),
#	                                    1 a skip, 2 no test logs found
#
# The lab scripts fail by themselves instead of skipping when
# DANEGUARD_TEST_STRICT is set (quickstart sets it); this scan also
# catches the tests that do not use tests/lab/lib.sh.

# The allow-list: lines "TEST-LOG-PATH: reason", TEST-LOG-PATH relative to
# the build directory without ".log" (e.g. tests/lab/sendmail-live). Keep
# it empty unless a test cannot run on a fresh Debian 12 for a reason that
# is not a bug, and say that reason.
ALLOWED_SKIPS=''

cd "${1:-.}" || exit 2
logs=$(find tests -name '*.log' ! -name test-suite.log 2>/dev/null | sort)
[ -n "$logs" ] || { echo "no-skips: no test logs under $(pwd)/tests" >&2; exit 2; }

found=0
allowed=0
for log in $logs; do
	t=${log%.log}
	why=
	if [ -f "$t.trs" ] && grep -q '^:test-result: SKIP' "$t.trs"; then
		why=$(grep -E 'SKIP|skip' "$log" | head -n 1)
		why="skipped whole${why:+: $why}"
	fi
	part=$(grep -E '^\[  SKIPPED \] [A-Za-z_]|^ *SKIP\b|: SKIP: ' "$log" |
	    sort -u | head -n 5)
	[ -n "$part" ] && why="${why:+$why; }$(echo "$part" | tr '\n' ';' | sed 's/;$//')"
	[ -n "$why" ] || continue
	reason=$(printf '%s\n' "$ALLOWED_SKIPS" | sed -n "s|^$t: ||p")
	if [ -n "$reason" ]; then
		allowed=$((allowed + 1))
		echo "no-skips: $t skipped (allowed: $reason)"
	else
		found=$((found + 1))
		echo "no-skips: FAIL: $t: $why"
	fi
done
if [ $found -gt 0 ]; then
	echo "no-skips: $found test(s) skipped something; on a fresh Debian 12" \
	    "every test must run (install the package named, or fix the test)"
	exit 1
fi
echo "no-skips: nothing skipped${allowed:+ ($allowed allowed)}" |
    sed 's/ (0 allowed)//'
exit 0
