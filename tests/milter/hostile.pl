#!/usr/bin/perl
# hostile.pl - a local peer that speaks broken milter protocol.
#
#	perl hostile.pl SOCKET KIND [COUNT]
#
# SOCKET is a unix socket path. KIND is one of
#   session      a well-formed session (negotiate, macros, connect, helo,
#                mail, quit); exits 0 only if every reply is the one an
#                MTA expects (the milter answers)
#   oddmacro     macro packets with an odd number of strings (one name,
#                no value) before connect: libmilter's smfi_getsymval
#                reads past its list, here into the bytes of an earlier
#                packet, and the milter crashes (daneguard(8), BUGS)
#   truncated    a packet whose length promises more than is sent
#   oversized    a length of 2 GiB, then a few bytes
#   zerolength   a packet of length 0
#   outoforder   end of message, body and recipient before negotiation
#   garbage      4 KiB of pseudo-random bytes
#   idle         open COUNT connections, print "ready", and hold them
#                open, silent, until killed
# COUNT repeats KIND that many times (default 1), one connection each.
# The hostile kinds never fail: the milter may drop them or die; what
# counts is the session that follows.
use strict;
use warnings;
use IO::Socket::UNIX;

my ($path, $kind, $count) = @ARGV;
die "usage: hostile.pl SOCKET KIND [COUNT]\n" unless defined $kind;
$count = 1 unless defined $count;
$SIG{PIPE} = 'IGNORE';
$SIG{ALRM} = sub { die "timeout\n" };

sub connect_milter {
	my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path);
	die "hostile.pl: $path: $!\n" unless $s;
	return $s;
}

sub pkt { my ($cmd, $data) = @_; pack('N', 1 + length $data) . $cmd . $data }

# The reply's command byte, or undef: none within $wait seconds (20 for a
# session; 2 after hostile bytes, which libmilter may simply wait on).
sub reply {
	my ($s, $wait) = @_;
	my ($hdr, $body) = ('', '');
	alarm($wait || 20);
	while (length $hdr < 4) {
		my $n = sysread($s, $hdr, 4 - length $hdr, length $hdr);
		alarm 0, return undef unless $n;
	}
	my $len = unpack('N', $hdr);
	while (length $body < $len) {
		my $n = sysread($s, $body, $len - length $body, length $body);
		alarm 0, return undef unless $n;
	}
	alarm 0;
	return substr($body, 0, 1);
}

# Version 6, no actions, no protocol flags: the milter replies to every
# stage.
my $optneg = pkt('O', pack('NNN', 6, 0, 0));
my $connect = pkt('C', "client.test\0" . '4' . pack('n', 4567) .
    "192.0.2.7\0");

sub session {
	my $s = connect_milter();
	my @steps = (
	    [$optneg, 'O'],
	    [pkt('D', "C{daemon_addr}\0" . "127.0.0.1\0" . "{daemon_port}\0" .
		"25\0"), undef],
	    [$connect, 'c'],
	    [pkt('H', "client.test\0"), 'c'],
	    [pkt('M', "<a\@client.test>\0"), 'a'],
	);
	for my $st (@steps) {
		print $s $st->[0];
		next unless defined $st->[1];
		my $r = reply($s);
		if (!defined $r || $r ne $st->[1]) {
			printf STDERR "hostile.pl: session: got %s, want %s\n",
			    defined $r ? "'$r'" : 'no reply', $st->[1];
			return 1;
		}
	}
	print $s pkt('Q', '');
	close $s;
	return 0;
}

sub hostile {
	my $s = connect_milter();
	$s->autoflush(1);
	if ($kind eq 'oddmacro') {
		print $s $optneg;
		reply($s, 2);
		print $s pkt('D', 'C' . ('A' x $_) . "\0") for 8 .. 64;
		print $s $connect;
		reply($s, 2);
	} elsif ($kind eq 'truncated') {
		print $s $optneg;
		reply($s, 2);
		print $s pack('N', 100) . 'C' . "short\0";
	} elsif ($kind eq 'oversized') {
		print $s pack('N', 0x7fffffff) . 'D' . ('x' x 4096);
		reply($s, 2);
	} elsif ($kind eq 'zerolength') {
		print $s pack('N', 0) . 'C';
		reply($s, 2);
	} elsif ($kind eq 'outoforder') {
		print $s pkt('E', '') . pkt('B', 'body') . pkt('R', "<r\@b>\0") .
		    pkt('M', "<a\@b>\0") . pkt('D', "M{tls_version}\0");
		reply($s, 2);
	} elsif ($kind eq 'garbage') {
		my $junk = '';
		my $x = 12345;
		for (1 .. 4096) {
			$x = ($x * 1103515245 + 12345) & 0x7fffffff;
			$junk .= chr(($x >> 16) & 0xff);
		}
		print $s $junk;
		reply($s, 2);
	} else {
		die "hostile.pl: unknown kind $kind\n";
	}
	close $s;
	return 0;
}

if ($kind eq 'session') {
	exit session();
}
if ($kind eq 'idle') {
	my @held = map { connect_milter() } 1 .. $count;
	$| = 1;
	print "ready\n";
	sleep 3600 while 1;
}
for (1 .. $count) {
	eval { hostile(); };
}
exit 0;
