#!/usr/bin/env bash
# Thin volumes on cluster stores, end to end: a real single-node Ceph (RADOS and radosgw) and a
# real three-member etcd, started in a temporary directory by scripts/cluster/, and itd driven
# by real iSCSI clients (itd_durability, libiscsi). Each volume has an etcd lease of 4 s.
#   1. failover (RADOS): node A serves, node B waits for the lease; data synced via A; kill -9
#      A; B takes over within lease-ttl + 6 s (the takeover time is printed) and reads A's data.
#   2. fencing (RADOS): A serves, B waits; SIGSTOP A past the lease; B takes over and writes
#      its own data; SIGCONT A: a write through a new session to A must fail and must not reach
#      the store: B reads its data, and so does a node that opens the volume after A and B have
#      stopped.
#   3. radosgw stopped for 8 s in the middle of two write streams (two S3 volumes) with a
#      SYNCHRONIZE CACHE every MiB: each stream goes on or fails within a bound (the stall is
#      printed); once the gateway is back the same process takes a new write; after kill -9 and
#      a restart every block of the last acknowledged SYNCHRONIZE CACHE reads back.
#   4. the etcd leader killed (RADOS, meta= all three members): writes synced before, and after
#      a little more than the lease's TTL, succeed (the keep-alive goes to another member) and
#      read back, also after a restart.
#
#   tests/cluster/thin_failover.sh [BUILD_DIR]      (default build/release)
#
# Ports (127.0.0.1): etcd clients 24790-24792 and peers 24800-24802; Ceph mon 38750, OSD 38760
# and up, radosgw 39450; itd on ports the kernel picks. THIN_FAILOVER_KEEP=1 keeps the
# directory (logs). Every wait is bounded; a run takes about a minute. Ends with
# "N passed, M failed". Services and every itd are stopped by their own PIDs on exit.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$repo/build/release}" && pwd)
# shellcheck source=../integration/lib.sh source-path=SCRIPTDIR
source "$repo/tests/integration/lib.sh"
itd="$build/src/daemon/itd"
client="$build/tests/integration/itd_durability"
for f in "$itd" "$client"; do
    [ -x "$f" ] || { echo "thin_failover.sh: no $f (build it first)" >&2; exit 2; }
done
ceph_sh=$repo/scripts/cluster/ceph.sh
etcd_sh=$repo/scripts/cluster/etcd.sh
work=$(mktemp -d /tmp/itd-thin-failover.XXXXXX)
stream_pids=()

cleanup() {
    local p
    for p in "${stream_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    kill_started_itds
    "$etcd_sh" stop "$work/etcd" >/dev/null 2>&1 || true
    "$ceph_sh" stop "$work/ceph" >/dev/null 2>&1 || true
    if [ "${THIN_FAILOVER_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

t_start=$(date +%s.%N)
timeout -k 5 75 "$ceph_sh" start "$work/ceph" --mon-port 38750 --rgw-port 39450 --osd-ports 38760 \
    --timeout 60
eval "$("$ceph_sh" env "$work/ceph")"
timeout -k 5 40 "$etcd_sh" start "$work/etcd" --members 3 --base-port 24790

target=iqn.2026-12.org.itd:fo
ttl=4
meta=etcd://127.0.0.1:24790+127.0.0.1:24791+127.0.0.1:24792
mib=2048  # blocks of 512 bytes (the default block size)
rados_spec() { echo "thin:rados://$ITD_RADOS_POOL/$1,ceph-conf=$CEPH_CONF,meta=$meta,lease-ttl=$ttl,size=256M"; }
s3_spec() { echo "thin:s3://$ITD_S3_BUCKET/$1,endpoint=$ITD_S3_ENDPOINT,meta=$meta,lease-ttl=$ttl,size=256M"; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# io PORT MODE SEED BLOCKS [LUN]: itd_durability against 127.0.0.1:PORT, at most IO_SECONDS
# (30; a few MiB take well under a second); its status (124 when it timed out).
io() {
    ITD_PORTAL=127.0.0.1:$1 ITD_TARGET=$target ITD_LUN=${5:-0} \
        timeout -k 2 "${IO_SECONDS:-30}" "$client" "$2" "$3" "$4" >/dev/null
}

# launch_standby LOG ARGS...: an itd whose volume's lease another node holds: returns once it
# logs that it waits (at most 30 s), with ITD_PID set. Ready at once is a failure: the lease
# should have been held.
launch_standby() {
    local log=$1 i
    shift
    : >"$log"
    "$itd" --listen 127.0.0.1:0 --log-level debug "$@" >>"$log" 2>&1 &
    ITD_PID=$!
    ITD_PIDS+=("$ITD_PID")
    for ((i = 0; i < 300; i++)); do
        if grep -q "ready: target" "$log"; then
            echo "  the standby became ready at once: the lease was not held"; return 1
        fi
        grep -q "waiting for the volume's lease" "$log" && return 0
        kill -0 "$ITD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "  the standby did not wait for the lease:"; tail -20 "$log"
    return 1
}

# wait_ready LOG PID SECONDS: waits (at most SECONDS) for the "ready: target" line of the itd
# PID and sets PORT from it.
wait_ready() {
    local log=$1 pid=$2 limit=$3 i
    PORT=""
    for ((i = 0; i < limit * 20; i++)); do
        if grep -q "ready: target" "$log"; then
            PORT=$(grep -m1 "ready: target" "$log" | sed -E 's/.* on 127\.0\.0\.1:([0-9]+).*/\1/')
            [[ "$PORT" =~ ^[0-9]+$ ]] && return 0
            echo "  no port in the ready line"; return 1
        fi
        kill -0 "$pid" 2>/dev/null || { echo "  itd $pid exited:"; tail -20 "$log"; return 1; }
        sleep 0.05
    done
    echo "  itd $pid not ready within $limit s:"; tail -20 "$log"
    return 1
}

# ---- 1. failover -----------------------------------------------------------------------------
test_failover() {
    local spec a b
    spec=$(rados_spec vol-failover)
    start_itd "$work/1a.log" --target-name "$target" "$spec" || return 1
    a=$ITD_PID
    local a_port=$PORT
    launch_standby "$work/1b.log" --target-name "$target" "$spec" || return 1
    b=$ITD_PID
    io "$a_port" write 101 $((4 * mib)) || { echo "  write via A failed"; return 1; }
    local t0
    t0=$(now)
    ITD_PID=$a kill9_itd
    wait_ready "$work/1b.log" "$b" $((ttl + 6)) || { echo "  no takeover within $((ttl + 6)) s"; return 1; }
    echo "  takeover $(since "$t0") s after kill -9 (lease-ttl $ttl s)"
    io "$PORT" verify 101 $((4 * mib)) || { echo "  B does not read A's synced data"; return 1; }
    ITD_PID=$b stop_itd "$work/1b.log" || return 1
}
s=0
test_failover || s=1
kill_started_itds
result "failover: kill -9 of the owner, the standby takes over and reads its data" $s

# ---- 2. fencing ------------------------------------------------------------------------------
test_fencing() {
    local spec a b a_port b_port status t0
    spec=$(rados_spec vol-fence)
    start_itd "$work/2a.log" --target-name "$target" "$spec" || return 1
    a=$ITD_PID a_port=$PORT
    launch_standby "$work/2b.log" --target-name "$target" "$spec" || return 1
    b=$ITD_PID
    io "$a_port" write 201 $((2 * mib)) || { echo "  write via A failed"; return 1; }
    kill -STOP "$a"
    t0=$(now)
    wait_ready "$work/2b.log" "$b" $((ttl + 6)) || { kill -CONT "$a"; return 1; }
    b_port=$PORT
    echo "  takeover $(since "$t0") s after SIGSTOP of the owner"
    # B's data covers every block of A's.
    io "$b_port" write 202 $((2 * mib)) || { kill -CONT "$a"; echo "  write via B failed"; return 1; }
    kill -CONT "$a"
    # A new session to A: its writes (or their SYNCHRONIZE CACHE) must fail, and soon.
    status=0
    IO_SECONDS=30 io "$a_port" write 203 $((2 * mib)) 2>"$work/2-a-write.err" || status=$?
    if [ $status -eq 0 ]; then
        echo "  BUG: a write through the fenced node A was acknowledged (synced)"
        tail -20 "$work/2a.log"
        return 1
    elif [ $status -eq 124 ]; then
        echo "  BUG: the write through the fenced node A hung (30 s)"
        tail -20 "$work/2a.log"
        return 1
    fi
    echo "  A refused: $(head -1 "$work/2-a-write.err")"
    # The operator hears of it when it happens, not only at shutdown.
    grep -m1 "lost its lock" "$work/2a.log" | sed 's/^/  A: /' ||
        { echo "  no warning in A's log about the lost lease"; return 1; }
    io "$b_port" verify 202 $((2 * mib)) || { echo "  B does not read its own data"; return 1; }
    # A stops first (its shutdown must not write either), then B hands the lease back.
    status=0
    ITD_PID=$a stop_itd "$work/2a.log" || status=$?
    [ $status -eq 0 ] || echo "  (the fenced node A exited with status $status on SIGTERM)"
    ITD_PID=$b stop_itd "$work/2b.log" || return 1
    start_itd "$work/2c.log" --target-name "$target" "$spec" || return 1
    io "$PORT" verify 202 $((2 * mib)) || { echo "  after a restart the volume does not hold B's data"; return 1; }
    stop_itd "$work/2c.log" || return 1
}
s=0
test_fencing || s=1
kill_started_itds
result "fencing: a node that lost its lease refuses writes and leaves the new owner's data" $s

# ---- 3. radosgw stopped mid-stream -----------------------------------------------------------
# Two streams through the same outage: the one on LUN 1 is checked for durability after a
# restart (no acknowledged sync lost); LUN 0 then takes a new write on the same process.
stream_blocks=$((96 * mib))
stream_pids=()

# start_stream LUN SEED: itd_durability stream to LUN of the itd at $port, in the background
# (at most 90 s); its lines, each with the time it arrived, and an "end" line when it is over,
# go to $work/3-stream-LUN.out.
start_stream() {
    local lun=$1 seed=$2 out=$work/3-stream-$1.out fifo=$work/3-stream-$1.fifo
    mkfifo "$fifo"
    : >"$out"
    ( (while IFS= read -r line; do echo "$(now) $line"; done; echo "$(now) end") <"$fifo" >>"$out") &
    ITD_PORTAL=127.0.0.1:$port ITD_TARGET=$target ITD_LUN=$lun \
        timeout -k 2 90 "$client" stream "$seed" $stream_blocks >"$fifo" 2>"$work/3-stream-$lun.err" &
    stream_pids[lun]=$!
}

synced_lines() { grep -c synced "$work/3-stream-$1.out" || true; }
ended() { grep -q " end$" "$work/3-stream-$1.out"; }

# report_stream LUN STATUS: prints how the stream went through the outage (between $t_stop
# and $t_back) and sets N to its last acknowledged sync.
report_stream() {
    local lun=$1 status=$2 out=$work/3-stream-$1.out end after stall
    N=$(grep synced "$out" | tail -1 | awk '{ print $3 }')
    end=$(awk '$2 == "end" { print $1 }' "$out")
    # The longest wait for an acknowledgement from the gateway's stop on (to the end when the
    # stream failed).
    stall=$(awk -v t0="$t_stop" 'BEGIN { last = t0; max = 0 }
        $1 >= t0 { if ($1 - last > max) max = $1 - last; last = $1 }
        END { printf "%.1f", max }' "$out")
    after=$(awk -v t="$t_back" '$1 > t && $2 == "synced"' "$out" | wc -l)
    if [ "$N" = "$stream_blocks" ]; then
        echo "  LUN $lun: the stream went on; longest stall $stall s; $after syncs after radosgw came back"
    else
        echo "  LUN $lun: the stream failed after 'synced $N'," \
            "$(awk -v a="$t_stop" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s after radosgw stopped" \
            "($(awk -v a="$t_back" -v b="$end" 'BEGIN { printf "%+.1f", b - a }') s from its return; exit $status)"
    fi
}

test_rgw_outage() {
    local spec0 spec1 status0=0 status1=0 i
    spec0=$(s3_spec vol-s3-a)
    spec1=$(s3_spec vol-s3-b)
    start_itd "$work/3a.log" --target-name "$target" "$spec0" "$spec1" || return 1
    port=$PORT
    start_stream 0 301
    start_stream 1 311
    for ((i = 0; i < 300; i++)); do
        [ "$(synced_lines 0)" -ge 3 ] && [ "$(synced_lines 1)" -ge 3 ] && break
        ended 0 || ended 1 && break
        sleep 0.1
    done
    if [ "$(synced_lines 0)" -lt 3 ] || [ "$(synced_lines 1)" -lt 3 ] || ended 0 || ended 1; then
        echo "  the streams did not both sync 3 MiB in 30 s"; return 1
    fi
    t_stop=$(now)
    timeout -k 2 30 "$ceph_sh" stop-rgw "$work/ceph" || return 1
    sleep 8
    timeout -k 2 60 "$ceph_sh" start-rgw "$work/ceph" || return 1
    t_back=$(now)
    echo "  radosgw away for $(awk -v a="$t_stop" -v b="$t_back" 'BEGIN { printf "%.1f", b - a }') s"
    # Bounded by the clients' timeout (90 s).
    wait "${stream_pids[0]}" || status0=$?
    wait "${stream_pids[1]}" || status1=$?
    stream_pids=()
    for ((i = 0; i < 50; i++)); do ended 0 && ended 1 && break; sleep 0.1; done
    if [ $status0 -eq 124 ] || [ $status1 -eq 124 ]; then
        echo "  BUG: a stream hung (90 s): LUN 0 exit $status0, LUN 1 exit $status1"
        tail -20 "$work/3a.log"
        return 1
    fi
    report_stream 0 $status0
    report_stream 1 $status1
    local n1=$N
    # The same process takes new writes on the volume that went through the outage.
    io "$port" write 302 $((4 * mib)) 0 ||
        { echo "  a write after radosgw came back failed"; tail -20 "$work/3a.log"; return 1; }
    kill9_itd
    # The restarted node waits for the killed one's lease to run out.
    ITD_READY_SECONDS=$((ttl + 10)) start_itd "$work/3b.log" --target-name "$target" "$spec0" "$spec1" || return 1
    io "$PORT" verify 311 "$n1" 1 || { echo "  BUG: blocks of an acknowledged sync were lost (LUN 1, 0..$n1)"; return 1; }
    echo "  after kill -9 and a restart: LUN 1 blocks 0..$n1 read back"
    io "$PORT" verify 302 $((4 * mib)) 0 || { echo "  the write after the outage was lost"; return 1; }
    stop_itd "$work/3b.log" || return 1
}
s=0
test_rgw_outage || s=1
kill_started_itds
result "radosgw stopped for 8 s mid-stream: no acknowledged sync lost, writes resume" $s

# ---- 4. etcd leader killed -------------------------------------------------------------------
test_etcd_leader() {
    local spec leader t0 t1
    spec=$(rados_spec vol-etcd)
    start_itd "$work/4a.log" --target-name "$target" "$spec" || return 1
    io "$PORT" write 401 $((4 * mib)) || { echo "  write before the leader's death failed"; return 1; }
    leader=$(timeout -k 2 30 "$etcd_sh" kill-leader "$work/etcd") || return 1
    t0=$(now)
    sleep $((ttl + 2))
    echo "  etcd leader $leader killed; new leader $(timeout 30 "$etcd_sh" leader "$work/etcd" || echo none)"
    t1=$(now)
    io "$PORT" write 402 $((4 * mib)) || {
        echo "  the write $(since "$t0") s after the leader's death failed:"
        grep -E "lost its lock|refusing|keep-alive|etcd" "$work/4a.log" | tail -10
        return 1
    }
    echo "  write and sync $(since "$t0") s after the leader's death: took $(since "$t1") s"
    io "$PORT" verify 402 $((4 * mib)) || return 1
    stop_itd "$work/4a.log" || return 1
    start_itd "$work/4b.log" --target-name "$target" "$spec" || return 1
    io "$PORT" verify 402 $((4 * mib)) || { echo "  lost after a restart"; return 1; }
    stop_itd "$work/4b.log" || return 1
}
s=0
test_etcd_leader || s=1
kill_started_itds
result "etcd leader killed: the lease lives on, writes succeed" $s

echo "thin_failover: $(since "$t_start") s"
summary
