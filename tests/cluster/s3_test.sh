#!/usr/bin/env bash
# The S3 object store against a real S3 service: starts a single-node Ceph cluster with radosgw
# (scripts/cluster/ceph.sh) in a temporary directory and runs the S3Service tests of
# itd_s3_tests against it (put/get/range/list/remove, refusals, and radosgw stopped and
# started again mid-stream: no call may fail, each may stall), and the ObjectStore contract
# (object_store_contract.h) on S3. Always stops the cluster.
#
#   tests/cluster/s3_test.sh [BUILD_DIR]      (default build/release)
#
# Ports (127.0.0.1): mon 36730, OSD 36735 and up, radosgw 37430.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-build/release}
tests=$build/tests/unit/volume/itd_s3_tests
[ -x "$tests" ] || { echo "build $tests first" >&2; exit 2; }
cluster=scripts/cluster/ceph.sh
work=$(mktemp -d /tmp/itd-s3-test.XXXXXX)
dir=$work/ceph
trap '"$cluster" stop "$dir" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

timeout 180 "$cluster" start "$dir" --mon-port 36730 --osd-ports 36735 --rgw-port 37430 --nice 0
eval "$("$cluster" env "$dir")"
export ITD_S3_STOP_CMD="$cluster stop-rgw $dir" ITD_S3_START_CMD="$cluster start-rgw $dir"
export ITD_S3_BENCH_OBJECTS=${ITD_S3_BENCH_OBJECTS:-50}
# Nothing may be skipped here: the service is there.
out=$work/gtest.out
status=0
timeout -k 30 600 "$tests" --gtest_filter='S3Service.*:S3/ObjectStoreContract.*' 2>&1 | tee "$out" || status=$?
if grep -q "SKIPPED" "$out"; then
    echo "s3_test: a test was skipped although the S3 service runs"
    exit 1
fi
exit "$status"
