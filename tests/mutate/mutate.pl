#!/usr/bin/perl
# tests/mutate/mutate.pl - "make mutate": do the tests catch the bugs they
# claim to catch? Each mutation in tests/mutate/mutations is a deliberate
# bug; it is applied alone to a copy of the source tree, the copy is
# rebuilt, the tests the mutation names are run, and the bug must make
# them fail ("killed"). A mutation the tests pass with "survived": a gap
# in the suite.
#
#	perl tests/mutate/mutate.pl [-k] [-n] [-w WORKDIR] SRCDIR [NAME...]
#	  -n  only check that every mutation still applies (no build)
#	  -k  keep going: run every mutation even after an error
#	  -w  the copy's directory (default tests/tmp/mutate)
#	  NAME  run only these mutations
#
# A mutation names its file and the exact text it changes ("from"), never
# a line number, so others may edit the same files: the text must occur
# exactly once in the file. A mutation whose text is gone or ambiguous is
# reported as an ERROR (fix the list), never skipped. One that does not
# build is an ERROR too.
#
# Before any mutation, the tests of all the selected mutations run on
# the unmutated copy: if one fails there, the run stops (a "kill" would
# then prove nothing). A killed mutation is shown with the first failure
# its tests logged, and their logs are kept in WORKDIR/log/NAME/: read
# them to see the bug, not something else, made the tests fail.
#
# Exit: 0 every mutation killed, 1 one survived or errored, 2 usage.
# The tests run with DANEGUARD_TEST_STRICT=1 (a skip fails, as in CI);
# the lab tests need root (network namespaces), as in make check.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use File::Copy qw(copy);
use Cwd qw(abs_path getcwd);

my ($check_only, $keep_going, $work) = (0, 0, 'tests/tmp/mutate');
while (@ARGV && $ARGV[0] =~ /^-/) {
	my $o = shift @ARGV;
	if ($o eq '-n') { $check_only = 1 }
	elsif ($o eq '-k') { $keep_going = 1 }
	elsif ($o eq '-w') { $work = shift @ARGV // usage() }
	else { usage() }
}
my $src = shift @ARGV // usage();
my %only = map { $_ => 1 } @ARGV;
$src = abs_path($src);
my $list = "$src/tests/mutate/mutations";

sub usage {
	print STDERR "usage: mutate.pl [-k] [-n] [-w WORKDIR] SRCDIR [NAME...]\n";
	exit 2;
}

sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or return undef;
	local $/;
	my $s = <$fh>;
	close($fh);
	return $s;
}

# ------------------------------------------------------------ the list
# "mutation NAME" starts one; then "why TEXT", "file PATH", "from TEXT",
# "to TEXT" (pairs, each for the last "file"), "tests TEST...". TEXT is
# taken verbatim after the keyword and its blanks.
my (@muts, $m);
open(my $lf, '<', $list) or die "mutate: $list: $!\n";
while (my $line = <$lf>) {
	chomp $line;
	next if $line =~ /^\s*(#|$)/;
	my ($kw, $text) = $line =~ /^(\w+)\s+(.*)$/
	    or die "mutate: $list:$.: not \"KEYWORD TEXT\"\n";
	if ($kw eq 'mutation') {
		$m = { name => $text, line => $., edits => [], tests => [] };
		push @muts, $m;
		next;
	}
	die "mutate: $list:$.: \"$kw\" before any \"mutation\"\n" unless $m;
	if ($kw eq 'why') { $m->{why} = $text }
	elsif ($kw eq 'file') { $m->{file} = $text }
	elsif ($kw eq 'from') {
		die "mutate: $list:$.: \"from\" before \"file\"\n"
		    unless $m->{file};
		push @{$m->{edits}}, [$m->{file}, $text, undef];
	} elsif ($kw eq 'to') {
		my $e = $m->{edits}[-1];
		die "mutate: $list:$.: \"to\" without \"from\"\n"
		    unless $e && !defined $e->[2];
		$e->[2] = $text;
	} elsif ($kw eq 'tests') { push @{$m->{tests}}, split(' ', $text) }
	else { die "mutate: $list:$.: unknown keyword \"$kw\"\n" }
}
close($lf);
for my $x (@muts) {
	my $where = "$list:$x->{line}: mutation $x->{name}";
	die "$where: no from/to\n" unless @{$x->{edits}};
	die "$where: a \"from\" without its \"to\"\n"
	    if grep { !defined $_->[2] } @{$x->{edits}};
	die "$where: no tests\n" unless @{$x->{tests}};
	die "$where: no why\n" unless $x->{why};
}
my @unknown = grep { my $n = $_; !grep { $_->{name} eq $n } @muts } keys %only;
die "mutate: no mutation named @unknown in $list\n" if @unknown;
@muts = grep { $only{$_->{name}} } @muts if %only;

# apply(ROOT, MUTATION) - change the files under ROOT; returns "" or why
# the mutation no longer applies. Nothing is written unless all apply.
sub apply {
	my ($root, $x, $write) = @_;
	my %text;
	for my $e (@{$x->{edits}}) {
		my ($file, $from, $to) = @$e;
		$text{$file} //= slurp("$root/$file");
		return "$file: cannot read" unless defined $text{$file};
		my $n = () = $text{$file} =~ /\Q$from\E/g;
		return "$file: \"$from\" not found (the source changed: "
		    . "update the mutation)" if $n == 0;
		return "$file: \"$from\" occurs $n times (make it unique)"
		    if $n > 1;
		$text{$file} =~ s/\Q$from\E/$to/;
	}
	return "" unless $write;
	for my $file (keys %text) {
		open(my $fh, '>', "$root/$file") or return "$file: $!";
		print $fh $text{$file};
		close($fh) or return "$file: $!";
	}
	return "";
}

my $errors = 0;
for my $x (@muts) {
	my $why = apply($src, $x, 0);
	next if $why eq '';
	print "ERROR  $x->{name}: $why\n";
	$errors++;
}
if ($check_only) {
	printf "%d mutations, %d do not apply\n", scalar @muts, $errors;
	exit($errors ? 1 : 0);
}
exit 1 if $errors && !$keep_going;

# ------------------------------------------------------------ the copy
# A copy of the distributed files (make distdir), built once; each
# mutation rebuilds only what it touched.
$work = abs_path('.') . "/$work" unless $work =~ m{^/};
my $tree = "$work/tree";
my $log = "$work/log";
remove_tree($work);
make_path($log);
sub run {
	my ($cmd, $out) = @_;
	return system("($cmd) >'$out' 2>&1") == 0;
}
print "mutate: copying and building the tree in $tree\n";
run("make -s distdir distdir='$tree'", "$log/distdir.log")
    or die "mutate: make distdir failed (see $log/distdir.log)\n";
run("cd '$tree' && ./configure -q && make -j2", "$log/build.log")
    or die "mutate: the unmutated copy does not build (see $log/build.log)\n";

# The tests run as CI runs them: a skip is a failure. sendmail is taken
# from this build's cache when it has one (no second download).
my $smcache = abs_path('.') . '/tests/tmp/sendmail';
my $cache = -f "$smcache/.complete" ? "SENDMAIL_CACHE='$smcache'" : '';
sub check {
	my ($tests, $out) = @_;
	return run("cd '$tree' && DANEGUARD_TEST_STRICT=1 $cache"
	    . " make -j2 check TESTS='@$tests'", $out);
}

# A kill proves something only if the same tests pass unmutated.
my %seen;
my @all = grep { !$seen{$_}++ } map { @{$_->{tests}} } @muts;
print "mutate: the tests of every mutation, unmutated\n";
check(\@all, "$log/unmutated.log")
    or die "mutate: tests fail without any mutation (see $log/unmutated.log"
    . " and their logs under $tree/tests): fix them first\n";

# failed(MUTATION, CHECKLOG) - keep the logs of the mutation's tests in
# $log/NAME/ and say which failed, with the first failure each logged.
sub failed {
	my ($x, $out) = @_;
	my $dir = "$log/$x->{name}";
	my @why;
	make_path($dir);
	my %fail = map { $_ => 1 } (slurp($out) // '') =~ /^(?:FAIL|ERROR): (\S+)/mg;
	for my $t (@{$x->{tests}}) {
		(my $copy = $t) =~ s{/}{_}g;
		copy("$tree/$t.log", "$dir/$copy.log");
		next unless $fail{$t};
		push @why, "$t: " . first_failure(slurp("$tree/$t.log"));
	}
	return @why ? join("\n         ", @why) : "(no test named FAIL: see $out)";
}

# The first line of a test log that says what failed: a "FAIL" line of a
# script (lib.sh's lab_result), else an ERROR or cmocka's "error:";
# not a line of output the log quotes ("    | ...").
sub first_failure {
	my @lines = grep { !/^(?:FAIL|ERROR) \S+ \(exit status/ && !/^\s*\|/ }
	    split(/\n/, $_[0] // '');
	my ($first) = grep { /\bFAIL\b/ } @lines;
	($first) = grep { /\bERROR\b|error:/ } @lines unless defined $first;
	return '(no failure line: see the log)' unless defined $first;
	$first =~ s/^\s+//;
	return substr($first, 0, 160);
}

my ($killed, $survived) = (0, 0);
my @rows;
for my $x (@muts) {
	next if apply($src, $x, 0) ne '';
	my %files = map { $_->[0] => 1 } @{$x->{edits}};
	my $mlog = "$log/$x->{name}.log";
	my $why = apply($tree, $x, 1);
	my $verdict;
	if ($why ne '') {
		$verdict = "ERROR";
		$errors++;
	} elsif (!run("cd '$tree' && make -j2", $mlog)) {
		$verdict = "ERROR";
		$why = "does not build (see $mlog)";
		$errors++;
	} elsif (!check($x->{tests}, "$mlog.check")) {
		$verdict = "killed";
		$why = "by " . failed($x, "$mlog.check");
		$killed++;
	} else {
		$verdict = "SURVIVED";
		$why = "the tests pass with this bug (see $mlog.check)";
		$survived++;
	}
	# Restore: the pristine file from the source tree (a new mtime, so
	# the next build recompiles it).
	for my $f (keys %files) {
		copy("$src/$f", "$tree/$f") or die "mutate: restore $f: $!\n";
	}
	my $line = sprintf "%-8s %-28s %s", $verdict, $x->{name}, $x->{why};
	$line .= "\n         $why" if $why ne '';
	print "$line\n";
	push @rows, $line;
	last if $verdict eq 'ERROR' && !$keep_going;
}
my $n = $killed + $survived;
printf "mutate: %d of %d mutations killed (%d%%), %d survived, %d errors\n",
    $killed, $n, $n ? int(100 * $killed / $n + 0.5) : 0, $survived, $errors;
exit(($survived || $errors) ? 1 : 0);
