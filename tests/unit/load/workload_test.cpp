#include "workload.h"

#include <gtest/gtest.h>

#include <set>

namespace itd::load {
namespace {

Workload::Params params(bool random, std::uint64_t lun_bytes, std::uint32_t bs,
                        unsigned session = 0, unsigned sessions = 1) {
    Workload::Params p;
    p.random = random;
    p.lun_bytes = lun_bytes;
    p.bs_bytes = bs;
    p.session = session;
    p.sessions = sessions;
    return p;
}

TEST(Workload, RandomOffsetsAreAlignedAndInRange) {
    // A LUN that is not a whole number of bs: the last partial slot is never used.
    const std::uint64_t lun = (1ull << 30) + 12345 * 512;
    for (std::uint32_t bs : {512u, 4096u, 65536u, 1u << 20}) {
        Workload w(params(true, lun, bs));
        std::uint64_t lowest = UINT64_MAX, highest = 0;
        for (int i = 0; i < 100000; ++i) {
            const std::uint64_t off = w.next_offset();
            ASSERT_EQ(off % bs, 0u);
            ASSERT_LE(off + bs, lun);
            lowest = std::min(lowest, off);
            highest = std::max(highest, off);
        }
        // It spreads over the whole LUN, not a corner of it.
        EXPECT_LT(lowest, lun / 100) << bs;
        EXPECT_GT(highest, lun - lun / 100 - bs) << bs;
    }
}

TEST(Workload, RandomCoversEverySlotOfASmallLun) {
    Workload w(params(true, 64 * 4096, 4096));
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 10000; ++i) seen.insert(w.next_offset());
    EXPECT_EQ(seen.size(), 64u);
}

TEST(Workload, SessionsDrawDifferentSequences) {
    Workload a(params(true, 1ull << 30, 4096, 0, 2));
    Workload b(params(true, 1ull << 30, 4096, 1, 2));
    int same = 0;
    for (int i = 0; i < 1000; ++i) same += a.next_offset() == b.next_offset();
    EXPECT_LT(same, 5);
}

TEST(Workload, SequentialWalksItsRegionAndWraps) {
    const std::uint64_t lun = 10 * 4096 + 100;  // 10 whole slots
    Workload w(params(false, lun, 4096));
    for (int round = 0; round < 3; ++round)
        for (std::uint64_t slot = 0; slot < 10; ++slot) ASSERT_EQ(w.next_offset(), slot * 4096);
}

TEST(Workload, SequentialSessionsSplitTheLunWithoutOverlap) {
    const std::uint64_t lun = 1000 * 65536;
    const unsigned sessions = 3;
    std::uint64_t expected_begin = 0;
    for (unsigned s = 0; s < sessions; ++s) {
        Workload w(params(false, lun, 65536, s, sessions));
        EXPECT_EQ(w.begin_bytes(), expected_begin);
        const std::uint64_t slots = (w.end_bytes() - w.begin_bytes()) / 65536;
        EXPECT_GE(slots, 333u);
        for (std::uint64_t i = 0; i < 2 * slots + 1; ++i) {
            const std::uint64_t off = w.next_offset();
            ASSERT_EQ(off, w.begin_bytes() + (i % slots) * 65536);
            ASSERT_LT(off, w.end_bytes());
        }
        expected_begin = w.end_bytes();
    }
    EXPECT_EQ(expected_begin, lun);
}

TEST(Workload, MoreSessionsThanSlotsShareTheWholeLun) {
    // Session 0 of 8 over 2 slots has an empty share (slots 2*0/8 to 2*1/8).
    Workload w(params(false, 2 * 4096, 4096, 0, 8));
    EXPECT_EQ(w.begin_bytes(), 0u);
    EXPECT_EQ(w.end_bytes(), 2u * 4096);
    EXPECT_EQ(w.next_offset(), 0u);
    EXPECT_EQ(w.next_offset(), 4096u);
    EXPECT_EQ(w.next_offset(), 0u);
}

TEST(Workload, ReadPercent) {
    for (unsigned pct : {0u, 30u, 70u, 100u}) {
        auto p = params(true, 1 << 20, 4096);
        p.read_percent = pct;
        Workload w(p);
        int reads = 0;
        for (int i = 0; i < 100000; ++i) reads += w.next_is_read();
        EXPECT_NEAR(reads / 1000.0, pct, 1.0) << pct;
    }
}

}  // namespace
}  // namespace itd::load
