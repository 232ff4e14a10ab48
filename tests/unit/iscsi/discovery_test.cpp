#include <gtest/gtest.h>

#include <string>

#include "iscsi/discovery.h"

namespace itd::iscsi {
namespace {

using namespace std::string_literals;

std::string as_string(const std::vector<std::uint8_t>& v) { return {v.begin(), v.end()}; }

const std::vector<TargetRecord> kTargets = {
    {"iqn.2026-11.org.example:a", {"10.0.0.1:3260,1", "[fd00::1]:3260,1"}},
    {"iqn.2026-11.org.example:b", {"10.0.0.1:3260,1"}},
};

TEST(SendTargets, AllInDiscoverySession) {
    EXPECT_EQ(as_string(send_targets("All", kTargets, true)),
              "TargetName=iqn.2026-11.org.example:a\0"
                          "TargetAddress=10.0.0.1:3260,1\0"
                          "TargetAddress=[fd00::1]:3260,1\0"
                          "TargetName=iqn.2026-11.org.example:b\0"
                          "TargetAddress=10.0.0.1:3260,1\0"s);
}

TEST(SendTargets, AllInNormalSessionIsRejected) {
    EXPECT_EQ(as_string(send_targets("All", kTargets, false)), "SendTargets=Reject\0"s);
}

TEST(SendTargets, OneName) {
    EXPECT_EQ(as_string(send_targets("iqn.2026-11.org.example:b", kTargets, true)),
              "TargetName=iqn.2026-11.org.example:b\0TargetAddress=10.0.0.1:3260,1\0"s);
    EXPECT_EQ(send_targets("iqn.other", kTargets, true).size(), 0u);
}

TEST(SendTargets, EmptyValueIsTheSessionsTarget) {
    std::vector<TargetRecord> own = {kTargets[1]};
    EXPECT_EQ(as_string(send_targets("", own, false)),
              "TargetName=iqn.2026-11.org.example:b\0TargetAddress=10.0.0.1:3260,1\0"s);
    EXPECT_EQ(send_targets("", kTargets, true).size(), 0u);
}

}  // namespace
}  // namespace itd::iscsi
