#!/usr/bin/perl
# bench/sisimai-match.pl: time Sisimai->match (the installed Perl Sisimai) on
# the lines of FILE, ITER times over, for bench/classify.lua. Loading Perl
# and Sisimai is not timed: one warm-up pass, then the timed passes, in CPU
# seconds of this process (bench/SisimaiBench.pm).
#
#   perl bench/sisimai-match.pl FILE [ITER]
#   -> "lines N iterations I seconds S version V"
use strict;
use warnings;
use FindBin ();
use lib $FindBin::Bin;
use SisimaiBench qw(file_and_iter lines_of cpu_seconds);
use Sisimai;

my ($file, $iter) = file_and_iter('FILE [ITER]');
my @lines = lines_of($file);

my %seen;
$seen{ Sisimai->match($_) // '' }++ for @lines;    # warm-up, not timed
my $dt = cpu_seconds($iter, sub { Sisimai->match($_[0]) }, \@lines);
printf "lines %d iterations %d seconds %.6f version %s\n", scalar(@lines), $iter, $dt, Sisimai->version;
