#!/usr/bin/env bash
# A quick end-to-end check of itd_digest_load against a real itd (CTest runs it; about 15 s):
#   bench/load/digest_smoke.sh ITD ITD_DIGEST_LOAD
# One itd on 127.0.0.1 (a port the kernel picks) with a 64 MiB memory LUN. Reads and writes
# for a second with digests none, header and both: each must exit 0 with errors=0, a login
# line naming the digests agreed, and a last line in the form the README's figures come from.
# A 3 MiB write takes several R2Ts (MaxBurstLength 1 MiB). On a 6 MiB LUN, --verify writes
# stamp every block with its LBA and --verify reads find each stamp in place (digests cannot
# see data at the wrong offset). Then the failures: a target name that does not exist exits 1
# saying so, bad options exit 2.
set -euo pipefail

itd=$(realpath "${1:?usage: digest_smoke.sh ITD ITD_DIGEST_LOAD}")  # lib.sh's launch_itd runs $itd
export itd
load=$(realpath "${2:?usage: digest_smoke.sh ITD ITD_DIGEST_LOAD}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../tests/integration/lib.sh
source "$here/../../tests/integration/lib.sh"
work=$(mktemp -d /tmp/itd-digest-smoke.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT

target=iqn.2026-12.org.itd:digest-smoke
start_itd "$work/itd.log" --target-name "$target" memory:64M memory:6M ||
    { result "itd starts" 1; summary || true; exit 1; }
portal="127.0.0.1:$PORT"
is() { [ "$1" -eq "$2" ] && echo 0 || echo 1; }  # WANT GOT: 0 when they match (for result)

# run NAME DIGESTS LUN ARGS...: one run that must succeed.
run() {
    local name=$1 digests=$2 lun=$3 s=0 last hd dd
    shift 3
    timeout 60 "$load" --digests "$digests" "$@" "$portal" "$target" "$lun" >"$work/out" \
        2>"$work/err" || s=$?
    last=$(tail -1 "$work/out")
    [[ "$last" =~ ^itd_digest_load:\ digests=$digests\ rw=(read|write)\ bs=[0-9]+\ depth=[0-9]+\ seconds=[0-9.]+\ ios=([0-9]+)\ iops=[0-9.]+\ mibps=[0-9.]+\ errors=0$ ]] &&
        [ "${BASH_REMATCH[2]}" -gt 0 ] || s=1
    case $digests in
        none) hd=None dd=None ;;
        header) hd=CRC32C dd=None ;;
        both) hd=CRC32C dd=CRC32C ;;
    esac
    grep -q "HeaderDigest=$hd DataDigest=$dd;" "$work/out" || s=1
    [ $s -eq 0 ] || cat "$work/out" "$work/err"
    result "$name" $s
}

for digests in none header both; do
    for rw in read write; do
        run "itd_digest_load --digests $digests --rw $rw: exit 0, errors=0, summary line" \
            "$digests" 0 --rw "$rw" --bs 1M --depth 8 --seconds 1 --ramp 0.2
    done
done
run "itd_digest_load --verify 3 MiB writes (several R2Ts each), digests both" both 1 \
    --rw write --verify --bs 3M --depth 2 --seconds 1.5 --ramp 0
run "itd_digest_load --verify 1 MiB reads find every LBA stamp, digests both" both 1 \
    --rw read --verify --bs 1M --depth 8 --seconds 0.5 --ramp 0
run "itd_digest_load --verify 4 KiB reads at depth 32, digests header" header 1 \
    --rw read --verify --bs 4K --depth 32 --seconds 0.5 --ramp 0

s=0
timeout 60 "$load" --seconds 0.5 "$portal" iqn.2026-12.org.itd:nobody 0 >/dev/null \
    2>"$work/err" || s=$?
grep -q "login failed: target not found" "$work/err" || { s=99; cat "$work/err"; }
result "itd_digest_load to an unknown target: exit 1, says the target was not found" \
    "$(is 1 $s)"

s=0
timeout 10 "$load" --digests crc "$portal" "$target" >/dev/null 2>&1 || s=$?
result "itd_digest_load --digests crc: exit 2" "$(is 2 $s)"

s=0; stop_itd "$work/itd.log" || s=$?
result "itd exits 0 on SIGTERM" $s
summary
