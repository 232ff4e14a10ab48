#!/usr/bin/env bash
# What CRC32C digests cost (issue 5): 1 MiB sequential reads and writes at depth 8 against one
# itd (memory:1G on 127.0.0.1), digests none and both (HeaderDigest and DataDigest) in
# alternating runs, with itd_digest_load (libiscsi cannot do data digests):
#   bench/digest.sh [BUILD_DIR] [PORT] [ROUNDS]      (defaults: build/release 3260 3)
# Each run: --ramp 1 --seconds 5. Per mode and digest setting it prints every run's MiB/s, mean
# and median, the ratio both/none, and CPU seconds per GiB moved (client and itd, from
# /proc and times(2)), which a busy machine disturbs less than throughput. Linux only.
set -euo pipefail

build=${1:-build/release}
port=${2:-3260}
rounds=${3:-3}
itd=$build/src/daemon/itd
load=$build/bench/load/itd_digest_load
if [ ! -x "$itd" ] || [ ! -x "$load" ]; then
    echo "build itd and itd_digest_load in $build first" >&2
    exit 2
fi
target=iqn.2026-12.org.itd:digest-bench
work=$(mktemp -d /tmp/itd-digest-bench.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

"$itd" --listen "127.0.0.1:$port" --target-name "$target" memory:1G >"$work/itd.log" 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do
    grep -q "ready: target" "$work/itd.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/itd.log"; exit 1; }
    sleep 0.1
done
grep -q "ready: target" "$work/itd.log" || { echo "itd did not start"; cat "$work/itd.log"; exit 1; }
tck=$(getconf CLK_TCK)
itd_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# The memory backend's pages are first-touch: write all of the 1 GiB once before measuring.
timeout 120 "$load" --digests none --rw write --seconds 8 --ramp 0 "127.0.0.1:$port" "$target" |
    tail -1

for rw in read write; do
    for ((r = 1; r <= rounds; r++)); do
        for d in none both; do
            t0=$(itd_ticks)
            out=$({ /usr/bin/time -f "CLIENT %U %S" timeout 60 "$load" --digests "$d" --rw "$rw" \
                --bs 1M --depth 8 --seconds 5 --ramp 1 "127.0.0.1:$port" "$target" | tail -1; } 2>&1)
            t1=$(itd_ticks)
            line=$(grep '^itd_digest_load: digests' <<<"$out") || { echo "$out"; exit 1; }
            client=$(awk '/^CLIENT/ {print $2 + $3}' <<<"$out")
            echo "$line client_cpu_s=$client itd_cpu_s=$(awk -v t=$((t1 - t0)) -v k="$tck" 'BEGIN {printf "%.2f", t / k}') load=$(cut -d' ' -f1 /proc/loadavg)"
        done
    done
done | tee "$work/runs"

# CPU counts the ramp too: it is set against the bytes of ramp plus window, ios * 6/5 MiB.
awk '
function field(name,   s) { match($0, name "=[^ ]+"); s = substr($0, RSTART + length(name) + 1, RLENGTH - length(name) - 1); return s }
/^itd_digest_load: digests=/ {
    k = field("rw") "/" field("digests"); n[k]++; v[k, n[k]] = field("mibps") + 0; sum[k] += v[k, n[k]]
    gib = field("ios") * 1.2 / 1024; cc[k] += field("client_cpu_s") / gib; tc[k] += field("itd_cpu_s") / gib
}
function median(k,   i, j, a, x, c) { c = n[k]; for (i = 1; i <= c; i++) a[i] = v[k, i]
    for (i = 2; i <= c; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2 }
END {
    for (r = 0; r < 2; r++) {
        rw = r ? "write" : "read"
        for (s = 0; s < 2; s++) {
            k = rw "/" (s ? "both" : "none"); printf "%-5s %s: MiB/s", rw, s ? "both" : "none"
            for (i = 1; i <= n[k]; i++) printf " %.0f", v[k, i]
            printf " (mean %.0f, median %.0f); CPU s/GiB client %.3f, itd %.3f\n", sum[k] / n[k], median(k), cc[k] / n[k], tc[k] / n[k]
        }
        a = rw "/none"; b = rw "/both"
        printf "%-5s both/none: throughput %.2f (mean), %.2f (median); CPU per GiB %.2f\n", rw, (sum[b] / n[b]) / (sum[a] / n[a]), median(b) / median(a), ((cc[b] + tc[b]) / n[b]) / ((cc[a] + tc[a]) / n[a])
    }
}' "$work/runs"
