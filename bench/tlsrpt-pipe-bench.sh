#!/bin/sh
# bench/tlsrpt-pipe-bench.sh - the cost of one "daneguard --tlsrpt < MAIL"
# process (an MTA pipe runs one per report mail), side by side: two
# daneguard programs (BEFORE and AFTER, e.g. main's and this branch's) and
# the floors of any process on this machine.
#
# Run from the build directory after "make":
#
#	DANEGUARD_BEFORE=/path/to/old/daneguard sh $srcdir/bench/tlsrpt-pipe-bench.sh
#
# Environment:
#	DANEGUARD_BEFORE  the program to compare with (required)
#	DANEGUARD         default ./milter/daneguard
#	BENCH_RUNS        processes per program, default 300
#	BENCH_OUT         work directory, default ./bench/out/tlsrpt-pipe
#
# Two measures:
#   Ir     instructions of one process (valgrind --tool=callgrind, from the
#          dynamic loader's first instruction to exit): exact and the same
#          whatever the machine's load, so it is the one to compare; split
#          into the dynamic loader's relocation and the rest.
#   CPU    user + system seconds per process, BENCH_RUNS runs of each
#          program interleaved in blocks of 10, all pinned to CPU 0 (taskset),
#          so both see the same load. Includes fork and exec, as a pipe does.
# The mail is a gzip'd multipart/report (tests/data/tlsrpt/mkmail.sh) of
# the RFC 8460 example dated yesterday; every run takes it in anew (fresh
# report-id each run) into its own store. Floors: /bin/true, an empty
# main() linked with the same libraries as daneguard ("empty"), and one
# linked with only what the intake needs: GMime, jansson, libconfuse, zlib
# ("empty-intake": the best a separate intake program could do).

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
DANEGUARD=${DANEGUARD:-./milter/daneguard}
BENCH_RUNS=${BENCH_RUNS:-300}
BENCH_OUT=${BENCH_OUT:-./bench/out/tlsrpt-pipe}

die() { echo "tlsrpt-pipe-bench: $*" >&2; exit 1; }
[ -x "$DANEGUARD" ] || die "DANEGUARD=$DANEGUARD is not an executable"
[ -n "${DANEGUARD_BEFORE:-}" ] && [ -x "$DANEGUARD_BEFORE" ] ||
    die "set DANEGUARD_BEFORE to the daneguard to compare with"
command -v valgrind >/dev/null || die "valgrind needed (Debian package valgrind)"
rm -rf "$BENCH_OUT" && mkdir -p "$BENCH_OUT" || die "mkdir $BENCH_OUT"
out=$(cd "$BENCH_OUT" && pwd)
y=$(date -u -d yesterday +%Y-%m-%d)

# The floors: an empty program linked like daneguard.
echo 'int main(void) { return 0; }' > "$out/empty.c"
cc -O2 -o "$out/empty" "$out/empty.c" -Wl,--no-as-needed \
    $(pkg-config --libs gmime-3.0 jansson libconfuse zlib libssl libcrypto \
    libunbound) -lmilter -lpthread || die "cannot build the empty program"
cc -O2 -o "$out/empty-intake" "$out/empty.c" -Wl,--no-as-needed \
    $(pkg-config --libs gmime-3.0 jansson libconfuse zlib) ||
    die "cannot build the empty intake program"

# mail N - the report mail with report-id N, on stdout.
sed -e "s/2016-04-01/$y/g" "$top_srcdir/tests/data/tlsrpt/rfc8460.json" \
    > "$out/r.json" || die "sed"
mail()
{
	sed "s/\"report-id\": \"[^\"]*\"/\"report-id\": \"bench-$1\"/" \
	    "$out/r.json" > "$out/m.json" &&
	    sh "$top_srcdir/tests/data/tlsrpt/mkmail.sh" "$out/m.json"
}
i=0
mkdir -p "$out/mail"
while [ $i -lt "$BENCH_RUNS" ]; do
	mail $i > "$out/mail/$i.eml" || die "mkmail"
	i=$((i + 1))
done
for w in before after; do
	mkdir -p "$out/$w"
	echo "state_dir = \"$out/$w\"" > "$out/$w.conf"
	echo "host \"mx1.example.test\" { cert \"rsa\" { chain = \"/nonexistent.pem\" } }" >> "$out/$w.conf"
done

# ir WHAT PROG ARGS... - instructions of one run (stdin: a fresh mail).
ir()
{
	what=$1
	shift
	mail "ir-$what" > "$out/ir.eml"
	valgrind --tool=callgrind --callgrind-out-file="$out/cg.$what" \
	    "$@" < "$out/ir.eml" >/dev/null 2>&1 || die "callgrind $what"
	total=$(callgrind_annotate "$out/cg.$what" 2>/dev/null |
	    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	reloc=$(callgrind_annotate --inclusive=yes "$out/cg.$what" 2>/dev/null |
	    awk '/_dl_relocate_object/ { gsub(",", "", $1); print $1; exit }')
	echo "$what $total ${reloc:-0}"
}
{
	ir true /bin/true
	ir empty "$out/empty"
	ir empty-intake "$out/empty-intake"
	ir before "$DANEGUARD_BEFORE" --tlsrpt -c "$out/before.conf"
	ir after "$DANEGUARD" --tlsrpt -c "$out/after.conf"
} > "$out/ir"

# CPU: blocks of 10 runs, each program in turn, all on CPU 0.
cat > "$out/block.sh" <<'EOF'
# block.sh WHAT FIRST: 10 runs of WHAT on mails FIRST..FIRST+9
w=$1 f=$2 o=$3 i=0
while [ $i -lt 10 ]; do
	case $w in
	true)	/bin/true ;;
	empty)	"$o/empty" ;;
	empty-intake) "$o/empty-intake" ;;
	before)	"$DANEGUARD_BEFORE" --tlsrpt -c "$o/before.conf" \
		    < "$o/mail/$((f + i)).eml" 2>/dev/null || exit 1 ;;
	after)	"$DANEGUARD" --tlsrpt -c "$o/after.conf" \
		    < "$o/mail/$((f + i)).eml" 2>/dev/null || exit 1 ;;
	esac
	i=$((i + 1))
done
EOF
export DANEGUARD DANEGUARD_BEFORE
for w in true empty empty-intake before after; do echo 0 > "$out/cpu.$w"; done
f=0
while [ $f -lt "$BENCH_RUNS" ]; do
	for w in true empty empty-intake before after; do
		/usr/bin/time -f '%U %S' -o "$out/time" taskset -c 0 \
		    sh "$out/block.sh" $w $f "$out" || die "$w failed"
		awk '{ print $1 + $2 }' "$out/time" >> "$out/cpu.$w"
	done
	f=$((f + 10))
done
for w in before after; do
	n=$(cat "$out"/$w/tlsrpt/[0-9a-f][0-9a-f] | grep -c '^i')
	# and the one of the Ir run
	[ "$n" = $((BENCH_RUNS + 1)) ] ||
	    die "$w: $n reports stored, not $((BENCH_RUNS + 1))"
done

cpu() { awk -v n="$BENCH_RUNS" '{ s += $1 } END { printf("%.1f", 1000 * s / n) }' "$out/cpu.$1"; }
irof() { awk -v w="$1" '$1 == w { print $2 }' "$out/ir"; }
relof() { awk -v w="$1" '$1 == w { print $3 }' "$out/ir"; }

echo
echo "| one process | Ir | of it relocation | CPU ms per run | per CPU second |"
echo "|---|---|---|---|---|"
for w in true empty empty-intake before after; do
	c=$(cpu $w)
	echo "| $w | $(irof $w) | $(relof $w) | $c | $(awk -v c="$c" 'BEGIN { printf("%.0f", c > 0 ? 1000 / c : 0) }')/s |"
done
awk -v b="$(irof before)" -v a="$(irof after)" -v cb="$(cpu before)" \
    -v ca="$(cpu after)" 'BEGIN { printf("\nafter/before: Ir %.2f, CPU %.2f\n", a / b, ca / cb) }'
