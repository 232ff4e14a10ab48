# shellcheck shell=bash
# Shell functions shared by the integration scripts (run.sh, durability.sh, conformance.sh,
# against-tgt.sh). Sourced, not run. The caller sets `set -euo pipefail` and a trap EXIT that
# calls kill_started_itds.

passed=0
failed=0
failed_names=()
ITD_PIDS=()   # itd processes started and not yet reaped

result() {  # NAME STATUS: one line per test group
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS  $1"
    else
        failed=$((failed + 1)); failed_names+=("$1"); echo "FAIL  $1"
    fi
}

summary() {  # the last line, and the status to exit with
    local n
    for n in "${failed_names[@]}"; do echo "failed: $n"; done
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# stop_pid PID SECONDS: SIGTERM, wait up to SECONDS, SIGKILL as the last resort. Returns the
# process's exit status (1 if it had to be killed). PID must be a child of this shell.
stop_pid() {
    local pid=$1 limit=$2 status=0 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "PID $pid did not stop within $limit s of SIGTERM; SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    wait "$pid" 2>/dev/null || status=$?
    return $status
}

forget_pid() {  # PID: it has been reaped; never signal it again (the number may be reused)
    local keep=() p
    for p in "${ITD_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    ITD_PIDS=("${keep[@]}")
}

kill_started_itds() {  # for the EXIT trap
    local p
    for p in "${ITD_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${ITD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    ITD_PIDS=()
}

# launch_itd LOG READY_PATTERN ARGS...: starts $itd ARGS with stderr and stdout in LOG, waits
# (at most ITD_READY_SECONDS, default 30) for a log line matching READY_PATTERN, and sets
# ITD_PID and PORT (from the first "ready: target ... on 127.0.0.1:PORT" line). The caller
# sets itd (the binary).
# shellcheck disable=SC2154
launch_itd() {
    local log=$1 pattern=$2 i
    shift 2
    PORT=""
    : >"$log"  # exists before the first grep below
    "$itd" "$@" >>"$log" 2>&1 &
    ITD_PID=$!
    ITD_PIDS+=("$ITD_PID")
    for ((i = 0; i < ${ITD_READY_SECONDS:-30} * 10; i++)); do
        if grep -q -- "$pattern" "$log"; then
            PORT=$(grep -m1 "ready: target" "$log" | sed -E 's/.* on 127\.0\.0\.1:([0-9]+).*/\1/')
            [[ "$PORT" =~ ^[0-9]+$ ]] && return 0
            echo "no port in the ready line:"; cat "$log"; return 1
        fi
        kill -0 "$ITD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "itd did not become ready ($*):"; tail -50 "$log"
    return 1
}

# start_itd LOG ARGS...: itd on 127.0.0.1, a port the kernel picks (or ITD_LISTEN), debug log.
start_itd() {
    local log=$1
    shift
    launch_itd "$log" "ready: target" --listen "${ITD_LISTEN:-127.0.0.1:0}" --log-level debug "$@"
}

# stop_itd LOG: SIGTERM; itd must exit with status 0 within 15 s, and LOG must hold no
# AddressSanitizer, LeakSanitizer or UBSan report.
stop_itd() {
    local log=$1 status=0
    stop_pid "$ITD_PID" 15 || status=$?
    forget_pid "$ITD_PID"
    [ $status -eq 0 ] || echo "itd exited with status $status on SIGTERM"
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
        echo "sanitizer report in $log:"; grep -A20 -E "ERROR: |runtime error:" "$log" | head -60
        status=1
    fi
    return $status
}

kill9_itd() {  # the crash in the durability test
    kill -9 "$ITD_PID" 2>/dev/null || true
    wait "$ITD_PID" 2>/dev/null || true
    forget_pid "$ITD_PID"
}

# cu_counts LOG -> "passed failed skipped" from an iscsi-test-cu (CUnit) log. A test that
# printed [SKIPPED] before its result counts as skipped.
cu_counts() {
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

cu_failed_names() {  # LOG: the names of the tests that failed, one a line
    perl -0777 -ne 'for (split /\n  Test: /) { print "      failed: $1\n" if /^(\S+) \.\.\..*?(?<!\[)\bFAILED\b(?!\])/s }' "$1"
}

# cu_suite URL SUITE LOG: runs one iscsi-test-cu suite (destructive tests allowed) and sets
# CU_SUMMARY to "P passed, F failed, S skipped". Fails when a test failed, when nothing ran,
# or when CUnit printed no summary (a crash or a timeout).
cu_suite() {
    local url=$1 suite=$2 log=$3 p f sk
    timeout "${ITD_CU_TIMEOUT:-600}" iscsi-test-cu --dataloss -i "${ITD_CU_INITIATOR:-iqn.2026-11.org.itd.test:cu}" \
        --initiator-name-2="${ITD_CU_INITIATOR_2:-iqn.2026-11.org.itd.test:cu2}" \
        --test="ALL.$suite" "$url" >"$log" 2>&1 || true
    read -r p f sk <<<"$(cu_counts "$log")"
    # shellcheck disable=SC2034  # read by the caller
    CU_SUMMARY="$p passed, $f failed, $sk skipped"
    if [ "$f" != 0 ] || [ $((p + sk)) -eq 0 ] || ! grep -q "Run Summary" "$log"; then
        cu_failed_names "$log"
        tail -30 "$log"
        return 1
    fi
}
