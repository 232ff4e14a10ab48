#include "volume/memory/memory_volume.h"

#include <gtest/gtest.h>

#include <vector>

namespace itd::volume {
namespace {

TEST(MemoryVolume, StartsZeroedAndRoundTrips) {
    auto v = MemoryVolume::create(1 << 20, 512);
    ASSERT_TRUE(v.has_value());
    Volume& vol = **v;
    EXPECT_EQ(vol.geometry().block_count, 2048u);
    std::vector<std::uint8_t> out(4096, 0xff);
    bool called = false;
    vol.read(4096, out, [&](Status st) {
        EXPECT_TRUE(st);
        called = true;
    });
    ASSERT_TRUE(called);
    EXPECT_EQ(out, std::vector<std::uint8_t>(4096, 0));
    std::vector<std::uint8_t> in(1024, 0x5a);
    vol.write(512, in, {}, [](Status st) { EXPECT_TRUE(st); });
    std::vector<std::uint8_t> back(1024);
    vol.read(512, back, [](Status st) { EXPECT_TRUE(st); });
    EXPECT_EQ(back, in);
    vol.flush([](Status st) { EXPECT_TRUE(st); });
}

}  // namespace
}  // namespace itd::volume
