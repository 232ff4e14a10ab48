// Synchronous wrappers over the asynchronous Volume calls, for tests.
#pragma once

#include <atomic>
#include <future>
#include <thread>
#include <span>
#include <vector>

#include "volume/volume.h"

namespace itd::volume::testing {

inline Status sync_read(Volume& v, std::uint64_t offset, std::span<std::uint8_t> out) {
    std::promise<Status> p;
    auto f = p.get_future();
    v.read(offset, out, [&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
}

inline Status sync_write(Volume& v, std::uint64_t offset, std::span<const std::uint8_t> in,
                         bool fua = false) {
    std::promise<Status> p;
    auto f = p.get_future();
    v.write(offset, in, WriteFlags{.fua = fua}, [&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
}

inline Status sync_flush(Volume& v) {
    std::promise<Status> p;
    auto f = p.get_future();
    v.flush([&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
}

inline Status sync_unmap(Volume& v, std::uint64_t offset, std::uint64_t length) {
    std::promise<Status> p;
    auto f = p.get_future();
    v.unmap(offset, length, [&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
}

inline Status sync_write_zeroes(Volume& v, std::uint64_t offset, std::uint64_t length) {
    std::promise<Status> p;
    auto f = p.get_future();
    v.write_zeroes(offset, length, WriteFlags{}, [&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
}

inline Result<std::vector<LbaExtent>> sync_lba_status(Volume& v, std::uint64_t offset,
                                                      std::uint64_t length) {
    std::promise<Result<std::vector<LbaExtent>>> p;
    auto f = p.get_future();
    v.lba_status(offset, length,
                 [&p](Result<std::vector<LbaExtent>> r) { p.set_value(std::move(r)); });
    return f.get();
}

inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
    return v;
}

// Several threads write and read back disjoint ranges at once.
inline int concurrent_disjoint_writers(Volume& v, int threads, int rounds) {
    const std::uint32_t bs = v.geometry().block_size_bytes;
    const std::uint64_t per_thread = v.geometry().block_count / threads;
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> ts;
        for (int t = 0; t < threads; ++t) {
            ts.emplace_back([&, t] {
                for (int r = 0; r < rounds; ++r) {
                    const std::uint64_t block = t * per_thread + (r % per_thread);
                    auto data = pattern(bs, static_cast<std::uint8_t>(t * 17 + r));
                    if (!sync_write(v, block * bs, data)) ++failures;
                    std::vector<std::uint8_t> back(bs);
                    if (!sync_read(v, block * bs, back) || back != data) ++failures;
                }
            });
        }
    }
    return failures.load();
}

}  // namespace itd::volume::testing
