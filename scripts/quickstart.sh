#!/usr/bin/env bash
# Installs what itd needs, builds it, and serves a 1 GiB file-backed disk on port 3260 (all
# addresses) until Ctrl-C. The disk lives in ${ITD_DATA:-$HOME/.local/share/itd}/disk0.img
# and keeps its data across restarts.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target itd

data_dir="${ITD_DATA:-$HOME/.local/share/itd}"
mkdir -p "$data_dir"
echo "quickstart: serving $data_dir/disk0.img (1 GiB) as LUN 0; Ctrl-C stops"
exec ./build/release/src/daemon/itd "file:$data_dir/disk0.img,size=1G" "$@"
