#!/usr/bin/perl
# Reads iscsi-test-cu logs (one per LUN configuration) and prints, per suite, passed/failed/
# skipped in each configuration, then the totals per configuration.
#   cu_table.pl NAME=LOG[=EXCLUDE] [NAME=LOG[=EXCLUDE]...]
# A test that printed [SKIPPED] before its result counts as skipped (CUnit itself reports it
# as passed). EXCLUDE is a Perl regular expression over Suite.Test: tests that cannot pass in
# that configuration because of the test itself; they are listed, with their result, and not
# counted. Exits 1 when any counted test failed or a log holds no CUnit summary.
use strict;
use warnings;

my (@configs, %count, %suites, @suite_order, %total, %broken, %excluded);
for my $arg (@ARGV) {
    my ($name, $path, $exclude) = split /=/, $arg, 3;
    push @configs, $name;
    open my $fh, '<', $path or die "cu_table.pl: $path: $!\n";
    local $/;
    my $text = <$fh>;
    close $fh;
    $broken{$name} = 1 if $text !~ /Run Summary/ || $text =~ /^ITD-MATRIX: .*no CUnit summary/m;
    my $suite = '?';
    my @chunks = split /\n  Test: /, $text;
    for my $i (0 .. $#chunks) {
        my $chunk = $chunks[$i];
        if ($i > 0 && $chunk =~ /^(\S+) \.\.\.(.*)/s) {
            my ($test, $body) = ($1, $2);
            if (my ($before, $res) = $body =~ /^(.*?)(?<!\[)\b(passed|FAILED)\b(?!\])/s) {
                my $kind = $res eq 'FAILED' ? 'f' : $before =~ /\[SKIPPED\]/ ? 's' : 'p';
                if (defined $exclude && length $exclude && "$suite.$test" =~ /^(?:$exclude)$/) {
                    push @{ $excluded{$name} }, "$suite.$test ($res)";
                    next;
                }
                $count{$suite}{$name}{$kind}++;
                $total{$name}{$kind}++;
                push @{ $total{$name}{failed} }, "$suite.$test" if $kind eq 'f';
            }
        }
        # A "Suite:" line ends the chunk of the last test of the suite before it.
        while ($chunk =~ /^Suite: (\S+)/mg) {
            $suite = $1;
            push @suite_order, $suite unless $suites{$suite}++;
        }
    }
}

my $w = 8;
for (@configs) { $w = length if length > $w }
printf "%-32s", 'suite (passed/failed/skipped)';
printf " %${w}s", $_ for @configs;
print "\n";
for my $s (@suite_order) {
    printf "%-32s", $s;
    for my $c (@configs) {
        my $n = $count{$s}{$c} // {};
        printf " %${w}s", sprintf('%d/%d/%d', $n->{p} // 0, $n->{f} // 0, $n->{s} // 0);
    }
    print "\n";
}
my $bad = 0;
for my $c (@configs) {
    my $t = $total{$c} // {};
    my ($p, $f, $s) = ($t->{p} // 0, $t->{f} // 0, $t->{s} // 0);
    printf "TOTAL %-${w}s %3d passed, %d failed, %3d skipped (of %d)%s\n", $c, $p, $f, $s,
        $p + $f + $s, $broken{$c} ? ' -- NO CUnit SUMMARY: crashed or timed out' : '';
    print "      failed in $c: $_\n" for @{ $t->{failed} // [] };
    print "      not counted in $c (see conformance-matrix.sh): $_\n" for @{ $excluded{$c} // [] };
    $bad = 1 if $f || $broken{$c} || $p + $f + $s == 0;
}
exit $bad;
