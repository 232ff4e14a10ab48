#!/usr/bin/env bash
# Thin volumes next to a memory LUN, in one itd (a benchmark: it prints figures, judges nothing):
#   bench/thin.sh [BUILD_DIR]        (default build/release; build it first)
# LUN 0: memory:1G.  LUN 1: thin:STORE/vol,size=1G (256 KiB pages), in a store under /tmp (the
# machine's disk).  LUN 2: thin:STORE/sync,size=4G,cache=3G for the SYNCHRONIZE CACHE latency.
# Both data LUNs are filled with 512 MiB of random data first and itd is restarted, so thin
# reads start from the store (cold page cache of itd; the kernel's page cache still holds the
# files). Workloads, 10 s or 1 GiB each:
#   1 MiB sequential read QD8 (iscsi-perf -m 8), 4 KiB random read QD32 (iscsi-perf -r -m 32),
#   1 MiB sequential write QD8 and 4 KiB write QD32 (qemu-img bench -w),
#   SYNCHRONIZE CACHE with 1, 100 and 10,000 dirty 256 KiB pages (itd_sync_latency).
set -euo pipefail

build=$(cd "${1:-build/release}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
itd="$build/src/daemon/itd"
[ -x "$itd" ] || { echo "bench/thin.sh: no itd at $itd (cmake --preset release && ninja -C build/release)"; exit 1; }
work=$(mktemp -d /tmp/itd-bench-thin.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT
target=iqn.2026-12.org.itd:bench
luns=(memory:1G "thin:$work/store/vol,size=1G" "thin:$work/store/sync,size=4G,cache=3G")

start() { start_itd "$work/itd-$1.log" --target-name "$target" "${luns[@]}" >/dev/null; }
url() { echo "iscsi://127.0.0.1:$PORT/$target/$1"; }
perf() {  # LUN ARGS...: iscsi-perf for 10 s -> "IOPS MB/s"
    local lun=$1
    shift
    timeout 60 iscsi-perf "$@" -t 10 "$(url "$lun")" 2>&1 | tr '\r' '\n' |
        sed -nE 's/^ *iops average ([0-9]+) \(([0-9]+) MB\/s\).*/\1 \2/p' | tail -1
}
bench_write() {  # LUN SIZE DEPTH COUNT -> "IOPS MB/s"
    local secs
    secs=$(timeout 300 qemu-img bench -f raw -w -t none -d "$3" -s "$2" -c "$4" "$(url "$1")" 2>&1 |
        sed -nE 's/Run completed in ([0-9.]+) seconds./\1/p')
    local bytes=$(($(numfmt --from=iec "$2") * $4))
    awk -v s="$secs" -v n="$4" -v b="$bytes" 'BEGIN { printf "%d %d\n", n / s, b / s / 1e6 }'
}

start 1
head -c 512M /dev/urandom >"$work/fill.img"
for lun in 0 1; do
    timeout 600 qemu-img convert -n -f raw -O raw -t none "$work/fill.img" "$(url $lun)"
done
stop_itd "$work/itd-1.log"
start 2

printf '%-34s %18s %18s %8s\n' workload "memory LUN" "thin LUN" thin/mem
row() {  # NAME "IOPS MB/s" "IOPS MB/s"
    read -r mi mm <<<"$2"
    read -r ti tm <<<"$3"
    printf '%-34s %9s IOPS %4s MB/s %9s IOPS %4s MB/s %7.2f\n' "$1" "$mi" "$mm" "$ti" "$tm" \
        "$(awk -v a="$ti" -v b="$mi" 'BEGIN { print (b > 0 ? a / b : 0) }')"
}
row "1 MiB sequential read QD8" "$(perf 0 -m 8 -b 2048)" "$(perf 1 -m 8 -b 2048)"
row "4 KiB random read QD32" "$(perf 0 -r -m 32 -b 8)" "$(perf 1 -r -m 32 -b 8)"
row "1 MiB sequential write QD8" "$(bench_write 0 1M 8 1024)" "$(bench_write 1 1M 8 1024)"
row "4 KiB write QD32 (qemu-img bench)" "$(bench_write 0 4K 32 100000)" "$(bench_write 1 4K 32 100000)"
echo
ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=2 \
    timeout 900 "$build/tests/integration/itd_sync_latency" 262144 1 100 10000
stop_itd "$work/itd-2.log"
echo "store: $(find "$work/store/objects" -type f | wc -l) objects, $(du -sh "$work/store" | cut -f1)"
