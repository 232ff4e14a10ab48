#!/usr/bin/env bash
# itd next to the two userspace iSCSI targets Debian ships, SCSI TGT (tgtd) and istgt, in one
# run (a benchmark: it prints figures, judges nothing):
#   sudo bench/compare.sh [--build DIR] [--reps N] [--seconds S] [--only REGEX] [--out FILE]
# DIR defaults to build/release (build it first: cmake --preset release && ninja -C build/release).
# Needs root (tgtd and istgt want it) and installs tgt, istgt and iperf3 when missing.
#
# Each target serves one 1 GiB LUN with 512-byte blocks: itd a memory LUN (memory:1G), tgtd
# and istgt a file of the same size in /dev/shm. All three are filled with the same random
# data first. Every workload runs on each target in turn, and the whole list is repeated
# --reps times (default 3), so the three targets share the machine's noise; the table shows
# medians, the spread (min-max) over the repetitions, and the itd/tgtd and itd/istgt ratios.
#
# Clients: itd_load (ours, libiscsi's async API: IOPS, MiB/s and latency percentiles),
# iscsi-perf (libiscsi-bin), qemu-img bench (qemu-utils), and itd_digest_load (ours, raw TCP
# on itd's own codec) for 1 MiB transfers with both CRC32C digests on and off; the table says
# what share of its digest-off throughput itd keeps with them on. Per target and workload it also
# reads the target's CPU time from /proc (CPU seconds per GiB moved) and, at the end, its peak
# RSS (VmHWM). Before the targets it measures the loopback TCP limit with iperf3 (one stream,
# 1 MiB writes).
# Raw results go to --out (default /tmp/itd-bench-results.tsv).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build/release"
reps=3
seconds=5
only=""
out=""
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/!p}' "$0"; exit 0 ;;
    *) echo "bench/compare.sh: unknown argument '$1' (see --help)"; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
itd="$build/src/daemon/itd"
load="$build/bench/load/itd_load"
digest_load="$build/bench/load/itd_digest_load"
for f in "$itd" "$load" "$digest_load"; do
    [ -x "$f" ] || { echo "bench/compare.sh: $f missing (cmake --preset release && ninja -C build/release)"; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench/compare.sh: tgtd and istgt need root; run it with sudo"; exit 2; }

need=()
for p in tgt istgt iperf3 libiscsi-bin qemu-utils qemu-block-extra; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "bench/compare.sh: installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
work=$(mktemp -d /tmp/itd-bench.XXXXXX)
shm=$(mktemp -d /dev/shm/itd-bench.XXXXXX)
[ -n "$out" ] || out=/tmp/itd-bench-results.tsv
tgt_pid="" tgt_ctl="" istgt_pid="" iperf_pid=""
cleanup() {
    kill_started_itds
    if [ -n "$tgt_pid" ]; then
        # tgtd ignores SIGTERM while it serves a target: delete the target, then the system.
        timeout 10 tgtadm -C "$tgt_ctl" --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1 || true
        timeout 10 tgtadm -C "$tgt_ctl" --lld iscsi --op delete --mode system >/dev/null 2>&1 || true
        stop_pid "$tgt_pid" 10 >/dev/null 2>&1 || true
        rm -f "/var/run/tgtd/socket.$tgt_ctl" "/var/run/tgtd/socket.$tgt_ctl.lock"
    fi
    [ -z "$istgt_pid" ] || stop_pid "$istgt_pid" 10 >/dev/null 2>&1 || true
    [ -z "$iperf_pid" ] || stop_pid "$iperf_pid" 5 >/dev/null 2>&1 || true
    rm -rf "$shm"
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {  # a port nothing listens on (tgtd and istgt cannot take port 0)
    local p i
    for i in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return 0; }
    done
    return 1
}
wait_listen() {  # PID PORT: until PORT listens (at most 10 s) or PID dies
    local i
    for i in $(seq 1 100); do
        kill -0 "$1" 2>/dev/null || return 1
        ss -ltn "sport = :$2" | grep -q LISTEN && return 0
        sleep 0.1
    done
    return 1
}

size=1G
iqn_itd=iqn.2026-12.org.itd:bench
iqn_peer=iqn.2026-12.org.itd:disk1

# --- the loopback TCP limit -------------------------------------------------------------------
iperf_port=$(free_port)
iperf3 -s -1 -B 127.0.0.1 -p "$iperf_port" >"$work/iperf-server.log" 2>&1 &
iperf_pid=$!
wait_listen "$iperf_pid" "$iperf_port" || { echo "iperf3 did not start"; exit 1; }
# 1 MiB writes, the size of the largest workload's transfers (iperf3's default 128 KiB writes
# measure under half of what the stream carries here).
loopback_mibps=$(timeout 60 iperf3 -c 127.0.0.1 -p "$iperf_port" -t "$seconds" -l 1M -f m 2>&1 |
    awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") v = $i } END { printf "%.0f", v * 1e6 / 8 / 1048576 }')
wait "$iperf_pid" 2>/dev/null || true
iperf_pid=""
echo "loopback TCP, one stream (iperf3 -l 1M -t $seconds): $loopback_mibps MiB/s"

# --- the targets -------------------------------------------------------------------------------
head -c "$size" /dev/urandom >"$shm/fill.img"
cp "$shm/fill.img" "$shm/tgt.img"
cp "$shm/fill.img" "$shm/istgt.img"

ITD_READY_SECONDS=30 launch_itd "$work/itd.log" "ready: target" --listen 127.0.0.1:0 \
    --target-name "$iqn_itd" "memory:$size" >/dev/null
itd_pid=$ITD_PID
itd_url="iscsi://127.0.0.1:$PORT/$iqn_itd/0"
timeout 300 qemu-img convert -n -f raw -O raw -t none "$shm/fill.img" "$itd_url"

for _ in $(seq 1 20); do
    tgt_port=$(free_port)
    tgt_ctl=$((1000 + RANDOM % 30000))
    tgtd -f -C "$tgt_ctl" --iscsi portal=127.0.0.1:$tgt_port >"$work/tgtd.log" 2>&1 &
    tgt_pid=$!
    if wait_listen "$tgt_pid" "$tgt_port"; then
        for _ in $(seq 1 50); do
            tgtadm -C "$tgt_ctl" --lld iscsi --op show --mode sys >/dev/null 2>&1 && break
            sleep 0.1
        done
        break
    fi
    stop_pid "$tgt_pid" 5 >/dev/null 2>&1 || true
    rm -f "/var/run/tgtd/socket.$tgt_ctl" "/var/run/tgtd/socket.$tgt_ctl.lock"
    tgt_pid=""
done
[ -n "$tgt_pid" ] || { echo "tgtd did not start:"; cat "$work/tgtd.log"; exit 1; }
tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode target --tid 1 -T "$iqn_peer"
tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$shm/tgt.img"
tgtadm -C "$tgt_ctl" --lld iscsi --op bind --mode target --tid 1 -I ALL
# itd's negotiation defaults (tgtd's own are 8 KiB segments, 64 KiB first burst, 256 KiB
# bursts, digests None only), so that all three targets offer the same.
for kv in MaxRecvDataSegmentLength=262144 FirstBurstLength=262144 MaxBurstLength=1048576 \
    HeaderDigest=None,CRC32C DataDigest=None,CRC32C; do
    tgtadm -C "$tgt_ctl" --lld iscsi --op update --mode target --tid 1 -n "${kv%%=*}" -v "${kv#*=}"
done
tgt_url="iscsi://127.0.0.1:$tgt_port/$iqn_peer/1"

istgt_port=$(free_port)
echo '[AuthGroup1]' >"$work/istgt-auth.conf"
# The negotiation limits are itd's defaults (MaxRecvDataSegmentLength 256 KiB, FirstBurst
# 256 KiB, MaxBurst 1 MiB, ImmediateData Yes, digests offered), so all three targets offer
# the same.
cat >"$work/istgt.conf" <<EOF
[Global]
  NodeBase "iqn.2026-12.org.itd"
  PidFile $work/istgt.pid
  AuthFile $work/istgt-auth.conf
  MediaDirectory $work
  Timeout 30
  NopInInterval 0
  DiscoveryAuthMethod None
  MaxSessions 64
  MaxConnections 4
  MaxR2T 32
  MaxOutstandingR2T 16
  FirstBurstLength 262144
  MaxBurstLength 1048576
  MaxRecvDataSegmentLength 262144
  InitialR2T Yes
  ImmediateData Yes
  ErrorRecoveryLevel 0
[UnitControl]
  AuthMethod None
[PortalGroup1]
  Portal DA1 127.0.0.1:$istgt_port
[InitiatorGroup1]
  InitiatorName "ALL"
  Netmask 127.0.0.1
[LogicalUnit1]
  TargetName disk1
  Mapping PortalGroup1 InitiatorGroup1
  AuthMethod None
  UseDigest Auto
  UnitType Disk
  QueueDepth 128
  LUN0 Storage $shm/istgt.img Auto
EOF
istgt -c "$work/istgt.conf" -D -q >"$work/istgt.log" 2>&1 &
istgt_pid=$!
wait_listen "$istgt_pid" "$istgt_port" || { echo "istgt did not start:"; cat "$work/istgt.log"; exit 1; }
istgt_url="iscsi://127.0.0.1:$istgt_port/$iqn_peer/0"
rm -f "$shm/fill.img"

declare -A url=([itd]=$itd_url [tgtd]=$tgt_url [istgt]=$istgt_url)
declare -A pid=([itd]=$itd_pid [tgtd]=$tgt_pid [istgt]=$istgt_pid)
targets=(itd tgtd istgt)
echo "itd $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?') (PID $itd_pid) $itd_url"
echo "tgtd $(dpkg-query -W -f='${Version}' tgt) (PID $tgt_pid) $tgt_url"
echo "istgt $(dpkg-query -W -f='${Version}' istgt) (PID $istgt_pid) $istgt_url"

# --- the workloads -----------------------------------------------------------------------------
# NAME|CLIENT|ARGS: CLIENT is load (itd_load), perf (iscsi-perf), qbench (qemu-img bench) or
# digest (itd_digest_load: our raw-TCP initiator, for CRC32C header and data digests, which
# libiscsi cannot send).
workloads=(
    "4K randread QD1|load|--rw randread --bs 4K --depth 1"
    "4K randread QD32|load|--rw randread --bs 4K --depth 32"
    "4K randread QD128|load|--rw randread --bs 4K --depth 128"
    "4K randwrite QD1|load|--rw randwrite --bs 4K --depth 1"
    "4K randwrite QD32|load|--rw randwrite --bs 4K --depth 32"
    "4K randwrite QD128|load|--rw randwrite --bs 4K --depth 128"
    "64K randrw 70/30 QD32|load|--rw randrw --read-percent 70 --bs 64K --depth 32"
    "1M seq read QD8|load|--rw read --bs 1M --depth 8"
    "1M seq write QD8|load|--rw write --bs 1M --depth 8"
    "4K randread 4 sessions x QD16|load|--rw randread --bs 4K --depth 16 --sessions 4 --threads 2"
    "4K randread 16 sessions x QD8|load|--rw randread --bs 4K --depth 8 --sessions 16 --threads 2"
    "4K randwrite 16 sessions x QD8|load|--rw randwrite --bs 4K --depth 8 --sessions 16 --threads 2"
    "4K randread QD32 (iscsi-perf)|perf|-r -m 32 -b 8"
    "1M seq read QD8 (iscsi-perf)|perf|-m 8 -b 2048"
    "4K write QD32 (qemu-img bench)|qbench|-d 32 -s 4K"
    "1M seq write QD8 (qemu-img bench)|qbench|-d 8 -s 1M"
    "1M seq read QD8, digests off (raw)|digest|--digests none --rw read --bs 1M --depth 8"
    "1M seq read QD8, both digests (raw)|digest|--digests both --rw read --bs 1M --depth 8"
    "1M seq write QD8, digests off (raw)|digest|--digests none --rw write --bs 1M --depth 8"
    "1M seq write QD8, both digests (raw)|digest|--digests both --rw write --bs 1M --depth 8"
)

cpu_ticks() {  # PID -> utime + stime of the whole process, in clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

run_one() {  # TARGET CLIENT ARGS -> "iops mibps p50 p99 p999 active_seconds"
    local t=$1 client=$2 args=$3 line
    case $client in
    load)
        # shellcheck disable=SC2086
        line=$(timeout $((seconds + 60)) "$load" $args --seconds "$seconds" --ramp 1 "${url[$t]}" 2>"$work/load.err" | tail -1) ||
            { echo "itd_load failed on $t ($args):" >&2; cat "$work/load.err" >&2; echo "0 0 0 0 0 0"; return; }
        # Active for the ramp (1 s) and the measured seconds.
        sed -E "s/.* iops=([0-9.]+) mibps=([0-9.]+) p50_us=([0-9.]+) p99_us=([0-9.]+) p999_us=([0-9.]+).*/\\1 \\2 \\3 \\4 \\5 $((seconds + 1))/" <<<"$line"
        ;;
    digest)
        # iscsi://HOST:PORT/IQN/LUN -> HOST:PORT IQN LUN
        local hostport iqn lun
        IFS=/ read -r _ _ hostport iqn lun <<<"${url[$t]}"
        # shellcheck disable=SC2086
        line=$(timeout $((seconds + 60)) "$digest_load" $args --seconds "$seconds" --ramp 1 \
            "$hostport" "$iqn" "$lun" 2>"$work/load.err" | tail -1) ||
            { echo "itd_digest_load failed on $t ($args):" >&2; cat "$work/load.err" >&2; echo "0 0 - - - 0"; return; }
        sed -E "s/.* iops=([0-9.]+) mibps=([0-9.]+).*/\\1 \\2 - - - $((seconds + 1))/" <<<"$line"
        ;;
    perf)
        # shellcheck disable=SC2086
        timeout $((seconds + 60)) iscsi-perf $args -t "$seconds" "${url[$t]}" 2>&1 | tr '\r' '\n' |
            sed -nE 's/^ *iops average ([0-9]+) \(([0-9]+) MB\/s\).*/\1 \2/p' | tail -1 |
            awk -v s="$seconds" '{ printf "%s %.1f - - - %s\n", $1, $2 * 1e6 / 1048576, s }'
        ;;
    qbench)
        # A count that takes about --seconds on a fast target: 4K ~50k IOPS, 1M ~1 GiB/s.
        local bs count secs
        bs=$(sed -E 's/.*-s ([0-9]+[KM]).*/\1/' <<<"$args")
        count=$([ "$bs" = 4K ] && echo $((50000 * seconds)) || echo $((1000 * seconds)))
        # shellcheck disable=SC2086
        secs=$(timeout $((seconds * 10 + 60)) qemu-img bench -f raw -w -t none $args -c "$count" "${url[$t]}" 2>&1 |
            sed -nE 's/Run completed in ([0-9.]+) seconds./\1/p')
        awk -v s="${secs:-0}" -v n="$count" -v b="$(numfmt --from=iec "$bs")" \
            'BEGIN { if (s > 0) printf "%.0f %.1f - - - %s\n", n / s, n * b / s / 1048576, s; else print "0 0 - - - 0" }'
        ;;
    esac
}

printf 'rep\tworkload\ttarget\tiops\tmibps\tp50_us\tp99_us\tp999_us\tcpu_s_per_gib\n' >"$out"
total=0
for w in "${workloads[@]}"; do [[ -z "$only" || "${w%%|*}" =~ $only ]] && total=$((total + 1)); done
echo "running $total workloads x ${#targets[@]} targets x $reps repetitions, $seconds s each"
for rep in $(seq 1 "$reps"); do
    for w in "${workloads[@]}"; do
        IFS='|' read -r name client args <<<"$w"
        [[ -z "$only" || "$name" =~ $only ]] || continue
        for t in "${targets[@]}"; do
            kill -0 "${pid[$t]}" 2>/dev/null || { echo "$t (PID ${pid[$t]}) is gone"; exit 1; }
            before=$(cpu_ticks "${pid[$t]}")
            read -r iops mibps p50 p99 p999 active <<<"$(run_one "$t" "$client" "$args")"
            after=$(cpu_ticks "${pid[$t]}")
            # CPU seconds per GiB moved: the target's CPU over the whole client run, against
            # the measured rate times the time the client kept it busy (ramp included; login
            # and logout are not counted as time, and cost the target little CPU).
            cpu=$(awk -v b="$before" -v a="$after" -v hz="$(getconf CLK_TCK)" -v m="$mibps" \
                -v s="$active" \
                'BEGIN { gib = m * s / 1024; printf "%.3f", (gib > 0 ? (a - b) / hz / gib : 0) }')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$name" "$t" "$iops" "$mibps" \
                "$p50" "$p99" "$p999" "$cpu" >>"$out"
            printf '  rep %s  %-34s %-6s %9s IOPS %8s MiB/s  p99 %s us\n' "$rep" "$name" "$t" "$iops" "$mibps" "$p99"
        done
    done
done

declare -A rss
for t in "${targets[@]}"; do
    rss[$t]=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/${pid[$t]}/status")
done

echo
echo "=== $(date -u +%Y-%m-%d) $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
echo "=== loopback TCP (iperf3, one stream, 1 MiB writes): $loopback_mibps MiB/s; medians of $reps (min-max)"
perl "$here/compare_table.pl" "$out" "$loopback_mibps"
echo
echo "peak RSS (VmHWM): itd ${rss[itd]} MiB (holds the 1 GiB memory LUN), tgtd ${rss[tgtd]} MiB," \
    "istgt ${rss[istgt]} MiB (their data is in /dev/shm)"
echo "raw results: $out"
