#!/usr/bin/env bash
# Raw RADOS throughput through itd's RadosObjectStore (itd_store_bench) next to Ceph's own
# `rados bench`, with the same object sizes and thread counts, on the same cluster in the same
# run (a benchmark: it prints figures, judges nothing):
#   bench/rados_store.sh [BUILD_DIR]                 (default build/release; build it first)
# For each object size in BENCH_SIZES ("4096 262144") and thread count in BENCH_THREADS ("1 8"):
#   itd put    N threads put distinct objects for BENCH_SECONDS (5) s (at most 1 GiB)
#   itd get    each thread reads its objects back whole, once, in order
#   rados write / rados seq   `rados bench SECONDS write -b SIZE -t N`, then `seq -t N`
# and the objects are removed before the next step (the test cluster keeps them in memory).
# Each pair runs BENCH_ROUNDS (3) times, itd first in odd rounds and rados first in even ones
# (a shared machine's load drifts); the table shows medians, each round's figures follow it.
# Uses the cluster of CEPH_CONF and ITD_RADOS_POOL when both are set; otherwise starts one with
# scripts/cluster/ceph.sh in a temporary directory (mon 36750, OSD from 36760, radosgw 37450)
# and stops it at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build/release}
bench=$build/bench/store/itd_store_bench
[ -x "$bench" ] || { echo "rados_store.sh: no $bench (ninja -C $build itd_store_bench)" >&2; exit 2; }
sizes=${BENCH_SIZES:-4096 262144}
threads=${BENCH_THREADS:-1 8}
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
cluster=scripts/cluster/ceph.sh
work=$(mktemp -d /tmp/itd-bench-rados.XXXXXX)
started=0

cleanup() {
    if [ "$started" = 1 ]; then "$cluster" stop "$work/ceph" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${CEPH_CONF:-}" ] || [ -z "${ITD_RADOS_POOL:-}" ]; then
    started=1
    timeout -k 5 120 "$cluster" start "$work/ceph" --mon-port 36750 --rgw-port 37450 \
        --osd-ports 36760 >&2
    eval "$("$cluster" env "$work/ceph")"
fi
pool=$ITD_RADOS_POOL

# rados bench's summary -> "OPS/s LAT_MS"
rados_bench() {  # MODE SIZE THREADS RUN_NAME
    local mode=$1 size=$2 t=$3 run=$4 extra=()
    [ "$mode" = write ] && extra=(-b "$size" --no-cleanup)
    timeout -k 5 $((secs * 4 + 60)) rados -c "$CEPH_CONF" -p "$pool" bench "$secs" "$mode" \
        -t "$t" --run-name "$run" "${extra[@]}" 2>&1 | tee -a "$work/rados-bench.log" |
        awk '/^Average IOPS:/ { iops = $3 } /^Average Latency\(s\):/ { lat = $3 * 1000 }
             END { printf "%s %.2f\n", iops, lat }'
}

# itd_store_bench's lines -> "PUT_OPS PUT_LAT GET_OPS GET_LAT"
itd_bench() {  # SIZE THREADS
    timeout -k 5 $((secs * 6 + 120)) "$bench" --pool "$pool" --ceph-conf "$CEPH_CONF" \
        --size "$1" --threads "$2" --seconds "$secs" | tee -a "$work/itd-bench.log" |
        awk '{ for (i = 1; i <= NF; i++) { if ($i == "ops/s,") ops = $(i - 1); if ($i == "avg") lat = $(i + 1) }
               printf "%s %s ", ops, lat } END { print "" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }
mbs() { awk -v o="$1" -v s="$2" 'BEGIN { printf "%.1f", o * s / 1e6 }'; }

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "RADOS pool $pool, $secs s per write phase, median of $rounds rounds;" \
    "ops/s (MB/s) and mean latency in ms"
printf '%-8s %3s | %-24s %-24s %6s | %-24s %-24s %6s\n' size thr "itd put" "rados write" ratio \
    "itd get" "rados seq" ratio
raw=()
for size in $sizes; do
    for t in $threads; do
        declare -A v=()
        for ((r = 1; r <= rounds; r++)); do
            run=itd-bench-$size-$t-$r
            order=(itd rados)
            [ $((r % 2)) = 0 ] && order=(rados itd)
            for side in "${order[@]}"; do
                if [ "$side" = itd ]; then
                    read -r a b c d < <(itd_bench "$size" "$t")
                    v[iput]+=" $a" v[ilput]+=" $b" v[iget]+=" $c" v[ilget]+=" $d"
                    raw+=("  $size x$t round $r: itd put $a ops/s ${b}ms, get $c ops/s ${d}ms")
                else
                    read -r a b < <(rados_bench write "$size" "$t" "$run")
                    read -r c d < <(rados_bench seq "$size" "$t" "$run")
                    timeout -k 5 300 rados -c "$CEPH_CONF" -p "$pool" cleanup --run-name "$run" \
                        >>"$work/rados-bench.log" 2>&1
                    v[rput]+=" $a" v[rlput]+=" $b" v[rget]+=" $c" v[rlget]+=" $d"
                    raw+=("  $size x$t round $r: rados write $a ops/s ${b}ms, seq $c ops/s ${d}ms")
                fi
            done
        done
        declare -A m=()
        for k in "${!v[@]}"; do m[$k]=$(echo "${v[$k]}" | median); done
        printf '%-8s %3s | %-24s %-24s %6s | %-24s %-24s %6s\n' "$size" "$t" \
            "${m[iput]} ($(mbs "${m[iput]}" "$size")) ${m[ilput]}ms" \
            "${m[rput]} ($(mbs "${m[rput]}" "$size")) ${m[rlput]}ms" \
            "$(ratio "${m[iput]}" "${m[rput]}")" \
            "${m[iget]} ($(mbs "${m[iget]}" "$size")) ${m[ilget]}ms" \
            "${m[rget]} ($(mbs "${m[rget]}" "$size")) ${m[rlget]}ms" \
            "$(ratio "${m[iget]}" "${m[rget]}")"
        unset v m
    done
done
echo "each round:"
printf '%s\n' "${raw[@]}"
