#!/bin/sh
#
# install.sh - "make install" into a scratch DESTDIR with the configured
# directories places every file an administrator needs (listed into the
# test log), never overwrites a configuration, installs a unit that
# systemd-analyze verify accepts, and "make uninstall" takes it all away
# again except a configuration the administrator changed.
#
# Runs make on the top build directory (install/uninstall only, never
# check), with MAKEFLAGS cleared so the outer make check's jobserver and
# command-line variables do not leak into it.
#
# Environment: top_srcdir, top_builddir. Exit 0 pass, 1 fail, 77 skip.

if [ -z "$top_builddir" ] || [ ! -f "$top_builddir/Makefile" ]; then
	echo "install.sh: top_builddir must name a configured build" >&2
	exit 77
fi
MAKE=${MAKE:-make}
command -v "$MAKE" >/dev/null 2>&1 || { echo "install.sh: no make" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
dest=$tmp/dest
fail=0

bad() {
	echo "FAIL $*"
	fail=1
}
submake() {
	(unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS
	 "$MAKE" -C "$top_builddir" "$@" DESTDIR="$dest") >"$tmp/make.out" 2>&1
	rc=$?
	[ $rc = 0 ] || { sed 's/^/    /' "$tmp/make.out"; }
	return $rc
}

# The configured directories, expanded as make would ("${prefix}/bin").
for v in PACKAGE_TARNAME prefix exec_prefix bindir sbindir datarootdir \
    datadir mandir sysconfdir localstatedir docdir systemdsystemunitdir; do
	val=$(sed -n "s/^$v = //p" "$top_builddir/Makefile" | head -n 1)
	eval "$v=\"$val\""
done
unitdir=$systemdsystemunitdir

expected="$bindir/tlsagen
$sbindir/daneguard
$sbindir/daneguard-acme-hook
$sbindir/daneguard-tlsrpt-spool
$mandir/man1/tlsagen.1
$mandir/man8/daneguard.8
$mandir/man8/daneguard-tlsrpt-spool.8
$mandir/man5/daneguard.conf.5
$sysconfdir/daneguard/daneguard.conf
$docdir/examples/postfix-main.cf
$docdir/examples/sendmail.mc
$docdir/examples/Makefile.zone
$docdir/examples/postfix-tlsrpt.cf
$docdir/examples/prometheus-daneguard.rules.yml
$docdir/examples/nagios-daneguard.cfg
$docdir/examples/icinga2-daneguard.conf
$docdir/examples/acme-hook.conf"
[ -n "$unitdir" ] && expected="$expected
$unitdir/daneguard.service"

# ------------------------------------------------------------ first install
if ! submake install; then
	bad "make install DESTDIR=$dest failed"
	exit 1
fi
echo "installed into DESTDIR=$dest (prefix $prefix):"
(cd "$dest" && find . \( -type f -o -type l \) | sort | sed 's/^\./    /')

echo "$expected" | while IFS= read -r f; do
	[ -f "$dest$f" ] || { echo "FAIL missing $f"; echo x >>"$tmp/missing"; }
done
[ -f "$tmp/missing" ] && fail=1
for f in "$bindir/tlsagen" "$sbindir/daneguard" \
    "$sbindir/daneguard-tlsrpt-spool"; do
	[ -x "$dest$f" ] || bad "$f is not executable"
done
cmp -s "$dest$sysconfdir/daneguard/daneguard.conf" \
    "$top_srcdir/conf/daneguard.conf" ||
	bad "installed daneguard.conf is not the sample"

# The programs' built-in paths are the configured ones (lib/paths.h).
"$dest$sbindir/daneguard" -h 2>&1 |
    grep -q "default $sysconfdir/daneguard/daneguard.conf\$" ||
	bad "daneguard -h does not name $sysconfdir/daneguard/daneguard.conf"
"$dest$bindir/tlsagen" -h 2>&1 | grep -q " $localstatedir/lib/daneguard/firstseen\$" ||
	bad "tlsagen -h does not name $localstatedir/lib/daneguard/firstseen"
# ... and a new configure rebuilds what uses them: their dependency files
# name the header made from the Makefile.
for po in milter/.deps/daneguard-main.Po tlsagen/.deps/gate.Po \
    lib/.deps/conf_schema.Po; do
	[ -f "$top_builddir/$po" ] || continue	# no dependency tracking
	grep -q 'lib/paths\.h' "$top_builddir/$po" ||
		bad "$po does not depend on lib/paths.h"
done

# The unit carries the configured paths, not the ones the .in was written with.
unit=$dest$unitdir/daneguard.service
if [ -n "$unitdir" ] && [ -f "$unit" ]; then
	grep -q "^ExecStart=$sbindir/daneguard -f -c $sysconfdir/daneguard/daneguard.conf\$" "$unit" ||
		bad "unit ExecStart does not use $sbindir and $sysconfdir"
	grep -q "^ExecStartPre=$sbindir/daneguard -n -c $sysconfdir/daneguard/daneguard.conf\$" "$unit" ||
		bad "unit ExecStartPre does not use $sbindir and $sysconfdir"
	grep -q "^ReadWritePaths=.*$localstatedir/lib/daneguard" "$unit" ||
		bad "unit ReadWritePaths does not name $localstatedir/lib/daneguard"
	if grep -q '@[a-z]*@' "$unit"; then
		bad "unit has unsubstituted variables: $(grep '@[a-z]*@' "$unit")"
	fi
fi

# ------------------------------------------------------- systemd-analyze
# verify checks that the commands exist and the man pages named in
# Documentation= are found, so it runs on a root made of the installed
# files plus what the unit uses from the system (its target units,
# /bin/kill). No running systemd is needed.
if [ -z "$unitdir" ] || [ ! -f "$unit" ]; then
	echo "SKIP systemd-analyze verify: no unit installed (--without-systemdsystemunitdir)"
elif ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP systemd-analyze verify: not installed (Debian package systemd)"
else
	vroot=$tmp/vroot
	mkdir -p "$vroot/lib/systemd" "$vroot/bin"
	cp -a "$dest/." "$vroot/" &&
	cp -a /lib/systemd/system "$vroot/lib/systemd/" &&
	cp /bin/kill "$vroot/bin/kill" || bad "cannot make verify root"
	man=yes
	command -v man >/dev/null 2>&1 || { man=no; echo "no man: man page check off"; }
	# verify --root finds units only in systemd's search path, which a
	# scratch prefix (make distcheck) is not in: check the installed file
	# from /etc/systemd/system, where systemd would find it too.
	mkdir -p "$vroot/etc/systemd/system"
	vunit=$vroot/etc/systemd/system/daneguard.service
	cp "$unit" "$vunit" || bad "cannot make verify root"
	if MANPATH=$vroot$mandir systemd-analyze verify --man=$man \
	    --root="$vroot" "$vunit" >"$tmp/verify.out" 2>&1; then
		echo "ok systemd-analyze verify $unitdir/daneguard.service"
		sed 's/^/    /' "$tmp/verify.out"
	else
		bad "systemd-analyze verify:"
		sed 's/^/    /' "$tmp/verify.out"
	fi
	# It must be able to fail: without the daemon it does.
	rm -f "$vroot$sbindir/daneguard"
	if MANPATH=$vroot$mandir systemd-analyze verify --man=$man \
	    --root="$vroot" "$vunit" >/dev/null 2>&1; then
		bad "systemd-analyze verify passes without $sbindir/daneguard"
	fi
fi

# ------------------------------------- second install over an edited config
conf=$dest$sysconfdir/daneguard/daneguard.conf
echo "# edited by the administrator" >>"$conf"
cp "$conf" "$tmp/edited.conf"
if ! submake install; then
	bad "second make install failed"
else
	cmp -s "$conf" "$tmp/edited.conf" ||
		bad "second install changed the edited daneguard.conf"
	cmp -s "$conf.sample" "$top_srcdir/conf/daneguard.conf" ||
		bad "second install did not put the sample in daneguard.conf.sample"
	grep -q "exists: left untouched" "$tmp/make.out" ||
		bad "second install did not say the config was kept"
fi

# -------------------------------------------------------------- uninstall
if ! submake uninstall; then
	bad "make uninstall failed"
else
	left=$(cd "$dest" && find . \( -type f -o -type l \) | sed 's/^\.//' | sort)
	echo "left after make uninstall:"
	echo "$left" | sed 's/^/    /'
	[ "$left" = "$sysconfdir/daneguard/daneguard.conf" ] ||
		bad "uninstall left other files than the edited daneguard.conf"
	cmp -s "$conf" "$tmp/edited.conf" ||
		bad "uninstall changed the edited daneguard.conf"
fi

# An unchanged config goes with uninstall.
rm -rf "$dest"
if submake install && submake uninstall; then
	left=$(cd "$dest" && find . \( -type f -o -type l \) | wc -l)
	[ "$left" = 0 ] || bad "install+uninstall left $left files"
else
	bad "install/uninstall of a fresh DESTDIR failed"
fi

[ $fail = 0 ] && echo "install.sh: all passed"
exit $fail
