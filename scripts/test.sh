#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is needed (with etcd and
# Ceph for the cluster tests), builds the
# release, ASan+UBSan and fuzz configurations with warnings as errors, and runs
#   1. unit tests (ctest) in release and under ASan+UBSan;
#   2. the integration tests (tests/integration/run.sh: libiscsi, qemu-img, iscsi-test-cu,
#      kill -9 durability, APTPL restarts, config file, CHAP, digests) against the release
#      build (plus conformance-matrix.sh: the whole iscsi-test-cu suite in every LUN
#      configuration, zero failures) and against the ASan+UBSan build; the etcd meta store
#      against real etcd members (ctest, label cluster);
#   3. the cluster tests (tests/cluster/): a single-node Ceph cluster with radosgw and etcd,
#      started and stopped by each script, for the RADOS and S3 object stores and for thin
#      volumes on them served through iSCSI (conformance, qemu-img, kill -9, failover,
#      fencing, faults);
#   4. every libFuzzer fuzzer in build/fuzz/tests/fuzz for FUZZ_SECONDS (default 30) each,
#      over a temporary copy of its seed corpus (the repository is not modified; a crashing
#      input is kept in build/fuzz-artifacts/).
# Every step has a time limit; on 2 cores the whole run takes about 70 minutes from scratch.
# Ends with "N passed, M failed" (test groups) and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${FUZZ_SECONDS:-30}
passed=0
failed=0
failures=()
notes=()
work=$(mktemp -d /tmp/itd-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

step() {  # NAME COMMAND...: one test group
    local name=$1; shift
    echo "=== $name"
    local start=$SECONDS s=0
    "$@" || s=$?
    if [ $s -eq 0 ]; then
        passed=$((passed + 1)); echo "=== PASS $name ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "=== FAIL $name (status $s, $((SECONDS - start)) s)"
    fi
}

timeout 1800 ./scripts/install-deps.sh
# The cluster tests' services listen on fixed ports from 36700 to 39460, inside the kernel's
# range for ephemeral ports (32768-60999): once, a client socket that had taken 37430 made
# radosgw fail to bind it. Reserve them from ephemeral use (root only; until reboot).
reserved=/proc/sys/net/ipv4/ip_local_reserved_ports
if [ -w "$reserved" ]; then
    current=$(cat "$reserved")
    echo "${current:+$current,}36700-39460" >"$reserved"
fi
# The cluster services the tests start on 127.0.0.1 (etcd; Ceph with radosgw for S3 and RADOS).
timeout 1800 ./scripts/cluster/install-etcd.sh
timeout 1800 ./scripts/cluster/ceph.sh install

build() {  # PRESET
    timeout 300 cmake --preset "$1" >/dev/null && timeout -k 30 2400 cmake --build --preset "$1"
}
unit() {  # PRESET
    timeout -k 30 900 ctest --preset "$1" --output-on-failure -j2
}
integration() {  # BUILD_DIR [--all]
    timeout -k 60 1800 tests/integration/run.sh "$@"
}
integration_asan() {  # leaks and UBSan findings are failures too (stop_itd greps the log)
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        integration build/asan
}
cluster() {  # BUILD_DIR: the stores and thin LUNs against real Ceph and etcd each script starts
    local s=0
    timeout -k 30 600 tests/cluster/ceph_smoke.sh || s=1
    timeout -k 30 900 tests/cluster/s3_test.sh "$1" || s=1
    timeout -k 30 900 tests/cluster/rados_test.sh "$1" || s=1
    timeout -k 30 1200 tests/cluster/thin_cluster.sh "$1" || s=1
    timeout -k 30 600 tests/cluster/thin_failover.sh "$1" || s=1
    return $s
}
fuzz_one() {  # FUZZER
    local f=$1 name dir status=0
    name=$(basename "$f")
    dir="$work/corpus-$name"
    mkdir -p "$dir" build/fuzz-artifacts
    if [ -d "tests/fuzz/corpus/$name" ]; then cp -r "tests/fuzz/corpus/$name/." "$dir/"; fi
    timeout -k 30 $((fuzz_seconds + 120)) "$f" -max_total_time="$fuzz_seconds" -timeout=25 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="build/fuzz-artifacts/$name-" \
        "$dir" >"$work/$name.log" 2>&1 || status=$?
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$name.log" || true
    if [ $status -ne 0 ]; then
        tail -60 "$work/$name.log"
        echo "crashing input (if any): build/fuzz-artifacts/$name-*"
    fi
    return $status
}

step "build release" build release
step "unit tests (release)" unit release
step "integration tests (release)" integration build/release --all
step "cluster tests: Ceph RADOS, S3 and etcd; thin LUNs on them (release)" cluster build/release
step "build asan" build asan
step "unit tests (ASan+UBSan)" unit asan
step "integration tests (ASan+UBSan)" integration_asan
step "build fuzz" build fuzz
fuzzers=()
for f in build/fuzz/tests/fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] && fuzzers+=("$f")
done
if [ ${#fuzzers[@]} -eq 0 ]; then
    notes+=("SKIPPED: no fuzzers (fuzz_*) were built in build/fuzz/tests/fuzz: nothing was fuzzed")
    printf '\n!!!!!!!!\n!!! %s\n!!!!!!!!\n\n' "${notes[-1]}"
fi
for f in "${fuzzers[@]}"; do
    step "fuzz $(basename "$f") (${fuzz_seconds} s)" fuzz_one "$f"
done

echo
echo "=== summary (${SECONDS} s)"
for n in "${notes[@]}"; do echo "$n"; done
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
