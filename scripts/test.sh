#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is needed, builds the
# release, ASan+UBSan and fuzz configurations with warnings as errors, and runs
#   1. unit tests (ctest) in release and under ASan+UBSan;
#   2. every libFuzzer fuzzer for a bounded time over a copy of its seed corpus;
#   3. the integration tests (tests/integration/run.sh: libiscsi, qemu-img, iscsi-test-cu,
#      kill -9 durability) against the release build and against the ASan+UBSan build.
# Ends with "N passed, M failed" (test groups) and exits non-zero on any failure.
# FUZZ_SECONDS (default 30) sets each fuzzer's time.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${FUZZ_SECONDS:-30}
passed=0
failed=0
failures=()
step() {  # name command...
    local name=$1; shift
    echo "=== $name"
    local start=$SECONDS s=0
    "$@" || s=$?
    if [ $s -eq 0 ]; then
        passed=$((passed + 1)); echo "=== PASS $name ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "=== FAIL $name (status $s)"
    fi
}

./scripts/install-deps.sh

build() {  # preset
    cmake --preset "$1" >/dev/null && timeout 2400 cmake --build --preset "$1"
}
unit() {  # preset
    timeout 900 ctest --preset "$1" --output-on-failure -j2
}
fuzz() {
    local found=0 dir
    for f in build/fuzz/tests/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        found=1
        local name; name=$(basename "$f")
        dir=$(mktemp -d /tmp/itd-corpus.XXXXXX)
        cp tests/fuzz/corpus/"$name"/* "$dir"/ 2>/dev/null || true
        echo "--- $name (${fuzz_seconds} s)"
        if ! timeout $((fuzz_seconds + 120)) "$f" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
            -artifact_prefix="/tmp/$name-" "$dir" >"/tmp/$name.log" 2>&1; then
            tail -40 "/tmp/$name.log"; rm -rf "$dir"; return 1
        fi
        grep -E "stat::number_of_executed_units" "/tmp/$name.log" || true
        rm -rf "$dir"
    done
    [ $found -eq 1 ] || { echo "no fuzzers were built"; return 1; }
}

step "build release" build release
step "unit tests (release)" unit release
step "integration tests (release)" tests/integration/run.sh build/release --all
step "build asan" build asan
step "unit tests (ASan+UBSan)" unit asan
step "integration tests (ASan+UBSan)" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    tests/integration/run.sh build/asan
step "build fuzz" build fuzz
step "fuzzers (${fuzz_seconds} s each)" fuzz

echo
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
