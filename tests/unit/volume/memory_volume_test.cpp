#include "volume/memory/memory_volume.h"

#include <gtest/gtest.h>

#include <vector>

#include "volume_test_util.h"

namespace itd::volume {
namespace {

using namespace testing;

TEST(MemoryVolume, StartsZeroedAndRoundTrips) {
    auto v = MemoryVolume::create(1 << 20, 512);
    ASSERT_TRUE(v.has_value());
    Volume& vol = **v;
    EXPECT_EQ(vol.geometry().block_count, 2048u);
    EXPECT_FALSE(vol.has_volatile_cache());
    std::vector<std::uint8_t> out(4096, 0xff);
    bool called = false;
    vol.read(4096, out, [&](Status st) {
        EXPECT_TRUE(st);
        called = true;
    });
    EXPECT_TRUE(called);  // completes inline
    EXPECT_EQ(out, std::vector<std::uint8_t>(4096, 0));
    const auto in = pattern(1024, 3);
    ASSERT_TRUE(sync_write(vol, 512, in));
    ASSERT_TRUE(sync_write(vol, 512 * 2047, pattern(512, 9), /*fua=*/true));
    std::vector<std::uint8_t> back(1024);
    ASSERT_TRUE(sync_read(vol, 512, back));
    EXPECT_EQ(back, in);
    EXPECT_TRUE(sync_flush(vol));
}

TEST(MemoryVolume, UnmapAndWriteZeroesReadBackZeros) {
    auto v = MemoryVolume::create(1 << 20, 512);
    ASSERT_TRUE(v.has_value());
    Volume& vol = **v;
    EXPECT_TRUE(vol.supports_unmap());
    ASSERT_TRUE(sync_write(vol, 0, pattern(64 * 1024, 5)));
    // An unaligned range: whole pages go back to the kernel, the ends are zeroed by hand.
    ASSERT_TRUE(sync_unmap(vol, 512, 3 * 4096));
    std::vector<std::uint8_t> back(64 * 1024);
    ASSERT_TRUE(sync_read(vol, 0, back));
    auto expect = pattern(64 * 1024, 5);
    std::fill_n(expect.begin() + 512, 3 * 4096, 0);
    EXPECT_EQ(back, expect);
    ASSERT_TRUE(sync_write_zeroes(vol, 32 * 1024, 1024));
    std::fill_n(expect.begin() + 32 * 1024, 1024, 0);
    ASSERT_TRUE(sync_read(vol, 0, back));
    EXPECT_EQ(back, expect);
    // The pages wholly inside the unmapped range are deallocated; the partial page before
    // them still holds data (4 KiB pages).
    auto status = sync_lba_status(vol, 512, 4096);
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(status->size(), 2u);
    EXPECT_EQ((*status)[0].offset_bytes, 512u);
    EXPECT_EQ((*status)[0].length_bytes, 4096u - 512u);
    EXPECT_TRUE((*status)[0].mapped);
    EXPECT_EQ((*status)[1].offset_bytes, 4096u);
    EXPECT_EQ((*status)[1].length_bytes, 512u);
    EXPECT_FALSE((*status)[1].mapped);
}

TEST(MemoryVolume, LbaStatusFollowsWritesAndUnmaps) {
    auto v = MemoryVolume::create(1 << 20, 512);
    ASSERT_TRUE(v.has_value());
    Volume& vol = **v;
    // Never written: deallocated (it reads as zeros).
    auto status = sync_lba_status(vol, 0, 1 << 20);
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(status->size(), 1u);
    EXPECT_FALSE((*status)[0].mapped);
    // One block written maps its page (8 blocks); write_zeroes maps too (volume.h).
    ASSERT_TRUE(sync_write(vol, 512 * 9, pattern(512, 3)));
    ASSERT_TRUE(sync_write_zeroes(vol, 64 * 1024, 4096));
    status = sync_lba_status(vol, 0, 1 << 20);
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(status->size(), 5u);
    EXPECT_EQ((*status)[1].offset_bytes, 4096u);
    EXPECT_EQ((*status)[1].length_bytes, 4096u);
    EXPECT_TRUE((*status)[1].mapped);
    EXPECT_EQ((*status)[3].offset_bytes, 64u * 1024);
    EXPECT_TRUE((*status)[3].mapped);
    EXPECT_FALSE((*status)[4].mapped);
    // Unmapping everything deallocates everything again.
    ASSERT_TRUE(sync_unmap(vol, 0, 1 << 20));
    status = sync_lba_status(vol, 0, 1 << 20);
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(status->size(), 1u);
    EXPECT_FALSE((*status)[0].mapped);
}

TEST(MemoryVolume, ConcurrentWritersToDifferentRanges) {
    auto v = MemoryVolume::create(4096 * 64, 4096);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(concurrent_disjoint_writers(**v, 8, 200), 0);
}

}  // namespace
}  // namespace itd::volume
