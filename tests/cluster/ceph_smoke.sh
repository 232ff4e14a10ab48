#!/usr/bin/env bash
# Smoke test of scripts/cluster/ceph.sh: starts a single-node Ceph cluster in a temporary
# directory, checks a RADOS put/get/ls/rm round trip in the itd pool and an S3 round trip through
# radosgw, that radosgw can be stopped and started alone, that a second start from the same
# directory is refused and a second stop is harmless; the cluster is always stopped at exit.
#
#   tests/cluster/ceph_smoke.sh
#
# Ports (127.0.0.1): CEPH_SMOKE_MON_PORT (36788), CEPH_SMOKE_RGW_PORT (37481), and the OSD's
# from CEPH_SMOKE_OSD_PORTS (36720) up; they differ from ceph.sh's defaults so that a
# developer's cluster on those can keep running. Set CEPH_SMOKE_KEEP=1 to keep the directory.
# Ends with "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

cluster=scripts/cluster/ceph.sh
s3=scripts/cluster/s3.py
mon_port=${CEPH_SMOKE_MON_PORT:-36788}
rgw_port=${CEPH_SMOKE_RGW_PORT:-37481}
osd_ports=${CEPH_SMOKE_OSD_PORTS:-36720}
work=$(mktemp -d /tmp/itd-ceph-smoke.XXXXXX)
dir=$work/ceph
passed=0
failed=0
t_begin=$SECONDS

cleanup() {
    "$cluster" stop "$dir" || true
    if [ "${CEPH_SMOKE_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

check() {  # NAME COMMAND...
    local name=$1; shift
    if "$@"; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"
    fi
}

rados_roundtrip() {
    head -c 1048577 /dev/urandom >"$work/obj"
    timeout 60 rados -p "$ITD_RADOS_POOL" put smoke-obj "$work/obj" &&
        timeout 60 rados -p "$ITD_RADOS_POOL" get smoke-obj "$work/obj.back" &&
        cmp -s "$work/obj" "$work/obj.back" &&
        timeout 60 rados -p "$ITD_RADOS_POOL" ls | grep -qx smoke-obj &&
        timeout 60 rados -p "$ITD_RADOS_POOL" rm smoke-obj &&
        ! timeout 60 rados -p "$ITD_RADOS_POOL" stat smoke-obj 2>/dev/null
}

s3_roundtrip() {  # BUCKET
    head -c 1048577 /dev/urandom >"$work/s3obj"
    "$s3" mb "$1" &&
        "$s3" put "$1" dir/smoke-key "$work/s3obj" &&
        "$s3" get "$1" dir/smoke-key "$work/s3obj.back" &&
        cmp -s "$work/s3obj" "$work/s3obj.back" &&
        "$s3" ls "$1" dir/ | grep -qx dir/smoke-key &&
        "$s3" rm "$1" dir/smoke-key &&
        ! "$s3" get "$1" dir/smoke-key >/dev/null 2>&1
}

small_gets_fast() {  # 4 KiB GETs well below the 44 ms of a radosgw without tcp_nodelay
    printf 'x%.0s' $(seq 4096) | "$s3" put itd small-key &&
        /usr/bin/python3 - "$s3" <<'PY'
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("s3", sys.argv[1])
s3 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(s3)
client = s3.client_from_env()
client.request("GET", "itd", "small-key")  # connect
start = time.monotonic()
for _ in range(50):
    status, data = client.request("GET", "itd", "small-key")
    assert status == 200 and len(data) == 4096, status
mean = (time.monotonic() - start) / 50 * 1000
print("     50 GETs of 4 KiB on one connection: %.2f ms mean" % mean)
sys.exit(0 if mean < 20 else 1)
PY
}

rgw_restart() {
    "$cluster" stop-rgw "$dir" --kill &&
        ! "$s3" ping >/dev/null 2>&1 &&
        "$cluster" start-rgw "$dir" &&
        "$s3" get itd small-key | cmp -s - <(printf 'x%.0s' $(seq 4096))
}

no_daemon_left() { ! pgrep -f -- "$dir/ceph.conf" >/dev/null; }

start_refused() { ! "$cluster" start "$dir" --mon-port "$mon_port" --rgw-port "$rgw_port" 2>/dev/null; }

t_start=$SECONDS
check "start" "$cluster" start "$dir" --mon-port "$mon_port" --rgw-port "$rgw_port" \
    --osd-ports "$osd_ports"
echo "     start took $((SECONDS - t_start)) s; timeline:"
sed 's/^/       /' "$dir/log/start.log" 2>/dev/null || true
if [ "$failed" -ne 0 ]; then
    echo "$passed passed, $failed failed"
    exit 1
fi
eval "$("$cluster" env "$dir")"
check "status: all three daemons run" "$cluster" status "$dir"
check "a second start from the same directory is refused" start_refused
check "rados put/get/ls/rm in pool $ITD_RADOS_POOL" rados_roundtrip
check "S3 bucket create, PUT/GET/list/DELETE" s3_roundtrip smoke
check "S3 small GETs are fast (tcp_nodelay)" small_gets_fast
check "radosgw stopped and started alone" rgw_restart
t_stop=$SECONDS
check "stop" "$cluster" stop "$dir"
echo "     stop took $((SECONDS - t_stop)) s"
check "no daemon left" no_daemon_left
check "a second stop is harmless" "$cluster" stop "$dir"

echo "ceph_smoke: $((SECONDS - t_begin)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
