#!/bin/sh
# tests/lab/monitoring.sh - the shipped monitoring configuration works with
# what daneguard really writes and prints.
#
# A private Postfix (no milter attached) serves an RSA and an ECDSA chain;
# the daneguard daemon watches it and writes metrics.prom three times:
#   healthy   the first sweep: every check OK
#   warning   the second sweep: M1 WARNING (the MTA never called the milter)
#   critical  the published records replaced by others: G3 CRITICAL
# Those files become the input series of a "promtool test rules" run over
# conf/prometheus-daneguard.rules.yml (each series given an instance
# label, as a scrape adds it; the sweep timestamp, absolute in the file,
# becomes one that advances with the test's clock, or stands still for
# the "stale" case); promtool check rules must accept the file.
# Nagios: "daneguard --check" prints performance data after "|" in the
# monitoring-plugins form on its first line; the command line of
# conf/nagios-daneguard.cfg (without sudo) runs and exits 0 / 2; and
# "nagios4 -v" accepts the file's objects.
#
# Environment: TLSAGEN, CERTDIR, top_srcdir, top_builddir (make check).
# Needs root and the Debian packages postfix, prometheus (promtool),
# nagios4-core, iproute2.

: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lab/lib.sh"

lab_init
lab_require_guard
lab_require postfix:postfix postconf:postfix promtool:prometheus \
    nagios4:nagios4-core bash:bash script:bsdutils timeout:coreutils

host=mx1.example.test
fails=0
checks=0
rules=$top_srcdir/conf/prometheus-daneguard.rules.yml
certs=$LAB_TMP/certs
state=$LAB_TMP/state
conf=$LAB_TMP/daneguard.conf
mkdir -p "$certs" "$LAB_TMP/fx" || lab_fail "mkdir"
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-next.key \
    ecdsa-next.key rsa-other.key rsa-other-chain.pem; do
	cp "$CERTDIR/$f" "$certs/$f" || lab_fail "cp $CERTDIR/$f"
done

promtool check rules "$rules" >"$LAB_TMP/check-rules.out" 2>&1
lab_result "promtool check rules conf/prometheus-daneguard.rules.yml" $? ||
    cat "$LAB_TMP/check-rules.out"

# ------------------------------------------------------------ lab run

lab_netns_create
lab_postfix_init pf
pfdir=$(lab_postfix_dir pf)
lab_postfix_conf pf \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $certs/ecdsa.key $certs/ecdsa-chain.pem $certs/rsa.key $certs/rsa-chain.pem"
lab_postfix_listen pf "127.0.0.1:25"
lab_postfix_listen pf "[::1]:25"
lab_postfix_start pf

cat > "$conf" <<EOF
state_dir      = "$state"
probe_interval = 300
probe_timeout  = 5
xclient        = no
tlsa_file      = "$LAB_TMP/published.zone"
EOF
lab_dg_host "$host" "$certs" >> "$conf"
"$TLSAGEN" -q -c "$conf" -o "$LAB_TMP/published.zone" ||
    lab_fail "tlsagen -c $conf failed"

# Nagios: the plugin's first line and exit status.
lab_dg_check "$conf" "$LAB_TMP/check.out" "$LAB_TMP/check.err"
head -n 1 "$LAB_TMP/check.out" | sed 's/^/  /'
[ $rc -eq 0 ] && head -n 1 "$LAB_TMP/check.out" | grep -Eq \
    '^DANEGUARD OK - [^|]* \| critical=0;;;0 warning=0;;;0 unknown=0;;;0 ok=22;;;0 sweep_duration=[0-9]+\.[0-9]{3}s;;;0$'
lab_result "daneguard --check: exit 0, perfdata per state and sweep_duration" $? ||
    cat "$LAB_TMP/check.out" "$LAB_TMP/check.err"
[ "$(grep -c '|' "$LAB_TMP/check.out")" -eq 1 ]
lab_result "no \"|\" in the long output" $?

# The command line of conf/nagios-daneguard.cfg as Nagios would run it
# ($ARG1$ = the configuration), only without sudo and with this build.
cmdline=$(sed -n 's/^[[:space:]]*command_line[[:space:]]*//p' \
    "$top_srcdir/conf/nagios-daneguard.cfg")
cmdline=${cmdline#/usr/bin/sudo }
cmdline=$(echo "$cmdline" | sed "s|^/usr/sbin/daneguard|$DANEGUARD|; s|\\\$ARG1\\\$|$conf|")
echo "  \$ $cmdline"
# shellcheck disable=SC2086 # a command line, split as Nagios splits it
lab_ns $cmdline >"$LAB_TMP/nagios.out" 2>&1
lab_result "conf/nagios-daneguard.cfg command line: exit $? (want 0)" $?

# The daemon: three fixtures, each the metrics.prom of a sweep.
install -d -o nobody "$state" || lab_fail "state dir"
lab_dg_start nobody "$conf" "$LAB_TMP/dg.sock" "$LAB_TMP/dg.log" \
    "$state/metrics.prom"
cp "$state/metrics.prom" "$LAB_TMP/fx/healthy.prom"

# wait_sweep GREP - SIGUSR2 unless a sweep is coming anyway, then wait up
# to 30 s for metrics.prom to match GREP.
wait_prom()
{
	n=0
	until grep -q "$1" "$state/metrics.prom"; do
		n=$((n + 1))
		if [ $n -gt 300 ]; then
			sed 's/^/      | /' "$state/metrics.prom" "$LAB_TMP/dg.log"
			return 1
		fi
		sleep 0.1
	done
}
kill -USR2 "$dg_pid"
wait_prom '^daneguard_check_state{check="M1",host="",addr="",alg="",client=""} 1$'
lab_result "fixture warning: M1 WARNING (no milter attached)" $?
cp "$state/metrics.prom" "$LAB_TMP/fx/warning.prom"

# Records that match nothing served: the rsa chain's record published for
# another key. tlsa_file is watched: a sweep follows by itself.
"$TLSAGEN" -q -H "$host" "$certs/rsa-other-chain.pem" "$certs/rsa-other.key" \
    "$certs/ecdsa-chain.pem" "$certs/ecdsa.key" --next "$certs/rsa-next.key" \
    --next "$certs/ecdsa-next.key" -o "$LAB_TMP/published.zone" ||
    lab_fail "tlsagen for the other records failed"
wait_prom '^daneguard_check_state{check="G3",host="mx1.example.test",addr="127.0.0.1",alg="rsa",client=""} 2$'
lab_result "fixture critical: G3 rsa CRITICAL" $?
cp "$state/metrics.prom" "$LAB_TMP/fx/critical.prom"
lab_kill_pid "$dg_pid"

# ------------------------------------------------------------ promtool

# series FILE STAMP - the samples of a metrics.prom as promtool input
# series of 60 one-minute steps, with instance="mx1:9100"; the sweep
# timestamp's values are STAMP.
series()
{
	awk -v stamp="$2" '
	/^#/ || NF == 0 { next }
	{
		name = $1; v = $2
		if (index(name, "{")) sub(/\{/, "{instance=\"mx1:9100\",", name)
		else name = name "{instance=\"mx1:9100\"}"
		gsub(/\x27/, "\x27\x27", name)	# YAML single quotes
		if ($1 == "daneguard_sweep_timestamp_seconds") vals = stamp
		else vals = v "x60"
		printf "      - series: \x27%s\x27\n        values: \x27%s\x27\n", name, vals
	}' "$1"
}

# alert NAME SEVERITY CHECK HOST ADDR ALG - an expected alert of the
# per-check rules, annotations and all.
alert()
{
	case $1 in
	DaneguardCritical) st=CRITICAL tail="is CRITICAL; status.json in state_dir, or daneguard --check, gives the reason." ;;
	DaneguardWarning) st=WARNING tail="has been WARNING for 15 minutes." ;;
	esac
	# Prometheus drops labels with empty values.
	echo "          - exp_labels:"
	echo "              severity: $2"
	echo "              instance: mx1:9100"
	echo "              check: \"$3\""
	[ -n "$4" ] && echo "              host: \"$4\""
	[ -n "$5" ] && echo "              addr: \"$5\""
	[ -n "$6" ] && echo "              alg: \"$6\""
	cat <<EOF
            exp_annotations:
              summary: "DANE check $3 $st on mx1:9100"
              description: "daneguard on mx1:9100: $3 host=$4 addr=$5 alg=$6 client= $tail"
EOF
}

t=$LAB_TMP/rules-test.yml
{
	echo "rule_files:"
	echo "  - $rules"
	echo "evaluation_interval: 1m"
	echo "tests:"
	# healthy, sweeping every minute: nothing fires.
	echo "  - interval: 1m"
	echo "    input_series:"
	series "$LAB_TMP/fx/healthy.prom" '0+60x60'
	echo "    alert_rule_test:"
	for a in DaneguardCritical DaneguardWarning DaneguardUnknown DaneguardStale; do
		echo "      - eval_time: 30m"
		echo "        alertname: $a"
		echo "        exp_alerts: []"
	done
	# healthy, but the sweep timestamp stands still: stale.
	echo "  - interval: 1m"
	echo "    input_series:"
	series "$LAB_TMP/fx/healthy.prom" '0x60'
	echo "    alert_rule_test:"
	echo "      - eval_time: 10m"
	echo "        alertname: DaneguardStale"
	echo "        exp_alerts: []"
	echo "      - eval_time: 30m"
	echo "        alertname: DaneguardStale"
	echo "        exp_alerts:"
	echo "          - exp_labels:"
	echo "              severity: critical"
	echo "              instance: mx1:9100"
	echo "            exp_annotations:"
	echo "              summary: \"daneguard on mx1:9100 stopped sweeping\""
	echo "              description: \"The last sweep of daneguard on mx1:9100 started 30m 0s ago: is the daemon running, and can it write state_dir?\""
	# M1 WARNING: not at once, after 15 minutes.
	echo "  - interval: 1m"
	echo "    input_series:"
	series "$LAB_TMP/fx/warning.prom" '0+60x60'
	echo "    alert_rule_test:"
	echo "      - eval_time: 5m"
	echo "        alertname: DaneguardWarning"
	echo "        exp_alerts: []"
	echo "      - eval_time: 20m"
	echo "        alertname: DaneguardWarning"
	echo "        exp_alerts:"
	alert DaneguardWarning warning M1 "" "" ""
	echo "      - eval_time: 20m"
	echo "        alertname: DaneguardCritical"
	echo "        exp_alerts: []"
	# G3 CRITICAL for rsa on both addresses: at once.
	echo "  - interval: 1m"
	echo "    input_series:"
	series "$LAB_TMP/fx/critical.prom" '0+60x60'
	echo "    alert_rule_test:"
	echo "      - eval_time: 1m"
	echo "        alertname: DaneguardCritical"
	echo "        exp_alerts:"
	for a in 127.0.0.1 ::1; do
		for c in $(awk -v a="$a" -F'[{},]' '
		    /^daneguard_check_state\{/ && $0 ~ /alg="rsa"/ && $0 ~ ("addr=\"" a "\"") && / 2$/ {
			sub(/check="/, "", $2); sub(/"/, "", $2); print $2 }' \
		    "$LAB_TMP/fx/critical.prom"); do
			alert DaneguardCritical critical "$c" "$host" "$a" rsa
		done
	done
	c4=$(grep -c '^daneguard_check_state{check="G4",host="mx1.example.test",addr="",alg="rsa",client=""} 2$' \
	    "$LAB_TMP/fx/critical.prom")
	[ "$c4" -eq 1 ] && alert DaneguardCritical critical G4 "$host" "" rsa
} >"$t"
grep -c '^daneguard_check_state{.*} 2$' "$LAB_TMP/fx/critical.prom" |
    sed 's/^/  CRITICAL items in the critical fixture: /'
promtool test rules "$t" >"$LAB_TMP/test-rules.out" 2>&1
lab_result "promtool test rules: healthy quiet, stale, M1 warning after 15m, G3 critical" $? ||
    { cat "$LAB_TMP/test-rules.out"; sed 's/^/      | /' "$t" | head -n 80; }

# ------------------------------------------------------------ nagios4 -v

ng=$LAB_TMP/nagios
mkdir -p "$ng/var" && chown nobody "$ng/var" || lab_fail "mkdir $ng"
# nagios4 reads its object files after dropping to nagios_user: a copy in
# the test's directory, since the checkout may sit where nobody cannot
# read (a 0700 /root, as in a fresh root or a CI clone).
cp "$top_srcdir/conf/nagios-daneguard.cfg" "$ng/nagios-daneguard.cfg" &&
    chmod 644 "$ng/nagios-daneguard.cfg" || lab_fail "cannot copy conf/nagios-daneguard.cfg"
cat >"$ng/nagios.cfg" <<EOF
log_file=$ng/var/nagios.log
cfg_file=$ng/objects.cfg
cfg_file=$ng/nagios-daneguard.cfg
object_cache_file=$ng/var/objects.cache
precached_object_file=$ng/var/objects.precache
status_file=$ng/var/status.dat
temp_file=$ng/var/nagios.tmp
temp_path=$ng/var
lock_file=$ng/var/nagios.lock
command_file=$ng/var/nagios.cmd
check_result_path=$ng/var
nagios_user=nobody
nagios_group=nogroup
illegal_macro_output_chars=\`~\$&|'"<>
EOF
# The least a configuration needs around the shipped objects: the
# generic-service template, a host mx1, a contact, a time period.
cat >"$ng/objects.cfg" <<EOF
define timeperiod {
    timeperiod_name always
    alias           always
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}
define command {
    command_name    notify-none
    command_line    /bin/true
}
define contact {
    contact_name                  admin
    host_notifications_enabled    0
    service_notifications_enabled 0
    host_notification_period      always
    service_notification_period   always
    host_notification_options     n
    service_notification_options  n
    host_notification_commands    notify-none
    service_notification_commands notify-none
}
define service {
    name                  generic-service
    register              0
    check_period          always
    notification_period   always
    contacts              admin
    max_check_attempts    3
    check_interval        10
    retry_interval        2
}
define host {
    host_name             mx1
    address               127.0.0.1
    check_period          always
    notification_period   always
    contacts              admin
    max_check_attempts    3
}
EOF
nagios4 -v "$ng/nagios.cfg" >"$LAB_TMP/nagios-v.out" 2>&1
rcv=$?
grep -E 'Total (Warnings|Errors)' "$LAB_TMP/nagios-v.out" | sed 's/^/  /'
[ $rcv -eq 0 ] && grep -q 'Checked 1 services' "$LAB_TMP/nagios-v.out" &&
    grep -q 'Total Errors:   0' "$LAB_TMP/nagios-v.out"
lab_result "nagios4 -v accepts conf/nagios-daneguard.cfg (1 service)" $? ||
    cat "$LAB_TMP/nagios-v.out"

echo "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
