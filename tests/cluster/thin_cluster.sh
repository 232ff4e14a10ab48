#!/usr/bin/env bash
# Thin volumes on the cluster stores, end to end with real services and real clients:
#   tests/cluster/thin_cluster.sh [BUILD_DIR]          (default build/release)
# Starts etcd (one member, scripts/cluster/etcd.sh) and a single-node Ceph cluster with
# radosgw (scripts/cluster/ceph.sh; its in-memory OSD gets 8 GiB: a thin volume never
# overwrites an object, and nothing collects garbage here, so iscsi-test-cu with SANITIZE on
# two LUNs leaves several GiB, and a full OSD holds every write until its ops time out), then
# for an S3 LUN (thin:s3://itd/...) and a RADOS LUN (thin:rados://itd/...), both with their
# superblocks in etcd:
#   1. iscsi-test-cu --dataloss --allow-sanitize --test=ALL: no test may fail;
#   2. qemu-img convert of a random image into the LUN and back out: the same bytes;
#   3. kill -9 after a SYNCHRONIZE CACHE, restart from a config file (credentials in its [s3]
#      table, etcd as a list): every synced block reads back;
#   4. `itd volume` on the cluster store: list, snapshot, clone, export of the clone matches,
#      delete;
#   5. the S3 secret appears in no log line and in no process's argument list.
# Ports (127.0.0.1): etcd THIN_CLUSTER_ETCD_PORT (25790; peers +10), Ceph monitor 36850, OSDs
# from 36860, radosgw 37550. Every service and itd is stopped by its own PID.
# Ends with "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

build=$(cd "${1:-build/release}" && pwd)
# shellcheck source=../integration/lib.sh source-path=SCRIPTDIR
source "$root/tests/integration/lib.sh"
# shellcheck disable=SC2034  # lib.sh runs it
itd="$build/src/daemon/itd"
client="$build/tests/integration/itd_durability"
for f in "$itd" "$client"; do [ -x "$f" ] || { echo "thin_cluster.sh: no $f" >&2; exit 2; }; done

etcd_port=${THIN_CLUSTER_ETCD_PORT:-25790}
work=$(mktemp -d /tmp/itd-thin-cluster.XXXXXX)
cleanup() {
    kill_started_itds
    scripts/cluster/ceph.sh stop "$work/ceph" >/dev/null 2>&1 || true
    scripts/cluster/etcd.sh stop "$work/etcd" >/dev/null 2>&1 || true
    if [ "${THIN_CLUSTER_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A step that fails under set -e says where, instead of ending the script without a word.
trap 'echo "thin_cluster.sh: failed (status $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

timeout -k 5 60 scripts/cluster/etcd.sh start "$work/etcd" --base-port "$etcd_port" ||
    { echo "thin_cluster.sh: etcd did not start" >&2; exit 1; }
timeout -k 5 200 scripts/cluster/ceph.sh start "$work/ceph" --mon-port 36850 --rgw-port 37550 \
    --osd-ports 36860 --memstore-gib 8 --timeout 120 ||
    { echo "thin_cluster.sh: Ceph did not start" >&2; exit 1; }
eval "$(scripts/cluster/ceph.sh env "$work/ceph")"
meta="etcd://127.0.0.1:$etcd_port"
target=iqn.2026-12.org.itd:cluster
seed=$((RANDOM * 32768 + RANDOM))

# KIND -> the store part of its LUN-SPEC (options follow the volume name).
store_of() { [ "$1" = s3 ] && echo "s3://$ITD_S3_BUCKET/itd-test" || echo "rados://$ITD_RADOS_POOL"; }
options_of() {
    if [ "$1" = s3 ]; then echo "endpoint=$ITD_S3_ENDPOINT,meta=$meta"
    else echo "ceph-conf=$CEPH_CONF,meta=$meta"; fi
}

for kind in s3 rados; do
    store=$(store_of $kind)
    opts=$(options_of $kind)
    log="$work/itd-$kind.log"

    # 1. The conformance suite on a fresh volume, SANITIZE included: paced (sanitize-rate=),
    # so that Sanitize.Reset finds the erase still running after a second, as it expects.
    s=0
    start_itd "$log" --target-name "$target" "thin:$store/cu,$opts,size=128M,sanitize-rate=32M" || s=1
    if [ $s -eq 0 ]; then
        cu="$work/cu-$kind.log"
        timeout 900 iscsi-test-cu --dataloss --allow-sanitize -i iqn.2026-12.org.itd.test:cu \
            --initiator-name-2=iqn.2026-12.org.itd.test:cu2 --test=ALL \
            "iscsi://127.0.0.1:$PORT/$target/0" >"$cu" 2>&1 || true
        read -r p f sk <<<"$(cu_counts "$cu")"
        echo "      $kind: iscsi-test-cu ALL: $p passed, $f failed, $sk skipped"
        if [ "$f" != 0 ] || [ "$p" -lt 150 ] || ! grep -q "Run Summary" "$cu"; then
            cu_failed_names "$cu"; tail -20 "$cu"; s=1
        fi
        stop_itd "$log" || s=1
    fi
    result "$kind: iscsi-test-cu --dataloss --test=ALL" $s

    # 2. qemu-img round trip through a second volume.
    s=0
    start_itd "$log" --target-name "$target" "thin:$store/qemu,$opts,size=64M,page-size=64K" || s=1
    if [ $s -eq 0 ]; then
        head -c 24M /dev/urandom >"$work/in.img"
        url="iscsi://127.0.0.1:$PORT/$target/0"
        timeout 300 qemu-img convert -n -t writeback -f raw -O raw "$work/in.img" "$url" || s=1
        timeout 300 qemu-img convert -f raw -O raw "$url" "$work/out.img" || s=1
        head -c 24M "$work/out.img" | cmp - "$work/in.img" || s=1
        # The rest of the volume was never written: zeros.
        tail -c +$((24 * 1048576 + 1)) "$work/out.img" | cmp -s - <(head -c 40M /dev/zero) || s=1
        stop_itd "$log" || s=1
    fi
    result "$kind: qemu-img round trip" $s

    # 3. kill -9 after SYNCHRONIZE CACHE; restart from a config file.
    s=0
    start_itd "$log" --target-name "$target" "thin:$store/durable,$opts,size=64M" || s=1
    if [ $s -eq 0 ]; then
        ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=0 \
            timeout 120 "$client" write "$seed" 16384 | grep -q synced || s=1
        kill9_itd
        conf="$work/itd-$kind.toml"
        {
            echo "[s3]"
            echo "access-key-id = \"$AWS_ACCESS_KEY_ID\""
            echo "secret-access-key = \"$AWS_SECRET_ACCESS_KEY\""
            echo "[[target]]"
            echo "name = \"$target\""
            echo "[[target.lun]]"
            echo "backend = \"thin\""
            echo "path = \"$store/durable\""
            echo "meta = [\"$meta\"]"
            if [ $kind = s3 ]; then echo "endpoint = \"$ITD_S3_ENDPOINT\""
            else echo "ceph-conf = \"$CEPH_CONF\""; fi
        } >"$conf"
        # The dead process's lease is still held: the new one waits for it (at most the
        # lease's 10 s), then serves what was synced. No credentials in the environment.
        saved_id=$AWS_ACCESS_KEY_ID saved_secret=$AWS_SECRET_ACCESS_KEY
        unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
        ITD_READY_SECONDS=40 start_itd "$log.2" --config "$conf" || s=1
        export AWS_ACCESS_KEY_ID=$saved_id AWS_SECRET_ACCESS_KEY=$saved_secret
        if [ $s -eq 0 ]; then
            ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=0 \
                timeout 120 "$client" verify "$seed" 16384 || s=1
            grep -q "waiting for the volume's lease" "$log.2" ||
                echo "      (the old lease had already expired: no wait)"
            stop_itd "$log.2" || s=1
        fi
    fi
    result "$kind: synced data survives kill -9 (restart from a config file)" $s

    # 4. Volume management on the cluster store.
    s=0
    vol() { timeout 120 "$itd" volume "$@"; }
    vol list "$store,$opts" | grep -q '^durable' || { vol list "$store,$opts"; s=1; }
    vol snapshot "$store/durable,$opts" snap1 || s=1
    vol clone "$store/durable@snap1,$opts" copy1 || s=1
    vol export "$store/copy1,$opts" "$work/copy1.img" || s=1
    vol export "$store/durable@snap1,$opts" "$work/snap1.img" || s=1
    cmp "$work/copy1.img" "$work/snap1.img" || s=1
    [ "$(stat -c %s "$work/copy1.img")" = $((64 << 20)) ] || s=1
    vol delete "$store/copy1,$opts" || s=1
    if vol list "$store,$opts" | grep -q '^copy1'; then echo "      copy1 still listed"; s=1; fi
    # A store that does not exist is an error, not an empty list.
    if [ $kind = rados ] && vol list "rados://no-such-pool,meta=$meta" >/dev/null 2>&1; then
        echo "      a missing pool listed fine"; s=1
    fi
    result "$kind: itd volume list/snapshot/clone/export/delete" $s
done

# 5. Secrets: never in a log, never in an argument list (ours come from the environment and
# the config file).
s=0
if grep -rqF -- "$AWS_SECRET_ACCESS_KEY" "$work"/itd-*.log*; then
    echo "      the S3 secret is in a log"; s=1
fi
start_itd "$work/itd-ps.log" --target-name "$target" "thin:$(store_of s3)/cu,$(options_of s3)" || s=1
if [ $s -eq 0 ]; then
    if tr '\0' ' ' <"/proc/$ITD_PID/cmdline" | grep -qF -- "$AWS_SECRET_ACCESS_KEY"; then
        echo "      the S3 secret is in itd's argument list"; s=1
    fi
    stop_itd "$work/itd-ps.log" || s=1
fi
result "S3 credentials in no log and no argument list" $s

summary
