#!/usr/bin/env bash
# libiscsi's conformance suite (iscsi-test-cu) against a running target.
#   conformance.sh URL [SUITE...]   each suite with --dataloss; fails on any failed test
#   conformance.sh --all URL        the whole suite (--test=ALL); prints the totals and the
#                                   names of failed tests, for the record, and never fails
# URL is iscsi://[user%secret@]HOST:PORT/IQN/LUN. Destructive: it writes to the LUN.
# Without SUITEs: Inquiry TestUnitReady ReadCapacity10 ReadCapacity16 Read10 Read12 Read16
# Write10 Write12 Write16 iSCSIcmdsn iSCSIdatasn iSCSIResiduals.
# Environment: ITD_CU_INITIATOR (initiator name), ITD_CU_TIMEOUT (seconds per suite, default
# 600; --all gets three times that), ITD_CU_LOGS (a directory that keeps the logs).
# Ends with "N passed, M failed" (suites).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

all=0
if [ "${1:-}" = "--all" ]; then all=1; shift; fi
url=${1:?usage: conformance.sh [--all] URL [SUITE...]}
shift
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
    suites=(Inquiry TestUnitReady ReadCapacity10 ReadCapacity16 Read10 Read12 Read16 Write10 Write12
            Write16 iSCSIcmdsn iSCSIdatasn iSCSIResiduals)
fi

logs=${ITD_CU_LOGS:-}
tmp=""
if [ -z "$logs" ]; then
    tmp=$(mktemp -d /tmp/itd-cu.XXXXXX)
    logs=$tmp
    trap 'rm -rf "$tmp"' EXIT
fi

if [ $all -eq 1 ]; then
    log="$logs/cu-ALL.log"
    timeout $((${ITD_CU_TIMEOUT:-600} * 3)) iscsi-test-cu --dataloss \
        -i "${ITD_CU_INITIATOR:-iqn.2026-11.org.itd.test:cu}" \
        --initiator-name-2="${ITD_CU_INITIATOR_2:-iqn.2026-11.org.itd.test:cu2}" --test=ALL "$url" \
        >"$log" 2>&1 || true
    read -r p f sk <<<"$(cu_counts "$log")"
    grep -q "Run Summary" "$log" || echo "INFO  iscsi-test-cu printed no summary (crashed or timed out)"
    echo "INFO  iscsi-test-cu --dataloss --test=ALL on $url: $p passed, $f failed, $sk skipped"
    cu_failed_names "$log"
    exit 0
fi

for suite in "${suites[@]}"; do
    s=0
    cu_suite "$url" "$suite" "$logs/cu-$suite.log" || s=$?
    result "iscsi-test-cu $suite ($CU_SUMMARY)" $s
done
summary
