#!/bin/bash
# bench/milter-bench.sh - what daneguard costs a Postfix that it watches:
# mail throughput against no milter and a do-nothing milter, its memory
# with 500 SMTP sessions open, and how long a sweep over 16 listeners x 2
# algorithms takes against one probe.
#
# Run as root from the build directory (after "make"):
#
#	bash $srcdir/bench/milter-bench.sh
#
# Everything runs inside a network namespace of its own with a private
# Postfix (tests/lab/lib.sh) that delivers to discard:
#
#  1. throughput: smtp-source -s 20 -m 5000 -l 1024 (no TLS) against three
#     listeners of the same Postfix that differ only in smtpd_milters:
#     127.0.0.1:25 none, :2601 nullmilter (bench/nullmilter.c, built here
#     with cc -lmilter -lpthread), :2602 daneguard (-f, unix sockets for
#     both). Interleaved A B C C B A per round, BENCH_ROUNDS rounds; the
#     queue is drained between runs. Messages/s per run, medians, ratios.
#     The milters' own counts prove the MTA talked to them.
#  2. memory: BENCH_RSS_SESS SMTP sessions held open at once through the
#     daneguard listener (smtp-source -w, default_process_limit raised,
#     smtpd_client_connection_count_limit = 0); daneguard's VmRSS sampled
#     while they are open, and its VmHWM.
#     With "tputsweep" in BENCH_PHASES, every round also runs A B C C B A
#     while the daneguard milter sweeps without pause (SIGUSR2 every
#     0.2 s; its configuration then also has the 16 x 2 hosts of 3.): the
#     ratios with and without a sweep running, side by side.
#  3. sweep: 16 more listeners 127.0.0.1:2500-2515 (TLS, RSA and ECDSA
#     chains); "daneguard --check" over a configuration with 16 host
#     sections (one per port) and both algorithms, against one with one
#     host and one algorithm on a listener that serves only that one
#     (ECDSA :2520; RSA :2521, for reference). Warm-up run, then
#     BENCH_SWEEP_RUNS interleaved rounds; medians and ratio. With
#     DANEGUARD_BEFORE, the daemon's 16 x 2 sweeps of both binaries side
#     by side.
#  4. sendmail: the throughput of 1. against a private sendmail 8.17
#     (tests/lab/sendmail-lib.sh; skipped when it cannot be downloaded):
#     no milter, nullmilter and daneguard over a unix and over an inet
#     socket; one session's rate over inet shows a Nagle stall.
#
# Environment (all optional):
#	DANEGUARD         default ./milter/daneguard
#	TLSAGEN           default ./tlsagen/tlsagen
#	CERTDIR           default ./tests/tmp/certs (made with make if missing)
#	BENCH_MSGS        messages per throughput run, default 5000
#	BENCH_SESS        smtp-source sessions, default 20
#	BENCH_ROUNDS      throughput rounds (A B C C B A), default 3
#	BENCH_RSS_SESS    sessions held open for the memory figure, default 500
#	BENCH_SWEEP_RUNS  sweep rounds, default 7
#	BENCH_RTT_MS      round trip added by bench/delayproxy for the
#	                  network-bound sweep figure, default 20
#	BENCH_PHASES      any of "tput tputsweep rss sweep sendmail",
#	                  default "tput rss sweep sendmail"
#	DANEGUARD_BEFORE  another daneguard (e.g. main's): its daemon
#	                  sweeps timed beside DANEGUARD's in the sweep phase
#	NULLMILTER_FLAGS  "-n": the do-nothing milter negotiates nothing
#	BENCH_SM_QUICKACK "1": the sendmail phase sets quickack on the
#	                  namespace's loopback routes (ip-route(8)), which
#	                  removes the TCP milter stall, for comparison
#	SENDMAIL_CACHE    the unpacked sendmail (tests/lab/sendmail-lib.sh)
#
# Exit 0 when every run delivered and every milter saw its mail (targets
# are reported, not enforced: a loaded machine is not a failed test).

set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
DANEGUARD=${DANEGUARD:-./milter/daneguard}
TLSAGEN=${TLSAGEN:-./tlsagen/tlsagen}
CERTDIR=${CERTDIR:-./tests/tmp/certs}
BENCH_MSGS=${BENCH_MSGS:-5000}
BENCH_SESS=${BENCH_SESS:-20}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_RSS_SESS=${BENCH_RSS_SESS:-500}
BENCH_SWEEP_RUNS=${BENCH_SWEEP_RUNS:-7}
BENCH_RTT_MS=${BENCH_RTT_MS:-20}
BENCH_PHASES=${BENCH_PHASES:-tput rss sweep sendmail}
NULLMILTER_FLAGS=${NULLMILTER_FLAGS:-}

die() { echo "milter-bench: $*" >&2; exit 1; }
# mismatch TEXT - a failed check where "ok=0" would be lost (inside a
# command substitution's subshell): kept in a file the end looks at.
mismatch() { echo "MISMATCH: $*" >&2; echo "$*" >> "$LAB_TMP/mismatches"; }
abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }

[ -x "$DANEGUARD" ] || die "DANEGUARD=$DANEGUARD is not an executable (run from the build directory after make)"
[ -x "$TLSAGEN" ] || die "TLSAGEN=$TLSAGEN is not an executable"
DANEGUARD=$(abspath "$DANEGUARD")
DANEGUARD_BEFORE=${DANEGUARD_BEFORE:-}
if [ -n "$DANEGUARD_BEFORE" ]; then
	[ -x "$DANEGUARD_BEFORE" ] || die "DANEGUARD_BEFORE=$DANEGUARD_BEFORE is not an executable"
	DANEGUARD_BEFORE=$(abspath "$DANEGUARD_BEFORE")
fi
TLSAGEN=$(abspath "$TLSAGEN")
if [ ! -r "$CERTDIR/rsa-chain.pem" ] && [ "$CERTDIR" = ./tests/tmp/certs ]; then
	make tests/tmp/certs/.stamp >/dev/null || die "cannot make $CERTDIR"
fi
[ -r "$CERTDIR/rsa-chain.pem" ] || die "CERTDIR=$CERTDIR has no certificates (make tests/tmp/certs/.stamp)"
CERTDIR=$(cd "$CERTDIR" && pwd)

# shellcheck source=../tests/lab/lib.sh
. "$top_srcdir/tests/lab/lib.sh"
lab_init
lab_require_root
lab_require postfix:postfix postconf:postfix smtp-source:postfix \
    cc:build-essential ss:iproute2 script:bsdutils
SMTP_SOURCE=$(command -v smtp-source)
phase() { case " $BENCH_PHASES " in *" $1 "*) return 0 ;; esac; return 1; }

now_ns() { date +%s%N; }
secs() { awk -v t="$1" 'BEGIN { printf "%.3f", t / 1e9 }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / (t / 1e9) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# ------------------------------------------------------------ nullmilter
flags=$(pkg-config --cflags --libs milter 2>/dev/null || echo -lmilter)
# shellcheck disable=SC2086
cc -O2 -o "$LAB_TMP/nullmilter" "$here/nullmilter.c" $flags -lpthread ||
    die "cannot build bench/nullmilter.c (needs libmilter-dev)"

# ------------------------------------------------------------ certificates
certs=$LAB_TMP/certs
mkdir -p "$certs" || die mkdir
for f in rsa.key rsa-chain.pem ecdsa.key ecdsa-chain.pem rsa-next.key \
    ecdsa-next.key; do
	cp "$CERTDIR/$f" "$certs/" || die "cp $CERTDIR/$f"
done
chmod 644 "$certs"/*.pem
chmod 600 "$certs"/*.key

# conf_host NAME PORT ALGS - one host section for the daneguard.conf files.
conf_host()
{
	echo "host \"$1\" {"
	echo "  port = $2"
	echo "  rollover = \"current+next\""
	echo "  probe = { \"127.0.0.1\" }"
	for a in $3; do
		echo "  cert \"$a\" { chain = \"$certs/$a-chain.pem\" key = \"$certs/$a.key\" next_key = \"$certs/$a-next.key\" }"
	done
	echo "}"
}

# conf_global STATEDIR ZONE - the global options.
conf_global()
{
	cat <<EOF
state_dir      = "$1"
probe_interval = 300
probe_timeout  = 5
xclient        = yes
tlsa_file      = "$2"
EOF
}

# make_conf FILE - write FILE (global options + the host sections on
# stdin), its published records (tlsagen) and its state directory.
make_conf()
{
	{
		conf_global "$1.state" "$1.zone"
		cat
	} > "$1"
	mkdir -p "$1.state" && chown nobody "$1.state" || die "state dir"
	"$TLSAGEN" -q -c "$1" -o "$1.zone" || die "tlsagen -c $1 failed"
}

# The milter's: one host; with tputsweep, the 16 x 2 hosts of the sweep
# phase too, so that a sweep has the work of one.
{
	conf_host mx1.example.test 25 "rsa ecdsa"
	if phase tputsweep; then
		for i in $(seq 0 15); do
			conf_host "sweep$i.example.test" $((2500 + i)) "rsa ecdsa"
		done
	fi
} | make_conf "$LAB_TMP/dg.conf"
for i in $(seq 0 15); do
	conf_host "mx$i.example.test" $((2500 + i)) "rsa ecdsa"
done | make_conf "$LAB_TMP/sweep16.conf"
# One algorithm on a listener that serves only that one: the guard also
# tries the algorithms no cert section describes, and a listener serving
# both chains would rightly be reported for the other.
conf_host mx0.example.test 2520 ecdsa | make_conf "$LAB_TMP/one-ecdsa.conf"
conf_host mx0.example.test 2521 rsa | make_conf "$LAB_TMP/one-rsa.conf"
# The same, through bench/delayproxy (ports 3500-3515): a network RTT.
for i in $(seq 0 15); do
	conf_host "mx$i.example.test" $((3500 + i)) "rsa ecdsa"
done | make_conf "$LAB_TMP/sweep16-rtt.conf"
conf_host mx0.example.test 3520 ecdsa | make_conf "$LAB_TMP/one-ecdsa-rtt.conf"

# ------------------------------------------------------------ Postfix
lab_netns_create
lab_postfix_init pf
pfdir=$(lab_postfix_dir pf)
lab_postfix_conf pf \
    "relay_transport = discard:" \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_chain_files = $certs/ecdsa.key $certs/ecdsa-chain.pem $certs/rsa.key $certs/rsa-chain.pem" \
    "default_process_limit = $((BENCH_RSS_SESS + 100))" \
    "smtpd_client_connection_count_limit = 0" \
    "smtpd_client_connection_rate_limit = 0" \
    "smtpd_client_message_rate_limit = 0" \
    "smtpd_authorized_xclient_hosts = 127.0.0.1, [::1]" \
    "null_milters = { unix:$LAB_TMP/null.sock, default_action=accept }" \
    "dg_milters = { unix:$LAB_TMP/dg.sock, default_action=accept }"
lab_postfix_listen pf 127.0.0.1:25
lab_postfix_listen pf 127.0.0.1:2601 -o 'smtpd_milters=$null_milters'
lab_postfix_listen pf 127.0.0.1:2602 -o 'smtpd_milters=$dg_milters'
for i in $(seq 0 15); do
	lab_postfix_listen pf 127.0.0.1:$((2500 + i))
done
lab_postfix_listen pf 127.0.0.1:2520 \
    "-o smtpd_tls_chain_files=$certs/ecdsa.key,$certs/ecdsa-chain.pem"
lab_postfix_listen pf 127.0.0.1:2521 \
    "-o smtpd_tls_chain_files=$certs/rsa.key,$certs/rsa-chain.pem"

# ------------------------------------------------------------ milters
# Started with ip netns exec + setsid exec, so $! is the milter itself;
# stopped by that PID at exit (lab_at_exit) or earlier.
ip netns exec "$LAB_NETNS" setsid sh -c 'umask 0; exec "$0" "$@"' \
    "$LAB_TMP/nullmilter" $NULLMILTER_FLAGS -p "unix:$LAB_TMP/null.sock" \
    >"$LAB_TMP/null.log" 2>&1 &
null_pid=$!
lab_at_exit "lab_kill_pid $null_pid"
ip netns exec "$LAB_NETNS" setsid "$DANEGUARD" -f -c "$LAB_TMP/dg.conf" \
    -p "unix:$LAB_TMP/dg.sock" -u nobody:postfix >"$LAB_TMP/dg.log" 2>&1 &
dg_pid=$!
lab_at_exit "lab_kill_pid $dg_pid"
n=0
until [ -S "$LAB_TMP/null.sock" ] && [ -S "$LAB_TMP/dg.sock" ] &&
    [ -s "$LAB_TMP/dg.conf.state/status.json" ]; do
	n=$((n + 1))
	if [ $n -gt 300 ] || ! lab_pid_alive $dg_pid || ! lab_pid_alive $null_pid
	then
		cat "$LAB_TMP/null.log" "$LAB_TMP/dg.log" >&2
		die "the milters are not up after 30 s"
	fi
	sleep 0.1
done
[ "$(cat /proc/$dg_pid/comm)" = daneguard ] || die "PID $dg_pid is not daneguard"
lab_postfix_start pf
dg_rss_idle=$(awk '/^VmRSS/ { print $2 }' /proc/$dg_pid/status)

# queue_drain - wait until Postfix has delivered (discarded) everything.
queue_drain()
{
	n=0
	while [ -n "$(find "$pfdir/queue/maildrop" "$pfdir/queue/incoming" \
	    "$pfdir/queue/active" "$pfdir/queue/deferred" -type f 2>/dev/null |
	    head -n 1)" ]; do
		n=$((n + 1))
		if [ $n -gt 1200 ]; then
			find "$pfdir/queue/maildrop" "$pfdir/queue/incoming" \
			    "$pfdir/queue/active" "$pfdir/queue/deferred" \
			    -type f | head -n 5 >&2
			grep -m 8 "warning\|fatal\|panic" "$pfdir/maillog" >&2
			die "the queue is not empty after 120 s"
		fi
		sleep 0.1
	done
}

# smtp_source PORT MSGS SESS [ARGS] - send; prints nanoseconds taken.
smtp_source()
{
	ss_t0=$(now_ns)
	lab_ns "$SMTP_SOURCE" -s "$3" -m "$2" -l 1024 -f a@example.test \
	    -t b@example.test ${4:-} "127.0.0.1:$1" >"$LAB_TMP/ss.out" 2>&1 ||
	    { cat "$LAB_TMP/ss.out" >&2; die "smtp-source to port $1 failed"; }
	ss_t1=$(now_ns)
	echo $((ss_t1 - ss_t0))
}

port_of() { case $1 in none) echo 25 ;; null) echo 2601 ;; dg) echo 2602 ;; esac; }
sent_total=0
ok=1
out=$LAB_TMP/result.md
: > "$out"

# ------------------------------------------------------------ 1. throughput
if phase tput; then
	echo "throughput: $SMTP_SOURCE -s $BENCH_SESS -m $BENCH_MSGS -l 1024 -f a@example.test -t b@example.test 127.0.0.1:PORT"
	echo "  none = :25, null = :2601 (nullmilter $NULLMILTER_FLAGS), dg = :2602 (daneguard); order A B C C B A x $BENCH_ROUNDS"
	# Warm-up: smtpd processes, milter connections, page cache.
	for v in none null dg; do
		smtp_source "$(port_of $v)" 500 "$BENCH_SESS" >/dev/null
		queue_drain
	done
	warm_null=500 warm_dg=500
	declare -A rates runs
	for v in none null dg; do rates[$v]=; runs[$v]=0; done
	for v in none null dg; do rates[${v}_s]=; done
	# sweeper - SIGUSR2 to the daneguard milter every 0.2 s, so that it
	# sweeps without pause; notes each new status.json (replaced, a new
	# inode, after every sweep) in $LAB_TMP/sweeps.
	sweeper()
	{
		sw_last=
		while :; do
			kill -USR2 "$dg_pid" 2>/dev/null || break
			sw_ino=$(stat -c %i "$LAB_TMP/dg.conf.state/status.json" 2>/dev/null)
			if [ "$sw_ino" != "$sw_last" ]; then
				echo "$sw_ino" >> "$LAB_TMP/sweeps"
				sw_last=$sw_ino
			fi
			sleep 0.2
		done
	}
	: > "$LAB_TMP/sweeps"
	for r in $(seq 1 "$BENCH_ROUNDS"); do
		for mode in quiet sweeping; do
			[ $mode = sweeping ] && ! phase tputsweep && continue
			sfx=
			if [ $mode = sweeping ]; then
				sfx=_s
				sweeper &
				sw_pid=$!
			fi
			for v in none null dg dg null none; do
				t=$(smtp_source "$(port_of $v)" "$BENCH_MSGS" "$BENCH_SESS")
				queue_drain
				rt=$(rate "$BENCH_MSGS" "$t")
				rates[$v$sfx]="${rates[$v$sfx]} $rt"
				runs[$v]=$((runs[$v] + 1))
				printf '  round %d %-8s %-4s %s s  %s msg/s\n' "$r" "$mode" "$v" "$(secs "$t")" "$rt"
			done
			if [ $mode = sweeping ]; then
				kill "$sw_pid"
				wait "$sw_pid" 2>/dev/null
			fi
		done
	done
	# The first status.json each sweeping block sees is the one before.
	n_sweeps=0
	phase tputsweep && n_sweeps=$(($(wc -l < "$LAB_TMP/sweeps") - BENCH_ROUNDS))
	# shellcheck disable=SC2086
	{ m_none=$(median ${rates[none]}); m_null=$(median ${rates[null]}); m_dg=$(median ${rates[dg]}); }
	r_dg_null=$(ratio "$m_dg" "$m_null")
	r_null_none=$(ratio "$m_null" "$m_none")
	r_dg_none=$(ratio "$m_dg" "$m_none")

	# Proof: every message arrived, the milters saw theirs.
	want_null=$((runs[null] * BENCH_MSGS + warm_null))
	want_dg=$((runs[dg] * BENCH_MSGS + warm_dg))
	delivered=$(grep -c ' status=sent ' "$pfdir/maillog")
	want_all=$(( (runs[none] + runs[null] + runs[dg]) * BENCH_MSGS + 1500 ))
	[ "$delivered" -eq "$want_all" ] || { ok=0; echo "MISMATCH: $delivered messages discarded, want $want_all" >&2; }
	milter_warn=$(grep -c 'warning: milter' "$pfdir/maillog")
	[ "$milter_warn" -eq 0 ] || { ok=0; echo "MISMATCH: $milter_warn milter warnings in the Postfix log:" >&2; grep 'warning: milter' "$pfdir/maillog" | head -5 >&2; }
	# The listener counts reach status.json with the next sweep.
	kill -USR2 $dg_pid
	n=0
	while :; do
		dg_sessions=$(sed -n 's/.*"addr": "127.0.0.1", "port": 2602, "sessions": \([0-9]*\).*/\1/p' \
		    "$LAB_TMP/dg.conf.state/status.json")
		[ "${dg_sessions:-0}" -ge "$want_dg" ] && break
		n=$((n + 1))
		[ $n -gt 100 ] && break
		sleep 0.1
	done
	[ "${dg_sessions:-0}" -ge "$want_dg" ] || { ok=0; echo "MISMATCH: daneguard counted ${dg_sessions:-no} sessions on :2602, want >= $want_dg" >&2; }
	cat >> "$out" <<EOF
### Throughput (messages/s, $BENCH_SESS sessions, $BENCH_MSGS messages of 1 KiB per run)

Order per round: none, nullmilter, daneguard, daneguard, nullmilter, none; $BENCH_ROUNDS rounds.

| | runs (msg/s) | median |
|---|---|---|
| no milter (:25) | ${rates[none]# } | **$m_none** |
| nullmilter${NULLMILTER_FLAGS:+ $NULLMILTER_FLAGS} (:2601) | ${rates[null]# } | **$m_null** |
| daneguard (:2602) | ${rates[dg]# } | **$m_dg** |

- daneguard / nullmilter: **$r_dg_null** (target >= 0.97)
- nullmilter / none: **$r_null_none**; daneguard / none: $r_dg_none
- proof: $delivered messages discarded by Postfix (want $want_all), $milter_warn milter warnings; daneguard counted ${dg_sessions:-?} sessions on 127.0.0.1:2602 (want >= $want_dg)
EOF
	if phase tputsweep; then
		# shellcheck disable=SC2086
		{ m_none_s=$(median ${rates[none_s]}); m_null_s=$(median ${rates[null_s]}); m_dg_s=$(median ${rates[dg_s]}); }
		cat >> "$out" <<EOF

The same rounds, each followed by A B C C B A while the daneguard milter
sweeps without pause (SIGUSR2 every 0.2 s; its configuration holds
mx1:25 and the 16 x 2 hosts of the sweep phase), $n_sweeps sweeps
completed during those runs; the medians above are of the quiet runs:

| while sweeping | runs (msg/s) | median |
|---|---|---|
| no milter (:25) | ${rates[none_s]# } | **$m_none_s** |
| nullmilter (:2601) | ${rates[null_s]# } | **$m_null_s** |
| daneguard (:2602) | ${rates[dg_s]# } | **$m_dg_s** |

- daneguard / nullmilter while sweeping: **$(ratio "$m_dg_s" "$m_null_s")**; quiet: **$r_dg_null**
EOF
		[ "$n_sweeps" -gt 0 ] || { ok=0; echo "MISMATCH: no sweep completed while sweeping" >&2; }
	fi
fi

# ------------------------------------------------------------ 2. memory
if phase rss; then
	# -d: the messages of a session share its connection; -w: it waits
	# after each message. Three messages, 5 s apart, keep every session
	# open for ~10 s, all at once. (-w without -d waits between
	# sessions, with the connection closed.)
	hold=5
	rss_msgs=$((3 * BENCH_RSS_SESS))
	echo "memory: $SMTP_SOURCE -s $BENCH_RSS_SESS -m $rss_msgs -d -w $hold ... 127.0.0.1:2602"
	lab_ns "$SMTP_SOURCE" -s "$BENCH_RSS_SESS" -m "$rss_msgs" -d -l 1024 \
	    -w "$hold" -f a@example.test -t b@example.test 127.0.0.1:2602 \
	    >"$LAB_TMP/rss.out" 2>&1 &
	rss_src=$!
	lab_at_exit "lab_kill_pid $rss_src"
	max_sess=0 max_rss=0 max_fds=0 rss_at_max=0
	while lab_pid_alive $rss_src; do
		s=$(lab_ns ss -Htn state established '( sport = :2602 )' | wc -l)
		rss=$(awk '/^VmRSS/ { print $2 }' /proc/$dg_pid/status)
		fds=$(ls /proc/$dg_pid/fd | wc -l)
		[ "$rss" -gt "$max_rss" ] && max_rss=$rss
		[ "$fds" -gt "$max_fds" ] && max_fds=$fds
		if [ "$s" -gt "$max_sess" ]; then
			max_sess=$s
			rss_at_max=$rss
		fi
		sleep 0.2
	done
	wait $rss_src || { cat "$LAB_TMP/rss.out" >&2; ok=0; echo "MISMATCH: smtp-source -s $BENCH_RSS_SESS failed" >&2; }
	hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$dg_pid/status)
	threads=$(awk '/^Threads/ { print $2 }' /proc/$dg_pid/status)
	mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
	echo "  max $max_sess sessions open at once; daneguard VmRSS $(mb $rss_at_max) MB then, max $(mb $max_rss) MB, VmHWM $(mb $hwm) MB, max $max_fds fds"
	[ "$max_sess" -ge "$BENCH_RSS_SESS" ] || { ok=0; echo "MISMATCH: only $max_sess sessions open at once, want $BENCH_RSS_SESS" >&2; }
	queue_drain
	cat >> "$out" <<EOF
### Memory with $BENCH_RSS_SESS SMTP sessions open

\`smtp-source -s $BENCH_RSS_SESS -m $rss_msgs -d -l 1024 -w $hold -f a@example.test -t b@example.test 127.0.0.1:2602\`
(three messages per session over one connection, $hold s apart;
\`default_process_limit = $((BENCH_RSS_SESS + 100))\`,
\`smtpd_client_connection_count_limit = 0\`), sampled every 0.2 s:

- SMTP sessions established at once (ss, port 2602): max **$max_sess**; daneguard file descriptors: max $max_fds; threads at the end: $threads
- daneguard VmRSS: idle after start $(mb "$dg_rss_idle") MB; with $max_sess sessions open $(mb $rss_at_max) MB; max sampled **$(mb $max_rss) MB**
- daneguard VmHWM (peak over the whole run, throughput phase included): **$(mb $hwm) MB** (target <= 32 MB)
EOF
fi

# ------------------------------------------------------------ 3. sweep
if phase sweep; then
	# check_time CONF - one "daneguard --check" run; nanoseconds.
	check_time()
	{
		ct_t0=$(now_ns)
		lab_ns "$DANEGUARD" --check -c "$1" >"$LAB_TMP/check.out" 2>&1
		ct_rc=$?
		ct_t1=$(now_ns)
		if [ $ct_rc -ne 0 ]; then
			cat "$LAB_TMP/check.out" >&2
			mismatch "daneguard --check -c $1 exited $ct_rc"
		fi
		echo $((ct_t1 - ct_t0))
	}
	echo "sweep: daneguard --check over 16 listeners x 2 algorithms vs one listener x 1 algorithm"
	for c in sweep16 one-ecdsa one-rsa; do
		check_time "$LAB_TMP/$c.conf" >/dev/null	# warm-up
	done
	rows=$(lab_ns "$DANEGUARD" --check -c "$LAB_TMP/sweep16.conf" | awk 'NR > 2 && $1 == "G3" && $5 == "OK"' | wc -l)
	t16= t1e= t1r=
	for r in $(seq 1 "$BENCH_SWEEP_RUNS"); do
		if [ $((r % 2)) -eq 1 ]; then order="one-ecdsa sweep16 one-rsa"
		else order="one-rsa sweep16 one-ecdsa"; fi
		for c in $order; do
			t=$(check_time "$LAB_TMP/$c.conf")
			case $c in
			sweep16)	t16="$t16 $(secs "$t")" ;;
			one-ecdsa)	t1e="$t1e $(secs "$t")" ;;
			one-rsa)	t1r="$t1r $(secs "$t")" ;;
			esac
		done
		echo "  round $r: 16x2 $(echo "$t16" | awk '{ print $NF }') s, one ecdsa $(echo "$t1e" | awk '{ print $NF }') s, one rsa $(echo "$t1r" | awk '{ print $NF }') s"
	done
	# Where the time goes: one more run of each with daneguard's own CPU
	# (bash's time: real user sys) and the whole machine's busy share
	# (/proc/stat, all cores: Postfix's smtpd processes included).
	busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
	for c in sweep16 one-ecdsa; do
		b0=$(busy)
		TIMEFORMAT='%R %U %S'
		cpu=$( { time lab_ns "$DANEGUARD" --check -c "$LAB_TMP/$c.conf" >/dev/null 2>&1; } 2>&1)
		b1=$(busy)
		share=$(echo "$b0 $b1" | awk '{ printf "%.0f", 100 * ($3 - $1) / ($4 - $2) }')
		echo "$cpu" | awk -v c="$c" -v s="$share" -v n="$(nproc)" '{ printf "  %s: %s s wall, daneguard CPU %.3f s (user %s, sys %s); all %d cores %s%% busy\n", c, $1, $2 + $3, $2, $3, n, s }' |
		    tee -a "$LAB_TMP/cpu.txt"
	done
	# The daemon's own sweeps (SIGUSR2), as status.json times them: the
	# steady state, where the expected sets are kept while the files are
	# unchanged and no key is decoded again.
	# daemon_sweeps CONF [BINARY] - start daneguard (DANEGUARD) on CONF,
	# time BENCH_SWEEP_RUNS sweeps, stop it; prints the durations in
	# seconds.
	daemon_sweeps()
	{
		ip netns exec "$LAB_NETNS" setsid "${2:-$DANEGUARD}" -f -c "$1" \
		    -p "unix:$LAB_TMP/sweep.sock" -u nobody:postfix \
		    >"$LAB_TMP/sweep-dg.log" 2>&1 &
		ds_pid=$!
		ds_json="$1.state/status.json"
		n=0
		until [ -s "$ds_json" ]; do
			n=$((n + 1))
			[ $n -gt 300 ] && { cat "$LAB_TMP/sweep-dg.log" >&2; die "no first sweep for $1"; }
			sleep 0.1
		done
		for r in $(seq 1 "$BENCH_SWEEP_RUNS"); do
			# status.json is only rewritten when its content changes:
			# let its sweep time (whole seconds) move on first.
			sleep 1.1
			ino=$(stat -c %i "$ds_json")
			kill -USR2 $ds_pid
			n=0
			while [ "$(stat -c %i "$ds_json")" = "$ino" ]; do
				n=$((n + 1))
				[ $n -gt 300 ] && die "no sweep after SIGUSR2 for $1"
				sleep 0.05
			done
			# Every check OK but M1 (this daemon is no MTA's milter:
			# "no milter session since start" is its right verdict).
			! grep '"check": ' "$ds_json" | grep -v '"check": "M1"' |
			    grep -vq '"state": "OK"' || mismatch "daemon sweep of $1 not OK"
			sed -n 's/.*"duration_seconds": \([0-9.]*\).*/\1/p' "$ds_json"
		done
		lab_kill_pid $ds_pid
		rm -f "$1.state/status.json" "$1.state/metrics.prom"
	}
	d16=$(daemon_sweeps "$LAB_TMP/sweep16.conf" | tr '\n' ' ')
	d1e=$(daemon_sweeps "$LAB_TMP/one-ecdsa.conf" | tr '\n' ' ')
	echo "  daemon sweeps: 16x2 $d16; one ecdsa $d1e"
	# The steady state against another binary: after, before, before,
	# after, so that both see the same machine.
	if [ -n "$DANEGUARD_BEFORE" ]; then
		da= db=
		for b in after before before after; do
			case $b in
			after)	da="$da $(daemon_sweeps "$LAB_TMP/sweep16.conf" | tr '\n' ' ')" ;;
			before)	db="$db $(daemon_sweeps "$LAB_TMP/sweep16.conf" "$DANEGUARD_BEFORE" | tr '\n' ' ')" ;;
			esac
		done
		echo "  daemon sweeps 16x2: after $da; before $db"
	fi
	# With a network between the guard and the listeners: a probe waits
	# one RTT per SMTP step and per TLS flight, and the 32 probes of a
	# sweep overlap. delayproxy holds every chunk BENCH_RTT_MS/2 in each
	# direction (no netem qdisc in this kernel).
	cc -O2 -o "$LAB_TMP/delayproxy" "$here/delayproxy.c" -lpthread ||
	    die "cannot build bench/delayproxy.c"
	pairs=
	for i in $(seq 0 15) 20; do
		pairs="$pairs 127.0.0.1:$((3500 + i))=127.0.0.1:$((2500 + i))"
	done
	# shellcheck disable=SC2086
	ip netns exec "$LAB_NETNS" setsid "$LAB_TMP/delayproxy" \
	    $((BENCH_RTT_MS / 2)) $pairs >"$LAB_TMP/delayproxy.log" 2>&1 &
	dp_pid=$!
	lab_at_exit "lab_kill_pid $dp_pid"
	lab_wait_banner 127.0.0.1 3500 10 || die "delayproxy does not relay"
	t16r= t1er=
	for r in $(seq 1 "$BENCH_SWEEP_RUNS"); do
		if [ $((r % 2)) -eq 1 ]; then order="one-ecdsa-rtt sweep16-rtt"
		else order="sweep16-rtt one-ecdsa-rtt"; fi
		for c in $order; do
			t=$(check_time "$LAB_TMP/$c.conf")
			case $c in
			sweep16-rtt)	t16r="$t16r $(secs "$t")" ;;
			one-ecdsa-rtt)	t1er="$t1er $(secs "$t")" ;;
			esac
		done
	done
	d16r=$(daemon_sweeps "$LAB_TMP/sweep16-rtt.conf" | tr '\n' ' ')
	d1er=$(daemon_sweeps "$LAB_TMP/one-ecdsa-rtt.conf" | tr '\n' ' ')
	lab_kill_pid $dp_pid
	echo "  RTT ${BENCH_RTT_MS} ms: --check 16x2 $t16r; one ecdsa $t1er; daemon 16x2 $d16r; one ecdsa $d1er"
	# shellcheck disable=SC2086
	{ m16r=$(median $t16r); m1er=$(median $t1er);
	  md16r=$(median $d16r); md1er=$(median $d1er); }
	# shellcheck disable=SC2086
	{ md16=$(median $d16); md1e=$(median $d1e); }
	rd=$(ratio "$md16" "$md1e")
	# shellcheck disable=SC2086
	{ m16=$(median $t16); m1e=$(median $t1e); m1r=$(median $t1r); }
	r16e=$(ratio "$m16" "$m1e")
	r16r=$(ratio "$m16" "$m1r")
	[ "$rows" -eq 32 ] || { ok=0; echo "MISMATCH: $rows G3 rows OK in the 16x2 sweep, want 32" >&2; }
	cat >> "$out" <<EOF
### Sweep: 16 listeners x 2 algorithms against one probe

\`daneguard --check -c CONF\` (whole command: configuration, keys, sweep,
table), one warm-up run each, then $BENCH_SWEEP_RUNS rounds alternating
the order. 16x2: 16 host sections mx0…mx15.example.test, ports 2500–2515,
probe 127.0.0.1, RSA and ECDSA (48 probes: the two configured and one
offering Ed25519 and Ed448, which no section describes; $rows of 32 G3
rows OK). One probe: mx0.example.test:2520 (:2521 for RSA), one
algorithm on a listener that serves only that one (3 probes: the
configured one, the other and the EdDSA one, both refused).

| | runs (s) | median |
|---|---|---|
| 16 x 2 | ${t16# } | **$m16 s** |
| 1 x ecdsa | ${t1e# } | **$m1e s** |
| 1 x rsa | ${t1r# } | $m1r s |

- 16x2 / one ecdsa probe: **$r16e** (target <= 2); 16x2 / one rsa probe: $r16r
- the daemon's own sweeps (SIGUSR2, \`duration_seconds\` of status.json,
  expected sets kept while the files are unchanged), $BENCH_SWEEP_RUNS each:
  16 x 2: ${d16% } (median **$md16 s**); one ecdsa: ${d1e% } (median
  **$md1e s**); ratio **$rd** (target <= 2)
- one more run each, CPU (bash \`time\`) and machine busy share (/proc/stat):
$(sed 's/^ */  - /' "$LAB_TMP/cpu.txt")
EOF
	if [ -n "$DANEGUARD_BEFORE" ]; then
		# shellcheck disable=SC2086
		{ mda=$(median $da); mdb=$(median $db); }
		cat >> "$out" <<EOF
- the daemon's 16 x 2 sweeps side by side (after, before, before, after;
  $BENCH_SWEEP_RUNS sweeps per start), this DANEGUARD against
  DANEGUARD_BEFORE=$DANEGUARD_BEFORE: after ${da# } (median **$mda s**);
  before ${db# } (median **$mdb s**); after / before **$(ratio "$mda" "$mdb")**
EOF
	fi
	cat >> "$out" <<EOF

With a ${BENCH_RTT_MS} ms round trip between the guard and the listeners
(bench/delayproxy on 127.0.0.1:3500–3515 in front of :2500–2515, holding
every chunk ${BENCH_RTT_MS}/2 ms each way), the same configurations:

| | runs (s) | median |
|---|---|---|
| --check 16 x 2 | ${t16r# } | **$m16r s** |
| --check 1 x ecdsa | ${t1er# } | **$m1er s** |
| daemon sweep 16 x 2 | ${d16r% } | **$md16r s** |
| daemon sweep 1 x ecdsa | ${d1er% } | **$md1er s** |

- --check 16x2 / one probe: **$(ratio "$m16r" "$m1er")**; daemon sweeps:
  **$(ratio "$md16r" "$md1er")** (target <= 2)
EOF
fi

# ------------------------------------------------------------ 4. sendmail
# The same throughput question for sendmail 8.17 (tests/lab/sendmail-lib.sh:
# Debian's packages unpacked, never installed), with the milter over a unix
# and over an inet socket: over TCP, sendmail waits for Nagle plus delayed
# ACK (~40 ms) at every stage a milter skips without accepting (LAB.md).
# One sendmail, five daemons that differ only in InputMailFilters (the
# filters are declared with MAIL_FILTER, so none is global):
#   :3025 none, :3026 nullmilter unix, :3027 daneguard unix,
#   :3028 nullmilter inet:10026, :3029 daneguard inet:10027.
# DeliveryMode=queueonly: the message is accepted and written to the queue,
# nothing is delivered (delivery would fork a mailer per message and bury
# the milter's cost); the queue files are counted and removed after a run.
# Rounds interleaved: none nu du ni di di ni du nu none.
sm_phase()
{
	. "$top_srcdir/tests/lab/sendmail-lib.sh"
	if ! (sm_fetch) >"$LAB_TMP/sm-fetch.out" 2>&1; then
		echo "sendmail: skipped: $(tail -n 1 "$LAB_TMP/sm-fetch.out")"
		printf '### sendmail\n\nskipped: %s\n' \
		    "$(tail -n 1 "$LAB_TMP/sm-fetch.out")" >> "$out"
		return 0
	fi
	sm_fetch
	sm_init smb
	smb=$(sm_dir smb)
	sm_certs smb "$certs/rsa.key" "$certs/rsa-chain.pem" \
	    "$certs/ecdsa.key" "$certs/ecdsa-chain.pem"
	tmo='F=, T=C:10s;S:10s;R:10s;E:1m'
	{
		sm_mc_base smb
		echo "define(\`confDELIVERY_MODE', \`q')dnl"
		echo "define(\`confLOG_LEVEL', \`9')dnl"
		sed -n '/^define(`confMILTER_MACROS/,/dnl$/p' "$top_srcdir/conf/sendmail.mc"
		echo "MAIL_FILTER(\`nu', \`S=local:$LAB_TMP/smnull.sock, $tmo')dnl"
		echo "MAIL_FILTER(\`du', \`S=local:$LAB_TMP/dg.sock, $tmo')dnl"
		echo "MAIL_FILTER(\`ni', \`S=inet:10026@127.0.0.1, $tmo')dnl"
		echo "MAIL_FILTER(\`di', \`S=inet:10027@127.0.0.1, $tmo')dnl"
		echo "DAEMON_OPTIONS(\`Family=inet, Addr=127.0.0.1, Port=3025, Name=none, Listen=256')dnl"
		p=3026
		for f in nu du ni di; do
			echo "DAEMON_OPTIONS(\`Family=inet, Addr=127.0.0.1, Port=$p, Name=$f, Listen=256, InputMailFilters=$f')dnl"
			p=$((p + 1))
		done
	} > "$smb/bench.mc"
	sm_cf smb "$smb/bench.mc"
	# Milters of its own, so that each count below is this phase's: a
	# nullmilter on a unix and one on an inet socket, a daneguard on
	# inet (the unix one is the daneguard already running).
	for s in "unix:$LAB_TMP/smnull.sock" "inet:10026@127.0.0.1"; do
		ip netns exec "$LAB_NETNS" setsid "$LAB_TMP/nullmilter" \
		    $NULLMILTER_FLAGS -p "$s" >>"$LAB_TMP/smnull.log" 2>&1 &
		eval "smnull_${s%%:*}=\$!"
		lab_at_exit "lab_kill_pid $!"
	done
	sed "s|$LAB_TMP/dg.conf.state|$LAB_TMP/dginet.state|" "$LAB_TMP/dg.conf" \
	    > "$LAB_TMP/dginet.conf"
	mkdir -p "$LAB_TMP/dginet.state" && chown nobody "$LAB_TMP/dginet.state"
	ip netns exec "$LAB_NETNS" setsid "$DANEGUARD" -f -c "$LAB_TMP/dginet.conf" \
	    -p "inet:10027@127.0.0.1" -u nobody >"$LAB_TMP/dginet.log" 2>&1 &
	dgi_pid=$!
	lab_at_exit "lab_kill_pid $dgi_pid"
	for p in 10026 10027; do
		n=0
		until lab_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null; do
			n=$((n + 1))
			[ $n -gt 100 ] && die "no milter on 127.0.0.1:$p"
			sleep 0.1
		done
	done
	[ -S "$LAB_TMP/smnull.sock" ] || sleep 1
	# BENCH_SM_QUICKACK=1: the route metric that makes the milter's
	# kernel acknowledge at once (ip-route(8) quickack), for comparison.
	if [ -n "${BENCH_SM_QUICKACK:-}" ]; then
		lab_ns ip route change local 127.0.0.0/8 dev lo table local \
		    proto kernel scope host src 127.0.0.1 quickack 1 &&
		lab_ns ip route change local 127.0.0.1 dev lo table local \
		    proto kernel scope host src 127.0.0.1 quickack 1 ||
		    die "cannot set quickack on the loopback routes"
	fi
	sm_start smb 127.0.0.1:3025 127.0.0.1:3026 127.0.0.1:3027 \
	    127.0.0.1:3028 127.0.0.1:3029

	sm_port() { case $1 in none) echo 3025 ;; nu) echo 3026 ;; du) echo 3027 ;;
	    ni) echo 3028 ;; di) echo 3029 ;; esac; }
	# sm_queued VARIANT MSGS - count and remove the queued messages.
	sm_queued()
	{
		q=$(find "$smb/queue" -name 'qf*' | wc -l)
		[ "$q" -eq "$2" ] || { ok=0; echo "MISMATCH: sendmail $1: $q messages queued, want $2" >&2; }
		find "$smb/queue" -type f \( -name 'qf*' -o -name 'df*' \) -delete
	}
	echo "sendmail: $SMTP_SOURCE -s $BENCH_SESS -m $BENCH_MSGS -l 1024 ... 127.0.0.1:3025-3029 (none nu du ni di), x $BENCH_ROUNDS"
	for v in none nu du ni di; do
		smtp_source "$(sm_port $v)" 300 "$BENCH_SESS" >/dev/null
		sm_queued $v 300
	done
	declare -A smr smn
	for v in none nu du ni di; do smr[$v]=; smn[$v]=0; done
	for r in $(seq 1 "$BENCH_ROUNDS"); do
		for v in none nu du ni di di ni du nu none; do
			t=$(smtp_source "$(sm_port $v)" "$BENCH_MSGS" "$BENCH_SESS")
			sm_queued $v "$BENCH_MSGS"
			rt=$(rate "$BENCH_MSGS" "$t")
			smr[$v]="${smr[$v]} $rt"
			smn[$v]=$((smn[$v] + 1))
			printf '  round %d %-4s %s s  %s msg/s\n' "$r" "$v" "$(secs "$t")" "$rt"
		done
	done
	# One session, one message at a time: a stall shows as a rate far
	# below what the machine does (LAB.md: 7 msg/s for a skipping milter
	# over TCP).
	for v in none nu du ni di; do
		t=$(smtp_source "$(sm_port $v)" 200 1)
		sm_queued "$v (one session)" 200
		eval "one_$v=\$(rate 200 \"\$t\")"
	done
	# shellcheck disable=SC2086
	{ s_none=$(median ${smr[none]}); s_nu=$(median ${smr[nu]}); s_du=$(median ${smr[du]})
	  s_ni=$(median ${smr[ni]}); s_di=$(median ${smr[di]}); }
	# Proof: the milters saw every message of their listener.
	kill -USR2 $dg_pid $dgi_pid
	want_du=$(( (smn[du] * BENCH_MSGS) + 300 ))
	want_du=$((want_du + 200))
	want_di=$(( (smn[di] * BENCH_MSGS) + 300 + 200 ))
	n=0
	while :; do
		du_s=$(sed -n 's/.*"addr": "127.0.0.1", "port": 3027, "sessions": \([0-9]*\).*/\1/p' \
		    "$LAB_TMP/dg.conf.state/status.json")
		di_s=$(sed -n 's/.*"addr": "127.0.0.1", "port": 3029, "sessions": \([0-9]*\).*/\1/p' \
		    "$LAB_TMP/dginet.state/status.json")
		[ "${du_s:-0}" -ge "$want_du" ] && [ "${di_s:-0}" -ge "$want_di" ] && break
		n=$((n + 1))
		[ $n -gt 100 ] && break
		sleep 0.1
	done
	[ "${du_s:-0}" -eq "$want_du" ] || { ok=0; echo "MISMATCH: daneguard (unix) counted ${du_s:-no} sessions on :3027, want $want_du" >&2; }
	[ "${di_s:-0}" -eq "$want_di" ] || { ok=0; echo "MISMATCH: daneguard (inet) counted ${di_s:-no} sessions on :3029, want $want_di" >&2; }
	sm_stop smb
	lab_kill_pid $smnull_unix
	lab_kill_pid $smnull_inet
	milter_trouble=$(grep -Eic 'Milter.*(timeout|error|tempfail|reject)' "$smb/syslog")
	[ "$milter_trouble" -eq 0 ] || { ok=0; echo "MISMATCH: $milter_trouble milter errors in sendmail's log" >&2; grep -Ei 'Milter.*(timeout|error|tempfail|reject)' "$smb/syslog" | head -5 >&2; }
	cat >> "$out" <<EOF
### sendmail: throughput (messages/s, $BENCH_SESS sessions, $BENCH_MSGS messages of 1 KiB per run)

sendmail 8.17 (Debian's sendmail-bin, unpacked), DeliveryMode=queueonly,
five daemons differing only in InputMailFilters. Order per round: none,
nu, du, ni, di, di, ni, du, nu, none; $BENCH_ROUNDS rounds.

| | runs (msg/s) | median |
|---|---|---|
| no milter (:3025) | ${smr[none]# } | **$s_none** |
| nullmilter, unix (:3026) | ${smr[nu]# } | **$s_nu** |
| daneguard, unix (:3027) | ${smr[du]# } | **$s_du** |
| nullmilter, inet (:3028) | ${smr[ni]# } | **$s_ni** |
| daneguard, inet (:3029) | ${smr[di]# } | **$s_di** |

- daneguard / nullmilter: unix **$(ratio "$s_du" "$s_nu")**, inet **$(ratio "$s_di" "$s_ni")**
- daneguard / none: unix $(ratio "$s_du" "$s_none"), inet $(ratio "$s_di" "$s_none"); daneguard inet / unix $(ratio "$s_di" "$s_du")
- one session, 200 messages one after another (a 40 ms stall per message
  would cap this at ~25 msg/s): none $one_none; nullmilter unix $one_nu,
  inet $one_ni; daneguard unix $one_du, inet **$one_di** msg/s
- proof: every run's messages queued (counted), $milter_trouble milter
  errors or timeouts in sendmail's log; daneguard counted ${du_s:-?}
  sessions on :3027 (want $want_du) and ${di_s:-?} on :3029 (want $want_di)
- $(tr '\n' ' ' < "$LAB_TMP/smnull.log")
EOF
}
if phase sendmail; then
	sm_phase
fi

# ------------------------------------------------------------ summary
model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "## Result $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "- machine: $(uname -srm), $(nproc) cores, ${model:-unknown CPU}; $(postconf -d -h mail_version 2>/dev/null | sed 's/^/Postfix /'); $(openssl version 2>/dev/null)"
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$out"
lab_kill_pid $null_pid
echo
echo "- $(cat "$LAB_TMP/null.log")"
# The checks made in subshells ($(check_time ...), $(daemon_sweeps ...)).
[ ! -s "$LAB_TMP/mismatches" ] || ok=0
echo "- checks: $( [ $ok -eq 1 ] && echo "all runs delivered, milters saw their mail, sweeps OK" || echo "MISMATCH (see above)")"
[ $ok -eq 1 ]
