#include <gtest/gtest.h>

#include <map>
#include <string>

#include "iscsi/login.h"
#include "iscsi/pdu_reader.h"

namespace itd::iscsi {
namespace {

using Keys = std::vector<std::pair<std::string, std::string>>;
using Outcome = Login::Outcome;

constexpr std::uint64_t kIsid = 0x400001370000ull;
constexpr const char* kInitiator = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test";
constexpr const char* kTarget = "iqn.2026-11.org.itd.test:disk";

struct Req {
    std::uint8_t csg = 1;
    std::uint8_t nsg = 3;
    bool transit = true;
    bool cont = false;
    Keys keys{};
    std::uint16_t tsih = 0;
    std::uint32_t itt = 0x1000;
    std::uint32_t cmd_sn = 0x5000;
    std::uint32_t exp_stat_sn = 0x77;
    std::uint8_t version_min = 0;
    bool immediate = true;
    std::vector<std::uint8_t> raw_text{};  // used instead of keys when not empty
};

Pdu make(const Req& r) {
    Pdu p;
    p.bhs.set_opcode(Opcode::login_request, r.immediate);
    p.bhs.set_flags(static_cast<std::uint8_t>((r.transit ? flag::transit : 0) | (r.cont ? flag::cont : 0) |
                                              (r.csg << 2) | r.nsg));
    p.bhs.set_byte3(r.version_min);
    p.bhs.set_isid(kIsid);
    p.bhs.set_tsih(r.tsih);
    p.bhs.set_itt(r.itt);
    p.bhs.set_cid(1);
    p.bhs.set_cmd_sn(r.cmd_sn);
    p.bhs.set_exp_stat_sn(r.exp_stat_sn);
    if (!r.raw_text.empty()) {
        p.data = r.raw_text;
    } else {
        for (const auto& [k, v] : r.keys) append_text(p.data, k, v);
    }
    return p;
}

std::map<std::string, std::string> answers(const Pdu& p) {
    std::map<std::string, std::string> m;
    auto pairs = parse_text(p.data);
    EXPECT_TRUE(pairs);
    if (pairs)
        for (auto& kv : *pairs) {
            EXPECT_FALSE(m.contains(kv.key)) << kv.key;
            m[kv.key] = kv.value;
        }
    return m;
}

// What libiscsi (lib/login.c) sends in the operational stage, in its order, with its
// defaults; for a normal session without CHAP this is the whole login, CSG=1 NSG=3 T=1.
Keys libiscsi_opneg_keys(bool discovery = false) {
    Keys k = {{"InitiatorName", kInitiator}};
    if (!discovery) k.push_back({"TargetName", kTarget});
    k.insert(k.end(), {{"SessionType", discovery ? "Discovery" : "Normal"},
                       {"HeaderDigest", "None,CRC32C"},
                       {"DataDigest", "None"},
                       {"InitialR2T", "No"},
                       {"ImmediateData", "Yes"},
                       {"MaxBurstLength", "262144"},
                       {"FirstBurstLength", "262144"},
                       {"DefaultTime2Wait", "2"},
                       {"DefaultTime2Retain", "0"},
                       {"MaxOutstandingR2T", "1"},
                       {"ErrorRecoveryLevel", "0"},
                       {"IFMarker", "No"},
                       {"OFMarker", "No"},
                       {"MaxConnections", "1"},
                       {"MaxRecvDataSegmentLength", "262144"},
                       {"DataPDUInOrder", "Yes"},
                       {"DataSequenceInOrder", "Yes"}});
    return k;
}

struct Fixture {
    int check_calls = 0;
    int bind_calls = 0;
    std::optional<LoginStatus> refuse_target;
    std::optional<LoginStatus> refuse_bind;
    SessionParams bound_params;
    std::uint16_t bound_tsih_arg = 0xffff;

    LoginConfig config(TargetLimits limits = {}) {
        LoginConfig cfg;
        cfg.limits = limits;
        cfg.target_portal_group_tag = 7;
        cfg.cmd_window = 32;
        cfg.check_target = [this](std::string_view ini, std::string_view tgt) -> std::optional<LoginStatus> {
            ++check_calls;
            EXPECT_EQ(ini, kInitiator);
            EXPECT_EQ(tgt, kTarget);
            return refuse_target;
        };
        cfg.bind_session = [this](const SessionParams& p, std::uint64_t isid, std::uint16_t tsih,
                                  std::uint16_t cid) -> std::expected<std::uint16_t, LoginStatus> {
            ++bind_calls;
            bound_params = p;
            bound_tsih_arg = tsih;
            EXPECT_EQ(isid, kIsid);
            EXPECT_EQ(cid, 1);
            if (refuse_bind) return std::unexpected(*refuse_bind);
            return 0x0042;
        };
        return cfg;
    }
};

void expect_status(const Pdu& p, LoginStatus s) {
    EXPECT_EQ(p.bhs.status_class(), s.status_class);
    EXPECT_EQ(p.bhs.status_detail(), s.status_detail);
}

TEST(Login, LibiscsiNormalLoginInOneStep) {
    Fixture f;
    Login login(f.config());
    auto step = login.on_request(make({.keys = libiscsi_opneg_keys()}));
    ASSERT_EQ(step.outcome, Outcome::complete);
    const Bhs& b = step.response.bhs;
    EXPECT_EQ(b.opcode(), Opcode::login_response);
    expect_status(step.response, login_status::success);
    EXPECT_TRUE(b.transit());
    EXPECT_FALSE(b.cont());
    EXPECT_EQ(b.csg(), 1);
    EXPECT_EQ(b.nsg(), 3);
    EXPECT_EQ(b.byte2(), 0);  // Version-max
    EXPECT_EQ(b.byte3(), 0);  // Version-active
    EXPECT_EQ(b.isid(), kIsid);
    EXPECT_EQ(b.tsih(), 0x42);
    EXPECT_EQ(b.itt(), 0x1000u);
    EXPECT_EQ(b.stat_sn(), 0x77u);
    EXPECT_EQ(b.exp_cmd_sn(), 0x5000u);
    EXPECT_EQ(b.max_cmd_sn(), 0x5000u + 31);
    auto a = answers(step.response);
    EXPECT_EQ(a["TargetPortalGroupTag"], "7");
    EXPECT_EQ(a["MaxRecvDataSegmentLength"], "262144");
    EXPECT_EQ(a["HeaderDigest"], "None");
    EXPECT_EQ(a["DataDigest"], "None");
    EXPECT_EQ(a["InitialR2T"], "No");
    EXPECT_EQ(a["ImmediateData"], "Yes");
    EXPECT_EQ(a["MaxBurstLength"], "262144");
    EXPECT_EQ(a["FirstBurstLength"], "262144");
    EXPECT_EQ(a["DefaultTime2Retain"], "0");
    EXPECT_EQ(a["MaxOutstandingR2T"], "1");
    EXPECT_EQ(a["IFMarker"], "No");
    EXPECT_EQ(a["MaxConnections"], "1");
    EXPECT_FALSE(a.contains("InitiatorName"));
    EXPECT_EQ(f.check_calls, 1);
    EXPECT_EQ(f.bind_calls, 1);
    EXPECT_EQ(f.bound_tsih_arg, 0);
    const auto& p = login.params();
    EXPECT_EQ(p.initiator_name, kInitiator);
    EXPECT_EQ(p.target_name, kTarget);
    EXPECT_EQ(p.initiator_max_recv_data_segment_bytes, 262144u);
    EXPECT_EQ(p.target_max_recv_data_segment_bytes, 262144u);
    EXPECT_FALSE(p.initial_r2t);
    EXPECT_EQ(f.bound_params.target_name, kTarget);
    EXPECT_EQ(login.next_stat_sn(), 0x78u);
    EXPECT_EQ(login.exp_cmd_sn(), 0x5000u);
    EXPECT_EQ(login.tsih(), 0x42);
    EXPECT_EQ(login.isid(), kIsid);
    EXPECT_EQ(login.cid(), 1);
}

TEST(Login, SecurityStageThenOperational) {
    // libiscsi with a CHAP user offers CHAP,None; we settle on None (RFC 7143 12.1), and it
    // then repeats its names in the operational stage.
    Fixture f;
    Login login(f.config());
    auto s1 = login.on_request(make({.csg = 0, .nsg = 1, .keys = {{"InitiatorName", kInitiator},
                                                                  {"TargetName", kTarget},
                                                                  {"SessionType", "Normal"},
                                                                  {"AuthMethod", "CHAP,None"}}}));
    ASSERT_EQ(s1.outcome, Outcome::in_progress);
    expect_status(s1.response, login_status::success);
    EXPECT_TRUE(s1.response.bhs.transit());
    EXPECT_EQ(s1.response.bhs.csg(), 0);
    EXPECT_EQ(s1.response.bhs.nsg(), 1);
    EXPECT_EQ(s1.response.bhs.tsih(), 0);
    auto a1 = answers(s1.response);
    EXPECT_EQ(a1["AuthMethod"], "None");
    EXPECT_EQ(a1["TargetPortalGroupTag"], "7");
    EXPECT_FALSE(a1.contains("MaxRecvDataSegmentLength"));  // an operational key

    auto s2 = login.on_request(make({.csg = 1, .nsg = 3, .keys = libiscsi_opneg_keys()}));
    ASSERT_EQ(s2.outcome, Outcome::complete);
    EXPECT_EQ(s2.response.bhs.stat_sn(), s1.response.bhs.stat_sn() + 1);
    auto a2 = answers(s2.response);
    EXPECT_FALSE(a2.contains("TargetPortalGroupTag"));  // first response only
    EXPECT_EQ(a2["MaxRecvDataSegmentLength"], "262144");
    EXPECT_EQ(f.check_calls, 1);
}

TEST(Login, SecurityStageStraightToFullFeature) {
    Fixture f;
    Login login(f.config());
    auto s = login.on_request(make({.csg = 0, .nsg = 3, .keys = {{"InitiatorName", kInitiator},
                                                                {"TargetName", kTarget},
                                                                {"AuthMethod", "None"}}}));
    ASSERT_EQ(s.outcome, Outcome::complete);
    // We never declared our MaxRecvDataSegmentLength, so both directions keep 8192.
    EXPECT_EQ(login.params().target_max_recv_data_segment_bytes, 8192u);
    EXPECT_EQ(login.params().initiator_max_recv_data_segment_bytes, 8192u);
}

TEST(Login, DiscoverySession) {
    Fixture f;
    Login login(f.config());
    auto s = login.on_request(make({.keys = libiscsi_opneg_keys(true)}));
    ASSERT_EQ(s.outcome, Outcome::complete);
    EXPECT_EQ(f.check_calls, 0);
    EXPECT_EQ(login.params().session_type, SessionType::discovery);
    auto a = answers(s.response);
    EXPECT_EQ(a["MaxBurstLength"], "Irrelevant");
    EXPECT_EQ(a["InitialR2T"], "Irrelevant");
    EXPECT_EQ(a["HeaderDigest"], "None");
}

TEST(Login, InitiatorWaitsWithT0) {
    Fixture f;
    Login login(f.config());
    auto s1 = login.on_request(make({.transit = false, .keys = {{"InitiatorName", kInitiator},
                                                               {"TargetName", kTarget}}}));
    ASSERT_EQ(s1.outcome, Outcome::in_progress);
    EXPECT_FALSE(s1.response.bhs.transit());
    EXPECT_EQ(s1.response.bhs.csg(), 1);
    EXPECT_EQ(answers(s1.response)["MaxRecvDataSegmentLength"], "262144");
    auto s2 = login.on_request(make({.keys = {{"MaxBurstLength", "65536"}}}));
    ASSERT_EQ(s2.outcome, Outcome::complete);
    EXPECT_EQ(answers(s2.response).count("MaxRecvDataSegmentLength"), 0u);
    EXPECT_EQ(login.params().max_burst_bytes, 65536u);
}

TEST(Login, ContinuedTextGetsEmptyResponses) {
    Fixture f;
    Login login(f.config());
    std::vector<std::uint8_t> text;
    for (const auto& [k, v] : libiscsi_opneg_keys()) append_text(text, k, v);
    const std::size_t third = text.size() / 3;
    std::vector<std::vector<std::uint8_t>> parts = {
        {text.begin(), text.begin() + third},
        {text.begin() + third, text.begin() + 2 * third},
        {text.begin() + 2 * third, text.end()}};
    for (int i = 0; i < 2; ++i) {
        auto s = login.on_request(make({.transit = false, .cont = true, .raw_text = parts[i]}));
        ASSERT_EQ(s.outcome, Outcome::in_progress);
        expect_status(s.response, login_status::success);
        EXPECT_TRUE(s.response.data.empty());
        EXPECT_FALSE(s.response.bhs.transit());
        EXPECT_FALSE(s.response.bhs.cont());
    }
    auto s = login.on_request(make({.raw_text = parts[2]}));
    ASSERT_EQ(s.outcome, Outcome::complete);
    EXPECT_EQ(s.response.bhs.stat_sn(), 0x77u + 2);
    EXPECT_EQ(login.params().initiator_name, kInitiator);
}

TEST(Login, ByteAtATimeThroughTheCodec) {
    Fixture f;
    Login login(f.config());
    std::vector<std::uint8_t> wire;
    auto a = serialize(make({.csg = 0, .nsg = 1, .keys = {{"InitiatorName", kInitiator},
                                                         {"TargetName", kTarget},
                                                         {"AuthMethod", "None"}}}),
                       false, false);
    auto b = serialize(make({.csg = 1, .nsg = 3, .keys = libiscsi_opneg_keys()}), false, false);
    wire.insert(wire.end(), a.begin(), a.end());
    wire.insert(wire.end(), b.begin(), b.end());
    PduReader in;
    PduReader out;
    std::vector<Pdu> responses;
    for (auto byte : wire) {
        auto n = in.feed(std::span(&byte, 1));
        ASSERT_TRUE(n);
        ASSERT_EQ(*n, 1u);
        if (!in.has_pdu()) continue;
        auto step = login.on_request(in.take());
        auto bytes = serialize(step.response, false, false);
        ASSERT_TRUE(out.feed(bytes));
        ASSERT_TRUE(out.has_pdu());
        responses.push_back(out.take());
    }
    ASSERT_EQ(responses.size(), 2u);
    EXPECT_TRUE(responses[1].bhs.transit());
    EXPECT_EQ(responses[1].bhs.nsg(), 3);
    EXPECT_EQ(responses[1].bhs.tsih(), 0x42);
}

TEST(Login, TargetOffersWhatDefaultsWouldExceed) {
    Fixture f;
    TargetLimits l;
    l.immediate_data = false;
    Login login(f.config(l));
    auto s1 = login.on_request(make({.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}}}));
    ASSERT_EQ(s1.outcome, Outcome::in_progress);
    EXPECT_FALSE(s1.response.bhs.transit());
    EXPECT_EQ(answers(s1.response)["ImmediateData"], "No");
    auto s2 = login.on_request(make({.keys = {{"ImmediateData", "No"}}}));
    ASSERT_EQ(s2.outcome, Outcome::complete);
    EXPECT_FALSE(login.params().immediate_data);
}

TEST(Login, UnansweredOfferFails) {
    Fixture f;
    TargetLimits l;
    l.immediate_data = false;
    Login login(f.config(l));
    login.on_request(make({.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}}}));
    auto s = login.on_request(make({}));
    EXPECT_EQ(s.outcome, Outcome::failed);
    expect_status(s.response, login_status::initiator_error);
}

struct FirstRequestCase {
    const char* name;
    Req req;
    LoginStatus status;
};

TEST(Login, FirstRequestErrors) {
    const Keys names = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}};
    std::vector<FirstRequestCase> cases = {
        {"no InitiatorName", {.keys = {{"TargetName", kTarget}}}, login_status::missing_parameter},
        {"no TargetName", {.keys = {{"InitiatorName", kInitiator}}}, login_status::missing_parameter},
        {"version", {.keys = names, .version_min = 1}, login_status::unsupported_version},
        {"CHAP only", {.csg = 0, .nsg = 1, .keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget},
                                                  {"AuthMethod", "CHAP"}}},
         login_status::authentication_failure},
        {"session type", {.keys = {{"InitiatorName", kInitiator}, {"SessionType", "Boot"}}},
         login_status::session_type_not_supported},
        {"C and T", {.cont = true, .keys = names}, login_status::initiator_error},
        {"CSG 2", {.csg = 2, .nsg = 3, .keys = names}, login_status::initiator_error},
        {"CSG 3", {.csg = 3, .nsg = 3, .keys = names}, login_status::initiator_error},
        {"NSG 2", {.csg = 0, .nsg = 2, .keys = names}, login_status::initiator_error},
        {"NSG backwards", {.csg = 1, .nsg = 1, .keys = names}, login_status::initiator_error},
        {"not immediate", {.keys = names, .immediate = false}, login_status::initiator_error},
        {"unterminated text", {.raw_text = {'A', '=', '1'}}, login_status::initiator_error},
        {"operational key in security", {.csg = 0, .nsg = 1, .keys = {{"InitiatorName", kInitiator},
                                                                    {"TargetName", kTarget},
                                                                    {"MaxBurstLength", "512"}}},
         login_status::initiator_error},
        {"target-only key", {.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget},
                                      {"TargetAlias", "x"}}},
         login_status::initiator_error},
        {"SendTargets in login", {.keys = {{"InitiatorName", kInitiator}, {"SessionType", "Discovery"},
                                           {"SendTargets", "All"}}},
         login_status::initiator_error},
    };
    for (const auto& c : cases) {
        Fixture f;
        Login login(f.config());
        auto s = login.on_request(make(c.req));
        EXPECT_EQ(s.outcome, Outcome::failed) << c.name;
        expect_status(s.response, c.status);
        EXPECT_TRUE(s.response.data.empty()) << c.name;
        EXPECT_FALSE(s.response.bhs.transit()) << c.name;
        EXPECT_EQ(f.bind_calls, 0) << c.name;
        // Nothing more is accepted after a failure.
        EXPECT_EQ(login.on_request(make({.keys = libiscsi_opneg_keys()})).outcome, Outcome::failed);
    }
}

// ---- Failure-point sweep (STYLE.md #16) ---------------------------------------------------
// A three-step login: security (T=1 to operational), an operational exchange with T=0, and
// the final operational request. Each fault is injected at each step in turn; the login must
// answer the fault's status at that step, have answered success before it, and never
// complete.

enum class Fault { malformed_text, wrong_csg, bad_key_value, changed_value, no_immediate_bit,
                   changed_isid_field, refuse_target, refuse_bind };

std::vector<Req> three_steps() {
    return {
        {.csg = 0, .nsg = 1, .keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget},
                                     {"SessionType", "Normal"}, {"AuthMethod", "None"}}},
        {.csg = 1, .nsg = 3, .transit = false, .keys = {{"HeaderDigest", "CRC32C"},
                                                       {"MaxRecvDataSegmentLength", "65536"}}},
        {.csg = 1, .nsg = 3, .keys = {{"MaxBurstLength", "131072"}, {"ImmediateData", "Yes"}}},
    };
}

TEST(Login, HappyPathOfTheSweep) {
    Fixture f;
    Login login(f.config());
    auto steps = three_steps();
    for (std::size_t i = 0; i < steps.size(); ++i) {
        auto s = login.on_request(make(steps[i]));
        expect_status(s.response, login_status::success);
        EXPECT_EQ(s.outcome, i + 1 == steps.size() ? Outcome::complete : Outcome::in_progress);
    }
    EXPECT_TRUE(login.params().header_digest);
    EXPECT_EQ(login.params().max_burst_bytes, 131072u);
    EXPECT_EQ(login.params().initiator_max_recv_data_segment_bytes, 65536u);
}

TEST(Login, FailurePointSweep) {
    const std::vector<Fault> faults = {Fault::malformed_text, Fault::wrong_csg, Fault::bad_key_value,
                                       Fault::changed_value, Fault::no_immediate_bit,
                                       Fault::changed_isid_field, Fault::refuse_target,
                                       Fault::refuse_bind};
    const std::size_t n_steps = three_steps().size();
    int injected = 0;
    for (Fault fault : faults) {
        for (std::size_t at = 0; at < n_steps; ++at) {
            Fixture f;
            auto steps = three_steps();
            Req& r = steps[at];
            LoginStatus want = login_status::initiator_error;
            switch (fault) {
                case Fault::malformed_text:
                    r.raw_text = {'K', 'e', 'y', '\0'};  // no '='
                    break;
                case Fault::wrong_csg:
                    r.csg = r.csg == 0 ? 1 : 0;
                    r.nsg = 3;
                    break;
                case Fault::bad_key_value:
                    r.keys.push_back({"MaxRecvDataSegmentLength", "100"});
                    break;
                case Fault::changed_value:
                    if (at == 0) continue;  // nothing declared before the first step
                    r.keys.push_back({"InitiatorName", "iqn.someone-else"});
                    break;
                case Fault::no_immediate_bit:
                    r.immediate = false;
                    break;
                case Fault::changed_isid_field:
                    if (at == 0) continue;
                    r.tsih = 9;
                    break;
                case Fault::refuse_target:
                    // Checked once, when the names arrive in the first request.
                    if (at != 0) continue;
                    f.refuse_target = login_status::authorization_failure;
                    want = login_status::authorization_failure;
                    break;
                case Fault::refuse_bind:
                    if (at != n_steps - 1) continue;
                    f.refuse_bind = login_status::session_does_not_exist;
                    want = login_status::session_does_not_exist;
                    break;
            }
            ++injected;
            SCOPED_TRACE(testing::Message() << "fault " << static_cast<int>(fault) << " at step " << at);
            Login login(f.config());
            for (std::size_t i = 0; i < steps.size(); ++i) {
                auto s = login.on_request(make(steps[i]));
                ASSERT_NE(s.outcome, Outcome::complete);
                if (i < at) {
                    expect_status(s.response, login_status::success);
                    ASSERT_EQ(s.outcome, Outcome::in_progress);
                    continue;
                }
                if (i == at) {
                    expect_status(s.response, want);
                    EXPECT_EQ(s.outcome, Outcome::failed);
                    EXPECT_TRUE(s.response.data.empty());
                } else {
                    EXPECT_EQ(s.outcome, Outcome::failed);  // dead after the failure
                }
            }
            EXPECT_EQ(f.bind_calls, fault == Fault::refuse_bind ? 1 : 0);
        }
    }
    EXPECT_GE(injected, 15);
}

}  // namespace
}  // namespace itd::iscsi
