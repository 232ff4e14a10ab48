// CHAP and allow lists against a running itd (run.sh section 7). Skipped unless ITD_CHAP_USER
// is set, so the other runs of this binary are unaffected. run.sh starts itd with a config
// file holding three targets and exports:
//   ITD_CHAP_TARGET    one-way CHAP as ITD_CHAP_USER / ITD_CHAP_SECRET
//   ITD_MUTUAL_TARGET  the same, plus mutual CHAP as ITD_MUTUAL_USER / ITD_MUTUAL_SECRET
//   ITD_ACL_TARGET     no CHAP; allow = [ITD_ACL_ALLOWED] only
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "client.h"

namespace itd_it {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

class Chap : public ::testing::Test {
protected:
    void SetUp() override {
        if (env("ITD_CHAP_USER").empty()) GTEST_SKIP() << "ITD_CHAP_USER not set";
    }
};

struct Login {
    std::string initiator = "iqn.2026-11.org.itd.test:chap";
    std::string target{};
    std::string user{};           // one-way CHAP, when set
    std::string secret{};
    std::string target_user{};    // mutual CHAP, when set
    std::string target_secret{};
};

// Logs in to LUN 0 of login.target; nullptr when refused.
Context login_to(const Login& login) {
    Context ctx(iscsi_create_context(login.initiator.c_str()));
    if (!ctx) return nullptr;
    iscsi_set_targetname(ctx.get(), login.target.c_str());
    iscsi_set_session_type(ctx.get(), ISCSI_SESSION_NORMAL);
    iscsi_set_timeout(ctx.get(), 30);
    if (!login.user.empty())
        iscsi_set_initiator_username_pwd(ctx.get(), login.user.c_str(), login.secret.c_str());
    if (!login.target_user.empty())
        iscsi_set_target_username_pwd(ctx.get(), login.target_user.c_str(),
                                      login.target_secret.c_str());
    if (iscsi_full_connect_sync(ctx.get(), portal().c_str(), 0) != 0) {
        iscsi_destroy_context(ctx.release());
        return nullptr;
    }
    return ctx;
}

void expect_reads(iscsi_context* ctx) {
    Task t(iscsi_read10_sync(ctx, 0, 0, 4096, 512, 0, 0, 0, 0, 0));
    ASSERT_NE(t, nullptr) << iscsi_get_error(ctx);
    EXPECT_EQ(t->status, SCSI_STATUS_GOOD);
    EXPECT_EQ(t->datain.size, 4096);
}

Login one_way() {
    return {.target = env("ITD_CHAP_TARGET"), .user = env("ITD_CHAP_USER"),
            .secret = env("ITD_CHAP_SECRET")};
}

TEST_F(Chap, OneWayLoginReadsData) {
    Context ctx = login_to(one_way());
    ASSERT_NE(ctx, nullptr);
    expect_reads(ctx.get());
}

TEST_F(Chap, WrongSecretIsRefused) {
    Login l = one_way();
    l.secret = "not-the-right-secret";
    EXPECT_EQ(login_to(l), nullptr);
    // And the right one still works next to it.
    Context ctx = login_to(one_way());
    ASSERT_NE(ctx, nullptr);
    expect_reads(ctx.get());
}

TEST_F(Chap, UnknownUserIsRefused) {
    Login l = one_way();
    l.user = "mallory";
    EXPECT_EQ(login_to(l), nullptr);
}

TEST_F(Chap, NoCredentialsAreRefused) {
    Login l = one_way();
    l.user.clear();
    EXPECT_EQ(login_to(l), nullptr);
}

TEST_F(Chap, MutualLoginReadsData) {
    Login l{.target = env("ITD_MUTUAL_TARGET"), .user = env("ITD_CHAP_USER"),
            .secret = env("ITD_CHAP_SECRET"), .target_user = env("ITD_MUTUAL_USER"),
            .target_secret = env("ITD_MUTUAL_SECRET")};
    Context ctx = login_to(l);
    ASSERT_NE(ctx, nullptr);
    expect_reads(ctx.get());
}

TEST_F(Chap, MutualWithOneWayOnlyTargetIsRefused) {
    // The one-way target has no mutual credentials, so it cannot answer the challenge.
    Login l = one_way();
    l.target_user = env("ITD_MUTUAL_USER");
    l.target_secret = env("ITD_MUTUAL_SECRET");
    EXPECT_EQ(login_to(l), nullptr);
}

TEST_F(Chap, DisallowedInitiatorIsRefused) {
    Login l{.initiator = "iqn.2026-11.org.itd.test:stranger", .target = env("ITD_ACL_TARGET")};
    EXPECT_EQ(login_to(l), nullptr);
    Login ok{.initiator = env("ITD_ACL_ALLOWED"), .target = env("ITD_ACL_TARGET")};
    Context ctx = login_to(ok);
    ASSERT_NE(ctx, nullptr);
    expect_reads(ctx.get());
}

std::vector<std::string> send_targets(const std::string& initiator) {
    std::vector<std::string> names;
    iscsi_context* ctx = iscsi_create_context(initiator.c_str());
    if (!ctx) return names;
    iscsi_set_session_type(ctx, ISCSI_SESSION_DISCOVERY);
    if (iscsi_connect_sync(ctx, portal().c_str()) == 0 && iscsi_login_sync(ctx) == 0) {
        if (iscsi_discovery_address* list = iscsi_discovery_sync(ctx)) {
            for (auto* a = list; a; a = a->next) names.emplace_back(a->target_name);
            iscsi_free_discovery_data(ctx, list);
        }
        iscsi_logout_sync(ctx);
    }
    iscsi_destroy_context(ctx);
    return names;
}

TEST_F(Chap, SendTargetsHidesTargetsFromDisallowedInitiators) {
    auto has = [](const std::vector<std::string>& v, const std::string& n) {
        return std::find(v.begin(), v.end(), n) != v.end();
    };
    const auto stranger = send_targets("iqn.2026-11.org.itd.test:stranger");
    EXPECT_TRUE(has(stranger, env("ITD_CHAP_TARGET")));
    EXPECT_FALSE(has(stranger, env("ITD_ACL_TARGET")));
    const auto allowed = send_targets(env("ITD_ACL_ALLOWED"));
    EXPECT_TRUE(has(allowed, env("ITD_ACL_TARGET")));
    EXPECT_TRUE(has(allowed, env("ITD_MUTUAL_TARGET")));
}

}  // namespace
}  // namespace itd_it
