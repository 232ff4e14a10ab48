#!/usr/bin/python3
"""s3_store_bench: raw S3 PUT/GET throughput with N client threads, the S3 counterpart of
bench/store/itd_store_bench (which speaks RADOS only), for bench/cluster.sh. A benchmark: it
prints figures and judges nothing (it exits non-zero only when a request fails or a GET returns
other bytes than were put).

    s3_store_bench.py BUCKET --size 262144 --threads 8 [--seconds 10] [--max-bytes 1073741824]

N threads, each with its own keep-alive HTTP connection (scripts/cluster/s3.py: AWS Signature V4
with the payload's SHA-256, as itd's S3 store signs), PUT distinct objects for --seconds (at
most --max-bytes in all); then each thread GETs its objects back whole, once, in order; then
they are deleted. One line per phase, in itd_store_bench's format:

    put  size=262144 threads=8: 812 ops in 10.01 s, 81.1 ops/s, 21.26 MB/s, latency ms avg 98.6
    p50 97.0 p99 180.2

Endpoint and credentials from the environment, as for s3.py (ITD_S3_ENDPOINT, AWS_*).
The client is Python: its CPU (signing, copies) runs on the same machine as the store, so on a
small machine it may be the limit rather than radosgw.
"""

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts",
                                "cluster"))
import s3 as s3lib  # noqa: E402


def report(name, size, threads, latencies, seconds, nbytes):
    latencies.sort()
    n = len(latencies)

    def pct(q):
        return latencies[min(n - 1, int(q * n))] if n else 0.0

    print("%-4s size=%d threads=%d: %d ops in %.2f s, %.1f ops/s, %.2f MB/s, latency ms avg %.2f "
          "p50 %.2f p99 %.2f" % (name, size, threads, n, seconds, n / seconds,
                                 nbytes / seconds / 1e6, sum(latencies) / n if n else 0.0,
                                 pct(0.5), pct(0.99)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bucket")
    ap.add_argument("--size", type=int, default=262144)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--max-bytes", type=int, default=1 << 30)
    a = ap.parse_args()
    if not 1 <= a.threads <= 256 or not 1 <= a.size <= 64 << 20 or a.seconds <= 0:
        ap.error("bad --threads, --size or --seconds")

    prefix = "s3-store-bench/%d" % os.getpid()
    per_thread = max(1, a.max_bytes // a.threads // a.size)
    clients = [s3lib.client_from_env() for _ in range(a.threads)]
    written = [0] * a.threads
    lat = [[] for _ in range(a.threads)]
    failed = threading.Event()

    def body_of(t, i):  # distinct per object, so a GET of the wrong object is caught
        stamp = ("%d/%d/" % (t, i)).encode()
        return stamp + bytes([0x5A + t & 0xFF]) * (a.size - len(stamp))

    def key(t, i):
        return "%s/%d/%d" % (prefix, t, i)

    def put(t):
        end = start + a.seconds
        i = 0
        try:
            while i < per_thread and time.monotonic() < end and not failed.is_set():
                body = body_of(t, i)
                t0 = time.monotonic()
                status, data = clients[t].request("PUT", a.bucket, key(t, i), body=body)
                if not 200 <= status < 300:
                    sys.stderr.write("put %s: HTTP %d %s\n" % (key(t, i), status, data[:200]))
                    failed.set()
                    break
                lat[t].append((time.monotonic() - t0) * 1000)
                i += 1
                written[t] = i
        except OSError as e:
            sys.stderr.write("put: %s\n" % e)
            failed.set()

    def get(t):
        try:
            for i in range(written[t]):
                if failed.is_set():
                    break
                t0 = time.monotonic()
                status, data = clients[t].request("GET", a.bucket, key(t, i))
                if not 200 <= status < 300:
                    sys.stderr.write("get %s: HTTP %d\n" % (key(t, i), status))
                    failed.set()
                    break
                lat[t].append((time.monotonic() - t0) * 1000)
                if data != body_of(t, i):
                    sys.stderr.write("get %s: other bytes than were put\n" % key(t, i))
                    failed.set()
        except OSError as e:
            sys.stderr.write("get: %s\n" % e)
            failed.set()

    def remove(t):
        try:
            for i in range(written[t]):
                status, _ = clients[t].request("DELETE", a.bucket, key(t, i))
                if not 200 <= status < 300:
                    sys.stderr.write("delete %s: HTTP %d\n" % (key(t, i), status))
                    failed.set()
                    break
        except OSError as e:
            sys.stderr.write("delete: %s\n" % e)
            failed.set()

    def run(fn):
        workers = [threading.Thread(target=fn, args=(t,)) for t in range(a.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    for name, fn in (("put", put), ("get", get)):
        for t in range(a.threads):
            lat[t] = []
        start = time.monotonic()
        run(fn)
        elapsed = time.monotonic() - start
        all_lat = [x for per in lat for x in per]
        report(name, a.size, a.threads, all_lat, elapsed, len(all_lat) * a.size)
        if failed.is_set():
            break
    run(remove)
    return 1 if failed.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
