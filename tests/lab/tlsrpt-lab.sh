#!/bin/sh
# tests/lab/tlsrpt-lab.sh - TLS-RPT reports (RFC 8460) into daneguard and
# out again as G10.
#
#   intake   daneguard --tlsrpt takes bare JSON, a gzip'd report, mails
#            (multipart/report, application/tlsrpt+gzip and +json) from a
#            file, standard input, a directory and a Maildir (new/ moved to
#            cur/); a report-id counts once;
#            hostile input (truncated gzip, a gzip expanding to 64 MiB,
#            deep JSON, wrong types, wrong dates, a mail without a report
#            part) exits 65 with one line and leaves the store untouched;
#            66, 75 and 78 as documented
#   Postfix  a private Postfix delivers a report mail through the direct
#            pipe service of conf/postfix-tlsrpt.cf (taken from that file) into
#            the store; a mail that is no report bounces, nothing stored
#   G10      daneguard --check against that Postfix: G3 OK on both
#            addresses and algorithms, G10 WARNING naming the reporter,
#            the count and a receiving-ip, called out as contradicting G3;
#            a report naming one of the host's addresses (not its name)
#            counts too; reports about other hosts leave G10 OK; the daemon
#            writes the count into status.json and metrics.prom
#
# Report dates are yesterday's (UTC), made from tests/data/tlsrpt at run
# time. Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make
# check). Needs root and the Debian packages postfix, swaks, openssl,
# iproute2, gzip.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"

lab_guard_init postfix:postfix postconf:postfix swaks:swaks openssl:openssl \
    gzip:gzip base64:coreutils timeout:coreutils

host=mx1.example.test
lab_tlsrpt_init

# The daemon and the pipe run as nobody: their own copy of the program.
lab_copy_certs "$LAB_TMP/disk" rsa.key rsa-chain.pem ecdsa.key \
    ecdsa-chain.pem rsa-next.key ecdsa-next.key
mkdir -p "$LAB_TMP/bin" "$LAB_TMP/in" || lab_fail "mkdir"
cp "$DANEGUARD" "$LAB_TMP/bin/daneguard" || lab_fail "cp $DANEGUARD"
dg=$LAB_TMP/bin/daneguard

# mkconf FILE STATE_DIR - a configuration for $host with that state_dir.
mkconf()
{
	cat > "$1" <<EOF
state_dir      = "$2"
probe_interval = 300
probe_timeout  = 5
tlsa_file      = "$LAB_TMP/published.zone"
EOF
	lab_dg_host "$host" "$LAB_TMP/disk" >> "$1"
	mkdir -p "$2" && chown nobody "$2" || lab_fail "state_dir $2"
}


# intake CONF ARGS... - daneguard --tlsrpt -f; exit in $rc, stderr in
# $LAB_TMP/intake.err.
intake()
{
	c=$1
	shift
	timeout 60 "$dg" --tlsrpt -f -c "$c" "$@" 2>"$LAB_TMP/intake.err"
	rc=$?
}

# ------------------------------------------------------------ intake

cli=$LAB_TMP/cli-state
mkconf "$LAB_TMP/cli.conf" "$cli"
"$TLSAGEN" -q -c "$LAB_TMP/cli.conf" -o "$LAB_TMP/published.zone" ||
    lab_fail "tlsagen failed"

lab_tlsrpt_report "$LAB_TMP/in/r1.json" r1
intake "$LAB_TMP/cli.conf" "$LAB_TMP/in/r1.json"
[ $rc -eq 0 ] && [ "$(lab_tlsrpt_sum "$cli" tlsa-invalid)" = 30 ] &&
    [ "$(lab_tlsrpt_sum "$cli" starttls-not-supported)" = 12 ] &&
    grep -q 'counted report-id="r1"' "$LAB_TMP/intake.err"
lab_result "bare JSON counted (tlsa-invalid 30, starttls-not-supported 12)" $? ||
    cat "$LAB_TMP/intake.err"

sh "$fixtures/mkmail.sh" "$LAB_TMP/in/r1.json" > "$LAB_TMP/in/r1.eml"
before=$(lab_tlsrpt_digest "$cli")
intake "$LAB_TMP/cli.conf" - < "$LAB_TMP/in/r1.eml"
[ $rc -eq 0 ] && [ "$(lab_tlsrpt_digest "$cli")" = "$before" ] &&
    grep -q 'counted before' "$LAB_TMP/intake.err"
lab_result "the same report-id again (as a gzip'd mail on stdin): not counted" $? ||
    cat "$LAB_TMP/intake.err"

mkdir -p "$LAB_TMP/in/dir"
lab_tlsrpt_report "$LAB_TMP/in/r2.json" r2
gzip -9nc "$LAB_TMP/in/r2.json" > "$LAB_TMP/in/dir/r2.json.gz"
lab_tlsrpt_report "$LAB_TMP/in/r3.json" r3
sh "$fixtures/mkmail.sh" -j "$LAB_TMP/in/r3.json" > "$LAB_TMP/in/dir/r3.eml"
cp "$LAB_TMP/in/r1.eml" "$LAB_TMP/in/dir/r1.eml"
intake "$LAB_TMP/cli.conf" "$LAB_TMP/in/dir"
[ $rc -eq 0 ] && [ "$(lab_tlsrpt_sum "$cli" tlsa-invalid)" = 90 ] &&
    [ "$(grep -c 'counted report-id' "$LAB_TMP/intake.err")" = 2 ]
lab_result "a directory: gzip and tlsrpt+json mail counted, the duplicate not" $? ||
    cat "$LAB_TMP/intake.err"

# A Maildir: the messages in new/ are taken in and moved to cur/.
mkdir -p "$LAB_TMP/in/md/new" "$LAB_TMP/in/md/cur" "$LAB_TMP/in/md/tmp"
lab_tlsrpt_report "$LAB_TMP/in/r4.json" r4
sh "$fixtures/mkmail.sh" "$LAB_TMP/in/r4.json" > "$LAB_TMP/in/md/new/1.host"
cp "$LAB_TMP/in/r1.eml" "$LAB_TMP/in/md/new/2.host"
intake "$LAB_TMP/cli.conf" "$LAB_TMP/in/md"
first=$rc
before=$(lab_tlsrpt_digest "$cli")
intake "$LAB_TMP/cli.conf" "$LAB_TMP/in/md"
[ $first -eq 0 ] && [ $rc -eq 0 ] &&
    [ "$(lab_tlsrpt_sum "$cli" tlsa-invalid)" = 120 ] &&
    [ -f "$LAB_TMP/in/md/cur/1.host:2,S" ] &&
    [ -f "$LAB_TMP/in/md/cur/2.host:2,S" ] &&
    [ -z "$(ls "$LAB_TMP/in/md/new")" ] &&
    [ ! -s "$LAB_TMP/intake.err" ] && [ "$(lab_tlsrpt_digest "$cli")" = "$before" ]
lab_result "a Maildir: new/ taken in and moved to cur/, nothing read twice" $? ||
    { ls -R "$LAB_TMP/in/md"; cat "$LAB_TMP/intake.err"; }

# hostile NAME FILE WANT - exit 65, one line containing WANT, store as is.
hostile()
{
	before=$(lab_tlsrpt_digest "$cli")
	intake "$LAB_TMP/cli.conf" "$2"
	[ $rc -eq 65 ] && [ "$(wc -l < "$LAB_TMP/intake.err")" -eq 1 ] &&
	    grep -q -- "$3" "$LAB_TMP/intake.err" &&
	    grep -q 'nothing stored' "$LAB_TMP/intake.err" &&
	    [ "$(lab_tlsrpt_digest "$cli")" = "$before" ]
	lab_result "hostile: $1 -> 65, nothing stored" $? ||
	    { echo "      exit $rc"; cat "$LAB_TMP/intake.err"; }
}

lab_tlsrpt_report "$LAB_TMP/in/h.json" h1
gzip -9nc "$LAB_TMP/in/h.json" > "$LAB_TMP/in/h.gz"
head -c $(($(wc -c < "$LAB_TMP/in/h.gz") - 12)) "$LAB_TMP/in/h.gz" \
    > "$LAB_TMP/in/trunc.gz"
hostile "truncated gzip" "$LAB_TMP/in/trunc.gz" "truncated"
head -c 64M /dev/zero | gzip -1 > "$LAB_TMP/in/bomb.gz"
hostile "gzip expanding to 64 MiB" "$LAB_TMP/in/bomb.gz" "expands past"
{ printf 'From: a@example.test\nContent-Type: application/tlsrpt+gzip\n'
  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$LAB_TMP/in/bomb.gz"; } \
    > "$LAB_TMP/in/bomb.eml"
hostile "the same bomb as a mail attachment" "$LAB_TMP/in/bomb.eml" "expands past"
{ printf '{"organization-name": '; head -c 100000 /dev/zero | tr '\0' '['; } \
    > "$LAB_TMP/in/deep.json"
hostile "deep JSON" "$LAB_TMP/in/deep.json" "not JSON"
lab_tlsrpt_report "$LAB_TMP/in/type.json" h2 -e 's/"failed-session-count": 30/"failed-session-count": "30"/'
hostile "a count as a string" "$LAB_TMP/in/type.json" \
    "failure-details\[0\].failed-session-count: is a string, not an integer"
lab_tlsrpt_report "$LAB_TMP/in/date.json" h3 -e 's/"end-datetime": "[^"]*"/"end-datetime": "1999-01-01T00:00:00Z"/'
hostile "end before start" "$LAB_TMP/in/date.json" "not after start-datetime"
lab_tlsrpt_report "$LAB_TMP/in/future.json" h4 -e "s/$yesterday/$(date -u -d '+3 days' +%Y-%m-%d)/g"
hostile "dates in the future" "$LAB_TMP/in/future.json" "in the future"
printf 'From: a@example.test\nSubject: hello\n\nnot a report\n' > "$LAB_TMP/in/plain.eml"
hostile "a mail without a report part" "$LAB_TMP/in/plain.eml" "not a TLS report"

intake "$LAB_TMP/cli.conf" "$LAB_TMP/in/missing.json"
[ $rc -eq 66 ]
lab_result "a missing file -> 66" $? || cat "$LAB_TMP/intake.err"
sed "s|$cli|/dev/null/state|" "$LAB_TMP/cli.conf" > "$LAB_TMP/bad-state.conf"
intake "$LAB_TMP/bad-state.conf" "$LAB_TMP/in/r1.json"
[ $rc -eq 75 ] && grep -q 'not stored' "$LAB_TMP/intake.err"
lab_result "a store that cannot be written -> 75 (the MTA retries)" $? ||
    cat "$LAB_TMP/intake.err"
# A configuration with nothing but state_dir (a report box's): enough.
echo "state_dir = \"$LAB_TMP/bare-state\"" > "$LAB_TMP/bare.conf"
mkdir -p "$LAB_TMP/bare-state" || lab_fail "mkdir bare-state"
intake "$LAB_TMP/bare.conf" "$LAB_TMP/in/r1.json"
[ $rc -eq 0 ] && [ "$(lab_tlsrpt_sum "$LAB_TMP/bare-state" tlsa-invalid)" = 30 ]
lab_result "a configuration without a host section (state_dir only) takes reports in" $? ||
    cat "$LAB_TMP/intake.err"
echo 'state_dir = ' > "$LAB_TMP/broken.conf"
intake "$LAB_TMP/broken.conf" "$LAB_TMP/in/r1.json"
[ $rc -eq 78 ]
lab_result "a broken configuration -> 78" $? || cat "$LAB_TMP/intake.err"

# ------------------------------------------------------------ Postfix

state=$LAB_TMP/state
conf=$LAB_TMP/daneguard.conf
mkconf "$conf" "$state"
# The pipe's own configuration: state_dir alone (no host section).
echo "state_dir = \"$state\"" > "$LAB_TMP/pipe.conf"
lab_netns_create
lab_postfix_tls pf "$LAB_TMP/disk" \
    "transport_maps = inline:{tlsrpt@example.test=tlsrpt:}" \
    "tlsrpt_destination_recipient_limit = 1"
pfdir=$(lab_postfix_dir pf)
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "[::1]:25"
# The recipe's master.cf lines for daneguard --tlsrpt in the pipe itself
# (tlsrpt-spool.sh tests the spooler's), with this test's program, user
# and file.
sed -n '/^# --- master.cf direct/,/^# --- end master.cf direct/p' \
    "$top_srcdir/conf/postfix-tlsrpt.cf" | grep -v '^# ---' | sed 's/^#//' |
    sed -e "s|user=daneguard|user=nobody|" \
        -e "s|/usr/sbin/daneguard --tlsrpt|$dg --tlsrpt -c $LAB_TMP/pipe.conf|" \
    >> "$pfdir/etc/master.cf"
grep -q "argv=$dg --tlsrpt" "$pfdir/etc/master.cf" ||
    lab_fail "no pipe service in conf/postfix-tlsrpt.cf"
lab_postfix_start pf

# send FILE - the mail in FILE to tlsrpt@example.test over SMTP.
send()
{
	lab_ns swaks --server 127.0.0.1:25 --helo sender.example \
	    --from tlsrpt-noreply@mailprovider.example \
	    --to tlsrpt@example.test --data "@$1" >"$LAB_TMP/swaks.out" 2>&1 ||
	    { cat "$LAB_TMP/swaks.out"; lab_postfix_log pf; lab_fail "swaks failed"; }
}

# delivered STATUS - wait (30 s at most) for a delivery to tlsrpt@ with
# that status in the maillog; prints the line.
delivered()
{
	n=0
	while ! grep "to=<tlsrpt@example.test>.*status=$1" "$pfdir/maillog" \
	    2>/dev/null | tail -n 1 | grep .; do
		n=$((n + 1))
		[ $n -gt 300 ] && return 1
		sleep 0.1
	done
	return 0
}

lab_tlsrpt_report "$LAB_TMP/in/pf1.json" pf1
sh "$fixtures/mkmail.sh" "$LAB_TMP/in/pf1.json" > "$LAB_TMP/in/pf1.eml"
send "$LAB_TMP/in/pf1.eml"
delivered sent | sed 's/^/      | /' && grep -q 'relay=tlsrpt' "$pfdir/maillog" &&
    [ "$(lab_tlsrpt_sum "$state" tlsa-invalid)" = 30 ]
lab_result "Postfix delivers a gzip'd report mail through the recipe's pipe into the store" $? ||
    lab_postfix_log pf

send "$LAB_TMP/in/plain.eml"
before=$(lab_tlsrpt_digest "$state")
delivered bounced | sed 's/^/      | /' &&
    [ "$(lab_tlsrpt_digest "$state")" = "$before" ]
lab_result "a mail that is no report bounces (65), nothing stored" $? ||
    lab_postfix_log pf

# ------------------------------------------------------------ G10

# row CHECK ADDR ALG - the state of that row of the last --check table.
row()
{
	lab_dg_state "$LAB_TMP/check.out" "$1" "$host" "$2" "$3"
}

g3_ok()
{
	for a in 127.0.0.1 ::1; do for g in rsa ecdsa; do
		[ "$(row G3 $a $g)" = OK ] || return 1
	done; done
}

lab_dg_check "$conf" "$LAB_TMP/check.out" "$LAB_TMP/check.err"
g10=$(grep '^G10 ' "$LAB_TMP/check.out")
[ $rc -eq 1 ] && g3_ok && [ "$(row G10 - -)" = WARNING ] &&
    echo "$g10" | grep -q 'senders reported 42 failed sessions' &&
    echo "$g10" | grep -q '"Mail Provider Inc." reported 42' &&
    echo "$g10" | grep -q 'receiving-ip 2001:db8::10' &&
    echo "$g10" | grep -q 'contradicts G3 OK'
lab_result "--check: G3 OK, G10 WARNING (reporter, 42, receiving-ip), contradiction called out, exit 1" $? ||
    sed 's/^/      | /' "$LAB_TMP/check.out" "$LAB_TMP/check.err"
echo "$g10" | sed 's/^/      | /'

# A report that names only an address of the host (::1), not its name.
cat > "$LAB_TMP/in/byaddr.json" <<EOF
{"organization-name": "Other Sender", "report-id": "byaddr",
 "date-range": {"start-datetime": "${yesterday}T00:00:00Z",
                "end-datetime": "${yesterday}T23:59:59Z"},
 "policies": [{"policy": {"policy-type": "tlsa", "policy-domain": "example.test"},
   "summary": {"total-successful-session-count": 9, "total-failure-session-count": 5},
   "failure-details": [{"result-type": "dnssec-invalid", "receiving-ip": "::1",
                        "failed-session-count": 5},
                       {"result-type": "sts-policy-fetch-error",
                        "failed-session-count": 7}]}]}
EOF
intake "$conf" "$LAB_TMP/in/byaddr.json"
lab_dg_check "$conf" "$LAB_TMP/check.out" "$LAB_TMP/check.err"
g10=$(grep '^G10 ' "$LAB_TMP/check.out")
[ $rc -eq 1 ] && echo "$g10" | grep -q 'senders reported 47 failed sessions' &&
    echo "$g10" | grep -q 'dnssec-invalid 5' && echo "$g10" | grep -q 'and others'
lab_result "a failure reported for ::1 (no host name) counts for the host: 47" $? ||
    sed 's/^/      | /' "$LAB_TMP/check.out" "$LAB_TMP/intake.err"

# Reports about other hosts only: G10 OK.
mkconf "$LAB_TMP/other.conf" "$LAB_TMP/other-state"
lab_tlsrpt_report "$LAB_TMP/in/other.json" other1 -e 's/mx1\.example\.test/mx9.other.example/g' \
    -e 's/2001:DB8:0:0::10/2001:db8::99/' -e 's/192\.0\.2\.10/192.0.2.99/'
intake "$LAB_TMP/other.conf" "$LAB_TMP/in/other.json"
lab_dg_check "$LAB_TMP/other.conf" "$LAB_TMP/check.out" "$LAB_TMP/check.err"
[ $rc -eq 0 ] && [ "$(row G10 - -)" = OK ]
lab_result "failures reported for other hosts only: G10 OK, exit 0" $? ||
    sed 's/^/      | /' "$LAB_TMP/check.out" "$LAB_TMP/intake.err"

# The daemon: the count in status.json and metrics.prom.
lab_dg_start nobody "$conf" "$LAB_TMP/dg.sock" "$LAB_TMP/dg.log" \
    "$state/metrics.prom"
grep -q '"check": "G10", "host": "mx1.example.test".*"state": "WARNING".*"count": 47' \
    "$state/status.json" &&
    grep -q '^daneguard_check_count{check="G10",host="mx1.example.test",addr="",alg="",client=""} 47$' \
    "$state/metrics.prom"
lab_result "daemon: G10 WARNING with count 47 in status.json and metrics.prom" $? ||
    { grep G10 "$state/status.json" "$state/metrics.prom"; cat "$LAB_TMP/dg.log"; }
lab_kill_pid $dg_pid

! grep -q 'Sanitizer\|runtime error' "$LAB_TMP/dg.log" "$LAB_TMP/intake.err"
lab_result "no sanitizer finding" $?

lab_finish
