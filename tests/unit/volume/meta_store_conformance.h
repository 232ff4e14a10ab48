// What every MetaStore must do (meta_store.h), as one value-parameterized suite: each store
// kind instantiates it with an environment that opens store objects on one shared set of data.
// FileMetaStore runs it in the unit tests (meta_store_conformance_test.cpp), EtcdMetaStore
// against a real etcd in tests/integration/etcd_meta_store_test.cpp. What only one kind does
// (file layout, damaged files, lease expiry, leader failover) stays in that kind's own tests.
//
// Include this header in exactly one source file of a test binary, then
//   INSTANTIATE_TEST_SUITE_P(Kind, MetaStoreConformance,
//                            ::testing::Values(MetaStoreKind{"Kind", make_env}),
//                            meta_store_kind_name);
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "volume/meta/meta_store.h"

namespace itd::volume::testing {

// One test's data: every open() is another store object (another process, or a restart) on
// the same keys and locks, and nothing else shares them.
class MetaStoreEnv {
  public:
    virtual ~MetaStoreEnv() = default;
    virtual std::unique_ptr<MetaStore> open() = 0;
    // How long after its holder is killed a lock may stay taken: 0 for a local lock, about the
    // lease TTL in a cluster.
    virtual std::chrono::milliseconds lock_release_delay() const = 0;
};

struct MetaStoreKind {
    std::string name;
    // nullptr when the store cannot run here (the test is skipped, saying why in skip_reason).
    std::function<std::unique_ptr<MetaStoreEnv>(std::string& skip_reason)> make;
};

inline std::string meta_store_kind_name(const ::testing::TestParamInfo<MetaStoreKind>& info) {
    return info.param.name;
}

class MetaStoreConformance : public ::testing::TestWithParam<MetaStoreKind> {
  protected:
    void SetUp() override {
        std::string why;
        env_ = GetParam().make(why);
        if (env_ == nullptr) GTEST_SKIP() << why;
        store_ = env_->open();
        ASSERT_NE(store_, nullptr);
    }
    void TearDown() override {
        store_.reset();
        env_.reset();
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

    std::unique_ptr<MetaStoreEnv> env_;
    std::unique_ptr<MetaStore> store_;
};

// A MetaLock of no store, to hand a store as a fence.
class ForeignLock final : public MetaLock {
  public:
    bool held() const override { return true; }
};

TEST_P(MetaStoreConformance, PutGetRoundTrip) {
    auto missing = store_->get("volumes/v1");
    ASSERT_TRUE(missing.has_value()) << missing.error().message;
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
    // Another store object sees the same.
    auto other = env_->open();
    EXPECT_EQ((*other->get("volumes/v1"))->value, value);

    // An empty value, and '@' in a key.
    auto empty = store_->put_if("snap@1", "", 0);
    ASSERT_TRUE(empty.has_value());
    auto e = store_->get("snap@1");
    ASSERT_TRUE(e.has_value() && e->has_value());
    EXPECT_EQ((*e)->value, "");
    EXPECT_EQ((*e)->revision, *empty);
}

TEST_P(MetaStoreConformance, CompareAndSwapConflicts) {
    auto r1 = store_->put_if("k", "a", 0);
    ASSERT_TRUE(r1.has_value()) << r1.error().message;

    auto exists = store_->put_if("k", "b", 0);
    ASSERT_FALSE(exists.has_value());
    EXPECT_EQ(exists.error().code, Errc::conflict);
    auto stale = store_->put_if("k", "b", *r1 + 1);
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().code, Errc::conflict);
    auto absent = store_->put_if("other", "b", 7);
    ASSERT_FALSE(absent.has_value());
    EXPECT_EQ(absent.error().code, Errc::conflict);
    EXPECT_FALSE(store_->get("other")->has_value());

    auto r2 = store_->put_if("k", "b", *r1);
    ASSERT_TRUE(r2.has_value());
    EXPECT_GT(*r2, *r1);
    EXPECT_EQ((*store_->get("k"))->value, "b");
    // The old revision no longer works.
    auto old = store_->put_if("k", "c", *r1);
    ASSERT_FALSE(old.has_value());
    EXPECT_EQ(old.error().code, Errc::conflict);
    EXPECT_EQ((*store_->get("k"))->value, "b");
}

TEST_P(MetaStoreConformance, RemoveIf) {
    auto missing = store_->remove_if("k", 1);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, Errc::not_found);
    auto missing0 = store_->remove_if("k", 0);
    ASSERT_FALSE(missing0.has_value());
    EXPECT_EQ(missing0.error().code, Errc::not_found);

    auto r = store_->put_if("a/b/k", "v", 0);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    for (std::uint64_t wrong : {*r + 1, std::uint64_t{0}}) {
        auto st = store_->remove_if("a/b/k", wrong);
        ASSERT_FALSE(st.has_value());
        EXPECT_EQ(st.error().code, Errc::conflict);
    }
    EXPECT_TRUE(store_->get("a/b/k")->has_value());

    ASSERT_TRUE(store_->remove_if("a/b/k", *r));
    EXPECT_FALSE(store_->get("a/b/k")->has_value());
    auto again = store_->remove_if("a/b/k", *r);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, Errc::not_found);
    EXPECT_TRUE(store_->put_if("a/b/k", "new", 0).has_value());
}

TEST_P(MetaStoreConformance, RevisionsNeverRepeatAfterRemoveAndRecreate) {
    std::vector<std::uint64_t> seen;
    for (int round = 0; round < 5; ++round) {
        auto r = store_->put_if("k", "v" + std::to_string(round), 0);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        seen.push_back(*r);
        auto r2 = store_->put_if("k", "w", *r);
        ASSERT_TRUE(r2.has_value());
        seen.push_back(*r2);
        ASSERT_TRUE(store_->remove_if("k", *r2));
        // A new store object (a restarted process) continues the sequence.
        store_ = env_->open();
    }
    for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i], seen[i - 1]);
    auto last = store_->put_if("k", "again", 0);
    ASSERT_TRUE(last.has_value());
    EXPECT_GT(*last, seen.back());
}

TEST_P(MetaStoreConformance, ListIsSortedByPrefixAndSkipsLocks) {
    for (const char* key : {"volumes/b", "volumes/a", "snapshots/a@1", "volumes/a2", "catalog"}) {
        ASSERT_TRUE(store_->put_if(key, "x", 0).has_value());
    }
    auto lock = store_->lock("volumes/a", "me");
    ASSERT_TRUE(lock.has_value()) << lock.error().message;
    auto lock2 = store_->lock("zz", "me");
    ASSERT_TRUE(lock2.has_value());

    auto all = store_->list("");
    ASSERT_TRUE(all.has_value()) << all.error().message;
    EXPECT_EQ(*all, (std::vector<std::string>{"catalog", "snapshots/a@1", "volumes/a", "volumes/a2",
                                              "volumes/b"}));
    auto vols = store_->list("volumes/a");
    ASSERT_TRUE(vols.has_value());
    EXPECT_EQ(*vols, (std::vector<std::string>{"volumes/a", "volumes/a2"}));
    EXPECT_EQ(*store_->list("volumes/"),
              (std::vector<std::string>{"volumes/a", "volumes/a2", "volumes/b"}));
    EXPECT_TRUE(store_->list("nothing/")->empty());
    EXPECT_TRUE(store_->list("z")->empty());
    auto bad = store_->list("../");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, Errc::failed_precondition);
}

TEST_P(MetaStoreConformance, BadKeysAreRejected) {
    for (const char* key : {"", "/k", "../k", "a/../../k", "a//b", ".lock", ".revision", ".locks/x",
                            "a/.x", "a b", "a%b", "a/"}) {
        SCOPED_TRACE(key);
        auto p = store_->put_if(key, "v", 0);
        ASSERT_FALSE(p.has_value());
        EXPECT_EQ(p.error().code, Errc::failed_precondition);
        auto g = store_->get(key);
        ASSERT_FALSE(g.has_value());
        EXPECT_EQ(g.error().code, Errc::failed_precondition);
        auto r = store_->remove_if(key, 1);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, Errc::failed_precondition);
        auto l = store_->lock(key, "me");
        ASSERT_FALSE(l.has_value());
        EXPECT_EQ(l.error().code, Errc::failed_precondition);
        auto h = store_->lock_holder(key);
        ASSERT_FALSE(h.has_value());
        EXPECT_EQ(h.error().code, Errc::failed_precondition);
    }
    EXPECT_TRUE(store_->list("")->empty());
}

TEST_P(MetaStoreConformance, RacingPutIfHasExactlyOneWinner) {
    auto other = env_->open();  // a second store object on the same data
    for (int round = 0; round < 20; ++round) {
        const std::string key = "race/" + std::to_string(round);
        std::uint64_t base_rev = 0;
        if (round % 2 == 1) {
            auto r = store_->put_if(key, "start", 0);
            ASSERT_TRUE(r.has_value());
            base_rev = *r;
        }
        std::atomic<int> winners{0};
        std::atomic<int> conflicts{0};
        std::atomic<int> others{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                MetaStore& s = t % 2 == 0 ? *store_ : *other;
                auto r = s.put_if(key, "thread " + std::to_string(t), base_rev);
                if (r) {
                    ++winners;
                } else if (r.error().code == Errc::conflict) {
                    ++conflicts;
                } else {
                    ++others;
                }
            });
        }
        for (auto& t : threads) t.join();
        EXPECT_EQ(winners.load(), 1) << "round " << round;
        EXPECT_EQ(conflicts.load(), 3);
        EXPECT_EQ(others.load(), 0);
    }
}

TEST_P(MetaStoreConformance, ConcurrentIncrementsFromThreadsAllCount) {
    constexpr int threads = 4;
    constexpr int per_thread = 15;
    auto other = env_->open();
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            MetaStore& s = t % 2 == 0 ? *store_ : *other;
            for (int i = 0; i < per_thread; ++i) {
                if (!increment(s, "counter")) ++failures;
            }
        });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(failures.load(), 0);
    auto v = store_->get("counter");
    ASSERT_TRUE(v.has_value() && v->has_value());
    EXPECT_EQ((*v)->value, std::to_string(threads * per_thread));
}

TEST_P(MetaStoreConformance, LockIsExclusive) {
    auto free = store_->lock_holder("volumes/v1");
    ASSERT_TRUE(free.has_value()) << free.error().message;
    EXPECT_FALSE(free->has_value());

    auto lock = store_->lock("volumes/v1", "itd pid 42 on host-a:3260");
    ASSERT_TRUE(lock.has_value()) << lock.error().message;
    EXPECT_TRUE((*lock)->held());

    // Another lock object, from the same store object and from another one.
    auto other = env_->open();
    for (MetaStore* s : {store_.get(), other.get()}) {
        auto again = s->lock("volumes/v1", "someone else");
        ASSERT_FALSE(again.has_value());
        EXPECT_EQ(again.error().code, Errc::failed_precondition);
        EXPECT_NE(again.error().message.find("itd pid 42 on host-a:3260"), std::string::npos)
            << again.error().message;
        auto holder = s->lock_holder("volumes/v1");
        ASSERT_TRUE(holder.has_value());
        ASSERT_TRUE(holder->has_value());
        EXPECT_EQ(**holder, "itd pid 42 on host-a:3260");
    }
    // A lock and a key may share a name.
    EXPECT_FALSE(store_->get("volumes/v1")->has_value());
    EXPECT_TRUE(store_->put_if("volumes/v1", "superblock", 0).has_value());
    // Another name is another lock; lock_holder() took nothing.
    auto v2 = other->lock("volumes/v2", "other");
    ASSERT_TRUE(v2.has_value());
    EXPECT_TRUE((*lock)->held());

    lock->reset();
    auto released = store_->lock_holder("volumes/v1");
    ASSERT_TRUE(released.has_value());
    EXPECT_FALSE(released->has_value());
    auto retaken = other->lock("volumes/v1", "second owner");
    ASSERT_TRUE(retaken.has_value()) << retaken.error().message;
    EXPECT_EQ(**store_->lock_holder("volumes/v1"), "second owner");
    // The lock outlives the store object it came from.
    other.reset();
    EXPECT_TRUE((*retaken)->held());
}

TEST_P(MetaStoreConformance, FencedWritesWithAHeldLock) {
    auto lock = store_->lock("volumes/v1", "me");
    ASSERT_TRUE(lock.has_value()) << lock.error().message;
    auto r1 = store_->put_if("volumes/v1", "g1", 0, lock->get());
    ASSERT_TRUE(r1.has_value()) << r1.error().message;
    auto r2 = store_->put_if("volumes/v1", "g2", *r1, lock->get());
    ASSERT_TRUE(r2.has_value()) << r2.error().message;
    EXPECT_GT(*r2, *r1);
    // The revision still decides, fence or not.
    auto stale = store_->put_if("volumes/v1", "g3", *r1, lock->get());
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().code, Errc::conflict);

    // A fence that is not one of the store's locks is refused.
    const ForeignLock foreign;
    auto put = store_->put_if("volumes/v1", "g3", *r2, &foreign);
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, Errc::failed_precondition);
    auto removed = store_->remove_if("volumes/v1", *r2, &foreign);
    ASSERT_FALSE(removed.has_value());
    EXPECT_EQ(removed.error().code, Errc::failed_precondition);
    EXPECT_EQ((*store_->get("volumes/v1"))->value, "g2");

    // A lock from another store object on the same data is a good fence.
    auto other = env_->open();
    auto r3 = other->put_if("volumes/v1", "g3", *r2, lock->get());
    ASSERT_TRUE(r3.has_value()) << r3.error().message;
    ASSERT_TRUE(store_->remove_if("volumes/v1", *r3, lock->get()));
    EXPECT_FALSE(store_->get("volumes/v1")->has_value());
    EXPECT_TRUE((*lock)->held());
}

TEST_P(MetaStoreConformance, LockOfAKilledProcessIsFreed) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
        ::close(ready[0]);
        auto s = env_->open();
        if (!s) ::_exit(1);
        auto lock = s->lock("volumes/v1", "child " + std::to_string(::getpid()));
        if (!lock) ::_exit(2);
        const char byte = 'x';
        if (::write(ready[1], &byte, 1) != 1) ::_exit(3);
        while (true) ::pause();  // hold the lock until killed
    }
    // Kill the child on every way out of this test, including a failed assertion.
    struct Reaper {
        pid_t pid;
        ~Reaper() {
            if (pid > 0) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
        }
    } reaper{pid};
    ::close(ready[1]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);

    const std::string child_info = "child " + std::to_string(pid);
    auto taken = store_->lock("volumes/v1", "parent");
    ASSERT_FALSE(taken.has_value());
    EXPECT_EQ(taken.error().code, Errc::failed_precondition);
    EXPECT_NE(taken.error().message.find(child_info), std::string::npos) << taken.error().message;
    auto holder = store_->lock_holder("volumes/v1");
    ASSERT_TRUE(holder.has_value());
    ASSERT_TRUE(holder->has_value());
    EXPECT_EQ(**holder, child_info);

    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    reaper.pid = 0;
    EXPECT_TRUE(WIFSIGNALED(status));
    const auto killed = std::chrono::steady_clock::now();

    // Free at once for a local lock, within the lease TTL (and a little) in a cluster.
    const auto bound = env_->lock_release_delay() + std::chrono::seconds(3);
    Result<std::unique_ptr<MetaLock>> mine = fail(Errc::unavailable, "not tried");
    while (true) {
        mine = store_->lock("volumes/v1", "parent");
        if (mine || std::chrono::steady_clock::now() - killed > bound) break;
        ASSERT_EQ(mine.error().code, Errc::failed_precondition) << mine.error().message;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(mine.has_value()) << mine.error().message;
    EXPECT_EQ(**store_->lock_holder("volumes/v1"), "parent");
}

}  // namespace itd::volume::testing
