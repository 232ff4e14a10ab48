#!/usr/bin/env bash
# `itd volume ...` end to end on a local store:
#   volume_cli.sh BUILD_DIR
# create and list; import a random 8 MiB image with zero runs and export it back (equal, and
# sparse); serve the volume with itd and snapshot and grow it online (through the owner: the
# initiator sees the new size), delete and import refused while it is served; clone the
# snapshot offline and export it (= the imported image); delete and gc --grace 0s frees
# objects, and everything left still exports correctly. Usage errors exit 2, operation errors
# exit 1. itd listens on ITD_LISTEN (default 127.0.0.1:0, the kernel picks the port).
# Ends with "N passed, M failed".
set -euo pipefail

build=$(cd "${1:?usage: volume_cli.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
itd="$build/src/daemon/itd"
[ -x "$itd" ] || { echo "volume_cli.sh: no itd at $itd"; exit 1; }
work=$(mktemp -d /tmp/itd-volcli.XXXXXX)
trap 'kill_started_itds; rm -rf "$work"' EXIT

store="$work/store"
target=iqn.2026-11.org.itd:volcli
MiB=$((1 << 20))

vol() { timeout 120 "$itd" volume "$@"; }

# expect_status WANT COMMAND...: runs it, succeeds when its exit status is WANT; its stderr is
# in $err.
expect_status() {
    local want=$1 got=0
    shift
    err=$("$@" 2>&1 >/dev/null) || got=$?
    if [ "$got" -ne "$want" ]; then
        echo "exit $got, not $want: $*"; echo "$err"
        return 1
    fi
}

count_objects() { find "$store/objects" -type f ! -name '.*' | wc -l; }

# allocated_kib FILE: the space the file holds (sparse files hold less than their size).
allocated_kib() { du -k "$1" | cut -f1; }

# 1. create, list, usage errors.
s=0
vol create "$store/disk" --size 16M --page-size 64K >/dev/null || s=1
listing=$(vol list "$store") || s=1
grep -qE '^disk +16M +512 +64K +0 +0 +0 +- +-$' <<<"$listing" || { echo "list:"; echo "$listing"; s=1; }
expect_status 2 "$itd" volume create "$store/x" || s=1                     # no --size
expect_status 2 "$itd" volume create "$store/x" --size 1X || s=1
expect_status 2 "$itd" volume frobnicate "$store" || s=1
expect_status 2 "$itd" volume gc "$store" --grace forever || s=1
expect_status 1 "$itd" volume create "$store/disk" --size 16M || s=1        # exists
grep -q "^itd volume: volume disk already exists" <<<"$err" || { echo "$err"; s=1; }
expect_status 1 "$itd" volume list "$work/nostore" || s=1
"$itd" volume --help | grep -q "itd volume SUBCOMMAND" || s=1
"$itd" volume export --help | grep -q "usage: itd volume export" || s=1
result "create, list, --help; usage errors exit 2, operation errors exit 1" $s

# 2. import a random 8 MiB image with zero runs, export it back.
s=0
img="$work/in.img"
dd if=/dev/urandom of="$img" bs=1M count=8 status=none
dd if=/dev/zero of="$img" bs=64K seek=16 count=32 conv=notrunc status=none   # 1..3 MiB
dd if=/dev/zero of="$img" bs=64K seek=100 count=20 conv=notrunc status=none  # 6.25..7.5 MiB
vol import "$img" "$store/disk" 2>"$work/import.err" || { cat "$work/import.err"; s=1; }
grep -q "100%" "$work/import.err" || { echo "no progress:"; cat "$work/import.err"; s=1; }
vol export "$store/disk" "$work/out.img" 2>/dev/null || s=1
cmp -n $((8 * MiB)) "$work/out.img" "$img" || { echo "export differs"; s=1; }
cmp -s -i $((8 * MiB)):0 -n $((8 * MiB)) "$work/out.img" /dev/zero || { echo "tail not zeros"; s=1; }
[ "$(stat -c %s "$work/out.img")" -eq $((16 * MiB)) ] || { echo "export size wrong"; s=1; }
# 16 MiB image, 8 MiB of it written and 3.25 MiB of that zeros: at most ~5 MiB allocated.
kib=$(allocated_kib "$work/out.img")
[ "$kib" -le 6144 ] || { echo "export not sparse: $kib KiB allocated"; s=1; }
listing=$(vol list "$store")
# 8 MiB - 3.25 MiB of zeros = 4.75 MiB mapped.
grep -qE '^disk +16M +512 +64K +4\.8M ' <<<"$listing" || { echo "$listing"; s=1; }
result "import 8 MiB with zero runs, export: equal and sparse ($kib KiB allocated)" $s

# 3. Served by itd: snapshot and grow go through the owner; delete and import are refused.
s=0
ITD_LISTEN=${ITD_LISTEN:-127.0.0.1:0} start_itd "$work/itd.log" --target-name "$target" \
    "thin:$store/disk" || s=1
url="iscsi://127.0.0.1:$PORT/$target/0"
if [ $s -eq 0 ]; then
    size=$(timeout 30 iscsi-readcapacity16 -s "$url") || s=1
    [ "$size" = $((16 * MiB)) ] || { echo "size before: $size"; s=1; }
    listing=$(vol list "$store")
    grep -qE '^disk .* itd pid [0-9]+' <<<"$listing" || { echo "$listing"; s=1; }
    vol snapshot "$store/disk" before >/dev/null || s=1
    vol grow "$store/disk" 32M >/dev/null || s=1
    size=$(timeout 30 iscsi-readcapacity16 -s "$url") || s=1
    [ "$size" = $((32 * MiB)) ] || { echo "size after grow: $size"; s=1; }
    expect_status 1 "$itd" volume delete "$store/disk" || s=1
    grep -q "open by itd pid" <<<"$err" || { echo "$err"; s=1; }
    expect_status 1 "$itd" volume import "$img" "$store/disk" || s=1
    grep -q "open elsewhere" <<<"$err" || { echo "$err"; s=1; }
    expect_status 1 "$itd" volume gc "$store" --grace 0s || s=1
    grep -q "is open by itd pid" <<<"$err" || { echo "$err"; s=1; }
    expect_status 1 "$itd" volume grow "$store/disk" 8M || s=1
    grep -q "cannot shrink" <<<"$err" || { echo "$err"; s=1; }
    stop_itd "$work/itd.log" || s=1
fi
result "served by itd: snapshot and grow online (the initiator sees 32 MiB), delete, import, gc --grace 0s refused" $s

# 4. Offline: snapshots, clone, export of the clone and of the snapshot.
s=0
snaps=$(vol snapshots "$store/disk") || s=1
grep -qE '^disk@before ' <<<"$snaps" || { echo "$snaps"; s=1; }
vol clone "$store/disk@before" copy >/dev/null || s=1
listing=$(vol list "$store")
grep -qE '^copy +16M .* disk@before +-$' <<<"$listing" || { echo "$listing"; s=1; }
grep -qE '^disk +32M ' <<<"$listing" || { echo "$listing"; s=1; }
vol export "$store/copy" "$work/copy.img" 2>/dev/null || s=1
cmp -n $((8 * MiB)) "$work/copy.img" "$img" || s=1
vol export "$store/disk@before" "$work/snap.img" 2>/dev/null || s=1
cmp "$work/snap.img" "$work/out.img" || s=1
expect_status 1 "$itd" volume delete "$store/disk@before" || s=1
grep -q "origin of copy" <<<"$err" || { echo "$err"; s=1; }
expect_status 1 "$itd" volume delete "$store/disk" || s=1
grep -q "has snapshots (before)" <<<"$err" || { echo "$err"; s=1; }
result "clone of the online snapshot exports the imported image; delete refusals name snapshots and clones" $s

# 5. Overwrite the volume, delete what named the old data, gc: fewer objects, the rest intact.
s=0
dd if=/dev/urandom of="$work/second.img" bs=1M count=4 status=none
vol import "$work/second.img" "$store/disk" 2>/dev/null || s=1
vol export "$store/disk" "$work/disk2.img" 2>/dev/null || s=1
before=$(count_objects)
out=$(vol gc "$store" --grace 0s) || s=1
grep -q "removed 0 unreferenced" <<<"$out" || { echo "gc with everything named: $out"; s=1; }
vol delete "$store/copy" >/dev/null || s=1
vol delete "$store/disk@before" >/dev/null || s=1
vol gc "$store" --grace 1h >/dev/null || s=1
[ "$(count_objects)" -eq "$before" ] || { echo "gc --grace 1h removed young objects"; s=1; }
out=$(vol gc "$store" --grace 0s) || s=1
after=$(count_objects)
[ "$after" -lt "$before" ] || { echo "gc freed nothing: $before -> $after ($out)"; s=1; }
vol export "$store/disk" "$work/disk3.img" 2>/dev/null || s=1
cmp "$work/disk3.img" "$work/disk2.img" || s=1
cmp -n $((4 * MiB)) "$work/disk3.img" "$work/second.img" || s=1
vol delete "$store/disk" >/dev/null || s=1
vol gc "$store" --grace 0s >/dev/null || s=1
[ "$(count_objects)" -eq 0 ] || { echo "objects left after deleting everything: $(count_objects)"; s=1; }
result "gc --grace 0s after deletes: $before -> $after objects, the volume still exports the same" $s

summary
