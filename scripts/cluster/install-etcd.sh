#!/usr/bin/env bash
# Installs etcd for the cluster tests (Debian 12: etcd-server and etcd-client 3.4). Idempotent:
# when the packages are present it only says so. Runs as root, or as a user with sudo.
# The Debian package starts an etcd service; the tests never use it (scripts/cluster/etcd.sh
# runs its own members on 127.0.0.1), and this script stops and disables it when systemd runs.
set -euo pipefail

packages=(etcd-server etcd-client curl)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-etcd: all ${#packages[@]} packages present ($(etcd --version 2>/dev/null | head -1))"
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-etcd: run as root, or install sudo"; exit 1; }
    as_root=(sudo)
fi
echo "install-etcd: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=900
# Another installer (scripts/cluster/ceph.sh's, the lead's) may hold the dpkg lock: wait for it.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900 "${missing[@]}"
if [ -d /run/systemd/system ]; then
    "${as_root[@]}" systemctl disable --now etcd 2>/dev/null || true
fi
echo "install-etcd: $(etcd --version | head -1)"
