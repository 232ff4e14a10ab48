#!/usr/bin/perl
# The tables of bench/compare.sh from its raw results (one line per repetition, workload and
# target): medians with the spread over the repetitions, itd's ratios to each peer, latency
# percentiles and CPU seconds per GiB moved.
#   perl bench/compare_table.pl RESULTS.tsv [LOOPBACK_MIBPS]
use strict;
use warnings;

my ($file, $loopback) = @ARGV;
die "usage: compare_table.pl RESULTS.tsv [LOOPBACK_MIBPS]\n" unless defined $file;
open(my $in, '<', $file) or die "compare_table.pl: $file: $!\n";
my $header = <$in>;
my (@order, %seen, %v);  # $v{workload}{target}{column} = [values]
my @targets = ('itd', 'tgtd', 'istgt');
while (my $line = <$in>) {
    chomp $line;
    my ($rep, $w, $t, $iops, $mibps, $p50, $p99, $p999, $cpu) = split /\t/, $line;
    push @order, $w unless $seen{$w}++;
    my %row = (iops => $iops, mibps => $mibps, p50 => $p50, p99 => $p99, p999 => $p999,
               cpu => $cpu);
    for my $c (keys %row) {
        push @{ $v{$w}{$t}{$c} }, $row{$c} if defined $row{$c} && $row{$c} =~ /^[0-9.]+$/;
    }
}

sub median {
    my @s = sort { $a <=> $b } @_;
    return undef unless @s;
    return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}
sub med { my ($w, $t, $c) = @_; return median(@{ $v{$w}{$t}{$c} // [] }); }
sub spread {  # "median (min-max)" in the unit's own scale
    my ($w, $t, $c, $scale, $fmt) = @_;
    my @s = sort { $a <=> $b } @{ $v{$w}{$t}{$c} // [] };
    return '-' unless @s;
    my $m = median(@s);
    return sprintf("$fmt ($fmt-$fmt)", $m / $scale, $s[0] / $scale, $s[-1] / $scale);
}
sub ratio {
    my ($a, $b) = @_;
    return '-' unless defined $a && defined $b && $b > 0;
    return sprintf('%.2f', $a / $b);
}
# Large transfers are compared by MiB/s, small ones by IOPS (the same ratio for one size).
sub big { return $_[0] =~ /^(64K|1M)/; }

printf "%-42s %-24s %-24s %-24s %9s %9s\n", 'workload', 'itd', 'tgtd', 'istgt', 'itd/tgtd',
    'itd/istgt';
for my $w (@order) {
    my ($c, $scale, $fmt, $unit) = big($w) ? ('mibps', 1, '%.0f', ' MiB/s') : ('iops', 1000, '%.1f', 'k');
    my @cells = map { spread($w, $_, $c, $scale, $fmt) . (big($w) ? '' : '') } @targets;
    printf "%-42s %-24s %-24s %-24s %9s %9s\n", $w . (big($w) ? ' [MiB/s]' : ' [kIOPS]'), @cells,
        ratio(med($w, 'itd', $c), med($w, 'tgtd', $c)), ratio(med($w, 'itd', $c), med($w, 'istgt', $c));
}

print "\nlatency, microseconds (itd_load rows): p50 / p99 / p99.9, medians\n";
printf "%-42s %-22s %-22s %-22s\n", 'workload', 'itd', 'tgtd', 'istgt';
for my $w (@order) {
    next unless defined med($w, 'itd', 'p99');
    my @cells = map {
        my $t = $_;
        defined med($w, $t, 'p99')
            ? sprintf('%.0f / %.0f / %.0f', med($w, $t, 'p50'), med($w, $t, 'p99'), med($w, $t, 'p999'))
            : '-'
    } @targets;
    printf "%-42s %-22s %-22s %-22s\n", $w, @cells;
}

print "\ntarget CPU seconds per GiB moved, medians\n";
printf "%-42s %8s %8s %8s\n", 'workload', @targets;
my %cpu_sum;
for my $w (@order) {
    my @cells = map { my $m = med($w, $_, 'cpu'); $cpu_sum{$_} += $m // 0; defined $m ? sprintf('%.2f', $m) : '-' } @targets;
    printf "%-42s %8s %8s %8s\n", $w, @cells;
}

# Digests (itd_digest_load rows): the share of its digest-off throughput each target keeps
# with both CRC32C digests on.
for my $dir ('read', 'write') {
    my ($off) = grep { /^1M seq $dir QD8, digests off/ } @order;
    my ($on) = grep { /^1M seq $dir QD8, both digests/ } @order;
    next unless defined $off && defined $on;
    my @cells = map {
        my ($a, $b) = (med($on, $_, 'mibps'), med($off, $_, 'mibps'));
        defined $a && defined $b && $b > 0 ? sprintf('%s %.0f%%', $_, 100 * $a / $b) : "$_ -";
    } @targets;
    printf "\n1M seq $dir QD8 with both digests, share of digest-off MiB/s: %s", join(', ', @cells);
}
print "\n";

if (defined $loopback && $loopback > 0) {
    for my $w (@order) {
        next unless $w =~ /^1M seq read/;
        printf "\n%s: itd %.0f MiB/s = %.0f%% of the loopback TCP limit (%s MiB/s)", $w,
            med($w, 'itd', 'mibps') // 0, 100 * (med($w, 'itd', 'mibps') // 0) / $loopback, $loopback;
    }
    print "\n";
}
