// Allow lists and CHAP requirements as the connection applies them (connection.cpp
// login_config() and handle_text()): 0x0202 for an initiator not on the list, SendTargets
// without the targets it may not use, 0x0201 for a login that skips required CHAP.
#include <gtest/gtest.h>

#include "connection_harness.h"

namespace itd::iscsi {
namespace {

using testing::Harness;
using testing::kTargetName;
using testing::text;
using testing::wire;

constexpr const char* kInitiator = "iqn.2026-11.org.itd.test:initiator";  // the harness's

AllowRule rule(const char* text) { return parse_allow_rule(text).value(); }

// One operational-stage login request; returns the single response.
Pdu try_login(Harness& h, const char* session_type = "Normal") {
    std::map<std::string, std::string> keys = {{"InitiatorName", kInitiator},
                                               {"SessionType", session_type}};
    if (std::string_view(session_type) == "Normal") keys["TargetName"] = kTargetName;
    Bhs bhs;
    bhs.set_opcode(Opcode::login_request, true);
    bhs.set_flags(flag::transit | (1 << 2) | 3);
    bhs.set_isid(0x23d000000001ull);
    bhs.set_itt(0x1000);
    h.feed(wire(bhs, text(keys)));
    auto out = h.sent();
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? Pdu{} : out.back();
}

TEST(ConnectionAcl, InitiatorNotOnTheListIsRefused) {
    Harness h;
    h.portal_group.targets[0].allow = {rule("iqn.2026-11.org.itd.test:someone-else"),
                                       rule("10.0.0.0/8")};
    h.conn->set_peer_address("127.0.0.1");
    Pdu r = try_login(h);
    EXPECT_EQ(r.bhs.status_class(), 0x02);
    EXPECT_EQ(r.bhs.status_detail(), 0x02);
    EXPECT_TRUE(h.conn->closing());
}

TEST(ConnectionAcl, NameOrAddressAdmits) {
    {
        Harness h;
        h.portal_group.targets[0].allow = {rule(kInitiator)};
        EXPECT_EQ(try_login(h).bhs.status_class(), 0);
    }
    {
        Harness h;
        h.portal_group.targets[0].allow = {rule("127.0.0.0/8")};
        h.conn->set_peer_address("::ffff:127.0.0.1");  // a dual-stack listener's IPv4 peer
        EXPECT_EQ(try_login(h).bhs.status_class(), 0);
    }
}

TEST(ConnectionAcl, SendTargetsListsOnlyAllowedTargets) {
    Harness h;
    TargetEntry hidden = h.portal_group.targets[0];
    hidden.name = "iqn.2026-11.org.itd.test:hidden";
    hidden.allow = {rule("iqn.2026-11.org.itd.test:someone-else")};
    h.portal_group.targets.push_back(hidden);
    h.conn->set_peer_address("127.0.0.1");
    ASSERT_EQ(try_login(h, "Discovery").bhs.status_class(), 0);
    Bhs req;
    req.set_opcode(Opcode::text_request, true);
    req.set_flags(flag::final_bit);
    req.set_itt(90);
    req.set_ttt(kReservedTag);
    req.set_cmd_sn(h.cmd_sn);
    h.feed(wire(req, text({{"SendTargets", "All"}})));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    const std::string all(out[0].data.begin(), out[0].data.end());
    EXPECT_NE(all.find(std::string("TargetName=") + kTargetName), std::string::npos);
    EXPECT_EQ(all.find("hidden"), std::string::npos);
}

TEST(ConnectionAcl, ChapTargetRefusesALoginWithoutAuthentication) {
    Harness h;
    h.portal_group.targets[0].security.chap = ChapCredentials{"alice", "alice-secret-123"};
    Pdu r = try_login(h);
    EXPECT_EQ(r.bhs.status_class(), 0x02);
    EXPECT_EQ(r.bhs.status_detail(), 0x01);
    // Discovery has its own credentials (none here), so it still works.
    Harness d;
    d.portal_group.targets[0].security.chap = ChapCredentials{"alice", "alice-secret-123"};
    EXPECT_EQ(try_login(d, "Discovery").bhs.status_class(), 0);
    Harness e;
    e.portal_group.discovery_security.chap = ChapCredentials{"bob", "bob-secret-12345"};
    EXPECT_EQ(try_login(e, "Discovery").bhs.status_detail(), 0x01);
}

}  // namespace
}  // namespace itd::iscsi
