#!/usr/bin/env bash
# Integration tests against a real itd: tests/integration/run.sh BUILD_DIR [--all]
#
# Starts itd from BUILD_DIR on 127.0.0.1 (--listen 127.0.0.1:0: the kernel picks a free port
# and itd names it in its ready line, so there is no port race), with a memory LUN, a file
# LUN, a 4096-byte-block LUN, a 64 MiB file LUN for qemu-img, thin memory and file LUNs (4, 5)
# and a removable memory LUN (6), and drives it with real clients: the libiscsi test program
# (itd_integration_tests), qemu-img (qemu.sh), iscsi-test-cu (conformance.sh), and a kill -9
# durability check (durability.sh). Every daemon is stopped by its own PID. With --all it also
# runs the whole iscsi-test-cu suite in every LUN configuration (conformance-matrix.sh), which
# must have zero failures.
# Prints one line per test group and ends with "N passed, M failed".
set -euo pipefail

build=$(cd "${1:?usage: run.sh BUILD_DIR [--all]}" && pwd)
run_all=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
itd="$build/src/daemon/itd"
[ -x "$itd" ] || { echo "run.sh: no itd at $itd"; exit 1; }
[ -x "$build/tests/integration/itd_integration_tests" ] ||
    { echo "run.sh: no itd_integration_tests in $build/tests/integration"; exit 1; }
work=$(mktemp -d /tmp/itd-it.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT

target=iqn.2026-11.org.itd:integration
log="$work/itd.log"
start_itd "$log" --target-name "$target" memory:256M "file:$work/disk.img,size=256M" \
    memory:256M,block-size=4096 "file:$work/qemu.img,size=64M" \
    memory:128M,thin "file:$work/thin.img,size=128M,thin" memory:128M,removable ||
    { result "itd starts and says it is ready" 1; summary || true; exit 1; }
url="iscsi://127.0.0.1:$PORT/$target"

# 1. The libiscsi test program, on each LUN.
for lun in 0 1 2; do
    s=0
    ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=$lun \
        timeout 300 "$build/tests/integration/itd_integration_tests" --gtest_brief=1 \
        >"$work/gtest-$lun.log" 2>&1 || s=$?
    [ $s -eq 0 ] || tail -40 "$work/gtest-$lun.log"
    result "libiscsi client tests, LUN $lun" $s
done

# 2. qemu-img: a random 64 MiB image into a 64 MiB file LUN and compared back.
s=0
"$here/qemu.sh" "$url/3" 64 >"$work/qemu.log" 2>&1 || s=$?
[ $s -eq 0 ] || cat "$work/qemu.log"
result "qemu-img convert and compare (64 MiB)" $s

# 3. iscsi-test-cu (conformance.sh runs the same outside this script), zero failures.
# run_suites "LUNS" "SUITES": each suite on each LUN, zero failures required.
run_suites() {
    local lun suite s
    for lun in $1; do
        for suite in $2; do
            s=0
            cu_suite "$url/$lun" "$suite" "$work/cu-$suite-$lun.log" || s=$?
            result "iscsi-test-cu $suite LUN $lun ($CU_SUMMARY)" $s
        done
    done
}
run_suites "0 2" "Inquiry TestUnitReady ReadCapacity10 ReadCapacity16 Read10 Read12 Read16 Write10 \
Write12 Write16 iSCSIcmdsn iSCSIdatasn iSCSIResiduals iSCSITMF PrinReadKeys PrinServiceactionRange \
PrinReportCapabilities ProutRegister ProutClear ProutPreempt Reserve6"
# libiscsi's ProutReserve.Access* read and write a 512-byte buffer whatever the block size, so
# the suite runs on the 512-byte-block LUNs only (conformance-matrix.sh says more).
run_suites "0 4" "ProutReserve"
# The SBC provisioning, verify and compare suites, on the thin memory and thin file LUNs.
run_suites "4 5" "Unmap WriteSame10 WriteSame16 GetLBAStatus Verify10 Verify12 Verify16 WriteVerify10 \
WriteVerify12 WriteVerify16 Prefetch10 Prefetch16 CompareAndWrite OrWrite"
# The copy manager, on a 512-byte, a 4096-byte and a thin LUN.
run_suites "0 2 4" "ExtendedCopy ReceiveCopyResults"

# The removable-medium suites (eject, load, prevention per nexus, reset and nexus loss) and
# MODE SENSE on the removable LUN.
run_suites "6" "StartStopUnit PreventAllow NoMedia ModeSense6"

s=0; stop_itd "$log" || s=$?
result "itd exits 0 on SIGTERM, no sanitizer report" $s

# script_group SECONDS SCRIPT DESCRIPTION: one of the scripts next to this one, on this build,
# with its own daemons; its log is shown when it fails.
script_group() {
    local s=0 name
    name=$(basename "$2" .sh)
    timeout "$1" "$here/$2" "$build" >"$work/$name.log" 2>&1 || s=$?
    [ $s -eq 0 ] || cat "$work/$name.log"
    result "$3" $s
}

# 4. Durability: written, SYNCHRONIZE CACHE, kill -9, restart on the same files, read back.
script_group 600 durability.sh \
    "kill -9 right after SYNCHRONIZE CACHE loses nothing (durability.sh: 512- and 4096-byte-block file LUNs)"
# 4b. Persistent reservations with APTPL=1 across a restart.
script_group 600 aptpl.sh "APTPL persistent reservations survive restarts (aptpl.sh)"
# 4c. Thin volumes in a local store: qemu-img, discard and map, gc, kill -9 during a stream.
script_group 900 thin.sh \
    "thin volumes: qemu-img round trip, discard, gc, kill -9 during synced writes (thin.sh)"
# 4d. `itd volume`: thin volume management, online through the owner and offline.
script_group 600 volume_cli.sh \
    "itd volume create/list/import/export/snapshot/grow/clone/delete/gc (volume_cli.sh)"

# 5. Bad input on the command line: one line, exit status 2.
s=0
err=$(timeout -k 5 10 "$itd" memory:1X 2>&1) && s=1 || [ $? -eq 2 ] || s=1
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || s=1
[ $s -eq 0 ] || echo "got: $err"
result "bad LUN-SPEC: one line, exit 2 ($err)" $s

# 6. The config file form: two targets with their own LUNs, both discovered and usable.
cfg="$work/itd.toml"
cat >"$cfg" <<TOML
listen = ["127.0.0.1:0"]
[[target]]
name = "iqn.2026-11.org.itd:first"
[[target.lun]]
spec = "memory:32M"
[[target]]
name = "iqn.2026-11.org.itd:second"
[[target.lun]]
backend = "file"
path = "$work/second.img"
size = "48M"
[[target.lun]]
spec = "memory:16M,block-size=4096"
TOML
clog="$work/itd-config.log"
s=0
launch_itd "$clog" "ready: target iqn.2026-11.org.itd:second" --config "$cfg" || s=1
listing=$(timeout 60 iscsi-ls -s "iscsi://127.0.0.1:$PORT" 2>&1) || s=1
# iscsi-ls prints the last LBA times the block size, rounded down: 48 MiB shows as 47M.
for want in "Target:iqn.2026-11.org.itd:first" "Target:iqn.2026-11.org.itd:second" "Size:47M" \
    "Size:15M" "Size:31M"; do
    grep -q "$want" <<<"$listing" || { echo "missing '$want' in:"; echo "$listing"; s=1; }
done
stop_itd "$clog" || s=$?
result "config file: two targets, three LUNs, discovered and read" $s

# 7. CHAP and allow lists: one-way CHAP on one target, mutual on another, an allow list on a
# third; libiscsi logins (right, wrong and missing secrets, a refused initiator, SendTargets)
# and iscsi-test-cu with the credentials in its URL. Secrets live in the config file only.
chap_user=itd-user chap_secret=initiator-secret-0123
mutual_user=itd-target mutual_secret=target-secret-4567
allowed=iqn.2026-11.org.itd.test:allowed
cfg="$work/itd-chap.toml"
cat >"$cfg" <<TOML
listen = ["127.0.0.1:0"]
[[target]]
name = "iqn.2026-11.org.itd:chap"
chap-user = "$chap_user"
chap-secret = "$chap_secret"
[[target.lun]]
spec = "memory:32M"
[[target]]
name = "iqn.2026-11.org.itd:mutual"
chap-user = "$chap_user"
chap-secret = "$chap_secret"
mutual-chap-user = "$mutual_user"
mutual-chap-secret = "$mutual_secret"
[[target.lun]]
spec = "memory:16M"
[[target]]
name = "iqn.2026-11.org.itd:acl"
allow = ["$allowed", "10.255.255.0/24"]
[[target.lun]]
spec = "memory:16M"
TOML
chmod 600 "$cfg"
hlog="$work/itd-chap.log"
s=0
launch_itd "$hlog" "ready: target iqn.2026-11.org.itd:acl" --config "$cfg" --log-level debug || s=1
ITD_PORTAL=127.0.0.1:$PORT ITD_CHAP_TARGET=iqn.2026-11.org.itd:chap \
    ITD_MUTUAL_TARGET=iqn.2026-11.org.itd:mutual ITD_ACL_TARGET=iqn.2026-11.org.itd:acl \
    ITD_CHAP_USER=$chap_user ITD_CHAP_SECRET=$chap_secret ITD_MUTUAL_USER=$mutual_user \
    ITD_MUTUAL_SECRET=$mutual_secret ITD_ACL_ALLOWED=$allowed \
    timeout 120 "$build/tests/integration/itd_integration_tests" --gtest_brief=1 \
    --gtest_filter='Chap.*' >"$work/gtest-chap.log" 2>&1 || s=$?
grep -q "PASSED.* 8 tests" "$work/gtest-chap.log" || s=1
[ $s -eq 0 ] || tail -40 "$work/gtest-chap.log"
result "CHAP one-way and mutual, wrong/missing secrets refused, allow list and SendTargets" $s
cu="$work/cu-chap.log"
timeout 600 iscsi-test-cu --dataloss -i iqn.2026-11.org.itd.test:cu --test=ALL.Read10 \
    "iscsi://$chap_user%$chap_secret@127.0.0.1:$PORT/iqn.2026-11.org.itd:chap/0" >"$cu" 2>&1 || true
read -r p f sk <<<"$(cu_counts "$cu")"
s=0
if [ "$f" != 0 ] || [ "$p" -eq 0 ] || ! grep -q "Run Summary" "$cu"; then s=1; tail -30 "$cu"; fi
result "iscsi-test-cu Read10 over CHAP ($p passed, $f failed, $sk skipped)" $s
s=0
# No secret may reach the log, at any level.
if grep -qF -e "$chap_secret" -e "$mutual_secret" "$hlog"; then echo "a secret is in $hlog"; s=1; fi
stop_itd "$hlog" || s=$?
result "CHAP daemon: no secret in the debug log, exits 0" $s
# The quick form takes its credentials from --chap-file, never from argv.
printf '%s %s\n' "$chap_user" "$chap_secret" >"$work/chap.txt"
chmod 600 "$work/chap.txt"
qlog="$work/itd-chap-file.log"
start_itd "$qlog" --target-name "$target" --chap-file "$work/chap.txt" memory:16M
s=0
timeout 120 iscsi-test-cu -i iqn.2026-11.org.itd.test:cu --test=ALL.TestUnitReady \
    "iscsi://$chap_user%$chap_secret@127.0.0.1:$PORT/$target/0" >"$work/cu-chap-file.log" 2>&1 || true
read -r p f sk <<<"$(cu_counts "$work/cu-chap-file.log")"
if [ "$p" -lt 1 ] || [ "$f" != 0 ]; then s=1; tail -20 "$work/cu-chap-file.log"; fi
if timeout 30 iscsi-test-cu -i iqn.2026-11.org.itd.test:cu --test=ALL.TestUnitReady \
    "iscsi://127.0.0.1:$PORT/$target/0" 2>&1 | grep -q "Run Summary"; then
    echo "a login without CHAP reached the tests"; s=1
fi
stop_itd "$qlog" || s=$?
result "--chap-file: the quick form requires CHAP ($p passed)" $s

# 8. With --all: the whole iscsi-test-cu suite in every LUN configuration, with CHAP, with
# header digests and over two sessions at once; zero failures required, and the table is printed
# for the record.
if [ "$run_all" = "--all" ]; then
    s=0
    timeout -k 60 3600 "$here/conformance-matrix.sh" "$build" >"$work/matrix.log" 2>&1 || s=$?
    cat "$work/matrix.log"
    result "iscsi-test-cu --test=ALL in every LUN configuration (conformance-matrix.sh)" $s
fi

summary
