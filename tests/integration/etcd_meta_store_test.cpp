// EtcdMetaStore against a real etcd started by scripts/cluster/etcd.sh on 127.0.0.1: the
// MetaStore conformance suite, then what only a cluster store does: leases that lapse (keep-
// alives lost, etcd stopped with SIGSTOP), fenced writes refused by etcd itself, answers lost
// after etcd applied a write, dead endpoints, and a 3-member cluster whose leader is killed
// while a client keeps working.
//
// Ports: a 1-member cluster on 23790 (peer 23800) for the whole run, a 3-member one on
// 23793-23795 (peers 23803-23805) for the failover test; 23799 is never listened on. Every
// cluster lives in a temporary directory and is stopped by its PIDs when the test ends.
// Skipped when etcd is not installed (scripts/cluster/install-etcd.sh).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "meta_store_conformance.h"
#include "volume/meta/etcd_meta_store.h"
#include "volume/meta/etcd_wire.h"

#ifndef ITD_ETCD_SH
#error "ITD_ETCD_SH must name scripts/cluster/etcd.sh"
#endif

namespace itd::volume::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kSinglePort = 23790;
constexpr int kTripleBasePort = 23793;
constexpr const char* kDeadEndpoint = "http://127.0.0.1:23799";
constexpr milliseconds kTestTtl{2000};

// Runs a shell command; its standard output, and its exit status in *status.
std::string run(const std::string& command, int* status = nullptr) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) {
        if (status != nullptr) *status = -1;
        return out;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int st = ::pclose(p);
    if (status != nullptr) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// One etcd cluster run by scripts/cluster/etcd.sh in a directory of its own.
class Cluster {
  public:
    // Empty when it started; why not otherwise.
    std::string start(int members, int base_port) {
        if (run("command -v etcd >/dev/null && command -v curl >/dev/null && echo yes") !=
            "yes\n") {
            return "etcd or curl is not installed (scripts/cluster/install-etcd.sh)";
        }
        char dir[] = "/tmp/itd-etcd-test.XXXXXX";
        if (::mkdtemp(dir) == nullptr) return "mkdtemp failed";
        dir_ = dir;
        int status = 0;
        const std::string out =
            run(std::string(ITD_ETCD_SH) + " start " + dir_ + " --members " +
                    std::to_string(members) + " --base-port " + std::to_string(base_port) + " 2>&1",
                &status);
        if (status != 0) {
            stop();
            return "etcd.sh start failed: " + out;
        }
        endpoints_ = trim(run(std::string(ITD_ETCD_SH) + " endpoints " + dir_));
        return {};
    }

    void stop() {
        if (dir_.empty()) return;
        (void)run(std::string(ITD_ETCD_SH) + " stop " + dir_ + " >/dev/null 2>&1");
        std::error_code ec;
        fs::remove_all(dir_, ec);
        dir_.clear();
    }

    ~Cluster() { stop(); }

    std::vector<std::string> endpoints() const {
        std::vector<std::string> out;
        std::stringstream ss(endpoints_);
        for (std::string e; std::getline(ss, e, ',');) out.push_back(e);
        return out;
    }

    // The members' PIDs, as etcd.sh records them.
    std::vector<pid_t> pids() const {
        std::vector<pid_t> out;
        std::stringstream ss(run(std::string(ITD_ETCD_SH) + " pids " + dir_));
        std::string name;
        pid_t pid = 0;
        while (ss >> name >> pid) out.push_back(pid);
        return out;
    }

    // kill -9 of the leader; its name (m0, m1, m2), empty on failure.
    std::string kill_leader() {
        return trim(run(std::string(ITD_ETCD_SH) + " kill-leader " + dir_ + " 2>/dev/null"));
    }

  private:
    std::string dir_;
    std::string endpoints_;
};

// The 1-member cluster every test but the failover one uses; started once per run.
class SingleCluster final : public ::testing::Environment {
  public:
    void SetUp() override { why_not_ = cluster_.start(1, kSinglePort); }
    void TearDown() override { cluster_.stop(); }
    static const std::string& why_not() { return instance()->why_not_; }
    static Cluster& cluster() { return instance()->cluster_; }
    static SingleCluster* instance() {
        static SingleCluster* env =
            static_cast<SingleCluster*>(::testing::AddGlobalTestEnvironment(new SingleCluster));
        return env;
    }

  private:
    Cluster cluster_;
    std::string why_not_ = "not started";
};
[[maybe_unused]] SingleCluster* const registered = SingleCluster::instance();

// A key prefix no other test uses, so one etcd serves every test.
std::string fresh_prefix() {
    static std::atomic<int> counter{0};
    return "itd-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "/";
}

EtcdOptions test_options(std::vector<std::string> endpoints, std::string prefix) {
    EtcdOptions o;
    o.endpoints = std::move(endpoints);
    o.prefix = std::move(prefix);
    o.lease_ttl = std::chrono::duration_cast<seconds>(kTestTtl);
    o.connect_timeout = milliseconds(500);
    o.request_timeout = milliseconds(1500);
    o.retry_budget = milliseconds(8000);
    return o;
}

// A transport that loses or refuses requests on demand, around the real one.
class FaultyTransport final : public EtcdTransport {
  public:
    explicit FaultyTransport(std::shared_ptr<EtcdTransport> inner) : inner_(std::move(inner)) {}

    // The next count requests to path reach etcd, and their answers are lost.
    void lose_answers(const std::string& path, int count) {
        const std::lock_guard g(mutex_);
        lose_[path] = count;
    }
    // Requests to path fail without reaching etcd while on.
    void refuse(const std::string& path, bool on) {
        const std::lock_guard g(mutex_);
        refuse_[path] = on;
    }
    int requests(const std::string& path) const {
        const std::lock_guard g(mutex_);
        const auto it = count_.find(path);
        return it == count_.end() ? 0 : it->second;
    }

    std::size_t endpoint_count() const override { return inner_->endpoint_count(); }
    std::string endpoint_url(std::size_t i) const override { return inner_->endpoint_url(i); }
    Result<EtcdReply> post(std::size_t i, std::string_view path, std::string_view body) override {
        bool lose = false;
        {
            const std::lock_guard g(mutex_);
            const std::string p(path);
            ++count_[p];
            if (refuse_[p]) return fail(Errc::unavailable, "refused by the test");
            if (lose_[p] > 0) {
                --lose_[p];
                lose = true;
            }
        }
        auto reply = inner_->post(i, path, body);
        if (lose) return fail(Errc::unavailable, "answer lost by the test");
        return reply;
    }

  private:
    std::shared_ptr<EtcdTransport> inner_;
    mutable std::mutex mutex_;
    std::map<std::string, int> lose_;
    std::map<std::string, bool> refuse_;
    std::map<std::string, int> count_;
};

// --- the conformance suite ------------------------------------------------------------------

class EtcdEnv final : public MetaStoreEnv {
  public:
    explicit EtcdEnv(std::vector<std::string> endpoints)
        : options_(test_options(std::move(endpoints), fresh_prefix())) {}
    std::unique_ptr<MetaStore> open() override {
        auto s = EtcdMetaStore::open(options_);
        EXPECT_TRUE(s.has_value()) << s.error().message;
        return s ? std::move(*s) : nullptr;
    }
    std::chrono::milliseconds lock_release_delay() const override { return options_.lease_ttl; }

  private:
    EtcdOptions options_;
};

INSTANTIATE_TEST_SUITE_P(Etcd, MetaStoreConformance,
                         ::testing::Values(MetaStoreKind{
                             "Etcd",
                             [](std::string& why) -> std::unique_ptr<MetaStoreEnv> {
                                 why = SingleCluster::why_not();
                                 if (!why.empty()) return nullptr;
                                 return std::make_unique<EtcdEnv>(
                                     SingleCluster::cluster().endpoints());
                             }}),
                         meta_store_kind_name);

// --- what only etcd does --------------------------------------------------------------------

class EtcdMetaStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!SingleCluster::why_not().empty()) GTEST_SKIP() << SingleCluster::why_not();
        endpoints_ = SingleCluster::cluster().endpoints();
        options_ = test_options(endpoints_, fresh_prefix());
        auto inner = make_etcd_http_transport(options_);
        ASSERT_TRUE(inner.has_value());
        raw_ = *inner;
        faulty_ = std::make_shared<FaultyTransport>(*inner);
        auto s = EtcdMetaStore::open(faulty_, options_);
        ASSERT_TRUE(s.has_value()) << s.error().message;
        store_ = std::move(*s);
    }

    std::unique_ptr<EtcdMetaStore> open_other() {
        auto s = EtcdMetaStore::open(options_);
        EXPECT_TRUE(s.has_value()) << s.error().message;
        return s ? std::move(*s) : nullptr;
    }

    // A range of one etcd key, straight through the gateway.
    std::vector<etcd::KeyValue> raw_get(const std::string& key) {
        auto reply = raw_->post(0, "/v3/kv/range", etcd::range_request(key));
        EXPECT_TRUE(reply.has_value());
        if (!reply) return {};
        auto r = etcd::parse_range(reply->body);
        EXPECT_TRUE(r.has_value()) << reply->body;
        return r ? r->kvs : std::vector<etcd::KeyValue>{};
    }
    void raw_delete(const std::string& key) {
        const std::string body = "{\"key\":\"" + etcd::base64_encode(key) + "\"}";
        auto reply = raw_->post(0, "/v3/kv/deleterange", body);
        ASSERT_TRUE(reply.has_value());
        ASSERT_EQ(reply->status, 200u) << reply->body;
    }

    // Polls until pred() or timeout; how long it took, or nullopt.
    template <typename Pred>
    static std::optional<milliseconds> wait_for(Pred pred, milliseconds timeout,
                                                milliseconds poll = milliseconds(20)) {
        const auto start = Clock::now();
        while (Clock::now() - start < timeout) {
            if (pred()) return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
            std::this_thread::sleep_for(poll);
        }
        return std::nullopt;
    }

    std::vector<std::string> endpoints_;
    EtcdOptions options_;
    std::shared_ptr<EtcdTransport> raw_;
    std::shared_ptr<FaultyTransport> faulty_;
    std::unique_ptr<EtcdMetaStore> store_;
};

TEST_F(EtcdMetaStoreTest, KeysAndLocksLiveUnderThePrefix) {
    auto rev = store_->put_if("volumes/v1", "sb", 0);
    ASSERT_TRUE(rev.has_value());
    auto kvs = raw_get(options_.prefix + "volumes/v1");
    ASSERT_EQ(kvs.size(), 1u);
    EXPECT_EQ(kvs[0].value, "sb");
    EXPECT_EQ(kvs[0].mod_revision, *rev);
    EXPECT_EQ(kvs[0].lease, 0);

    auto lock = store_->lock("volumes/v1", "node a");
    ASSERT_TRUE(lock.has_value());
    auto held = raw_get(options_.prefix + ".locks/volumes/v1");
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].value, "node a");
    EXPECT_NE(held[0].lease, 0);
    // Destroying the lock revokes its lease, and the key goes with it.
    lock->reset();
    EXPECT_TRUE(raw_get(options_.prefix + ".locks/volumes/v1").empty());
}

TEST_F(EtcdMetaStoreTest, ListPagesThroughManyKeys) {
    constexpr int count = 2100;  // three pages of 1000
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        writers.emplace_back([&, t] {
            for (int i = t; i < count; i += 4) {
                char key[32];
                std::snprintf(key, sizeof key, "many/%05d", i);
                if (!store_->put_if(key, "", 0)) ++failures;
            }
        });
    }
    for (auto& w : writers) w.join();
    ASSERT_EQ(failures.load(), 0);
    ASSERT_TRUE(store_->put_if("manz", "", 0).has_value());  // just past the prefix's end
    const int before = faulty_->requests("/v3/kv/range");
    auto keys = store_->list("many/");
    ASSERT_TRUE(keys.has_value()) << keys.error().message;
    EXPECT_EQ(faulty_->requests("/v3/kv/range") - before, 3);
    ASSERT_EQ(keys->size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        char key[32];
        std::snprintf(key, sizeof key, "many/%05d", i);
        ASSERT_EQ((*keys)[i], key);
    }
    EXPECT_EQ(store_->list("")->size(), static_cast<std::size_t>(count + 1));
}

TEST_F(EtcdMetaStoreTest, OpenNeedsAMemberThatAnswers) {
    EtcdOptions dead = options_;
    dead.endpoints = {kDeadEndpoint};
    dead.retry_budget = milliseconds(600);
    const auto start = Clock::now();
    auto s = EtcdMetaStore::open(dead);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, Errc::unavailable);
    EXPECT_NE(s.error().message.find("23799"), std::string::npos) << s.error().message;
    EXPECT_LT(Clock::now() - start, seconds(3));

    for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
             {}, {"127.0.0.1:2379"}, {"etcd://127.0.0.1:2379"}, {"http://"}}) {
        EtcdOptions o = options_;
        o.endpoints = bad;
        auto b = EtcdMetaStore::open(o);
        ASSERT_FALSE(b.has_value());
        EXPECT_EQ(b.error().code, Errc::invalid_argument) << b.error().message;
    }
    EtcdOptions short_ttl = options_;
    short_ttl.lease_ttl = seconds(0);
    EXPECT_EQ(EtcdMetaStore::open(short_ttl).error().code, Errc::invalid_argument);
}

TEST_F(EtcdMetaStoreTest, ADeadEndpointIsSkipped) {
    EtcdOptions o = options_;
    o.endpoints = {kDeadEndpoint, endpoints_[0]};
    auto s = EtcdMetaStore::open(o);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    const auto start = Clock::now();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*s)->put_if("k" + std::to_string(i), "v", 0));
    auto lock = (*s)->lock("vol", "me");
    ASSERT_TRUE(lock.has_value());
    // The member that answered is asked first from then on: no time lost on the dead one.
    EXPECT_LT(Clock::now() - start, seconds(3));
}

TEST_F(EtcdMetaStoreTest, WritesWhoseAnswerWasLostAreRecognised) {
    // put_if: created, then updated, each with its first answer lost after etcd applied it.
    faulty_->lose_answers("/v3/kv/txn", 1);
    auto r1 = store_->put_if("k", "one", 0);
    ASSERT_TRUE(r1.has_value()) << r1.error().message;
    EXPECT_EQ((*store_->get("k"))->revision, *r1);
    faulty_->lose_answers("/v3/kv/txn", 1);
    auto r2 = store_->put_if("k", "two", *r1);
    ASSERT_TRUE(r2.has_value()) << r2.error().message;
    EXPECT_EQ((*store_->get("k"))->revision, *r2);
    EXPECT_EQ((*store_->get("k"))->value, "two");
    // A real conflict is still one: another value is there.
    faulty_->lose_answers("/v3/kv/txn", 1);
    auto other = store_->put_if("k", "three", *r1);
    ASSERT_FALSE(other.has_value());
    EXPECT_EQ(other.error().code, Errc::conflict);

    // remove_if.
    faulty_->lose_answers("/v3/kv/txn", 1);
    ASSERT_TRUE(store_->remove_if("k", *r2));
    EXPECT_FALSE(store_->get("k")->has_value());

    // lock: the first txn took it; the retry finds it under its own lease.
    faulty_->lose_answers("/v3/kv/txn", 1);
    auto lock = store_->lock("vol", "me");
    ASSERT_TRUE(lock.has_value()) << lock.error().message;
    EXPECT_TRUE((*lock)->held());
    auto second = open_other()->lock("vol", "other");
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code, Errc::failed_precondition);

    // Reads retry too.
    faulty_->lose_answers("/v3/kv/range", 2);
    EXPECT_TRUE(store_->get("nothing").has_value());
}

TEST_F(EtcdMetaStoreTest, LeaseLapsesWhenKeepAlivesFail) {
    auto lock = store_->lock("volumes/v1", "node a");
    ASSERT_TRUE(lock.has_value());
    auto sb = store_->put_if("volumes/v1", "epoch 1", 0, lock->get());
    ASSERT_TRUE(sb.has_value());
    // Keep-alives work: held well past the TTL.
    std::this_thread::sleep_for(kTestTtl + milliseconds(500));
    ASSERT_TRUE((*lock)->held());
    ASSERT_GT(faulty_->requests("/v3/lease/keepalive"), 0);

    // This node is cut off from etcd for keep-alives.
    faulty_->refuse("/v3/lease/keepalive", true);
    const auto cut = Clock::now();
    auto lapsed = wait_for([&] { return !(*lock)->held(); }, kTestTtl + seconds(2));
    ASSERT_TRUE(lapsed.has_value());
    // Not before the last confirmed keep-alive's TTL could have run out (it was sent about
    // TTL/3 before the cut at most; half the TTL leaves room for a slow machine), and not
    // later than the TTL after the cut.
    EXPECT_GE(*lapsed, kTestTtl / 2);
    EXPECT_LE(*lapsed, kTestTtl + milliseconds(200));
    EXPECT_FALSE((*lock)->held());  // for good

    // etcd expires the lease too; another node takes the lock and writes.
    auto other = open_other();
    Result<std::unique_ptr<MetaLock>> taken = fail(Errc::unavailable, "not tried");
    auto took = wait_for(
        [&] {
            taken = other->lock("volumes/v1", "node b");
            return taken.has_value();
        },
        kTestTtl + seconds(3), milliseconds(100));
    ASSERT_TRUE(took.has_value()) << taken.error().message;
    EXPECT_LT(Clock::now() - cut, kTestTtl + seconds(2));
    auto current = other->get("volumes/v1");
    ASSERT_TRUE(current.has_value() && current->has_value());
    auto sb2 = other->put_if("volumes/v1", "epoch 2", (*current)->revision, taken->get());
    ASSERT_TRUE(sb2.has_value()) << sb2.error().message;

    // The old owner's fenced writes fail, whatever revision it names.
    for (std::uint64_t rev : {*sb, *sb2}) {
        auto stale = store_->put_if("volumes/v1", "epoch 1 again", rev, lock->get());
        ASSERT_FALSE(stale.has_value());
        EXPECT_EQ(stale.error().code, Errc::failed_precondition);
        EXPECT_NE(stale.error().message.find("lock was lost"), std::string::npos);
    }
    EXPECT_EQ((*other->get("volumes/v1"))->value, "epoch 2");
    // The lapsed lock's destructor does not touch the new holder's key.
    lock->reset();
    EXPECT_TRUE((*taken)->held());
    EXPECT_EQ(**other->lock_holder("volumes/v1"), "node b");
}

TEST_F(EtcdMetaStoreTest, LeaseLapsesWhileEtcdIsStopped) {
    const auto pids = SingleCluster::cluster().pids();
    ASSERT_EQ(pids.size(), 1u);
    auto lock = store_->lock("volumes/v1", "node a");
    ASSERT_TRUE(lock.has_value());
    auto sb = store_->put_if("volumes/v1", "epoch 1", 0, lock->get());
    ASSERT_TRUE(sb.has_value());

    // Resume etcd on every way out of this test.
    struct Resume {
        pid_t pid;
        ~Resume() { ::kill(pid, SIGCONT); }
    } resume{pids[0]};
    ASSERT_EQ(::kill(pids[0], SIGSTOP), 0);
    auto lapsed = wait_for([&] { return !(*lock)->held(); }, kTestTtl + seconds(2));
    ASSERT_TRUE(lapsed.has_value());
    EXPECT_LE(*lapsed, kTestTtl + milliseconds(200));
    std::this_thread::sleep_for(milliseconds(300));
    ASSERT_EQ(::kill(pids[0], SIGCONT), 0);

    // etcd finds the lease expired once it runs again; another node takes over.
    auto other = open_other();
    Result<std::unique_ptr<MetaLock>> taken = fail(Errc::unavailable, "not tried");
    auto took = wait_for(
        [&] {
            taken = other->lock("volumes/v1", "node b");
            return taken.has_value();
        },
        kTestTtl + seconds(5), milliseconds(100));
    ASSERT_TRUE(took.has_value()) << taken.error().message;
    EXPECT_FALSE((*lock)->held());
    auto stale = store_->put_if("volumes/v1", "epoch 1 again", *sb, lock->get());
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().code, Errc::failed_precondition);
    EXPECT_EQ((*other->get("volumes/v1"))->value, "epoch 1");
}

TEST_F(EtcdMetaStoreTest, EtcdRefusesAFencedWriteOnceTheLockKeyIsGone) {
    auto lock = store_->lock("volumes/v1", "node a");
    ASSERT_TRUE(lock.has_value());
    auto sb = store_->put_if("volumes/v1", "epoch 1", 0, lock->get());
    ASSERT_TRUE(sb.has_value());

    // The lock key vanishes (an operator, or a lapse this process has not seen yet) and
    // another node takes the lock: this process still believes it holds it.
    raw_delete(options_.prefix + ".locks/volumes/v1");
    auto other = open_other();
    auto taken = other->lock("volumes/v1", "node b");
    ASSERT_TRUE(taken.has_value()) << taken.error().message;
    ASSERT_TRUE((*lock)->held());

    // etcd compares the lock key's create_revision in the txn and refuses.
    auto stale = store_->put_if("volumes/v1", "epoch 1 again", *sb, lock->get());
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().code, Errc::failed_precondition);
    EXPECT_NE(stale.error().message.find("lock was lost"), std::string::npos);
    EXPECT_FALSE((*lock)->held());  // and the lock knows now
    auto removed = store_->remove_if("volumes/v1", *sb, lock->get());
    ASSERT_FALSE(removed.has_value());
    EXPECT_EQ(removed.error().code, Errc::failed_precondition);
    EXPECT_EQ((*store_->get("volumes/v1"))->value, "epoch 1");
    auto sb2 = other->put_if("volumes/v1", "epoch 2", *sb, taken->get());
    ASSERT_TRUE(sb2.has_value()) << sb2.error().message;
}

TEST_F(EtcdMetaStoreTest, KeepAliveNoticesTheLockKeyIsGone) {
    auto lock = store_->lock("volumes/v1", "node a");
    ASSERT_TRUE(lock.has_value());
    raw_delete(options_.prefix + ".locks/volumes/v1");
    // Within a keep-alive period or two (TTL/3), without any write.
    auto noticed = wait_for([&] { return !(*lock)->held(); }, kTestTtl);
    ASSERT_TRUE(noticed.has_value());
    EXPECT_LE(*noticed, kTestTtl / 3 + milliseconds(500));
}

// --- a 3-member cluster ----------------------------------------------------------------------

TEST(EtcdClusterTest, ServiceContinuesWhenTheLeaderIsKilled) {
    if (!SingleCluster::why_not().empty()) GTEST_SKIP() << SingleCluster::why_not();
    Cluster cluster;
    const auto started = Clock::now();
    const std::string why = cluster.start(3, kTripleBasePort);
    ASSERT_EQ(why, "");
    std::printf("3-member cluster started in %lld ms\n",
                static_cast<long long>(
                    std::chrono::duration_cast<milliseconds>(Clock::now() - started).count()));
    EtcdOptions options = test_options(cluster.endpoints(), fresh_prefix());
    options.lease_ttl = seconds(5);
    ASSERT_EQ(options.endpoints.size(), 3u);
    auto store = EtcdMetaStore::open(options);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    auto lock = (*store)->lock("volumes/v1", "node a");
    ASSERT_TRUE(lock.has_value());

    constexpr int rounds = 60;
    constexpr int kill_at = 20;
    std::uint64_t revision = 0;
    milliseconds slowest{0};
    int slowest_round = -1;
    std::string killed;
    for (int i = 0; i < rounds; ++i) {
        if (i == kill_at) {
            killed = cluster.kill_leader();
            ASSERT_FALSE(killed.empty());
        }
        const auto start = Clock::now();
        // A superblock swap, fenced, and a read of it: each must succeed (after retries).
        auto put = (*store)->put_if("volumes/v1", "generation " + std::to_string(i + 1), revision,
                                    lock->get());
        ASSERT_TRUE(put.has_value()) << "round " << i << ": " << put.error().message;
        revision = *put;
        auto got = (*store)->get("volumes/v1");
        ASSERT_TRUE(got.has_value() && got->has_value()) << "round " << i;
        EXPECT_EQ((*got)->revision, revision);
        const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
        if (took > slowest) {
            slowest = took;
            slowest_round = i;
        }
    }
    std::printf("killed leader %s at round %d; slowest round %d took %lld ms\n", killed.c_str(),
                kill_at, slowest_round, static_cast<long long>(slowest.count()));
    EXPECT_LT(slowest, seconds(5));
    EXPECT_EQ((*(*store)->get("volumes/v1"))->value, "generation " + std::to_string(rounds));
    // The lease survived the election: the lock is still held, by us alone.
    EXPECT_TRUE((*lock)->held());
    auto other = EtcdMetaStore::open(options);
    ASSERT_TRUE(other.has_value());
    auto second = (*other)->lock("volumes/v1", "node b");
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code, Errc::failed_precondition);
    EXPECT_EQ(cluster.pids().size(), 2u);
}

}  // namespace
}  // namespace itd::volume::testing
