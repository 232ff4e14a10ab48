// CHAP through the whole login state machine (login.h, security.h, chap.h): the exchange
// libiscsi and open-iscsi run, one-way and mutual, and each way it can fail.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <map>
#include <string>

#include "iscsi/login.h"

namespace itd::iscsi {
namespace {

using Keys = std::vector<std::pair<std::string, std::string>>;
using Outcome = Login::Outcome;

constexpr std::uint64_t kIsid = 0x400001370000ull;
constexpr const char* kInitiator = "iqn.2026-11.org.itd.test:chap";
constexpr const char* kTarget = "iqn.2026-11.org.itd.test:disk";
constexpr const char* kUser = "alice";
constexpr const char* kSecret = "alice-secret-123";
constexpr const char* kTargetUser = "disk";
constexpr const char* kTargetSecret = "target-secret-456";

Pdu make(std::uint8_t csg, std::uint8_t nsg, bool transit, const Keys& keys) {
    Pdu p;
    p.bhs.set_opcode(Opcode::login_request, true);
    p.bhs.set_flags(static_cast<std::uint8_t>((transit ? flag::transit : 0) | (csg << 2) | nsg));
    p.bhs.set_isid(kIsid);
    p.bhs.set_itt(0x1000);
    p.bhs.set_cid(1);
    for (const auto& [k, v] : keys) append_text(p.data, k, v);
    return p;
}

std::map<std::string, std::string> answers(const Pdu& p) {
    std::map<std::string, std::string> m;
    auto pairs = parse_text(p.data);
    EXPECT_TRUE(pairs);
    if (pairs)
        for (auto& kv : *pairs) m[kv.key] = kv.value;
    return m;
}

LoginStatus status(const Pdu& p) { return {p.bhs.status_class(), p.bhs.status_detail()}; }

std::string digest_hex(int algorithm, std::uint8_t id, std::string_view secret,
                       std::span<const std::uint8_t> challenge) {
    std::vector<std::uint8_t> msg{id};
    msg.insert(msg.end(), secret.begin(), secret.end());
    msg.insert(msg.end(), challenge.begin(), challenge.end());
    const EVP_MD* md = algorithm == 5 ? EVP_md5() : algorithm == 6 ? EVP_sha1()
                     : algorithm == 7 ? EVP_sha256() : EVP_sha3_256();
    std::uint8_t out[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EXPECT_EQ(EVP_Digest(msg.data(), msg.size(), out, &len, md, nullptr), 1);
    return hex_binary({out, len});
}

LoginConfig config(bool chap, bool mutual, bool discovery_chap = false) {
    LoginConfig cfg;
    cfg.bind_session = [](const SessionParams&, std::uint64_t, std::uint16_t,
                          std::uint16_t) -> std::expected<std::uint16_t, LoginStatus> { return 7; };
    cfg.security_for = [=](const SessionParams& p) {
        SecurityConfig s;
        const bool want = p.session_type == SessionType::discovery ? discovery_chap : chap;
        if (want) s.chap = ChapCredentials{kUser, kSecret};
        if (want && mutual) s.mutual_chap = ChapCredentials{kTargetUser, kTargetSecret};
        return s;
    };
    return cfg;
}

Keys first_keys(const char* methods = "CHAP,None", const char* type = "Normal") {
    Keys k = {{"InitiatorName", kInitiator}, {"SessionType", type}, {"AuthMethod", methods}};
    if (std::string_view(type) == "Normal") k.insert(k.begin() + 1, {"TargetName", kTarget});
    return k;
}

// Runs AuthMethod and CHAP_A; returns the target's CHAP_A/CHAP_I/CHAP_C answer.
std::map<std::string, std::string> start(Login& login, const char* algorithms = "5",
                                         const char* type = "Normal") {
    auto s1 = login.on_request(make(0, 1, false, first_keys("CHAP,None", type)));
    EXPECT_EQ(s1.outcome, Outcome::in_progress);
    EXPECT_EQ(answers(s1.response)["AuthMethod"], "CHAP");
    auto s2 = login.on_request(make(0, 1, false, {{"CHAP_A", algorithms}}));
    EXPECT_EQ(s2.outcome, Outcome::in_progress);
    EXPECT_FALSE(s2.response.bhs.transit());
    return answers(s2.response);
}

std::string response_to(const std::map<std::string, std::string>& c, std::string_view secret) {
    auto challenge = parse_binary(c.at("CHAP_C"));
    return digest_hex(std::stoi(c.at("CHAP_A")),
                      static_cast<std::uint8_t>(std::stoi(c.at("CHAP_I"))), secret, *challenge);
}

TEST(LoginChap, OneWayThenOperational) {
    for (const char* a : {"5", "6", "7", "8", "7,5"}) {
        Login login(config(true, false));
        auto c = start(login, a);
        ASSERT_TRUE(c.contains("CHAP_C"));
        auto s3 = login.on_request(make(0, 1, true, {{"CHAP_N", kUser},
                                                     {"CHAP_R", response_to(c, kSecret)}}));
        ASSERT_EQ(s3.outcome, Outcome::in_progress) << a;
        EXPECT_EQ(status(s3.response), login_status::success);
        EXPECT_TRUE(s3.response.bhs.transit());
        EXPECT_EQ(s3.response.bhs.nsg(), 1);
        EXPECT_FALSE(answers(s3.response).contains("CHAP_R"));
        auto s4 = login.on_request(make(1, 3, true, {{"MaxRecvDataSegmentLength", "65536"}}));
        EXPECT_EQ(s4.outcome, Outcome::complete);
    }
}

TEST(LoginChap, MutualAnswersTheInitiatorsChallenge) {
    Login login(config(true, true));
    auto c = start(login, "7");
    const std::vector<std::uint8_t> mine(20, 0x5a);
    auto s3 = login.on_request(make(0, 3, true, {{"CHAP_N", kUser},
                                                 {"CHAP_R", response_to(c, kSecret)},
                                                 {"CHAP_I", "9"},
                                                 {"CHAP_C", hex_binary(mine)}}));
    ASSERT_EQ(s3.outcome, Outcome::complete);
    auto a = answers(s3.response);
    EXPECT_EQ(a["CHAP_N"], kTargetUser);
    EXPECT_EQ(a["CHAP_R"], digest_hex(7, 9, kTargetSecret, mine));
}

TEST(LoginChap, WrongSecretIsAnAuthenticationFailure) {
    Login login(config(true, false));
    auto c = start(login);
    auto s = login.on_request(
        make(0, 1, true, {{"CHAP_N", kUser}, {"CHAP_R", response_to(c, "not-the-secret")}}));
    EXPECT_EQ(s.outcome, Outcome::failed);
    EXPECT_EQ(status(s.response), login_status::authentication_failure);
    EXPECT_TRUE(s.response.data.empty());
}

TEST(LoginChap, UnknownUserIsAnAuthenticationFailure) {
    Login login(config(true, false));
    auto c = start(login);
    auto s = login.on_request(
        make(0, 1, true, {{"CHAP_N", "mallory"}, {"CHAP_R", response_to(c, kSecret)}}));
    EXPECT_EQ(status(s.response), login_status::authentication_failure);
}

TEST(LoginChap, NoneIsRefusedWhenChapIsConfigured) {
    Login login(config(true, false));
    auto s = login.on_request(make(0, 1, true, first_keys("None")));
    EXPECT_EQ(s.outcome, Outcome::failed);
    EXPECT_EQ(status(s.response), login_status::authentication_failure);
}

TEST(LoginChap, SkippingTheSecurityStageIsRefused) {
    Login login(config(true, false));
    Keys k = first_keys();
    k.pop_back();  // no AuthMethod
    auto s = login.on_request(make(1, 3, true, k));
    EXPECT_EQ(status(s.response), login_status::authentication_failure);
    // Leaving the security stage without ever offering an AuthMethod.
    Login login2(config(true, false));
    auto s2 = login2.on_request(make(0, 1, true, k));
    EXPECT_EQ(status(s2.response), login_status::authentication_failure);
}

TEST(LoginChap, WithoutChapOnlyNoneIsOffered) {
    Login login(config(false, false));
    auto s = login.on_request(make(0, 1, true, first_keys("CHAP,None")));
    EXPECT_EQ(answers(s.response)["AuthMethod"], "None");
    Login login2(config(false, false));
    auto s2 = login2.on_request(make(0, 1, true, first_keys("CHAP")));
    EXPECT_EQ(status(s2.response), login_status::authentication_failure);
    // CHAP keys without CHAP.
    Login login3(config(false, false));
    (void)login3.on_request(make(0, 1, false, first_keys("None")));
    auto s3 = login3.on_request(make(0, 1, false, {{"CHAP_A", "5"}}));
    EXPECT_EQ(status(s3.response), login_status::initiator_error);
}

TEST(LoginChap, ReflectedChallengeIsRefused) {
    Login login(config(true, true));
    auto c = start(login);
    auto s = login.on_request(make(0, 1, true, {{"CHAP_N", kUser},
                                                {"CHAP_R", response_to(c, kSecret)},
                                                {"CHAP_I", c["CHAP_I"]},
                                                {"CHAP_C", c["CHAP_C"]}}));
    EXPECT_EQ(status(s.response), login_status::authentication_failure);
    EXPECT_FALSE(answers(s.response).contains("CHAP_R"));
}

TEST(LoginChap, MalformedValuesFailWithoutCrashing) {
    const std::vector<Keys> bad = {
        {{"CHAP_N", kUser}},                                    // no CHAP_R
        {{"CHAP_R", "0x00"}},                                   // no CHAP_N
        {{"CHAP_N", kUser}, {"CHAP_R", "0x123"}},               // odd hex, wrong length
        {{"CHAP_N", kUser}, {"CHAP_R", "0x" + std::string(5000, '0')}},  // oversize
        {{"CHAP_N", kUser}, {"CHAP_R", "0bnot base64"}},
        {{"CHAP_N", kUser}, {"CHAP_R", "0x00"}, {"CHAP_R", "0x00"}},  // repeated
        {{"CHAP_X", "1"}},
        {{"CHAP_A", "5"}},  // again
        {},                 // nothing at all
    };
    for (const auto& keys : bad) {
        Login login(config(true, false));
        (void)start(login);
        auto s = login.on_request(make(0, 1, true, keys));
        EXPECT_EQ(s.outcome, Outcome::failed);
        EXPECT_NE(status(s.response), login_status::success);
    }
    Login login(config(true, false));
    (void)login.on_request(make(0, 1, false, first_keys()));
    auto s = login.on_request(make(0, 1, false, {{"CHAP_A", "128,129"}}));
    EXPECT_EQ(status(s.response), login_status::authentication_failure);
}

TEST(LoginChap, DiscoveryHasItsOwnCredentials) {
    // A target with CHAP does not make discovery need it, and the reverse.
    Login open(config(true, false, false));
    auto s = open.on_request(make(0, 3, true, first_keys("None", "Discovery")));
    EXPECT_EQ(s.outcome, Outcome::complete);
    Login closed(config(false, false, true));
    auto s2 = closed.on_request(make(0, 3, true, first_keys("None", "Discovery")));
    EXPECT_EQ(status(s2.response), login_status::authentication_failure);
    Login chap(config(false, false, true));
    auto c = start(chap, "5", "Discovery");
    auto s3 = chap.on_request(
        make(0, 3, true, {{"CHAP_N", kUser}, {"CHAP_R", response_to(c, kSecret)}}));
    EXPECT_EQ(s3.outcome, Outcome::complete);
}

// Failure-point sweep (STYLE.md #16) over the four CHAP steps: each step in turn gets a
// fault; the steps before it succeed and the faulty one fails with 0x0201 or 0x0200.
TEST(LoginChap, FailurePointSweep) {
    int injected = 0;
    for (int at = 0; at < 4; ++at) {
        for (int variant = 0; variant < 2; ++variant) {
            Login login(config(true, true));
            std::map<std::string, std::string> c;
            bool failed = false;
            for (int step = 0; step < 4 && !failed; ++step) {
                const bool fault = step == at;
                Login::Step s{};
                switch (step) {
                    case 0:
                        s = login.on_request(make(0, 1, false, first_keys(
                            fault ? (variant ? "KRB5" : "None") : "CHAP,None")));
                        break;
                    case 1:
                        s = login.on_request(make(0, 1, false, {{"CHAP_A", fault ? (variant ? "99" : "") : "5"}}));
                        c = answers(s.response);
                        break;
                    case 2: {
                        const std::vector<std::uint8_t> mine(16, 1);
                        s = login.on_request(make(0, 1, true, {
                            {"CHAP_N", fault && variant ? "bob" : kUser},
                            {"CHAP_R", response_to(c, fault && !variant ? "bad" : kSecret)},
                            {"CHAP_I", "3"}, {"CHAP_C", hex_binary(mine)}}));
                        break;
                    }
                    case 3:
                        s = login.on_request(make(1, 3, true, fault ? Keys{{"CHAP_A", "5"}}
                                                                    : Keys{}));
                        break;
                }
                if (step < at) {
                    EXPECT_EQ(status(s.response), login_status::success) << at << " " << step;
                } else {
                    EXPECT_EQ(s.outcome, Outcome::failed) << at << " " << variant;
                    EXPECT_EQ(s.response.bhs.status_class(), 0x02);
                    failed = true;
                    ++injected;
                }
            }
        }
    }
    EXPECT_EQ(injected, 8);
}

}  // namespace
}  // namespace itd::iscsi
