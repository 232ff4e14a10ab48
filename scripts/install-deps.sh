#!/usr/bin/env bash
# Installs the Debian 12 packages itd needs to build, run and test. Idempotent: when every
# package is already present it only says so (no apt-get update), so repeated runs are fast.
# Runs as root, or as a user with sudo.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config
    libboost1.81-dev libisal-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
    libssl-dev librados-dev libradospp-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    clang-16 libclang-rt-16-dev
    libiscsi-bin libiscsi-dev qemu-utils qemu-block-extra sg3-utils
    procps iproute2 perl-base coreutils
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: run as root, or install sudo"; exit 1; }
    as_root=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
