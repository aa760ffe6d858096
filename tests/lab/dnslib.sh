# tests/lab/dnslib.sh - signed zones and NSD instances for the lab tests.
# Sourced after tests/lab/lib.sh (uses $LAB_TMP, $LAB_NETNS, lab_ns,
# lab_kill_pid, lab_at_exit, lab_fail). Needs the Debian packages nsd and
# ldnsutils.
#
# Zones are signed at test time: a committed signed zone expires silently
# within weeks. Keys are ECDSA P-256 (RSA keygen costs ~0.8 s each).

LAB_NSD_NAMES=

# lab_dns_init CMD:PACKAGE... - a DNS guard test's start: lab_guard_init
# with NSD and ldnsutils (keygen, signzone, drill) required too.
lab_dns_init()
{
	lab_guard_init nsd:nsd ldns-keygen:ldnsutils \
	    ldns-signzone:ldnsutils drill:ldnsutils timeout:coreutils "$@"
}

# lab_dns_sign ZONE IN OUT - sign the zone file IN (origin ZONE) into OUT,
# valid from an hour ago for 30 days (G9 is quiet: beyond the SOA EXPIRE
# of 7 days the lab zones have). ZONE's keys are made on first use in
# $LAB_TMP/keys/ZONE/ and kept, so every version of the zone (stale, new,
# tampered) validates against one trust anchor: the KSK's DS in
# $LAB_TMP/keys/ZONE/anchor.ds.
lab_dns_sign()
{
	lab_kd=$LAB_TMP/keys/$1
	if [ ! -s "$lab_kd/anchor.ds" ]; then
		mkdir -p "$lab_kd" || lab_fail "cannot make $lab_kd"
		(
			cd "$lab_kd" || exit 1
			ksk=$(ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom \
			    "$1") &&
			zsk=$(ldns-keygen -a ECDSAP256SHA256 -r /dev/urandom \
			    "$1") &&
			echo "$ksk" > ksk && echo "$zsk" > zsk &&
			cp "$ksk.ds" anchor.ds
		) || lab_fail "cannot make keys for $1 (ldns-keygen)"
	fi
	lab_now=$(date +%s)
	ldns-signzone -o "$1" -i $((lab_now - 3600)) \
	    -e $((lab_now + 30 * 86400)) -f "$3" "$2" \
	    "$lab_kd/$(cat "$lab_kd/ksk")" "$lab_kd/$(cat "$lab_kd/zsk")" ||
	    lab_fail "cannot sign $2 for $1 (ldns-signzone)"
}

# lab_dns_tamper IN OUT TEXT - OUT is the signed zone IN with one hex digit
# of the first TLSA record containing TEXT changed, so its signature no
# longer verifies.
lab_dns_tamper()
{
	awk -v rec="$3" '
		!done && $4 == "TLSA" && index($0, rec) {
			i = index($0, rec) + length(rec) - 1
			c = substr($0, i, 1)
			$0 = substr($0, 1, i - 1) (c == "0" ? "1" : "0") \
			    substr($0, i + 1)
			done = 1
		}
		{ print }
		END { if (!done) exit 1 }' "$1" > "$2" ||
	    lab_fail "no TLSA record containing '$3' in $1 to tamper with"
	cmp -s "$1" "$2" && lab_fail "tampering with $1 changed nothing"
	return 0
}

# lab_zone SERIAL - print the head of example.test as the guard labs
# serve it: SOA (refresh 3600, retry 900, expire 604800, minimum 300),
# NS ns1 at 127.0.0.2, mx1 at 127.0.0.1. The test prints its own records
# after it.
lab_zone()
{
	cat <<EOF
\$ORIGIN example.test.
\$TTL 3600
@	IN SOA ns1 hostmaster $1 3600 900 604800 300
	IN NS ns1
ns1	IN A 127.0.0.2
mx1	IN A 127.0.0.1
EOF
}

# lab_rdata DIR - the 3 1 1 records (lab_oracle_311) a deployment of
# the test keys publishes: DIR/rdata for the RSA and ECDSA chains and
# their next keys, DIR/rdata.wrong the same with the RSA chain's record
# replaced by rsa-other's (another key). The RSA chain's record is left
# in $lab_rsa_rec.
lab_rdata()
{
	for lab_f in rsa-chain.pem rsa-next.key ecdsa-chain.pem \
	    ecdsa-next.key; do
		lab_oracle_311 "$CERTDIR/$lab_f" || exit 1
	done > "$1/rdata"
	lab_rsa_rec=$(lab_oracle_311 "$CERTDIR/rsa-chain.pem") || exit 1
	lab_other=$(lab_oracle_311 "$CERTDIR/rsa-other-chain.pem") || exit 1
	{
		grep -vF "$lab_rsa_rec" "$1/rdata"
		echo "$lab_other"
	} > "$1/rdata.wrong"
}

# lab_nsd_start NAME "ZONE=FILE ..." ADDR... - an NSD instance NAME serving
# the zones on ADDR@53 (each address) in $LAB_NETNS; returns once it
# answers SOA of the first zone on the first address. Its PID is in
# $LAB_NSD_PID_NAME; it is stopped at cleanup.
lab_nsd_start()
{
	lab_n=$1 lab_zones=$2
	shift 2
	lab_nd=$LAB_TMP/nsd-$lab_n
	mkdir -p "$lab_nd"
	{
		echo "server:"
		for lab_a in "$@"; do echo "	ip-address: $lab_a@53"; done
		cat <<EOF
	username: ""
	chroot: ""
	database: ""
	zonelistfile: "$lab_nd/zone.list"
	xfrdfile: "$lab_nd/xfrd.state"
	pidfile: "$lab_nd/nsd.pid"
	logfile: "$lab_nd/nsd.log"
	verbosity: 1
remote-control:
	control-enable: no
EOF
		for lab_z in $lab_zones; do
			printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
			    "${lab_z%%=*}" "${lab_z#*=}"
		done
	} > "$lab_nd/nsd.conf"
	# ip and setsid exec, so $! is NSD's own PID (lab_ns is a function:
	# its $! would be a subshell's).
	ip netns exec "$LAB_NETNS" setsid nsd -d -c "$lab_nd/nsd.conf" \
	    >"$lab_nd/nsd.out" 2>&1 &
	eval "LAB_NSD_PID_$lab_n=$!"
	case " $LAB_NSD_NAMES " in
	*" $lab_n "*)	;;
	*)		LAB_NSD_NAMES="$LAB_NSD_NAMES $lab_n" ;;
	esac
	lab_nsd_wait "$lab_n" "${lab_zones%%=*}" "$1"
}

# lab_nsd_wait NAME ZONE ADDR - wait up to 5 s for NSD NAME to answer SOA
# of ZONE on ADDR.
lab_nsd_wait()
{
	lab_tries=50
	while ! lab_ns drill -Q @"$3" SOA "$2" >/dev/null 2>&1; do
		lab_tries=$((lab_tries - 1))
		if [ $lab_tries -le 0 ]; then
			cat "$LAB_TMP/nsd-$1/nsd.out" \
			    "$LAB_TMP/nsd-$1/nsd.log" >&2 2>/dev/null
			lab_fail "NSD $1 does not answer SOA $2 on $3"
		fi
		sleep 0.1
	done
}

# lab_nsd_reload NAME ZONE ADDR - make NSD NAME reread its zone files
# (SIGHUP) and wait until ADDR answers with ZONE's new SOA serial (bump the
# serial in the new version of the zone).
lab_nsd_reload()
{
	lab_old=$(lab_ns drill -Q @"$3" SOA "$2" 2>/dev/null | awk '{print $3}')
	eval "kill -HUP \$LAB_NSD_PID_$1" || lab_fail "NSD $1 is not running"
	lab_tries=50
	while :; do
		lab_new=$(lab_ns drill -Q @"$3" SOA "$2" 2>/dev/null |
		    awk '{print $3}')
		[ -n "$lab_new" ] && [ "$lab_new" != "$lab_old" ] && return 0
		lab_tries=$((lab_tries - 1))
		[ $lab_tries -le 0 ] &&
		    lab_fail "NSD $1 still serves $2 serial $lab_old after SIGHUP"
		sleep 0.1
	done
}

# lab_nsd_stop NAME - stop NSD NAME by its PID.
lab_nsd_stop()
{
	eval "lab_kill_pid \"\$LAB_NSD_PID_$1\""
}

lab_at_exit 'for lab_nn in $LAB_NSD_NAMES; do lab_nsd_stop $lab_nn; done'

# lab_ubconf ANCHOR ZONE ADDR... - print a libunbound (unbound.conf-style)
# configuration: a stub (not a forwarder: NSD does not recurse) for ZONE at
# each ADDR@53, ANCHOR as the only trust anchor (none when ANCHOR is
# empty: the guard's trust_anchor_file gives it); test. is a built-in
# NXDOMAIN zone in unbound unless made transparent. Further zones: append
# lab_ubstub.
lab_ubconf()
{
	cat <<EOF
server:
	do-not-query-localhost: no
	local-zone: "$2." transparent
	val-log-level: 2
EOF
	[ -z "$1" ] || echo "	trust-anchor-file: \"$1\""
	shift
	lab_ubstub "$@"
}

# lab_ubstub ZONE ADDR... - print a stub-zone clause: ZONE at each ADDR@53.
lab_ubstub()
{
	printf 'stub-zone:\n\tname: "%s."\n' "$1"
	shift
	for lab_a in "$@"; do echo "	stub-addr: $lab_a@53"; done
}

# lab_dg_dns ANCHOR UBCONF - print a daneguard.conf dns section: ANCHOR
# the trust anchor file, UBCONF the libunbound configuration.
lab_dg_dns()
{
	cat <<EOF
dns {
  trust_anchor_file = "$1"
  resolver_config   = "$2"
}
EOF
}

# ------------------------------------------------------------ two nameservers

# lab_twons_zone SERIAL MX_ADDR RECORD... - print example.test as the
# two-nameserver labs (gate-lab.sh, sync-lab.sh) publish it: NS ns1 (A
# 127.0.0.1) and ns2 (AAAA ::1), mx A MX_ADDR, each RECORD a TLSA record
# at _25._tcp.mx. Sign it with lab_dns_sign.
lab_twons_zone()
{
	lab_serial=$1 lab_mx=$2
	shift 2
	printf '$ORIGIN example.test.\n$TTL 3600\n'
	printf '@\tIN SOA ns1 hostmaster %s 3600 900 604800 300\n' \
	    "$lab_serial"
	printf '\tIN NS ns1\n\tIN NS ns2\n'
	printf 'ns1\tIN A 127.0.0.1\nns2\tIN AAAA ::1\nmx\tIN A %s\n' \
	    "$lab_mx"
	for lab_r in "$@"; do echo "_25._tcp.mx IN TLSA $lab_r"; done
}

# lab_twons_start NS1_FILE NS2_FILE ANCHOR - the lab's namespace (made
# here), NSD ns1 on 127.0.0.1 serving a copy of the signed zone file
# NS1_FILE and ns2 on ::1 a copy of NS2_FILE: $LAB_TMP/ns1.zone and
# ns2.zone, which a test replaces and then calls lab_nsd_reload. A
# libunbound configuration for both, ANCHOR the trust anchor, in
# $LAB_TMP/ub.conf.
lab_twons_start()
{
	lab_netns_create
	cp "$1" "$LAB_TMP/ns1.zone" && cp "$2" "$LAB_TMP/ns2.zone" ||
	    lab_fail "cannot copy $1 and $2 to $LAB_TMP"
	lab_nsd_start ns1 "example.test=$LAB_TMP/ns1.zone" 127.0.0.1
	lab_nsd_start ns2 "example.test=$LAB_TMP/ns2.zone" ::1
	lab_ubconf "$3" example.test 127.0.0.1 ::1 > "$LAB_TMP/ub.conf"
}

# ------------------------------------------------------------ the reference

# The reference DANE client: Postfix's posttls-finger through a validating
# unbound daemon. lab_finger_available is true when both are installed.
LAB_UB_PID=
lab_finger_available()
{
	command -v unbound >/dev/null 2>&1 &&
	    command -v posttls-finger >/dev/null 2>&1
}

# lab_unbound_start ANCHOR ZONE ADDR... - a validating unbound on
# 127.0.0.1:53 in $LAB_NETNS: a stub for ZONE at each ADDR@53, ANCHOR as
# its trust anchor, nothing kept in its cache (each scenario sees the zone
# NSD serves now). Also writes posttls-finger's main.cf (DNSSEC through
# it) and resolv.conf for lab_finger. Once per test: a second call
# returns at once. Stopped at cleanup.
lab_unbound_start()
{
	[ -n "$LAB_UB_PID" ] && return 0
	lab_ud=$LAB_TMP/unbound
	mkdir -p "$lab_ud" "$LAB_TMP/ptf" || lab_fail "mkdir $lab_ud"
	cat > "$lab_ud/unbound.conf" <<EOF
server:
	interface: 127.0.0.1
	port: 53
	username: ""
	chroot: ""
	directory: "$lab_ud"
	pidfile: "$lab_ud/unbound.pid"
	use-syslog: no
	logfile: "$lab_ud/unbound.log"
	verbosity: 1
	val-log-level: 2
	do-not-query-localhost: no
	local-zone: "test." nodefault
	trust-anchor-file: "$1"
	access-control: 127.0.0.0/8 allow
	cache-max-ttl: 0
	cache-max-negative-ttl: 0
	val-bogus-ttl: 0
remote-control:
	control-enable: no
stub-zone:
	name: "$2."
EOF
	lab_uz=$2
	shift 2
	for lab_a in "$@"; do
		echo "	stub-addr: $lab_a@53" >> "$lab_ud/unbound.conf"
	done
	ip netns exec "$LAB_NETNS" setsid unbound -d -c "$lab_ud/unbound.conf" \
	    >"$lab_ud/unbound.out" 2>&1 &
	LAB_UB_PID=$!
	lab_tries=0
	until lab_ns drill -Q @127.0.0.1 SOA "$lab_uz" >/dev/null 2>&1; do
		lab_tries=$((lab_tries + 1))
		if [ $lab_tries -gt 50 ]; then
			cat "$lab_ud/unbound.out" "$lab_ud/unbound.log" >&2 \
			    2>/dev/null
			lab_fail "unbound does not answer on 127.0.0.1:53"
		fi
		sleep 0.1
	done
	cat > "$LAB_TMP/ptf/main.cf" <<EOF
compatibility_level = 3.6
smtp_dns_support_level = dnssec
dnssec_probe = ns:$lab_uz
inet_protocols = all
EOF
	# trust-ad: glibc passes the resolver's AD bit on only when told to.
	printf 'nameserver 127.0.0.1\noptions trust-ad\n' \
	    > "$LAB_TMP/ptf/resolv.conf"
}
lab_at_exit '[ -n "$LAB_UB_PID" ] && lab_kill_pid $LAB_UB_PID'

# lab_finger OUT DEST [OPTION...] - "posttls-finger -c -l dane OPTION...
# DEST" in $LAB_NETNS through lab_unbound_start's resolver (its
# resolv.conf bound over /etc/resolv.conf for posttls-finger only, in a
# mount namespace of its own); output in OUT.
lab_finger()
{
	lab_fo=$1 lab_fd=$2
	shift 2
	lab_ns unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf &&
	    conf=$2 dest=$3 && shift 3 &&
	    MAIL_CONFIG=$conf exec timeout 60 posttls-finger -c -l dane \
	    "$@" "$dest"' sh "$LAB_TMP/ptf/resolv.conf" "$LAB_TMP/ptf" \
	    "$lab_fd" "$@" >"$lab_fo" 2>&1
}
