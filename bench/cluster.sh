#!/usr/bin/env bash
# Thin volumes on the cluster stores (RADOS and S3 through radosgw) next to the raw store's own
# throughput, measured in the same run on the same throw-away cluster (a benchmark: it prints
# figures and judges nothing about speed; it exits non-zero only when something failed):
#
#   bench/cluster.sh [--build DIR] [--seconds N] [--reps N] [--stores "rados s3"]
#                    [--seq-depth N] [--rand-depth N] [--volume-size SIZE] [--warm-up SIZE]
#                    [--keep]
#
#   --build DIR        itd, itd_load, itd_store_bench and itd_sync_latency from DIR
#                      (default build/release; build it first)
#   --seconds N        length of each measured workload (default 10)
#   --reps N           repeat everything N times; the table shows medians (default 1)
#   --stores LIST      which stores (default "rados s3")
#   --seq-depth N      commands in flight for the 1 MiB workloads, and threads of the raw
#                      store loop (default 8, which is also itd's upload pool: 8 PUTs at once)
#   --rand-depth N     commands in flight for the 4 KiB workloads (default 16)
#   --volume-size S    the thin volume's size (default 1G, 4x itd's 256M page cache)
#   --warm-up SIZE     before measuring, PUT this much in 256 KiB objects to RADOS and remove
#                      it again, unmeasured (default 6G; 0: none); see "Warm-up" below
#   --keep             keep the work directory (logs) under /tmp
#
# Services it starts, on 127.0.0.1 only, and stops by their PIDs at exit: etcd (one member,
# clients on 26790, peer 26800) for the volumes' metadata, and a single-node Ceph cluster with
# scripts/cluster/ceph.sh (monitor 36950, OSD from 36960, radosgw 37650; a memstore OSD,
# capped at 8 GiB). itd listens on 127.0.0.1:0 (a port the kernel picks). Everything runs at
# nice 10 (the script renices itself; the daemons inherit it).
#
# Per store and repetition, one thin volume (thin:rados://itd/VOL or thin:s3://itd/VOL with
# meta=etcd://..., 256 KiB pages, cache=256M, both itd's defaults), driven by itd_load (libiscsi
# async, one session):
#   seq write   1 MiB sequential writes, --seq-depth in flight, for --seconds; then one
#               SYNCHRONIZE CACHE (itd_sync_latency with 0 dirty pages: it times the sync of
#               what the load left dirty). itd_load sends no SYNCHRONIZE CACHE itself, so the
#               figures count the wall time from the start of the load to the end of that sync
#               (itd_load's login and logout included): the data really reached the store.
#               If the writes did not cover the whole volume, the rest is written (qemu-io,
#               unmeasured), so that the reads below never read unmapped pages (zeros from
#               memory, no store access).
#   seq read    itd is restarted first (its page cache starts empty), then 1 MiB sequential
#               reads, --seq-depth in flight. The volume is 4x the cache and the cache evicts
#               least recently used first, so a sequential pass, which wraps around the
#               volume, never hits the cache: every byte comes from the store.
#   rand write  4 KiB random writes over the whole volume, --rand-depth in flight, then a
#               SYNCHRONIZE CACHE as above. Every page is in the store by then, so a write to a
#               page not cached fetches it first (read-modify-write), as on a used disk.
#   rand read   itd restarted again (cold cache), 4 KiB random reads, --rand-depth in flight;
#               the cache fills as it goes (at most 1/4 of the volume fits).
# Between itd runs, `itd volume gc --grace 0` sweeps the objects overwritten pages left (the
# memstore OSD keeps everything in memory); at the end the volume is deleted and swept.
#
# The raw store, next to the thin volume on it: 256 KiB objects (the page size), PUT for
# --seconds (at most 1 GiB), then GET each back once, --seq-depth threads each with one call
# in flight: bench/store/itd_store_bench for RADOS (itd's own RadosObjectStore), and
# bench/s3_store_bench.py for S3 (a Python client signing as itd does; see its header). The
# thin/raw column divides the thin volume's sequential MiB/s by the raw PUT (writes) and GET
# (reads) MiB/s. Note that itd fetches with at most 8 GETs in flight (ThinOptions
# fetch_threads) whatever the depth, and the raw GET loop with --seq-depth; and that the raw
# PUT loops stop at 3 GiB (RADOS) or 1 GiB (S3), so on a fast store they run for less than
# --seconds. A short burst of PUTs goes faster than a sustained stream (the OSD's queues absorb
# it): a RADOS PUT loop of 1 GiB took 1.6 s at ~650 MB/s, while the same loop right after a
# thin volume's 10 s write ran at the thin volume's commit rate (both ~100 MB/s then, with
# fuzzers on the other core), so compare sustained figures. Odd repetitions
# run the thin volume first, even ones the raw loop.
#
# Warm-up: on this kind of machine (a VM) memory a process touches for the first time is dear:
# a perf profile of the memstore OSD during a thin volume's sequential write showed over half
# of its CPU time in page faults (clear_page 29 %, the paravirtual fault path 25 %), and PUTs
# ran at 80-180 MB/s while the OSD grew into new memory, and at 400-600 MB/s on memory it had
# used and freed before (its allocator keeps it). Whichever workload first took the OSD past
# its high-water mark looked slow, so thin/raw ratios swung from 43 % to 76 % between
# repetitions of one run. The warm-up takes the OSD to --warm-up once (the memstore holds at
# most 8 GiB), so that both sides then run on memory it has touched.
#
# Output: the table (medians over --reps), then each repetition's figures and notes; the logs
# stay in the work directory with --keep. A default run takes about 4 minutes on a 2-core
# machine (the warm-up about 1 of them; each further repetition about 3 more).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build/release"
seconds=10
reps=1
stores="rados s3"
seq_depth=8
rand_depth=16
vsize=1G
warm=6G
keep=0
usage() { sed -n '2,/^set -euo/{/^set -euo/!p}' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=${2:?}; shift 2 ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    --reps) reps=${2:?}; shift 2 ;;
    --stores) stores=${2:?}; shift 2 ;;
    --seq-depth) seq_depth=${2:?}; shift 2 ;;
    --rand-depth) rand_depth=${2:?}; shift 2 ;;
    --volume-size) vsize=${2:?}; shift 2 ;;
    --warm-up) warm=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/cluster.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for v in "$seconds" "$reps" "$seq_depth" "$rand_depth"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "bench/cluster.sh: '$v' is not a positive integer" >&2; exit 2; }
done
for s in $stores; do
    [[ "$s" =~ ^(rados|s3)$ ]] || { echo "bench/cluster.sh: unknown store '$s' (rados, s3)" >&2; exit 2; }
done
vbytes=$(numfmt --from=iec "$vsize")
warm_bytes=$(numfmt --from=iec "$warm")

build=$(cd "$build" && pwd)
itd="$build/src/daemon/itd"
load="$build/bench/load/itd_load"
store_bench="$build/bench/store/itd_store_bench"
sync_latency="$build/tests/integration/itd_sync_latency"
s3_bench="$here/s3_store_bench.py"
for f in "$itd" "$load" "$store_bench" "$sync_latency"; do
    [ -x "$f" ] || { echo "bench/cluster.sh: $f missing (cmake --preset release && ninja -C build/release)" >&2; exit 2; }
done
for c in qemu-io rados etcd python3; do
    command -v "$c" >/dev/null || { echo "bench/cluster.sh: needs $c (scripts/cluster/ceph.sh install, scripts/cluster/install-etcd.sh, qemu-utils)" >&2; exit 2; }
done

# shellcheck source=../tests/integration/lib.sh
source "$root/tests/integration/lib.sh"
ceph_sh="$root/scripts/cluster/ceph.sh"
etcd_sh="$root/scripts/cluster/etcd.sh"
work=$(mktemp -d /tmp/itd-bench-cluster.XXXXXX)
ceph_started=0 etcd_started=0
cleanup() {
    kill_started_itds
    [ "$ceph_started" = 0 ] || timeout -k 5 60 "$ceph_sh" stop "$work/ceph" >/dev/null 2>&1 || true
    [ "$etcd_started" = 0 ] || timeout -k 5 30 "$etcd_sh" stop "$work/etcd" >/dev/null 2>&1 || true
    if [ "$keep" = 1 ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
renice -n 10 -p $$ >/dev/null
began=$(date +%s)
failures=0
note() { echo "$*" >>"$work/notes"; }
fail() { echo "bench/cluster.sh: $*" >&2; note "FAILED: $*"; failures=$((failures + 1)); }
now() { date +%s.%N; }

# ---- services -----------------------------------------------------------------------------
etcd_started=1
timeout -k 5 60 "$etcd_sh" start "$work/etcd" --members 1 --base-port 26790 >"$work/etcd-start.log" 2>&1 ||
    { cat "$work/etcd-start.log" >&2; exit 1; }
meta=etcd://127.0.0.1:26790
ceph_started=1
timeout -k 5 180 "$ceph_sh" start "$work/ceph" --mon-port 36950 --rgw-port 37650 --osd-ports 36960 \
    --memstore-gib 8 --nice 0 >"$work/ceph-start.log" 2>&1 || { cat "$work/ceph-start.log" >&2; exit 1; }
eval "$("$ceph_sh" env "$work/ceph")"
services_s=$(($(date +%s) - began))

target=iqn.2026-12.org.itd:bench
store_of() {  # STORE -> the store part of a thin spec / volume CLI argument (without VOLUME)
    case $1 in
    rados) echo "rados://$ITD_RADOS_POOL" ;;
    s3) echo "s3://$ITD_S3_BUCKET" ;;
    esac
}
opts_of() {  # STORE -> its options (after the volume)
    case $1 in
    rados) echo "ceph-conf=$CEPH_CONF,meta=$meta" ;;
    s3) echo "endpoint=$ITD_S3_ENDPOINT,meta=$meta" ;;
    esac
}

# ---- itd ----------------------------------------------------------------------------------
itd_up() {  # STORE VOL LOG: serve thin:STORE/VOL on a kernel-picked port (sets PORT, ITD_PID)
    ITD_READY_SECONDS=60 launch_itd "$3" "ready: target" --listen 127.0.0.1:0 --target-name "$target" \
        "thin:$(store_of "$1")/$2,$(opts_of "$1"),size=$vsize" >"$3.start" 2>&1 ||
        { cat "$3.start" >&2; fail "itd did not start ($1 $2; log $3)"; return 1; }
}
itd_down() {  # LOG: SIGTERM (itd commits what is dirty), exit 0 within 15 s
    local n
    stop_itd "$1" >"$1.stop" 2>&1 || { cat "$1.stop" >&2; fail "itd did not stop cleanly ($1)"; return 1; }
    n=$(grep -ciE '\b(error|warn(ing)?)\b' "$1" || true)
    [ "$n" = 0 ] || note "  $(basename "$1"): $n error/warning lines, e.g. $(grep -iE '\b(error|warn(ing)?)\b' "$1" | head -1)"
}
volume_cli() {  # ARGS...: itd volume ARGS, output to the log
    echo "+ itd volume $*" >>"$work/volume.log"
    timeout -k 5 300 "$itd" volume "$@" >>"$work/volume.log" 2>&1 ||
        { tail -5 "$work/volume.log" >&2; fail "itd volume $1 failed (see $work/volume.log)"; return 1; }
}
gc() {  # STORE: sweep every unreferenced object (no itd serves a volume now)
    volume_cli gc "$(store_of "$1"),$(opts_of "$1")" --grace 0 || return 1
    note "  $(tail -1 "$work/volume.log")"
}
url() { echo "iscsi://127.0.0.1:$PORT/$target/0"; }

# itd_load RW BS DEPTH: sets L_IOS L_SECS L_IOPS L_MIBPS L_P99 (microseconds) from its summary.
run_load() {
    local out
    if ! out=$(timeout -k 5 $((seconds + 90)) "$load" --rw "$1" --bs "$2" --depth "$3" \
        --seconds "$seconds" --timeout 60 "$(url)" 2>"$work/load.err"); then
        cat "$work/load.err" >&2
        echo "$out" | tail -3 >&2
        fail "itd_load --rw $1 --bs $2 failed"
        return 1
    fi
    echo "$out" | tail -1 >>"$work/load.log"
    read -r L_IOS L_SECS L_IOPS L_MIBPS L_P99 < <(echo "$out" | tail -1 | tr ' ' '\n' | awk -F= '
        { v[$1] = $2 } END { print v["ios"], v["seconds"], v["iops"], v["mibps"], v["p99_us"] }')
}

# One SYNCHRONIZE CACHE of what is dirty: sets S_MS to the first of itd_sync_latency's three
# syncs (its max: the other two find almost nothing dirty) and S_OTHER_MS to the other two's sum.
run_sync() {
    local out
    if ! out=$(ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=0 \
        timeout -k 5 600 "$sync_latency" 262144 0 2>&1); then
        echo "$out" >&2
        fail "SYNCHRONIZE CACHE failed"
        return 1
    fi
    echo "$out" >>"$work/load.log"
    read -r S_MS S_OTHER_MS < <(echo "$out" |
        sed -nE 's/.*median ([0-9.]+) ms \(min ([0-9.]+), max ([0-9.]+)\).*/\3 \1 \2/p' |
        awk '{ printf "%s %.1f\n", $1, $2 + $3 }')
}

# Results: R[STORE|WORKLOAD|FIELD] holds one value per repetition, space-separated.
declare -A R=()
add() { R[$1|$2|$3]+=" $4"; }
mib() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1048576 }'; }

write_phase() {  # STORE WORKLOAD RW BS DEPTH: load, then sync; figures over the whole span
    local t0 t1 span bytes
    t0=$(now)
    run_load "$3" "$4" "$5" || return 1
    run_sync || return 1
    t1=$(now)
    span=$(awk -v a="$t0" -v b="$t1" -v o="$S_OTHER_MS" 'BEGIN { printf "%.3f", b - a - o / 1000 }')
    bytes=$((L_IOS * $(numfmt --from=iec "$4")))
    add "$1" "$2" mibps "$(mib "$bytes" "$span")"
    add "$1" "$2" iops "$(awk -v n="$L_IOS" -v s="$span" 'BEGIN { printf "%.0f", n / s }')"
    add "$1" "$2" p99 "$(awk -v u="$L_P99" 'BEGIN { printf "%.1f", u / 1000 }')"
    add "$1" "$2" sync "$S_MS"
    note "  $2: $L_IOS writes in $L_SECS s (the load alone: $L_IOPS IOPS, $L_MIBPS MiB/s), then SYNCHRONIZE CACHE $S_MS ms; $span s in all"
    WRITTEN=$bytes
}
read_phase() {  # STORE WORKLOAD RW BS DEPTH
    run_load "$3" "$4" "$5" || return 1
    add "$1" "$2" mibps "$(awk -v v="$L_MIBPS" 'BEGIN { printf "%.1f", v }')"
    add "$1" "$2" iops "$(awk -v v="$L_IOPS" 'BEGIN { printf "%.0f", v }')"
    add "$1" "$2" p99 "$(awk -v u="$L_P99" 'BEGIN { printf "%.1f", u / 1000 }')"
    note "  $2: $L_IOS reads in $L_SECS s"
}

# Writes [FROM, volume size) with qemu-io in 64 MiB pieces, then flushes (unmeasured).
fill_rest() {
    local from=$1 cmds=() off len
    for ((off = from; off < vbytes; off += 64 << 20)); do
        len=$((vbytes - off < 64 << 20 ? vbytes - off : 64 << 20))
        cmds+=(-c "write -q -P 0xa5 $off $len")
    done
    cmds+=(-c flush)
    timeout -k 5 600 qemu-io -f raw "${cmds[@]}" "$(url)" >>"$work/fill.log" 2>&1 ||
        { tail -5 "$work/fill.log" >&2; fail "qemu-io fill failed"; return 1; }
}

thin_store() {  # STORE REP
    local s=$1 r=$2 vol=bench$2 log="$work/itd-$1-$2"
    note "thin:$(store_of "$s")/$vol, rep $r:"
    itd_up "$s" "$vol" "$log-1.log" || return 1
    WRITTEN=0
    write_phase "$s" "seq write" write 1M "$seq_depth" || { itd_down "$log-1.log"; return 1; }
    if [ "$WRITTEN" -lt "$vbytes" ]; then
        note "  the sequential writes covered $((WRITTEN >> 20)) MiB of $((vbytes >> 20)); qemu-io wrote the rest"
        fill_rest "$WRITTEN" || { itd_down "$log-1.log"; return 1; }
    fi
    itd_down "$log-1.log" || return 1
    gc "$s" || return 1

    itd_up "$s" "$vol" "$log-2.log" || return 1
    read_phase "$s" "seq read" read 1M "$seq_depth" || { itd_down "$log-2.log"; return 1; }
    write_phase "$s" "rand write" randwrite 4K "$rand_depth" || { itd_down "$log-2.log"; return 1; }
    itd_down "$log-2.log" || return 1
    gc "$s" || return 1

    itd_up "$s" "$vol" "$log-3.log" || return 1
    read_phase "$s" "rand read" randread 4K "$rand_depth" || { itd_down "$log-3.log"; return 1; }
    itd_down "$log-3.log" || return 1
    volume_cli delete "$(store_of "$s")/$vol,$(opts_of "$s")" || return 1
    gc "$s"
}

raw_store() {  # STORE: PUT and GET loops of 256 KiB objects -> R[STORE|raw put|...], R[..|raw get|..]
    local s=$1 out line
    if [ "$s" = rados ]; then
        out=$(timeout -k 5 $((seconds * 8 + 120)) "$store_bench" --pool "$ITD_RADOS_POOL" \
            --ceph-conf "$CEPH_CONF" --size 262144 --threads "$seq_depth" --seconds "$seconds" \
            --max-bytes $((3 << 30)) 2>&1) ||
            { echo "$out" >&2; fail "itd_store_bench failed"; return 1; }
    else
        out=$(timeout -k 5 $((seconds * 8 + 120)) python3 "$s3_bench" "$ITD_S3_BUCKET" \
            --size 262144 --threads "$seq_depth" --seconds "$seconds" 2>&1) ||
            { echo "$out" >&2; fail "s3_store_bench.py failed"; return 1; }
    fi
    note "raw $s:"
    while read -r line; do note "  $line"; done <<<"$out"
    for phase in put get; do
        line=$(echo "$out" | grep "^$phase ")
        add "$s" "raw $phase" iops "$(echo "$line" | sed -nE 's/.* ([0-9.]+) ops\/s.*/\1/p' | awk '{ printf "%.0f", $1 }')"
        add "$s" "raw $phase" mibps "$(echo "$line" | sed -nE 's/.* ([0-9.]+) ops\/s.*/\1/p' |
            awk '{ printf "%.1f", $1 * 262144 / 1048576 }')"
        add "$s" "raw $phase" p99 "$(echo "$line" | sed -nE 's/.* p99 ([0-9.]+).*/\1/p')"
    done
}

# ---- the run ------------------------------------------------------------------------------
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
echo "bench/cluster.sh: itd $(git -C "${src:-$root}" rev-parse --short HEAD 2>/dev/null || echo '?') ($build), $reps rep(s) of $seconds s workloads;" \
    "volume $vsize (256 KiB pages, cache 256M); 1 MiB at QD$seq_depth, 4 KiB at QD$rand_depth;" \
    "raw loops: 256 KiB objects, $seq_depth threads (services up in ${services_s} s)"
if [ "$warm_bytes" -gt 0 ]; then
    echo "warm-up: $warm of 256 KiB PUTs to RADOS, then removed ..." >&2
    if out=$(timeout -k 5 900 "$store_bench" --pool "$ITD_RADOS_POOL" --ceph-conf "$CEPH_CONF" \
        --size 262144 --threads "$seq_depth" --seconds 600 --max-bytes "$warm_bytes" 2>&1); then
        note "warm-up (unmeasured): $(echo "$out" | grep '^put ')"
    else
        echo "$out" >&2
        fail "warm-up failed"
    fi
fi
for ((r = 1; r <= reps; r++)); do
    for s in $stores; do
        # Odd repetitions measure the thin volume first, even ones the raw store (the shared
        # machine's load drifts).
        order=(thin raw)
        [ $((r % 2)) = 1 ] || order=(raw thin)
        for side in "${order[@]}"; do
            echo "rep $r: $side $s ..." >&2
            if [ "$side" = thin ]; then thin_store "$s" "$r" || true; else raw_store "$s" || true; fi
        done
    done
done

median() { tr ' ' '\n' | awk NF | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
m() { echo "${R[$1|$2|$3]:-}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.0f %%", 100 * a / b; else print "" }'; }

echo
printf '%-6s %-26s %9s %9s %9s %10s %9s\n' store workload MiB/s IOPS "p99 ms" "sync ms" thin/raw
for s in $stores; do
    for w in "seq write" "seq read" "rand write" "rand read" "raw put" "raw get"; do
        case $w in
        "seq write") label="thin seq write 1M QD$seq_depth"; rt=$(ratio "$(m "$s" "$w" mibps)" "$(m "$s" "raw put" mibps)") ;;
        "seq read") label="thin seq read 1M QD$seq_depth"; rt=$(ratio "$(m "$s" "$w" mibps)" "$(m "$s" "raw get" mibps)") ;;
        "rand write") label="thin rand write 4K QD$rand_depth"; rt="" ;;
        "rand read") label="thin rand read 4K QD$rand_depth"; rt="" ;;
        "raw put") label="raw PUT 256K x$seq_depth"; rt="" ;;
        "raw get") label="raw GET 256K x$seq_depth"; rt="" ;;
        esac
        sy=$(m "$s" "$w" sync)
        [ "$sy" != "-" ] || sy=""
        printf '%-6s %-26s %9s %9s %9s %10s %9s\n' "$s" "$label" "$(m "$s" "$w" mibps)" \
            "$(m "$s" "$w" iops)" "$(m "$s" "$w" p99)" "$sy" "$rt"
    done
done
echo "(writes: MiB/s and IOPS over the load plus its final SYNCHRONIZE CACHE; p99: itd_load's"
echo " per-command latency, or the raw loop's per-call latency; medians of $reps rep(s))"
echo
echo "details:"
cat "$work/notes"
echo "run time: $(($(date +%s) - began)) s"
[ "$failures" = 0 ]
