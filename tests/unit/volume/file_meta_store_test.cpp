#include "volume/meta/file_meta_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
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

TEST_F(FileMetaStoreTest, CompareAndSwapConflicts) {
    auto r1 = store_->put_if("k", "a", 0);
    ASSERT_TRUE(r1.has_value());

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

TEST_F(FileMetaStoreTest, RevisionsNeverRepeatAfterRemoveAndRecreate) {
    std::vector<std::uint64_t> seen;
    std::uint64_t rev = 0;
    for (int round = 0; round < 5; ++round) {
        auto r = store_->put_if("k", "v" + std::to_string(round), 0);
        ASSERT_TRUE(r.has_value());
        seen.push_back(*r);
        auto r2 = store_->put_if("k", "w", *r);
        ASSERT_TRUE(r2.has_value());
        seen.push_back(*r2);
        ASSERT_TRUE(store_->remove_if("k", *r2));
        rev = *r2;
        // A new store object (a restarted process) continues the sequence.
        store_ = open_store();
    }
    for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i], seen[i - 1]);
    auto last = store_->put_if("k", "again", 0);
    ASSERT_TRUE(last.has_value());
    EXPECT_GT(*last, rev);
}

TEST_F(FileMetaStoreTest, ListIsSortedByPrefixAndSkipsOwnFiles) {
    for (const char* key : {"volumes/b", "volumes/a", "snapshots/a@1", "volumes/a2", "catalog"}) {
        ASSERT_TRUE(store_->put_if(key, "x", 0).has_value());
    }
    auto lock = store_->lock("volumes/a", "me");
    ASSERT_TRUE(lock.has_value());
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

TEST_F(FileMetaStoreTest, BadKeysAreRejected) {
    for (const char* key : {"", "/k", "../k", "a/../../k", "a//b", ".lock", ".revision",
                            ".locks/x", "a/.x", "a b", "a%b", "a/"}) {
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
    }
    EXPECT_FALSE(fs::exists(base_ / "k"));
}

TEST_F(FileMetaStoreTest, RacingPutIfHasExactlyOneWinner) {
    auto other = open_store();  // a second store object on the same directory
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
                MetaStore& s = t % 2 == 0 ? static_cast<MetaStore&>(*store_) : *other;
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

TEST_F(FileMetaStoreTest, LockIsExclusiveWithinOneProcess) {
    auto free = store_->lock_holder("volumes/v1");
    ASSERT_TRUE(free.has_value());
    EXPECT_FALSE(free->has_value());

    auto lock = store_->lock("volumes/v1", "itd pid 42 on host-a:3260");
    ASSERT_TRUE(lock.has_value()) << lock.error().message;
    EXPECT_TRUE((*lock)->held());
    EXPECT_TRUE(fs::exists(root_ / ".locks" / "volumes%2Fv1"));

    // Another lock object, from the same store object and from another one on the same root.
    auto other = open_store();
    for (MetaStore* s : {static_cast<MetaStore*>(store_.get()), static_cast<MetaStore*>(other.get())}) {
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
    // Another name is another lock; lock_holder() took nothing.
    auto v2 = other->lock("volumes/v2", "other");
    ASSERT_TRUE(v2.has_value());

    lock->reset();
    auto released = store_->lock_holder("volumes/v1");
    ASSERT_TRUE(released.has_value());
    EXPECT_FALSE(released->has_value());
    auto retaken = other->lock("volumes/v1", "second owner");
    ASSERT_TRUE(retaken.has_value());
    EXPECT_EQ(**store_->lock_holder("volumes/v1"), "second owner");
}

// A MetaLock of another kind, to hand a FileMetaStore as a fence.
class ForeignLock final : public MetaLock {
public:
    explicit ForeignLock(bool held) : held_(held) {}
    bool held() const override { return held_; }

private:
    bool held_;
};

TEST_F(FileMetaStoreTest, FencedWritesNeedOneOfItsOwnLocks) {
    auto lock = store_->lock("volumes/v1", "me");
    ASSERT_TRUE(lock.has_value());
    auto r1 = store_->put_if("volumes/v1", "g1", 0, lock->get());
    ASSERT_TRUE(r1.has_value()) << r1.error().message;
    auto r2 = store_->put_if("volumes/v1", "g2", *r1, lock->get());
    ASSERT_TRUE(r2.has_value());

    const ForeignLock foreign(true);
    auto put = store_->put_if("volumes/v1", "g3", *r2, &foreign);
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, Errc::failed_precondition);
    auto removed = store_->remove_if("volumes/v1", *r2, &foreign);
    ASSERT_FALSE(removed.has_value());
    EXPECT_EQ(removed.error().code, Errc::failed_precondition);
    EXPECT_EQ((*store_->get("volumes/v1"))->value, "g2");

    ASSERT_TRUE(store_->remove_if("volumes/v1", *r2, lock->get()));
    EXPECT_FALSE(store_->get("volumes/v1")->has_value());
}

TEST_F(FileMetaStoreTest, LockHeldByAnotherProcessIsFreedWhenItIsKilled) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
        ::close(ready[0]);
        auto s = FileMetaStore::open(root_.string());
        if (!s) ::_exit(1);
        auto lock = (*s)->lock("volumes/v1", "child " + std::to_string(::getpid()));
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

    // The kernel dropped the dead holder's lock; its stale owner_info is not reported.
    auto after = store_->lock_holder("volumes/v1");
    ASSERT_TRUE(after.has_value());
    EXPECT_FALSE(after->has_value());
    auto mine = store_->lock("volumes/v1", "parent");
    ASSERT_TRUE(mine.has_value()) << mine.error().message;
    EXPECT_EQ(**store_->lock_holder("volumes/v1"), "parent");
}

}  // namespace
}  // namespace itd::volume
