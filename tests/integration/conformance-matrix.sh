#!/usr/bin/env bash
# The whole of libiscsi's conformance suite (iscsi-test-cu --dataloss --allow-sanitize
# --test=ALL, 230 tests in libiscsi 1.19) against every LUN configuration itd offers, each
# reached over two sessions at once (the suite's multipath URL), plus CHAP and header digests.
# The thin-store configurations (and header-digest) are thin volumes in one local store:
#
#   conformance-matrix.sh BUILD_DIR
#
# Starts one itd from BUILD_DIR on 127.0.0.1 (a port the kernel picks) with a target per
# configuration, runs the suite against each in turn, stops itd by its PID, and prints a table
# of passed/failed/skipped per suite and configuration, then the totals per configuration.
# Fails when any test fails in any configuration (or the suite crashes or times out).
# Environment: ITD_CU_TIMEOUT (seconds per configuration, default 900), ITD_CU_LOGS (a
# directory that keeps the logs).
set -euo pipefail

build=$(cd "${1:?usage: conformance-matrix.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
itd="$build/src/daemon/itd"
[ -x "$itd" ] || { echo "conformance-matrix.sh: no itd at $itd"; exit 1; }
work=$(mktemp -d /tmp/itd-matrix.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT
logs=${ITD_CU_LOGS:-$work}
mkdir -p "$logs"

chap_user=matrix-user
chap_secret=matrix-secret-0123456789
prefix=iqn.2026-12.org.itd.matrix

# The suites that make sense on a write-protected LU: the rest write, and expect to succeed.
# Thin, so that ReadOnly.ReadOnlySBC also sees UNMAP refused as write protected.
readonly_suites="ReadOnly Inquiry TestUnitReady ReadCapacity10 ReadCapacity16 Read6 Read10 Read12 \
Read16 ModeSense6 ReportSupportedOpcodes Verify10 Verify12 Verify16 Prefetch10 Prefetch16 NoMedia \
iSCSIcmdsn"

# libiscsi 1.19's ProutReserve.Access* write and read with a 512-byte buffer whatever the block
# size, so on a 4096-byte-block LUN their WRITE(10) of one block carries an eighth of a block
# and is refused (a write whose data-out is shorter than its blocks: CHECK CONDITION, 0Eh/03h).
# They run, and pass, on every 512-byte-block configuration.
short_buffer_tests='ProutReserve\.Access.*'
# Sanitize.Reset expects the erase still running seconds after it started; a RAM or file LUN of
# this size is erased in well under a second. It runs in the "memory" configuration, whose
# sanitize-rate= paces the erase, and is not counted elsewhere. That configuration also runs
# with one session: with a multipath URL, Sanitize.Reservations takes its RESERVE(6) on the
# second, long-lived session and never releases it, so the next test meets RESERVATION CONFLICT.
fast_sanitize='Sanitize\.Reset'
single_path=memory
# libiscsi 1.19's Sanitize.CryptoErase checks the read after the erase against WABEREQ instead of
# WACEREQ (check_wacereq in test_sanitize_crypto_erase.c); we offer BLOCK ERASE (WABEREQ=01b) on
# thin LUs only, so on a fully provisioned LU that check cannot pass.
wabereq_bug='Sanitize\.CryptoErase'

# NAME|LUN-SPEC|URL-USERINFO|URL-ARGS|SUITES|EXCLUDE: one target per configuration, named
# $prefix:NAME; SUITES empty: the whole suite; EXCLUDE: tests not counted (cu_table.pl).
configs=(
    "memory|memory:256M,sanitize-rate=32M||||$wabereq_bug"
    "memory-4k|memory:256M,block-size=4096||||$short_buffer_tests|$fast_sanitize|$wabereq_bug"
    "file|file:$work/file.img,size=256M||||$fast_sanitize|$wabereq_bug"
    "memory-thin|memory:128M,thin||||$fast_sanitize"
    "file-thin|file:$work/thin.img,size=128M,thin||||$fast_sanitize"
    "thin-store|thin:$work/store/vol0,size=128M||||$fast_sanitize"
    "thin-store-4k|thin:$work/store/vol1,size=128M,block-size=4096,page-size=64K||||$short_buffer_tests|$fast_sanitize"
    "readonly|memory:64M,readonly,thin|||$readonly_suites"
    "removable|memory:128M,removable||||$fast_sanitize|$wabereq_bug"
    "chap|memory:128M|$chap_user%$chap_secret@|||$fast_sanitize|$wabereq_bug"
    "header-digest|thin:$work/store/vol2,size=128M||?header_digest=crc32c||$fast_sanitize"
)

cfg="$work/itd.toml"
echo 'listen = ["127.0.0.1:0"]' >"$cfg"
for c in "${configs[@]}"; do
    IFS="|" read -r name spec userinfo args suites exclude <<<"$c"
    {
        echo "[[target]]"
        echo "name = \"$prefix:$name\""
        if [ -n "$userinfo" ]; then
            echo "chap-user = \"$chap_user\""
            echo "chap-secret = \"$chap_secret\""
        fi
        echo "[[target.lun]]"
        echo "spec = \"$spec\""
    } >>"$cfg"
done
chmod 600 "$cfg"

log="$work/itd.log"
last=${configs[-1]%%|*}
launch_itd "$log" "ready: target $prefix:$last" --config "$cfg" ||
    { echo "itd did not start"; exit 1; }

tables=()
for c in "${configs[@]}"; do
    IFS='|' read -r name spec userinfo args suites exclude <<<"$c"
    url="iscsi://${userinfo}127.0.0.1:$PORT/$prefix:$name/0$args"
    out="$logs/cu-$name.log"
    : >"$out"
    start=$SECONDS
    runs=0
    for t in ${suites:-ALL}; do
        [ "$t" = ALL ] || t="ALL.$t"
        runs=$((runs + 1))
        # The same URL twice: two sessions (two I_T nexuses) to one LUN, for MultipathIO.
        paths=("$url" "$url")
        [ "$name" != "$single_path" ] || paths=("$url")
        timeout -k 30 "${ITD_CU_TIMEOUT:-900}" stdbuf -oL iscsi-test-cu --dataloss --allow-sanitize \
            -i iqn.2026-12.org.itd.test:matrix-1 -I iqn.2026-12.org.itd.test:matrix-2 \
            --test="$t" "${paths[@]}" >>"$out" 2>&1 || true
        [ "$(grep -c "Run Summary" "$out")" -eq $runs ] ||
            echo "ITD-MATRIX: --test=$t printed no CUnit summary (crashed or timed out)" >>"$out"
    done
    read -r p f sk <<<"$(cu_counts "$out")"
    echo "INFO  $name ($spec${userinfo:+, CHAP}${args:+, $args}${suites:+; suites for a write-protected LU}$([ "$name" != "$single_path" ] || echo "; one session")): $p passed, $f failed, $sk skipped ($((SECONDS - start)) s)"
    tables+=("$name=$out${exclude:+=$exclude}")
done

s=0
stop_itd "$log" || s=$?
[ $s -eq 0 ] || echo "itd did not stop cleanly"
echo
perl "$here/cu_table.pl" "${tables[@]}" || s=1
exit $s
