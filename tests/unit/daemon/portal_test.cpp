#include <gtest/gtest.h>

#include "daemon/config.h"

namespace itd::daemon {
namespace {

Portal portal(std::string_view text) {
    auto p = parse_portal(text);
    EXPECT_TRUE(p) << text << ": " << (p ? "" : p.error().message);
    return p.value_or(Portal{"<error>", 0});
}

TEST(ParsePortal, Ipv4) {
    EXPECT_EQ(portal("127.0.0.1:3260"), (Portal{"127.0.0.1", 3260}));
    EXPECT_EQ(portal("0.0.0.0:3260"), (Portal{"0.0.0.0", 3260}));
    EXPECT_EQ(portal("10.1.2.3:1"), (Portal{"10.1.2.3", 1}));
    EXPECT_EQ(portal("10.1.2.3:65535"), (Portal{"10.1.2.3", 65535}));
    EXPECT_EQ(portal("192.168.0.1"), (Portal{"192.168.0.1", 3260}));
}

TEST(ParsePortal, Ipv6InBrackets) {
    EXPECT_EQ(portal("[::1]:3260"), (Portal{"::1", 3260}));
    EXPECT_EQ(portal("[::]:3261"), (Portal{"::", 3261}));
    EXPECT_EQ(portal("[fd00::1:2]:860"), (Portal{"fd00::1:2", 860}));
    EXPECT_EQ(portal("[::ffff:127.0.0.1]:3260"), (Portal{"::ffff:127.0.0.1", 3260}));
    EXPECT_EQ(portal("[fe80::1%eth0]:3260"), (Portal{"fe80::1%eth0", 3260}));
    EXPECT_EQ(portal("[::1]"), (Portal{"::1", 3260}));
}

TEST(ParsePortal, PortOnlyMeansEveryAddress) {
    EXPECT_EQ(portal(":3260"), (Portal{"::", 3260}));
    EXPECT_EQ(portal("3261"), (Portal{"::", 3261}));
}

TEST(ParsePortal, Errors) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "empty"},
        {"::1", "write an IPv6 address in brackets, e.g. [::1]:3260"},
        {"::1:3260", "write an IPv6 address in brackets, e.g. [::1]:3260"},
        {"[::1", "missing ']'"},
        {"[::1]3260", "expected ':PORT' after ']'"},
        {"[::1]:", "missing port after ':'"},
        {"127.0.0.1:", "missing port after ':'"},
        {"127.0.0.1:65536", "port must be a number in 0..65535"},
        {"127.0.0.1:-1", "port must be a number in 0..65535"},
        {"127.0.0.1:http", "port must be a number in 0..65535"},
        {"[127.0.0.1]:3260", "not an IPv6 address"},
        {"[]:3260", "not an IPv6 address"},
        {"[fe80::1%]:3260", "not an IPv6 address"},
        {"localhost:3260", "not an IPv4 address (IPv6: [::1]:3260; host names are not accepted)"},
        {"256.0.0.1:3260", "not an IPv4 address (IPv6: [::1]:3260; host names are not accepted)"},
    };
    for (const auto& [text, why] : cases) {
        auto p = parse_portal(text);
        ASSERT_FALSE(p) << text;
        EXPECT_EQ(p.error().code, Errc::invalid_argument);
        EXPECT_EQ(p.error().message, "invalid listen address '" + std::string(text) + "': " + why);
    }
}

TEST(PortalToString, BracketsIpv6) {
    EXPECT_EQ(to_string(Portal{"127.0.0.1", 3260}), "127.0.0.1:3260");
    EXPECT_EQ(to_string(Portal{"::", 3260}), "[::]:3260");
    EXPECT_EQ(to_string(Portal{"fe80::1%eth0", 860}), "[fe80::1%eth0]:860");
}

}  // namespace
}  // namespace itd::daemon
