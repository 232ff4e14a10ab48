#!/usr/bin/env bash
# The RADOS object store's tests (itd_rados_tests) against a real single-node Ceph cluster:
# starts one with scripts/cluster/ceph.sh in a temporary directory, adds two cephx users for the
# permission tests (one that may only read the pool, one without caps on it), runs the tests
# with CEPH_CONF, ITD_RADOS_POOL and the OSD's PID for the stopped-OSD test, and always stops
# the cluster.
#
#   tests/cluster/rados_test.sh [BUILD_DIR] [-- GTEST_ARGS...]     (default build/release)
#
# Ports (127.0.0.1): RADOS_TEST_MON_PORT (36750), RADOS_TEST_RGW_PORT (37450), and the OSD's
# from RADOS_TEST_OSD_PORTS (36760) up. RADOS_TEST_KEEP=1 keeps the directory.
# Exits with the test binary's status; non-zero too when the cluster does not start or a test
# was skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=build/release
if [ $# -gt 0 ] && [ "$1" != -- ]; then build=$1; shift; fi
[ "${1:-}" = -- ] && shift
tests=$build/tests/unit/volume/itd_rados_tests
[ -x "$tests" ] || { echo "rados_test.sh: no $tests (ninja -C $build itd_rados_tests)" >&2; exit 2; }

cluster=scripts/cluster/ceph.sh
mon_port=${RADOS_TEST_MON_PORT:-36750}
rgw_port=${RADOS_TEST_RGW_PORT:-37450}
osd_ports=${RADOS_TEST_OSD_PORTS:-36760}
work=$(mktemp -d /tmp/itd-rados-test.XXXXXX)
dir=$work/ceph

cleanup() {
    "$cluster" stop "$dir" || true
    if [ "${RADOS_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

timeout -k 5 120 "$cluster" start "$dir" --mon-port "$mon_port" --rgw-port "$rgw_port" \
    --osd-ports "$osd_ports"
eval "$("$cluster" env "$dir")"

# Users for the permission tests; their keyrings go where ceph.conf looks for them.
add_user() {  # ID CAPS...
    local id=$1; shift
    timeout -k 2 30 ceph -c "$CEPH_CONF" --connect-timeout 20 auth get-or-create "client.$id" \
        "$@" -o "$dir/keyring/client.$id.keyring" >/dev/null
}
add_user itd-ro mon 'allow r' osd "allow r pool=$ITD_RADOS_POOL"
add_user itd-none mon 'allow r' osd 'allow rw pool=itd-no-such-pool'
export ITD_RADOS_READONLY_ID=itd-ro ITD_RADOS_NOACCESS_ID=itd-none
ITD_CEPH_OSD_PID=$(cat "$dir/run/osd.pid")
export ITD_CEPH_OSD_PID

# Nothing may be skipped here: the cluster and the users are there.
out=$work/gtest.out
status=0
timeout -k 10 600 "$tests" "$@" 2>&1 | tee "$out" || status=$?
if grep -q "SKIPPED" "$out"; then
    echo "rados_test.sh: a test was skipped although the cluster runs"
    exit 1
fi
exit $status
