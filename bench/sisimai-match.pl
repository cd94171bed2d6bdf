#!/usr/bin/perl
# bench/sisimai-match.pl: time Sisimai->match (the installed Perl Sisimai) on
# the lines of FILE, ITER times over, for bench/classify.lua. Loading Perl
# and Sisimai is not timed: one warm-up pass, then the timed passes, in CPU
# seconds of this process (Time::HiRes::clock, like Lua's os.clock).
#
#   perl bench/sisimai-match.pl FILE [ITER]
#   -> "lines N iterations I seconds S version V"
use strict;
use warnings;
use Time::HiRes ();
use Sisimai;

my ($file, $iter) = @ARGV;
die "usage: $0 FILE [ITER]\n" unless defined $file;
$iter = 1 unless defined $iter && $iter > 0;
open(my $fh, '<', $file) or die "cannot open $file: $!\n";
my @lines = grep { length } map { s/\r?\n\z//r } <$fh>;
close $fh;

my %seen;
$seen{ Sisimai->match($_) // '' }++ for @lines;    # warm-up, not timed
my $t0 = Time::HiRes::clock();
for (1 .. $iter) {
    Sisimai->match($_) for @lines;
}
my $dt = Time::HiRes::clock() - $t0;
printf "lines %d iterations %d seconds %.6f version %s\n", scalar(@lines), $iter, $dt, Sisimai->version;
