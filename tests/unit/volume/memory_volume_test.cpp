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

TEST(MemoryVolume, ConcurrentWritersToDifferentRanges) {
    auto v = MemoryVolume::create(4096 * 64, 4096);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(concurrent_disjoint_writers(**v, 8, 200), 0);
}

}  // namespace
}  // namespace itd::volume
