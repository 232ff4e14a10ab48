// READ/WRITE (6, 10, 12, 16), READ CAPACITY, SYNCHRONIZE CACHE and residuals, modelled on
// libiscsi's Read10.*, Write10.*, ReadCapacity16.*, iSCSIResiduals.* tests.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "gated_volume.h"
#include "harness.h"

namespace itd::scsi::testing {
namespace {

constexpr std::uint64_t kBlocks = 2048;

std::vector<std::uint8_t> rw10(std::uint8_t op, std::uint32_t lba, std::uint16_t blocks,
                               std::uint8_t flags = 0) {
    std::vector<std::uint8_t> c(10, 0);
    c[0] = op;
    c[1] = flags;
    store_be32(&c[2], lba);
    store_be16(&c[7], blocks);
    return c;
}
std::vector<std::uint8_t> rw12(std::uint8_t op, std::uint32_t lba, std::uint32_t blocks,
                               std::uint8_t flags = 0) {
    std::vector<std::uint8_t> c(12, 0);
    c[0] = op;
    c[1] = flags;
    store_be32(&c[2], lba);
    store_be32(&c[6], blocks);
    return c;
}
std::vector<std::uint8_t> rw16(std::uint8_t op, std::uint64_t lba, std::uint32_t blocks,
                               std::uint8_t flags = 0) {
    std::vector<std::uint8_t> c(16, 0);
    c[0] = op;
    c[1] = flags;
    store_be64(&c[2], lba);
    store_be32(&c[10], blocks);
    return c;
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 13);
    return v;
}

TEST(ReadWrite, AllCdbSizesRoundTrip) {
    Harness h(kBlocks);
    const auto a = pattern(512 * 3, 1);
    ASSERT_TRUE(h.run_cdb(rw12(0xaa, 100, 3), 0, a).good());
    Reply r12 = h.run_cdb(rw12(0xa8, 100, 3), a.size());
    EXPECT_EQ(r12.data, a);
    Reply r16 = h.run_cdb(rw16(0x88, 100, 3), a.size());
    EXPECT_EQ(r16.data, a);
    const auto b = pattern(512, 9);
    ASSERT_TRUE(h.run_cdb(rw16(0x8a, kBlocks - 1, 1, 0x08), 0, b).good());
    EXPECT_EQ(h.run_cdb(rw10(0x28, kBlocks - 1, 1), 512).data, b);
    // READ(6)/WRITE(6): 21-bit LBA in bytes 1..3.
    ASSERT_TRUE(h.run({0x0a, 0x00, 0x01, 0x00, 1, 0}, 0, b).good());
    Reply r6 = h.run({0x08, 0x00, 0x01, 0x00, 1, 0}, 512);
    EXPECT_EQ(r6.data, b);
    EXPECT_EQ(r6.result.transfer_bytes, 512u);
}

TEST(ReadWrite, SixByteZeroLengthMeans256) {
    Harness h(kBlocks);
    Reply r = h.run({0x08, 0, 0, 0, 0, 0}, 256 * 512);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.result.transfer_bytes, 256u * 512);
    EXPECT_EQ(r.data.size(), 256u * 512);
    // 256 blocks starting 255 before the end do not fit.
    EXPECT_TRUE(h.run({0x08, 0x00, 0x07, 0x01, 0, 0}, 256 * 512)
                    .is(SenseReason::lba_out_of_range));
}

TEST(ReadWrite, BeyondEndOfLun) {
    Harness h(kBlocks);
    for (std::uint16_t n = 1; n <= 256; n += 51) {
        EXPECT_TRUE(h.run_cdb(rw10(0x28, kBlocks + 1 - n, n), n * 512u)
                        .is(SenseReason::lba_out_of_range));
        EXPECT_TRUE(h.run_cdb(rw10(0x28, 0x80000000u, n), n * 512u)
                        .is(SenseReason::lba_out_of_range));
        EXPECT_TRUE(h.run_cdb(rw10(0x28, 0xffffffffu, n), n * 512u)
                        .is(SenseReason::lba_out_of_range));
        EXPECT_TRUE(h.run_cdb(rw10(0x2a, kBlocks + 1 - n, n), 0, std::vector<std::uint8_t>(n * 512u))
                        .is(SenseReason::lba_out_of_range));
    }
    // 64-bit wrap-around must not sneak past the check.
    EXPECT_TRUE(h.run_cdb(rw16(0x88, ~0ull, 2), 1024).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run_cdb(rw16(0x88, kBlocks - 1, 2), 1024).is(SenseReason::lba_out_of_range));
}

TEST(ReadWrite, ZeroBlocks) {
    Harness h(kBlocks);
    Reply r = h.run_cdb(rw10(0x28, 0, 0), 0);
    EXPECT_TRUE(r.good());
    EXPECT_EQ(r.result.transfer_bytes, 0u);
    EXPECT_TRUE(h.run_cdb(rw10(0x2a, 0, 0)).good());
    EXPECT_TRUE(h.run_cdb(rw10(0x28, kBlocks + 1, 0)).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run_cdb(rw10(0x2a, 0x80000000u, 0)).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run_cdb(rw16(0x8a, ~0ull, 0)).is(SenseReason::lba_out_of_range));
}

TEST(ReadWrite, ProtectionFieldsAndFlags) {
    Harness h(kBlocks);
    for (std::uint8_t p = 1; p < 8; ++p) {
        const std::uint8_t flags = static_cast<std::uint8_t>(p << 5);
        EXPECT_TRUE(h.run_cdb(rw10(0x28, 0, 1, flags), 512).is(SenseReason::invalid_field_in_cdb));
        EXPECT_TRUE(h.run_cdb(rw12(0xa8, 0, 1, flags), 512).is(SenseReason::invalid_field_in_cdb));
        EXPECT_TRUE(h.run_cdb(rw16(0x88, 0, 1, flags), 512).is(SenseReason::invalid_field_in_cdb));
        EXPECT_TRUE(h.run_cdb(rw10(0x2a, 0, 1, flags), 0, std::vector<std::uint8_t>(512))
                        .is(SenseReason::invalid_field_in_cdb));
    }
    // DPO, FUA, FUA_NV in every combination are accepted (Write10.Flags, Read10.DpoFua).
    for (std::uint8_t flags : {0x10, 0x08, 0x02, 0x0a, 0x1a, 0x18}) {
        EXPECT_TRUE(h.run_cdb(rw10(0x28, 0, 1, flags), 512).good()) << int(flags);
        EXPECT_TRUE(h.run_cdb(rw10(0x2a, 0, 1, flags), 0, std::vector<std::uint8_t>(512)).good())
            << int(flags);
    }
}

TEST(ReadWrite, MaximumTransferLength) {
    Harness h(1 << 16);
    const std::uint32_t max_blocks = (8u << 20) / 512;
    EXPECT_TRUE(h.run_cdb(rw12(0xa8, 0, max_blocks), 8u << 20).good());
    Reply r = h.run_cdb(rw12(0xa8, 0, max_blocks + 1), 0);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 6);  // points at the TRANSFER LENGTH
}

TEST(ReadWrite, WriteProtected) {
    Harness h(64, 512, /*read_only=*/true);
    EXPECT_TRUE(h.run_cdb(rw10(0x2a, 0, 1), 0, std::vector<std::uint8_t>(512))
                    .is(SenseReason::write_protected));
    EXPECT_TRUE(h.run_cdb(rw10(0x28, 0, 1), 512).good());
}

// iSCSIResiduals / Read10.Invalid: READ with EDTL different from the CDB.
TEST(Residuals, Read) {
    Harness h(kBlocks);
    const auto a = pattern(1024, 3);
    ASSERT_TRUE(h.run_cdb(rw10(0x2a, 0, 2), 0, a).good());

    Reply none = h.run_cdb(rw10(0x28, 0, 1), 0);  // EDTL 0
    EXPECT_TRUE(none.good());
    EXPECT_EQ(none.result.transfer_bytes, 512u);
    EXPECT_EQ(none.result.data_in_bytes, 0u);

    Reply big = h.run_cdb(rw10(0x28, 0, 1), 10000);  // EDTL > SPDTL
    EXPECT_TRUE(big.good());
    EXPECT_EQ(big.result.data_in_bytes, 512u);
    EXPECT_EQ(big.result.transfer_bytes, 512u);

    Reply part = h.run_cdb(rw10(0x28, 0, 1), 200);  // partial block
    EXPECT_TRUE(part.good());
    EXPECT_EQ(part.data, std::vector<std::uint8_t>(a.begin(), a.begin() + 200));
    EXPECT_EQ(part.result.transfer_bytes, 512u);

    Reply half = h.run_cdb(rw10(0x28, 0, 2), 512);  // two blocks asked, room for one
    EXPECT_TRUE(half.good());
    EXPECT_EQ(half.data, std::vector<std::uint8_t>(a.begin(), a.begin() + 512));
    EXPECT_EQ(half.result.transfer_bytes, 1024u);
}

// iSCSIResiduals.Write*: WRITE with EDTL different from the CDB.
TEST(Residuals, Write) {
    Harness h(kBlocks);
    const std::vector<std::uint8_t> a(2048, 'a');
    ASSERT_TRUE(h.run_cdb(rw10(0x2a, 0, 4), 0, a).good());

    // EDTL > SPDTL: only SPDTL written.
    Reply under = h.run_cdb(rw10(0x2a, 0, 1), 0, std::vector<std::uint8_t>(1024, 'b'));
    EXPECT_TRUE(under.good());
    EXPECT_EQ(under.result.transfer_bytes, 512u);
    auto back = h.run_cdb(rw10(0x28, 0, 4), 2048).data;
    EXPECT_EQ(std::count(back.begin(), back.begin() + 512, 'b'), 512);
    EXPECT_EQ(std::count(back.begin() + 512, back.end(), 'a'), 1536);

    // EDTL < SPDTL ending inside a block (200 bytes): rejected, nothing written, and the
    // transfer length still says what the CDB asked for (residual overflow).
    Reply partial = h.run_cdb(rw10(0x2a, 1, 2), 0, std::vector<std::uint8_t>(200, 'c'));
    EXPECT_TRUE(partial.is(SenseReason::invalid_field_in_command_iu));
    EXPECT_EQ(partial.result.transfer_bytes, 1024u);
    back = h.run_cdb(rw10(0x28, 0, 4), 2048).data;
    EXPECT_EQ(std::count(back.begin(), back.end(), 'c'), 0);

    // EDTL 0 and EDTL one block of two: GOOD, only the whole blocks that arrived are written.
    Reply none = h.run_cdb(rw10(0x2a, 1, 2), 0, {});
    EXPECT_TRUE(none.good());
    EXPECT_EQ(none.result.transfer_bytes, 1024u);
    Reply one = h.run_cdb(rw10(0x2a, 1, 2), 0, std::vector<std::uint8_t>(512, 'd'));
    EXPECT_TRUE(one.good());
    EXPECT_EQ(one.result.transfer_bytes, 1024u);
    back = h.run_cdb(rw10(0x28, 0, 4), 2048).data;
    EXPECT_EQ(std::count(back.begin() + 512, back.begin() + 1024, 'd'), 512);
    EXPECT_EQ(std::count(back.begin() + 1024, back.end(), 'a'), 1024) << "block 2 untouched";
}

TEST(ReadCapacity, Sixteen) {
    Harness h(kBlocks, 4096);
    std::vector<std::uint8_t> cdb(16, 0);
    cdb[0] = 0x9e;
    cdb[1] = 0x10;
    cdb[13] = 32;
    Reply r = h.run_cdb(cdb, 32);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(load_be64(&r.data[0]), kBlocks - 1);
    EXPECT_EQ(load_be32(&r.data[8]), 4096u);
    EXPECT_EQ(r.data[12], 0);         // no protection
    EXPECT_EQ(r.data[14] & 0x80, 0);  // LBPME 0
    for (std::uint8_t alloc = 0; alloc < 16; ++alloc) {
        cdb[13] = alloc;
        Reply a = h.run_cdb(cdb, alloc);
        EXPECT_TRUE(a.good());
        EXPECT_EQ(a.data.size(), alloc);
    }
}

TEST(ReadCapacity, TenPmiAndLargeVolumes) {
    Harness h(kBlocks);
    EXPECT_TRUE(h.run({0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0}, 8).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x25, 0, 0, 0, 0, 1, 0, 0, 1, 0}, 8).good());
    // 2^32 + 16 blocks of 512 bytes: READ CAPACITY(10) says FFFFFFFFh. The volume only has a
    // geometry; these commands never touch data.
    class HugeVolume : public volume::Volume {
    public:
        volume::Geometry geometry() const override { return {512, (1ull << 32) + 16}; }
        void read(std::uint64_t, std::span<std::uint8_t>, volume::Completion d) override {
            d({});
        }
        void write(std::uint64_t, std::span<const std::uint8_t>, volume::WriteFlags,
                   volume::Completion d) override {
            d({});
        }
        void flush(volume::Completion d) override { d({}); }
        bool has_volatile_cache() const override { return false; }
    };
    LunConfig cfg;
    cfg.volume = std::make_shared<HugeVolume>();
    h.target.add_lun(2, std::move(cfg));
    const std::uint64_t lun2 = 0x0002000000000000ull;
    h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, lun2);  // power-on UA
    Reply r = h.run({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8, {}, lun2);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(load_be32(&r.data[0]), 0xffffffffu);
    Reply m = h.run({0x1a, 0, 0x08, 0, 255, 0}, 255, {}, lun2);
    EXPECT_EQ(load_be32(&m.data[4]), 0xffffffffu);
    // READ(16) past 2^32 blocks works; READ(10) cannot name it.
    EXPECT_TRUE(h.run_cdb(rw16(0x88, (1ull << 32) + 15, 1), 512, {}, lun2).good());
}

TEST(SynchronizeCache, RangesAndImmed) {
    Harness h(kBlocks);
    EXPECT_TRUE(h.run({0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}).good());
    EXPECT_TRUE(h.run({0x35, 0x02, 0, 0, 0, 0, 0, 0, 0, 0}).good());  // IMMED
    EXPECT_TRUE(h.run_cdb(rw10(0x35, kBlocks - 1, 1)).good());
    EXPECT_TRUE(h.run_cdb(rw10(0x35, kBlocks - 1, 2)).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run_cdb(rw10(0x35, kBlocks, 0)).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run_cdb(rw16(0x91, 0, kBlocks)).good());
    EXPECT_TRUE(h.run_cdb(rw16(0x91, 0, kBlocks + 1)).is(SenseReason::lba_out_of_range));
}

TEST(ReportSupportedOpcodes, OneCommandUsageData) {
    Harness h;
    std::vector<std::uint8_t> cdb{0xa3, 0x0c, 0x01, 0x28, 0, 0, 0, 0, 0x01, 0x00, 0, 0};
    Reply r = h.run_cdb(cdb, 256);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 14u);
    EXPECT_EQ(r.data[1] & 0x07, 0x03);  // supported
    EXPECT_EQ(load_be16(&r.data[2]), 10);
    EXPECT_EQ(r.data[4], 0x28);
    EXPECT_EQ(r.data[5] & 0x18, 0x18);  // DPO and FUA in the usage data
    // By opcode on an opcode that has service actions: invalid.
    cdb[3] = 0x9e;
    EXPECT_TRUE(h.run_cdb(cdb, 256).is(SenseReason::invalid_field_in_cdb));
    // By opcode + service action.
    cdb[2] = 0x02;
    cdb[5] = 0x10;
    Reply rc16 = h.run_cdb(cdb, 256);
    ASSERT_TRUE(rc16.good());
    EXPECT_EQ(load_be16(&rc16.data[2]), 16);
    EXPECT_EQ(rc16.data[5], 0x1f);
    // Unsupported opcode (FORMAT UNIT): SUPPORT 001b.
    cdb[2] = 0x01;
    cdb[3] = 0x04;
    Reply no = h.run_cdb(cdb, 256);
    ASSERT_TRUE(no.good());
    EXPECT_EQ(no.data[1] & 0x07, 0x01);
}

TEST(ReportSupportedOpcodes, AllCommands) {
    Harness h;
    std::vector<std::uint8_t> cdb{0xa3, 0x0c, 0x80, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 0};
    Reply r = h.run_cdb(cdb, 4096);
    ASSERT_TRUE(r.good());
    const std::size_t n = load_be32(&r.data[0]);
    ASSERT_EQ(n + 4, r.data.size());
    EXPECT_EQ(n % 20, 0u);  // 8 + 12 with RCTD
    bool saw_rc16 = false;
    for (std::size_t at = 4; at < r.data.size(); at += 20) {
        if (r.data[at] == 0x9e && load_be16(&r.data[at + 2]) == 0x10) {
            saw_rc16 = true;
            EXPECT_EQ(r.data[at + 5], 0x03);
        }
    }
    EXPECT_TRUE(saw_rc16);
}

// A memory volume's reads go out from its own mapping when the transport accepts that; other
// volumes, short buffers and failures take the copy path.
TEST(ReadWrite, MemoryReadsComeAsViewsOfTheVolume) {
    Harness h(kBlocks);
    h.accept_views = true;
    const auto a = pattern(512 * 4, 3);
    ASSERT_TRUE(h.run_cdb(rw10(0x2a, 10, 4), 0, a).good());
    Reply r = h.run_cdb(rw10(0x28, 10, 4), a.size());
    ASSERT_TRUE(r.good());
    EXPECT_FALSE(r.result.data_in_view.empty());
    EXPECT_TRUE(r.untouched_data_in);
    EXPECT_EQ(r.data, a);
    // The view is the volume's memory: a later write shows through it.
    const auto b = pattern(512 * 4, 7);
    ASSERT_TRUE(h.run_cdb(rw10(0x2a, 10, 4), 0, b).good());
    EXPECT_TRUE(std::equal(b.begin(), b.end(), r.result.data_in_view.begin()));

    // EDTL shorter than the blocks asked for: copied through the bounce buffer.
    Reply short_read = h.run_cdb(rw10(0x28, 10, 4), 512 * 2);
    ASSERT_TRUE(short_read.good());
    EXPECT_TRUE(short_read.result.data_in_view.empty());
    EXPECT_EQ(short_read.data, std::vector<std::uint8_t>(b.begin(), b.begin() + 512 * 2));

    // Out of range: CHECK CONDITION, no data and no view.
    Reply bad = h.run_cdb(rw10(0x28, kBlocks - 1, 2), 1024);
    EXPECT_TRUE(bad.is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(bad.result.data_in_view.empty());
    EXPECT_EQ(bad.result.data_in_owner, nullptr);
    EXPECT_EQ(bad.result.data_in_bytes, 0u);
}

TEST(ReadWrite, VolumesWithoutMemoryAreCopied) {
    Harness h(kBlocks, 512, false, false,
              std::make_shared<GatedVolume>(memory_volume(kBlocks)));
    h.accept_views = true;
    const auto a = pattern(512 * 2, 5);
    ASSERT_TRUE(h.run_cdb(rw10(0x2a, 0, 2), 0, a).good());
    Reply r = h.run_cdb(rw10(0x28, 0, 2), a.size());
    ASSERT_TRUE(r.good());
    EXPECT_TRUE(r.result.data_in_view.empty());
    EXPECT_EQ(r.data, a);
}

TEST(Concurrency, ManyThreadsDisjointRanges) {
    Harness h(4096);
    constexpr int kThreads = 8;
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 50; ++i) {
                    const std::uint32_t lba = static_cast<std::uint32_t>(t * 512 + (i % 64) * 8);
                    const auto data = pattern(4096, static_cast<std::uint8_t>(t * 31 + i));
                    if (!h.run_cdb(rw10(0x2a, lba, 8), 0, data).good()) ++failures;
                    if (h.run_cdb(rw10(0x28, lba, 8), 4096).data != data) ++failures;
                    h.run({0x12, 0, 0, 0, 36, 0}, 36);
                }
            });
        }
    }
    EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace itd::scsi::testing
