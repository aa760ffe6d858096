#!/bin/sh
#
# miltertest.sh - drive the real daneguard(8) with miltertest(8): the
# negotiated protocol, sessions with Postfix-style and sendmail-style
# macros with and without TLS, connections that end early, signals.
# Every reply must be accept or continue as negotiated.
#
# The configuration names a host whose probe address nothing listens on,
# so the guard's sweeps end at once; daneguard runs in the foreground on
# a unix socket in a temporary directory (over TCP, no-reply packets
# would wait for Nagle). As root it drops privileges to nobody, as the
# daemon does in production.
#
# Environment: top_srcdir, top_builddir, CERTDIR. Exit 0 pass, 1 fail,
# 77 skip (no miltertest, no CERTDIR).

: "${top_srcdir:?}" "${top_builddir:?}"
DANEGUARD=$top_builddir/milter/daneguard
command -v miltertest >/dev/null 2>&1 || {
	echo "miltertest.sh: miltertest not installed (Debian package miltertest)"
	exit 77
}
[ -x "$DANEGUARD" ] || { echo "miltertest.sh: $DANEGUARD missing"; exit 1; }
# the guard reads the configured chain at start
[ -n "$CERTDIR" ] && [ -r "$CERTDIR/rsa-chain.pem" ] || {
	echo "miltertest.sh: CERTDIR not set or without rsa-chain.pem"
	exit 77
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/miltertest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
# nobody must reach its state directory and the socket after the drop
chmod 755 "$tmp"
mkdir "$tmp/state"
user=
if [ "$(id -u)" = 0 ]; then
	chown nobody "$tmp/state"
	user='user = "nobody"'
fi

cat >"$tmp/daneguard.conf" <<CONF
# miltertest.sh: nothing listens on 127.0.0.1 port 1
$user
state_dir = "$tmp/state"
probe_timeout = 2
host "mx1.example.test" {
	port = 1
	probe = { "127.0.0.1" }
	cert "rsa" { chain = "$CERTDIR/rsa-chain.pem" key = "$CERTDIR/rsa.key" }
}
CONF

"$DANEGUARD" -n -c "$tmp/daneguard.conf" >"$tmp/n.out" 2>&1
if [ $? -ne 0 ] || [ "$(cat "$tmp/n.out")" != "configuration OK" ]; then
	echo "FAIL daneguard -n on the test configuration:"
	cat "$tmp/n.out"
	exit 1
fi

fail=0
bad() {
	echo "FAIL $*"
	fail=1
}

# The command line and the socket chores, before the protocol.
printf 'socket = "bogus"\nhost "x" {\n' >"$tmp/bad.conf"
"$DANEGUARD" -n -c "$tmp/bad.conf" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || bad "-n on a bad file: exit $rc, want 1"
[ -s "$tmp/out" ] && bad "-n on a bad file: output on stdout"
grep -q "^daneguard: $tmp/bad.conf:1: socket \"bogus\"" "$tmp/err" ||
	{ bad "-n: no file:line message"; cat "$tmp/err"; }
"$DANEGUARD" --check -c "$tmp/bad.conf" >"$tmp/out" 2>/dev/null
rc=$?
[ $rc -eq 3 ] || bad "--check on a bad file: exit $rc, want 3 (UNKNOWN)"
grep -q UNKNOWN "$tmp/out" || bad "--check on a bad file: no UNKNOWN line"
"$DANEGUARD" -x >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || bad "unknown option: exit $rc, want 2"
"$DANEGUARD" -V | grep -q '^daneguard ' || bad "-V prints no version"

# A file that is not a socket is never removed.
echo keep >"$tmp/file.sock"
"$DANEGUARD" -f -c "$tmp/daneguard.conf" -p "$tmp/file.sock" \
    >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || bad "socket path is a file: exit $rc, want 1"
grep -q 'is not a socket' "$tmp/err" || bad "socket path is a file: message"
[ "$(cat "$tmp/file.sock")" = keep ] || bad "socket path is a file: removed"

# wait_socket PATH: until PATH is a socket (a started daneguard).
wait_socket() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 600 ]; do	# 30 s: a hang
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$1" ]
}

# A socket left by a killed daneguard is removed; a live one is not.
"$DANEGUARD" -f -c "$tmp/daneguard.conf" -p "unix:$tmp/d.sock" \
    2>"$tmp/d1.err" &
pid=$!
wait_socket "$tmp/d.sock" || bad "daneguard did not open its socket"
"$DANEGUARD" -f -c "$tmp/daneguard.conf" -p "unix:$tmp/d.sock" \
    >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || bad "second daneguard on a live socket: exit $rc, want 1"
grep -q 'another milter answers' "$tmp/err" ||
	{ bad "second daneguard: message"; cat "$tmp/err"; }
# The milter process dies with its supervisor, asynchronously: wait
# until it has started (its socket is there before it logs so), then
# until it is gone. 30 s each: a hang, not a speed limit (a sanitizer
# build on a loaded machine takes seconds to start).
i=0
until grep -q 'started on' "$tmp/d1.err" || [ $i -ge 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
grep -q 'started on' "$tmp/d1.err" ||
	{ bad "daneguard did not log 'started on'"; cat "$tmp/d1.err"; }
child=$(pgrep -P $pid)
[ -n "$child" ] || bad "no milter process under the supervisor $pid"
kill -KILL $pid
wait $pid 2>/dev/null
i=0
while [ -n "$child" ] && [ -r /proc/$child/status ] &&
    ! grep -q '^State:[[:space:]]*Z' /proc/$child/status && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -S "$tmp/d.sock" ] || bad "no stale socket after SIGKILL (test broken)"
"$DANEGUARD" -f -c "$tmp/daneguard.conf" -p "unix:$tmp/d.sock" \
    2>"$tmp/d2.err" &
pid=$!
i=0
until grep -q 'started on' "$tmp/d2.err" || [ $i -ge 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
grep -q "removed stale socket $tmp/d.sock" "$tmp/d2.err" ||
	{ bad "stale socket not removed"; cat "$tmp/d2.err"; }
kill -KILL $pid
wait $pid 2>/dev/null

# In parallel: after SIGTERM, libmilter takes up to 5 s to notice.
scripts="negotiate postfix sendmail close"
for script in $scripts; do
	miltertest -D DANEGUARD="$DANEGUARD" -D CONF="$tmp/daneguard.conf" \
	    -D SOCKET="$tmp/$script.sock" -D SRCDIR="$top_srcdir" \
	    -s "$top_srcdir/tests/milter/$script.lua" \
	    >"$tmp/$script.out" 2>"$tmp/$script.err" &
	echo $! >"$tmp/$script.pid"
done
for script in $scripts; do
	wait "$(cat "$tmp/$script.pid")"
	rc=$?
	# a sanitizer report fails the script too
	if [ $rc -ne 0 ] ||
	    grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' \
	    "$tmp/$script.err"; then
		echo "FAIL $script.lua (exit $rc)"
		cat "$tmp/$script.out" "$tmp/$script.err"
		fail=1
	else
		echo "ok $script.lua"
	fi
done
exit $fail
