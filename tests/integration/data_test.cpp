// Data through real libiscsi sessions: random data written and read back at sizes that cross
// PDU (MaxRecvDataSegmentLength) and burst (FirstBurstLength, MaxBurstLength) boundaries, under
// each way of sending write data; several sessions at once with many commands outstanding.
#include <gtest/gtest.h>
#include <poll.h>

#include <cstring>

#include "client.h"

namespace itd_it {
namespace {

std::uint32_t block_size(iscsi_context* ctx) {
    Task t(iscsi_readcapacity16_sync(ctx, lun()));
    if (!t || t->status != SCSI_STATUS_GOOD) return 0;
    auto* rc = static_cast<scsi_readcapacity16*>(scsi_datain_unmarshall(t.get()));
    return rc ? rc->block_length : 0;
}

struct Mode {
    bool immediate_data;
    bool initial_r2t;
};

class DataPath : public ::testing::TestWithParam<Mode> {};

TEST_P(DataPath, WriteThenReadBackAcrossPduAndBurstBoundaries) {
    Context ctx = connect({.immediate_data = GetParam().immediate_data,
                           .initial_r2t = GetParam().initial_r2t});
    ASSERT_NE(ctx, nullptr);
    const std::uint32_t bs = block_size(ctx.get());
    ASSERT_NE(bs, 0u);
    // Lengths in bytes around 8 KiB (login default segment), 64 KiB, 256 KiB (our segment and
    // first burst), 1 MiB (our burst) and 4 MiB.
    const std::uint32_t lengths[] = {bs,           8192 - bs + bs, 8192 + bs, 65536 - bs,
                                     65536 + bs,   262144 + bs,    1 << 20,   (1 << 20) + bs,
                                     (4 << 20) - bs, 4 << 20};
    std::uint64_t lba = 0;
    std::uint32_t seed = GetParam().immediate_data * 2 + GetParam().initial_r2t;
    for (std::uint32_t length : lengths) {
        length = (length + bs - 1) / bs * bs;
        SCOPED_TRACE(::testing::Message() << "length " << length);
        auto data = random_bytes(length, ++seed * 7919);
        Task w(iscsi_write16_sync(ctx.get(), lun(), lba, data.data(), length, static_cast<int>(bs),
                                  0, 0, 0, 0, 0));
        ASSERT_NE(w, nullptr) << iscsi_get_error(ctx.get());
        ASSERT_EQ(w->status, SCSI_STATUS_GOOD);
        Task r(iscsi_read16_sync(ctx.get(), lun(), lba, length, static_cast<int>(bs), 0, 0, 0, 0, 0));
        ASSERT_NE(r, nullptr) << iscsi_get_error(ctx.get());
        ASSERT_EQ(r->status, SCSI_STATUS_GOOD);
        ASSERT_EQ(r->datain.size, static_cast<int>(length));
        EXPECT_EQ(std::memcmp(r->datain.data, data.data(), length), 0);
        lba += length / bs + 3;  // a gap, so neighbours are checked too
    }
}

INSTANTIATE_TEST_SUITE_P(WriteModes, DataPath,
                         ::testing::Values(Mode{true, false}, Mode{false, false}, Mode{true, true},
                                           Mode{false, true}),
                         [](const ::testing::TestParamInfo<Mode>& p) {
                             return std::string(p.param.immediate_data ? "Immediate" : "NoImmediate") +
                                    (p.param.initial_r2t ? "InitialR2T" : "Unsolicited");
                         });

// libiscsi 1.19 offers header digests only (no data digests); with CRC32C insisted on, every
// PDU in both directions carries one, and the data still arrives whole.
TEST(DataPath, HeaderDigestCrc32c) {
    Context ctx = connect({.header_digest = true, .initiator = "iqn.2026-11.org.itd.test:digest"});
    ASSERT_NE(ctx, nullptr);
    const std::uint32_t bs = block_size(ctx.get());
    ASSERT_NE(bs, 0u);
    for (std::uint32_t length : {bs, 300 * 1024u, 2u << 20}) {
        length = (length + bs - 1) / bs * bs;
        auto data = random_bytes(length, length);
        Task w(iscsi_write16_sync(ctx.get(), lun(), 64, data.data(), length, static_cast<int>(bs),
                                  0, 0, 0, 0, 0));
        ASSERT_NE(w, nullptr) << iscsi_get_error(ctx.get());
        ASSERT_EQ(w->status, SCSI_STATUS_GOOD);
        Task r(iscsi_read16_sync(ctx.get(), lun(), 64, length, static_cast<int>(bs), 0, 0, 0, 0, 0));
        ASSERT_NE(r, nullptr) << iscsi_get_error(ctx.get());
        ASSERT_EQ(r->datain.size, static_cast<int>(length));
        EXPECT_EQ(std::memcmp(r->datain.data, data.data(), length), 0);
    }
}

TEST(DataPath, SynchronizeCacheSucceeds) {
    Context ctx = connect();
    ASSERT_NE(ctx, nullptr);
    Task t(iscsi_synchronizecache10_sync(ctx.get(), lun(), 0, 0, 0, 0));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->status, SCSI_STATUS_GOOD);
}

// Four sessions, each with 32 writes outstanding at once, then everything read back.
struct Outstanding {
    int pending = 0;
    int failed = 0;
};

void count_done(iscsi_context*, int status, void* command_data, void* priv) {
    auto* o = static_cast<Outstanding*>(priv);
    --o->pending;
    if (status != SCSI_STATUS_GOOD) ++o->failed;
    scsi_free_scsi_task(static_cast<scsi_task*>(command_data));
}

TEST(DataPath, SeveralSessionsWithManyCommandsOutstanding) {
    constexpr int kSessions = 4;
    constexpr int kDepth = 32;
    constexpr std::uint32_t kBlocks = 16;
    std::vector<Context> sessions;
    for (int i = 0; i < kSessions; ++i) {
        sessions.push_back(connect({.initiator = "iqn.2026-11.org.itd.test:multi-" + std::to_string(i)}));
        ASSERT_NE(sessions.back(), nullptr);
    }
    const std::uint32_t bs = block_size(sessions[0].get());
    ASSERT_NE(bs, 0u);
    std::vector<std::vector<std::uint8_t>> data;
    std::vector<Outstanding> state(kSessions);
    const std::uint64_t base_lba = 200000 / (bs / 512);  // past DataPath's region
    for (int s = 0; s < kSessions; ++s) {
        for (int d = 0; d < kDepth; ++d) {
            data.push_back(random_bytes(kBlocks * bs, static_cast<std::uint32_t>(1000 + s * kDepth + d)));
            const std::uint64_t lba = base_lba + static_cast<std::uint64_t>(s * kDepth + d) * kBlocks;
            ASSERT_NE(iscsi_write16_task(sessions[s].get(), lun(), lba, data.back().data(),
                                         kBlocks * bs, static_cast<int>(bs), 0, 0, 0, 0, 0,
                                         count_done, &state[s]),
                      nullptr);
            ++state[s].pending;
        }
    }
    // Service every session until all writes are answered (bounded: 30 s).
    for (int round = 0; round < 3000; ++round) {
        bool busy = false;
        std::vector<pollfd> fds;
        for (int s = 0; s < kSessions; ++s) {
            fds.push_back({iscsi_get_fd(sessions[s].get()),
                           static_cast<short>(iscsi_which_events(sessions[s].get())), 0});
            busy |= state[s].pending > 0;
        }
        if (!busy) break;
        poll(fds.data(), fds.size(), 10);
        for (int s = 0; s < kSessions; ++s)
            ASSERT_EQ(iscsi_service(sessions[s].get(), fds[s].revents), 0)
                << iscsi_get_error(sessions[s].get());
    }
    for (int s = 0; s < kSessions; ++s) {
        EXPECT_EQ(state[s].pending, 0);
        EXPECT_EQ(state[s].failed, 0);
    }
    for (int s = 0; s < kSessions; ++s) {
        for (int d = 0; d < kDepth; ++d) {
            const std::uint64_t lba = base_lba + static_cast<std::uint64_t>(s * kDepth + d) * kBlocks;
            // Read through another session than the one that wrote.
            Task r(iscsi_read16_sync(sessions[(s + 1) % kSessions].get(), lun(), lba, kBlocks * bs,
                                     static_cast<int>(bs), 0, 0, 0, 0, 0));
            ASSERT_NE(r, nullptr);
            ASSERT_EQ(r->status, SCSI_STATUS_GOOD);
            EXPECT_EQ(std::memcmp(r->datain.data, data[static_cast<std::size_t>(s * kDepth + d)].data(),
                                  kBlocks * bs),
                      0);
        }
    }
}

}  // namespace
}  // namespace itd_it
