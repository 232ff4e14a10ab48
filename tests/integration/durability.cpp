// itd_durability write|verify|stream SEED BLOCKS: writes BLOCKS blocks (of the LUN's block size)
// of seeded data from LBA 0, then SYNCHRONIZE CACHE, and prints "synced" (the caller then kills
// the target with -9); or reads them back and checks every block. stream writes the same data
// 32 KiB at a time, with a SYNCHRONIZE CACHE after every 1 MiB that prints "synced N" (the
// blocks from 0 to N are durable), until BLOCKS are written or the target goes away: the caller
// kills the target with -9 in the middle, then verifies the last N printed. Exit status 0 on
// success (stream: also when the target vanished).
// Portal, target and LUN come from ITD_PORTAL, ITD_TARGET and ITD_LUN.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "client.h"

int main(int argc, char** argv) {
    using namespace itd_it;
    if (argc != 4) {
        std::fprintf(stderr, "usage: itd_durability write|verify SEED BLOCKS\n");
        return 2;
    }
    const std::string mode = argv[1];
    const auto seed = static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10));
    const auto blocks = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
    Context ctx = connect({.initiator = "iqn.2026-11.org.itd.test:durability"});
    if (!ctx) return 1;
    auto cap = read_capacity(ctx.get());
    if (!cap || cap->blocks < blocks) {
        std::fprintf(stderr, "the LUN has fewer than %u blocks\n", blocks);
        return 1;
    }
    const std::uint32_t kBs = cap->block_size_bytes;
    const std::uint32_t kChunk = 32768 / kBs;  // blocks per command: 32 KiB
    if (mode == "stream") {
        const std::uint32_t sync_every = (1u << 20) / kBs;
        for (std::uint32_t lba = 0; lba < blocks; lba += kChunk) {
            const std::uint32_t n = std::min(kChunk, blocks - lba);
            auto data = random_bytes(n * kBs, seed + lba);
            Task w(iscsi_write16_sync(ctx.get(), lun(), lba, data.data(), n * kBs, kBs, 0, 0, 0, 0, 0));
            if (!w || w->status != SCSI_STATUS_GOOD) return 0;  // killed: what was printed holds
            if ((lba + n) % sync_every == 0 || lba + n == blocks) {
                Task s(iscsi_synchronizecache10_sync(ctx.get(), lun(), 0, 0, 0, 0));
                if (!s || s->status != SCSI_STATUS_GOOD) return 0;
                std::printf("synced %u\n", lba + n);
                std::fflush(stdout);
            }
        }
        return 0;
    }
    for (std::uint32_t lba = 0; lba < blocks; lba += kChunk) {
        const std::uint32_t n = std::min(kChunk, blocks - lba);
        auto data = random_bytes(n * kBs, seed + lba);
        if (mode == "write") {
            Task w(iscsi_write16_sync(ctx.get(), lun(), lba, data.data(), n * kBs, kBs, 0, 0, 0, 0, 0));
            if (!w || w->status != SCSI_STATUS_GOOD) {
                std::fprintf(stderr, "write at %u failed: %s\n", lba, iscsi_get_error(ctx.get()));
                return 1;
            }
        } else {
            Task r(iscsi_read16_sync(ctx.get(), lun(), lba, n * kBs, kBs, 0, 0, 0, 0, 0));
            if (!r || r->status != SCSI_STATUS_GOOD || r->datain.size != static_cast<int>(n * kBs)) {
                std::fprintf(stderr, "read at %u failed: %s\n", lba, iscsi_get_error(ctx.get()));
                return 1;
            }
            if (std::memcmp(r->datain.data, data.data(), n * kBs) != 0) {
                std::fprintf(stderr, "data lost: blocks %u..%u differ after restart\n", lba, lba + n - 1);
                return 1;
            }
        }
    }
    if (mode == "write") {
        Task s(iscsi_synchronizecache10_sync(ctx.get(), lun(), 0, 0, 0, 0));
        if (!s || s->status != SCSI_STATUS_GOOD) {
            std::fprintf(stderr, "SYNCHRONIZE CACHE failed\n");
            return 1;
        }
        std::printf("synced\n");
        std::fflush(stdout);
        // Leave without logging out: the caller kills the target right away.
        iscsi_destroy_context(ctx.release());
        return 0;
    }
    std::printf("verified %u blocks\n", blocks);
    return 0;
}
