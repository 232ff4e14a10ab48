#include <gtest/gtest.h>

#include <map>

#include "iscsi/negotiation.h"

namespace itd::iscsi {
namespace {

using Answers = std::map<std::string, std::string>;

struct Nego {
    Negotiator n;
    explicit Nego(TargetLimits l = {}) : n(l) {}

    // Negotiates in the operational stage; returns the answers keyed by name.
    Answers op(std::vector<TextPair> pairs, bool expect_ok = true) {
        std::vector<TextPair> out;
        auto r = n.on_request(pairs, Stage::operational, out);
        EXPECT_EQ(r.has_value(), expect_ok);
        Answers a;
        for (auto& p : out) {
            EXPECT_FALSE(a.contains(p.key)) << "answered twice: " << p.key;
            a[p.key] = p.value;
        }
        return a;
    }
};

TEST(Negotiation, DefaultsWhenNothingSent) {
    Nego r;
    const auto& p = r.n.params();
    EXPECT_FALSE(p.header_digest);
    EXPECT_FALSE(p.data_digest);
    EXPECT_TRUE(p.initial_r2t);
    EXPECT_TRUE(p.immediate_data);
    EXPECT_EQ(p.max_burst_bytes, 262144u);
    EXPECT_EQ(p.first_burst_bytes, 65536u);
    EXPECT_EQ(p.initiator_max_recv_data_segment_bytes, 8192u);
    EXPECT_EQ(p.target_max_recv_data_segment_bytes, 8192u);
    EXPECT_EQ(p.max_outstanding_r2t, 1u);
    EXPECT_EQ(p.default_time2wait_s, 2u);
    EXPECT_EQ(p.default_time2retain_s, 20u);
    EXPECT_EQ(p.session_type, SessionType::normal);
}

TEST(Negotiation, DigestListPicksFirstSupported) {
    Nego r;
    auto a = r.op({{"HeaderDigest", "CRC32C,None"}, {"DataDigest", "None,CRC32C"}});
    EXPECT_EQ(a["HeaderDigest"], "CRC32C");
    EXPECT_EQ(a["DataDigest"], "None");
    EXPECT_TRUE(r.n.params().header_digest);
    EXPECT_FALSE(r.n.params().data_digest);
}

TEST(Negotiation, DigestNotAllowedFallsToNoneOrReject) {
    TargetLimits l;
    l.header_digest_allowed = false;
    Nego r(l);
    auto a = r.op({{"HeaderDigest", "CRC32C,None"}, {"DataDigest", "MD5,CRC32C"}});
    EXPECT_EQ(a["HeaderDigest"], "None");
    EXPECT_EQ(a["DataDigest"], "CRC32C");
    Nego r2(l);
    EXPECT_EQ(r2.op({{"HeaderDigest", "CRC32C"}})["HeaderDigest"], "Reject");
    EXPECT_FALSE(r2.n.params().header_digest);
}

TEST(Negotiation, NumericMinimumAndMaximum) {
    Nego r;
    auto a = r.op({{"MaxBurstLength", "16776192"},
                   {"FirstBurstLength", "4096"},
                   {"MaxOutstandingR2T", "64"},
                   {"DefaultTime2Wait", "0"},
                   {"DefaultTime2Retain", "0"},
                   {"ErrorRecoveryLevel", "2"},
                   {"MaxConnections", "8"},
                   {"iSCSIProtocolLevel", "2"}});
    EXPECT_EQ(a["MaxBurstLength"], "1048576");
    EXPECT_EQ(a["FirstBurstLength"], "4096");
    EXPECT_EQ(a["MaxOutstandingR2T"], "16");
    EXPECT_EQ(a["DefaultTime2Wait"], "2");  // maximum
    EXPECT_EQ(a["DefaultTime2Retain"], "0");
    EXPECT_EQ(a["ErrorRecoveryLevel"], "0");
    EXPECT_EQ(a["MaxConnections"], "1");
    EXPECT_EQ(a["iSCSIProtocolLevel"], "1");
    EXPECT_EQ(r.n.params().max_burst_bytes, 1048576u);
    EXPECT_EQ(r.n.params().max_outstanding_r2t, 16u);
}

TEST(Negotiation, OutOfRangeOrMalformedNumbersAreRejected) {
    for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"MaxBurstLength", "511"}, {"MaxBurstLength", "16777216"},
             {"FirstBurstLength", "x"}, {"MaxOutstandingR2T", "0"},
             {"ErrorRecoveryLevel", "3"}, {"DefaultTime2Wait", "3601"},
             {"MaxConnections", "0"}, {"iSCSIProtocolLevel", "32"},
             {"InitialR2T", "maybe"}, {"ImmediateData", ""}}) {
        Nego r;
        auto before = r.n.params();
        auto a = r.op({{key, value}});
        EXPECT_EQ(a[key], "Reject") << key << "=" << value;
        EXPECT_EQ(r.n.params().max_burst_bytes, before.max_burst_bytes);
    }
}

TEST(Negotiation, FirstBurstNeverExceedsMaxBurst) {
    Nego r;
    auto a = r.op({{"FirstBurstLength", "65536"}, {"MaxBurstLength", "16384"}});
    EXPECT_EQ(a["MaxBurstLength"], "16384");
    EXPECT_EQ(a["FirstBurstLength"], "16384");
    EXPECT_EQ(r.n.params().first_burst_bytes, 16384u);
}

TEST(Negotiation, FirstBurstIrrelevantWithInitialR2TAndNoImmediateData) {
    Nego r;
    auto a = r.op({{"InitialR2T", "Yes"}, {"ImmediateData", "No"}, {"FirstBurstLength", "8192"}});
    EXPECT_EQ(a["FirstBurstLength"], "Irrelevant");
    EXPECT_EQ(a["InitialR2T"], "Yes");
    EXPECT_EQ(a["ImmediateData"], "No");
}

TEST(Negotiation, BooleanOrAnd) {
    Nego r;  // we allow InitialR2T=No and ImmediateData=Yes
    auto a = r.op({{"InitialR2T", "No"}, {"ImmediateData", "Yes"}, {"DataPDUInOrder", "No"},
                   {"DataSequenceInOrder", "No"}});
    EXPECT_EQ(a["InitialR2T"], "No");
    EXPECT_EQ(a["ImmediateData"], "Yes");
    EXPECT_EQ(a["DataPDUInOrder"], "Yes");  // OR with our Yes
    EXPECT_EQ(a["DataSequenceInOrder"], "Yes");
    TargetLimits strict;
    strict.initial_r2t = true;
    strict.immediate_data = false;
    Nego s(strict);
    auto b = s.op({{"InitialR2T", "No"}, {"ImmediateData", "Yes"}});
    EXPECT_EQ(b["InitialR2T"], "Yes");
    EXPECT_EQ(b["ImmediateData"], "No");
}

TEST(Negotiation, MaxRecvDataSegmentLengthIsDeclaredBothWays) {
    Nego r;
    auto a = r.op({{"MaxRecvDataSegmentLength", "65536"}});
    EXPECT_FALSE(a.contains("MaxRecvDataSegmentLength"));  // a declaration is not answered
    EXPECT_EQ(r.n.params().initiator_max_recv_data_segment_bytes, 65536u);
    std::vector<TextPair> out;
    EXPECT_FALSE(r.n.target_keys(out));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], (TextPair{"MaxRecvDataSegmentLength", "262144"}));
    EXPECT_EQ(r.n.params().target_max_recv_data_segment_bytes, 262144u);
    out.clear();
    r.n.target_keys(out);
    EXPECT_TRUE(out.empty()) << "declared once";
}

TEST(Negotiation, BadMaxRecvDataSegmentLengthFails) {
    for (auto v : {"511", "16777216", "lots"}) {
        Nego r;
        r.op({{"MaxRecvDataSegmentLength", v}}, false);
    }
}

TEST(Negotiation, ObsoleteMarkersTaskReportingAndUnknownKeys) {
    Nego r;
    auto a = r.op({{"OFMarker", "No"}, {"IFMarker", "Yes"}, {"OFMarkInt", "2048~8192"},
                   {"IFMarkInt", "1"}, {"TaskReporting", "FastAbort,RFC3720"},
                   {"X-com.example.Foo", "1"}, {"X#com.example.Bar", "1"}, {"Nonsense", "1"}});
    EXPECT_EQ(a["OFMarker"], "No");
    EXPECT_EQ(a["IFMarker"], "No");
    EXPECT_EQ(a["OFMarkInt"], "Reject");
    EXPECT_EQ(a["IFMarkInt"], "Reject");
    EXPECT_EQ(a["TaskReporting"], "RFC3720");
    EXPECT_EQ(a["X-com.example.Foo"], "NotUnderstood");
    EXPECT_EQ(a["X#com.example.Bar"], "NotUnderstood");
    EXPECT_EQ(a["Nonsense"], "NotUnderstood");
    Nego r2;
    EXPECT_EQ(r2.op({{"TaskReporting", "FastAbort"}})["TaskReporting"], "Reject");
}

TEST(Negotiation, DiscoveryMakesSessionKeysIrrelevant) {
    Nego r;
    // SessionType is applied first even when it comes last.
    auto a = r.op({{"MaxBurstLength", "262144"}, {"InitialR2T", "No"}, {"HeaderDigest", "None"},
                   {"SessionType", "Discovery"}});
    EXPECT_EQ(a["MaxBurstLength"], "Irrelevant");
    EXPECT_EQ(a["InitialR2T"], "Irrelevant");
    EXPECT_EQ(a["HeaderDigest"], "None");
    EXPECT_EQ(r.n.params().session_type, SessionType::discovery);
}

TEST(Negotiation, Declarations) {
    Nego r;
    auto a = r.op({{"InitiatorName", "iqn.a"}, {"TargetName", "iqn.t"}, {"InitiatorAlias", "host"}});
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(r.n.params().initiator_name, "iqn.a");
    EXPECT_EQ(r.n.params().target_name, "iqn.t");
    EXPECT_EQ(r.n.params().initiator_alias, "host");
    Nego r2;
    r2.op({{"InitiatorName", ""}}, false);
    Nego r3;
    r3.op({{"InitiatorName", std::string(224, 'n')}}, false);
}

TEST(Negotiation, InitiatorErrors) {
    for (auto kv : std::vector<TextPair>{{"TargetAlias", "x"}, {"TargetAddress", "1.2.3.4"},
                                         {"TargetPortalGroupTag", "1"}, {"SendTargets", "All"},
                                         {"AuthMethod", "None"}, {"CHAP_A", "5"}}) {
        Nego r;
        std::vector<TextPair> out;
        auto res = r.n.on_request(std::vector<TextPair>{kv}, Stage::operational, out);
        ASSERT_FALSE(res) << kv.key;
        EXPECT_EQ(res.error(), NegotiationError::initiator_error);
    }
}

TEST(Negotiation, UnsupportedSessionType) {
    Nego r;
    std::vector<TextPair> out;
    auto res = r.n.on_request(std::vector<TextPair>{{"SessionType", "Weird"}}, Stage::operational, out);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), NegotiationError::session_type_not_supported);
}

TEST(Negotiation, OperationalKeysNotInSecurityStage) {
    Nego r;
    std::vector<TextPair> out;
    EXPECT_TRUE(r.n.on_request(std::vector<TextPair>{{"InitiatorName", "iqn.a"}, {"AuthMethod", "None"},
                                                     {"CHAP_A", "5"}},
                               Stage::security, out));
    EXPECT_FALSE(r.n.on_request(std::vector<TextPair>{{"MaxBurstLength", "512"}}, Stage::security, out));
}

TEST(Negotiation, RepeatsSameValueOkDifferentValueFails) {
    Nego r;
    r.op({{"InitiatorName", "iqn.a"}, {"MaxBurstLength", "65536"}, {"OFMarker", "No"}});
    auto a = r.op({{"InitiatorName", "iqn.a"}, {"MaxBurstLength", "65536"}, {"OFMarker", "No"}});
    EXPECT_EQ(a["MaxBurstLength"], "65536");
    EXPECT_EQ(a["OFMarker"], "No");
    EXPECT_FALSE(a.contains("InitiatorName"));
    r.op({{"MaxBurstLength", "8192"}}, false);
    Nego r2;
    r2.op({{"InitiatorName", "iqn.a"}, {"InitiatorName", "iqn.b"}}, false);
}

TEST(Negotiation, TargetOffersWhereDefaultsExceedLimits) {
    TargetLimits l;
    l.immediate_data = false;
    l.max_burst_bytes = 16384;
    l.first_burst_bytes = 8192;
    Nego r(l);
    r.op({{"InitiatorName", "iqn.a"}});
    std::vector<TextPair> out;
    EXPECT_TRUE(r.n.target_keys(out));
    Answers a;
    for (auto& p : out) a[p.key] = p.value;
    EXPECT_EQ(a["ImmediateData"], "No");
    EXPECT_EQ(a["MaxBurstLength"], "16384");
    EXPECT_EQ(a["FirstBurstLength"], "8192");
    // The initiator's answers are not answered again.
    auto b = r.op({{"ImmediateData", "No"}, {"MaxBurstLength", "16384"}, {"FirstBurstLength", "8192"}});
    EXPECT_TRUE(b.empty());
    EXPECT_FALSE(r.n.offers_pending());
    EXPECT_FALSE(r.n.params().immediate_data);
    EXPECT_EQ(r.n.params().max_burst_bytes, 16384u);
    EXPECT_EQ(r.n.params().first_burst_bytes, 8192u);
}

}  // namespace
}  // namespace itd::iscsi
