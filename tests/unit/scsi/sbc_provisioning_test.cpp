// UNMAP, WRITE SAME, GET LBA STATUS, and how a thin LU describes itself (READ CAPACITY(16),
// VPD B0h and B2h).
#include <gtest/gtest.h>

#include <vector>

#include "common/endian.h"
#include "harness.h"
#include "scsi/sbc_unmap_params.h"

namespace itd::scsi {
namespace {

using testing::Harness;
using testing::Reply;

std::vector<std::uint8_t> unmap_list(std::initializer_list<std::pair<std::uint64_t, std::uint32_t>> ranges) {
    std::vector<std::uint8_t> d(8 + 16 * ranges.size(), 0);
    store_be16(&d[0], static_cast<std::uint16_t>(d.size() - 2));
    store_be16(&d[2], static_cast<std::uint16_t>(d.size() - 8));
    std::size_t at = 8;
    for (auto [lba, blocks] : ranges) {
        store_be64(&d[at], lba);
        store_be32(&d[at + 8], blocks);
        at += 16;
    }
    return d;
}

Reply unmap(Harness& h, std::vector<std::uint8_t> list, std::optional<std::uint16_t> length = {}) {
    const std::uint16_t n = length.value_or(static_cast<std::uint16_t>(list.size()));
    return h.run({0x42, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(n >> 8),
                  static_cast<std::uint8_t>(n), 0},
                 0, std::move(list));
}

std::vector<std::uint8_t> read_blocks(Harness& h, std::uint32_t lba, std::uint16_t blocks) {
    Reply r = h.run({0x28, 0, static_cast<std::uint8_t>(lba >> 24), static_cast<std::uint8_t>(lba >> 16),
                     static_cast<std::uint8_t>(lba >> 8), static_cast<std::uint8_t>(lba), 0,
                     static_cast<std::uint8_t>(blocks >> 8), static_cast<std::uint8_t>(blocks), 0},
                    blocks * 512u);
    EXPECT_TRUE(r.good());
    return r.data;
}

void write_blocks(Harness& h, std::uint32_t lba, std::uint16_t blocks, std::uint8_t fill) {
    Reply r = h.run({0x2a, 0, static_cast<std::uint8_t>(lba >> 24), static_cast<std::uint8_t>(lba >> 16),
                     static_cast<std::uint8_t>(lba >> 8), static_cast<std::uint8_t>(lba), 0,
                     static_cast<std::uint8_t>(blocks >> 8), static_cast<std::uint8_t>(blocks), 0},
                    0, std::vector<std::uint8_t>(blocks * 512u, fill));
    EXPECT_TRUE(r.good());
}

TEST(Thin, ReadCapacity16AndVpd) {
    Harness thick;
    Harness thin(2048, 512, false, true);
    std::vector<std::uint8_t> rc16{0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0};
    EXPECT_EQ(thick.run_cdb(rc16, 32).data[14], 0x00);
    EXPECT_EQ(thin.run_cdb(rc16, 32).data[14], 0xc0);  // LBPME, LBPRZ
    Reply b2 = thin.run({0x12, 0x01, 0xb2, 0, 255, 0}, 255);
    ASSERT_TRUE(b2.good());
    EXPECT_EQ(b2.data[5], 0xe4);  // LBPU, LBPWS, LBPWS10, LBPRZ
    EXPECT_EQ(b2.data[6] & 0x07, 0x02);  // thin
    EXPECT_EQ(thick.run({0x12, 0x01, 0xb2, 0, 255, 0}, 255).data[5], 0x00);
    Reply b0 = thin.run({0x12, 0x01, 0xb0, 0, 255, 0}, 255);
    EXPECT_EQ(load_be32(&b0.data[20]), 0xffffffffu);
    EXPECT_EQ(load_be32(&b0.data[24]), 256u);
    EXPECT_EQ(b0.data[4] & 0x01, 0x01);  // WSNZ
    EXPECT_GT(b0.data[5], 0);            // MAXIMUM COMPARE AND WRITE LENGTH
    EXPECT_EQ(load_be32(&thick.run({0x12, 0x01, 0xb0, 0, 255, 0}, 255).data[20]), 0u);
}

TEST(Unmap, ZeroesRangesAndValidates) {
    Harness h(2048, 512, false, true);
    write_blocks(h, 0, 32, 0xab);
    ASSERT_TRUE(unmap(h, unmap_list({{2, 3}, {10, 0}, {20, 4}})).good());
    auto data = read_blocks(h, 0, 32);
    for (std::size_t b = 0; b < 32; ++b) {
        const bool gone = (b >= 2 && b < 5) || (b >= 20 && b < 24);
        EXPECT_EQ(data[b * 512], gone ? 0x00 : 0xab) << b;
    }
    // SBC-4 5.30: zero length is not an error; 1..7 is a length error.
    EXPECT_TRUE(unmap(h, {}, 0).good());
    EXPECT_TRUE(unmap(h, std::vector<std::uint8_t>(4, 0), 4).is(SenseReason::parameter_list_length_error));
    EXPECT_TRUE(unmap(h, unmap_list({{2047, 2}})).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(unmap(h, unmap_list({{2048, 0}})).good());
    EXPECT_TRUE(unmap(h, unmap_list({{2049, 0}})).is(SenseReason::lba_out_of_range));
    // Not thin: no UNMAP. Read-only: write protected.
    Harness thick;
    EXPECT_TRUE(unmap(thick, unmap_list({{0, 1}})).is(SenseReason::invalid_opcode));
    Harness ro(2048, 512, true, true);
    EXPECT_TRUE(unmap(ro, unmap_list({{0, 1}})).is(SenseReason::write_protected));
    // ANCHOR is not supported.
    EXPECT_TRUE(h.run({0x42, 0x01, 0, 0, 0, 0, 0, 0, 24, 0}, 0, unmap_list({{0, 1}}))
                    .is(SenseReason::invalid_field_in_cdb));
}

TEST(UnmapParameters, Bounds) {
    const UnmapLimits limits{100, 2, 10};
    EXPECT_EQ(parse_unmap_parameters(std::vector<std::uint8_t>(7, 0), limits).error().reason,
              SenseReason::parameter_list_length_error);
    // A header that claims more descriptors than arrived: only whole ones that arrived count.
    auto list = unmap_list({{1, 2}});
    store_be16(&list[2], 0xfff0);
    auto ok = parse_unmap_parameters(list, limits);
    ASSERT_TRUE(ok.has_value());
    ASSERT_EQ(ok->size(), 1u);
    EXPECT_EQ((*ok)[0].lba, 1u);
    EXPECT_EQ((*ok)[0].blocks, 2u);
    // An incomplete last descriptor is ignored.
    list.resize(list.size() - 1);
    EXPECT_TRUE(parse_unmap_parameters(list, limits)->empty());
    auto too_many = parse_unmap_parameters(unmap_list({{0, 1}, {2, 1}, {4, 1}}), limits);
    EXPECT_EQ(too_many.error().reason, SenseReason::invalid_field_in_parameter_list);
    auto too_long = parse_unmap_parameters(unmap_list({{0, 6}, {20, 5}}), limits);
    EXPECT_EQ(too_long.error().reason, SenseReason::invalid_field_in_parameter_list);
    EXPECT_EQ(too_long.error().field->byte, 24 + 8);
    auto past_end = parse_unmap_parameters(unmap_list({{0xffffffffffffffffull, 2}}), limits);
    EXPECT_EQ(past_end.error().reason, SenseReason::lba_out_of_range);
}

TEST(WriteSame, FillsZeroesAndUnmaps) {
    Harness h(2048, 512, false, true);
    std::vector<std::uint8_t> block(512);
    for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<std::uint8_t>(i);
    // WRITE SAME(10), 5 blocks at LBA 3.
    ASSERT_TRUE(h.run({0x41, 0, 0, 0, 0, 3, 0, 0, 5, 0}, 0, block).good());
    auto data = read_blocks(h, 0, 10);
    for (std::size_t b = 0; b < 10; ++b) {
        const bool filled = b >= 3 && b < 8;
        EXPECT_EQ(data[b * 512 + 7], filled ? 7 : 0) << b;
    }
    // WRITE SAME(16) with UNMAP on a thin LU: the range reads as zeros whatever the block held.
    ASSERT_TRUE(h.run({0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0}, 0, block).good());
    data = read_blocks(h, 3, 5);
    EXPECT_EQ(data[7], 0);
    EXPECT_EQ(data[512 + 7], 0);
    EXPECT_EQ(data[2 * 512 + 7], 7);
    // NDOB: zeros without data-out.
    ASSERT_TRUE(h.run({0x93, 0x01, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0}).good());
    data = read_blocks(h, 5, 3);
    EXPECT_EQ(data[7], 0);
    EXPECT_EQ(data[2 * 512 + 7], 0);
    // Zero blocks (WSNZ=1), past the end, the wrong data-out size, NDOB in (10).
    EXPECT_TRUE(h.run({0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, block).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x41, 0, 0, 0, 0x07, 0xff, 0, 0, 2, 0}, 0, block).is(SenseReason::lba_out_of_range));
    EXPECT_FALSE(h.run({0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, std::vector<std::uint8_t>(256)).good());
    EXPECT_FALSE(h.run({0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, std::vector<std::uint8_t>(1024)).good());
    EXPECT_TRUE(h.run({0x41, 0x01, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block).is(SenseReason::invalid_field_in_cdb));
    Harness ro(2048, 512, true);
    EXPECT_TRUE(ro.run({0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block).is(SenseReason::write_protected));
}

TEST(WriteSame, LargerThanOneChunk) {
    Harness h(32768, 512);
    std::vector<std::uint8_t> block(512, 0x5a);
    // 4096 blocks = 2 MiB: more than one 1 MiB fill chunk. 16385 blocks: past MAXIMUM WRITE
    // SAME LENGTH.
    EXPECT_TRUE(h.run({0x93, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x01, 0, 0}, 0, block)
                    .is(SenseReason::invalid_field_in_cdb));
    ASSERT_TRUE(h.run({0x93, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x10, 0x00, 0, 0}, 0, block).good());
    auto first = read_blocks(h, 1, 1);
    auto last = read_blocks(h, 4096, 1);
    auto after = read_blocks(h, 4097, 1);
    EXPECT_EQ(first[0], 0x5a);
    EXPECT_EQ(last[511], 0x5a);
    EXPECT_EQ(after[0], 0x00);
}

// A fully provisioned LU does not unmap through WRITE SAME: UNMAP=1 is INVALID FIELD IN CDB
// (libiscsi WriteSame10.UnmapVPD / WriteSame16.UnmapVPD).
TEST(WriteSame, UnmapBitRefusedWhenNotThin) {
    Harness h(2048, 512);
    std::vector<std::uint8_t> block(512, 0x11);
    EXPECT_TRUE(h.run({0x41, 0x08, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, 0, block)
                    .is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block).good()) << "UNMAP=0 still writes";
}

TEST(GetLbaStatus, AnswersAndBeyondEol) {
    Harness h(2048, 512, false, true);
    auto cdb = [](std::uint64_t lba, std::uint32_t alloc) {
        std::vector<std::uint8_t> c(16, 0);
        c[0] = 0x9e;
        c[1] = 0x12;
        store_be64(&c[2], lba);
        store_be32(&c[10], alloc);
        return c;
    };
    // A fresh LU holds nothing: every block is deallocated.
    Reply r = h.run_cdb(cdb(5, 24), 24);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(load_be32(&r.data[16]), 2043u);
    EXPECT_EQ(r.data[20], 0x01);  // deallocated
    write_blocks(h, 0, 2048, 0x5a);
    r = h.run_cdb(cdb(5, 24), 24);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 24u);
    EXPECT_EQ(load_be32(&r.data[0]), 20u);
    EXPECT_EQ(load_be64(&r.data[8]), 5u);
    EXPECT_EQ(load_be32(&r.data[16]), 2043u);
    EXPECT_EQ(r.data[20], 0x00);  // mapped
    for (std::uint64_t lba : {2048ull, 2049ull, 0x8000000000000000ull, 0xffffffffffffffffull}) {
        EXPECT_TRUE(h.run_cdb(cdb(lba, 24), 24).is(SenseReason::lba_out_of_range)) << lba;
    }
    EXPECT_TRUE(h.run_cdb(cdb(2047, 24), 24).good());
}

}  // namespace
}  // namespace itd::scsi
