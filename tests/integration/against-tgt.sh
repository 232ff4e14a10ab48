#!/usr/bin/env bash
# Runs the integration clients against SCSI TGT (tgtd) instead of itd, to show that the tests
# test something: a correct, independent target should pass them.
#   tests/integration/against-tgt.sh BUILD_DIR
# Needs the Debian package tgt (not installed by scripts/install-deps.sh; a developer tool) and
# root. tgtd runs in the foreground on 127.0.0.1 with its own control port, serves one target
# with a 256 MiB file as LUN 1 (tgt's LUN 0 is its controller), and is stopped by its own PID.
# tgt 1.0.85 differs from itd (and from RFC 7143) in a few places the tests check; those
# failures are expected and listed, any other failure fails this script:
#   Malformed.UnknownOpcodeGetsReject            tgt closes the connection instead of a Reject
#   Malformed.DataSegmentBeyondTheLimitDropsTheConnection
#                                                tgt waits for the oversized data segment
#   iscsi-test-cu iSCSIdatasn                    tgt does not check the DataSN of Data-Out
# Ends with "N passed, M failed".
set -euo pipefail

build=$(cd "${1:?usage: against-tgt.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
command -v tgtd >/dev/null || { echo "against-tgt: tgtd not found (apt-get install tgt)"; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "against-tgt: tgtd needs root"; exit 2; }

work=$(mktemp -d /tmp/itd-tgt.XXXXXX)
tgt_pid=""
ctl=""
# tgtd ignores SIGTERM while it serves a target: delete the target, then the system (tgtd
# exits), and stop_pid only waits for it (and kills it if it did not go).
tgt_shutdown() {
    timeout 10 tgtadm -C "$ctl" --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1 || true
    timeout 10 tgtadm -C "$ctl" --lld iscsi --op delete --mode system >/dev/null 2>&1 || true
}
cleanup() {
    if [ -n "$tgt_pid" ]; then
        tgt_shutdown
        stop_pid "$tgt_pid" 10 >/dev/null 2>&1 || true
    fi
    # tgtd leaves its control socket behind.
    if [ -n "$ctl" ]; then rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"; fi
    rm -rf "$work"
}
trap cleanup EXIT

target=iqn.2026-11.org.itd:tgt-reference
lun=1
truncate -s 256M "$work/lun1.img"

# tgtd cannot listen on port 0: try free-looking ports until one binds (bounded).
for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    ctl=$((1000 + RANDOM % 30000))
    ss -ltn "sport = :$port" | grep -q LISTEN && continue
    tgtd -f -C "$ctl" --iscsi portal=127.0.0.1:$port >"$work/tgtd.log" 2>&1 &
    tgt_pid=$!
    up=0
    for _ in $(seq 1 50); do
        kill -0 "$tgt_pid" 2>/dev/null || break
        if ss -ltn "sport = :$port" | grep -q LISTEN &&
            tgtadm -C "$ctl" --lld iscsi --op show --mode sys >/dev/null 2>&1; then
            up=1; break
        fi
        sleep 0.1
    done
    [ $up -eq 1 ] && break
    stop_pid "$tgt_pid" 5 >/dev/null 2>&1 || true
    rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"
    tgt_pid=""
done
[ -n "$tgt_pid" ] || { echo "against-tgt: tgtd did not start"; cat "$work/tgtd.log"; exit 1; }
tgtadm -C "$ctl" --lld iscsi --op new --mode target --tid 1 -T "$target"
tgtadm -C "$ctl" --lld iscsi --op new --mode logicalunit --tid 1 --lun "$lun" -b "$work/lun1.img"
tgtadm -C "$ctl" --lld iscsi --op bind --mode target --tid 1 -I ALL
echo "against-tgt: tgtd (PID $tgt_pid) serves $target LUN $lun on 127.0.0.1:$port"
url="iscsi://127.0.0.1:$port/$target/$lun"

known_gtest="Malformed.UnknownOpcodeGetsReject Malformed.DataSegmentBeyondTheLimitDropsTheConnection"
known_cu="iSCSIdatasn"

s=0
ITD_PORTAL=127.0.0.1:$port ITD_TARGET=$target ITD_LUN=$lun \
    timeout 300 "$build/tests/integration/itd_integration_tests" \
    >"$work/gtest.log" 2>&1 || true
grep -q "^\[  PASSED  \]" "$work/gtest.log" || s=1
# The names of the failed tests, from the closing list ("[  FAILED  ] Suite.Name, where ...").
mapfile -t failed_tests < <(sed -nE 's/^\[  FAILED  \] ([A-Za-z0-9_/.]+)( \(|, |$).*/\1/p' "$work/gtest.log" | sort -u)
for t in "${failed_tests[@]}"; do
    if [[ " $known_gtest " == *" $t "* ]]; then
        echo "INFO  expected on tgt: $t failed"
    else
        echo "unexpected failure: $t"; s=1
    fi
done
[ $s -eq 0 ] || tail -60 "$work/gtest.log"
npass=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\./\1/p' "$work/gtest.log")
result "libiscsi client tests on tgtd (${npass:-0} passed, ${#failed_tests[@]} expected failures)" $s

s=0; "$here/qemu.sh" "$url" 64 || s=$?
result "qemu-img convert and compare on tgtd" $s

s=0; "$here/conformance.sh" "$url" Inquiry TestUnitReady ReadCapacity10 ReadCapacity16 Read10 \
    Read12 Read16 Write10 Write12 Write16 iSCSIcmdsn iSCSIResiduals || s=$?
result "iscsi-test-cu suites on tgtd" $s
for suite in $known_cu; do
    s=0; cu_suite "$url" "$suite" "$work/cu-$suite.log" >/dev/null || s=$?
    if [ $s -ne 0 ]; then
        echo "INFO  expected on tgt: iscsi-test-cu $suite fails ($CU_SUMMARY)"
    else
        echo "INFO  iscsi-test-cu $suite now passes on tgt ($CU_SUMMARY): update this script"
    fi
done

s=0
tgt_shutdown
stop_pid "$tgt_pid" 15 || s=$?
tgt_pid=""
ctl=""
result "tgtd stopped by its PID" $s
summary
