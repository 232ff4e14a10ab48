#include "volume/open.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "volume_test_util.h"

namespace itd::volume {
namespace {

VolumeSpec spec(std::string backend, std::string arg, std::optional<std::uint64_t> size,
                std::uint32_t bs = 512) {
    VolumeSpec s;
    s.backend = std::move(backend);
    s.arg = std::move(arg);
    s.size_bytes = size;
    s.block_size_bytes = bs;
    return s;
}

TEST(OpenVolume, Memory) {
    auto v = open_volume(spec("memory", "64M", 64 << 20, 4096));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ((*v)->geometry().block_size_bytes, 4096u);
    EXPECT_EQ((*v)->geometry().block_count, (64u << 20) / 4096);
}

TEST(OpenVolume, File) {
    const auto p = std::filesystem::temp_directory_path() /
                   ("itd-open-test-" + std::to_string(::getpid()) + ".img");
    auto v = open_volume(spec("file", p.string(), 1 << 20));
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_TRUE(testing::sync_write(**v, 0, testing::pattern(512, 1)));
    v->reset();
    std::filesystem::remove(p);
}

TEST(OpenVolume, Validation) {
    for (std::uint32_t bs : {0u, 256u, 520u, 131072u}) {
        auto v = open_volume(spec("memory", "1M", 1 << 20, bs));
        ASSERT_FALSE(v.has_value()) << bs;
        EXPECT_EQ(v.error().code, Errc::invalid_argument);
        EXPECT_NE(v.error().message.find("block size"), std::string::npos);
    }
    EXPECT_TRUE(open_volume(spec("memory", "64K", 65536, 65536)).has_value());
    auto not_multiple = open_volume(spec("memory", "1000", 1000));
    ASSERT_FALSE(not_multiple.has_value());
    EXPECT_NE(not_multiple.error().message.find("multiple"), std::string::npos);
    EXPECT_FALSE(open_volume(spec("memory", "0", 0)).has_value());
    auto no_size = open_volume(spec("memory", "", std::nullopt));
    ASSERT_FALSE(no_size.has_value());
    EXPECT_NE(no_size.error().message.find("needs a size"), std::string::npos);
    auto unknown = open_volume(spec("tape", "/dev/st0", 1 << 20));
    ASSERT_FALSE(unknown.has_value());
    EXPECT_NE(unknown.error().message.find("unknown backend"), std::string::npos);
}

}  // namespace
}  // namespace itd::volume
