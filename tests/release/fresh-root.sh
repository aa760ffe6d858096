#!/bin/sh
# fresh-root.sh - run the README's quick start in a freshly bootstrapped
# Debian 12 root, as a new machine would: nothing installed but what
# debootstrap's minimal base brings, so a package that only this machine
# happens to have cannot hide a missing install step.
#
#   tests/release/fresh-root.sh [-k] [-r ROOT] [STEP ...]
#
# STEP is "demo" (./quickstart demo), "test" (./quickstart test) or
# "sh -c CMD" style words run in the checkout; default: demo, then test,
# exactly as the README writes them. The checkout's committed tree (HEAD)
# is copied into ROOT/root/daneguard: commit before you run this.
#
# -r ROOT  where to build the root (default: a new directory under
#          /var/tmp); it must not exist yet.
# -k       keep ROOT afterwards (default: removed, also on failure).
#
# The base system is debootstrap's minbase of bookworm from the mirror
# this machine's apt uses; the host's apt sources are copied in, so the
# root sees the same archive (and its security updates) as the host.
# A pristine copy of the base is cached as a tarball in
# /var/cache/daneguard-fresh (delete it to bootstrap again); every run
# starts from an unpacked copy, never from a used root.
#
# Mounts (proc, sys, dev, a tmpfs /run, and ROOT bound onto itself, which
# "ip netns exec" needs to remount /sys inside) live in a private mount
# namespace and vanish with it. Every process left in the root when the
# steps end is killed.
#
# "./quickstart test" runs this script after make distcheck; inside the
# root DANEGUARD_FRESH_ROOT=1 keeps it from running itself again.
#
# Exit status: that of the first failing step, 0 when all pass, 2 for a
# usage error or a root that cannot be made. Needs root; takes about five
# minutes for the bootstrap (once), then as long as the steps.
set -eu

usage() { echo "usage: $0 [-k] [-r ROOT] [demo|test ...]" >&2; exit 2; }
die() { echo "fresh-root: $*" >&2; exit 2; }

keep=0
root=
while getopts kr: opt; do
	case $opt in
	k) keep=1 ;;
	r) root=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- demo test
for step in "$@"; do
	case $step in demo|test) ;; *) die "unknown step '$step' (demo or test)" ;; esac
done

[ "$(id -u)" = 0 ] || die "run as root: it bootstraps a Debian root and mounts into it"
src=$(cd "$(dirname "$0")/../.." && pwd)
git -C "$src" rev-parse --verify -q HEAD >/dev/null ||
    die "$src is not a git checkout with a commit (the committed tree is what is tested)"

cache=/var/cache/daneguard-fresh
base=$cache/bookworm-minbase.tar

# The mirror the host's apt uses for bookworm main (deb822 or one-line form).
mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		    /Suites:[^\n]*bookworm([ \n]|$)/ && /Components:[^\n]*main/ {
			for (i = 1; i <= NF; i++)
				if ($i ~ /^URIs:/) { split($i, u, " "); print u[2]; exit }
		    }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' "$f"
	done
}

if [ ! -s "$base" ]; then
	command -v debootstrap >/dev/null 2>&1 || {
		echo "fresh-root: installing debootstrap"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends debootstrap >/dev/null
	} || die "cannot install debootstrap"
	url=$(mirror | head -n 1)
	[ -n "$url" ] || die "no bookworm main source in /etc/apt: cannot tell which mirror to bootstrap from"
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/boot.XXXXXX")
	echo "fresh-root: debootstrap --variant=minbase bookworm (a few minutes, once)"
	if ! debootstrap --variant=minbase bookworm "$tmp" "$url" >"$cache/debootstrap.log" 2>&1; then
		rm -rf "$tmp"
		die "debootstrap failed; see $cache/debootstrap.log"
	fi
	chmod 755 "$tmp"
	tar -C "$tmp" -cf "$base.part" . && mv "$base.part" "$base"
	rm -rf "$tmp"
fi

if [ -z "$root" ]; then
	root=$(mktemp -d /var/tmp/daneguard-fresh.XXXXXX)
else
	[ -e "$root" ] && die "$root exists: give a new path"
	mkdir -p "$root"
fi
root=$(cd "$root" && pwd)

cleanup() {
	# Processes still running in the root (a test that failed to stop a
	# server): end them, then remove the root.
	for p in $(ls /proc | grep -E '^[0-9]+$'); do
		r=$(readlink "/proc/$p/root" 2>/dev/null) || continue
		case $r in "$root"|"$root"/*) kill -9 "$p" 2>/dev/null || : ;; esac
	done
	if [ "$keep" = 1 ]; then
		echo "fresh-root: kept $root"
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tar -C "$root" -xf "$base"
chmod 755 "$root"	# the tarball's "." kept mktemp's 0700: _apt and postfix need to walk it
# What a new machine has configured: the same apt sources and a resolver.
rm -f "$root"/etc/apt/sources.list
mkdir -p "$root/etc/apt/sources.list.d"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && cp "$f" "$root$f"
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/root/daneguard"
git -C "$src" archive --format=tar HEAD | tar -C "$root/root/daneguard" -xf -
echo "fresh-root: $root holds $(git -C "$src" rev-parse --short HEAD); steps: $*"

# In a private mount namespace: the root bound onto itself, the kernel
# file systems, then the steps, each as the README writes it.
unshare -m --propagation private sh -eu -c '
	root=$1; shift
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount -t sysfs sys "$root/sys"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs -o mode=755 tmpfs "$root/run"
	mkdir -p "$root/run/lock"
	for step in "$@"; do
		echo "fresh-root: ./quickstart $step"
		chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb DANEGUARD_FRESH_ROOT=1 \
		    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		    sh -c "cd /root/daneguard && ./quickstart $step" || {
			st=$?; echo "fresh-root: ./quickstart $step failed (exit $st)"; exit $st; }
	done
' fresh-root "$root" "$@"
echo "fresh-root: all steps passed: $*"
