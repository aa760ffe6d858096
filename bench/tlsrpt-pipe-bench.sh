#!/bin/sh
# bench/tlsrpt-pipe-bench.sh - TLS-RPT mail through an MTA pipe, per CPU
# second on one core: the spooler (daneguard-tlsrpt-spool, one process per
# mail, into the daemon's spool) plus the running daemon's drain of the
# spool, side by side with the old pipe (one "daneguard --tlsrpt < MAIL"
# process per mail, which parses and stores in the pipe process).
#
# Run from the build directory after "make" (as root or not):
#
#	sh $srcdir/bench/tlsrpt-pipe-bench.sh
#
# Environment:
#	DANEGUARD   default ./milter/daneguard
#	SPOOLER     default ./milter/daneguard-tlsrpt-spool
#	BENCH_RUNS  mails, default 1000
#	BENCH_OUT   work directory, default ./bench/out/tlsrpt-pipe
#
# The mails: gzip'd multipart/report (tests/data/tlsrpt/mkmail.sh) of the
# RFC 8460 example dated yesterday, a report-id of its own each.
#   true    /bin/true per mail: the floor of any process (fork + exec)
#   spool   daneguard-tlsrpt-spool -d SPOOL < MAIL per mail (written,
#           fsync'd, linked into new/)
#   pipe    daneguard --tlsrpt -c CONF < MAIL per mail (parsed, stored)
# These three run in blocks of 10 mails, in turn, all pinned to CPU 0
# (taskset), so they see the same load; CPU = user + system seconds of
# the block (/usr/bin/time: fork and exec included, as a pipe pays them).
#   drain   a running daemon (daneguard -f, pinned to CPU 0, its probes
#           aimed at a closed port, probe_interval an hour) whose spool
#           gets the BENCH_RUNS spooled mails at once (renamed into new/);
#           CPU = the milter process's user + system time (/proc, all its
#           threads) from just before the mails arrive until new/ is
#           empty, divided by the mails. Every mail must be counted.
# End to end per mail = spool + drain: what one core spends per report
# from the MTA's pipe to the store.
# With valgrind installed, also the instructions (Ir) of one process of
# each (callgrind, from the dynamic loader's first instruction to exit):
# exact and the same whatever the load, but without the kernel's fork,
# exec and page faults.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
DANEGUARD=${DANEGUARD:-./milter/daneguard}
SPOOLER=${SPOOLER:-./milter/daneguard-tlsrpt-spool}
BENCH_RUNS=${BENCH_RUNS:-1000}
BENCH_OUT=${BENCH_OUT:-./bench/out/tlsrpt-pipe}

die() { echo "tlsrpt-pipe-bench: $*" >&2; exit 1; }
[ -x "$DANEGUARD" ] || die "DANEGUARD=$DANEGUARD is not an executable"
[ -x "$SPOOLER" ] || die "SPOOLER=$SPOOLER is not an executable"
[ $((BENCH_RUNS % 10)) -eq 0 ] || die "BENCH_RUNS: a multiple of 10"
command -v taskset >/dev/null || die "taskset needed (util-linux)"
[ -x /usr/bin/time ] || die "/usr/bin/time needed (Debian package time)"
rm -rf "$BENCH_OUT" && mkdir -p "$BENCH_OUT" || die "mkdir $BENCH_OUT"
out=$(cd "$BENCH_OUT" && pwd)
DANEGUARD=$(cd "$(dirname "$DANEGUARD")" && pwd)/$(basename "$DANEGUARD")
SPOOLER=$(cd "$(dirname "$SPOOLER")" && pwd)/$(basename "$SPOOLER")
y=$(date -u -d yesterday +%Y-%m-%d)
hz=$(getconf CLK_TCK)

# The mails.
sed -e "s/2016-04-01/$y/g" "$top_srcdir/tests/data/tlsrpt/rfc8460.json" \
    > "$out/r.json" || die "sed"
mkdir -p "$out/mail"
i=0
while [ $i -lt "$BENCH_RUNS" ]; do
	sed "s/\"report-id\": \"[^\"]*\"/\"report-id\": \"bench-$i\"/" \
	    "$out/r.json" > "$out/m.json" &&
	    sh "$top_srcdir/tests/data/tlsrpt/mkmail.sh" "$out/m.json" \
	    > "$out/mail/$i.eml" || die "mkmail"
	i=$((i + 1))
done

# The old pipe's store; the spooler's spool (a Maildir nobody drains yet).
mkdir -p "$out/pipe" "$out/stage/tmp" "$out/stage/new" "$out/stage/cur"
echo "state_dir = \"$out/pipe\"" > "$out/pipe.conf"

cat > "$out/block.sh" <<'EOF'
# block.sh WHAT FIRST OUT: 10 runs of WHAT on mails FIRST..FIRST+9
w=$1 f=$2 o=$3 i=0
while [ $i -lt 10 ]; do
	m=$o/mail/$((f + i)).eml
	case $w in
	true)	/bin/true < "$m" ;;
	spool)	"$SPOOLER" -d "$o/stage" < "$m" || exit 1 ;;
	pipe)	"$DANEGUARD" --tlsrpt -c "$o/pipe.conf" < "$m" 2>/dev/null ||
		    exit 1 ;;
	esac
	i=$((i + 1))
done
EOF
export DANEGUARD SPOOLER
for w in true spool pipe; do : > "$out/cpu.$w"; done
f=0
while [ $f -lt "$BENCH_RUNS" ]; do
	for w in true spool pipe; do
		/usr/bin/time -f '%U %S' -o "$out/time" taskset -c 0 \
		    sh "$out/block.sh" $w $f "$out" || die "$w failed"
		awk '{ print $1 + $2 }' "$out/time" >> "$out/cpu.$w"
	done
	f=$((f + 10))
done
n=$(cat "$out"/pipe/tlsrpt/[0-9a-f][0-9a-f] | grep -c '^i')
[ "$n" = "$BENCH_RUNS" ] || die "pipe: $n reports stored, not $BENCH_RUNS"
n=$(ls "$out/stage/new" | wc -l)
[ "$n" = "$BENCH_RUNS" ] || die "spool: $n mails spooled, not $BENCH_RUNS"

# ------------------------------------------------------------ drain
sh "$top_srcdir/tests/data/gen-certs.sh" "$out/certs" >/dev/null 2>&1 ||
    die "gen-certs.sh failed"
state=$out/daemon
mkdir -p "$state"
cat > "$out/daemon.conf" <<EOF
state_dir      = "$state"
probe_interval = 3600
probe_timeout  = 2
host "mx1.example.test" {
  port  = 1
  probe = { "127.0.0.1" }
  cert "rsa" { chain = "$out/certs/rsa-chain.pem" key = "$out/certs/rsa.key" }
}
EOF
user=
if [ "$(id -u)" = 0 ]; then
	user="-u nobody"
	chown -R nobody "$state" "$out/stage" || die "chown"
	chmod 755 "$out" "$out/certs"
	chmod 644 "$out"/certs/*
fi
# shellcheck disable=SC2086
taskset -c 0 "$DANEGUARD" -f -c "$out/daemon.conf" -p "unix:$out/dg.sock" \
    $user > "$out/daemon.log" 2>&1 &
sup=$!
trap 'kill $sup 2>/dev/null' EXIT
n=0
until [ -s "$state/status.json" ] && [ -d "$state/tlsrpt-spool/new" ]; do
	n=$((n + 1))
	[ $n -gt 1200 ] && { cat "$out/daemon.log"; die "the daemon did not start in 120 s"; }
	kill -0 $sup 2>/dev/null || { cat "$out/daemon.log"; die "the daemon died"; }
	sleep 0.1
done
milter=$(cat "/proc/$sup/task/$sup/children" | awk '{ print $1 }')
[ -n "$milter" ] || die "no milter process under $sup"
ticks() { awk '{ print $14 + $15 }' "/proc/$milter/stat"; }
t0=$(ticks)
w0=$(date +%s.%N)
find "$out/stage/new" -type f -exec mv -t "$state/tlsrpt-spool/new/" {} + ||
    die "mv"
n=0
until [ -z "$(ls -A "$state/tlsrpt-spool/new")" ]; do
	n=$((n + 1))
	[ $n -gt 6000 ] && die "the spool was not drained in 600 s"
	sleep 0.05
done
t1=$(ticks)
w1=$(date +%s.%N)
kill $sup
wait $sup 2>/dev/null
trap - EXIT
n=$(cat "$state"/tlsrpt/[0-9a-f][0-9a-f] | grep -c '^i')
[ "$n" = "$BENCH_RUNS" ] || die "drain: $n reports stored, not $BENCH_RUNS"

# Instructions of one process each (a fresh mail, report-id bench-ir).
ir() { echo "-"; }
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null
then
	mkdir -p "$out/ir/tmp" "$out/ir/new" "$out/ir/cur" "$out/ir/state"
	echo "state_dir = \"$out/ir/state\"" > "$out/ir.conf"
	sed 's/"report-id": "[^"]*"/"report-id": "bench-ir"/' "$out/r.json" \
	    > "$out/m.json" && sh "$top_srcdir/tests/data/tlsrpt/mkmail.sh" \
	    "$out/m.json" > "$out/ir.eml" || die "mkmail"
	for w in true spool pipe; do
		case $w in
		true)	set -- /bin/true ;;
		spool)	set -- "$SPOOLER" -d "$out/ir" ;;
		pipe)	set -- "$DANEGUARD" --tlsrpt -c "$out/ir.conf" ;;
		esac
		valgrind --tool=callgrind --callgrind-out-file="$out/cg.$w" \
		    "$@" < "$out/ir.eml" >/dev/null 2>&1 || die "callgrind $w"
		callgrind_annotate "$out/cg.$w" 2>/dev/null | awk \
		    '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' > "$out/ir.$w"
	done
	ir() { awk '{ printf("%.2f M", $1 / 1e6) }' "$out/ir.$1"; }
fi

cpu() { awk -v n="$BENCH_RUNS" '{ s += $1 } END { printf("%.2f", 1000 * s / n) }' "$out/cpu.$1"; }
rate() { awk -v c="$1" 'BEGIN { printf("%.0f", c > 0 ? 1000 / c : 0) }'; }
ctrue=$(cpu true)
cspool=$(cpu spool)
cpipe=$(cpu pipe)
cdrain=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$BENCH_RUNS" \
    'BEGIN { printf("%.2f", 1000 * t / hz / n) }')
wdrain=$(awk -v a="$w0" -v b="$w1" -v n="$BENCH_RUNS" \
    'BEGIN { printf("%.0f", n / (b - a)) }')
cend=$(awk -v a="$cspool" -v b="$cdrain" 'BEGIN { printf("%.2f", a + b) }')

echo
echo "$BENCH_RUNS mails, CPU 0 ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| per mail | Ir of one process | CPU ms | per CPU second |"
echo "|---|---|---|---|"
echo "| /bin/true (the floor of a process) | $(ir true) | $ctrue | $(rate "$ctrue")/s |"
echo "| daneguard --tlsrpt < MAIL (old pipe: parse + store) | $(ir pipe) | $cpipe | $(rate "$cpipe")/s |"
echo "| daneguard-tlsrpt-spool < MAIL (new pipe) | $(ir spool) | $cspool | $(rate "$cspool")/s |"
echo "| the daemon's drain of the spool (parse + store) | - | $cdrain | $(rate "$cdrain")/s |"
echo "| end to end: spool + drain | - | $cend | $(rate "$cend")/s |"
echo
echo "drain wall clock: $wdrain mails/s"
awk -v p="$cpipe" -v e="$cend" -v s="$cspool" 'BEGIN {
	printf("end to end / old pipe: %.2fx the CPU (%.1fx the reports per CPU second); spooler / old pipe: %.2fx\n",
	    e / p, p / e, s / p) }'
