#!/bin/bash
# bench/tlsagen-bench.sh - how fast tlsagen makes 3 1 1 records, against the
# OpenSSL command-line pipeline that administrators use by hand.
#
# Run from the build directory (after "make"):
#
#	bash $srcdir/bench/tlsagen-bench.sh
#
# Environment (all optional):
#	TLSAGEN       default ./tlsagen/tlsagen
#	BENCH_OUT     default ./bench/out (certificates made once, reused)
#	BENCH_N       certificates, default 10000
#	BENCH_PIPE_N  files the pipeline is timed over, default 1000 (it
#	              needs three processes per file: all 10,000 take ~25 min
#	              on one core); the rate is per file, so it scales
#	BENCH_RUNS    tlsagen runs, default 3
#	BENCH_CPU     the core both sides are pinned to, default 0
#
# Both sides run pinned to one core (taskset).  The records must agree: the
# pipeline's records are a subset of tlsagen's (all of them when
# BENCH_PIPE_N = BENCH_N), and tlsagen gives exactly BENCH_N distinct
# "3 1 1 HEX" lines.  Exit 0 when the records agree (speed targets are
# reported, not enforced: a loaded machine is not a failed test).

set -u
here=$(cd "$(dirname "$0")" && pwd)
TLSAGEN=${TLSAGEN:-./tlsagen/tlsagen}
BENCH_OUT=${BENCH_OUT:-./bench/out}
BENCH_N=${BENCH_N:-10000}
BENCH_PIPE_N=${BENCH_PIPE_N:-1000}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_CPU=${BENCH_CPU:-0}

die() { echo "tlsagen-bench: $*" >&2; exit 1; }

[ -x "$TLSAGEN" ] || die "TLSAGEN=$TLSAGEN is not an executable (run from the build directory or set TLSAGEN)"
TLSAGEN=$(cd "$(dirname "$TLSAGEN")" && pwd)/$(basename "$TLSAGEN")
for t in openssl taskset cc; do
	command -v $t >/dev/null || die "$t not found"
done
[ "$BENCH_PIPE_N" -le "$BENCH_N" ] || die "BENCH_PIPE_N > BENCH_N"

# ------------------------------------------------------------ certificates
mkdir -p "$BENCH_OUT" || die "cannot make $BENCH_OUT"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
if [ "$(cat "$BENCH_OUT/.stamp" 2>/dev/null)" != "$BENCH_N" ]; then
	echo "making $BENCH_N ECDSA P-256 certificates in $BENCH_OUT ..."
	rm -f "$BENCH_OUT"/c[0-9]*.pem "$BENCH_OUT/.stamp"
	flags=$(pkg-config --cflags --libs libcrypto 2>/dev/null || echo -lcrypto)
	# shellcheck disable=SC2086
	cc -O2 -o "$BENCH_OUT/gencerts" "$here/gencerts.c" $flags ||
	    die "cannot build gencerts (needs libssl-dev)"
	"$BENCH_OUT/gencerts" "$BENCH_N" "$BENCH_OUT" || die "gencerts failed"
	echo "$BENCH_N" > "$BENCH_OUT/.stamp"
fi
flags=$(pkg-config --cflags --libs libcrypto 2>/dev/null || echo -lcrypto)
# shellcheck disable=SC2086
cc -O2 -o "$BENCH_OUT/floor" "$here/floor.c" $flags || die "cannot build floor"
cd "$BENCH_OUT" || die "cannot cd to $BENCH_OUT"
files=(c[0-9]*.pem)
[ ${#files[@]} -eq "$BENCH_N" ] || die "${#files[@]} certificates in $BENCH_OUT, want $BENCH_N (rm -r $BENCH_OUT)"
work=$(mktemp -d) || die "mktemp"
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }
# rate COUNT NANOSECONDS - items per second
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / (t / 1e9) }'; }
secs() { awk -v t="$1" 'BEGIN { printf "%.3f", t / 1e9 }'; }

# ------------------------------------------------------------ tlsagen
# One process over all files: 10,000 names of 10 bytes fit in ARG_MAX.
echo "tlsagen: taskset -c $BENCH_CPU $TLSAGEN -f rdata c[0-9]*.pem ($BENCH_N files), $BENCH_RUNS runs"
tl_times=()
for run in $(seq 1 "$BENCH_RUNS"); do
	t0=$(now_ns)
	taskset -c "$BENCH_CPU" "$TLSAGEN" -q -f rdata "${files[@]}" \
	    > "$work/tlsagen.out" 2> "$work/tlsagen.err"
	rc=$?
	t1=$(now_ns)
	[ $rc -eq 0 ] || { cat "$work/tlsagen.err" >&2; die "tlsagen exited $rc"; }
	tl_times+=($((t1 - t0)))
	echo "  run $run: $(secs $((t1 - t0))) s, $(rate "$BENCH_N" $((t1 - t0))) certificates/s"
done
tl_median=$(printf '%s\n' "${tl_times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')

# ------------------------------------------------------------ library floor
# What OpenSSL itself allows in one process: a full certificate parse
# (as tlsagen does), and the SubjectPublicKeyInfo bytes alone.
for how in x509 spki; do
	taskset -c "$BENCH_CPU" ./floor $how "${files[@]}" \
	    > "$work/floor.$how" 2> "$work/floor.$how.err" ||
	    { cat "$work/floor.$how.err" >&2; die "floor $how failed"; }
	sed 's/^/  /' "$work/floor.$how.err"
done
floor_x509=$(awk '{ print $(NF) }' "$work/floor.x509.err" | tr -d '/s')
floor_spki=$(awk '{ print $(NF) }' "$work/floor.spki.err" | tr -d '/s')

# ------------------------------------------------------------ pipeline
echo "pipeline: taskset -c $BENCH_CPU, per file: openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 ($BENCH_PIPE_N files)"
printf '%s\n' "${files[@]:0:$BENCH_PIPE_N}" > "$work/pipe.list"
t0=$(now_ns)
taskset -c "$BENCH_CPU" sh -c '
	while read -r f; do
		openssl x509 -in "$f" -noout -pubkey |
		    openssl pkey -pubin -outform DER | openssl dgst -sha256 -r
	done' < "$work/pipe.list" > "$work/pipe.raw"
t1=$(now_ns)
pipe_t=$((t1 - t0))
echo "  $(secs $pipe_t) s, $(rate "$BENCH_PIPE_N" $pipe_t) certificates/s"

# ------------------------------------------------------------ agreement
awk '{ print "3 1 1 " tolower($1) }' "$work/pipe.raw" | sort > "$work/pipe.sorted"
tr 'A-F' 'a-f' < "$work/tlsagen.out" | sort > "$work/tlsagen.sorted"
ok=1
n_tl=$(grep -c '^3 1 1 [0-9a-f]\{64\}$' "$work/tlsagen.sorted")
n_tl_distinct=$(uniq "$work/tlsagen.sorted" | wc -l)
n_all=$(wc -l < "$work/tlsagen.sorted")
if [ "$n_tl" -ne "$BENCH_N" ] || [ "$n_all" -ne "$BENCH_N" ] || [ "$n_tl_distinct" -ne "$BENCH_N" ]; then
	echo "MISMATCH: tlsagen printed $n_all lines, $n_tl well-formed, $n_tl_distinct distinct; want $BENCH_N" >&2
	ok=0
fi
n_pipe=$(wc -l < "$work/pipe.sorted")
missing=$(comm -23 "$work/pipe.sorted" "$work/tlsagen.sorted" | wc -l)
if [ "$n_pipe" -ne "$BENCH_PIPE_N" ] || [ "$missing" -ne 0 ]; then
	echo "MISMATCH: $n_pipe pipeline records, $missing of them not in tlsagen's output" >&2
	comm -23 "$work/pipe.sorted" "$work/tlsagen.sorted" | head -5 >&2
	ok=0
fi
for how in x509 spki; do
	sort "$work/floor.$how" | cmp -s - "$work/tlsagen.sorted" || {
		echo "MISMATCH: floor $how and tlsagen differ" >&2
		ok=0
	}
done
if [ "$BENCH_PIPE_N" -eq "$BENCH_N" ]; then
	cmp -s "$work/pipe.sorted" "$work/tlsagen.sorted" || {
		echo "MISMATCH: sorted record sets differ" >&2
		ok=0
	}
	agree="all $BENCH_N pipeline records identical to tlsagen's (sorted comparison)"
else
	agree="all $BENCH_PIPE_N pipeline records found among tlsagen's $BENCH_N distinct records"
fi

# ------------------------------------------------------------ summary
tl_rate=$(rate "$BENCH_N" "$tl_median")
pipe_rate=$(rate "$BENCH_PIPE_N" "$pipe_t")
ratio=$(awk -v a="$tl_rate" -v b="$pipe_rate" 'BEGIN { printf "%.0f", a / b }')
model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cat <<EOF

## Result $(date -u +%Y-%m-%dT%H:%MZ)

- machine: $(uname -srm), $(nproc) cores, ${model:-unknown CPU}; $(openssl version)
- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)
- tlsagen: $BENCH_N certificates, runs $(for t in "${tl_times[@]}"; do printf '%s s ' "$(secs "$t")"; done); median $(secs "$tl_median") s = **$tl_rate certificates/s** (target >= 20000)
- pipeline: $BENCH_PIPE_N certificates in $(secs $pipe_t) s = **$pipe_rate certificates/s**$( [ "$BENCH_PIPE_N" -ne "$BENCH_N" ] && echo " (subset of $BENCH_PIPE_N, rate per file; all $BENCH_N would take ~$(awk -v t="$pipe_t" -v a="$BENCH_PIPE_N" -v b="$BENCH_N" 'BEGIN { printf "%.0f", t / 1e9 * b / a }') s)")
- ratio: **${ratio}x** (target >= 100x)
- OpenSSL floor, one process, same files: full parse (PEM_read_bio_X509) $floor_x509/s; SubjectPublicKeyInfo bytes only (PEM_read_bio + ASN1_get_object) $floor_spki/s; both give the same $BENCH_N records as tlsagen
- records: $( [ $ok -eq 1 ] && echo "$agree" || echo "MISMATCH (see above)")
EOF
[ $ok -eq 1 ]
