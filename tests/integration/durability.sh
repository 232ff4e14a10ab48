#!/usr/bin/env bash
# Crash durability: what a SYNCHRONIZE CACHE acknowledged survives kill -9.
#   durability.sh BUILD_DIR
# Starts itd from BUILD_DIR with two file LUNs in a temp dir (512- and 4096-byte blocks),
# writes seeded random blocks to each with itd_durability (libiscsi), SYNCHRONIZE CACHE, kills
# itd with SIGKILL at once, restarts it on the same files (without size=) and reads back every
# block. Then stops it with SIGTERM (status 0, no sanitizer report).
# Ends with "N passed, M failed".
set -euo pipefail

build=$(cd "${1:?usage: durability.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2034  # lib.sh runs it
itd="$build/src/daemon/itd"
client="$build/tests/integration/itd_durability"
work=$(mktemp -d /tmp/itd-durable.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT

target=iqn.2026-11.org.itd:durability
seed=$((RANDOM * 32768 + RANDOM))
# LUN: "blocks written" (8 MiB on the 512-byte LUN, 16 MiB on the 4096-byte one).
declare -A blocks=([0]=16384 [1]=4096)

client_run() {  # LUN MODE
    ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=$1 \
        timeout 120 "$client" "$2" "$seed" "${blocks[$1]}"
}

s=0
start_itd "$work/itd-1.log" --target-name "$target" "file:$work/lun0.img,size=64M" \
    "file:$work/lun1.img,size=64M,block-size=4096" || s=1
for lun in 0 1; do
    [ $s -eq 0 ] || break
    out=$(client_run "$lun" write 2>&1) || s=1
    [ "$out" = "synced" ] || { echo "LUN $lun: $out"; s=1; }
done
if [ $s -eq 0 ]; then
    kill9_itd
    start_itd "$work/itd-2.log" --target-name "$target" "file:$work/lun0.img" \
        "file:$work/lun1.img,block-size=4096" || s=1
    for lun in 0 1; do
        [ $s -eq 0 ] || break
        client_run "$lun" verify || s=1
    done
    stop_itd "$work/itd-2.log" || s=1
fi
[ $s -eq 0 ] || { echo "itd logs:"; tail -20 "$work"/itd-*.log; }
result "kill -9 right after SYNCHRONIZE CACHE loses nothing (seed $seed; 8 MiB on 512-byte, 16 MiB on 4096-byte blocks)" $s
summary
