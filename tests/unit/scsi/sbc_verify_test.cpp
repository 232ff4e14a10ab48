// VERIFY, WRITE AND VERIFY, PRE-FETCH, COMPARE AND WRITE, and the range lock under them.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/endian.h"
#include "harness.h"
#include "scsi/range_lock.h"

namespace itd::scsi {
namespace {

using testing::Harness;
using testing::Reply;

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 13);
    return v;
}

void write10(Harness& h, std::uint8_t lba, std::vector<std::uint8_t> data) {
    const auto blocks = static_cast<std::uint8_t>(data.size() / 512);
    ASSERT_TRUE(h.run({0x2a, 0, 0, 0, 0, lba, 0, 0, blocks, 0}, 0, std::move(data)).good());
}

TEST(Verify, BytchkComparesAndReportsTheOffset) {
    Harness h;
    const auto data = pattern(1024, 1);
    write10(h, 4, data);
    // BYTCHK 01b: equal.
    EXPECT_TRUE(h.run({0x2f, 0x02, 0, 0, 0, 4, 0, 0, 2, 0}, 0, data).good());
    // One byte differs: MISCOMPARE, INFORMATION = its offset.
    auto other = data;
    other[700] ^= 1;
    Reply r = h.run({0x2f, 0x02, 0, 0, 0, 4, 0, 0, 2, 0}, 0, other);
    ASSERT_TRUE(r.is(SenseReason::miscompare_during_verify));
    EXPECT_EQ(r.result.sense[0] & 0x80, 0x80);
    EXPECT_EQ(load_be32(&r.result.sense[3]), 700u);
    // BYTCHK 00b: no comparison.
    EXPECT_TRUE(h.run({0x2f, 0x00, 0, 0, 0, 4, 0, 0, 2, 0}, 0, other).good());
    // BYTCHK 10b reserved; VRPROTECT unsupported; past the end; zero blocks.
    EXPECT_TRUE(h.run({0x2f, 0x04, 0, 0, 0, 4, 0, 0, 2, 0}).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x2f, 0x20, 0, 0, 0, 4, 0, 0, 2, 0}).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x2f, 0, 0, 0, 0x08, 0, 0, 0, 1, 0}).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run({0x2f, 0x02, 0, 0, 0, 0, 0, 0, 0, 0}).good());
    // BYTCHK 11b: one block against each. VERIFY(16) and (12).
    write10(h, 8, std::vector<std::uint8_t>(1536, 0x77));
    EXPECT_TRUE(h.run({0x8f, 0x06, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0}, 0,
                      std::vector<std::uint8_t>(512, 0x77))
                    .good());
    EXPECT_TRUE(h.run({0xaf, 0x06, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0}, 0,
                      std::vector<std::uint8_t>(512, 0x77))
                    .is(SenseReason::miscompare_during_verify));
}

TEST(WriteAndVerify, WritesAndChecksFlags) {
    Harness h;
    const auto data = pattern(1024, 9);
    ASSERT_TRUE(h.run({0x2e, 0x02, 0, 0, 0, 6, 0, 0, 2, 0}, 0, data).good());
    EXPECT_TRUE(h.run({0x2f, 0x02, 0, 0, 0, 6, 0, 0, 2, 0}, 0, data).good());
    EXPECT_TRUE(h.run({0x8e, 0x00, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 2, 0, 0}, 0, data).good());
    EXPECT_TRUE(h.run({0xae, 0x04, 0, 0, 0, 6, 0, 0, 0, 2, 0, 0}, 0, data)
                    .is(SenseReason::invalid_field_in_cdb));
    // Residuals as for WRITE: one whole block of two arrived, it is written, GOOD; a partial
    // block is refused.
    ASSERT_TRUE(h.run({0x2e, 0, 0, 0, 0, 20, 0, 0, 2, 0}, 0, std::vector<std::uint8_t>(512, 0x61))
                    .good());
    Reply back = h.run({0x28, 0, 0, 0, 0, 20, 0, 0, 2, 0}, 1024);
    EXPECT_EQ(back.data[0], 0x61);
    EXPECT_EQ(back.data[512], 0x00);
    EXPECT_TRUE(h.run({0x2e, 0, 0, 0, 0, 20, 0, 0, 2, 0}, 0, std::vector<std::uint8_t>(700))
                    .is(SenseReason::invalid_field_in_command_iu));
    Harness ro(2048, 512, true);
    EXPECT_TRUE(ro.run({0x2e, 0, 0, 0, 0, 6, 0, 0, 2, 0}, 0, data).is(SenseReason::write_protected));
}

TEST(Prefetch, RangeChecks) {
    Harness h;
    EXPECT_TRUE(h.run({0x34, 0, 0, 0, 0, 0, 0, 0, 8, 0}).good());
    EXPECT_TRUE(h.run({0x34, 0x02, 0, 0, 0x07, 0xff, 0, 0, 0, 0}).good());
    EXPECT_TRUE(h.run({0x34, 0, 0, 0, 0x08, 0, 0, 0, 0, 0}).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run({0x90, 0, 0, 0, 0, 0, 0, 0, 0x07, 0xff, 0, 0, 0, 2, 0, 0})
                    .is(SenseReason::lba_out_of_range));
}

TEST(OrWrite, OrsIntoTheMedium) {
    Harness h;
    write10(h, 30, std::vector<std::uint8_t>(1024, 0x0f));
    std::vector<std::uint8_t> cdb{0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 2, 0, 0};
    ASSERT_TRUE(h.run_cdb(cdb, 0, std::vector<std::uint8_t>(1024, 0xf0)).good());
    EXPECT_TRUE(h.run({0x2f, 0x06, 0, 0, 0, 30, 0, 0, 2, 0}, 0, std::vector<std::uint8_t>(512, 0xff))
                    .good());
    cdb[1] = 0x20;  // ORPROTECT: no protection information
    EXPECT_TRUE(h.run_cdb(cdb, 0, std::vector<std::uint8_t>(1024)).is(SenseReason::invalid_field_in_cdb));
    cdb[1] = 0;
    cdb[9] = 0xff;
    cdb[8] = 0x07;  // LBA 2047 + 2 blocks: past the end
    EXPECT_TRUE(h.run_cdb(cdb, 0, std::vector<std::uint8_t>(1024)).is(SenseReason::lba_out_of_range));
}

std::vector<std::uint8_t> caw_cdb(std::uint64_t lba, std::uint8_t blocks) {
    std::vector<std::uint8_t> c(16, 0);
    c[0] = 0x89;
    store_be64(&c[2], lba);
    c[13] = blocks;
    return c;
}

TEST(CompareAndWrite, WritesOnlyWhenEqual) {
    Harness h;
    const auto old_data = pattern(1024, 3);
    const auto new_data = pattern(1024, 50);
    write10(h, 10, old_data);
    auto both = old_data;
    both.insert(both.end(), new_data.begin(), new_data.end());
    ASSERT_TRUE(h.run_cdb(caw_cdb(10, 2), 0, both).good());
    EXPECT_TRUE(h.run({0x2f, 0x02, 0, 0, 0, 10, 0, 0, 2, 0}, 0, new_data).good());
    // Now the medium holds new_data: comparing against old_data fails at byte 0 and writes
    // nothing.
    Reply r = h.run_cdb(caw_cdb(10, 2), 0, both);
    ASSERT_TRUE(r.is(SenseReason::miscompare_during_verify));
    EXPECT_EQ(load_be32(&r.result.sense[3]), 0u);
    EXPECT_TRUE(h.run({0x2f, 0x02, 0, 0, 0, 10, 0, 0, 2, 0}, 0, new_data).good());
    // Zero blocks, too many blocks, wrong data-out size, past the end.
    EXPECT_TRUE(h.run_cdb(caw_cdb(10, 0)).good());
    // Zero blocks with data: the one-byte length wrapped.
    EXPECT_TRUE(h.run_cdb(caw_cdb(10, 0), 0, std::vector<std::uint8_t>(1024))
                    .is(SenseReason::invalid_field_in_cdb));
    // 64 KiB blocks: 8 MiB MAXIMUM TRANSFER LENGTH holds 2 x 64 blocks.
    Harness big(256, 65536);
    Reply b0 = big.run({0x12, 0x01, 0xb0, 0, 255, 0}, 255);
    ASSERT_EQ(b0.data[5], 64);
    EXPECT_TRUE(big.run_cdb(caw_cdb(0, 65), 0, std::vector<std::uint8_t>(65 * 2 * 65536u))
                    .is(SenseReason::invalid_field_in_cdb));
    EXPECT_FALSE(h.run_cdb(caw_cdb(10, 1), 0, std::vector<std::uint8_t>(2048)).good());
    EXPECT_TRUE(h.run_cdb(caw_cdb(2047, 2), 0, std::vector<std::uint8_t>(2048))
                    .is(SenseReason::lba_out_of_range));
}

// Many threads bump a counter in block 0 with COMPARE AND WRITE, retrying on MISCOMPARE, while
// others WRITE the same value back: no increment may be lost between a compare and its write.
TEST(CompareAndWrite, AtomicAgainstOtherCompareAndWrites) {
    Harness h;
    constexpr int kThreads = 4, kIncrements = 200;
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kIncrements;) {
                Reply cur = h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512);
                ASSERT_TRUE(cur.good());
                std::vector<std::uint8_t> both = cur.data;
                both.resize(1024);
                std::copy(cur.data.begin(), cur.data.end(), both.begin() + 512);
                store_be32(&both[512], load_be32(&cur.data[0]) + 1);
                Reply r = h.run_cdb(caw_cdb(0, 1), 0, both);
                if (r.good()) {
                    ++i;
                } else {
                    ASSERT_TRUE(r.is(SenseReason::miscompare_during_verify));
                }
            }
        });
    }
    threads.clear();
    Reply end = h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512);
    EXPECT_EQ(load_be32(&end.data[0]), static_cast<std::uint32_t>(kThreads * kIncrements));
}

TEST(RangeLock, OverlapsWaitInOrder) {
    RangeLock lock;
    std::vector<int> order;
    RangeLock::Guard a, b, c, d;
    lock.acquire(0, 10, [&](RangeLock::Guard g) { order.push_back(1); a = std::move(g); });
    lock.acquire(5, 10, [&](RangeLock::Guard g) { order.push_back(2); b = std::move(g); });
    lock.acquire(20, 5, [&](RangeLock::Guard g) { order.push_back(3); c = std::move(g); });
    // Disjoint from the holders but overlapping the waiter: waits behind it (no starvation).
    lock.acquire(12, 1, [&](RangeLock::Guard g) { order.push_back(4); d = std::move(g); });
    EXPECT_EQ(order, (std::vector<int>{1, 3}));
    EXPECT_EQ(lock.waiting_count(), 2u);
    a.reset();
    EXPECT_EQ(order, (std::vector<int>{1, 3, 2}));
    b.reset();
    EXPECT_EQ(order, (std::vector<int>{1, 3, 2, 4}));
    c.reset();
    d.reset();
    EXPECT_EQ(lock.held_count(), 0u);
    // Zero blocks conflicts with nothing.
    bool granted = false;
    lock.acquire(0, 0, [&](RangeLock::Guard) { granted = true; });
    EXPECT_TRUE(granted);
}

}  // namespace
}  // namespace itd::scsi
