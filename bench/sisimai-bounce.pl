#!/usr/bin/perl
# bench/sisimai-bounce.pl: time the installed Perl Sisimai on whole bounce
# messages, for bench/bounce.lua. Sisimai 5 is asked with rise(), Sisimai 4
# (Debian 12's libsisimai-perl) with make(); each message is passed as a
# string reference, read into memory before timing. One warm-up pass, then
# ITER timed passes, in CPU seconds of this process (bench/SisimaiBench.pm).
#
#   perl bench/sisimai-bounce.pl LISTFILE [ITER]   (LISTFILE: one path a line)
#   -> "messages N iterations I seconds S results R version V"
use strict;
use warnings;
use FindBin ();
use lib $FindBin::Bin;
use SisimaiBench qw(file_and_iter lines_of cpu_seconds);
use Sisimai;

my ($list, $iter) = file_and_iter('LISTFILE [ITER]');
my @paths = lines_of($list);
my @msgs;
for my $p (@paths) {
    open(my $m, '<:raw', $p) or die "cannot open $p: $!\n";
    local $/;
    my $s = <$m>;
    close $m;
    $s =~ s/\r\n?/\n/g;    # Sisimai 4 cannot read CR-only files
    push @msgs, $s;
}
my $v5 = Sisimai->can('rise') ? 1 : 0;
my $read = sub {
    my $s = shift;
    my $r = $v5 ? Sisimai->rise(\$s, 'delivered' => 1) : Sisimai->make(\$s, 'delivered' => 1);
    return $r ? scalar(@$r) : 0;
};
my $results = 0;
$results += $read->($_) for @msgs;    # warm-up, not timed
my $dt = cpu_seconds($iter, $read, \@msgs);
printf "messages %d iterations %d seconds %.6f results %d version %s\n", scalar(@msgs), $iter, $dt,
    $results, Sisimai->version;
