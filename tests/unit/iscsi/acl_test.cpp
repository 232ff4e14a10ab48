#include <gtest/gtest.h>

#include <vector>

#include "iscsi/acl.h"

namespace itd::iscsi {
namespace {

std::vector<AllowRule> rules(std::initializer_list<const char*> texts) {
    std::vector<AllowRule> out;
    for (const char* t : texts) {
        auto r = parse_allow_rule(t);
        EXPECT_TRUE(r) << t;
        if (r) out.push_back(*r);
    }
    return out;
}

constexpr const char* kHost = "iqn.2026-11.org.example:host1";

TEST(Acl, EmptyListAdmitsEveryone) {
    EXPECT_TRUE(acl_allows({}, kHost, "10.1.2.3"));
    EXPECT_TRUE(acl_allows({}, "", ""));
}

TEST(Acl, NamesMatchCaseInsensitively) {
    auto r = rules({"iqn.2026-11.org.example:host1", "eui.0123456789ABCDEF"});
    EXPECT_TRUE(acl_allows(r, kHost, "10.1.2.3"));
    EXPECT_TRUE(acl_allows(r, "IQN.2026-11.ORG.EXAMPLE:HOST1", ""));
    EXPECT_TRUE(acl_allows(r, "eui.0123456789abcdef", ""));
    EXPECT_FALSE(acl_allows(r, "iqn.2026-11.org.example:host2", "10.1.2.3"));
    EXPECT_FALSE(acl_allows(r, "iqn.2026-11.org.example:host", ""));
    EXPECT_FALSE(acl_allows(r, "iqn.2026-11.org.example:host11", ""));
}

TEST(Acl, Ipv4AddressesAndPrefixes) {
    auto r = rules({"127.0.0.1", "10.0.0.0/8", "192.168.1.128/25"});
    EXPECT_TRUE(acl_allows(r, kHost, "127.0.0.1"));
    EXPECT_FALSE(acl_allows(r, kHost, "127.0.0.2"));
    EXPECT_TRUE(acl_allows(r, kHost, "10.255.0.1"));
    EXPECT_FALSE(acl_allows(r, kHost, "11.0.0.1"));
    EXPECT_TRUE(acl_allows(r, kHost, "192.168.1.200"));
    EXPECT_FALSE(acl_allows(r, kHost, "192.168.1.127"));
    EXPECT_FALSE(acl_allows(r, kHost, ""));
    EXPECT_FALSE(acl_allows(r, kHost, "not-an-address"));
    EXPECT_TRUE(acl_allows(rules({"0.0.0.0/0"}), kHost, "8.8.8.8"));
    EXPECT_FALSE(acl_allows(rules({"0.0.0.0/0"}), kHost, "2001:db8::1"));
}

TEST(Acl, V4MappedPeersMatchIpv4Rules) {
    // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
    auto r = rules({"127.0.0.1", "10.0.0.0/8"});
    EXPECT_TRUE(acl_allows(r, kHost, "::ffff:127.0.0.1"));
    EXPECT_TRUE(acl_allows(r, kHost, "::ffff:10.9.8.7"));
    EXPECT_FALSE(acl_allows(r, kHost, "::ffff:11.0.0.1"));
    EXPECT_TRUE(acl_allows(rules({"::ffff:127.0.0.1"}), kHost, "127.0.0.1"));
}

TEST(Acl, Ipv6AddressesAndPrefixes) {
    auto r = rules({"::1", "fd00::/8", "2001:db8:1::/48"});
    EXPECT_TRUE(acl_allows(r, kHost, "::1"));
    EXPECT_FALSE(acl_allows(r, kHost, "::2"));
    EXPECT_FALSE(acl_allows(r, kHost, "127.0.0.1"));  // ::1 is not IPv4 loopback
    EXPECT_TRUE(acl_allows(r, kHost, "fd12:3456::7"));
    EXPECT_FALSE(acl_allows(r, kHost, "fe80::1"));
    EXPECT_TRUE(acl_allows(r, kHost, "2001:db8:1:ffff::1"));
    EXPECT_FALSE(acl_allows(r, kHost, "2001:db8:2::1"));
    EXPECT_TRUE(acl_allows(rules({"fe80::/10"}), kHost, "fe80::1%eth0"));
}

TEST(Acl, NameOrAddressEitherAdmits) {
    auto r = rules({kHost, "10.0.0.0/8"});
    EXPECT_TRUE(acl_allows(r, "iqn.2026-11.org.example:other", "10.0.0.5"));
    EXPECT_TRUE(acl_allows(r, kHost, "192.0.2.1"));
    EXPECT_FALSE(acl_allows(r, "iqn.2026-11.org.example:other", "192.0.2.1"));
}

TEST(Acl, RejectsMalformedRules) {
    for (const char* bad : {"", "host1", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x",
                            "10.0.0.0/-1", "10.0.0.256", "fe80::1%eth0", "iqn.", "iqn.a b",
                            "10.0.0.0/0008", "1.2.3"}) {
        EXPECT_FALSE(parse_allow_rule(bad)) << bad;
    }
    EXPECT_EQ(parse_allow_rule("10.0.0.0/8")->prefix_bits, 104u);
    EXPECT_EQ(parse_allow_rule("::1")->prefix_bits, 128u);
}

}  // namespace
}  // namespace itd::iscsi
