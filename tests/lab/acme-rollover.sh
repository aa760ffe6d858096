#!/bin/sh
# tests/lab/acme-rollover.sh - whole current+next rollovers with real ACME
# clients, proven by a DANE-validating sender that never fails.
#
# In a network namespace of its own:
#  - pebble (Debian's ACME test server) as the CA; certbot keeps the RSA
#    certificate (key reuse), lego the ECDSA one (--csr);
#  - BIND 9 as the primary of example.test: dynamic updates with TSIG,
#    signed by dnssec-policy; NSD on 127.0.0.2 as the secondary, fed by
#    NOTIFY and IXFR; the test can refuse its transfers (hold it back);
#  - Postfix serving the RSA and ECDSA chains that conf/daneguard-acme-hook
#    installs, with daneguard attached;
#  - a validating unbound and posttls-finger forcing RSA, then ECDSA,
#    over and over, from the first deployment to the end.
# Then, with the recipe of tlsagen(1) (ACME CLIENTS) and the hook:
#  1. ROUNDS full rollovers per algorithm: renew for the next key, gated
#     deploy, reload, guard verdict, new next key published, old record
#     retired - and the published set is exactly current + next again;
#  2. one rollover with the secondary held back: the deploy is refused
#     (exit 75, the MTA keeps the old chain) until it catches up;
#  3. one certbot renewal without key reuse: the guard flags G4 before
#     any reload, the hook refuses it (exit 1); the next renewal with key
#     reuse (the hook gave certbot the next key) deploys.
# The validating sender's log must hold no failed verification. The
# timeline goes to the test log (bench/RESULTS.md quotes it).
#
# Environment: TLSAGEN, DANEGUARD, top_srcdir, top_builddir; ROUNDS
# (default 3). Needs root and the Debian packages of quickstart's
# TEST_PKGS (pebble certbot lego bind9 bind9-dnsutils nsd unbound postfix).

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"

lab_init
TLSAGEN=${TLSAGEN:-$top_builddir/tlsagen/tlsagen}
DANEGUARD=${DANEGUARD:-$top_builddir/milter/daneguard}
HOOK=$top_srcdir/conf/daneguard-acme-hook
ROUNDS=${ROUNDS:-3}
[ -x "$TLSAGEN" ] || lab_fail "TLSAGEN='$TLSAGEN' is not an executable"
[ -x "$DANEGUARD" ] || lab_fail "DANEGUARD='$DANEGUARD' is not an executable"
lab_require_root
lab_require pebble:pebble certbot:certbot lego:lego named:bind9 \
    rndc:bind9 tsig-keygen:bind9 nsupdate:bind9-dnsutils dig:bind9-dnsutils \
    nsd:nsd unbound:unbound postfix:postfix posttls-finger:postfix \
    unshare:util-linux openssl:openssl

d=$LAB_TMP
fails=0
checks=0
T0=$(date +%s)
mkdir -p "$d/keys" "$d/served" "$d/state" "$d/bind/keys" "$d/nsd" ||
    lab_fail "mkdir"
lab_netns_create

# tl EVENT - one line of the timeline, seconds since the start.
tl()
{
	echo "$(( $(date +%s) - T0 ))s $*" >> "$d/timeline"
	echo "      [$(( $(date +%s) - T0 ))s] $*"
}

# wait_for SECONDS WHAT COMMAND... - poll COMMAND every 0.2 s.
wait_for()
{
	wf_n=$(( $1 * 5 )) wf_what=$2
	shift 2
	until "$@"; do
		wf_n=$((wf_n - 1))
		[ $wf_n -le 0 ] && lab_fail "timed out waiting for $wf_what"
		sleep 0.2
	done
}

# ------------------------------------------------------------ DNS

tsig-keygen -a hmac-sha256 dg-update > "$d/update.key" || lab_fail tsig-keygen
rndc-confgen -a -k rndc-key -c "$d/rndc.key" >/dev/null 2>&1 ||
    lab_fail rndc-confgen
cat > "$d/bind/example.test.db" <<'EOF'
$TTL 2
@	SOA ns1.example.test. hostmaster.example.test. 1 2 2 1000 2
	NS ns1.example.test.
	NS ns2.example.test.
	MX 10 mx1.example.test.
ns1	A 127.0.0.1
ns2	A 127.0.0.2
mx1	A 127.0.0.1
EOF
# named_conf TRANSFERS - the primary's configuration; TRANSFERS is the
# allow-transfer list ("127.0.0.2;" or "none;").
named_conf()
{
	cat > "$d/bind/named.conf" <<EOF
include "$d/update.key";
include "$d/rndc.key";
controls { inet 127.0.0.1 port 953 allow { 127.0.0.1; } keys { rndc-key; }; };
options {
	directory "$d/bind";
	pid-file "$d/bind/named.pid";
	listen-on port 53 { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	notify explicit;
	also-notify { 127.0.0.2; };
	key-directory "$d/bind/keys";
	dnssec-validation no;
};
dnssec-policy "lab" {
	keys { csk lifetime unlimited algorithm ecdsap256sha256; };
	dnskey-ttl 2; max-zone-ttl 60; publish-safety 1; retire-safety 1;
	zone-propagation-delay 1;
};
zone "example.test" {
	type primary;
	file "$d/bind/example.test.db";
	dnssec-policy "lab";
	inline-signing no;
	allow-update { key dg-update; };
	allow-transfer { $1 };
};
EOF
}
named_conf "127.0.0.2;"
ip netns exec "$LAB_NETNS" setsid named -g -u root -c "$d/bind/named.conf" \
    >"$d/bind/named.log" 2>&1 &
NAMED_PID=$!
lab_at_exit 'lab_kill_pid $NAMED_PID'
signed() { lab_ns dig +norec +dnssec @127.0.0.1 example.test SOA 2>/dev/null | grep -q 'RRSIG.*SOA'; }
wait_for 120 "BIND to sign example.test" signed
lab_ns dig +norec @127.0.0.1 example.test DNSKEY | awk '$4 == "DNSKEY" && $5 == 257' \
    > "$d/anchor.key"
[ -s "$d/anchor.key" ] || lab_fail "no KSK in example.test's DNSKEY RRset"

cat > "$d/nsd/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.2@53
	username: ""
	chroot: ""
	database: ""
	zonelistfile: "$d/nsd/zone.list"
	xfrdfile: "$d/nsd/xfrd.state"
	xfrdir: "$d/nsd"
	pidfile: "$d/nsd/nsd.pid"
	logfile: "$d/nsd/nsd.log"
	verbosity: 2
remote-control:
	control-enable: no
zone:
	name: "example.test"
	zonefile: "$d/nsd/example.test.zone"
	request-xfr: 127.0.0.1 NOKEY
	allow-notify: 127.0.0.1 NOKEY
	outgoing-interface: 127.0.0.2
EOF
ip netns exec "$LAB_NETNS" setsid nsd -d -c "$d/nsd/nsd.conf" \
    >"$d/nsd/out" 2>&1 &
NSD_PID=$!
lab_at_exit 'lab_kill_pid $NSD_PID'
serial() { lab_ns dig +norec +short @"$1" example.test SOA 2>/dev/null | awk '{ print $3 }'; }
in_step() { [ -n "$(serial 127.0.0.2)" ] && [ "$(serial 127.0.0.1)" = "$(serial 127.0.0.2)" ]; }
wait_for 120 "NSD to transfer example.test" in_step

# hold / release - refuse or allow the secondary's transfers.
hold()
{
	named_conf "none;"
	lab_ns rndc -k "$d/rndc.key" -s 127.0.0.1 reconfig >/dev/null ||
	    lab_fail "rndc reconfig"
}
release()
{
	named_conf "127.0.0.2;"
	lab_ns rndc -k "$d/rndc.key" -s 127.0.0.1 reconfig >/dev/null &&
	    lab_ns rndc -k "$d/rndc.key" -s 127.0.0.1 notify example.test \
	    >/dev/null || lab_fail "rndc reconfig/notify"
}

cat > "$d/ub.conf" <<EOF
server:
	do-not-query-localhost: no
	local-zone: "example.test." transparent
	val-log-level: 2
	trust-anchor-file: "$d/anchor.key"
stub-zone:
	name: "example.test."
	stub-addr: 127.0.0.1@53
	stub-addr: 127.0.0.2@53
EOF
# The sender's validating resolver: both nameservers, whichever answers.
cat > "$d/unbound.conf" <<EOF
server:
	interface: 127.0.0.53
	port: 53
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	use-syslog: no
	logfile: "$d/unbound.log"
	verbosity: 1
	val-log-level: 2
	do-not-query-localhost: no
	local-zone: "test." nodefault
	trust-anchor-file: "$d/anchor.key"
	access-control: 127.0.0.0/8 allow
stub-zone:
	name: "example.test."
	stub-addr: 127.0.0.1@53
	stub-addr: 127.0.0.2@53
EOF
ip netns exec "$LAB_NETNS" setsid unbound -d -c "$d/unbound.conf" \
    >"$d/unbound.out" 2>&1 &
UB_PID=$!
lab_at_exit 'lab_kill_pid $UB_PID'
ub_up() { lab_ns dig +short @127.0.0.53 mx1.example.test A 2>/dev/null | grep -q 127.0.0.1; }
wait_for 120 "unbound to answer" ub_up

# ------------------------------------------------------------ ACME

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/pebble.key" -out "$d/pebble.pem" -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null || lab_fail "pebble's certificate"
cat > "$d/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:14000",
  "managementListenAddress": "127.0.0.1:15000",
  "certificate": "$d/pebble.pem", "privateKey": "$d/pebble.key",
  "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
ip netns exec "$LAB_NETNS" env PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 \
    PEBBLE_WFE_NONCEREJECT=0 setsid pebble -config "$d/pebble.json" \
    >"$d/pebble.log" 2>&1 &
PEBBLE_PID=$!
lab_at_exit 'lab_kill_pid $PEBBLE_PID'
pebble_up() { grep -q 'Listening on' "$d/pebble.log"; }
wait_for 120 "pebble to listen" pebble_up
ACME=https://127.0.0.1:14000/dir

# The clients as an administrator runs them (tlsagen(1), ACME CLIENTS),
# with the test's directories and pebble's certificate.
certbot_()
{
	lab_ns env REQUESTS_CA_BUNDLE="$d/pebble.pem" certbot \
	    --config-dir "$d/le" --work-dir "$d/le-work" --logs-dir "$d/le-logs" \
	    --non-interactive "$@" >>"$d/certbot.out" 2>&1
}
lego_()
{
	lab_ns env LEGO_CA_CERTIFICATES="$d/pebble.pem" lego --server "$ACME" \
	    --accept-tos --email postmaster@example.test --path "$d/lego" \
	    --http --http.port 127.0.0.1:5002 "$@" >>"$d/lego.out" 2>&1
}
# The first certificates: certbot with its own key (kept for renewals),
# lego from a CSR for a key that tlsagen makes.
certbot_ certonly --server "$ACME" --agree-tos -m postmaster@example.test \
    --cert-name mx1-rsa --key-type rsa --reuse-key --manual \
    --preferred-challenges http --manual-auth-hook /bin/true \
    -d mx1.example.test || { cat "$d/certbot.out"; lab_fail "certbot certonly"; }
"$TLSAGEN" -q --new-key ecdsa -o "$d/keys/ecdsa.next.key" >/dev/null &&
    openssl req -new -key "$d/keys/ecdsa.next.key" -subj /CN=mx1.example.test \
    -addext subjectAltName=DNS:mx1.example.test \
    -out "$d/keys/ecdsa.next.key.csr" || lab_fail "the first CSR"
lego_ --csr "$d/keys/ecdsa.next.key.csr" run ||
    { cat "$d/lego.out"; lab_fail "lego run"; }
tl "pebble issued the first RSA (certbot) and ECDSA (lego) certificates"

# The guard runs as nobody:nogroup and reads the chains and next keys
# again when they change: the one-time setup of tlsagen(1), ACME CLIENTS
# (the clients' directories passable by the guard's group; the hook, with
# GUARD_GROUP, makes the files readable by it).
for dir in "$d/le/live" "$d/le/archive" "$d/lego" "$d/lego/certificates"; do
	chgrp nogroup "$dir" && chmod g+x "$dir" ||
	    lab_fail "$dir: not passable for the guard's group"
done
chown nobody "$d/state" || lab_fail "chown nobody $d/state"
RSA_CHAIN=$d/le/live/mx1-rsa/fullchain.pem
EC_CHAIN=$d/lego/certificates/mx1.example.test.crt
cat > "$d/daneguard.conf" <<EOF
state_dir      = "$d/state"
probe_interval = 300
probe_timeout  = 5
dns {
  trust_anchor_file = "$d/anchor.key"
  resolver_config   = "$d/ub.conf"
}
host "mx1.example.test" {
  port     = 25
  ttl      = 2
  rollover = "current+next"
  probe    = { "127.0.0.1" }
  cert "rsa"   { chain = "$RSA_CHAIN"
                 next_key = "$d/keys/rsa.next.key" }
  cert "ecdsa" { chain = "$EC_CHAIN"
                 next_key = "$d/keys/ecdsa.next.key" }
}
EOF
cat > "$d/hook.conf" <<EOF
DG_CONF="$d/daneguard.conf"
SERVED_DIR="$d/served"
MTA_RELOAD="postfix -c $d/pf/etc reload"
GUARD_PIDFILE="$d/dg.pid"
GUARD_STATUS="$d/state/status.json"
NSUPDATE="nsupdate -k $d/update.key"
NSUPDATE_SERVER=127.0.0.1
TLSAGEN="$TLSAGEN"
GUARD_GROUP=nogroup
EOF
# The first deployment, before the MTA serves TLS: no reload, no guard.
sed 's/^MTA_RELOAD=.*/MTA_RELOAD=true/; s/^GUARD_PIDFILE=.*/GUARD_PIDFILE=/' \
    "$d/hook.conf" > "$d/hook-first.conf"

# hook CONF - run the hook in the namespace; its exit status in $rc, its
# messages appended to $d/hook.out and kept in $d/hook.last.
hook()
{
	lab_ns "$HOOK" -c "$1" >"$d/hook.last" 2>&1
	rc=$?
	sed "s/^/[$(( $(date +%s) - T0 ))s rc=$rc] /" "$d/hook.last" >> "$d/hook.out"
}
# hook_until CONF WHAT - run the hook (as the client's timer would) until
# it exits 0; any status but 0 and 75 fails.
hook_until()
{
	hu_n=0
	while :; do
		hook "$1"
		[ $rc -eq 0 ] && return 0
		if [ $rc -ne 75 ]; then
			cat "$d/hook.last"
			lab_fail "$2: the hook exited $rc"
		fi
		hu_n=$((hu_n + 1))
		[ $hu_n -gt 100 ] && { cat "$d/hook.last"; lab_fail "$2: still waiting after 100 runs"; }
		sleep 0.5
	done
}
hook_until "$d/hook-first.conf" "first deployment"
tl "first deployment: records published, aged 2 x TTL on both nameservers, chains installed"

# ------------------------------------------------------------ MTA, guard

lab_postfix_init pf
lab_postfix_conf pf "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $d/served/mx1.example.test_ecdsa.key $d/served/mx1.example.test_ecdsa.pem $d/served/mx1.example.test_rsa.key $d/served/mx1.example.test_rsa.pem" \
    "smtpd_milters = { unix:$d/dg.sock, default_action=accept }"
lab_postfix_listen pf 127.0.0.1:25
lab_postfix_start pf
# Unprivileged, as in production: it reads each new next key (0640
# root:nogroup, made by the hook) and renewed chain after the drop.
lab_dg_start nobody:nogroup "$d/daneguard.conf" "$d/dg.sock" "$d/dg.log" \
    "$d/state/status.json" -P "$d/dg.pid"
dg_user=$(ps -o user= --ppid "$(cat "$d/dg.pid")" | sort -u)
[ "$dg_user" = nobody ] ||
    lab_fail "the milter process runs as '$dg_user', not nobody"

# ------------------------------------------------------------ the sender

mkdir -p "$d/ptf"
cat > "$d/ptf/main.cf" <<EOF
compatibility_level = 3.6
smtp_dns_support_level = dnssec
dnssec_probe = ns:example.test
inet_protocols = ipv4
EOF
printf 'nameserver 127.0.0.53\noptions trust-ad\n' > "$d/resolv.conf"
cat > "$d/sender.sh" <<'EOF'
# One posttls-finger per algorithm, forced, until $1/stop exists; each
# attempt is one line in $1/verify.log: TIME ALG ok|FAIL [why].
d=$1
while [ ! -e "$d/stop" ]; do
	for alg in rsa ecdsa; do
		if [ $alg = rsa ]; then
			set -- -p '<=TLSv1.2' \
			    -o 'tls_medium_cipherlist=ECDHE-RSA-AES128-GCM-SHA256'
			sig='ECDHE-RSA-'
		else
			set -- -o 'tls_medium_cipherlist=ECDHE-ECDSA-AES128-GCM-SHA256'
			sig='(server-signature ECDSA|ECDHE-ECDSA-)'
		fi
		out=$(MAIL_CONFIG=$d/ptf timeout 30 posttls-finger -c -l dane \
		    "$@" '[mx1.example.test]:25' 2>&1)
		if echo "$out" | grep -Eq "Verified TLS connection established.*$sig"; then
			echo "$(date +%s) $alg ok"
		else
			echo "$(date +%s) $alg FAIL $(echo "$out" | tr '\n' ' ' | cut -c1-400)"
		fi
	done >> "$d/verify.log"
	sleep 1
done
EOF
ip netns exec "$LAB_NETNS" unshare -m sh -c \
    'mount --bind "$1" /etc/resolv.conf && exec sh "$2" "$3"' sh \
    "$d/resolv.conf" "$d/sender.sh" "$d" >"$d/sender.out" 2>&1 &
SENDER_PID=$!
lab_at_exit 'touch "$d/stop"; lab_kill_pid $SENDER_PID'
verified() { [ "$(cat "$d/verify.log" 2>/dev/null | grep -c ' ok$')" -ge 2 ]; }
wait_for 120 "the first verified connections" verified
grep -q FAIL "$d/verify.log" && { cat "$d/verify.log"; lab_fail "the sender failed from the start"; }
tl "Postfix serves both chains, daneguard attached, the sender verifies RSA and ECDSA every second"

# ------------------------------------------------------------ helpers

leaf_key() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 | awk '{ print $2 }'; }
key_of() { openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 | awk '{ print $2 }'; }
served_key() # ALG - the key the MTA serves for ALG, as seen over SMTP
{
	if [ "$1" = rsa ]; then set -- -sigalgs 'rsa_pss_rsae_sha256:RSA+SHA256'
	else set -- -sigalgs 'ECDSA+SHA256'; fi
	lab_ns timeout 60 openssl s_client -starttls smtp -connect 127.0.0.1:25 "$@" \
	    </dev/null 2>/dev/null | openssl x509 -noout -pubkey 2>/dev/null |
	    openssl pkey -pubin -outform DER | openssl dgst -sha256 | awk '{ print $2 }'
}
# published ADDR - the 3 1 1 digests ADDR serves, sorted, one line.
published()
{
	lab_ns dig +norec +short @"$1" _25._tcp.mx1.example.test TLSA |
	    awk '$1 == 3 { $1 = $2 = $3 = ""; gsub(/ /, ""); print tolower($0) }' |
	    sort | tr '\n' ' '
}
# settled - tlsagen --sync has nothing to add or retire, and both
# nameservers serve exactly current + next of both algorithms.
settled()
{
	want=$( { leaf_key "$RSA_CHAIN"; key_of "$d/keys/rsa.next.key";
	    leaf_key "$EC_CHAIN"; key_of "$d/keys/ecdsa.next.key"; } | sort -u | tr '\n' ' ')
	[ "$(published 127.0.0.1)" = "$want" ] && [ "$(published 127.0.0.2)" = "$want" ] &&
	    lab_ns "$TLSAGEN" -q -c "$d/daneguard.conf" --sync > "$d/sync.out" 2>&1 &&
	    grep -q ': in sync$' "$d/sync.out" && ! grep -q '^; held' "$d/sync.out"
}
# retire WHAT - run the hook until the old records are gone.
retire()
{
	rt_n=0
	until settled; do
		hook "$d/hook.conf"
		[ $rc -eq 0 ] || { cat "$d/hook.last"; lab_fail "$1: the hook exited $rc while retiring"; }
		rt_n=$((rt_n + 1))
		[ $rt_n -gt 120 ] && { cat "$d/sync.out"; lab_fail "$1: old records not retired"; }
		sleep 0.5
	done
}
retire "after the first deployment"

# swept_after T - the guard's status.json is of a sweep started after T.
swept_after()
{
	sa_t=$(sed -n 's/.*"sweep": {"time": \([0-9]*\).*/\1/p' \
	    "$d/state/status.json" 2>/dev/null)
	[ -n "$sa_t" ] && [ "$sa_t" -gt "$1" ]
}
# g4_ok WHAT - sweeps of the guard (SIGUSR2) until one finds every G4
# item OK: it read the new next keys and chains after its privilege drop
# (a next key it cannot read leaves that key's record unexplained, a
# chain it cannot read leaves G4 UNKNOWN). Its resolver may still hold
# the set before the last update for a TTL: a few sweeps are allowed.
g4_ok()
{
	g4_n=0
	checks=$((checks + 1))
	while :; do
		g4_t=$(date +%s)
		while [ "$(date +%s)" -le "$g4_t" ]; do sleep 0.2; done
		kill -USR2 "$(cat "$d/dg.pid")"
		wait_for 120 "a guard sweep ($1)" swept_after "$g4_t"
		grep '"check": "G4"' "$d/state/status.json" > "$d/g4.now"
		[ -s "$d/g4.now" ] && ! grep -qv '"state": "OK"' "$d/g4.now" &&
		    break
		g4_n=$((g4_n + 1))
		if [ $g4_n -ge 30 ]; then
			fails=$((fails + 1))
			echo "FAIL  $1: G4 is not OK after 30 sweeps:"
			sed 's/^/      | /' "$d/g4.now"
			tail -n 20 "$d/dg.log" | sed 's/^/      | /'
			return 1
		fi
	done
	echo "ok    $1: the guard (as nobody) reads the new next keys and chains: G4 OK"
}

# rollover ALG ROUND - renew ALG's certificate for the next key, then the
# hook until it is in service and the old record is retired.
rollover()
{
	if [ "$1" = rsa ]; then chain=$RSA_CHAIN; else chain=$EC_CHAIN; fi
	next_before=$(key_of "$d/keys/$1.next.key")
	served_before=$(served_key "$1")
	if [ "$1" = rsa ]; then
		# The deploy hook's status is certbot's and lego's too: the
		# retries below (the timer) are what counts.
		certbot_ renew --force-renewal --no-random-sleep-on-renew \
		    --deploy-hook "$HOOK -c $d/hook.conf"
	else
		lego_ --csr "$d/keys/ecdsa.next.key.csr" renew --days 100000 \
		    --renew-hook "$HOOK -c $d/hook.conf"
	fi
	tl "$1 round $2: renewed by $([ "$1" = rsa ] && echo certbot || echo lego) for the next key"
	checks=$((checks + 1))
	[ "$(leaf_key "$chain")" = "$next_before" ] ||
	    { fails=$((fails + 1)); echo "FAIL  $1 round $2: the renewed certificate is not for the next key"; }
	hook_until "$d/hook.conf" "$1 round $2"
	tl "$1 round $2: in service (gate passed, reload, guard G3 OK), new next key published"
	checks=$((checks + 1))
	if [ "$(served_key "$1")" = "$next_before" ] &&
	    [ "$served_before" != "$next_before" ] &&
	    [ "$(key_of "$d/keys/$1.next.key")" != "$next_before" ]; then
		echo "ok    $1 round $2: the MTA serves the former next key; a new next key is made"
	else
		fails=$((fails + 1))
		echo "FAIL  $1 round $2: served $(served_key "$1"), expected $next_before"
	fi
	retire "$1 round $2"
	tl "$1 round $2: old record retired: each nameserver serves current + next"
	g4_ok "$1 round $2"
}

# ------------------------------------------------------------ 1. rollovers

r=1
while [ $r -le "$ROUNDS" ]; do
	rollover rsa $r
	rollover ecdsa $r
	r=$((r + 1))
done

# ------------------------------------------------------------ 2. held back

hold
# A rollover while the secondary gets no transfer: its deploy passes (the
# next key was published long ago) but the new next key reaches only the
# primary.
certbot_ renew --force-renewal --no-random-sleep-on-renew ||
    lab_fail "certbot renew (held back)"
hook_until "$d/hook.conf" "held back, first renewal"
lagging() { [ "$(serial 127.0.0.1)" != "$(serial 127.0.0.2)" ]; }
wait_for 120 "the secondary to lag" lagging
tl "secondary held back (transfers refused); RSA renewed and deployed, its new next key only on the primary"
served_before=$(served_key rsa)
certbot_ renew --force-renewal --no-random-sleep-on-renew ||
    lab_fail "certbot renew (held back, second)"
# The hook (the client's timer) until the primary alone would pass: each
# run must refuse, and the MTA keep the old chain.
primary_ready=no
n=0
while [ $primary_ready = no ] && [ $n -lt 60 ]; do
	hook "$d/hook.conf"
	[ $rc -eq 75 ] && grep -q 'NOT DEPLOYED' "$d/hook.last" &&
	    [ "$(served_key rsa)" = "$served_before" ] || break
	grep -q 'ns1.example.test. 127.0.0.1 serial [0-9]* present' "$d/hook.last" &&
	    primary_ready=yes
	n=$((n + 1))
done
checks=$((checks + 1))
if [ $primary_ready = yes ] &&
    grep -q 'ns2.example.test. 127.0.0.2 .*missing' "$d/hook.last"; then
	echo "ok    secondary held back: the deploy is refused (exit 75) even once the primary is ready; the MTA keeps the old chain"
else
	fails=$((fails + 1))
	echo "FAIL  secondary held back: hook exit $rc"
	sed 's/^/      | /' "$d/hook.last"
fi
tl "renewal while the secondary lags: deploy refused (exit 75) until the end, old chain kept"
release
wait_for 120 "the secondary to catch up" in_step
tl "transfers allowed again: the secondary caught up"
hook_until "$d/hook.conf" "after the secondary caught up"
checks=$((checks + 1))
[ "$(served_key rsa)" != "$served_before" ] &&
    echo "ok    once the secondary caught up (and 2 x TTL passed), the renewal is in service" ||
    { fails=$((fails + 1)); echo "FAIL  the renewal is not in service after the secondary caught up"; }
tl "deployed once the new next key was on both nameservers for 2 x TTL"
retire "after the held-back rollover"

# ------------------------------------------------------------ 3. no key reuse

served_before=$(served_key rsa)
chain_before=$(leaf_key "$RSA_CHAIN")
next_before=$(key_of "$d/keys/rsa.next.key")
# certbot kept the deploy hook in its renewal file: it runs it itself,
# and the hook refuses (so certbot's own status is not looked at).
certbot_ renew --force-renewal --no-random-sleep-on-renew --no-reuse-key
unannounced=$(leaf_key "$RSA_CHAIN")
[ "$unannounced" != "$chain_before" ] && [ "$unannounced" != "$next_before" ] ||
    { tail -n 30 "$d/certbot.out"; lab_fail "certbot --no-reuse-key made no new key"; }
tl "certbot renewed without key reuse: a new key, unannounced; its deploy hook ran"
# The guard sees the renewed chain on disk before any reload: G4.
g4()
{
	grep '"check": "G4"' "$d/state/status.json" | grep '"alg": "rsa"' |
	    grep -q '"state": "CRITICAL"'
}
kill -USR2 "$(cat "$d/dg.pid")"
n=0
until g4; do
	n=$((n + 1))
	if [ $n -gt 600 ]; then
		sed 's/^/      | /' "$d/state/status.json"
		tail -n 30 "$d/dg.log" | sed 's/^/      | /'
		lab_fail "the guard did not flag G4 for rsa in 120 s"
	fi
	sleep 0.2
done
checks=$((checks + 1))
echo "ok    the guard flags G4 for the unannounced key before any reload:"
grep '"check": "G4"' "$d/state/status.json" | grep '"alg": "rsa"' | sed 's/^/      | /'
tl "guard: G4 CRITICAL for the chain on disk (no published record)"
hook "$d/hook.conf"
checks=$((checks + 1))
if [ $rc -eq 1 ] && grep -q 'REFUSED: mx1.example.test rsa' "$d/hook.last" &&
    grep -q 'no reuse_key = True' "$d/hook.last" &&
    grep -q 'not publishing while a refused chain is on disk' "$d/hook.last" &&
    [ "$(served_key rsa)" = "$served_before" ] &&
    [ "$(key_of "$(readlink -f "$d/le/live/mx1-rsa/privkey.pem")")" = "$next_before" ]; then
	echo "ok    no key reuse: the hook refuses (exit 1), warns, publishes nothing, gives certbot the next key; the MTA keeps the old chain"
else
	fails=$((fails + 1))
	echo "FAIL  no key reuse: hook exit $rc"
	sed 's/^/      | /' "$d/hook.last"
fi
checks=$((checks + 1))
case " $(published 127.0.0.1) $(published 127.0.0.2) " in
*" $unannounced "*)
	fails=$((fails + 1))
	echo "FAIL  the unannounced key's record was published" ;;
*)	if g4; then echo "ok    its record is not published: G4 stays CRITICAL"
	else fails=$((fails + 1)); echo "FAIL  G4 is no longer CRITICAL"; fi ;;
esac
tl "hook refused the renewal (exit 1), published nothing; old chain kept"
# Key reuse on again: certbot has the next key.
certbot_ renew --force-renewal --no-random-sleep-on-renew --reuse-key
hook_until "$d/hook.conf" "key reuse again"
checks=$((checks + 1))
[ "$(served_key rsa)" = "$next_before" ] &&
    echo "ok    key reuse on again: the renewal uses the next key and is deployed" ||
    { fails=$((fails + 1)); echo "FAIL  after key reuse on again: not the next key in service"; }
retire "after the key-reuse fix"
tl "key reuse on again: renewed for the next key, deployed, retired"

# ------------------------------------------------------------ the sender

touch "$d/stop"
wait_for 120 "the sender to stop" eval '! lab_pid_alive $SENDER_PID'
n_ok=$(grep -c ' ok$' "$d/verify.log")
n_fail=$(grep -c ' FAIL' "$d/verify.log")
checks=$((checks + 1))
if [ "$n_fail" -eq 0 ] && [ "$n_ok" -gt 20 ]; then
	echo "ok    the validating sender: $n_ok verified connections, none failed"
else
	fails=$((fails + 1))
	echo "FAIL  the validating sender: $n_fail failed of $((n_ok + n_fail))"
	grep FAIL "$d/verify.log" | head -n 5 | sed 's/^/      | /'
fi
tl "end: $n_ok verified connections (RSA and ECDSA forced), $n_fail failed"
checks=$((checks + 1))
if grep -q 'cannot reach' "$d/hook.out"; then
	fails=$((fails + 1))
	echo "FAIL  the hook says the guard's group cannot reach a file:"
	grep 'cannot reach' "$d/hook.out" | sort -u | sed 's/^/      | /'
else
	echo "ok    the guard's group reaches every chain and next key (the hook warned about no directory)"
fi
echo "--- timeline"
cat "$d/timeline"
echo "--- hook messages"
cat "$d/hook.out"
echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
