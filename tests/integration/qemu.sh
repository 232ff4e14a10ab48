#!/usr/bin/env bash
# QEMU as a client: a random raw image is written into a running target's LUN with
# `qemu-img convert -n` (into the existing LUN, no create) and compared back.
#   qemu.sh URL [MIB]     URL is iscsi://HOST:PORT/IQN/LUN; MIB (default 64) must fit the LUN
# Destructive: it overwrites the first MIB MiB of the LUN. Uses qemu-block-extra's iscsi driver.
set -euo pipefail

url=${1:?usage: qemu.sh URL [MIB]}
mib=${2:-64}
work=$(mktemp -d /tmp/itd-qemu.XXXXXX)
trap 'rm -rf "$work"' EXIT

head -c "${mib}M" /dev/urandom >"$work/random.img"
s=0
timeout 300 qemu-img convert -n -f raw -O raw "$work/random.img" "$url" >"$work/qemu.log" 2>&1 || s=$?
if [ $s -eq 0 ]; then
    # qemu-img compare wants a longer image's tail to be zeros, and the LUN may be longer and
    # hold other data: read it through a raw view limited to MIB MiB.
    timeout 300 qemu-img compare -f raw -F raw "$work/random.img" \
        "json:{\"driver\":\"raw\",\"size\":$((mib * 1048576)),\"file\":{\"driver\":\"iscsi\",\"transport\":\"tcp\",$(
            # iscsi://HOST:PORT/IQN/LUN -> the iscsi driver's options
            sed -E 's#^iscsi://([^/]+)/([^/]+)/([0-9]+)$#"portal":"\1","target":"\2","lun":\3#' <<<"$url")}}" \
        >>"$work/qemu.log" 2>&1 || s=$?
fi
cat "$work/qemu.log"
if [ $s -eq 0 ]; then
    echo "qemu.sh: ${mib} MiB written to $url and read back identical"
else
    echo "qemu.sh: failed (status $s)"
fi
exit $s
