#!/usr/bin/env bash
# Thin volumes in a local store, end to end with real clients:   thin.sh BUILD_DIR
#   1. qemu-img convert and compare of a random 32 MiB image into thin:STORE/vol0 (created by
#      size=, 64 KiB pages);
#   2. qemu-io discard of whole pages, then qemu-img map reports them as zeros without data
#      (GET LBA STATUS answers from the page map), and the data around them is intact;
#   3. after itd stops, `itd volume gc --grace 0s` sweeps the discarded pages' objects: the
#      object count falls, and the volume still reads back right;
#   4. kill -9 during a write stream with a SYNCHRONIZE CACHE after every MiB; restarted on the
#      same store, every block the last acknowledged SYNCHRONIZE CACHE covered reads back.
# Every itd is stopped by its own PID. Ends with "N passed, M failed".
set -euo pipefail

build=$(cd "${1:?usage: thin.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
itd="$build/src/daemon/itd"
client="$build/tests/integration/itd_durability"
work=$(mktemp -d /tmp/itd-thin.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT

target=iqn.2026-12.org.itd:thin
store="$work/store"
page=65536
objects() { find "$store/objects" -type f ! -name '.*' | wc -l; }
json() {  # a qemu json: URL for LUN 0 limited to SIZE bytes
    echo "json:{\"driver\":\"raw\",\"size\":$1,\"file\":{\"driver\":\"iscsi\",\"transport\":\"tcp\",\"portal\":\"127.0.0.1:$PORT\",\"target\":\"$target\",\"lun\":0}}"
}

# 1. qemu-img round trip.
s=0
start_itd "$work/itd-1.log" --target-name "$target" "thin:$store/vol0,size=128M,page-size=64K" || s=1
url="iscsi://127.0.0.1:$PORT/$target/0"
head -c 32M /dev/urandom >"$work/random.img"
if [ $s -eq 0 ]; then
    # -t writeback: convert's default cache mode for its output (unsafe) never flushes, and the
    # pages would reach the store only with the discard's flush below, never as objects that
    # the discard leaves to gc.
    timeout 300 qemu-img convert -n -t writeback -f raw -O raw "$work/random.img" "$url" || s=1
    timeout 300 qemu-img compare -f raw -F raw "$work/random.img" "$(json $((32 << 20)))" || s=1
fi
result "qemu-img convert and compare, 32 MiB into a thin volume" $s

# 2. Discard pages 16..47 (2 MiB at 1 MiB) and flush; map says zero/no data there.
s=0
timeout 60 qemu-io -f raw -c "discard $((16 * page)) $((32 * page))" -c flush "$url" >/dev/null || s=1
map=$(timeout 60 qemu-img map -f raw --output=json "$(json $((32 << 20)))") || s=1
# The discarded range is one extent of zeros without data, between two extents of data.
grep -q "\"start\": $((16 * page)), \"length\": $((32 * page)), \"depth\": 0, \"present\": true, \"zero\": true, \"data\": false" <<<"$map" ||
    { echo "qemu-img map: $map"; s=1; }
cp "$work/random.img" "$work/expected.img"
dd if=/dev/zero of="$work/expected.img" bs=$page seek=16 count=32 conv=notrunc status=none
timeout 300 qemu-img compare -f raw -F raw "$work/expected.img" "$(json $((32 << 20)))" || s=1
result "discarded pages are unmapped (qemu-img map) and read as zeros" $s

# 3. Garbage collection after itd stops.
s=0
stop_itd "$work/itd-1.log" || s=1
before=$(objects)
"$itd" volume gc "$store" --grace 0s || s=1
after=$(objects)
[ "$after" -lt "$before" ] || { echo "objects: $before before gc, $after after"; s=1; }
start_itd "$work/itd-2.log" --target-name "$target" "thin:$store/vol0" || s=1
timeout 300 qemu-img compare -f raw -F raw "$work/expected.img" "$(json $((32 << 20)))" || s=1
stop_itd "$work/itd-2.log" || s=1
result "gc sweeps unreferenced objects ($before -> $after) and the volume reads back" $s

# 4. kill -9 in the middle of a synced write stream.
s=0
seed=$((RANDOM * 32768 + RANDOM))
blocks=$((96 << 11))  # 96 MiB of 512-byte blocks
start_itd "$work/itd-3.log" --target-name "$target" "thin:$store/vol1,size=128M" || s=1
ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=0 \
    timeout 300 "$client" stream "$seed" "$blocks" >"$work/stream.out" 2>&1 &
writer=$!
# Kill once a few MiB are acknowledged, while the stream goes on.
for ((i = 0; i < 600; i++)); do
    [ "$(grep -c synced "$work/stream.out" || true)" -ge 4 ] && break
    sleep 0.1
done
kill9_itd
wait "$writer" || true
synced=$(grep synced "$work/stream.out" | tail -1 | awk '{print $2}')
if [ -z "$synced" ]; then
    echo "no SYNCHRONIZE CACHE was acknowledged:"; cat "$work/stream.out"; s=1
else
    start_itd "$work/itd-4.log" --target-name "$target" "thin:$store/vol1" || s=1
    ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=0 \
        timeout 300 "$client" verify "$seed" "$synced" || s=1
    stop_itd "$work/itd-4.log" || s=1
fi
result "kill -9 during a write stream: all $synced synced blocks intact (seed $seed)" $s
summary
