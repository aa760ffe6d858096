#!/bin/sh
# deb.sh - the Debian packages, built and installed as an administrator
# would: part of the release check, not of make check (it takes minutes).
#
#   tests/release/deb.sh [-k]
#
#  1. The committed tree (git archive HEAD) is unpacked in a scratch
#     directory and "dpkg-buildpackage -us -uc -b" builds tlsagen_*.deb and
#     daneguard_*.deb from it; lintian must report no error and no warning
#     (overrides in debian/*.lintian-overrides say why).
#  2. In a fresh Debian 12 root (debootstrap's minbase, the tarball that
#     tests/release/fresh-root.sh caches in /var/cache/daneguard-fresh,
#     made here the same way if missing) "apt-get install ./tlsagen_*.deb
#     ./daneguard_*.deb" pulls the dependencies from the archive; then
#     tlsagen --version, daneguard -V, daneguard -n on the shipped sample
#     and on a configuration with a certificate made for it (both
#     "configuration OK"),
#     the system user, /var/lib/daneguard, the socket directory in
#     Postfix's chroot (Postfix is installed first, as on an MX) and
#     postfix in the group daneguard, the conffile, the unit, the man
#     pages.
#  3. "apt-get purge" both: nothing of theirs is left (every path dpkg
#     listed, /etc/daneguard, /var/lib/daneguard).
#
# -k keeps the scratch directory and the root. Needs root, dpkg-dev,
# debhelper, lintian, git; the root needs the apt mirror. Exit 0 pass,
# 1 fail, 2 cannot run.
set -u

die() { echo "deb.sh: $*" >&2; exit 2; }
keep=0
[ "${1:-}" = -k ] && keep=1
[ "$(id -u)" = 0 ] || die "run as root (a chroot, mounts)"
for c in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian git:git \
    unshare:util-linux; do
	command -v "${c%%:*}" >/dev/null 2>&1 ||
	    die "${c%%:*} not found (Debian package ${c#*:})"
done
src=$(cd "$(dirname "$0")/../.." && pwd)
git -C "$src" rev-parse --verify -q HEAD >/dev/null ||
    die "$src is not a git checkout (the committed tree is what is packaged)"

fails=0
checks=0
result()
{
	checks=$((checks + 1))
	if [ "$2" -eq 0 ]; then echo "ok    $1"; return 0; fi
	fails=$((fails + 1))
	echo "FAIL  $1"
	return 1
}

tmp=$(mktemp -d /var/tmp/daneguard-deb.XXXXXX) || die "mktemp"
chmod 755 "$tmp"
root=$tmp/root
cleanup()
{
	for p in $(ls /proc | grep -E '^[0-9]+$'); do
		r=$(readlink "/proc/$p/root" 2>/dev/null) || continue
		case $r in "$root"|"$root"/*) kill -9 "$p" 2>/dev/null || : ;; esac
	done
	if [ $keep = 1 ]; then echo "deb.sh: kept $tmp"
	else rm -rf --one-file-system "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ 1. build

mkdir -p "$tmp/build/daneguard"
git -C "$src" archive --format=tar HEAD | tar -C "$tmp/build/daneguard" -xf - ||
    die "git archive failed"
echo "deb.sh: dpkg-buildpackage -us -uc -b ($(git -C "$src" rev-parse --short HEAD))"
if (cd "$tmp/build/daneguard" && ./autogen.sh >/dev/null 2>&1 &&
    dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	result "dpkg-buildpackage -us -uc -b" 0
else
	tail -n 60 "$tmp/build.log"
	result "dpkg-buildpackage -us -uc -b" 1
	exit 1
fi
ls "$tmp/build"/*.deb | sed 's|.*/|  |'
tdeb=$(ls "$tmp/build"/tlsagen_*.deb 2>/dev/null | head -n 1)
ddeb=$(ls "$tmp/build"/daneguard_*.deb 2>/dev/null | head -n 1)
[ -n "$tdeb" ] && [ -n "$ddeb" ]
result "two packages: tlsagen and daneguard" $? || exit 1

changes=$(ls "$tmp/build"/*.changes | head -n 1)
lintian --fail-on error,warning --display-info "$changes" >"$tmp/lintian.out" 2>&1
lst=$?
sed 's/^/  | /' "$tmp/lintian.out"
result "lintian: no error, no warning" $lst

dpkg-deb -c "$ddeb" >"$tmp/daneguard.contents"
dpkg-deb -c "$tdeb" >"$tmp/tlsagen.contents"
bad=0
for f in ./usr/sbin/daneguard ./etc/daneguard/daneguard.conf \
    ./lib/systemd/system/daneguard.service \
    ./usr/share/man/man8/daneguard.8.gz ./usr/share/man/man5/daneguard.conf.5.gz \
    ./usr/share/doc/daneguard/examples/postfix-main.cf \
    ./usr/share/doc/daneguard/examples/prometheus-daneguard.rules.yml; do
	grep -q " $f\$" "$tmp/daneguard.contents" || { echo "  daneguard lacks $f"; bad=1; }
done
for f in ./usr/bin/tlsagen ./usr/share/man/man1/tlsagen.1.gz; do
	grep -q " $f\$" "$tmp/tlsagen.contents" || { echo "  tlsagen lacks $f"; bad=1; }
done
grep -q ' ./usr/bin/tlsagen$' "$tmp/daneguard.contents" && bad=1
dpkg-deb -e "$ddeb" "$tmp/control"
grep -qx /etc/daneguard/daneguard.conf "$tmp/control/conffiles" || bad=1
result "contents: programs, man pages, unit, examples; the sample a conffile" $bad

# ------------------------------------------------------------ 2. install

cache=/var/cache/daneguard-fresh
base=$cache/bookworm-minbase.tar
if [ ! -s "$base" ]; then
	command -v debootstrap >/dev/null 2>&1 ||
	    die "no $base and no debootstrap (Debian package debootstrap)"
	url=$(awk 'BEGIN { RS = ""; FS = "\n" }
	    /Suites:[^\n]*bookworm([ \n]|$)/ && /Components:[^\n]*main/ {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^URIs:/) { split($i, u, " "); print u[2]; exit } }' \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$url" ] || url=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
	    /etc/apt/sources.list 2>/dev/null)
	[ -n "$url" ] || die "no bookworm mirror in /etc/apt"
	mkdir -p "$cache"
	echo "deb.sh: debootstrap --variant=minbase bookworm (a few minutes, once)"
	debootstrap --variant=minbase bookworm "$tmp/boot" "$url" \
	    >"$cache/debootstrap.log" 2>&1 || die "debootstrap failed ($cache/debootstrap.log)"
	chmod 755 "$tmp/boot"
	tar -C "$tmp/boot" -cf "$base.part" . && mv "$base.part" "$base"
	rm -rf "$tmp/boot"
fi
mkdir -p "$root"
tar -C "$root" -xf "$base" || die "cannot unpack $base"
chmod 755 "$root"
rm -f "$root/etc/apt/sources.list"
mkdir -p "$root/etc/apt/sources.list.d"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && cp "$f" "$root$f"
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$tdeb" "$ddeb" "$root/tmp/"
tdeb=/tmp/${tdeb##*/}
ddeb=/tmp/${ddeb##*/}

# The steps in the root, in a private mount namespace (proc, dev; gone
# with it). Each line of the script's output is one verdict or a detail.
cat >"$root/tmp/steps.sh" <<EOF
#!/bin/sh
set -u
check() { if [ "\$2" -eq 0 ]; then echo "ok    \$1"; else echo "FAIL  \$1"; fi; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/tmp/apt.log 2>&1
# Postfix first, as on an MX: the postinst then makes the socket directory
# in its chroot and puts postfix in the group daneguard.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
apt-get install -y -q --no-install-recommends postfix >>/tmp/apt.log 2>&1 </dev/null
check "apt-get install postfix" \$?
apt-get install -y -q --no-install-recommends ./${tdeb#/} ./${ddeb#/} \
    >>/tmp/apt.log 2>&1 </dev/null
st=\$?
check "apt-get install ./tlsagen_*.deb ./daneguard_*.deb" \$st
[ \$st -eq 0 ] || { tail -n 30 /tmp/apt.log; exit 1; }
dpkg -L tlsagen daneguard | sort -u >/tmp/listed

tlsagen --version; check "tlsagen --version" \$?
daneguard -V; check "daneguard -V" \$?
# The sample as shipped parses, with the package's trust anchor
# (dns-root-data). -n does not read the certificate files it names.
daneguard -n >/tmp/n.out 2>&1
st=\$?
sed 's/^/  | /' /tmp/n.out
[ \$st -eq 0 ] && grep -qx 'configuration OK' /tmp/n.out
check "daneguard -n on the shipped sample: configuration OK" \$?
# A configuration with a certificate (made on the host: minbase has no
# openssl) and a next key made here.
tlsagen --new-key ecdsa -o /tmp/k/next.key -H mx1.example.test >/dev/null 2>&1
check "tlsagen --new-key ecdsa" \$?
cat >/tmp/k/dg.conf <<'CONF'
tlsa_file = "/tmp/k/published.zone"
host "mx1.example.test" {
  probe = { "127.0.0.1" }
  cert "ecdsa" { chain = "/tmp/k/ec.pem" key = "/tmp/k/ec.key" next_key = "/tmp/k/next.key" }
}
CONF
tlsagen -c /tmp/k/dg.conf -o /tmp/k/published.zone; check "tlsagen -c: records" \$?
daneguard -n -c /tmp/k/dg.conf; check "daneguard -n: configuration OK" \$?

getent passwd daneguard >/dev/null; check "system user daneguard" \$?
[ "\$(stat -c '%U %G %a' /var/spool/postfix/daneguard)" = "daneguard postfix 750" ]
check "/var/spool/postfix/daneguard (the sample's socket directory): daneguard postfix 0750" \$?
id -nG postfix | tr ' ' '\n' | grep -qx daneguard
check "postfix is in the group daneguard" \$?
[ "\$(stat -c '%U %a' /var/lib/daneguard)" = "daneguard 750" ]
check "/var/lib/daneguard owned by daneguard, 0750" \$?
dpkg-query -W -f '\${Conffiles}\n' daneguard | grep -q '/etc/daneguard/daneguard.conf'
check "daneguard.conf is a conffile" \$?
[ -f /lib/systemd/system/daneguard.service ] &&
    grep -q '^ExecStart=/usr/sbin/daneguard -f -c /etc/daneguard/daneguard.conf\$' \
    /lib/systemd/system/daneguard.service
check "the unit, with the package's paths" \$?
[ -f /usr/share/man/man8/daneguard.8.gz ] && [ -f /usr/share/man/man1/tlsagen.1.gz ] &&
    [ -f /usr/share/man/man5/daneguard.conf.5.gz ]
check "man pages" \$?
daneguard -h 2>&1 | grep -q 'default /etc/daneguard/daneguard.conf'
check "built-in configuration path /etc/daneguard/daneguard.conf" \$?

apt-get purge -y -q tlsagen daneguard >>/tmp/apt.log 2>&1 </dev/null
check "apt-get purge tlsagen daneguard" \$?
left=
while IFS= read -r f; do
	[ -e "\$f" ] && [ ! -d "\$f" ] && left="\$left \$f"
done </tmp/listed
for d in /etc/daneguard /var/lib/daneguard /usr/share/doc/daneguard \
    /usr/share/doc/tlsagen /var/spool/postfix/daneguard; do
	[ -e "\$d" ] && left="\$left \$d"
done
[ -z "\$left" ]; check "purge: nothing of the packages left\${left:+:\$left}" \$?
for p in tlsagen daneguard; do
	st=\$(dpkg-query -W -f '\${db:Status-Abbrev}' \$p 2>/dev/null)
	case \$st in ""|"pn "*|"un "*) r=0 ;; *) r=1 ;; esac
	check "dpkg: \$p not installed any more (\${st:-unknown})" \$r
done
EOF
chmod 755 "$root/tmp/steps.sh"
mkdir -p "$root/tmp/k"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$root/tmp/k/ec.key" -out "$root/tmp/k/ec.pem" -days 30 \
    -subj /CN=mx1.example.test >/dev/null 2>&1 ||
    die "openssl req failed (Debian package openssl)"
echo "deb.sh: installing in a fresh Debian 12 root ($root)"
unshare -m --propagation private sh -c '
	root=$1
	mount -t proc proc "$root/proc" &&
	mount --rbind /dev "$root/dev" &&
	mount -t tmpfs -o mode=755 tmpfs "$root/run" &&
	mkdir -p "$root/run/lock" || exit 2
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    /tmp/steps.sh
' deb.sh "$root" >"$tmp/steps.out" 2>&1
cat "$tmp/steps.out"
n=$(grep -c '^ok    ' "$tmp/steps.out")
f=$(grep -c '^FAIL  ' "$tmp/steps.out")
checks=$((checks + n + f))
fails=$((fails + f))
[ "$n" -eq 20 ] || { fails=$((fails + 1)); echo "FAIL  the root's steps stopped early ($n ok)"; }

echo "$checks checks, $fails failed"
[ $fails -eq 0 ] || exit 1
exit 0
