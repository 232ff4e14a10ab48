#!/usr/bin/env bash
# A quick end-to-end check of itd_load against a real itd (CTest runs it; about 10 s):
#   bench/load/smoke.sh ITD ITD_LOAD
# One itd on 127.0.0.1 (a port the kernel picks) with a 512-byte and a 4096-byte-block memory
# LUN; every --rw mode for a moment on each, several sessions on two threads; each run must
# exit 0 with errors=0 and a last line in the form bench/compare.sh parses. Then the failures:
# bad options exit 2, an unreachable portal and a --bs the LUN cannot take exit non-zero.
set -euo pipefail

itd=$(realpath "${1:?usage: smoke.sh ITD ITD_LOAD}")  # lib.sh's launch_itd runs $itd
export itd
load=$(realpath "${2:?usage: smoke.sh ITD ITD_LOAD}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../tests/integration/lib.sh
source "$here/../../tests/integration/lib.sh"
work=$(mktemp -d /tmp/itd-load-smoke.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT

target=iqn.2026-12.org.itd:load-smoke
start_itd "$work/itd.log" --target-name "$target" memory:64M memory:64M,block-size=4096 ||
    { result "itd starts" 1; summary || true; exit 1; }
url="iscsi://127.0.0.1:$PORT/$target"
is() { [ "$1" -eq "$2" ] && echo 0 || echo 1; }  # WANT GOT: 0 when they match (for result)
format='^itd_load: rw=[a-z]+ bs=[0-9]+ depth=[0-9]+ sessions=[0-9]+ threads=[0-9]+ seconds=[0-9.]+ ios=[0-9]+ iops=[0-9.]+ mibps=[0-9.]+ p50_us=[0-9.]+ p99_us=[0-9.]+ p999_us=[0-9.]+ max_us=[0-9.]+ errors=0$'

for lun in 0 1; do
    for rw in randread randwrite read write randrw; do
        s=0
        timeout 60 "$load" --rw "$rw" --bs 4K --depth 8 --sessions 3 --threads 2 --seconds 0.5 \
            --ramp 0.2 "$url/$lun" >"$work/out" 2>"$work/err" || s=$?
        last=$(tail -1 "$work/out")
        [[ "$last" =~ $format ]] || s=1
        # Something completed in the window.
        [[ "$last" =~ \ ios=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] || s=1
        [ $s -eq 0 ] || { cat "$work/out" "$work/err"; }
        result "itd_load --rw $rw, LUN $lun: exit 0, errors=0, summary line" $s
    done
done

s=0
timeout 60 "$load" --rw read --bs 1M --depth 4 --header-digest --seconds 0.5 "$url/0" >"$work/out" 2>&1 || s=$?
[[ "$(tail -1 "$work/out")" =~ $format ]] || { s=1; cat "$work/out"; }
result "itd_load 1 MiB sequential reads with header digests" $s

s=0
timeout 10 "$load" --depth 0 "$url/0" >/dev/null 2>&1 || s=$?
result "itd_load --depth 0: exit 2" "$(is 2 $s)"

s=0
timeout 10 "$load" --bs 512 --seconds 0.5 "$url/1" >/dev/null 2>&1 || s=$?
result "itd_load --bs 512 on a 4096-byte-block LUN: exit 2" "$(is 2 $s)"

s=0
timeout 60 "$load" --seconds 0.5 "iscsi://127.0.0.1:$PORT/iqn.2026-12.org.itd:nobody/0" \
    >/dev/null 2>"$work/err" || s=$?
grep -q "login" "$work/err" || { s=99; cat "$work/err"; }
result "itd_load to an unknown target: exit 1, says login failed" "$(is 1 $s)"

s=0; stop_itd "$work/itd.log" || s=$?
result "itd exits 0 on SIGTERM" $s
summary
