// Raw throughput of an object store through itd's ObjectStore interface: N threads put objects
// of one size for a while, then read each of them back whole, then remove them. The same
// shape as `rados bench write` / `rados bench seq`, so bench/rados_store.sh can print both side
// by side. A benchmark: it prints figures and judges nothing (it exits non-zero only when a
// call fails or a read returns other bytes than were put).
//
//   itd_store_bench --pool itd [--ceph-conf PATH] [--namespace NS] [--client-id admin]
//                   --size 4096 --threads 8 [--seconds 5] [--max-bytes 1G]
//
// One line per phase:
//   put  size=4096 threads=8: 5123 ops in 5.00 s, 1024.6 ops/s, 4.20 MB/s, latency ms avg 7.81
//   p50 7.1 p99 20.3
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "volume/store/rados_object_store.h"

namespace {

using Clock = std::chrono::steady_clock;
using itd::volume::ObjectStore;

struct Phase {
    std::vector<double> latencies_ms;  // every op's
    double seconds = 0;
    std::uint64_t bytes = 0;
};

void print(const char* name, std::size_t size, int threads, Phase& p) {
    std::sort(p.latencies_ms.begin(), p.latencies_ms.end());
    const std::size_t n = p.latencies_ms.size();
    double sum = 0;
    for (double l : p.latencies_ms) sum += l;
    const auto pct = [&](double q) {
        return n == 0 ? 0.0 : p.latencies_ms[std::min(n - 1, static_cast<std::size_t>(q * n))];
    };
    std::printf(
        "%-4s size=%zu threads=%d: %zu ops in %.2f s, %.1f ops/s, %.2f MB/s, latency ms avg %.2f "
        "p50 %.2f p99 %.2f\n",
        name, size, threads, n, p.seconds, n / p.seconds, p.bytes / p.seconds / 1e6,
        n == 0 ? 0.0 : sum / n, pct(0.5), pct(0.99));
    std::fflush(stdout);
}

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string key_of(int thread, std::size_t i) {
    return "bench/" + std::to_string(thread) + "/" + std::to_string(i);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"itd_store_bench: put/get throughput of a RADOS pool through itd's ObjectStore"};
    itd::volume::RadosOptions options;
    std::size_t size = 4096;
    int threads = 1;
    double seconds = 5;
    std::uint64_t max_bytes = std::uint64_t{1} << 30;
    app.add_option("--pool", options.pool, "RADOS pool")->required();
    app.add_option("--ceph-conf", options.ceph_conf, "ceph.conf (default: librados's search)");
    app.add_option("--client-id", options.client_id, "cephx user without \"client.\"");
    app.add_option("--namespace", options.rados_namespace, "RADOS namespace");
    app.add_option("--size", size, "object size in bytes")->check(CLI::Range(1, 64 << 20));
    app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256));
    app.add_option("--seconds", seconds, "length of the put phase")->check(CLI::Range(0.1, 600.0));
    app.add_option("--max-bytes", max_bytes, "stop putting after this many bytes in all");
    CLI11_PARSE(app, argc, argv);

    auto opened = itd::volume::RadosObjectStore::open(options);
    if (!opened) {
        std::fprintf(stderr, "itd_store_bench: %s\n", opened.error().message.c_str());
        return 1;
    }
    ObjectStore& store = **opened;

    // Each object differs from the others in its first 16 bytes (thread and index), so a read
    // that returned another object's bytes would be caught. Each thread fills one buffer once
    // and stamps it per object: like rados bench, no allocation per op.
    const auto fill = [size](int thread, std::vector<std::uint8_t>& d) {
        d.assign(size, static_cast<std::uint8_t>(0x5a + thread));
    };
    const auto stamp = [size](int thread, std::size_t i, std::vector<std::uint8_t>& d) {
        const std::uint64_t words[2] = {static_cast<std::uint64_t>(thread), i};
        std::memcpy(d.data(), words, std::min(size, sizeof words));
    };

    std::atomic<bool> failed{false};
    std::vector<std::size_t> written(static_cast<std::size_t>(threads), 0);
    std::vector<Phase> per_thread(static_cast<std::size_t>(threads));
    const std::uint64_t max_per_thread = std::max<std::uint64_t>(1, max_bytes / threads / size);

    // put: until the time is up or the byte budget spent.
    Phase put;
    {
        const auto start = Clock::now();
        const auto end = start + std::chrono::duration<double>(seconds);
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                Phase& mine = per_thread[static_cast<std::size_t>(t)];
                mine.latencies_ms.reserve(max_per_thread);
                std::vector<std::uint8_t> d;
                fill(t, d);
                for (std::size_t i = 0; i < max_per_thread && Clock::now() < end && !failed; ++i) {
                    stamp(t, i, d);
                    const auto t0 = Clock::now();
                    if (auto st = store.put(key_of(t, i), d); !st) {
                        std::fprintf(stderr, "put: %s\n", st.error().message.c_str());
                        failed = true;
                        break;
                    }
                    mine.latencies_ms.push_back(ms_since(t0));
                    mine.bytes += size;
                    written[static_cast<std::size_t>(t)] = i + 1;
                }
            });
        }
        for (auto& w : workers) w.join();
        put.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        for (Phase& p : per_thread) {
            put.latencies_ms.insert(put.latencies_ms.end(), p.latencies_ms.begin(),
                                    p.latencies_ms.end());
            put.bytes += p.bytes;
            p = Phase{};
        }
    }
    print("put", size, threads, put);

    // get: each thread reads its objects back once, in the order it wrote them.
    Phase get;
    if (!failed) {
        const auto start = Clock::now();
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                Phase& mine = per_thread[static_cast<std::size_t>(t)];
                mine.latencies_ms.reserve(written[static_cast<std::size_t>(t)]);
                std::vector<std::uint8_t> buf(size);
                std::vector<std::uint8_t> want;
                fill(t, want);
                for (std::size_t i = 0; i < written[static_cast<std::size_t>(t)] && !failed; ++i) {
                    const auto t0 = Clock::now();
                    if (auto st = store.get(key_of(t, i), 0, buf); !st) {
                        std::fprintf(stderr, "get: %s\n", st.error().message.c_str());
                        failed = true;
                        break;
                    }
                    mine.latencies_ms.push_back(ms_since(t0));
                    mine.bytes += size;
                    stamp(t, i, want);
                    if (buf != want) {
                        std::fprintf(stderr, "get %s: other bytes than were put\n",
                                     key_of(t, i).c_str());
                        failed = true;
                    }
                }
            });
        }
        for (auto& w : workers) w.join();
        get.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        for (Phase& p : per_thread) {
            get.latencies_ms.insert(get.latencies_ms.end(), p.latencies_ms.begin(),
                                    p.latencies_ms.end());
            get.bytes += p.bytes;
        }
        print("get", size, threads, get);
    }

    // Clean up, in parallel too: the test cluster's OSD keeps its objects in memory.
    {
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                for (std::size_t i = 0; i < written[static_cast<std::size_t>(t)]; ++i) {
                    if (auto st = store.remove(key_of(t, i)); !st) {
                        std::fprintf(stderr, "remove: %s\n", st.error().message.c_str());
                        failed = true;
                        break;
                    }
                }
            });
        }
        for (auto& w : workers) w.join();
    }
    return failed ? 1 : 0;
}
