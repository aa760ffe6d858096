#!/bin/sh
# tests/doc/man-lint.sh - the man pages format cleanly: "mandoc -T lint"
# finds nothing at level warning or above, "groff -ww" prints no warning,
# and no font-alternating macro (.BR .RB .IR .RI) runs two words together
# ("make install)theservicerunsas", "(--check--zone)": its arguments are
# joined without spaces, so a word followed by a word is a forgotten pair
# of quotes).
#
# Environment: top_srcdir. Needs mandoc, groff (groff-base) and python3;
# exit 0 pass, 1 fail, 77 skip.

: "${top_srcdir:=$(dirname "$0")/../..}"
pages="$top_srcdir/doc/tlsagen.1 $top_srcdir/doc/daneguard.conf.5 $top_srcdir/doc/daneguard.8 $top_srcdir/doc/daneguard-tlsrpt-spool.8"
for c in mandoc:mandoc groff:groff-base python3:python3; do
	command -v "${c%%:*}" >/dev/null 2>&1 || {
		echo "man-lint: SKIP: ${c%%:*} not found (Debian package ${c#*:})"
		exit 77
	}
done
fail=0
for p in $pages; do
	out=$(mandoc -T lint -W warning "$p" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL  mandoc -T lint ${p#"$top_srcdir"/}:"
		echo "$out" | sed 's/^/      /'
		fail=1
	else
		echo "ok    mandoc -T lint ${p#"$top_srcdir"/}"
	fi
	out=$(LC_ALL=C.UTF-8 groff -ww -z -t -man "$p" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL  groff -ww ${p#"$top_srcdir"/}:"
		echo "$out" | sed 's/^/      /'
		fail=1
	else
		echo "ok    groff -ww ${p#"$top_srcdir"/}"
	fi
done
python3 - $pages <<'PY' || fail=1
import re, shlex, sys
bad = 0
for path in sys.argv[1:]:
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        m = re.match(r'\.(BR|RB|IR|RI) (.*)', line.rstrip("\n"))
        if not m:
            continue
        try:
            args = shlex.split(m.group(2).replace("\\", "\\\\"), posix=True)
        except ValueError:
            continue
        for a, b in zip(args, args[1:]):
            # an escape at the end of a ("\\(dq", "\\fR") is no word
            a = re.sub(r'\\(\(..|\[[^]]*\]|f.|f\(..)$', '', a)
            if re.search(r'[A-Za-z0-9]$', a) and re.match(r'(\\-|[A-Za-z0-9])', b):
                print(f"FAIL  {path.split('/')[-1]}:{n}: .{m.group(1)} joins "
                      f"\"{a}\" and \"{b}\" without a space: {line.strip()}")
                bad = 1
if not bad:
    print("ok    no font-alternating macro joins two words")
sys.exit(bad)
PY
exit $fail
