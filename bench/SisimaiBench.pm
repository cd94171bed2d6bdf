package SisimaiBench;
# What bench/sisimai-match.pl and bench/sisimai-bounce.pl share: their
# arguments (FILE [ITER]), reading a file's non-empty lines, and timing
# ITER passes of the installed Sisimai in CPU seconds of this process
# (Time::HiRes::clock, like Lua's os.clock). Loading Perl and Sisimai is
# never timed; the caller makes one untimed warm-up pass first.
use strict;
use warnings;
use Time::HiRes ();
use Exporter 'import';
our @EXPORT_OK = qw(file_and_iter lines_of cpu_seconds);

# file_and_iter(USAGE): (FILE, ITER) from @ARGV, ITER 1 when missing or not
# positive; dies with "usage: SCRIPT USAGE" without FILE.
sub file_and_iter {
    my ($usage) = @_;
    my ($file, $iter) = @ARGV;
    die "usage: $0 $usage\n" unless defined $file;
    $iter = 1 unless defined $iter && $iter > 0;
    return ($file, $iter);
}

# lines_of(FILE): its lines without line ends, empty ones left out.
sub lines_of {
    my ($file) = @_;
    open(my $fh, '<', $file) or die "cannot open $file: $!\n";
    my @lines = grep { length } map { s/\r?\n\z//r } <$fh>;
    close $fh;
    return @lines;
}

# cpu_seconds(ITER, CODE, ITEMS): CPU seconds of ITER passes of CODE over
# every item of the array ref ITEMS.
sub cpu_seconds {
    my ($iter, $code, $items) = @_;
    my $t0 = Time::HiRes::clock();
    for (1 .. $iter) {
        $code->($_) for @$items;
    }
    return Time::HiRes::clock() - $t0;
}

1;
