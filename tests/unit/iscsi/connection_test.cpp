#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "connection_harness.h"

namespace itd::iscsi::testing {
namespace {

constexpr std::uint8_t kRead10 = 0x28;
constexpr std::uint8_t kWrite10 = 0x2a;
constexpr std::uint8_t kTestUnitReady = 0x00;

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

// Clears the power-on unit attention with one TEST UNIT READY.
void clear_unit_attention(Harness& h) {
    std::array<std::uint8_t, 6> tur{kTestUnitReady};
    h.feed(wire(scsi_command(h, 0x77, tur, 0, 0)));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::scsi_response);
}

// Reads back blocks and returns the data from the Data-In PDUs, checking their order.
std::vector<std::uint8_t> read_blocks(Harness& h, std::uint32_t itt, std::uint32_t lba,
                                      std::uint16_t blocks, std::uint32_t max_segment) {
    auto cdb = rw10(kRead10, lba, blocks);
    h.feed(wire(scsi_command(h, itt, cdb, flag::read, blocks * 512u)));
    std::vector<std::uint8_t> data;
    std::uint32_t expect_sn = 0;
    for (const auto& pdu : h.sent()) {
        EXPECT_EQ(pdu.bhs.opcode(), Opcode::data_in);
        EXPECT_EQ(pdu.bhs.data_sn(), expect_sn++);
        EXPECT_EQ(pdu.bhs.buffer_offset(), data.size());
        EXPECT_LE(pdu.data.size(), max_segment);
        data.insert(data.end(), pdu.data.begin(), pdu.data.end());
        if (data.size() == blocks * 512u) {
            EXPECT_TRUE(pdu.bhs.flags() & flag::status) << "status in the last Data-In";
            EXPECT_EQ(pdu.bhs.byte3(), 0);
        }
    }
    return data;
}

TEST(Connection, LoginThenTestUnitReadyReportsPowerOnOnce) {
    Harness h;
    login(h);
    std::array<std::uint8_t, 6> tur{kTestUnitReady};
    h.feed(wire(scsi_command(h, 1, tur, 0, 0)));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::scsi_response);
    EXPECT_EQ(out[0].bhs.byte3(), 0x02);  // CHECK CONDITION
    ASSERT_GE(out[0].data.size(), 2u + 13);
    EXPECT_EQ(out[0].data[2 + 2] & 0x0f, 0x06);  // UNIT ATTENTION
    EXPECT_EQ(out[0].data[2 + 12], 0x29);        // POWER ON, RESET...

    h.feed(wire(scsi_command(h, 2, tur, 0, 0)));
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.byte3(), 0x00);
    EXPECT_EQ(out[0].bhs.itt(), 2u);
    EXPECT_EQ(out[0].bhs.exp_cmd_sn(), h.cmd_sn);
}

// A write under InitialR2T=Yes without immediate data travels entirely in R2T bursts.
TEST(Connection, WriteUnderR2tThenReadBackAcrossSegments) {
    Harness h;
    LoginOptions o;
    o.immediate_data = "No";
    o.max_burst = "16384";
    login(h, o);
    clear_unit_attention(h);

    const std::uint16_t blocks = 100;  // 51200 bytes: four bursts, the last one short
    auto payload = random_bytes(blocks * 512u, 1);
    auto cdb = rw10(kWrite10, 8, blocks);
    h.feed(wire(scsi_command(h, 10, cdb, flag::write, blocks * 512u)));
    std::uint32_t offset = 0;
    for (int burst = 0; burst < 10 && offset < payload.size(); ++burst) {
        auto out = h.sent();
        ASSERT_EQ(out.size(), 1u);
        ASSERT_EQ(out[0].bhs.opcode(), Opcode::r2t);
        EXPECT_EQ(out[0].bhs.r2t_sn(), static_cast<std::uint32_t>(burst));
        EXPECT_EQ(out[0].bhs.buffer_offset(), offset);
        const std::uint32_t length = out[0].bhs.desired_data_transfer_length();
        EXPECT_LE(length, 16384u);
        // Answer in 8 KiB Data-Out PDUs (the target's receive limit during this test).
        std::uint32_t sn = 0;
        for (std::uint32_t done = 0; done < length;) {
            const std::uint32_t n = std::min(8192u, length - done);
            std::vector<std::uint8_t> chunk(payload.begin() + offset + done,
                                            payload.begin() + offset + done + n);
            h.feed(wire(data_out(10, out[0].bhs.ttt(), sn++, offset + done, done + n == length), chunk));
            done += n;
        }
        offset += length;
    }
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::scsi_response);
    EXPECT_EQ(out[0].bhs.byte3(), 0x00);

    EXPECT_EQ(read_blocks(h, 11, 8, blocks, 8192), payload);
}

// The same bursts with the data segments read straight into the command's buffer, as the
// socket does for large Data-Out (receive_window / received_in_place).
TEST(Connection, WriteDataReadInPlace) {
    Harness h;
    LoginOptions o;
    o.immediate_data = "No";
    o.max_burst = "16384";
    login(h, o);
    clear_unit_attention(h);

    const std::uint16_t blocks = 100;
    auto payload = random_bytes(blocks * 512u, 2);
    h.feed(wire(scsi_command(h, 10, rw10(kWrite10, 8, blocks), flag::write, blocks * 512u)));
    std::uint32_t offset = 0;
    for (int burst = 0; burst < 10 && offset < payload.size(); ++burst) {
        auto out = h.sent();
        ASSERT_EQ(out.size(), 1u);
        ASSERT_EQ(out[0].bhs.opcode(), Opcode::r2t);
        const std::uint32_t length = out[0].bhs.desired_data_transfer_length();
        std::uint32_t sn = 0;
        for (std::uint32_t done = 0; done < length;) {
            const std::uint32_t n = std::min(8192u, length - done);
            std::vector<std::uint8_t> chunk(payload.begin() + offset + done,
                                            payload.begin() + offset + done + n);
            h.feed_in_place(
                wire(data_out(10, out[0].bhs.ttt(), sn++, offset + done, done + n == length), chunk));
            done += n;
        }
        offset += length;
    }
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::scsi_response);
    EXPECT_EQ(out[0].bhs.byte3(), 0x00);
    EXPECT_EQ(h.in_place_bytes, payload.size());
    EXPECT_EQ(read_blocks(h, 11, 8, blocks, 8192), payload);

    // Data-Out out of order (wrong offset) is not placed: it takes the checked path and fails
    // the command with a data phase error, and the block keeps the data written above.
    h.feed(wire(scsi_command(h, 12, rw10(kWrite10, 8, 1), flag::write, 512)));
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].bhs.opcode(), Opcode::r2t);
    const std::size_t before = h.in_place_bytes;
    h.feed_in_place(wire(data_out(12, out[0].bhs.ttt(), 0, 256, true),
                         std::vector<std::uint8_t>(256, 0xee)));
    EXPECT_EQ(h.in_place_bytes, before);
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::scsi_response);
    EXPECT_EQ(out[0].bhs.byte3(), 0x02);  // CHECK CONDITION
    auto first = std::vector<std::uint8_t>(payload.begin(), payload.begin() + 512);
    EXPECT_EQ(read_blocks(h, 13, 8, 1, 8192), first);
}

// Immediate data plus unsolicited Data-Out (InitialR2T=No) up to FirstBurstLength, then R2T.
TEST(Connection, WriteWithImmediateAndUnsolicitedData) {
    Harness h;
    LoginOptions o;
    o.initial_r2t = "No";
    o.first_burst = "16384";
    login(h, o);
    clear_unit_attention(h);

    const std::uint16_t blocks = 64;  // 32 KiB: 8 KiB immediate, 8 KiB unsolicited, 16 KiB R2T
    auto payload = random_bytes(blocks * 512u, 2);
    auto cdb = rw10(kWrite10, 0, blocks);
    std::vector<std::uint8_t> immediate(payload.begin(), payload.begin() + 8192);
    h.feed(wire(scsi_command(h, 20, cdb, flag::write, blocks * 512u, false), immediate));
    std::vector<std::uint8_t> unsolicited(payload.begin() + 8192, payload.begin() + 16384);
    h.feed(wire(data_out(20, kReservedTag, 0, 8192, true), unsolicited));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].bhs.opcode(), Opcode::r2t);
    EXPECT_EQ(out[0].bhs.buffer_offset(), 16384u);
    EXPECT_EQ(out[0].bhs.desired_data_transfer_length(), 16384u);
    const std::uint32_t ttt = out[0].bhs.ttt();
    h.feed(wire(data_out(20, ttt, 0, 16384, false),
                std::vector<std::uint8_t>(payload.begin() + 16384, payload.begin() + 24576)));
    h.feed(wire(data_out(20, ttt, 1, 24576, true),
                std::vector<std::uint8_t>(payload.begin() + 24576, payload.end())));
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::scsi_response);
    EXPECT_EQ(out[0].bhs.byte3(), 0x00);
    EXPECT_EQ(read_blocks(h, 21, 0, blocks, 8192), payload);
}

// Commands run in CmdSN order whatever order they arrive in (RFC 7143 4.2.2.1).
TEST(Connection, CommandsRunInCmdSnOrder) {
    Harness h;
    login(h);
    clear_unit_attention(h);
    auto first = random_bytes(512, 3);
    auto second = random_bytes(512, 4);
    auto cdb = rw10(kWrite10, 5, 1);
    auto a = scsi_command(h, 30, cdb, flag::write, 512);  // CmdSN n
    auto b = scsi_command(h, 31, cdb, flag::write, 512);  // CmdSN n+1, same block
    h.feed(wire(b, second));
    EXPECT_TRUE(h.sent().empty()) << "n+1 must wait for n";
    h.feed(wire(a, first));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].bhs.itt(), 30u);
    EXPECT_EQ(out[1].bhs.itt(), 31u);
    EXPECT_EQ(read_blocks(h, 32, 5, 1, 8192), second) << "the later CmdSN wrote last";
}

TEST(Connection, CommandOutsideWindowIsIgnored) {
    Harness h;
    auto resp = login(h);
    clear_unit_attention(h);
    std::array<std::uint8_t, 6> tur{kTestUnitReady};
    Bhs too_high = scsi_command(h, 40, tur, 0, 0);
    h.cmd_sn--;  // the command is ignored, so the initiator's next CmdSN stays the same
    too_high.set_cmd_sn(too_high.cmd_sn() + 100000);
    h.feed(wire(too_high));
    EXPECT_TRUE(h.sent().empty());
    Bhs too_low = scsi_command(h, 41, tur, 0, 0);
    h.cmd_sn--;
    too_low.set_cmd_sn(too_low.cmd_sn() - 1);
    h.feed(wire(too_low));
    EXPECT_TRUE(h.sent().empty());
    h.feed(wire(scsi_command(h, 42, tur, 0, 0)));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.itt(), 42u);
    EXPECT_FALSE(h.conn->closing());
}

TEST(Connection, WrongDataSnFailsTheCommandAndSessionGoesOn) {
    Harness h;
    LoginOptions o;
    o.immediate_data = "No";
    login(h, o);
    clear_unit_attention(h);
    auto cdb = rw10(kWrite10, 0, 2);
    h.feed(wire(scsi_command(h, 50, cdb, flag::write, 1024)));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].bhs.opcode(), Opcode::r2t);
    std::vector<std::uint8_t> half(512, 0xab);
    h.feed(wire(data_out(50, out[0].bhs.ttt(), 0, 0, false), half));
    h.feed(wire(data_out(50, out[0].bhs.ttt(), 0, 512, true), half));  // DataSN should be 1
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::scsi_response);
    EXPECT_EQ(out[0].bhs.byte3(), 0x02);
    ASSERT_GE(out[0].data.size(), 2u + 14);
    EXPECT_EQ(out[0].data[2 + 2] & 0x0f, 0x0b);  // ABORTED COMMAND
    EXPECT_EQ(out[0].data[2 + 12], 0x4b);        // DATA PHASE ERROR
    EXPECT_FALSE(h.conn->closing());
    // Nothing was written, and the session still serves commands.
    EXPECT_EQ(read_blocks(h, 51, 0, 2, 8192), std::vector<std::uint8_t>(1024, 0));
}

TEST(Connection, UnknownOpcodeIsRejectedAndSessionGoesOn) {
    Harness h;
    login(h);
    Bhs bogus;
    bogus.bytes()[0] = 0x1c;  // not an initiator opcode
    bogus.set_itt(60);
    h.feed(wire(bogus));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::reject);
    EXPECT_EQ(out[0].bhs.byte2(), 0x05);
    ASSERT_EQ(out[0].data.size(), kBhsBytes);
    EXPECT_EQ(out[0].data[0], 0x1c);
    EXPECT_FALSE(h.conn->closing());
    clear_unit_attention(h);
}

TEST(Connection, LoginInFullFeaturePhaseCloses) {
    Harness h;
    login(h);
    Bhs again;
    again.set_opcode(Opcode::login_request, true);
    again.set_flags(flag::transit | (1 << 2) | 3);
    h.feed(wire(again));
    EXPECT_TRUE(h.conn->closing());
}

TEST(Connection, OversizedDataSegmentCloses) {
    Harness h;
    login(h);
    Bhs nop;
    nop.set_opcode(Opcode::nop_out, true);
    nop.set_flags(flag::final_bit);
    nop.set_itt(70);
    nop.set_ttt(kReservedTag);
    nop.set_data_segment_length((1u << 24) - 1);  // beyond our MaxRecvDataSegmentLength
    std::vector<std::uint8_t> raw(nop.bytes().begin(), nop.bytes().end());
    h.conn->receive(raw);
    EXPECT_TRUE(h.conn->closing());
}

TEST(Connection, NopOutIsEchoed) {
    Harness h;
    login(h);
    Bhs nop;
    nop.set_opcode(Opcode::nop_out, true);
    nop.set_flags(flag::final_bit);
    nop.set_itt(80);
    nop.set_ttt(kReservedTag);
    nop.set_cmd_sn(h.cmd_sn);
    std::vector<std::uint8_t> ping = {'p', 'i', 'n', 'g', '!'};
    h.feed(wire(nop, ping));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::nop_in);
    EXPECT_EQ(out[0].bhs.itt(), 80u);
    EXPECT_EQ(out[0].data, ping);
}

TEST(Connection, DiscoverySessionAnswersSendTargetsAndRefusesScsi) {
    Harness h;
    LoginOptions o;
    o.session_type = "Discovery";
    login(h, o);
    Bhs req;
    req.set_opcode(Opcode::text_request, true);
    req.set_flags(flag::final_bit);
    req.set_itt(90);
    req.set_ttt(kReservedTag);
    req.set_cmd_sn(h.cmd_sn);
    h.feed(wire(req, text({{"SendTargets", "All"}})));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::text_response);
    EXPECT_EQ(text_value(out[0].data, "TargetName"), kTargetName);
    EXPECT_EQ(text_value(out[0].data, "TargetAddress"), "127.0.0.1:3260,1");

    std::array<std::uint8_t, 6> tur{kTestUnitReady};
    h.feed(wire(scsi_command(h, 91, tur, 0, 0)));
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::reject);
}

TEST(Connection, ByteAtATimeSessionWorks) {
    Harness h;
    login(h);
    clear_unit_attention(h);
    auto payload = random_bytes(4096, 5);
    auto cdb = rw10(kWrite10, 100, 8);
    h.feed(wire(scsi_command(h, 100, cdb, flag::write, 4096), payload), true);
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.byte3(), 0x00);
    EXPECT_EQ(read_blocks(h, 101, 100, 8, 8192), payload);
}

TEST(Connection, ResidualsFollowTheCdb) {
    Harness h;
    login(h);
    clear_unit_attention(h);
    // READ(10) of one block with EDTL 10000: underflow of 10000 - 512.
    auto cdb = rw10(kRead10, 0, 1);
    h.feed(wire(scsi_command(h, 110, cdb, flag::read, 10000)));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].data.size(), 512u);
    EXPECT_TRUE(out[0].bhs.flags() & flag::underflow);
    EXPECT_EQ(out[0].bhs.residual_count(), 10000u - 512);
    // READ(10) of two blocks with EDTL one block: overflow of one block.
    cdb = rw10(kRead10, 0, 2);
    h.feed(wire(scsi_command(h, 111, cdb, flag::read, 512)));
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].bhs.flags() & flag::overflow);
    EXPECT_EQ(out[0].bhs.residual_count(), 512u);
}

TEST(Connection, LogoutClosesAfterResponse) {
    Harness h;
    login(h);
    Bhs req;
    req.set_opcode(Opcode::logout_request, true);
    req.set_flags(flag::final_bit);
    req.set_itt(120);
    req.set_cmd_sn(h.cmd_sn);
    h.feed(wire(req));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::logout_response);
    EXPECT_EQ(out[0].bhs.byte2(), 0);
    EXPECT_TRUE(h.conn->closing());
}

TEST(Connection, SessionReinstatementClosesTheOldConnection) {
    Harness h;
    bool old_closed = false;
    h.conn->set_close_hook([&] { old_closed = true; });
    login(h);
    // Same initiator and ISID, TSIH 0: the old session is reinstated (RFC 7143 6.3.5).
    auto fresh = std::make_unique<Connection>(h.portal_group, h);
    auto old = std::exchange(h.conn, std::move(fresh));
    login(h);
    EXPECT_TRUE(old_closed);
    EXPECT_EQ(h.portal_group.sessions.size(), 1u);
}

}  // namespace
}  // namespace itd::iscsi::testing

namespace itd::iscsi::testing {
namespace {

// Commands waiting for their write data hold buffers; past the connection's budget a command
// is answered TASK SET FULL instead of reserving more memory.
TEST(Connection, BufferBudgetAnswersTaskSetFull) {
    Harness h;
    LoginOptions o;
    o.immediate_data = "No";
    login(h, o);
    clear_unit_attention(h);
    const std::uint32_t edtl = 16u << 20;
    int full = 0;
    for (std::uint32_t i = 0; i < 17; ++i) {
        auto cdb = rw10(kWrite10, 0, static_cast<std::uint16_t>(edtl / 512 > 0xffff ? 0xffff : edtl / 512));
        h.feed(wire(scsi_command(h, 1000 + i, cdb, flag::write, edtl)));
        for (const auto& pdu : h.sent())
            if (pdu.bhs.opcode() == Opcode::scsi_response && pdu.bhs.byte3() == 0x28) ++full;
    }
    EXPECT_EQ(full, 1) << "16 x 16 MiB fit in the 256 MiB budget, the 17th does not";
}

// A transfer larger than we buffer fails with INVALID FIELD IN CDB, and the session goes on.
TEST(Connection, OversizedTransferIsCheckCondition) {
    Harness h;
    login(h);
    clear_unit_attention(h);
    auto cdb = rw10(kRead10, 0, 0xffff);
    h.feed(wire(scsi_command(h, 2000, cdb, flag::read, 32u << 20)));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::scsi_response);
    EXPECT_EQ(out[0].bhs.byte3(), 0x02);
    ASSERT_GE(out[0].data.size(), 2u + 13);
    EXPECT_EQ(out[0].data[2 + 12], 0x24);  // INVALID FIELD IN CDB
    EXPECT_FALSE(h.conn->closing());
    clear_unit_attention(h);
}

}  // namespace
}  // namespace itd::iscsi::testing

namespace itd::iscsi::testing {
namespace {

Bhs abort_task(Harness& h, std::uint32_t itt, std::uint32_t ref_itt, std::uint32_t ref_cmd_sn) {
    Bhs bhs;
    bhs.set_opcode(Opcode::task_mgmt_request, true);
    bhs.set_flags(flag::final_bit | 1);  // ABORT TASK
    bhs.set_itt(itt);
    bhs.set_ttt(ref_itt);  // Referenced Task Tag sits where the TTT does
    bhs.set_cmd_sn(h.cmd_sn);
    store_be32(&bhs.bytes()[32], ref_cmd_sn);  // RefCmdSN
    return bhs;
}

// RFC 7143 11.6.1: aborting a command that already finished answers "task does not exist";
// aborting one not yet received, inside the window, answers "function complete" and the
// command is ignored if it arrives later.
TEST(Connection, AbortTaskOfFinishedAndOfNotYetReceivedCommands) {
    Harness h;
    login(h);
    clear_unit_attention(h);
    std::array<std::uint8_t, 6> tur{kTestUnitReady};
    const std::uint32_t done_sn = h.cmd_sn;
    h.feed(wire(scsi_command(h, 3000, tur, 0, 0)));
    ASSERT_EQ(h.sent().size(), 1u);
    h.feed(wire(abort_task(h, 3001, 3000, done_sn)));
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::task_mgmt_response);
    EXPECT_EQ(out[0].bhs.byte2(), 1) << "task does not exist";

    // The initiator sends ABORT TASK for CmdSN n before command n reaches us.
    const std::uint32_t lost_sn = h.cmd_sn++;
    h.feed(wire(abort_task(h, 3002, 3003, lost_sn)));
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.byte2(), 0) << "function complete";
    Bhs late = scsi_command(h, 3003, tur, 0, 0);
    late.set_cmd_sn(lost_sn);
    h.cmd_sn--;
    h.feed(wire(late));
    EXPECT_TRUE(h.sent().empty()) << "the aborted command is ignored when it arrives";
    h.feed(wire(scsi_command(h, 3004, tur, 0, 0)));
    out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.itt(), 3004u) << "and the window has moved past it";
}

Bhs target_reset(Harness& h, std::uint32_t itt, bool cold) {
    Bhs bhs;
    bhs.set_opcode(Opcode::task_mgmt_request, true);
    bhs.set_flags(flag::final_bit | (cold ? 7 : 6));  // TARGET COLD / WARM RESET
    bhs.set_itt(itt);
    bhs.set_ttt(kReservedTag);
    bhs.set_cmd_sn(h.cmd_sn);
    return bhs;
}

// Two sessions of one initiator (two ISIDs) on the harness's portal group: the harness's
// connection is the second; the first is kept aside with its own CmdSN.
struct TwoSessions {
    Harness h;
    std::unique_ptr<Connection> first;
    std::uint32_t first_cmd_sn = 0;
    bool first_closed = false;

    TwoSessions() {
        h.conn->set_close_hook([this] { first_closed = true; });
        login(h);
        clear_unit_attention(h);
        first = std::exchange(h.conn, std::make_unique<Connection>(h.portal_group, h));
        first_cmd_sn = std::exchange(h.cmd_sn, 1);
        LoginOptions second;
        second.isid = 0x23d000000002ull;
        login(h, second);
        clear_unit_attention(h);
    }
    // Runs TEST UNIT READY on the first session; returns the sense key (0: GOOD).
    std::uint8_t first_tur() {
        std::swap(h.conn, first);
        std::swap(h.cmd_sn, first_cmd_sn);
        std::array<std::uint8_t, 6> tur{kTestUnitReady};
        h.feed(wire(scsi_command(h, 0x4000 + h.cmd_sn, tur, 0, 0)));
        auto out = h.sent();
        std::swap(h.conn, first);
        std::swap(h.cmd_sn, first_cmd_sn);
        if (out.size() != 1 || out[0].bhs.opcode() != Opcode::scsi_response) return 0xff;
        if (out[0].bhs.byte3() == 0) return 0;
        return out[0].data.size() >= 2 + 3 ? out[0].data[2 + 2] & 0x0f : 0xfe;
    }
};

// SAM-5 7.13, RFC 7143 11.5.1: TARGET WARM RESET resets every LU: every session meets the
// reset unit attention, and both go on.
TEST(Connection, TargetWarmResetRaisesUnitAttentionOnEverySession) {
    TwoSessions s;
    s.h.feed(wire(target_reset(s.h, 0x5000, false)));
    auto out = s.h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::task_mgmt_response);
    EXPECT_EQ(out[0].bhs.byte2(), 0) << "function complete";
    EXPECT_FALSE(s.h.conn->closing());
    EXPECT_FALSE(s.first_closed);
    EXPECT_EQ(s.first_tur(), 0x6) << "UNIT ATTENTION on the other session";
    EXPECT_EQ(s.first_tur(), 0x0) << "reported once";
    std::array<std::uint8_t, 6> tur{kTestUnitReady};
    s.h.feed(wire(scsi_command(s.h, 0x5002, tur, 0, 0)));
    out = s.h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.byte3(), 0x02) << "the requester's session meets it too";
}

// RFC 7143 11.5.1: after TARGET COLD RESET the target answers, then drops every connection to
// the target, the requester's included.
TEST(Connection, TargetColdResetAnswersThenClosesEverySession) {
    TwoSessions s;
    s.h.feed(wire(target_reset(s.h, 0x5001, true)));
    auto out = s.h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::task_mgmt_response);
    EXPECT_EQ(out[0].bhs.byte2(), 0) << "function complete";
    EXPECT_TRUE(s.h.conn->closing());
    EXPECT_TRUE(s.first_closed);
}

// A runner that can hold commands "running" in the SCSI core, to watch what a TMF does to them.
struct HoldingHarness : Harness {
    bool hold = false;
    std::vector<std::pair<std::uint32_t, std::stop_token>> held;

    void run(scsi::Target& target, std::uint32_t itt, const scsi::Command& command) override {
        if (!hold) return Harness::run(target, itt, command);
        held.emplace_back(itt, command.abort);
    }
};

TEST(Connection, AbortTaskTellsTheScsiCoreAndWaitsForTheCommand) {
    HoldingHarness h;
    login(h);
    clear_unit_attention(h);
    h.hold = true;
    std::array<std::uint8_t, 6> tur{kTestUnitReady};
    const std::uint32_t sn = h.cmd_sn;
    h.feed(wire(scsi_command(h, 4000, tur, 0, 0)));
    ASSERT_EQ(h.held.size(), 1u);
    EXPECT_FALSE(h.held[0].second.stop_requested());
    // ABORT TASK requests the command's abort token (a SANITIZE answers early on it) ...
    h.feed(wire(abort_task(h, 4001, 4000, sn)));
    EXPECT_TRUE(h.held[0].second.stop_requested());
    EXPECT_TRUE(h.sent().empty()) << "the TMF waits for the command to finish";
    // ... and answers once the command is done; the command itself gets no response.
    h.conn->on_scsi_done(4000, scsi::CommandResult{});
    auto out = h.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bhs.opcode(), Opcode::task_mgmt_response);
    EXPECT_EQ(out[0].bhs.byte2(), 0) << "function complete";
}

}  // namespace
}  // namespace itd::iscsi::testing
