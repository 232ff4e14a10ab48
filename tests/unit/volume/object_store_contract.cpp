#include "object_store_contract.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

namespace itd::volume::testing {

void ObjectStoreContract::SetUp() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // "PutGet/Dir" -> "PutGet.Dir-1234": unique among tests and among processes.
    std::string id = std::string(info->name()) + "-" + std::to_string(::getpid());
    std::replace(id.begin(), id.end(), '/', '.');
    StoreUnderTest s = GetParam().make(id);
    cleanup_ = std::move(s.cleanup);
    if (!s.skip_reason.empty()) GTEST_SKIP() << s.skip_reason;
    ASSERT_TRUE(s.error.empty()) << s.error;
    ASSERT_NE(s.store, nullptr);
    store_ = std::move(s.store);
}

void ObjectStoreContract::TearDown() {
    if (cleanup_) cleanup_(store_.get());
    store_.reset();
}

namespace {

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
    return v;
}

std::vector<std::string> keys_of(const std::vector<ObjectInfo>& infos) {
    std::vector<std::string> out;
    for (const ObjectInfo& o : infos) out.push_back(o.key);
    return out;
}

TEST_P(ObjectStoreContract, PutGetRoundTripAndRangedGet) {
    const auto data = pattern(10000, 3);
    ASSERT_TRUE(store_->put("objects/00ab/0001", data));

    auto all = store_->get_all("objects/00ab/0001");
    ASSERT_TRUE(all.has_value()) << all.error().message;
    EXPECT_EQ(*all, data);

    std::vector<std::uint8_t> part(100);
    ASSERT_TRUE(store_->get("objects/00ab/0001", 4000, part));
    EXPECT_TRUE(std::equal(part.begin(), part.end(), data.begin() + 4000));

    // The last bytes exactly, and an empty read at the end, are inside the object.
    ASSERT_TRUE(store_->get("objects/00ab/0001", 9900, part));
    EXPECT_TRUE(std::equal(part.begin(), part.end(), data.begin() + 9900));
    EXPECT_TRUE(store_->get("objects/00ab/0001", 10000, std::span<std::uint8_t>()));
    EXPECT_TRUE(store_->get("objects/00ab/0001", 0, std::span<std::uint8_t>()));

    // An empty object exists, and reads back empty.
    ASSERT_TRUE(store_->put("empty", {}));
    auto e = store_->get_all("empty");
    ASSERT_TRUE(e.has_value()) << e.error().message;
    EXPECT_TRUE(e->empty());
    EXPECT_TRUE(store_->get("empty", 0, std::span<std::uint8_t>()));
    auto l = store_->list("empty");
    ASSERT_TRUE(l.has_value()) << l.error().message;
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ((*l)[0].size_bytes, 0u);
}

TEST_P(ObjectStoreContract, LargeObjectRoundTrip) {
    std::vector<std::uint8_t> data(4 * 1024 * 1024 + 1);
    std::mt19937_64 rng(7);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    ASSERT_TRUE(store_->put("big/0", data));
    auto all = store_->get_all("big/0");
    ASSERT_TRUE(all.has_value()) << all.error().message;
    EXPECT_TRUE(*all == data);
    for (const std::size_t offset :
         {std::size_t{0}, std::size_t{1}, std::size_t{262143}, std::size_t{4 * 1024 * 1024 - 3}}) {
        std::vector<std::uint8_t> part(4);
        ASSERT_TRUE(store_->get("big/0", offset, part)) << offset;
        EXPECT_TRUE(std::equal(part.begin(), part.end(), data.begin() + offset)) << offset;
    }
}

TEST_P(ObjectStoreContract, ShortObjectIsIoError) {
    ASSERT_TRUE(store_->put("short-object", pattern(100, 1)));
    std::vector<std::uint8_t> out(50);
    auto past_end = store_->get("short-object", 60, out);
    ASSERT_FALSE(past_end.has_value());
    EXPECT_EQ(past_end.error().code, Errc::io_error);
    EXPECT_NE(past_end.error().message.find("short-object"), std::string::npos)
        << past_end.error().message;

    auto beyond = store_->get("short-object", 1000, std::span<std::uint8_t>());
    ASSERT_FALSE(beyond.has_value());
    EXPECT_EQ(beyond.error().code, Errc::io_error);

    auto far = store_->get("short-object", std::uint64_t{1} << 40, out);
    ASSERT_FALSE(far.has_value());
    EXPECT_EQ(far.error().code, Errc::io_error);

    // An offset so large that offset + length wraps around.
    auto wraps = store_->get("short-object", ~std::uint64_t{0} - 10, out);
    ASSERT_FALSE(wraps.has_value());
    EXPECT_EQ(wraps.error().code, Errc::io_error);
}

TEST_P(ObjectStoreContract, MissingKeysAreNotFound) {
    std::vector<std::uint8_t> out(1);
    auto g = store_->get("nope", 0, out);
    ASSERT_FALSE(g.has_value());
    EXPECT_EQ(g.error().code, Errc::not_found);
    EXPECT_NE(g.error().message.find("nope"), std::string::npos) << g.error().message;
    auto empty_read = store_->get("nope", 0, std::span<std::uint8_t>());
    ASSERT_FALSE(empty_read.has_value());
    EXPECT_EQ(empty_read.error().code, Errc::not_found);
    auto a = store_->get_all("a/b/nope");
    ASSERT_FALSE(a.has_value());
    EXPECT_EQ(a.error().code, Errc::not_found);
    auto l = store_->list("a/");
    ASSERT_TRUE(l.has_value()) << l.error().message;
    EXPECT_TRUE(l->empty());
}

TEST_P(ObjectStoreContract, PutReplacesWholeAndRemoveIsIdempotent) {
    ASSERT_TRUE(store_->put("k", pattern(5000, 1)));
    ASSERT_TRUE(store_->put("k", bytes("short")));
    auto all = store_->get_all("k");
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(*all, bytes("short"));
    std::vector<std::uint8_t> out(10);
    auto tail_gone = store_->get("k", 0, out);
    ASSERT_FALSE(tail_gone.has_value());
    EXPECT_EQ(tail_gone.error().code, Errc::io_error);

    ASSERT_TRUE(store_->remove("k"));
    auto gone = store_->get_all("k");
    ASSERT_FALSE(gone.has_value());
    EXPECT_EQ(gone.error().code, Errc::not_found);
    EXPECT_TRUE(store_->remove("k"));
    EXPECT_TRUE(store_->remove("never/was"));
    auto l = store_->list("");
    ASSERT_TRUE(l.has_value());
    EXPECT_TRUE(l->empty());
}

TEST_P(ObjectStoreContract, PutNewStoresOnceAndNeverReplaces) {
    const auto first = pattern(70000, 3);
    ASSERT_TRUE(store_->put_new("n/k", first));
    auto all = store_->get_all("n/k");
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(*all, first);
    // The same bytes again (a retry whose first answer was lost): success.
    EXPECT_TRUE(store_->put_new("n/k", first));
    // Other bytes, longer or shorter: refused, and the object stays as it was.
    for (const auto& other : {pattern(70000, 4), bytes("short"), std::vector<std::uint8_t>{}}) {
        auto refused = store_->put_new("n/k", other);
        ASSERT_FALSE(refused.has_value());
        EXPECT_EQ(refused.error().code, Errc::conflict) << refused.error().message;
    }
    all = store_->get_all("n/k");
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(*all, first);
    // A key put_new refuses is still put's to replace, and removed it is new again.
    ASSERT_TRUE(store_->put("n/k", bytes("replaced")));
    ASSERT_TRUE(store_->remove("n/k"));
    EXPECT_TRUE(store_->put_new("n/k", bytes("again")));
    all = store_->get_all("n/k");
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(*all, bytes("again"));
    // An empty object is an object.
    ASSERT_TRUE(store_->put_new("n/empty", {}));
    EXPECT_TRUE(store_->put_new("n/empty", {}));
    EXPECT_FALSE(store_->put_new("n/empty", bytes("x")).has_value());
    // Keys are checked as put checks them.
    EXPECT_FALSE(store_->put_new("/bad", bytes("x")).has_value());
}

TEST_P(ObjectStoreContract, ListIsSortedAndFilteredByPrefix) {
    const auto before = std::chrono::system_clock::now();
    // Put in an order that is neither sorted nor reversed.
    const std::vector<std::string> keys = {"objects/b/1", "super",        "objects/a/2",
                                           "objects/ab",  "objects/a/10", "objects/a/1",
                                           "objects-x",   "Objects/z"};
    for (std::size_t i = 0; i < keys.size(); ++i) {
        ASSERT_TRUE(store_->put(keys[i], pattern(i + 1, 0)));
    }
    const auto after = std::chrono::system_clock::now();

    auto all = store_->list("");
    ASSERT_TRUE(all.has_value()) << all.error().message;
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(keys_of(*all), sorted);
    for (const ObjectInfo& o : *all) {
        const auto i =
            static_cast<std::size_t>(std::find(keys.begin(), keys.end(), o.key) - keys.begin());
        EXPECT_EQ(o.size_bytes, i + 1) << o.key;
        // The store's clock may differ a little from ours (a cluster on another machine).
        EXPECT_GE(o.modified, before - std::chrono::minutes(1)) << o.key;
        EXPECT_LE(o.modified, after + std::chrono::minutes(1)) << o.key;
    }

    auto a = store_->list("objects/a");
    ASSERT_TRUE(a.has_value()) << a.error().message;
    EXPECT_EQ(keys_of(*a), (std::vector<std::string>{"objects/a/1", "objects/a/10", "objects/a/2",
                                                     "objects/ab"}));
    auto a_dir = store_->list("objects/a/");
    ASSERT_TRUE(a_dir.has_value()) << a_dir.error().message;
    EXPECT_EQ(keys_of(*a_dir),
              (std::vector<std::string>{"objects/a/1", "objects/a/10", "objects/a/2"}));
    auto exact = store_->list("super");
    ASSERT_TRUE(exact.has_value());
    EXPECT_EQ(keys_of(*exact), (std::vector<std::string>{"super"}));
    auto none = store_->list("zzz");
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->empty());
}

TEST_P(ObjectStoreContract, ListManyKeys) {
    // More keys than one listing batch of some stores holds, and than a window of stats.
    constexpr int n = 300;
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(store_->put("many/" + std::to_string(1000 + i), bytes("x")));
    }
    ASSERT_TRUE(store_->put("other", bytes("y")));
    auto l = store_->list("many/");
    ASSERT_TRUE(l.has_value()) << l.error().message;
    ASSERT_EQ(l->size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ((*l)[static_cast<std::size_t>(i)].key, "many/" + std::to_string(1000 + i));
    }
}

TEST_P(ObjectStoreContract, BadKeysAreRefused) {
    for (const std::string_view key :
         {std::string_view(""), std::string_view("/a"), std::string_view("a/"),
          std::string_view("a//b"), std::string_view("a b"), std::string_view("a\\b"),
          std::string_view("a\nb"), std::string_view("a/../b"), std::string_view(".."),
          std::string_view("\xc3\xbc"), std::string_view("a\0b", 3)}) {
        const std::string shown = "key \"" + std::string(key) + "\"";
        auto p = store_->put(key, bytes("x"));
        ASSERT_FALSE(p.has_value()) << shown;
        EXPECT_EQ(p.error().code, Errc::failed_precondition) << shown;
        std::vector<std::uint8_t> out(1);
        auto g = store_->get(key, 0, out);
        ASSERT_FALSE(g.has_value()) << shown;
        EXPECT_EQ(g.error().code, Errc::failed_precondition) << shown;
        auto a = store_->get_all(key);
        ASSERT_FALSE(a.has_value()) << shown;
        EXPECT_EQ(a.error().code, Errc::failed_precondition) << shown;
        auto r = store_->remove(key);
        ASSERT_FALSE(r.has_value()) << shown;
        EXPECT_EQ(r.error().code, Errc::failed_precondition) << shown;
    }
    for (const std::string_view prefix : {std::string_view("a b"), std::string_view("a\\")}) {
        auto l = store_->list(prefix);
        ASSERT_FALSE(l.has_value()) << prefix;
        EXPECT_EQ(l.error().code, Errc::failed_precondition) << prefix;
    }
    auto l = store_->list("");
    ASSERT_TRUE(l.has_value());
    EXPECT_TRUE(l->empty());
}

TEST_P(ObjectStoreContract, ConcurrentPutsAndGetsFromManyThreads) {
    constexpr int threads = 8;
    constexpr int per_thread = 16;
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
                const auto data = pattern(4096 + static_cast<std::size_t>(i),
                                          static_cast<std::uint8_t>(t * 31 + i));
                if (!store_->put(key, data)) ++failures;
                auto back = store_->get_all(key);
                if (!back || *back != data) ++failures;
            }
        });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(failures.load(), 0);
    auto l = store_->list("t");
    ASSERT_TRUE(l.has_value()) << l.error().message;
    EXPECT_EQ(l->size(), static_cast<std::size_t>(threads * per_thread));
}

// A reader sees the old or the new object, never a mix (object_store.h, put).
TEST_P(ObjectStoreContract, ReplacementIsAtomicForReaders) {
    constexpr std::size_t size = 256 * 1024;
    ASSERT_TRUE(store_->put("page", std::vector<std::uint8_t>(size, 0xaa)));
    std::atomic<bool> writing{true};
    std::atomic<int> mixed{0};
    std::atomic<int> errors{0};
    std::atomic<int> reads{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&, r] {
            // Bounded: the writer's puts end the loop, and so does a cap on reads.
            for (int i = 0; i < 2000 && writing.load(); ++i) {
                std::vector<std::uint8_t> got;
                if (r == 0) {
                    auto all = store_->get_all("page");
                    if (!all) {
                        ++errors;
                        continue;
                    }
                    got = std::move(*all);
                } else {
                    got.resize(size / 2);
                    if (!store_->get("page", size / 4, got)) {
                        ++errors;
                        continue;
                    }
                }
                ++reads;
                if (got.empty() || std::count(got.begin(), got.end(), got[0]) !=
                                       static_cast<std::ptrdiff_t>(got.size())) {
                    ++mixed;
                }
            }
        });
    }
    for (int i = 0; i < 40; ++i) {
        const std::uint8_t fill = (i % 2 == 0) ? 0x55 : 0xaa;
        ASSERT_TRUE(store_->put("page", std::vector<std::uint8_t>(size, fill)));
    }
    writing = false;
    for (auto& t : readers) t.join();
    EXPECT_EQ(mixed.load(), 0);
    EXPECT_EQ(errors.load(), 0);
    EXPECT_GT(reads.load(), 0);
}

TEST_P(ObjectStoreContract, SyncAfterPutsAndRemoves) {
    EXPECT_TRUE(store_->sync());  // nothing pending
    ASSERT_TRUE(store_->put("a/1", bytes("one")));
    ASSERT_TRUE(store_->put("a/2", bytes("two")));
    ASSERT_TRUE(store_->remove("a/1"));
    EXPECT_TRUE(store_->sync());
    auto l = store_->list("");
    ASSERT_TRUE(l.has_value());
    EXPECT_EQ(keys_of(*l), (std::vector<std::string>{"a/2"}));
}

}  // namespace
}  // namespace itd::volume::testing
