#!/usr/bin/env bash
# A single-node Ceph cluster with radosgw (S3) on 127.0.0.1 for itd's tests and benchmarks,
# from Debian 12's packages (Ceph 16 "pacific"), with everything under one directory DIR:
# configuration, keyrings, monitor store, logs, sockets and PID files. Nothing in /etc/ceph or
# /var/lib/ceph is read or written and no systemd unit is involved.
#
#   ceph.sh install                 apt-installs ceph-mon ceph-osd radosgw ceph-common if missing
#   ceph.sh start DIR [--mon-port 36789] [--rgw-port 37480] [--osd-ports 36700]
#                     [--memstore-gib 3] [--timeout 90] [--nice 10]
#                                   creates a new cluster in DIR and waits until it is usable:
#                                   the OSD up and in, the "itd" pool writable and readable,
#                                   radosgw answering S3 with the "itd" bucket created
#   ceph.sh stop DIR                stops the daemons started from DIR (by their recorded PIDs)
#   ceph.sh env DIR                 prints the shell exports for clients:
#                                   eval "$(scripts/cluster/ceph.sh env DIR)"
#   ceph.sh status DIR              which daemons of DIR run; exit 0 only if all of them do
#   ceph.sh stop-rgw DIR [--kill], ceph.sh start-rgw DIR
#                                   stop radosgw alone (SIGTERM, or SIGKILL with --kill) /
#                                   start it again and wait until it answers (fault tests:
#                                   the S3 gateway goes away and returns)
#
# The cluster: one monitor (mon.a), one OSD (osd.0) and one radosgw (client.rgw.a), each with
# its own cephx keyring; client.admin's keyring is the one CEPH_CONF points clients to. There is
# no manager: nothing here needs one (pools are created by the monitor, and the OSD and radosgw
# run without it). What it would provide is statistics: `ceph pg stat`, `ceph df` and `ceph osd
# pool stats` wait for a manager forever, `rados df` and librados's cluster and pool statistics
# read zero, `ceph -s` shows no PGs. That is why start checks the PGs by writing and reading an
# object instead.
#
# The OSD keeps its objects in memory (osd_objectstore = memstore, capped at --memstore-gib):
# Ceph's own durability is not under test here, only itd's use of RADOS and S3. The data is
# lost when the OSD stops, and start always creates a fresh cluster. Pools have size 1. At 95 %
# of the cap the OSD is full and Ceph holds every write (RADOS and S3) until space is freed:
# size tests below that.
#
# Ports: the monitor listens on 127.0.0.1:--mon-port (msgr2 only), the OSD on four ports from
# --osd-ports up (at most 20 are tried), radosgw on 127.0.0.1:--rgw-port. Two clusters can run
# side by side in different directories with different ports.
set -euo pipefail

prog=ceph.sh
here=$(cd "$(dirname "$0")" && pwd)
packages=(ceph-mon ceph-osd radosgw ceph-common)

usage() {
    sed -n '/^#   ceph.sh/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() { echo "$prog: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mark() { echo "$(elapsed "$t0") s: $*" >>"$dir/log/start.log"; }  # start's timeline

cmd_install() {
    local missing=() p
    for p in "${packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "$prog install: all ${#packages[@]} packages present"
        return 0
    fi
    local as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "install: run as root, or install sudo"
        as_root=(sudo)
    fi
    echo "$prog install: installing ${missing[*]}"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
}

# ---- the state directory -------------------------------------------------------------------

declare -A ceph_name=([mon]=mon.a [osd]=osd.0 [rgw]=client.rgw.a)

set_dir() {  # DIR: absolute paths of everything under it
    [ -n "${1:-}" ] || usage
    dir=$(realpath -m -- "$1")
    conf=$dir/ceph.conf
    marker=$dir/.itd-ceph
}

pid_of() {  # DAEMON: prints the PID if that daemon of $dir runs (checked against its command line)
    local file=$dir/run/$1.pid pid
    [ -f "$file" ] || return 1
    pid=$(<"$file")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    # A recycled PID belongs to another process: ours has our ceph.conf on its command line.
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$conf" || return 1
    echo "$pid"
}

exited() {  # PID: gone, or a zombie (a child of this shell when start fails)
    [ ! -d "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

stop_daemon() {  # DAEMON SIGNAL GRACE: signal it, wait up to GRACE s, then SIGKILL it
    local pid i
    pid=$(pid_of "$1") || { rm -f "$dir/run/$1.pid"; return 0; }
    kill -"$2" "$pid" 2>/dev/null || true
    for ((i = 0; i < $3 * 10; i++)); do
        exited "$pid" && break
        sleep 0.1
    done
    if ! exited "$pid"; then
        echo "$prog: ${ceph_name[$1]} (PID $pid) still runs $3 s after SIG$2: SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            exited "$pid" && break
            sleep 0.1
        done
    fi
    rm -f "$dir/run/$1.pid"
}

cmd_stop() {
    set_dir "$@"
    [ -d "$dir" ] || return 0
    # radosgw first (it talks to the OSD while it shuts down; with a full OSD it hangs, hence
    # only 5 s). The OSD gets SIGKILL: on SIGTERM the memstore would write every object to DIR,
    # and its contents are discarded anyway.
    stop_daemon rgw TERM 5
    stop_daemon osd KILL 5
    stop_daemon mon TERM 10
}

cmd_status() {
    set_dir "$@"
    local d pid all=0
    for d in mon osd rgw; do
        if pid=$(pid_of "$d"); then
            echo "${ceph_name[$d]}: running, PID $pid"
        else
            echo "${ceph_name[$d]}: not running"; all=1
        fi
    done
    return $all
}

cmd_env() {
    set_dir "$@"
    [ -f "$dir/env" ] || die "no cluster in $dir (no $dir/env)"
    cat "$dir/env"
}

# ---- start ---------------------------------------------------------------------------------

log_tails() {
    local f
    for f in "$dir"/log/*.log "$dir"/log/*.out; do
        [ -s "$f" ] || continue
        echo "---- last lines of $f" >&2
        tail -n 25 "$f" >&2
    done
}

fail_start() {
    echo "$prog: start failed after $(elapsed "$t0") s: $*" >&2
    log_tails
    cmd_stop "$dir"
    exit 1
}

remaining() {  # seconds left before the start deadline (at least 1)
    awk -v d="$deadline" -v n="$(now)" 'BEGIN { r = int(d - n); print (r < 1 ? 1 : r) }'
}

wait_for() {  # WHAT COMMAND...: run COMMAND every 0.2 s until it succeeds or the deadline passes
    local what=$1; shift
    while ! "$@" >/dev/null 2>&1; do
        if awk -v d="$deadline" -v n="$(now)" 'BEGIN { exit !(n > d) }'; then
            fail_start "timed out waiting for $what"
        fi
        local d
        for d in "${started[@]}"; do
            pid_of "$d" >/dev/null || fail_start "${ceph_name[$d]} exited while waiting for $what"
        done
        sleep 0.2
    done
}

# shellcheck disable=SC2120  # without arguments it reads commands from stdin
ceph_cli() {  # the ceph command line tool, bounded by the start deadline
    local t
    t=$(remaining)
    timeout -k 2 "$t" ceph -c "$conf" --connect-timeout "$t" "$@"
}

run_daemon() {  # DAEMON COMMAND...: start it in the foreground of a new session, record its PID
    local d=$1; shift
    setsid nice -n "$nice" "$@" -f -c "$conf" </dev/null >>"$dir/log/$d.out" 2>&1 &
    echo $! >"$dir/run/$d.pid"
    started+=("$d")
}

port_free() {  # PORT: nothing listens on 127.0.0.1:PORT (or on any address)
    ! ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q .
}

osd_active() {  # osd.0 says (on its admin socket) it is booted and up in the OSD map
    /usr/bin/python3 - "$dir/run/osd.0.asok" <<'PY'
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b'{"prefix": "status"}\0')
data = b""
while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.exit(0 if json.loads(data[4:]).get("state") == "active" else 1)
PY
}

rados_roundtrip() {  # an object written and read back in the itd pool: its PGs are active
    local t
    t=$(remaining)
    printf 'itd-ceph-ready\n' | timeout -k 2 "$t" rados -c "$conf" -p itd \
        --rados-osd-op-timeout 10 put .itd-ceph-ready - &&
        timeout -k 2 "$t" rados -c "$conf" -p itd --rados-osd-op-timeout 10 \
            get .itd-ceph-ready - | grep -qx itd-ceph-ready
}

s3() { env -i PATH="$PATH" ITD_S3_ENDPOINT="http://127.0.0.1:$rgw_port" \
    AWS_ACCESS_KEY_ID="$access_key" AWS_SECRET_ACCESS_KEY="$secret_key" \
    timeout -k 2 10 /usr/bin/python3 "$here/s3.py" "$@"; }

write_keyring() {  # FILE ENTITY CAP...: a keyring holding a new random key for ENTITY
    # A key is base64 of: type 1 (AES, 16 bits), creation time (2 x 32 bits, 0 here), length
    # 16 (16 bits), 16 random bytes; all little-endian. ceph-authtool writes the same.
    local file=$1 entity=$2 key cap
    shift 2
    key=$({ printf '\001\000\000\000\000\000\000\000\000\000\020\000'
        head -c 16 /dev/urandom; } | base64 -w0)
    {
        printf '[%s]\n\tkey = %s\n' "$entity" "$key"
        for cap; do printf '\tcaps %s\n' "$cap"; done
    } >"$file"
    chmod 600 "$file"
}

write_conf() {
    local fsid=$1
    cat >"$conf" <<EOF
# Written by scripts/cluster/ceph.sh: a single-node test cluster under $dir.
# Ceph's own durability is not under test: the OSD keeps its objects in memory (memstore).
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
mon_initial_members = a
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_msgr2 = true
ms_bind_ipv6 = false
ms_bind_port_min = $osd_ports
ms_bind_port_max = $((osd_ports + 19))
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $dir/keyring/\$name.keyring
run_dir = $dir/run
crash_dir = $dir/crash
log_to_stderr = false
err_to_stderr = true
# Pools of size 1 on one OSD; the default CRUSH rule places replicas on OSDs, not hosts.
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
# A monitor shuts itself down below mon_data_avail_crit % free space on its disk (default 5):
# tests run on shared, fullish disks.
mon_data_avail_crit = 1
mon_data_avail_warn = 2
# Each map change waits for the next proposal: 1 s by default, a second per step at start.
paxos_propose_interval = 0.1
# There is no manager: without this the health turns to HEALTH_ERR (MGR_DOWN) after 2 minutes.
mon_mgr_mkfs_grace = 31536000
# Modest threads for a small shared machine.
ms_async_op_threads = 2

[mon]
mon_data = $dir/mon/\$id
keyring = $dir/mon/\$id/keyring
log_file = $dir/log/\$name.log
mon_cluster_log_file = $dir/log/cluster.log
admin_socket = $dir/run/\$name.asok

[osd]
osd_data = $dir/osd/\$id
osd_objectstore = memstore
memstore_device_bytes = $((memstore_gib << 30))
osd_crush_initial_weight = 1
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 2
osd_memory_target = 1073741824
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok

[client.rgw.a]
# Without tcp_nodelay small GETs wait for the peer's delayed ACK: 44 ms each.
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw_data = $dir/rgw
rgw_thread_pool_size = 32
rgw_enable_usage_log = false
rgw_dynamic_resharding = false
rgw_lc_max_worker = 1
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
EOF
}

rgw_start() {  # start radosgw and wait until it answers HTTP
    run_daemon rgw radosgw -n client.rgw.a
    wait_for "radosgw to answer HTTP on 127.0.0.1:$rgw_port" s3 ping
    mark "radosgw answers HTTP"
}

parse_start_args() {
    mon_port=36789 rgw_port=37480 osd_ports=36700 memstore_gib=3 timeout_s=90 nice=10
    while [ $# -gt 0 ]; do
        case $1 in
            --mon-port) mon_port=${2:?}; shift 2 ;;
            --rgw-port) rgw_port=${2:?}; shift 2 ;;
            --osd-ports) osd_ports=${2:?}; shift 2 ;;
            --memstore-gib) memstore_gib=${2:?}; shift 2 ;;
            --timeout) timeout_s=${2:?}; shift 2 ;;
            --nice) nice=${2:?}; shift 2 ;;
            *) usage ;;
        esac
    done
    local v
    for v in "$mon_port" "$rgw_port" "$osd_ports" "$memstore_gib" "$timeout_s" "$nice"; do
        [[ "$v" =~ ^[0-9]+$ ]] || die "not a number: $v"
    done
}

cmd_start() {
    set_dir "${1:-}"; shift
    parse_start_args "$@"
    t0=$(now)
    deadline=$(awk -v n="$t0" -v t="$timeout_s" 'BEGIN { printf "%.3f", n + t }')
    started=()
    local d
    for d in mon osd rgw; do
        if pid=$(pid_of "$d"); then die "${ceph_name[$d]} already runs from $dir (PID $pid)"; fi
    done
    for d in ceph-mon ceph-osd radosgw radosgw-admin ceph rados ceph-authtool monmaptool; do
        command -v "$d" >/dev/null || die "$d not found: run '$0 install' first"
    done
    if [ -e "$dir" ] && [ ! -e "$marker" ] && [ -n "$(ls -A "$dir")" ]; then
        die "$dir is not empty and holds no cluster of ours: give an empty or new directory"
    fi
    local p
    for p in "$mon_port" "$rgw_port"; do
        port_free "$p" || die "port $p is in use"
    done

    # A fresh cluster every time: remove what an earlier one of ours left, and nothing else.
    rm -rf "$dir"/{ceph.conf,env,keyring,mon,osd,rgw,log,run,crash,monmap}
    mkdir -p "$dir"/{keyring,mon/a,osd/0,rgw,log,run,crash}
    chmod 700 "$dir/keyring"
    touch "$marker"

    local fsid osd_uuid
    fsid=$(cat /proc/sys/kernel/random/uuid)
    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    access_key=$(od -An -tx1 -N10 /dev/urandom | tr -d ' \n' | tr a-f A-F)
    secret_key=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
    write_conf "$fsid"

    # Keyrings: one per daemon plus client.admin's. The monitor's initial key database gets
    # them all at mkfs, so no "ceph auth" round trip is needed afterwards.
    local k=$dir/keyring
    write_keyring "$k/mon.a.keyring" mon. 'mon = "allow *"'
    write_keyring "$k/client.admin.keyring" client.admin \
        'mon = "allow *"' 'osd = "allow *"' 'mgr = "allow *"'
    write_keyring "$k/osd.0.keyring" osd.0 \
        'mon = "allow profile osd"' 'osd = "allow *"' 'mgr = "allow profile osd"'
    write_keyring "$k/client.rgw.a.keyring" client.rgw.a \
        'mon = "allow rw"' 'osd = "allow rwx"' 'mgr = "allow rw"'
    cat "$k"/{mon.a,client.admin,osd.0,client.rgw.a}.keyring >"$k/mkfs.keyring"

    monmaptool --create --enable-all-features --fsid "$fsid" \
        --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
    ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$k/mkfs.keyring" \
        >>"$dir/log/mon.out" 2>&1 || fail_start "ceph-mon --mkfs failed"
    rm -f "$k/mkfs.keyring"
    mark "keyrings and monitor store created"
    run_daemon mon ceph-mon -i a

    # osd.0 is registered in the OSD map and the itd pool created (one ceph call: each costs
    # most of a second) while the OSD's memstore is created; then the OSD starts.
    local cli_pid
    printf '%s\n' "osd new $osd_uuid 0" "osd pool create itd 16 16 replicated" \
        "osd pool application enable itd rados" |
        ceph_cli >>"$dir/log/mon.out" 2>&1 &  # shellcheck disable=SC2119
    cli_pid=$!
    ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$dir/log/osd.out" 2>&1 ||
        fail_start "ceph-osd --mkfs failed"
    mark "osd.0 memstore created"
    wait "$cli_pid" || fail_start "ceph osd new / osd pool create itd failed"
    mark "osd.0 registered, pool itd created"
    run_daemon osd ceph-osd -i 0
    # Waiting for the OSD first: a client that finds no OSD up waits up to 5 s (objecter tick)
    # before it looks at the OSD map again.
    wait_for "osd.0 to be up" osd_active
    mark "osd.0 up"
    # A write and a read in the itd pool: osd.0 is up and in and the pool's PGs are active
    # (with size-1 pools on one OSD, also clean). Without a manager "ceph pg stat" knows nothing.
    wait_for "the itd pool to take a write and a read" rados_roundtrip
    local t_rados
    t_rados=$(elapsed "$t0")
    mark "pool itd written and read"

    # radosgw first (it creates the zone's pools), then the S3 user and bucket: a request
    # signed with the user's keys is the end-to-end check.
    rgw_start
    timeout -k 2 "$(remaining)" radosgw-admin -c "$conf" user create --uid itd \
        --display-name itd --access-key "$access_key" --secret-key "$secret_key" \
        >/dev/null 2>>"$dir/log/rgw.out" || fail_start "radosgw-admin user create failed"
    mark "S3 user itd created"
    wait_for "radosgw to create the itd bucket" s3 mb itd
    mark "bucket itd created"

    cat >"$dir/env" <<EOF
export CEPH_CONF='$conf'
export ITD_RADOS_POOL=itd
export ITD_S3_ENDPOINT='http://127.0.0.1:$rgw_port'
export ITD_S3_BUCKET=itd
export AWS_ACCESS_KEY_ID='$access_key'
export AWS_SECRET_ACCESS_KEY='$secret_key'
export AWS_DEFAULT_REGION=us-east-1
EOF
    chmod 600 "$dir/env"
    echo "$nice" >"$dir/run/nice"
    echo "$prog: cluster up in $(elapsed "$t0") s (RADOS usable after $t_rados s):" \
        "mon 127.0.0.1:$mon_port, S3 http://127.0.0.1:$rgw_port, pool itd, bucket itd; $dir"
}

cmd_stop_rgw() {  # DIR [--kill]
    set_dir "${1:-}"
    case ${2:-} in
        "") stop_daemon rgw TERM 15 ;;
        --kill) stop_daemon rgw KILL 5 ;;
        *) usage ;;
    esac
}

cmd_start_rgw() {
    set_dir "$@"
    [ -f "$dir/env" ] || die "no cluster in $dir"
    if ! pid_of mon >/dev/null || ! pid_of osd >/dev/null; then
        die "the monitor or OSD of $dir is not running"
    fi
    if pid=$(pid_of rgw); then die "radosgw already runs from $dir (PID $pid)"; fi
    # shellcheck disable=SC1091
    eval "$(sed -n 's/^export //p' "$dir/env")"
    access_key=$AWS_ACCESS_KEY_ID secret_key=$AWS_SECRET_ACCESS_KEY
    rgw_port=${ITD_S3_ENDPOINT##*:}
    nice=$(cat "$dir/run/nice" 2>/dev/null || echo 10)
    t0=$(now) started=(mon osd)
    deadline=$(awk -v n="$t0" 'BEGIN { printf "%.3f", n + 60 }')
    rgw_start
    wait_for "radosgw to accept the itd user's requests" s3 mb itd
    echo "$prog: radosgw up in $(elapsed "$t0") s"
}

case ${1:-} in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    env) shift; cmd_env "$@" ;;
    status) shift; cmd_status "$@" ;;
    stop-rgw) shift; cmd_stop_rgw "$@" ;;
    start-rgw) shift; cmd_start_rgw "$@" ;;
    *) usage ;;
esac
