#!/bin/sh
# tests/lab/sync-lab.sh - tlsagen --sync: which records to add, and when
# an old one may be retired, against two real nameservers and a real MTA.
#
# In a network namespace: example.test signed at test time, one NSD per
# nameserver address (ns1 127.0.0.1, ns2 ::1), Postfix on 127.0.0.1:25,
# which the probe list maps the host's address to ("192.0.2.25 =
# 127.0.0.1", NAT: the probes dial the local listener).
# On disk (daneguard.conf): the renewed RSA chain (rsa-other) and the next
# key (rsa-next). Published: the old chain's record (rsa), the renewed
# chain's, later the next key's.
#   (a) ns2 lags (old record only): adds for the next key (missing on
#       both) and the renewed chain (missing on ns2); the old record's
#       deletion held because ns2 lacks its replacements; exit 1;
#   (b) both serve all three, just seen: deletion held (too young); the
#       json form says the same;
#   (c) aged 3 h (the state file edited, no sleeping), nothing listens
#       on the probe address: held (the chain the MTA serves is unknown);
#   (d) Postfix serves the old chain: held (it matches what the MTA
#       serves now), never deleted;
#   (e) Postfix reloaded with the renewed chain: "update delete" of the
#       old record, exit 0 (tests/lab/acme-rollover.sh feeds such
#       output to nsupdate and BIND).
#
# Environment: TLSAGEN, CERTDIR, top_srcdir. Needs root and the Debian
# packages nsd, ldnsutils, postfix, openssl, iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/lab/lib.sh"
. "$top_srcdir/tests/lab/dnslib.sh"

lab_init
lab_require_make_env
lab_require_root
lab_require nsd:nsd ldns-keygen:ldnsutils ldns-signzone:ldnsutils \
    drill:ldnsutils postfix:postfix openssl:openssl

d=$LAB_TMP
fails=0
checks=0
HOST=mx.example.test
OWNER=_25._tcp.$HOST

rdata()
{
	"$TLSAGEN" -q -f rdata "$@" | grep '^3 1 1 ' ||
	    lab_fail "tlsagen -f rdata $* gave no 3 1 1 record"
}
old=$(rdata "$CERTDIR/rsa-chain.pem") || exit 1
new=$(rdata "$CERTDIR/rsa-other-chain.pem") || exit 1
nxt=$(rdata --next "$CERTDIR/rsa-next.key") || exit 1

lab_twons_zone 1 127.0.0.1 "$old" > "$d/v1"
lab_twons_zone 2 127.0.0.1 "$old" "$new" > "$d/v2"
lab_twons_zone 3 127.0.0.1 "$old" "$new" "$nxt" > "$d/v3"
for v in v1 v2 v3; do lab_dns_sign example.test "$d/$v" "$d/$v.signed"; done
anchor=$LAB_TMP/keys/example.test/anchor.ds

lab_twons_start "$d/v2.signed" "$d/v1.signed" "$anchor"
mkdir -p "$d/state"
cat > "$d/dg.conf" <<EOF
state_dir     = "$d/state"
probe_timeout = 2
dns {
  trust_anchor_file = "$anchor"
  resolver_config   = "$d/ub.conf"
}
host "$HOST" {
  port     = 25
  ttl      = 3600
  rollover = "current+next"
  probe    = { "192.0.2.25 = 127.0.0.1" }
  cert "rsa" { chain = "$CERTDIR/rsa-other-chain.pem"
               next_key = "$CERTDIR/rsa-next.key" }
}
EOF

check()
{
	checks=$((checks + 1))
	if [ "$2" = ok ]; then
		lab_log "ok: $1"
	else
		lab_log "FAIL: $1: $2"
		fails=$((fails + 1))
	fi
}
# sync ARGS... - output in $d/out, stderr in $d/err, status in $rc.
sync_()
{
	lab_ns "$TLSAGEN" -q -c "$d/dg.conf" --sync "$@" >"$d/out" 2>"$d/err"
	rc=$?
	sed 's/^/    | /' "$d/out" "$d/err" >&2
}
expect_rc()
{
	if [ "$rc" -eq "$2" ]; then check "$1: exit $2" ok
	else check "$1: exit $2" "exit $rc"; fi
}
expect_line()
{
	if grep -Eq -- "$2" "$d/out"; then check "$1" ok
	else check "$1" "no line matching '$2'"; fi
}
no_line()
{
	if grep -Eq -- "$2" "$d/out"; then check "$1" "a line matches '$2'"
	else check "$1" ok; fi
}
hex() { echo "$1" | cut -d' ' -f4; }

# ------------------------------------------------------------ (a)
lab_log "(a) ns2 serves only the old record"
sync_
expect_rc "ns2 lags" 1
expect_line "zone line" "^zone example\.test\.$"
expect_line "add the next key's record" "^update add $OWNER\. 3600 IN TLSA $nxt$"
expect_line "add the renewed chain's record (ns2 lacks it)" \
    "^update add $OWNER\. 3600 IN TLSA $new$"
expect_line "send" "^send$"
expect_line "old record held: a replacement is missing" \
    "^; held: update delete $OWNER\. 3600 IN TLSA $old: ns[12]\.example\.test\. [0-9a-f.:]* does not serve 3 1 1 [0-9a-f]* yet$"
no_line "no delete while ns2 lags" "^update delete"

# ------------------------------------------------------------ (b)
lab_log "(b) both serve all three records, just seen"
cp "$d/v3.signed" "$d/ns1.zone"
cp "$d/v3.signed" "$d/ns2.zone"
lab_nsd_reload ns1 example.test 127.0.0.1
lab_nsd_reload ns2 example.test ::1
sync_
expect_rc "replacements too young" 1
expect_line "in sync: nothing to add" "^; $HOST\. 2 nameserver addresses of example\.test\.: in sync$"
expect_line "old record held: too young" \
    "^; held: update delete $OWNER\. 3600 IN TLSA $old: ns1\.example\.test\. 127\.0\.0\.1 has served 3 1 1 [0-9a-f]* for less than 2h"
no_line "no add, no delete" "^(update|zone|send)"
sync_ -f json
expect_rc "json: held" 1
expect_line "json: a hold object with why" \
    "^\{\"op\":\"hold\",\"zone\":\"example\.test\.\",\"owner\":\"$OWNER\.\",\"ttl\":3600,\"usage\":3,\"selector\":1,\"mtype\":1,\"data\":\"$(hex "$old")\",\"why\":\".*for less than 2h"

# ------------------------------------------------------------ (c)
lab_log "(c) aged 3 h; no MTA on the probe address"
now=$(date +%s)
awk -v old=$((now - 10800)) '/^#/ { print; next } { $7 = old; print }' \
    "$d/state/firstseen" > "$d/fs.new" && mv "$d/fs.new" "$d/state/firstseen"
sync_
expect_rc "MTA unknown" 1
expect_line "held: what the MTA serves is unknown" \
    "^; held: update delete $OWNER\. 3600 IN TLSA $old: cannot see what 127\.0\.0\.1 port 25 serves for rsa"

# ------------------------------------------------------------ (d)
lab_log "(d) Postfix serves the old chain"
lab_postfix_init pf
lab_postfix_conf pf "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $CERTDIR/rsa.key $CERTDIR/rsa-chain.pem"
lab_postfix_listen pf 127.0.0.1:25
lab_postfix_start pf
sync_
expect_rc "old chain served" 1
expect_line "held: it matches the chain the MTA serves" \
    "^; held: update delete $OWNER\. 3600 IN TLSA $old: it matches the chain the MTA serves now"
no_line "never a delete of the served chain's record" "^update delete"

# ------------------------------------------------------------ (e)
lab_log "(e) Postfix reloaded with the renewed chain"
lab_postfix_conf pf \
    "smtpd_tls_chain_files = $CERTDIR/rsa-other.key $CERTDIR/rsa-other-chain.pem"
lab_ns postfix -c "$d/pf/etc" reload >/dev/null 2>&1 || lab_fail "postfix reload"
want=$(openssl x509 -in "$CERTDIR/rsa-other-chain.pem" -noout -fingerprint)
served()
{
	lab_ns openssl s_client -starttls smtp -connect 127.0.0.1:25 </dev/null \
	    2>/dev/null | openssl x509 -noout -fingerprint 2>/dev/null
}
n=0
until [ "$(served)" = "$want" ]; do
	n=$((n + 1))
	[ $n -gt 100 ] && lab_fail "Postfix still serves the old chain after reload"
	sleep 0.1
done
sync_
expect_rc "retire" 0
expect_line "delete the old record" "^update delete $OWNER\. 3600 IN TLSA $old$"
no_line "nothing held" "^; held"
no_line "the renewed chain's and the next key's records stay" \
    "^update delete $OWNER\. 3600 IN TLSA ($new|$nxt)$"
echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
