// EtcdMetaStore's way round the members, on a scripted transport (no etcd): which member is
// asked, what is retried and for how long. Its behaviour against a real etcd is tested in
// tests/integration/etcd_meta_store_test.cpp.
#include "volume/meta/etcd_meta_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>

namespace itd::volume {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kStatusBody =
    R"({"header":{"cluster_id":"1","member_id":"2","revision":"1","raft_term":"2"},)"
    R"("version":"3.4.23"})";
constexpr const char* kEmptyRange = R"({"header":{"revision":"5"}})";

// Answers each post with script(member, path); records who was asked.
class ScriptedTransport final : public EtcdTransport {
  public:
    using Script = std::function<Result<EtcdReply>(std::size_t, std::string_view)>;
    ScriptedTransport(std::size_t members, Script script)
        : members_(members), script_(std::move(script)) {}

    std::size_t endpoint_count() const override { return members_; }
    std::string endpoint_url(std::size_t i) const override {
        return "http://member" + std::to_string(i);
    }
    Result<EtcdReply> post(std::size_t i, std::string_view path, std::string_view) override {
        {
            const std::lock_guard g(mutex_);
            asked_.push_back(i);
        }
        return script_(i, path);
    }
    std::vector<std::size_t> asked() {
        const std::lock_guard g(mutex_);
        return asked_;
    }
    void clear() {
        const std::lock_guard g(mutex_);
        asked_.clear();
    }

  private:
    std::size_t members_;
    Script script_;
    std::mutex mutex_;
    std::vector<std::size_t> asked_;
};

EtcdOptions options(milliseconds budget = milliseconds(2000)) {
    EtcdOptions o;
    o.endpoints = {"unused"};
    o.retry_budget = budget;
    return o;
}

Result<EtcdReply> ok(std::string_view path) {
    return EtcdReply{200, path == "/v3/maintenance/status" ? kStatusBody : kEmptyRange};
}

TEST(EtcdMetaStoreMembers, UnavailableMembersAreSkippedAndTheOneThatAnsweredIsAskedFirst) {
    // Member 0 is down, member 1 has no leader, member 2 answers.
    auto t = std::make_shared<ScriptedTransport>(
        3, [](std::size_t i, std::string_view path) -> Result<EtcdReply> {
            if (i == 0) return fail(Errc::unavailable, "connection refused");
            if (i == 1) return EtcdReply{503, R"({"message":"etcdserver: no leader","code":14})"};
            return ok(path);
        });
    auto store = EtcdMetaStore::open(t, options());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    EXPECT_EQ(t->asked(), (std::vector<std::size_t>{0, 1, 2}));
    t->clear();
    auto v = (*store)->get("k");
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_FALSE(v->has_value());
    EXPECT_EQ(t->asked(), (std::vector<std::size_t>{2}));
}

TEST(EtcdMetaStoreMembers, ErrorsThatARetryCannotMendReturnAtOnce) {
    bool refuse = false;
    auto t = std::make_shared<ScriptedTransport>(
        2, [&refuse](std::size_t, std::string_view path) -> Result<EtcdReply> {
            if (refuse) {
                return EtcdReply{400, R"({"message":"etcdserver: permission denied","code":7})"};
            }
            return ok(path);
        });
    auto store = EtcdMetaStore::open(t, options());
    ASSERT_TRUE(store.has_value());
    refuse = true;
    t->clear();
    auto v = (*store)->get("k");
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, Errc::failed_precondition);
    EXPECT_NE(v.error().message.find("permission denied"), std::string::npos);
    EXPECT_EQ(t->asked().size(), 1u);
}

TEST(EtcdMetaStoreMembers, TheRetryBudgetBoundsACall) {
    auto t = std::make_shared<ScriptedTransport>(
        2, [](std::size_t i, std::string_view) -> Result<EtcdReply> {
            return fail(Errc::unavailable, "timed out at member " + std::to_string(i));
        });
    const auto start = Clock::now();
    auto store = EtcdMetaStore::open(t, options(milliseconds(400)));
    const auto took = Clock::now() - start;
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error().code, Errc::unavailable);
    EXPECT_NE(store.error().message.find("no etcd member answered"), std::string::npos)
        << store.error().message;
    EXPECT_NE(store.error().message.find("timed out at member"), std::string::npos);
    EXPECT_GE(took, milliseconds(400));
    EXPECT_LT(took, milliseconds(1500));
    // Rounds over both members, with back-off between rounds: more than one round, but not a
    // busy loop.
    EXPECT_GE(t->asked().size(), 4u);
    EXPECT_LE(t->asked().size(), 20u);
}

TEST(EtcdMetaStoreMembers, AnswersThatAreNotTheGatewaysAreIoErrors) {
    bool garbage = false;
    auto t = std::make_shared<ScriptedTransport>(
        1, [&garbage](std::size_t, std::string_view path) -> Result<EtcdReply> {
            if (garbage) return EtcdReply{200, "<html>a proxy</html>"};
            return ok(path);
        });
    auto store = EtcdMetaStore::open(t, options());
    ASSERT_TRUE(store.has_value());
    garbage = true;
    auto v = (*store)->put_if("k", "v", 0);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, Errc::io_error);
    EXPECT_NE(v.error().message.find("a proxy"), std::string::npos) << v.error().message;
}

TEST(EtcdMetaStoreMembers, OptionsAreChecked) {
    auto t = std::make_shared<ScriptedTransport>(
        1, [](std::size_t, std::string_view path) { return ok(path); });
    EtcdOptions o = options();
    o.lease_ttl = std::chrono::seconds(0);
    EXPECT_EQ(EtcdMetaStore::open(t, o).error().code, Errc::invalid_argument);
    o = options();
    o.prefix = std::string("a\0b", 3);
    EXPECT_EQ(EtcdMetaStore::open(t, o).error().code, Errc::invalid_argument);
    EXPECT_EQ(EtcdMetaStore::open(nullptr, options()).error().code, Errc::invalid_argument);
    EXPECT_EQ(make_etcd_http_transport(EtcdOptions{}).error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace itd::volume
