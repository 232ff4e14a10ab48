// What is particular to FileMetaStore: its files, damaged files, several processes. What every
// MetaStore does is tested for it in meta_store_conformance_test.cpp.
#include "volume/meta/file_meta_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace itd::volume {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class FileMetaStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() /
                ("itd-meta-store-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(base_);
        root_ = base_ / "root";
        fs::create_directories(root_);
        store_ = open_store();
    }
    void TearDown() override { fs::remove_all(base_); }

    std::unique_ptr<FileMetaStore> open_store() {
        auto s = FileMetaStore::open(root_.string());
        EXPECT_TRUE(s.has_value()) << s.error().message;
        return s ? std::move(*s) : nullptr;
    }

    // Adds one to the decimal value under key, retrying the transaction on conflict.
    static bool increment(MetaStore& store, const std::string& key) {
        for (int attempt = 0; attempt < 10000; ++attempt) {
            auto cur = store.get(key);
            if (!cur) return false;
            const std::uint64_t rev = *cur ? (*cur)->revision : 0;
            const int n = *cur ? std::stoi((*cur)->value) : 0;
            auto put = store.put_if(key, std::to_string(n + 1), rev);
            if (put) return true;
            if (put.error().code != Errc::conflict) return false;
        }
        return false;
    }

    fs::path base_;
    fs::path root_;
    std::unique_ptr<FileMetaStore> store_;
};

TEST_F(FileMetaStoreTest, OpenNeedsAnExistingDirectory) {
    auto missing = FileMetaStore::open((base_ / "nope").string());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, Errc::not_found);
    std::ofstream(base_ / "file") << "x";
    auto file = FileMetaStore::open((base_ / "file").string());
    ASSERT_FALSE(file.has_value());
    EXPECT_EQ(file.error().code, Errc::failed_precondition);
}

TEST_F(FileMetaStoreTest, PutGetRoundTripAndFileFormat) {
    auto missing = store_->get("volumes/v1");
    ASSERT_TRUE(missing.has_value());
    EXPECT_FALSE(missing->has_value());

    const std::string value("line 1\nline 2\n\0binary\xff", 22);
    auto rev = store_->put_if("volumes/v1", value, 0);
    ASSERT_TRUE(rev.has_value()) << rev.error().message;
    EXPECT_GT(*rev, 0u);

    auto got = store_->get("volumes/v1");
    ASSERT_TRUE(got.has_value());
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->value, value);
    EXPECT_EQ((*got)->revision, *rev);
    EXPECT_EQ(slurp(root_ / "volumes" / "v1"), std::to_string(*rev) + "\n" + value);

    // An empty value, and '@' in a key.
    auto empty = store_->put_if("snap@1", "", 0);
    ASSERT_TRUE(empty.has_value());
    auto e = store_->get("snap@1");
    ASSERT_TRUE(e.has_value() && e->has_value());
    EXPECT_EQ((*e)->value, "");
}

TEST_F(FileMetaStoreTest, RemoveIf) {
    auto missing = store_->remove_if("k", 1);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, Errc::not_found);

    auto r = store_->put_if("a/b/k", "v", 0);
    ASSERT_TRUE(r.has_value());
    auto wrong = store_->remove_if("a/b/k", *r + 1);
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, Errc::conflict);
    EXPECT_TRUE(store_->get("a/b/k")->has_value());

    ASSERT_TRUE(store_->remove_if("a/b/k", *r));
    EXPECT_FALSE(store_->get("a/b/k")->has_value());
    // Directories left empty are gone, so "a" can now be a key.
    EXPECT_FALSE(fs::exists(root_ / "a"));
    EXPECT_TRUE(store_->put_if("a", "v", 0).has_value());
    // And a key below a key cannot exist.
    auto below = store_->put_if("a/x", "v", 0);
    ASSERT_FALSE(below.has_value());
    EXPECT_EQ(below.error().code, Errc::failed_precondition);
}

TEST_F(FileMetaStoreTest, ListIsSortedByPrefixAndSkipsOwnFiles) {
    for (const char* key : {"volumes/b", "volumes/a", "snapshots/a@1", "volumes/a2", "catalog"}) {
        ASSERT_TRUE(store_->put_if(key, "x", 0).has_value());
    }
    auto lock = store_->lock("volumes/a", "me");
    ASSERT_TRUE(lock.has_value());
    EXPECT_TRUE(fs::exists(root_ / ".locks" / "volumes%2Fa"));
    std::ofstream(root_ / "volumes" / ".~b~1~1") << "partial";

    auto all = store_->list("");
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(*all, (std::vector<std::string>{"catalog", "snapshots/a@1", "volumes/a",
                                              "volumes/a2", "volumes/b"}));
    auto vols = store_->list("volumes/a");
    ASSERT_TRUE(vols.has_value());
    EXPECT_EQ(*vols, (std::vector<std::string>{"volumes/a", "volumes/a2"}));
    EXPECT_TRUE(store_->list("nothing/")->empty());
    auto bad = store_->list("../");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, Errc::failed_precondition);
}

TEST_F(FileMetaStoreTest, DamagedFilesAreIoErrors) {
    std::ofstream(root_ / "no-revision") << "just a value";
    auto g = store_->get("no-revision");
    ASSERT_FALSE(g.has_value());
    EXPECT_EQ(g.error().code, Errc::io_error);
    EXPECT_NE(g.error().message.find("no-revision"), std::string::npos);
    std::ofstream(root_ / "zero") << "0\nvalue";
    EXPECT_FALSE(store_->get("zero").has_value());

    std::ofstream(root_ / ".revision") << "garbage";
    auto p = store_->put_if("k", "v", 0);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().code, Errc::io_error);
    EXPECT_FALSE(store_->get("k")->has_value());
}

TEST_F(FileMetaStoreTest, ConcurrentIncrementsFromThreadsAndProcessesAllCount) {
    constexpr int processes = 2;
    constexpr int threads = 3;
    constexpr int per_worker = 10;
    std::vector<pid_t> children;
    for (int p = 0; p < processes; ++p) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            // The child opens its own store and leaves without running the test's teardown.
            auto s = FileMetaStore::open(root_.string());
            bool ok = s.has_value();
            for (int i = 0; ok && i < per_worker; ++i) ok = increment(**s, "counter");
            ::_exit(ok ? 0 : 1);
        }
        children.push_back(pid);
    }
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < per_worker; ++i) {
                if (!increment(*store_, "counter")) ++failures;
            }
        });
    }
    for (auto& w : workers) w.join();
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    EXPECT_EQ(failures.load(), 0);
    auto v = store_->get("counter");
    ASSERT_TRUE(v.has_value() && v->has_value());
    EXPECT_EQ((*v)->value, std::to_string((processes + threads) * per_worker));
}

}  // namespace
}  // namespace itd::volume
