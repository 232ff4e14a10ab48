// itd_sync_latency PAGE_BYTES N [N...]: for each N, dirties N pages of a thin LUN (one 4 KiB
// write at the start of each of N consecutive pages), then times SYNCHRONIZE CACHE; three
// rounds per N, printing "N dirty pages: SYNCHRONIZE CACHE median X ms (min Y, max Z)". A
// benchmark (bench/thin.sh), not a test: it prints figures and judges nothing. Portal, target
// and LUN come from ITD_PORTAL, ITD_TARGET and ITD_LUN.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "client.h"

int main(int argc, char** argv) {
    using namespace itd_it;
    using Clock = std::chrono::steady_clock;
    if (argc < 3) {
        std::fprintf(stderr, "usage: itd_sync_latency PAGE_BYTES N [N...]\n");
        return 2;
    }
    const std::uint64_t page = std::strtoull(argv[1], nullptr, 10);
    Context ctx = connect({.initiator = "iqn.2026-11.org.itd.test:sync-latency"});
    if (!ctx) return 1;
    auto cap = read_capacity(ctx.get());
    if (!cap) return 1;
    const std::uint32_t bs = cap->block_size_bytes;
    const std::uint64_t capacity = cap->blocks * bs;
    std::vector<std::uint8_t> data = random_bytes(4096, 1);
    for (int i = 2; i < argc; ++i) {
        const std::uint64_t n = std::strtoull(argv[i], nullptr, 10);
        if (n * page > capacity) {
            std::fprintf(stderr, "%llu pages of %llu bytes do not fit the LUN\n",
                         static_cast<unsigned long long>(n), static_cast<unsigned long long>(page));
            return 1;
        }
        std::vector<double> ms;
        for (int round = 0; round < 3; ++round) {
            for (std::uint64_t p = 0; p < n; ++p) {
                data[0] = static_cast<std::uint8_t>(round);
                Task w(iscsi_write16_sync(ctx.get(), lun(), p * page / bs, data.data(), 4096, bs,
                                          0, 0, 0, 0, 0));
                if (!w || w->status != SCSI_STATUS_GOOD) {
                    std::fprintf(stderr, "write failed: %s\n", iscsi_get_error(ctx.get()));
                    return 1;
                }
            }
            const auto start = Clock::now();
            Task s(iscsi_synchronizecache10_sync(ctx.get(), lun(), 0, 0, 0, 0));
            const auto end = Clock::now();
            if (!s || s->status != SCSI_STATUS_GOOD) {
                std::fprintf(stderr, "SYNCHRONIZE CACHE failed\n");
                return 1;
            }
            ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        }
        std::sort(ms.begin(), ms.end());
        std::printf("%llu dirty pages: SYNCHRONIZE CACHE median %.1f ms (min %.1f, max %.1f)\n",
                    static_cast<unsigned long long>(n), ms[1], ms[0], ms[2]);
        std::fflush(stdout);
    }
    return 0;
}
