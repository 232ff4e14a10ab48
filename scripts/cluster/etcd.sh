#!/usr/bin/env bash
# Starts and stops a throw-away etcd (one member or three) on 127.0.0.1 for tests. Everything
# lives under DIR: member data, logs, PID files and the endpoint list. No systemd; members are
# stopped by the PIDs recorded in DIR, never by name.
#
#   etcd.sh start DIR [--members 1|3] [--base-port 23790]
#       Member i (0-based) serves clients on BASE+i and talks to its peers on BASE+10+i.
#       Returns once every member answers /health (bounded wait), or fails and stops them.
#   etcd.sh stop DIR          SIGTERM every member, SIGKILL after a bounded wait
#   etcd.sh endpoints DIR     the client URLs, comma-separated
#   etcd.sh pids DIR          "NAME PID" per member that is still running
#   etcd.sh leader DIR        the leader's name (m0, m1, m2)
#   etcd.sh kill-leader DIR   kill -9 the leader; prints its name
#
# The JSON gateway of etcd 3.4 (Debian 12) answers under /v3/ (and the deprecated /v3beta/);
# it writes 64-bit numbers as strings, which suits this script's plain-text matching.
# Install etcd with scripts/cluster/install-etcd.sh.
set -euo pipefail

die() { echo "etcd.sh: $*" >&2; exit 1; }
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# Bounded waits, in tenths of a second.
health_wait=${ETCD_SH_HEALTH_WAIT:-300}
stop_wait=${ETCD_SH_STOP_WAIT:-100}

member_pid() {  # DIR NAME -> the member's PID if it is alive and still our etcd
    local dir=$1 name=$2 pid
    [ -f "$dir/$name.pid" ] || return 1
    pid=$(cat "$dir/$name.pid")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled PID: the process must be an etcd with this member's data dir.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data-dir $dir/$name.data" || return 1
    echo "$pid"
}

members_of() { [ -f "$1/members" ] || die "$1: no cluster here (no members file)"; cat "$1/members"; }

# NAME URL per line.
client_urls() { cat "$1/clients"; }

status_of() {  # URL -> the JSON of /v3/maintenance/status, or nothing
    curl -s --max-time 2 -X POST -d '{}' "$1/v3/maintenance/status" 2>/dev/null || true
}

json_field() {  # JSON FIELD -> the first value of "FIELD" (string or number), unquoted
    sed -n "s/.*\"$2\":\"\{0,1\}\([0-9A-Za-z]*\)\"\{0,1\}.*/\1/p" <<<"$1" | head -1
}

cmd_start() {
    local dir=$1; shift
    local members=1 base=23790
    while [ $# -gt 0 ]; do
        case $1 in
            --members) members=${2:?}; shift 2 ;;
            --base-port) base=${2:?}; shift 2 ;;
            *) usage ;;
        esac
    done
    case $members in 1|3) ;; *) die "--members must be 1 or 3" ;; esac
    command -v etcd >/dev/null || die "etcd not installed (scripts/cluster/install-etcd.sh)"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/members" ]; then
        for name in $(members_of "$dir"); do
            member_pid "$dir" "$name" >/dev/null && die "$dir: member $name is running; stop it first"
        done
    fi

    local initial="" names=() i port
    # Another etcd (or anything) on our ports would answer the health checks for us.
    for ((i = 0; i < members; i++)); do
        for port in $((base + i)) $((base + 10 + i)); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                die "127.0.0.1:$port is in use (a cluster left running? etcd.sh stop ITS_DIR)"
            fi
        done
    done
    for ((i = 0; i < members; i++)); do
        names+=("m$i")
        initial+="${initial:+,}m$i=http://127.0.0.1:$((base + 10 + i))"
    done
    printf '%s\n' "${names[@]}" >"$dir/members"
    : >"$dir/clients"
    for ((i = 0; i < members; i++)); do
        echo "m$i http://127.0.0.1:$((base + i))" >>"$dir/clients"
    done

    for ((i = 0; i < members; i++)); do
        local name=m$i client=http://127.0.0.1:$((base + i)) peer=http://127.0.0.1:$((base + 10 + i))
        rm -rf "$dir/$name.data"
        # Short heartbeat and election timeouts: a killed leader is replaced in about a second.
        # setsid: a Ctrl-C or a test's process-group signal does not reach the members.
        setsid etcd --name "$name" --data-dir "$dir/$name.data" \
            --listen-client-urls "$client" --advertise-client-urls "$client" \
            --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
            --initial-cluster "$initial" --initial-cluster-state new \
            --initial-cluster-token "itd-test-$base-$$" \
            --heartbeat-interval 50 --election-timeout 500 \
            --logger zap --log-outputs stderr \
            </dev/null >"$dir/$name.log" 2>&1 &
        echo $! >"$dir/$name.pid"
    done

    local t name url started
    started=$(date +%s%N)
    for ((t = 0; t < health_wait; t++)); do
        local healthy=0
        while read -r name url; do
            member_pid "$dir" "$name" >/dev/null || {
                tail -5 "$dir/$name.log" >&2
                cmd_stop "$dir" >/dev/null
                die "member $name exited during start-up (log: $dir/$name.log)"
            }
            if curl -s --max-time 1 "$url/health" 2>/dev/null | grep -q '"health":"true"'; then
                healthy=$((healthy + 1))
            fi
        done < <(client_urls "$dir")
        if [ "$healthy" -eq "$members" ] && [ "$(cmd_pids "$dir" | wc -l)" -eq "$members" ]; then
            echo "etcd.sh: $members member(s) healthy in $((($(date +%s%N) - started) / 1000000)) ms: $(cmd_endpoints "$dir")"
            return 0
        fi
        sleep 0.1
    done
    cmd_stop "$dir" >/dev/null
    die "not healthy after $((health_wait / 10)) s (logs: $dir/*.log)"
}

cmd_stop() {
    local dir=$1 name pid pids=()
    [ -f "$dir/members" ] || return 0
    for name in $(members_of "$dir"); do
        if pid=$(member_pid "$dir" "$name"); then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    local t
    for ((t = 0; t < stop_wait; t++)); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for name in $(members_of "$dir"); do rm -f "$dir/$name.pid"; done
    echo "etcd.sh: stopped ${#pids[@]} member(s)"
}

cmd_endpoints() {
    local dir=$1
    [ -f "$dir/clients" ] || die "$dir: no cluster here"
    awk '{print $2}' "$dir/clients" | paste -sd, -
}

cmd_pids() {
    local dir=$1 name pid
    for name in $(members_of "$dir"); do
        if pid=$(member_pid "$dir" "$name"); then echo "$name $pid"; fi
    done
}

# The leader's name, asking each live member; bounded wait while an election runs.
find_leader() {
    local dir=$1 t name url status id leader
    for ((t = 0; t < health_wait; t++)); do
        while read -r name url; do
            member_pid "$dir" "$name" >/dev/null || continue
            status=$(status_of "$url")
            id=$(json_field "$status" member_id)
            leader=$(json_field "$status" leader)
            if [ -n "$id" ] && [ "$id" = "$leader" ]; then
                echo "$name"
                return 0
            fi
        done < <(client_urls "$dir")
        sleep 0.1
    done
    return 1
}

cmd_leader() { find_leader "$1" || die "$1: no leader after $((health_wait / 10)) s"; }

cmd_kill_leader() {
    local dir=$1 name pid
    name=$(find_leader "$dir") || die "$dir: no leader after $((health_wait / 10)) s"
    pid=$(member_pid "$dir" "$name") || die "$dir: leader $name is not running"
    kill -KILL "$pid"
    echo "$name"
}

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2
case $cmd in
    start) cmd_start "$dir" "$@" ;;
    stop) cmd_stop "$dir" ;;
    endpoints) cmd_endpoints "$dir" ;;
    pids) cmd_pids "$dir" ;;
    leader) cmd_leader "$dir" ;;
    kill-leader) cmd_kill_leader "$dir" ;;
    *) usage ;;
esac
