#!/usr/bin/env bash
# Installs what itd needs, builds it, and serves a 1 GiB thin-provisioned disk on port 3260
# (all addresses) until Ctrl-C. The disk is volume disk0 of the local store
# ${ITD_DATA:-$HOME/.local/share/itd}/store (only the pages written take space) and keeps its
# data across restarts; `itd volume` snapshots, clones, grows and exports it.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target itd

data_dir="${ITD_DATA:-$HOME/.local/share/itd}"
mkdir -p "$data_dir"
echo "quickstart: serving thin volume $data_dir/store/disk0 (1 GiB) as LUN 0; Ctrl-C stops"
exec ./build/release/src/daemon/itd "thin:$data_dir/store/disk0,size=1G" "$@"
