#!/bin/sh
# bench/tlsrpt-bench.sh - TLS-RPT intake (daneguard --tlsrpt) on one core,
# and the store with many policy domains. Target: >= 200 reports/s per
# core.
#
# Run from the build directory after "make":
#
#	sh $srcdir/bench/tlsrpt-bench.sh
#
# Environment (all optional):
#	DANEGUARD    default ./milter/daneguard
#	BENCH_N      reports per intake run, default 2000
#	BENCH_BIG    policy domains in the big store, default 100000
#	BENCH_OUT    work directory, default ./bench/out/tlsrpt
#
# Reports: realistic single-policy DANE reports (one tlsa policy for
# dI.example, MX mx1.hoster.example, every tenth with a tlsa-invalid and a
# starttls-not-supported failure detail), dated yesterday, each with a
# report-id of its own: about 1 KB of JSON, 500 bytes gzip'd.
#   dir    bare JSON files, one "daneguard --tlsrpt DIR" (one process)
#   pipe   gzip'd multipart/report mails, one "daneguard --tlsrpt < MAIL"
#          process per mail, as an MTA pipe runs it
#   maildir the same mails in a Maildir, one "daneguard --tlsrpt MAILDIR"
# All pinned to CPU 0 (taskset); reports/s by wall clock and per CPU
# second (user + system). Then the store after BENCH_BIG policy domains
# (taken in as a directory): its size on disk, a policy-domain lookup,
# and G10's full scan (bench/tlsrpt-scan.c).

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
DANEGUARD=${DANEGUARD:-./milter/daneguard}
BENCH_N=${BENCH_N:-2000}
BENCH_BIG=${BENCH_BIG:-100000}
BENCH_OUT=${BENCH_OUT:-./bench/out/tlsrpt}

die() { echo "tlsrpt-bench: $*" >&2; exit 1; }
[ -x "$DANEGUARD" ] || die "DANEGUARD=$DANEGUARD is not an executable"
[ -f lib/libdaneguard.a ] || die "run from the build directory after make"
rm -rf "$BENCH_OUT" && mkdir -p "$BENCH_OUT" || die "mkdir $BENCH_OUT"
out=$(cd "$BENCH_OUT" && pwd)
y=$(date -u -d yesterday +%Y-%m-%d)

flags=$(pkg-config --cflags --libs jansson gmime-3.0 zlib libssl \
    libcrypto libconfuse libunbound)
cc -O2 -I. -I"$top_srcdir/lib" -o "$out/tlsrpt-scan" \
    "$top_srcdir/bench/tlsrpt-scan.c" lib/libdaneguard.a $flags -lpthread ||
    die "cannot build tlsrpt-scan"

# conf NAME - a configuration whose state_dir is $out/NAME.
conf()
{
	mkdir -p "$out/$1"
	cat > "$out/$1.conf" <<CONF
state_dir = "$out/$1"
host "mx1.hoster.example" { cert "rsa" { chain = "/nonexistent.pem" } }
CONF
}

# reports DIR FIRST LAST - report JSON files for dFIRST..dLAST.example.
reports()
{
	mkdir -p "$1"
	awk -v dir="$1" -v first="$2" -v last="$3" -v y="$y" 'BEGIN {
	    for (i = first; i <= last; i++) {
		f = sprintf("%s/r%07d.json", dir, i)
		fail = (i % 10 == 0) ? 7 : 0
		printf("{\n  \"organization-name\": \"Mail Provider Inc.\",\n" \
		    "  \"date-range\": {\"start-datetime\": \"%sT00:00:00Z\",\n" \
		    "    \"end-datetime\": \"%sT23:59:59Z\"},\n" \
		    "  \"contact-info\": \"smtp-tls-reporting@mailprovider.example\",\n" \
		    "  \"report-id\": \"%sT00:00:00Z_d%d.example\",\n" \
		    "  \"policies\": [{\n    \"policy\": {\"policy-type\": \"tlsa\",\n" \
		    "      \"policy-string\": [\"3 1 1 8A1F2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9\",\n" \
		    "        \"3 1 1 0102030405060708091011121314151617181920212223242526272829303132\"],\n" \
		    "      \"policy-domain\": \"d%d.example\", \"mx-host\": [\"mx1.hoster.example\"]},\n" \
		    "    \"summary\": {\"total-successful-session-count\": %d,\n" \
		    "      \"total-failure-session-count\": %d}", y, y, y, i, i,
		    100 + i % 50, fail) > f
		if (fail)
			printf(",\n    \"failure-details\": [{\"result-type\": \"tlsa-invalid\",\n" \
			    "      \"sending-mta-ip\": \"198.51.100.7\", \"receiving-mx-hostname\": \"mx1.hoster.example\",\n" \
			    "      \"receiving-ip\": \"192.0.2.10\", \"failed-session-count\": 4},\n" \
			    "      {\"result-type\": \"starttls-not-supported\", \"receiving-mx-hostname\": \"mx1.hoster.example\",\n" \
			    "      \"receiving-ip\": \"2001:db8::10\", \"failed-session-count\": 3}]") > f
		printf("\n  }]\n}\n") > f
		close(f)
	    } }' || die "awk"
}

# timed WHAT CMD... - run CMD pinned to CPU 0; sets wall and cpu (s).
timed()
{
	what=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$out/time" taskset -c 0 "$@" ||
	    die "$what failed"
	wall=$(awk '{ print $1 }' "$out/time")
	cpu=$(awk '{ print $2 + $3 }' "$out/time")
}

rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf("%.0f", t > 0 ? n / t : 0) }'; }

# ------------------------------------------------------------ dir
reports "$out/json" 1 "$BENCH_N"
conf dir
timed dir "$DANEGUARD" --tlsrpt -c "$out/dir.conf" "$out/json" 2>/dev/null
dir_wall=$wall dir_cpu=$cpu
n=$(cat "$out"/dir/tlsrpt/[0-9a-f][0-9a-f] | grep -c '^i')
[ "$n" = "$BENCH_N" ] || die "dir: $n reports stored, not $BENCH_N"

# ------------------------------------------------------------ pipe
mkdir -p "$out/mail"
for f in "$out"/json/*.json; do
	sh "$top_srcdir/tests/data/tlsrpt/mkmail.sh" "$f" \
	    > "$out/mail/$(basename "$f" .json).eml" || die "mkmail"
done
conf pipe
cat > "$out/pipe.sh" <<PIPE
for m in "$out"/mail/*.eml; do
	"$DANEGUARD" --tlsrpt -c "$out/pipe.conf" < "\$m" 2>/dev/null || exit 1
done
PIPE
timed pipe sh "$out/pipe.sh"
pipe_wall=$wall pipe_cpu=$cpu
n=$(cat "$out"/pipe/tlsrpt/[0-9a-f][0-9a-f] | grep -c '^i')
[ "$n" = "$BENCH_N" ] || die "pipe: $n reports stored, not $BENCH_N"

# ------------------------------------------------------------ maildir
# The same mails in a Maildir's new/, one process for all.
conf maildir
mkdir -p "$out/md/new" "$out/md/cur" "$out/md/tmp"
cp "$out"/mail/*.eml "$out/md/new/" || die "cp"
timed maildir "$DANEGUARD" --tlsrpt -c "$out/maildir.conf" "$out/md" 2>/dev/null
md_wall=$wall md_cpu=$cpu
n=$(cat "$out"/maildir/tlsrpt/[0-9a-f][0-9a-f] | grep -c '^i')
[ "$n" = "$BENCH_N" ] || die "maildir: $n reports stored, not $BENCH_N"

# ------------------------------------------------------------ big store
conf big
i=1
while [ $i -le "$BENCH_BIG" ]; do
	last=$((i + 9999))
	[ $last -gt "$BENCH_BIG" ] && last=$BENCH_BIG
	rm -rf "$out/bigjson"
	reports "$out/bigjson" $i $last
	timed big "$DANEGUARD" --tlsrpt -c "$out/big.conf" "$out/bigjson" \
	    2>/dev/null
	big_wall=$(awk -v a="${big_wall:-0}" -v b="$wall" 'BEGIN { print a + b }')
	big_cpu=$(awk -v a="${big_cpu:-0}" -v b="$cpu" 'BEGIN { print a + b }')
	i=$((last + 1))
done
size=$(du -sk "$out/big/tlsrpt" | awk '{ print $1 }')
largest=$(ls -l "$out"/big/tlsrpt/[0-9a-f][0-9a-f] | awk '$5 > m { m = $5 } END { print m }')
taskset -c 0 "$out/tlsrpt-scan" "$out/big/tlsrpt" d "$BENCH_BIG" 2000 \
    > "$out/scan" || die "tlsrpt-scan failed"

echo
echo "| measure | value |"
echo "|---|---|"
echo "| dir: $BENCH_N bare JSON reports, one process | $(rate "$BENCH_N" "$dir_wall")/s wall, $(rate "$BENCH_N" "$dir_cpu")/s per CPU second |"
echo "| pipe: $BENCH_N gzip'd mails, one process each | $(rate "$BENCH_N" "$pipe_wall")/s wall, $(rate "$BENCH_N" "$pipe_cpu")/s per CPU second |"
echo "| maildir: the same $BENCH_N mails in new/, one process | $(rate "$BENCH_N" "$md_wall")/s wall, $(rate "$BENCH_N" "$md_cpu")/s per CPU second |"
echo "| big: $BENCH_BIG policy domains taken in (dirs of 10000) | $(rate "$BENCH_BIG" "$big_wall")/s wall, $(rate "$BENCH_BIG" "$big_cpu")/s per CPU second |"
echo "| store size, $BENCH_BIG policy domains | $size KiB on disk, largest shard $largest bytes, $(awk '/^lines/ { print $2 }' "$out/scan") lines |"
echo "| one policy domain's lookup (one shard) | $(awk '/^lookup_ms/ { print $2 " ms (found " $4 ")" }' "$out/scan") |"
echo "| G10's scan of the whole store | $(awk '/^g10_scan_ms/ { print $2 " ms (" $4 " failed sessions)" }' "$out/scan") |"
