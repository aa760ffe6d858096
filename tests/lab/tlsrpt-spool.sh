#!/bin/sh
# tests/lab/tlsrpt-spool.sh - TLS-RPT report mail through the MTA pipe of
# conf/postfix-tlsrpt.cf: daneguard-tlsrpt-spool writes it into the
# running daemon's spool (state_dir/tlsrpt-spool), the daemon takes it in.
#
#   Postfix  a private Postfix delivers a gzip'd report mail through the
#            recipe's pipe service (taken from that file) to the spooler;
#            the running daneguard takes it in (log line, store counts),
#            removes it from the spool, and after a sweep (SIGUSR2) shows
#            G10 WARNING with the count in status.json; a mail that is no
#            report is accepted, logged by the daemon, removed, nothing
#            stored; with the spool not writable Postfix defers the mail
#            (75) and delivers it once it is writable again: nothing lost;
#            the recipe's virtual(8) service (no process per mail) writes
#            a report mail into the spool, the daemon counts it
#   hostile  the spooler alone: larger than the limit (65), empty (65), a
#            spool that does not exist or is not writable (75), a disk
#            that fills during the write (75): never a file left in tmp/
#            or new/; two deliveries are two files, byte for byte
#
# Report dates are yesterday's (UTC), made from tests/data/tlsrpt at run
# time. Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make
# check). Needs root and the Debian packages postfix, swaks, openssl,
# iproute2, gzip, util-linux (unshare, for a private tmpfs).

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"

lab_guard_init postfix:postfix postconf:postfix swaks:swaks openssl:openssl \
    gzip:gzip timeout:coreutils unshare:util-linux runuser:util-linux
SPOOLER=$top_builddir/milter/daneguard-tlsrpt-spool
[ -x "$SPOOLER" ] || lab_fail "$SPOOLER missing (make)"

host=mx1.example.test
lab_tlsrpt_init

# The daemon and the pipe run as nobody: their own copies of the programs.
lab_copy_certs "$LAB_TMP/disk" rsa.key rsa-chain.pem ecdsa.key \
    ecdsa-chain.pem rsa-next.key ecdsa-next.key
mkdir -p "$LAB_TMP/bin" "$LAB_TMP/in" || lab_fail "mkdir"
cp "$SPOOLER" "$LAB_TMP/bin/daneguard-tlsrpt-spool" || lab_fail "cp $SPOOLER"
spooler=$LAB_TMP/bin/daneguard-tlsrpt-spool

state=$LAB_TMP/state
spool=$state/tlsrpt-spool
conf=$LAB_TMP/daneguard.conf
cat > "$conf" <<EOF
state_dir      = "$state"
probe_interval = 3600
probe_timeout  = 5
tlsa_file      = "$LAB_TMP/published.zone"
EOF
lab_dg_host "$host" "$LAB_TMP/disk" >> "$conf"
mkdir -p "$state" && chown nobody "$state" || lab_fail "state_dir"
"$TLSAGEN" -q -c "$conf" -o "$LAB_TMP/published.zone" ||
    lab_fail "tlsagen failed"

# store_sum RESULT, store_digest - of the daemon's TLS-RPT store.
store_sum() { lab_tlsrpt_sum "$state" "$1"; }
store_digest() { lab_tlsrpt_digest "$state"; }

# wait_for WHAT COMMAND... - until COMMAND succeeds; 1 after 60 s.
wait_for()
{
	wf_n=0
	shift
	until "$@"; do
		wf_n=$((wf_n + 1))
		[ $wf_n -gt 600 ] && return 1
		sleep 0.1
	done
	return 0
}

empty_dir() { [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; }

# ------------------------------------------------------------ Postfix

lab_netns_create
lab_postfix_tls pf "$LAB_TMP/disk" \
    "transport_maps = inline:{tlsrpt@example.test=tlsrpt:, tlsrpt-md@example.test=tlsrpt-md:}" \
    "tlsrpt_destination_recipient_limit = 1"
pfdir=$(lab_postfix_dir pf)
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "[::1]:25"
# The recipe's master.cf lines, with this test's program, user and spool.
sed -n '/^# --- master.cf$/,/^# --- end master.cf$/p' \
    "$top_srcdir/conf/postfix-tlsrpt.cf" | grep -v '^#' |
    sed -e "s|user=daneguard|user=nobody|" \
        -e "s|/usr/sbin/daneguard-tlsrpt-spool|$spooler -d $spool|" \
    >> "$pfdir/etc/master.cf"
grep -q "argv=$spooler -d $spool\$" "$pfdir/etc/master.cf" ||
    lab_fail "no spooler pipe service in conf/postfix-tlsrpt.cf"
# And its virtual(8) service, delivering into the spool as nobody.
sed -n '/^# --- master.cf maildir/,/^# --- end master.cf maildir/p' \
    "$top_srcdir/conf/postfix-tlsrpt.cf" | grep -v '^# ---' | sed 's/^#//' |
    sed -e "s|=/var/lib/daneguard\$|=$state|" \
        -e "s|UID|$(id -u nobody)|g" -e "s|GID|$(id -g nobody)|g" \
    >> "$pfdir/etc/master.cf"
grep -q "virtual_mailbox_base=$state\$" "$pfdir/etc/master.cf" ||
    lab_fail "no virtual(8) service in conf/postfix-tlsrpt.cf"
lab_postfix_start pf

# The daemon makes the spool at its first sweep, before status.json.
lab_dg_start nobody "$conf" "$LAB_TMP/dg.sock" "$LAB_TMP/dg.log" \
    "$state/status.json"
[ -d "$spool/new" ] && [ -d "$spool/tmp" ] && [ -d "$spool/cur" ] &&
    [ "$(stat -c '%U %a' "$spool")" = "nobody 700" ]
lab_result "the daemon made its spool (tmp, new, cur; nobody, 0700)" $? ||
    { ls -laR "$state"; cat "$LAB_TMP/dg.log"; }

# send FILE [TO] - the mail in FILE to TO (tlsrpt@example.test) over SMTP.
send()
{
	lab_ns swaks --server 127.0.0.1:25 --helo sender.example \
	    --from tlsrpt-noreply@mailprovider.example \
	    --to "${2:-tlsrpt@example.test}" --data "@$1" >"$LAB_TMP/swaks.out" 2>&1 ||
	    { cat "$LAB_TMP/swaks.out"; lab_postfix_log pf; lab_fail "swaks failed"; }
}

# delivered STATUS N - until the maillog has N deliveries to tlsrpt@ with
# that status (60 s at most); prints the last.
ndelivered()
{
	[ "$(grep -c "to=<tlsrpt@example.test>.*status=$1" "$pfdir/maillog" \
	    2>/dev/null)" -ge "$2" ]
}
delivered()
{
	wait_for "$1" ndelivered "$1" "$2" &&
	    grep "to=<tlsrpt@example.test>.*status=$1" "$pfdir/maillog" |
	    tail -n 1 | sed 's/^/      | /'
}

lab_tlsrpt_report "$LAB_TMP/in/sp1.json" spool1
sh "$fixtures/mkmail.sh" "$LAB_TMP/in/sp1.json" > "$LAB_TMP/in/sp1.eml"
send "$LAB_TMP/in/sp1.eml"
delivered sent 1 && grep -q 'relay=tlsrpt' "$pfdir/maillog" &&
    wait_for log grep -q "tlsrpt: $spool/new/[^ ]*: counted report-id=\"spool1\"" \
    "$LAB_TMP/dg.log" &&
    [ "$(store_sum tlsa-invalid)" = 30 ] &&
    [ "$(store_sum starttls-not-supported)" = 12 ] &&
    wait_for removed empty_dir "$spool/new" && empty_dir "$spool/tmp"
lab_result "Postfix -> recipe's pipe -> spooler -> running daemon: gzip'd report counted (30 + 12), spool emptied" $? ||
    { lab_postfix_log pf; cat "$LAB_TMP/dg.log"; ls -laR "$spool"; }

# G10 is the sweep's: ask for one, wait for the WARNING in status.json.
g10_warning()
{
	grep -q '"check": "G10", "host": "mx1.example.test".*"state": "WARNING".*"count": 42' \
	    "$state/status.json"
}
kill -USR2 "$dg_pid"
wait_for g10 g10_warning
lab_result "after a sweep: G10 WARNING with the 42 reported failures in status.json" $? ||
    { grep G10 "$state/status.json"; cat "$LAB_TMP/dg.log"; }

printf 'From: a@example.test\nSubject: hello\n\nnot a report\n' > "$LAB_TMP/in/plain.eml"
before=$(store_digest)
send "$LAB_TMP/in/plain.eml"
delivered sent 2 &&
    wait_for log grep -q "tlsrpt: $spool/new/[^ ]*: .*not a TLS report.*nothing stored" \
    "$LAB_TMP/dg.log" &&
    wait_for removed empty_dir "$spool/new" &&
    [ "$(store_digest)" = "$before" ]
lab_result "a mail that is no report: spooled, the daemon logs it and removes it, nothing stored" $? ||
    { lab_postfix_log pf; cat "$LAB_TMP/dg.log"; ls -laR "$spool"; }

# The spool not writable: Postfix keeps the mail, and delivers it once
# the spool is writable again.
chmod 500 "$spool/tmp" || lab_fail "chmod"
lab_tlsrpt_report "$LAB_TMP/in/sp2.json" spool2
sh "$fixtures/mkmail.sh" "$LAB_TMP/in/sp2.json" > "$LAB_TMP/in/sp2.eml"
send "$LAB_TMP/in/sp2.eml"
delivered deferred 1 &&
    grep 'status=deferred' "$pfdir/maillog" | grep -q 'Permission denied' &&
    empty_dir "$spool/new" && empty_dir "$spool/tmp" &&
    [ "$(store_sum tlsa-invalid)" = 30 ]
lab_result "spool not writable: Postfix defers the mail (75), nothing spooled" $? ||
    { lab_postfix_log pf; ls -laR "$spool"; }
chmod 700 "$spool/tmp" || lab_fail "chmod"
lab_ns postqueue -c "$pfdir/etc" -f || lab_fail "postqueue -f"
delivered sent 3 &&
    wait_for log grep -q 'counted report-id="spool2"' "$LAB_TMP/dg.log" &&
    [ "$(store_sum tlsa-invalid)" = 60 ]
lab_result "writable again: the deferred mail is delivered and counted" $? ||
    { lab_postfix_log pf; cat "$LAB_TMP/dg.log"; ls -laR "$spool"; }

# No process per mail: Postfix's virtual(8) writes into the spool.
md_sent()
{
	grep -q "to=<tlsrpt-md@example.test>.*relay=tlsrpt-md.*status=sent" \
	    "$pfdir/maillog"
}
lab_tlsrpt_report "$LAB_TMP/in/md1.json" spool-md1
sh "$fixtures/mkmail.sh" "$LAB_TMP/in/md1.json" > "$LAB_TMP/in/md1.eml"
send "$LAB_TMP/in/md1.eml" tlsrpt-md@example.test
wait_for sent md_sent &&
    wait_for log grep -q "tlsrpt: $spool/new/[^ ]*: counted report-id=\"spool-md1\"" \
    "$LAB_TMP/dg.log" &&
    [ "$(store_sum tlsa-invalid)" = 90 ] &&
    wait_for removed empty_dir "$spool/new"
lab_result "Postfix virtual(8) -> the spool (the recipe's maildir service) -> running daemon: counted" $? ||
    { lab_postfix_log pf; cat "$LAB_TMP/dg.log"; ls -laR "$spool"; }

lab_kill_pid $dg_pid
! grep -q 'Sanitizer\|runtime error' "$LAB_TMP/dg.log"
lab_result "no sanitizer finding in the daemon" $?

# ------------------------------------------------------------ hostile

hs=$LAB_TMP/hs
mkdir -p "$hs/tmp" "$hs/new" "$hs/cur" && chown -R nobody "$hs" ||
    lab_fail "mkdir $hs"

# spool ARGS... < MESSAGE - the spooler as nobody; exit in $rc, stderr in
# $LAB_TMP/spool.err.
spool()
{
	timeout 60 runuser -u nobody -- "$spooler" "$@" 2>"$LAB_TMP/spool.err"
	rc=$?
}

# clean - nothing in tmp/ or new/ of $hs
clean() { empty_dir "$hs/tmp" && empty_dir "$hs/new"; }

head -c $((16 * 1024 * 1024 + 1)) /dev/zero > "$LAB_TMP/in/over" ||
    lab_fail "head"
spool -d "$hs" < "$LAB_TMP/in/over"
[ $rc -eq 65 ] && clean && [ "$(wc -l < "$LAB_TMP/spool.err")" -eq 1 ] &&
    grep -q 'larger than 16777216 bytes' "$LAB_TMP/spool.err"
lab_result "hostile: 16 MiB + 1 byte -> 65, nothing in tmp/ or new/" $? ||
    { echo "      exit $rc"; cat "$LAB_TMP/spool.err"; ls -la "$hs"/*; }

spool -d "$hs" -m 1000 < "$LAB_TMP/in/sp1.eml"
[ $rc -eq 65 ] && clean && grep -q 'larger than 1000 bytes' "$LAB_TMP/spool.err"
lab_result "hostile: a mail over -m 1000 -> 65, nothing left" $? ||
    { echo "      exit $rc"; cat "$LAB_TMP/spool.err"; }

spool -d "$hs" < /dev/null
[ $rc -eq 65 ] && clean && grep -q 'empty' "$LAB_TMP/spool.err"
lab_result "hostile: empty input -> 65, nothing left" $? ||
    { echo "      exit $rc"; cat "$LAB_TMP/spool.err"; }

spool -d "$LAB_TMP/no-such-spool" < "$LAB_TMP/in/sp1.eml"
[ $rc -eq 75 ] && grep -q 'no-such-spool/new: No such file or directory.*start it, or give -d' \
    "$LAB_TMP/spool.err"
lab_result "a spool that does not exist -> 75, naming it and what to do" $? ||
    { echo "      exit $rc"; cat "$LAB_TMP/spool.err"; }

chmod 500 "$hs/tmp" || lab_fail "chmod"
spool -d "$hs" < "$LAB_TMP/in/sp1.eml"
[ $rc -eq 75 ] && clean && grep -q 'Permission denied' "$LAB_TMP/spool.err"
lab_result "hostile: tmp/ not writable -> 75, nothing in new/" $? ||
    { echo "      exit $rc"; cat "$LAB_TMP/spool.err"; }
chmod 700 "$hs/tmp" || lab_fail "chmod"
chmod 500 "$hs/new" || lab_fail "chmod"
spool -d "$hs" < "$LAB_TMP/in/sp1.eml"
[ $rc -eq 75 ] && clean && grep -q 'Permission denied' "$LAB_TMP/spool.err"
lab_result "hostile: new/ not writable -> 75, the file in tmp/ removed" $? ||
    { echo "      exit $rc"; cat "$LAB_TMP/spool.err"; ls -la "$hs"/*; }
chmod 700 "$hs/new" || lab_fail "chmod"

# A disk that fills during the write: a private 64 KiB tmpfs (mount
# namespace of its own), a 256 KiB message.
head -c 262144 /dev/urandom | base64 > "$LAB_TMP/in/big.eml"
mkdir -p "$LAB_TMP/full"
unshare -m sh -c '
	mount --make-rprivate / && mount -t tmpfs -o size=64k,mode=755 tmpfs "$1" &&
	mkdir "$1/tmp" "$1/new" "$1/cur" && chown -R nobody "$1" || exit 99
	timeout 60 runuser -u nobody -- "$2" -d "$1" < "$3" 2>"$4"
	echo $? > "$5"
	ls -A "$1/tmp" "$1/new" > "$6"' sh "$LAB_TMP/full" "$spooler" \
    "$LAB_TMP/in/big.eml" "$LAB_TMP/spool.err" "$LAB_TMP/full.rc" \
    "$LAB_TMP/full.ls" || lab_fail "unshare/mount tmpfs failed"
[ "$(cat "$LAB_TMP/full.rc")" = 75 ] &&
    [ "$(grep -cv ':$\|^$' "$LAB_TMP/full.ls")" = 0 ] &&
    grep -q 'No space left on device' "$LAB_TMP/spool.err"
lab_result "hostile: the disk fills during the write -> 75, nothing left in tmp/ or new/" $? ||
    { cat "$LAB_TMP/full.rc" "$LAB_TMP/spool.err" "$LAB_TMP/full.ls"; }

# Two deliveries: two files in new/, each a message byte for byte.
spool -d "$hs" < "$LAB_TMP/in/sp1.eml"
r1=$rc
spool -d "$hs" < "$LAB_TMP/in/sp2.eml"
set -- "$hs"/new/*
[ $r1 -eq 0 ] && [ $rc -eq 0 ] && [ $# -eq 2 ] && empty_dir "$hs/tmp" &&
    { { cmp -s "$1" "$LAB_TMP/in/sp1.eml" && cmp -s "$2" "$LAB_TMP/in/sp2.eml"; } ||
      { cmp -s "$1" "$LAB_TMP/in/sp2.eml" && cmp -s "$2" "$LAB_TMP/in/sp1.eml"; }; }
lab_result "two deliveries: two files in new/, the messages byte for byte" $? ||
    ls -la "$hs/new"

lab_finish
