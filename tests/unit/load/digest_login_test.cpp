// itd_digest_load's login exchange, fed Login Responses by hand (no sockets).
#include "digest_login.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace itd::load {
namespace {

using iscsi::Opcode;
using iscsi::Pdu;
using iscsi::TextPair;

LoginConfig config(bool header, bool data) {
    LoginConfig c;
    c.initiator_name = "iqn.2026-12.org.itd.test:i";
    c.target_name = "iqn.2026-12.org.itd.test:t";
    c.header_digest = header;
    c.data_digest = data;
    return c;
}

// A Login Response in the operational stage; transit: on to full feature phase.
Pdu response(const std::vector<TextPair>& keys, bool transit, std::uint32_t stat_sn = 7,
             bool cont = false) {
    Pdu p;
    p.bhs.set_opcode(Opcode::login_response);
    std::uint8_t flags = (1 << 2) | (transit ? 0x80 | 3 : 0);
    if (cont) flags |= iscsi::flag::cont;
    p.bhs.set_flags(flags);
    p.bhs.set_itt(0);
    p.bhs.set_tsih(transit ? 0x1234 : 0);
    p.bhs.set_stat_sn(stat_sn);
    p.bhs.set_exp_cmd_sn(1);
    p.bhs.set_max_cmd_sn(64);
    p.data = iscsi::encode_text(keys);
    return p;
}

std::vector<TextPair> keys_of(const Pdu& p) {
    auto parsed = iscsi::parse_text(p.data);
    EXPECT_TRUE(parsed);
    return parsed ? *parsed : std::vector<TextPair>{};
}

std::string value_of(const std::vector<TextPair>& keys, const std::string& key) {
    for (const auto& kv : keys)
        if (kv.key == key) return kv.value;
    return "(absent)";
}

const std::vector<TextPair> kAgreed = {{"HeaderDigest", "CRC32C"},
                                       {"DataDigest", "CRC32C"},
                                       {"ImmediateData", "Yes"},
                                       {"InitialR2T", "Yes"},
                                       {"FirstBurstLength", "262144"},
                                       {"MaxBurstLength", "1048576"},
                                       {"MaxRecvDataSegmentLength", "131072"},
                                       {"TargetPortalGroupTag", "1"}};

TEST(DigestLogin, FirstRequestGoesStraightToFullFeatureWithTheBriefsKeys) {
    Login login(config(true, true));
    const Pdu req = login.first_request();
    EXPECT_EQ(req.bhs.opcode(), Opcode::login_request);
    EXPECT_TRUE(req.bhs.immediate());
    EXPECT_TRUE(req.bhs.transit());
    EXPECT_EQ(req.bhs.csg(), 1);
    EXPECT_EQ(req.bhs.nsg(), 3);
    EXPECT_EQ(req.bhs.tsih(), 0);
    EXPECT_EQ(req.bhs.cmd_sn(), 1u);
    const auto keys = keys_of(req);
    EXPECT_EQ(value_of(keys, "InitiatorName"), "iqn.2026-12.org.itd.test:i");
    EXPECT_EQ(value_of(keys, "TargetName"), "iqn.2026-12.org.itd.test:t");
    EXPECT_EQ(value_of(keys, "SessionType"), "Normal");
    EXPECT_EQ(value_of(keys, "HeaderDigest"), "CRC32C");
    EXPECT_EQ(value_of(keys, "DataDigest"), "CRC32C");
    EXPECT_EQ(value_of(keys, "ImmediateData"), "Yes");
    EXPECT_EQ(value_of(keys, "InitialR2T"), "Yes");
    EXPECT_EQ(value_of(keys, "MaxRecvDataSegmentLength"), "262144");
    EXPECT_EQ(value_of(keys, "FirstBurstLength"), "262144");
    EXPECT_EQ(value_of(keys, "MaxBurstLength"), "1048576");

    Login plain(config(false, false));
    const auto none = keys_of(plain.first_request());
    EXPECT_EQ(value_of(none, "HeaderDigest"), "None");
    EXPECT_EQ(value_of(none, "DataDigest"), "None");
}

TEST(DigestLogin, OneStepLoginRecordsWhatWasAgreed) {
    Login login(config(true, true));
    (void)login.first_request();
    auto next = login.on_response(response(kAgreed, true));
    ASSERT_TRUE(next) << next.error();
    EXPECT_FALSE(next->has_value());
    const Negotiated& n = login.negotiated();
    EXPECT_TRUE(n.header_digest);
    EXPECT_TRUE(n.data_digest);
    EXPECT_EQ(n.target_max_recv_data_segment_bytes, 131072u);
    EXPECT_EQ(n.first_burst_bytes, 262144u);
    EXPECT_EQ(n.max_burst_bytes, 1048576u);
    EXPECT_TRUE(n.immediate_data);
    EXPECT_TRUE(n.initial_r2t);
    EXPECT_EQ(login.tsih(), 0x1234);
    EXPECT_EQ(login.exp_stat_sn(), 8u);
    EXPECT_EQ(login.max_cmd_sn(), 64u);
}

TEST(DigestLogin, SmallerBurstsAndNoImmediateDataAreTaken) {
    Login login(config(false, false));
    (void)login.first_request();
    auto next = login.on_response(response({{"HeaderDigest", "None"},
                                            {"DataDigest", "None"},
                                            {"ImmediateData", "No"},
                                            {"FirstBurstLength", "65536"},
                                            {"MaxBurstLength", "0x40000"}},
                                           true));
    ASSERT_TRUE(next) << next.error();
    const Negotiated& n = login.negotiated();
    EXPECT_FALSE(n.immediate_data);
    EXPECT_EQ(n.first_burst_bytes, 65536u);
    EXPECT_EQ(n.max_burst_bytes, 262144u);
    EXPECT_EQ(n.target_max_recv_data_segment_bytes, 8192u) << "undeclared: the RFC default";
}

TEST(DigestLogin, ATargetThatRefusesADigestFailsTheLogin) {
    for (const char* key : {"HeaderDigest", "DataDigest"}) {
        Login login(config(true, true));
        (void)login.first_request();
        std::vector<TextPair> keys = kAgreed;
        for (auto& kv : keys)
            if (kv.key == key) kv.value = "None";
        auto next = login.on_response(response(keys, true));
        ASSERT_FALSE(next);
        EXPECT_NE(next.error().find(std::string(key) + "=CRC32C"), std::string::npos)
            << next.error();
        EXPECT_NE(next.error().find("None"), std::string::npos) << next.error();
    }
    // No answer at all is no agreement either.
    Login silent(config(true, false));
    (void)silent.first_request();
    auto next = silent.on_response(response({}, true));
    ASSERT_FALSE(next);
    EXPECT_NE(next.error().find("no answer"), std::string::npos) << next.error();
    // Nor is CRC32C forced on an initiator that offered None.
    Login pushy(config(false, false));
    (void)pushy.first_request();
    next = pushy.on_response(response({{"DataDigest", "CRC32C"}}, true));
    ASSERT_FALSE(next);
}

TEST(DigestLogin, MultiStepLoginAnswersTheTargetsOffers) {
    Login login(config(true, true));
    (void)login.first_request();
    // The target answers our keys, offers some of its own, and does not transit yet.
    std::vector<TextPair> first = kAgreed;
    first.push_back({"MaxOutstandingR2T", "4"});
    first.push_back({"ErrorRecoveryLevel", "1"});
    first.push_back({"X-com.example.Thing", "1"});
    auto next = login.on_response(response(first, false, 7));
    ASSERT_TRUE(next) << next.error();
    ASSERT_TRUE(next->has_value());
    const Pdu& req = **next;
    EXPECT_TRUE(req.bhs.transit());
    EXPECT_EQ(req.bhs.nsg(), 3);
    EXPECT_EQ(req.bhs.exp_stat_sn(), 8u);
    const auto answers = keys_of(req);
    EXPECT_EQ(value_of(answers, "MaxOutstandingR2T"), "4");
    EXPECT_EQ(value_of(answers, "ErrorRecoveryLevel"), "0");
    EXPECT_EQ(value_of(answers, "X-com.example.Thing"), "NotUnderstood");
    EXPECT_EQ(value_of(answers, "HeaderDigest"), "(absent)") << "answers are not re-offered";

    next = login.on_response(response({}, true, 8));
    ASSERT_TRUE(next) << next.error();
    EXPECT_FALSE(next->has_value());
    EXPECT_TRUE(login.negotiated().data_digest);
    EXPECT_EQ(login.negotiated().max_outstanding_r2t, 4u);
}

TEST(DigestLogin, ContinuedTextIsCollectedWithAnEmptyRequest) {
    Login login(config(true, true));
    (void)login.first_request();
    const std::vector<std::uint8_t> all = iscsi::encode_text(kAgreed);
    Pdu part1 = response({}, false, 7, true);
    part1.data.assign(all.begin(), all.begin() + 20);  // splits a key=value
    auto next = login.on_response(part1);
    ASSERT_TRUE(next) << next.error();
    ASSERT_TRUE(next->has_value());
    EXPECT_TRUE((*next)->data.empty());
    EXPECT_FALSE((*next)->bhs.transit());

    Pdu part2 = response({}, true, 8);
    part2.data.assign(all.begin() + 20, all.end());
    next = login.on_response(part2);
    ASSERT_TRUE(next) << next.error();
    EXPECT_FALSE(next->has_value());
    EXPECT_TRUE(login.negotiated().header_digest);
    EXPECT_EQ(login.negotiated().target_max_recv_data_segment_bytes, 131072u);
}

TEST(DigestLogin, FailureStatusIsSpelledOut) {
    Login login(config(true, true));
    (void)login.first_request();
    Pdu p = response({}, false);
    p.bhs.set_login_status(0x02, 0x03);
    auto next = login.on_response(p);
    ASSERT_FALSE(next);
    EXPECT_NE(next.error().find("target not found"), std::string::npos) << next.error();
}

TEST(DigestLogin, GivesUpOnATargetThatNeverTransits) {
    Login login(config(false, false));
    (void)login.first_request();
    std::expected<std::optional<Pdu>, std::string> next;
    for (unsigned i = 0; i <= kMaxLoginSteps; ++i) {
        next = login.on_response(response({}, false, i));
        if (!next) break;
    }
    ASSERT_FALSE(next);
    EXPECT_NE(next.error().find("did not finish"), std::string::npos) << next.error();
}

TEST(DigestLogin, BadDeclarationsAndForeignPdusFail) {
    Login login(config(false, false));
    (void)login.first_request();
    EXPECT_FALSE(login.on_response(response({{"MaxRecvDataSegmentLength", "100"}}, true)));
    Login other(config(false, false));
    (void)other.first_request();
    Pdu nop;
    nop.bhs.set_opcode(Opcode::nop_in);
    EXPECT_FALSE(other.on_response(nop));
}

}  // namespace
}  // namespace itd::load
