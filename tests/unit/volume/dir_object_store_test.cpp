#include "volume/store/dir_object_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace itd::volume {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
    return v;
}

class DirObjectStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() /
                ("itd-dir-store-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(base_);
        root_ = base_ / "root";
        fs::create_directories(root_);
        auto s = DirObjectStore::open(root_.string());
        ASSERT_TRUE(s.has_value()) << s.error().message;
        store_ = std::move(*s);
    }
    void TearDown() override { fs::remove_all(base_); }

    std::vector<std::string> keys(std::string_view prefix) {
        auto l = store_->list(prefix);
        EXPECT_TRUE(l.has_value()) << l.error().message;
        std::vector<std::string> out;
        if (l) {
            for (const ObjectInfo& o : *l) out.push_back(o.key);
        }
        return out;
    }

    fs::path base_;
    fs::path root_;
    std::unique_ptr<DirObjectStore> store_;
};

TEST_F(DirObjectStoreTest, OpenNeedsAnExistingDirectory) {
    auto missing = DirObjectStore::open((base_ / "nope").string());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, Errc::not_found);
    EXPECT_NE(missing.error().message.find("nope"), std::string::npos);

    std::ofstream(base_ / "file") << "x";
    auto file = DirObjectStore::open((base_ / "file").string());
    ASSERT_FALSE(file.has_value());
    EXPECT_EQ(file.error().code, Errc::failed_precondition);
    EXPECT_NE(file.error().message.find("not a directory"), std::string::npos);

    auto empty = DirObjectStore::open("");
    ASSERT_FALSE(empty.has_value());
    EXPECT_EQ(empty.error().code, Errc::failed_precondition);
}

// Round trips, ranged and short reads, missing keys and replacement are the shared
// ObjectStore contract (object_store_contract.cpp, instantiated for this store in
// dir_object_store_contract_test.cpp); what follows is particular to directories.

TEST_F(DirObjectStoreTest, KeyAndDirectoryCannotShareAName) {
    ASSERT_TRUE(store_->put("a", bytes("1")));
    auto below = store_->put("a/b", bytes("2"));
    ASSERT_FALSE(below.has_value());
    EXPECT_EQ(below.error().code, Errc::failed_precondition);

    ASSERT_TRUE(store_->put("d/b", bytes("3")));
    auto over = store_->put("d", bytes("4"));
    ASSERT_FALSE(over.has_value());
    EXPECT_EQ(over.error().code, Errc::failed_precondition);
    EXPECT_EQ(keys(""), (std::vector<std::string>{"a", "d/b"}));
}

TEST_F(DirObjectStoreTest, BadKeysAreRejectedAndNeverEscapeTheRoot) {
    std::ofstream(base_ / "outside") << "secret";
    const char* bad[] = {"",      "/etc/passwd", "../outside", "a/../../outside", "a//b",
                         "a/",    "./a",         "a/./b",      "..",              ".",
                         ".hid",  "a/.hid",      "a b",        "a\\b",            "a:b",
                         "a\nb",  "caf\xc3\xa9", "a@b"};
    for (const char* key : bad) {
        SCOPED_TRACE(key);
        auto p = store_->put(key, bytes("x"));
        ASSERT_FALSE(p.has_value());
        EXPECT_EQ(p.error().code, Errc::failed_precondition);
        std::vector<std::uint8_t> out(1);
        auto g = store_->get(key, 0, out);
        ASSERT_FALSE(g.has_value());
        EXPECT_EQ(g.error().code, Errc::failed_precondition);
        auto a = store_->get_all(key);
        ASSERT_FALSE(a.has_value());
        EXPECT_EQ(a.error().code, Errc::failed_precondition);
        auto r = store_->remove(key);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, Errc::failed_precondition);
    }
    const std::string too_long(201, 'x');
    EXPECT_FALSE(store_->put(too_long, bytes("x")).has_value());
    EXPECT_TRUE(store_->put(std::string(200, 'x'), bytes("x")).has_value());

    for (const char* prefix : {"/", "../", "a/../", "a//", ".x/", "a b"}) {
        SCOPED_TRACE(prefix);
        auto l = store_->list(prefix);
        ASSERT_FALSE(l.has_value());
        EXPECT_EQ(l.error().code, Errc::failed_precondition);
    }
    // Nothing was written or removed outside the root.
    EXPECT_TRUE(fs::exists(base_ / "outside"));
    EXPECT_EQ(std::distance(fs::directory_iterator(base_), fs::directory_iterator()), 2);
    // Every documented character works.
    EXPECT_TRUE(store_->put("AZaz09._-/x.y_z-1", bytes("ok")));
}

TEST_F(DirObjectStoreTest, ListIsSortedFiltersByPrefixAndSkipsTemporaryFiles) {
    for (const char* key : {"objects/00b/2", "objects/00a/1", "super", "objects/00a/10",
                            "objects/01/1", "objects/00a/9", "objectsX"}) {
        ASSERT_TRUE(store_->put(key, bytes(key)));
    }
    // Leftovers of a crashed put, a dot file and a symlink are not objects.
    std::ofstream(root_ / "objects" / "00a" / ".~1~4242~0") << "partial";
    std::ofstream(root_ / ".hidden") << "x";
    fs::create_symlink(base_, root_ / "objects" / "link");

    EXPECT_EQ(keys(""), (std::vector<std::string>{"objects/00a/1", "objects/00a/10",
                                                  "objects/00a/9", "objects/00b/2",
                                                  "objects/01/1", "objectsX", "super"}));
    EXPECT_EQ(keys("objects/"),
              (std::vector<std::string>{"objects/00a/1", "objects/00a/10", "objects/00a/9",
                                        "objects/00b/2", "objects/01/1"}));
    // A prefix that ends inside a component.
    EXPECT_EQ(keys("objects/00"), (std::vector<std::string>{"objects/00a/1", "objects/00a/10",
                                                            "objects/00a/9", "objects/00b/2"}));
    EXPECT_EQ(keys("objects/00a/1"),
              (std::vector<std::string>{"objects/00a/1", "objects/00a/10"}));
    EXPECT_EQ(keys("objects"),
              (std::vector<std::string>{"objects/00a/1", "objects/00a/10", "objects/00a/9",
                                        "objects/00b/2", "objects/01/1", "objectsX"}));
    EXPECT_TRUE(keys("nothing/").empty());
    EXPECT_TRUE(keys("super/x").empty());

    auto l = store_->list("super");
    ASSERT_TRUE(l.has_value());
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ((*l)[0].size_bytes, 5u);
    const auto age = std::chrono::system_clock::now() - (*l)[0].modified;
    EXPECT_LT(age, std::chrono::minutes(1));
    EXPECT_GT(age, -std::chrono::minutes(1));
}

TEST_F(DirObjectStoreTest, SyncWithAndWithoutPendingPuts) {
    EXPECT_TRUE(store_->sync());
    ASSERT_TRUE(store_->put("a/b/c", bytes("1")));
    ASSERT_TRUE(store_->put("top", bytes("2")));
    ASSERT_TRUE(store_->remove("top"));
    EXPECT_TRUE(store_->sync());
    EXPECT_TRUE(store_->sync());
}

TEST_F(DirObjectStoreTest, ObjectsSurviveReopen) {
    ASSERT_TRUE(store_->put("x/y", pattern(300, 9)));
    ASSERT_TRUE(store_->sync());
    store_.reset();
    auto s = DirObjectStore::open(root_.string());
    ASSERT_TRUE(s.has_value());
    auto all = (*s)->get_all("x/y");
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(*all, pattern(300, 9));
}

TEST_F(DirObjectStoreTest, ConcurrentPutsFromManyThreads) {
    constexpr int threads = 8;
    constexpr int per_thread = 40;
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                // Some directories are shared by every thread, so they race to create them.
                const std::string key = "objects/" + std::to_string(i % 5) + "/" +
                                        std::to_string(t) + "-" + std::to_string(i);
                if (!store_->put(key, pattern(1000 + i, static_cast<std::uint8_t>(t)))) {
                    ++failures;
                }
                if (i % 10 == 0 && !store_->sync()) ++failures;
            }
        });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(failures.load(), 0);
    ASSERT_TRUE(store_->sync());
    EXPECT_EQ(keys("").size(), static_cast<std::size_t>(threads * per_thread));
    for (int t = 0; t < threads; ++t) {
        for (int i = 0; i < per_thread; ++i) {
            auto all = store_->get_all("objects/" + std::to_string(i % 5) + "/" +
                                       std::to_string(t) + "-" + std::to_string(i));
            ASSERT_TRUE(all.has_value());
            EXPECT_EQ(*all, pattern(1000 + i, static_cast<std::uint8_t>(t)));
        }
    }
}

TEST_F(DirObjectStoreTest, ReadersSeeOldOrNewObjectNeverAMix) {
    // One writer replaces the key with objects of one repeated byte each, of different sizes;
    // readers must always see one whole object.
    ASSERT_TRUE(store_->put("hot", std::vector<std::uint8_t>(4096, 0)));
    std::atomic<bool> stop{false};
    std::atomic<int> torn{0};
    std::thread writer([&] {
        for (int i = 1; i < 250; ++i) {  // below 256: the byte names i
            const std::size_t size = 4096 + static_cast<std::size_t>(i % 7) * 65536;
            if (!store_->put("hot", std::vector<std::uint8_t>(size, static_cast<std::uint8_t>(i)))) {
                ++torn;
            }
        }
        stop = true;
    });
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&] {
            while (!stop) {
                auto all = store_->get_all("hot");
                if (!all || all->size() % 4096 != 0 ||
                    std::count(all->begin(), all->end(), all->front()) !=
                        static_cast<std::ptrdiff_t>(all->size()) ||
                    all->size() != 4096 + static_cast<std::size_t>(all->front() % 7) * 65536) {
                    ++torn;
                }
            }
        });
    }
    writer.join();
    for (auto& r : readers) r.join();
    EXPECT_EQ(torn.load(), 0);
    // No temporary file was left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace itd::volume
