#!/bin/sh
#
# make.sh - tlsagen is make-friendly: -o writes atomically (a new inode;
# a hard link or an open descriptor keeps the old records; a write killed
# or failing midway leaves the old file whole) and leaves an
# unchanged file (and its mtime) alone, --depfile names every input, and
# conf/Makefile.zone rebuilds the zone include file exactly when an input
# changes (driven by a real make run).
#
# Environment: TLSAGEN, CERTDIR, top_srcdir. Exit 0 pass, 1 fail, 77 skip.

if [ -z "$TLSAGEN" ] || [ -z "$CERTDIR" ] || [ -z "$top_srcdir" ]; then
	echo "make.sh: TLSAGEN, CERTDIR and top_srcdir must be set" >&2
	exit 77
fi
[ -x "$TLSAGEN" ] || { echo "make.sh: $TLSAGEN missing" >&2; exit 77; }
MAKE=${MAKE:-make}
command -v "$MAKE" >/dev/null 2>&1 || { echo "make.sh: no make" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/make.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
fail=0
ncase=0

bad() {
	echo "FAIL $*"
	fail=1
}
mtime() {
	stat -c %Y "$1"
}

# Work on copies, so inputs can be touched and replaced.
for f in rsa-chain.pem rsa.key rsa-next.key rsa-other-chain.pem \
    rsa-other.key rsa-enc.key pass.txt ecdsa-chain.pem; do
	cp "$CERTDIR/$f" "$tmp/$f" || exit 1
done
cd "$tmp" || exit 1
H="-H mx1.example.test"

# ----------------------------------------------------------------- -o FILE
ncase=$((ncase + 1))
"$TLSAGEN" $H rsa-chain.pem >want.zone || bad "stdout run"
"$TLSAGEN" $H -o out.zone rsa-chain.pem >stdout.txt || bad "-o run"
cmp -s want.zone out.zone || bad "-o: file differs from stdout"
[ ! -s stdout.txt ] || bad "-o: something on stdout"
[ "$(stat -c %a out.zone)" = 644 ] || bad "-o: new file not mode 644"

# Same content again: file and mtime untouched.
ncase=$((ncase + 1))
touch -d '2000-01-01' out.zone
before=$(mtime out.zone)
"$TLSAGEN" $H -o out.zone rsa-chain.pem || bad "-o rerun"
[ "$(mtime out.zone)" = "$before" ] ||
    bad "-o: unchanged output rewritten (mtime changed)"
cmp -s want.zone out.zone || bad "-o rerun: content changed"

# A changed input replaces the file (and keeps its mode).
ncase=$((ncase + 1))
chmod 640 out.zone
cp rsa-other-chain.pem rsa-chain.pem
"$TLSAGEN" $H -o out.zone rsa-chain.pem || bad "-o after a change"
[ "$(mtime out.zone)" != "$before" ] || bad "-o: changed output not written"
"$TLSAGEN" $H rsa-chain.pem >want2.zone
cmp -s want2.zone out.zone || bad "-o: new content not written"
cmp -s want.zone out.zone && bad "-o: content did not change"
[ "$(stat -c %a out.zone)" = 640 ] || bad "-o: existing mode not kept"
cp "$CERTDIR/rsa-chain.pem" rsa-chain.pem
ls -a | grep -q '^out\.zone.' && bad "-o: temporary file left: $(ls -a)"

# -o replaces by rename, never in place: out.zone gets a new inode, and
# whoever holds the old file (a hard link; a name server with it open)
# still reads the old records, whole.
ncase=$((ncase + 1))
"$TLSAGEN" $H -o out.zone rsa-chain.pem || bad "-o (atomic) first run"
cp out.zone old.zone
ln out.zone old-link.zone
ino=$(stat -c %i out.zone)
exec 3<out.zone
cp rsa-other-chain.pem rsa-chain.pem
"$TLSAGEN" $H -o out.zone rsa-chain.pem || bad "-o (atomic) second run"
[ "$(stat -c %i out.zone)" != "$ino" ] ||
    bad "-o: out.zone rewritten in place (same inode $ino)"
cmp -s want2.zone out.zone || bad "-o (atomic): new content not written"
cmp -s old.zone old-link.zone ||
    bad "-o: a hard link to the old out.zone sees other content"
cat <&3 | cmp -s old.zone - ||
    bad "-o: a descriptor open on the old out.zone reads other content"
exec 3<&-
rm -f old-link.zone

# A tlsagen stopped in the middle of writing (the file size limit kills
# it with SIGXFSZ at its first byte, or makes the write fail when the
# signal is ignored) leaves the old out.zone whole; the failed write says
# so, names out.zone and leaves no temporary file.
ncase=$((ncase + 1))
cp "$CERTDIR/rsa-chain.pem" rsa-chain.pem
cp out.zone old.zone
( (ulimit -f 0; exec "$TLSAGEN" $H -o out.zone rsa-chain.pem)
  echo $? >rc.txt ) 2>&1 | cat >err.txt
[ "$(cat rc.txt)" -gt 128 ] ||
    bad "-o under a 0 file size limit: exit $(cat rc.txt), not killed"
cmp -s old.zone out.zone || bad "-o killed mid-write: out.zone changed"
rm -f .out.zone.*
( (trap '' XFSZ; ulimit -f 0; exec "$TLSAGEN" $H -o out.zone rsa-chain.pem)
  echo $? >rc.txt ) 2>&1 | cat >err.txt
[ "$(cat rc.txt)" = 2 ] ||
    bad "-o with a failing write: exit $(cat rc.txt), not 2"
grep -q 'out\.zone.*File too large' err.txt ||
    bad "-o with a failing write: no error naming out.zone: $(cat err.txt)"
cmp -s old.zone out.zone || bad "-o with a failing write: out.zone changed"
ls -a | grep -q '^\.out\.zone\.' &&
    bad "-o with a failing write: temporary file left: $(ls -a)"

# ---------------------------------------------------------------- --depfile
ncase=$((ncase + 1))
"$TLSAGEN" $H -o out.zone --depfile out.d rsa-chain.pem rsa-enc.key \
    ecdsa-chain.pem --next rsa-next.key --passphrase-file pass.txt ||
    bad "--depfile run"
echo "out.zone: rsa-chain.pem rsa-enc.key ecdsa-chain.pem rsa-next.key pass.txt" \
    >want.d
if ! cmp -s want.d out.d; then
	bad "--depfile content"
	diff -u want.d out.d
fi
# An input named twice is listed once; a blank in a name is escaped.
ncase=$((ncase + 1))
cp rsa-chain.pem "my chain.pem"
"$TLSAGEN" $H -o "out 2.zone" --depfile out2.d rsa-chain.pem "my chain.pem" \
    rsa-chain.pem || bad "--depfile with a blank"
echo 'out\ 2.zone: rsa-chain.pem my\ chain.pem' >want2.d
if ! cmp -s want2.d out2.d; then
	bad "--depfile escaping"
	diff -u want2.d out2.d
fi

# Configuration mode: the config file and everything it names.
ncase=$((ncase + 1))
cat >dg.conf <<EOF
host "mx1.example.test" {
	cert "rsa" {
		chain = "rsa-chain.pem"
		key = "rsa-enc.key"
		passphrase_file = "pass.txt"
		next_key = "rsa-next.key"
	}
	cert "ecdsa" { chain = "ecdsa-chain.pem" }
}
EOF
"$TLSAGEN" -c dg.conf -o conf.zone --depfile conf.d || bad "-c --depfile run"
echo "conf.zone: dg.conf rsa-chain.pem rsa-enc.key rsa-next.key pass.txt ecdsa-chain.pem" \
    >want.d
if ! cmp -s want.d conf.d; then
	bad "-c --depfile content"
	diff -u want.d conf.d
fi

# ----------------------------------------------------- conf/Makefile.zone
mf=$top_srcdir/conf/Makefile.zone
[ -f "$mf" ] || { bad "no $mf"; exit 1; }
rm -f conf.zone conf.d
runmake() {
	"$MAKE" -f "$mf" TLSAGEN="$TLSAGEN" DANEGUARD_CONF=dg.conf \
	    TLSA_ZONE=tlsa.zone >make.out 2>&1
}
touch -d '1999-01-01' dg.conf rsa-chain.pem rsa-enc.key rsa-next.key \
    pass.txt ecdsa-chain.pem

ncase=$((ncase + 1))
runmake || { bad "Makefile.zone: first make failed"; cat make.out; }
[ -s tlsa.zone ] || bad "Makefile.zone: first make built nothing"
"$TLSAGEN" -c dg.conf >want.zone
cmp -s want.zone tlsa.zone || bad "Makefile.zone: wrong content"
[ -s tlsa.zone.d ] || bad "Makefile.zone: no dependency file"

ncase=$((ncase + 1))
touch -d '2000-01-01' tlsa.zone
runmake || bad "Makefile.zone: second make failed"
if grep -q "$TLSAGEN" make.out; then
	bad "Makefile.zone: second make ran tlsagen"
	cat make.out
fi
"$MAKE" -q -f "$mf" TLSAGEN="$TLSAGEN" DANEGUARD_CONF=dg.conf \
    TLSA_ZONE=tlsa.zone || bad "Makefile.zone: not up to date (make -q)"

# Touching a chain re-runs tlsagen; same records: file and mtime stay.
ncase=$((ncase + 1))
before=$(mtime tlsa.zone)
touch ecdsa-chain.pem
runmake || { bad "Makefile.zone: make after touch failed"; cat make.out; }
grep -q "$TLSAGEN" make.out ||
    bad "Makefile.zone: touching a chain did not rebuild"
[ "$(mtime tlsa.zone)" = "$before" ] ||
    bad "Makefile.zone: same records, but tlsa.zone was rewritten"

# A renewal with a new key: new records.
ncase=$((ncase + 1))
cp rsa-other-chain.pem rsa-chain.pem
openssl pkcs8 -topk8 -in rsa-other.key -passout file:pass.txt \
    -out rsa-enc.key 2>/dev/null || cp rsa-other.key rsa-enc.key
runmake || { bad "Makefile.zone: make after renewal failed"; cat make.out; }
"$TLSAGEN" -c dg.conf >want.zone
cmp -s want.zone tlsa.zone || bad "Makefile.zone: renewal not picked up"
[ "$(mtime tlsa.zone)" != "$before" ] ||
    bad "Makefile.zone: renewal left the old mtime"

# A broken input stops make and leaves the zone include file alone.
ncase=$((ncase + 1))
cp tlsa.zone keep.zone
cp "$CERTDIR/rsa.key" rsa-enc.key
if runmake; then
	bad "Makefile.zone: make succeeded with a mismatched key"
fi
grep -q 'does not match' make.out || bad "Makefile.zone: no error shown"
cmp -s keep.zone tlsa.zone || bad "Makefile.zone: failed run changed tlsa.zone"

[ "$fail" -eq 0 ] && echo "make.sh: $ncase cases passed"
exit "$fail"
