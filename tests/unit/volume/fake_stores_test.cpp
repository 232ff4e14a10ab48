#include "thin/fake_stores.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace itd::volume::testing {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

class FakeStoresTest : public ::testing::Test {
protected:
    std::shared_ptr<FaultPlan> plan_ = std::make_shared<FaultPlan>();
    MemoryObjectStore objects_{plan_};
    MemoryMetaStore meta_{plan_};
};

TEST_F(FakeStoresTest, ObjectStoreBehavesLikeTheInterfaceSays) {
    ASSERT_TRUE(objects_.put("objects/a/1", bytes("hello world")));
    ASSERT_TRUE(objects_.put("objects/a/2", bytes("x")));
    ASSERT_TRUE(objects_.put("objects/b/1", bytes("y")));
    ASSERT_TRUE(objects_.put("super", bytes("z")));

    std::vector<std::uint8_t> part(5);
    ASSERT_TRUE(objects_.get("objects/a/1", 6, part));
    EXPECT_EQ(part, bytes("world"));
    auto short_read = objects_.get("objects/a/1", 7, part);
    ASSERT_FALSE(short_read.has_value());
    EXPECT_EQ(short_read.error().code, Errc::io_error);
    auto missing = objects_.get_all("nope");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, Errc::not_found);
    auto bad = objects_.put("../x", bytes("x"));
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, Errc::failed_precondition);

    auto l = objects_.list("objects/a");
    ASSERT_TRUE(l.has_value());
    ASSERT_EQ(l->size(), 2u);
    EXPECT_EQ((*l)[0].key, "objects/a/1");
    EXPECT_EQ((*l)[0].size_bytes, 11u);
    EXPECT_EQ((*l)[1].key, "objects/a/2");

    ASSERT_TRUE(objects_.remove("objects/a/2"));
    ASSERT_TRUE(objects_.remove("objects/a/2"));
    EXPECT_EQ(objects_.keys(), (std::vector<std::string>{"objects/a/1", "objects/b/1", "super"}));
    EXPECT_EQ(objects_.object_count(), 3u);
}

TEST_F(FakeStoresTest, MetaStoreBehavesLikeTheInterfaceSays) {
    auto r1 = meta_.put_if("volumes/v@1", "a", 0);
    ASSERT_TRUE(r1.has_value());
    auto conflict = meta_.put_if("volumes/v@1", "b", 0);
    ASSERT_FALSE(conflict.has_value());
    EXPECT_EQ(conflict.error().code, Errc::conflict);
    auto r2 = meta_.put_if("volumes/v@1", "b", *r1);
    ASSERT_TRUE(r2.has_value());
    EXPECT_GT(*r2, *r1);
    EXPECT_EQ((*meta_.get("volumes/v@1"))->value, "b");

    auto not_found = meta_.remove_if("nope", 1);
    ASSERT_FALSE(not_found.has_value());
    EXPECT_EQ(not_found.error().code, Errc::not_found);
    ASSERT_TRUE(meta_.remove_if("volumes/v@1", *r2));
    auto r3 = meta_.put_if("volumes/v@1", "c", 0);
    ASSERT_TRUE(r3.has_value());
    EXPECT_GT(*r3, *r2);  // never repeats after remove and re-create

    ASSERT_TRUE(meta_.put_if("volumes/a", "x", 0).has_value());
    EXPECT_EQ(*meta_.list("volumes/"), (std::vector<std::string>{"volumes/a", "volumes/v@1"}));

    auto lock = meta_.lock("volumes/a", "owner one");
    ASSERT_TRUE(lock.has_value());
    EXPECT_TRUE((*lock)->held());
    auto second = meta_.lock("volumes/a", "owner two");
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code, Errc::failed_precondition);
    EXPECT_NE(second.error().message.find("owner one"), std::string::npos);
    EXPECT_EQ(**meta_.lock_holder("volumes/a"), "owner one");
    lock->reset();
    EXPECT_FALSE(meta_.lock_holder("volumes/a")->has_value());

    auto again = meta_.lock("volumes/a", "owner two");
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(meta_.break_lock("volumes/a"));
    EXPECT_FALSE((*again)->held());
}

TEST_F(FakeStoresTest, FencedWritesNeedTheLockStillHeld) {
    auto lock = meta_.lock("vol", "owner");
    ASSERT_TRUE(lock.has_value());
    auto r1 = meta_.put_if("super", "g1", 0, lock->get());
    ASSERT_TRUE(r1.has_value());
    auto r2 = meta_.put_if("super", "g2", *r1, lock->get());
    ASSERT_TRUE(r2.has_value());

    ASSERT_TRUE(meta_.break_lock("vol"));
    // The lost lock wins over a revision that is wrong as well.
    for (std::uint64_t expected : {*r2, *r1}) {
        auto put = meta_.put_if("super", "stale owner", expected, lock->get());
        ASSERT_FALSE(put.has_value());
        EXPECT_EQ(put.error().code, Errc::failed_precondition);
        EXPECT_NE(put.error().message.find("lock was lost"), std::string::npos);
    }
    auto removed = meta_.remove_if("super", *r2, lock->get());
    ASSERT_FALSE(removed.has_value());
    EXPECT_EQ(removed.error().code, Errc::failed_precondition);
    EXPECT_EQ((*meta_.get("super"))->value, "g2");
    // Without a fence the write goes through, as before.
    ASSERT_TRUE(meta_.remove_if("super", *r2));
}

TEST_F(FakeStoresTest, CrashDropsPutsNotCoveredBySync) {
    ASSERT_TRUE(objects_.put("synced", bytes("v1")));
    ASSERT_TRUE(objects_.put("replaced", bytes("old")));
    ASSERT_TRUE(objects_.put("removed", bytes("r")));
    ASSERT_TRUE(objects_.sync());
    ASSERT_TRUE(objects_.put("replaced", bytes("new")));
    ASSERT_TRUE(objects_.put("unsynced", bytes("u")));
    ASSERT_TRUE(objects_.remove("removed"));
    auto r = meta_.put_if("super", "g1", 0);
    ASSERT_TRUE(r.has_value());
    auto lock = meta_.lock("vol", "me");
    ASSERT_TRUE(lock.has_value());
    EXPECT_EQ(objects_.durable_keys(), (std::vector<std::string>{"removed", "replaced", "synced"}));

    plan_->crash_recover();

    // The object store is what the last sync saw: the synced content of "replaced", no
    // "unsynced", and the unsynced remove undone.
    EXPECT_EQ(objects_.keys(), (std::vector<std::string>{"removed", "replaced", "synced"}));
    EXPECT_EQ(*objects_.get_all("replaced"), bytes("old"));
    // The meta store kept its writes and lost its locks.
    EXPECT_EQ((*meta_.get("super"))->value, "g1");
    EXPECT_EQ((*meta_.get("super"))->revision, *r);
    EXPECT_FALSE((*lock)->held());
    EXPECT_FALSE(meta_.lock_holder("vol")->has_value());
    auto relock = meta_.lock("vol", "after restart");
    ASSERT_TRUE(relock.has_value());
    // The dead process's lock object goes away without touching the new holder.
    lock->reset();
    EXPECT_TRUE((*relock)->held());
    EXPECT_EQ(**meta_.lock_holder("vol"), "after restart");
}

TEST_F(FakeStoresTest, FailAtStepNFailsThatCallOnlyAndWithoutEffect) {
    plan_->fail_at(2);
    plan_->fail_at(4, Errc::io_error);
    ASSERT_TRUE(objects_.put("a", bytes("1")));             // step 1
    auto s2 = objects_.put("b", bytes("2"));                 // step 2
    ASSERT_FALSE(s2.has_value());
    EXPECT_EQ(s2.error().code, Errc::unavailable);
    EXPECT_NE(s2.error().message.find("step 2 put b"), std::string::npos);
    EXPECT_FALSE(objects_.contains("b"));
    ASSERT_TRUE(meta_.put_if("k", "v", 0).has_value());     // step 3
    auto s4 = meta_.put_if("k", "w", 1);                     // step 4
    ASSERT_FALSE(s4.has_value());
    EXPECT_EQ(s4.error().code, Errc::io_error);
    EXPECT_EQ((*meta_.get("k"))->value, "v");                // step 5
    EXPECT_TRUE(objects_.put("b", bytes("2")));              // step 6: a retry works
    EXPECT_EQ(plan_->steps(), 6u);
    EXPECT_FALSE(plan_->crashed());
    const auto trace = plan_->trace();
    ASSERT_EQ(trace.size(), 6u);
    EXPECT_EQ(trace[3], "4 meta.put_if k");
}

TEST_F(FakeStoresTest, FailAfterEffectAppliesTheCallThenReportsTheError) {
    plan_->fail_after_effect_at(1);
    plan_->fail_after_effect_at(2);
    auto put = meta_.put_if("super", "g1", 0);
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, Errc::unavailable);
    auto obj = objects_.put("o", bytes("x"));
    ASSERT_FALSE(obj.has_value());
    // Both happened although the caller was told otherwise.
    auto v = meta_.get("super");
    ASSERT_TRUE(v.has_value() && v->has_value());
    EXPECT_EQ((*v)->value, "g1");
    EXPECT_TRUE(objects_.contains("o"));
}

TEST_F(FakeStoresTest, CrashAtStepNFailsEveryLaterCallUntilRecovered) {
    plan_->crash_at(3);
    ASSERT_TRUE(objects_.put("a", bytes("1")));  // 1
    ASSERT_TRUE(objects_.sync());                // 2
    auto put = objects_.put("b", bytes("2"));     // 3: the crash
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, Errc::unavailable);
    EXPECT_TRUE(plan_->crashed());
    EXPECT_FALSE(objects_.sync().has_value());
    EXPECT_FALSE(objects_.get_all("a").has_value());
    EXPECT_FALSE(meta_.get("k").has_value());
    EXPECT_FALSE(meta_.put_if("k", "v", 0).has_value());
    EXPECT_FALSE(meta_.lock("k", "me").has_value());
    EXPECT_TRUE(meta_.values().empty());
    EXPECT_EQ(plan_->steps(), 8u);

    plan_->crash_recover();
    EXPECT_FALSE(plan_->crashed());
    EXPECT_EQ(objects_.keys(), std::vector<std::string>{"a"});
    EXPECT_TRUE(objects_.put("b", bytes("2")));
    EXPECT_TRUE(meta_.put_if("k", "v", 0).has_value());
}

// The way a crash sweep uses the plan: count an operation's steps, then crash at each one.
TEST_F(FakeStoresTest, SweepOverEveryStepOfAToyCommit) {
    // A toy commit: two pages, sync, then the superblock swap.
    auto commit = [](MemoryObjectStore& objects, MemoryMetaStore& meta) -> Status {
        for (const char* key : {"p/1", "p/2"}) {
            if (Status st = objects.put(key, bytes(key)); !st) return st;
        }
        if (Status st = objects.sync(); !st) return st;
        auto r = meta.put_if("super", "p/1,p/2", 0);
        if (!r) return std::unexpected(std::move(r.error()));
        return {};
    };
    std::uint64_t count = 0;
    {
        auto plan = std::make_shared<FaultPlan>();
        MemoryObjectStore objects(plan);
        MemoryMetaStore meta(plan);
        ASSERT_TRUE(commit(objects, meta));
        count = plan->steps();
    }
    ASSERT_EQ(count, 4u);
    for (std::uint64_t n = 1; n <= count + 1; ++n) {
        SCOPED_TRACE(n);
        auto plan = std::make_shared<FaultPlan>();
        MemoryObjectStore objects(plan);
        MemoryMetaStore meta(plan);
        plan->crash_at(n);
        EXPECT_EQ(commit(objects, meta).has_value(), n > count);
        plan->crash_recover();
        // The invariant: a superblock that exists names only durable objects.
        auto super = meta.get("super");
        ASSERT_TRUE(super.has_value());
        if (super->has_value()) {
            EXPECT_EQ(objects.keys(), (std::vector<std::string>{"p/1", "p/2"}));
        } else {
            EXPECT_LE(n, 4u);
        }
        // Without the sync the invariant would break: nothing unsynced survives.
        EXPECT_EQ(objects.keys(), objects.durable_keys());
    }
}

TEST_F(FakeStoresTest, ModificationTimesCanBeSetForGcTests) {
    const auto t0 = std::chrono::system_clock::time_point(std::chrono::hours(1000));
    objects_.set_now(t0);
    ASSERT_TRUE(objects_.put("old", bytes("o")));
    objects_.set_now(std::nullopt);
    ASSERT_TRUE(objects_.put("new", bytes("n")));
    auto l = objects_.list("");
    ASSERT_TRUE(l.has_value());
    ASSERT_EQ(l->size(), 2u);
    EXPECT_EQ((*l)[1].key, "old");
    EXPECT_EQ((*l)[1].modified, t0);
    EXPECT_GT((*l)[0].modified, t0);

    const auto t1 = t0 + std::chrono::minutes(5);
    EXPECT_TRUE(objects_.set_modified("new", t1));
    EXPECT_FALSE(objects_.set_modified("missing", t1));
    EXPECT_EQ((*objects_.list("new"))[0].modified, t1);

    EXPECT_TRUE(objects_.corrupt("new", 0));
    EXPECT_EQ(*objects_.get_all("new"), bytes("\x91"));
    EXPECT_FALSE(objects_.corrupt("new", 1));
}

TEST_F(FakeStoresTest, ConcurrentCallsAreCountedOnce) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < 100; ++i) {
                const std::string key = "k/" + std::to_string(t) + "/" + std::to_string(i);
                EXPECT_TRUE(objects_.put(key, bytes("v")));
                EXPECT_TRUE(meta_.put_if(key, "v", 0).has_value());
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(plan_->steps(), 800u);
    EXPECT_EQ(objects_.object_count(), 400u);
    // Every revision is distinct.
    std::set<std::uint64_t> revisions;
    for (const auto& [key, v] : meta_.values()) revisions.insert(v.revision);
    EXPECT_EQ(revisions.size(), 400u);
}

}  // namespace
}  // namespace itd::volume::testing
