#include "volume/file/file_volume.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "volume_test_util.h"

namespace itd::volume {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class FileVolumeTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("itd-file-volume-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const char* name) const { return (dir_ / name).string(); }

    fs::path dir_;
};

FileVolume::Options opts(std::string path, std::optional<std::uint64_t> size,
                         std::uint32_t bs = 512) {
    FileVolume::Options o;
    o.path = std::move(path);
    o.size_bytes = size;
    o.block_size_bytes = bs;
    return o;
}

TEST_F(FileVolumeTest, CreatesSparseFile) {
    const std::uint64_t size = 1ull << 30;  // 1 GiB, nothing allocated
    auto v = FileVolume::open(opts(path("a.img"), size));
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_EQ((*v)->geometry().block_count, size / 512);
    EXPECT_TRUE((*v)->has_volatile_cache());
    struct stat st {};
    ASSERT_EQ(::stat(path("a.img").c_str(), &st), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), size);
    EXPECT_LT(static_cast<std::uint64_t>(st.st_blocks) * 512, 1u << 20);
    std::vector<std::uint8_t> zeros(4096, 0xff);
    ASSERT_TRUE(sync_read(**v, size - 4096, zeros));
    EXPECT_EQ(zeros, std::vector<std::uint8_t>(4096, 0));
}

TEST_F(FileVolumeTest, RoundTripFuaFlushAndReopen) {
    const auto data = pattern(8192, 5);
    {
        auto v = FileVolume::open(opts(path("b.img"), 1 << 20));
        ASSERT_TRUE(v.has_value());
        ASSERT_TRUE(sync_write(**v, 4096, data));
        ASSERT_TRUE(sync_write(**v, 0, pattern(512, 1), /*fua=*/true));
        ASSERT_TRUE(sync_flush(**v));
        std::vector<std::uint8_t> back(8192);
        ASSERT_TRUE(sync_read(**v, 4096, back));
        EXPECT_EQ(back, data);
    }
    // Reopened without a size: the file's own.
    auto again = FileVolume::open(opts(path("b.img"), std::nullopt));
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ((*again)->geometry().size_bytes(), 1u << 20);
    std::vector<std::uint8_t> back(8192);
    ASSERT_TRUE(sync_read(**again, 4096, back));
    EXPECT_EQ(back, data);
    // Reopened with the same size: fine. With another: a clear error.
    EXPECT_TRUE(FileVolume::open(opts(path("b.img"), 1 << 20)).has_value());
    auto mismatch = FileVolume::open(opts(path("b.img"), 2 << 20));
    ASSERT_FALSE(mismatch.has_value());
    EXPECT_EQ(mismatch.error().code, Errc::invalid_argument);
    EXPECT_NE(mismatch.error().message.find(path("b.img")), std::string::npos);
}

TEST_F(FileVolumeTest, Errors) {
    auto missing = FileVolume::open(opts(path("none.img"), std::nullopt));
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, Errc::not_found);

    auto bad_dir = FileVolume::open(opts(path("no/such/dir.img"), 1 << 20));
    ASSERT_FALSE(bad_dir.has_value());
    EXPECT_NE(bad_dir.error().message.find("No such file"), std::string::npos)
        << bad_dir.error().message;

    auto directory = FileVolume::open(opts(dir_.string(), std::nullopt));
    ASSERT_FALSE(directory.has_value());

    // An existing file whose size is not whole blocks.
    { std::ofstream(path("odd.img")) << "123"; }
    auto odd = FileVolume::open(opts(path("odd.img"), std::nullopt));
    ASSERT_FALSE(odd.has_value());
    EXPECT_EQ(odd.error().code, Errc::invalid_argument);
}

TEST_F(FileVolumeTest, UnmapPunchesHolesThatLbaStatusReports) {
    auto v = FileVolume::open(opts(path("thin.img"), 1 << 20));
    ASSERT_TRUE(v.has_value());
    Volume& vol = **v;
    EXPECT_TRUE(vol.supports_unmap());
    ASSERT_TRUE(sync_write(vol, 0, pattern(256 * 1024, 1)));
    ASSERT_TRUE(sync_unmap(vol, 64 * 1024, 64 * 1024));
    ASSERT_TRUE(sync_write_zeroes(vol, 512, 512));
    std::vector<std::uint8_t> back(256 * 1024);
    ASSERT_TRUE(sync_read(vol, 0, back));
    auto expect = pattern(256 * 1024, 1);
    std::fill_n(expect.begin() + 64 * 1024, 64 * 1024, 0);
    std::fill_n(expect.begin() + 512, 512, 0);
    EXPECT_EQ(back, expect);

    auto status = sync_lba_status(vol, 0, 1 << 20);
    ASSERT_TRUE(status.has_value());
    ASSERT_FALSE(status->empty());
    // Extents are contiguous from the asked offset.
    std::uint64_t at = 0;
    for (const LbaExtent& e : *status) {
        EXPECT_EQ(e.offset_bytes, at);
        EXPECT_GT(e.length_bytes, 0u);
        at += e.length_bytes;
    }
    EXPECT_LE(at, 1u << 20);
    // Where the file system keeps holes (tmpfs, ext4, xfs, btrfs), the punched range and the
    // never-written tail are deallocated and the written head is mapped.
    struct stat st {};
    ASSERT_EQ(::stat(path("thin.img").c_str(), &st), 0);
    if (status->size() > 1) {
        EXPECT_TRUE((*status)[0].mapped);
        EXPECT_EQ((*status)[0].length_bytes, 64u * 1024);
        EXPECT_FALSE((*status)[1].mapped);
        EXPECT_EQ((*status)[1].offset_bytes, 64u * 1024);
        EXPECT_EQ((*status)[1].length_bytes, 64u * 1024);
        EXPECT_FALSE(status->back().mapped);
    }
}

TEST_F(FileVolumeTest, ConcurrentWritersToDifferentRanges) {
    auto v = FileVolume::open(opts(path("c.img"), 4096 * 256, 4096));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(concurrent_disjoint_writers(**v, 6, 100), 0);
}

TEST_F(FileVolumeTest, DestructionRunsQueuedCompletions) {
    std::atomic<int> completions{0};
    std::vector<std::vector<std::uint8_t>> buffers(64, std::vector<std::uint8_t>(4096));
    {
        FileVolume::Options o = opts(path("d.img"), 1 << 20);
        o.io_threads = 1;
        o.max_queued_ios = 8;
        auto v = FileVolume::open(o);
        ASSERT_TRUE(v.has_value());
        for (auto& b : buffers) {
            (*v)->write(0, b, {}, [&](Status st) {
                EXPECT_TRUE(st);
                ++completions;
            });
        }
    }
    EXPECT_EQ(completions.load(), 64);
}

}  // namespace
}  // namespace itd::volume
