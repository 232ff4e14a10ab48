#!/usr/bin/env bash
# Persistent reservations with APTPL=1 survive a restart (SPC-4 5.12.5).
#   aptpl.sh BUILD_DIR
# Two rounds, each: itd with one LUN; Aptpl.Before registers two initiator ports with APTPL=1
# and reserves (WRITE EXCLUSIVE - REGISTRANTS ONLY); the daemon is stopped; the state file must
# exist; a new daemon on the same LUN and state runs Aptpl.After, which finds the registrations
# and the reservation, sees them enforced, and clears them.
#   1. a file LUN without --state-dir (the state file is PATH.pr), stopped with kill -9;
#   2. a memory LUN with --state-dir DIR (DIR/<target>.lun0.pr), stopped with SIGTERM.
# Ends with "N passed, M failed".
set -euo pipefail

build=$(cd "${1:?usage: aptpl.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2034  # lib.sh runs it
itd="$build/src/daemon/itd"
tests="$build/tests/integration/itd_integration_tests"
work=$(mktemp -d /tmp/itd-aptpl.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT

target=iqn.2026-11.org.itd:aptpl

phase() {  # PHASE (before|after) LOG: runs Aptpl.Before or Aptpl.After, which must pass
    local test=Aptpl.${1^}
    ITD_PORTAL=127.0.0.1:$PORT ITD_TARGET=$target ITD_LUN=0 ITD_APTPL_PHASE=$1 \
        timeout 120 "$tests" --gtest_filter="$test" --gtest_brief=1 >"$2" 2>&1 ||
        { tail -30 "$2"; return 1; }
    grep -q "PASSED.* 1 test" "$2" && ! grep -q "SKIPPED" "$2" ||
        { echo "$test did not run"; tail -30 "$2"; return 1; }
}

# round NAME STOP STATE_FILE ARGS...: one daemon, phase before, stop (kill9 or term), the
# state file exists, a new daemon with the same ARGS, phase after, SIGTERM.
round() {
    local name=$1 stop=$2 state=$3 s=0
    shift 3
    start_itd "$work/$name-1.log" --target-name "$target" "$@" || return 1
    phase before "$work/$name-before.log" || s=1
    if [ "$stop" = kill9 ]; then kill9_itd; else stop_itd "$work/$name-1.log" || s=1; fi
    [ -s "$state" ] || { echo "no state file $state"; ls -la "$work"; s=1; }
    [ $s -eq 0 ] || return 1
    start_itd "$work/$name-2.log" --target-name "$target" "$@" || return 1
    phase after "$work/$name-after.log" || s=1
    stop_itd "$work/$name-2.log" || s=1
    return $s
}

s=0
round file kill9 "$work/pr.img.pr" "file:$work/pr.img,size=16M" || s=1
result "APTPL: registrations and reservation survive kill -9 (file LUN, state next to it)" $s
s=0
round statedir term "$work/state/$target.lun0.pr" --state-dir "$work/state" memory:16M || s=1
result "APTPL: registrations and reservation survive a restart (--state-dir, memory LUN)" $s
summary
