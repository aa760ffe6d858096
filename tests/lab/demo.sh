#!/bin/sh
# tests/lab/demo.sh - the demo of "./quickstart demo" (not a test: it shows).
#
#  1. tlsagen turns an RSA and an ECDSA chain and their next keys into TLSA
#     records (published.zone, the "published" records from here on) and
#     checks a deploy before it happens: once covered, once not.
#  2. A private Postfix on loopback, in a network namespace of its own,
#     serves both chains with daneguard attached as its milter; a message
#     goes through over STARTTLS; a sweep says every check is OK.
#  3. The RSA chain and key are replaced by a pair whose key has no record
#     and Postfix is reloaded: the running daemon notices the files change,
#     probes, and reports G3 and G4 CRITICAL for rsa within seconds.
#
# Everything lives in one temporary directory; the trap of lib.sh stops
# daneguard and Postfix by PID, deletes the namespace and removes the
# directory, also after a failure or Ctrl-C.
#
# Environment: TLSAGEN, DANEGUARD (default: the programs of an in-tree
# build), top_srcdir. Needs root and the Debian packages postfix, swaks,
# iproute2, openssl.

: "${top_srcdir:=$(dirname "$0")/../..}"
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 2
. "$top_srcdir/tests/lab/lib.sh"

TLSAGEN=${TLSAGEN:-$top_srcdir/tlsagen/tlsagen}
DANEGUARD=${DANEGUARD:-$top_srcdir/milter/daneguard}
for p in "$TLSAGEN" "$DANEGUARD"; do
	[ -x "$p" ] || { echo "demo: $p is not built" >&2; exit 2; }
done

lab_init
lab_require_root
lab_require postfix:postfix postconf:postfix swaks:swaks openssl:openssl \
    setsid:util-linux bash:bash script:bsdutils
t_start=$(date +%s%N)

# say COMMAND... - show a command as the reader would type it.
say()
{
	echo "\$ $*"
}

# ms_since NANOSECONDS - milliseconds elapsed since that date +%s%N.
ms_since()
{
	echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

# ------------------------------------------------------------ 1. tlsagen

sh "$top_srcdir/tests/data/gen-certs.sh" "$LAB_TMP/certs" >/dev/null ||
    lab_fail "tests/data/gen-certs.sh failed"
cd "$LAB_TMP/certs" || lab_fail "cd $LAB_TMP/certs"

echo "== tlsagen: the TLSA records for an RSA and an ECDSA chain and their next keys"
say tlsagen -H mx1.example.test rsa-chain.pem rsa.key ecdsa-chain.pem ecdsa.key \
    --next rsa-next.key --next ecdsa-next.key -o published.zone
"$TLSAGEN" -H mx1.example.test rsa-chain.pem rsa.key \
    ecdsa-chain.pem ecdsa.key --next rsa-next.key --next ecdsa-next.key \
    -o published.zone || lab_fail "tlsagen failed"
say cat published.zone
cat published.zone
echo

echo "== before a deploy: is every chain and next key covered by the zone?"
say tlsagen --check --zone published.zone -H mx1.example.test rsa-chain.pem \
    ecdsa-chain.pem --next rsa-next.key --next ecdsa-next.key
"$TLSAGEN" --check --zone published.zone -H mx1.example.test \
    rsa-chain.pem ecdsa-chain.pem --next rsa-next.key --next ecdsa-next.key ||
    lab_fail "the check should have passed"
echo

echo "== a renewal with a new RSA key that has no record yet"
say tlsagen --check --zone published.zone -H mx1.example.test \
    rsa-other-chain.pem ecdsa-chain.pem
if "$TLSAGEN" --check --zone published.zone -H mx1.example.test \
    rsa-other-chain.pem ecdsa-chain.pem; then
	lab_fail "the check should have failed"
fi
echo "(exit status 1: do not deploy before the new record is published)"
echo

# ------------------------------------------------------------ 2. daneguard

# The deployed files, read by Postfix and watched by daneguard. Private
# keys root-only: daneguard reads them before it drops to its user.
cd "$LAB_TMP" || lab_fail "cd $LAB_TMP"
mkdir tls state || lab_fail "mkdir"
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-next.key \
    ecdsa-next.key; do
	cp "certs/$f" "tls/$f" || lab_fail "cp $f"
done
chmod 600 tls/*.key
# The daemon runs as nobody:postfix: it writes state_dir, and Postfix
# reaches its socket (mode 0660, owner nobody:postfix) through the group.
chown nobody state || lab_fail "chown nobody state"

cat > daneguard.conf <<EOF
socket         = "unix:$LAB_TMP/daneguard.sock"
state_dir      = "$LAB_TMP/state"
probe_interval = 300
probe_timeout  = 5
tlsa_file      = "$LAB_TMP/certs/published.zone"

host "mx1.example.test" {
  port     = 25
  rollover = "current+next"
  probe    = { "127.0.0.1", "::1" }
  cert "rsa"   { chain = "$LAB_TMP/tls/rsa-chain.pem"   key = "$LAB_TMP/tls/rsa.key"
                 next_key = "$LAB_TMP/tls/rsa-next.key" }
  cert "ecdsa" { chain = "$LAB_TMP/tls/ecdsa-chain.pem" key = "$LAB_TMP/tls/ecdsa.key"
                 next_key = "$LAB_TMP/tls/ecdsa-next.key" }
}
EOF

echo "== daneguard: its configuration (the records of published.zone are the published ones)"
say cat daneguard.conf
cat daneguard.conf
say daneguard -n -c daneguard.conf
"$DANEGUARD" -n -c daneguard.conf || lab_fail "daneguard -n failed"
echo

echo "== a private Postfix on 127.0.0.1:25 and [::1]:25 (own network namespace), daneguard as its milter"
lab_netns_create
lab_postfix_init pf
pfdir=$(lab_postfix_dir pf)
set -- \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $LAB_TMP/tls/ecdsa.key $LAB_TMP/tls/ecdsa-chain.pem $LAB_TMP/tls/rsa.key $LAB_TMP/tls/rsa-chain.pem" \
    "smtpd_milters = { unix:$LAB_TMP/daneguard.sock, default_action=accept }"
printf "\$ postconf -e \\\\\n    '%s' \\\\\n    '%s' \\\\\n    '%s'\n" "$@"
lab_postfix_conf pf "$@"
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "[::1]:25"
say postfix start
lab_postfix_start pf

# Not through lab_ns (a shell function: $! would be a subshell): ip netns
# exec and setsid exec, so $! is daneguard itself, in a session of its own
# (Ctrl-C reaches the trap, which ends it by PID).
say daneguard -f -c daneguard.conf -u nobody:postfix
ip netns exec "$LAB_NETNS" setsid "$DANEGUARD" -f -c daneguard.conf \
    -u nobody:postfix >daneguard.log 2>&1 &
dg_pid=$!
lab_at_exit "lab_kill_pid $dg_pid"

# jstate CHECK ADDR ALG - that check's state in status.json (one item a
# line, see milter/report.c), or nothing.
jstate()
{
	grep "\"check\": \"$1\", \"host\": \"mx1.example.test\", \"addr\": \"$2\", \"alg\": \"$3\"" \
	    state/status.json 2>/dev/null |
	    sed -n 's/.*"state": "\([A-Z]*\)".*/\1/p'
}

# wait_for SECONDS WHAT CONDITION... - poll until the command succeeds;
# fail with the daemon's log after SECONDS.
wait_for()
{
	wf_end=$(( $(date +%s) + $1 ))
	wf_what=$2
	shift 2
	until "$@"; do
		if ! lab_pid_alive $dg_pid; then
			cat daneguard.log >&2
			lab_fail "daneguard stopped"
		fi
		if [ "$(date +%s)" -ge $wf_end ]; then
			sed 's/^/  | /' daneguard.log state/status.json >&2
			lab_fail "$wf_what: not after $1 s"
		fi
		sleep 0.1
	done
}

first_sweep()
{
	[ "$(jstate G3 127.0.0.1 rsa)" = OK ] && [ -s state/metrics.prom ]
}
wait_for 30 "daneguard's first sweep" first_sweep
sed 's/^/  /' daneguard.log
echo

echo "== a message through Postfix over STARTTLS: the milter counts the session, never holds mail"
say swaks --server 127.0.0.1:25 --tls --from demo@example.test --to postmaster@example.test
lab_ns swaks --server 127.0.0.1:25 --tls --helo client.example.test \
    --from demo@example.test --to postmaster@example.test >swaks.out 2>&1 ||
    { cat swaks.out; lab_fail "swaks failed"; }
grep -E '^=== TLS started|^ *<[-~] +250 .*queued' swaks.out | sed 's/^ *//; s/^/  /'
say kill -USR2 $dg_pid "     # SIGUSR2: sweep now"
kill -USR2 $dg_pid
counted()
{
	grep -q '"addr": "127.0.0.1", "port": 25, "sessions": [1-9]' \
	    state/status.json 2>/dev/null
}
wait_for 15 "the session counted in status.json" counted
say cat state/status.json "  # (abridged)"
awk '/^  "state"/; /"listeners"/, 0' state/status.json
echo

echo "== one sweep from the command line (exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)"
say daneguard --check -c daneguard.conf
lab_ns "$DANEGUARD" --check -c daneguard.conf
rc=$?
echo "(exit status $rc)"
[ $rc -eq 0 ] || lab_fail "daneguard --check: exit $rc, not 0"
echo

# ------------------------------------------------------------ 3. caught

echo "== a renewal gone wrong: RSA chain and key replaced by a pair whose key has no record, Postfix reloaded"
log_lines=$(wc -l < daneguard.log)
t_change=$(date +%s%N)
say cp rsa-other-chain.pem tls/rsa-chain.pem
say cp rsa-other.key tls/rsa.key
say postfix reload
cp certs/rsa-other-chain.pem tls/rsa-chain.pem &&
    cp certs/rsa-other.key tls/rsa.key || lab_fail "cp rsa-other"
lab_ns postfix -c "$pfdir/etc" reload >/dev/null 2>&1 ||
    lab_fail "postfix reload failed"
caught()
{
	[ "$(jstate G3 127.0.0.1 rsa)" = CRITICAL ] &&
	    [ "$(jstate G3 ::1 rsa)" = CRITICAL ] &&
	    [ "$(jstate G4 "" rsa)" = CRITICAL ]
}
wait_for 15 "G3 and G4 CRITICAL for rsa" caught
echo "daneguard caught it $(ms_since "$t_change") ms after the files changed (it watches them: no signal needed); its log:"
sed -n "$((log_lines + 1)),\$p" daneguard.log | sed 's/^/  /'
say daneguard --check -c daneguard.conf
lab_ns "$DANEGUARD" --check -c daneguard.conf
rc=$?
echo "(exit status $rc)"
[ $rc -eq 2 ] || lab_fail "daneguard --check: exit $rc, not 2"
echo

echo "== done in $(ms_since "$t_start") ms. Cleaning up: daneguard stopped (SIGTERM: libmilter takes a"
echo "   few seconds), Postfix stopped, the namespace deleted, $LAB_TMP removed"
exit 0
