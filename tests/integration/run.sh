#!/usr/bin/env bash
# Integration tests against a real itd: tests/integration/run.sh BUILD_DIR [--all]
#
# Starts itd from BUILD_DIR on 127.0.0.1 (a port the kernel picks), with a memory LUN, a file
# LUN, a 4096-byte-block LUN, a 64 MiB file LUN for qemu-img, and thin memory and file LUNs
# (4, 5), and drives it with real clients: the libiscsi test program,
# qemu-img, iscsi-test-cu, and a kill -9 durability check. Every daemon is stopped by its own
# PID. With --all it also runs the whole iscsi-test-cu suite and prints its totals (they do not
# decide the result: later issues fill in the commands it skips).
# Prints one line per test group and ends with "N passed, M failed".
set -euo pipefail

build=$(cd "${1:?usage: run.sh BUILD_DIR [--all]}" && pwd)
run_all=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
itd="$build/src/daemon/itd"
work=$(mktemp -d /tmp/itd-it.XXXXXX)
pids=()
passed=0
failed=0

cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

result() {  # name status
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS  $1"
    else
        failed=$((failed + 1)); echo "FAIL  $1"
    fi
}

# start_itd LOG ARGS... : starts itd, waits for its ready line, sets ITD_PID and PORT.
start_itd() {
    local log=$1; shift
    "$itd" --listen 127.0.0.1:0 --log-level debug "$@" >"$log" 2>&1 &
    ITD_PID=$!
    pids+=("$ITD_PID")
    for _ in $(seq 1 100); do
        if grep -q "ready: target" "$log"; then
            PORT=$(grep -m1 "ready: target" "$log" | sed -E 's/.* on 127\.0\.0\.1:([0-9]+).*/\1/')
            return 0
        fi
        kill -0 "$ITD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "itd did not become ready:"; cat "$log"
    return 1
}

# stop_itd LOG : SIGTERM, wait (bounded) for a clean exit with status 0.
stop_itd() {
    local log=$1 status=0
    kill -TERM "$ITD_PID"
    for _ in $(seq 1 150); do
        kill -0 "$ITD_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$ITD_PID" 2>/dev/null; then
        echo "itd did not stop within 15 s of SIGTERM"; kill -9 "$ITD_PID"; status=1
    fi
    wait "$ITD_PID" || status=$?
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
        echo "sanitizer report in $log:"; grep -A20 -E "ERROR: |runtime error:" "$log" | head -60
        status=1
    fi
    return $status
}

target=iqn.2026-11.org.itd:integration
log="$work/itd.log"
start_itd "$log" --target-name "$target" memory:256M "file:$work/disk.img,size=256M" \
    memory:256M,block-size=4096 "file:$work/qemu.img,size=64M" \
    memory:128M,thin "file:$work/thin.img,size=128M,thin"
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
head -c 64M /dev/urandom >"$work/random.img"
timeout 300 qemu-img convert -n -f raw -O raw "$work/random.img" "$url/3" >"$work/qemu.log" 2>&1 &&
    timeout 300 qemu-img compare -f raw -F raw "$work/random.img" "$url/3" >>"$work/qemu.log" 2>&1 || s=$?
[ $s -eq 0 ] || cat "$work/qemu.log"
result "qemu-img convert and compare (64 MiB)" $s

# 3. iscsi-test-cu, the suites this issue covers, with zero failures.
cu_counts() {  # LOG -> "passed failed skipped"; a test that printed [SKIPPED] before its result is skipped
    perl -0777 -ne '
        my ($p, $f, $s) = (0, 0, 0);
        for my $t (split /\n  Test: /, $_) {
            next unless $t =~ / \.\.\./;
            my ($body) = $t =~ / \.\.\.(.*)/s;
            my ($before, $res) = $body =~ /^(.*?)(?<!\[)\b(passed|FAILED)\b(?!\])/s or next;
            if ($res eq "FAILED") { $f++ } elsif ($before =~ /\[SKIPPED\]/) { $s++ } else { $p++ }
        }
        print "$p $f $s\n";' "$1"
}
# run_suites "LUNS" "SUITES": each suite on each LUN, zero failures required.
run_suites() {
    local lun suite cu p f sk s
    for lun in $1; do
        for suite in $2; do
            cu="$work/cu-$suite-$lun.log"
            timeout 600 iscsi-test-cu --dataloss -i iqn.2026-11.org.itd.test:cu --test="ALL.$suite" \
                "$url/$lun" >"$cu" 2>&1 || true
            read -r p f sk <<<"$(cu_counts "$cu")"
            s=0
            if [ "$f" != 0 ] || [ $((p + sk)) -eq 0 ] || ! grep -q "Run Summary" "$cu"; then
                s=1; tail -30 "$cu"
            fi
            result "iscsi-test-cu $suite LUN $lun ($p passed, $f failed, $sk skipped)" $s
        done
    done
}
run_suites "0 2" "Inquiry TestUnitReady ReadCapacity10 ReadCapacity16 Read10 Read12 Read16 Write10 \
Write12 Write16 iSCSIcmdsn iSCSIdatasn iSCSIResiduals iSCSITMF"
# The SBC provisioning, verify and compare suites, on the thin memory and thin file LUNs.
run_suites "4 5" "Unmap WriteSame10 WriteSame16 GetLBAStatus Verify10 Verify12 Verify16 WriteVerify10 \
WriteVerify12 WriteVerify16 Prefetch10 Prefetch16 CompareAndWrite OrWrite"

if [ "$run_all" = "--all" ]; then
    for lun in 0 4; do
        cu="$work/cu-ALL-$lun.log"
        timeout 1800 iscsi-test-cu --dataloss -i iqn.2026-11.org.itd.test:cu --test=ALL "$url/$lun" \
            >"$cu" 2>&1 || true
        read -r p f sk <<<"$(cu_counts "$cu")"
        what=$([ "$lun" = 0 ] && echo "memory:256M" || echo "memory:128M,thin")
        echo "INFO  iscsi-test-cu --dataloss --test=ALL on LUN $lun ($what): $p passed, $f failed, $sk skipped"
        perl -0777 -ne 'for (split /\n  Test: /) { print "      failed: $1\n" if /^(\S+) \.\.\..*?(?<!\[)\bFAILED\b(?!\])/s }' "$cu"
    done
fi

s=0; stop_itd "$log" || s=$?
result "itd exits 0 on SIGTERM, no sanitizer report" $s

# 4. Durability: written, SYNCHRONIZE CACHE, kill -9, restart on the same file, read back.
dlog="$work/itd-durable.log"
start_itd "$dlog" --target-name "$target" "file:$work/durable.img,size=64M"
s=0
out=$(ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target timeout 120 \
    "$build/tests/integration/itd_durability" write 1234 16384 2>&1) || s=$?
if [ $s -eq 0 ] && [ "$out" = "synced" ]; then
    kill -9 "$ITD_PID"; wait "$ITD_PID" 2>/dev/null || true
    start_itd "$dlog.2" --target-name "$target" "file:$work/durable.img"
    ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target timeout 120 \
        "$build/tests/integration/itd_durability" verify 1234 16384 || s=$?
    stop_itd "$dlog.2" || s=$?
else
    echo "$out"; s=1
fi
result "kill -9 right after SYNCHRONIZE CACHE loses nothing (8 MiB, file LUN)" $s

# 5. Bad input on the command line: one line, exit status 2.
s=0
err=$("$itd" memory:1X 2>&1) && s=1 || [ $? -eq 2 ] || s=1
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
"$itd" --config "$cfg" >"$clog" 2>&1 &
ITD_PID=$!; pids+=("$ITD_PID")
for _ in $(seq 1 100); do grep -q "ready: target iqn.2026-11.org.itd:second" "$clog" && break; sleep 0.1; done
PORT=$(grep -m1 "ready: target" "$clog" | sed -E 's/.* on 127\.0\.0\.1:([0-9]+).*/\1/')
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
"$itd" --config "$cfg" --log-level debug >"$hlog" 2>&1 &
ITD_PID=$!; pids+=("$ITD_PID")
for _ in $(seq 1 100); do grep -q "ready: target iqn.2026-11.org.itd:acl" "$hlog" && break; sleep 0.1; done
PORT=$(grep -m1 "ready: target" "$hlog" | sed -E 's/.* on 127\.0\.0\.1:([0-9]+).*/\1/')
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
[ "$p" -ge 1 ] && [ "$f" = 0 ] || { s=1; tail -20 "$work/cu-chap-file.log"; }
if timeout 30 iscsi-test-cu -i iqn.2026-11.org.itd.test:cu --test=ALL.TestUnitReady \
    "iscsi://127.0.0.1:$PORT/$target/0" 2>&1 | grep -q "Run Summary"; then
    echo "a login without CHAP reached the tests"; s=1
fi
stop_itd "$qlog" || s=$?
result "--chap-file: the quick form requires CHAP ($p passed)" $s

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
