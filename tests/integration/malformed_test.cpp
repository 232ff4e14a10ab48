// Malformed input over raw TCP: each bad connection gets a Reject or is dropped, and a
// libiscsi session open at the same time keeps working.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "client.h"

namespace itd_it {
namespace {

constexpr std::uint8_t kReject = 0x3f;

// Logs a raw connection in to the target; returns false on failure.
bool raw_login(RawConnection& c) {
    const std::vector<std::string> keys = {
        "InitiatorName=iqn.2026-11.org.itd.test:raw", "TargetName=" + target(),
        "SessionType=Normal", "HeaderDigest=None", "DataDigest=None",
        "MaxRecvDataSegmentLength=8192"};
    if (!c.send_all(login_pdu(keys, 1))) return false;
    auto resp = c.read_pdu();
    return resp && ((*resp)[0] & 0x3f) == 0x23 && (*resp)[36] == 0 && ((*resp)[1] & 0x80) &&
           ((*resp)[1] & 0x03) == 3;
}

// A libiscsi session that must keep working while raw connections misbehave.
void expect_bystander_works(iscsi_context* ctx) {
    Task t(iscsi_testunitready_sync(ctx, lun()));
    ASSERT_NE(t, nullptr) << iscsi_get_error(ctx);
    EXPECT_EQ(t->status, SCSI_STATUS_GOOD);
}

class Malformed : public ::testing::Test {
protected:
    void SetUp() override {
        bystander_ = connect({.initiator = "iqn.2026-11.org.itd.test:bystander"});
        ASSERT_NE(bystander_, nullptr);
        // The first command after login meets the power-on unit attention.
        Task t(iscsi_testunitready_sync(bystander_.get(), lun()));
    }
    void TearDown() override {
        if (bystander_) expect_bystander_works(bystander_.get());
    }
    Context bystander_;
};

TEST_F(Malformed, UnknownOpcodeGetsReject) {
    RawConnection c;
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(raw_login(c));
    std::vector<std::uint8_t> bogus(48, 0);
    bogus[0] = 0x1c;  // no such initiator opcode
    bogus[1] = 0x80;
    ASSERT_TRUE(c.send_all(bogus));
    auto resp = c.read_pdu();
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ((*resp)[0] & 0x3f, kReject);
    EXPECT_EQ((*resp)[2], 0x05);  // command not supported
    ASSERT_EQ(resp->size(), 96u);  // the rejected header comes back
    EXPECT_EQ((*resp)[48], 0x1c);
}

TEST_F(Malformed, DataSegmentBeyondTheLimitDropsTheConnection) {
    RawConnection c;
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(raw_login(c));
    std::vector<std::uint8_t> nop(48, 0);
    nop[0] = 0x40;  // NOP-Out, immediate
    nop[1] = 0x80;
    nop[5] = 0xff;  // DataSegmentLength 16 MiB - 1: beyond what we declared
    nop[6] = 0xff;
    nop[7] = 0xff;
    std::memset(&nop[20], 0xff, 4);  // TTT
    ASSERT_TRUE(c.send_all(nop));
    EXPECT_TRUE(c.closed_within(5000));
}

TEST_F(Malformed, LoginInFullFeaturePhaseDropsTheConnection) {
    RawConnection c;
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(raw_login(c));
    ASSERT_TRUE(c.send_all(login_pdu({"InitiatorName=iqn.2026-11.org.itd.test:raw"}, 2)));
    EXPECT_TRUE(c.closed_within(5000));
}

TEST_F(Malformed, FirstPduNotALoginDropsTheConnection) {
    RawConnection c;
    ASSERT_TRUE(c.ok());
    std::vector<std::uint8_t> cmd(48, 0);
    cmd[0] = 0x01;  // SCSI Command before any login
    cmd[1] = 0x80;
    ASSERT_TRUE(c.send_all(cmd));
    EXPECT_TRUE(c.closed_within(5000));
}

TEST_F(Malformed, RandomBytesAreAnsweredOrDropped) {
    std::mt19937 rng(42);
    for (int round = 0; round < 20; ++round) {
        RawConnection c;
        ASSERT_TRUE(c.ok());
        const bool logged_in = round % 2 == 0 && raw_login(c);
        std::vector<std::uint8_t> junk(48 * (1 + rng() % 8));
        for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
        if (!c.send_all(junk)) continue;
        // Whatever comes back must be whole PDUs until the target closes or goes quiet.
        for (int i = 0; i < 16; ++i) {
            auto resp = c.read_pdu(200);
            if (!resp) break;
            const std::uint8_t op = (*resp)[0] & 0x3f;
            EXPECT_TRUE(op >= 0x20) << "target opcodes only, got " << int(op);
        }
        (void)logged_in;
    }
}

}  // namespace
}  // namespace itd_it
