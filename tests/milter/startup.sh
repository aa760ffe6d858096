#!/bin/sh
#
# startup.sh - what daneguard(8) says when it cannot start, and its
# socket warnings:
#   - a daemon start (no -f) that fails after the fork says why on
#     stderr, not only in the mail log, and exits 1;
#   - the pidfile's directory is made; one that cannot be made is named;
#   - -n warns about a TCP socket on loopback and refuses one that is not
#     on loopback (any peer that reaches it can crash libmilter).
#
# Environment: top_builddir, CERTDIR. Exit 0 pass, 1 fail, 77 skip.

: "${top_builddir:?}"
DANEGUARD=$top_builddir/milter/daneguard
[ -x "$DANEGUARD" ] || { echo "startup.sh: $DANEGUARD missing"; exit 1; }
[ -n "$CERTDIR" ] && [ -r "$CERTDIR/rsa-chain.pem" ] || {
	echo "startup.sh: CERTDIR not set or without rsa-chain.pem"
	exit 77
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/startup.XXXXXX") || exit 1
pids=
trap 'for p in $pids; do kill -TERM $p 2>/dev/null; done; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
chmod 755 "$tmp"
mkdir "$tmp/state"
user=
if [ "$(id -u)" = 0 ]; then
	chown nobody "$tmp/state"
	user='user = "nobody"'
fi

# conf FILE CHAIN [SOCKET]
conf() {
	cat >"$1" <<CONF
$user
state_dir = "$tmp/state"
probe_timeout = 2
${3:+socket = \"$3\"}
host "mx1.example.test" {
	port = 1
	probe = { "127.0.0.1" }
	cert "rsa" { chain = "$2" key = "$CERTDIR/rsa.key" }
}
CONF
}

fail=0
bad() {
	echo "FAIL $*"
	fail=1
}
ok() {
	echo "ok   $*"
}

# 1. A tlsa_file that does not exist: the guard fails after the fork.
# The reason is on stderr of the command that was started.
conf "$tmp/nozone.conf" "$CERTDIR/rsa-chain.pem"
echo "tlsa_file = \"$tmp/missing.zone\"" >>"$tmp/nozone.conf"
"$DANEGUARD" -c "$tmp/nozone.conf" -p "unix:$tmp/a.sock" -P "$tmp/a.pid" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ -s "$tmp/a.pid" ] && pids="$pids $(cat "$tmp/a.pid")"	# started after all
if [ $rc -eq 1 ] && grep -q "tlsa_file: $tmp/missing.zone: No such file" "$tmp/err"
then
	ok "daemon start with a missing tlsa_file: exit 1, the reason on stderr"
else
	bad "daemon start with a missing tlsa_file: exit $rc, stderr:"
	sed 's/^/  | /' "$tmp/err"
fi

# 2. The pidfile's directory is made.
conf "$tmp/good.conf" "$CERTDIR/rsa-chain.pem"
"$DANEGUARD" -c "$tmp/good.conf" -p "unix:$tmp/b.sock" \
    -P "$tmp/run/daneguard.pid" >"$tmp/out" 2>"$tmp/err"
rc=$?
pid=$(cat "$tmp/run/daneguard.pid" 2>/dev/null)
[ -n "$pid" ] && pids="$pids $pid"
if [ $rc -eq 0 ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	ok "daemon start with a pidfile in a new directory: made, PID $pid"
else
	bad "daemon start, pidfile in a new directory: exit $rc, pid '$pid':"
	sed 's/^/  | /' "$tmp/err"
fi
[ -s "$tmp/err" ] && { bad "a good start printed on stderr:"; cat "$tmp/err"; }
# the daemon drops stderr once started: nothing more arrives there
if [ -n "$pid" ]; then
	kill -TERM "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null && bad "daemon PID $pid did not stop"
	[ -e "$tmp/run/daneguard.pid" ] && bad "pidfile left behind"
fi

# 3. A pidfile directory that cannot be made is named.
"$DANEGUARD" -c "$tmp/good.conf" -p "unix:$tmp/c.sock" \
    -P "$tmp/no/such/daneguard.pid" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "cannot make its directory $tmp/no/such" "$tmp/err"
then
	ok "pidfile in a directory that cannot be made: exit 1, named"
else
	bad "pidfile, no parent directory: exit $rc, stderr:"
	sed 's/^/  | /' "$tmp/err"
fi

# 4. -n and TCP sockets.
conf "$tmp/lo.conf" "$CERTDIR/rsa-chain.pem" "inet:8895@127.0.0.1"
"$DANEGUARD" -n -c "$tmp/lo.conf" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "configuration OK" ] &&
    grep -q "socket inet:8895@127.0.0.1: every local user can connect" "$tmp/err"
then
	ok "-n, inet socket on loopback: OK with a warning"
else
	bad "-n, inet socket on loopback: exit $rc"
	cat "$tmp/out" "$tmp/err"
fi
for s in "inet:8895@0.0.0.0" "inet:8895" "inet6:8895@::"; do
	conf "$tmp/any.conf" "$CERTDIR/rsa-chain.pem" "$s"
	"$DANEGUARD" -n -c "$tmp/any.conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && [ ! -s "$tmp/out" ] &&
	    grep -q "socket $s: not on loopback" "$tmp/err"; then
		ok "-n, socket $s: refused"
	else
		bad "-n, socket $s: exit $rc"
		cat "$tmp/out" "$tmp/err"
	fi
done
"$DANEGUARD" -n -c "$tmp/good.conf" -p "inet:8895@192.0.2.1" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "not on loopback" "$tmp/err" &&
    ok "-n -p inet:8895@192.0.2.1: refused" ||
    { bad "-n -p inet:8895@192.0.2.1: exit $rc"; cat "$tmp/err"; }

exit $fail
