// Failure-point sweeps over the Data-Out/R2T sequence of one write (STYLE.md 16): every PDU of
// the sequence is, in turn, corrupted in each way an initiator can get it wrong, or the
// connection is closed right there. Whatever the step, the command either completes whole or
// fails with DATA PHASE ERROR having written nothing, and the session keeps serving.
#include <gtest/gtest.h>

#include <random>

#include "connection_harness.h"

namespace itd::iscsi::testing {
namespace {

constexpr std::uint8_t kRead10 = 0x28;
constexpr std::uint8_t kWrite10 = 0x2a;
constexpr std::uint32_t kBlocks = 64;  // 32 KiB: with 8 KiB bursts and 4 KiB PDUs, 8 Data-Outs
constexpr std::uint32_t kBytes = kBlocks * 512;
constexpr std::uint32_t kPduBytes = 4096;

enum class Fault { none, wrong_data_sn, wrong_offset, wrong_ttt, too_long, early_final, close };

struct Step {
    std::uint32_t ttt, data_sn, offset, length;
    bool final_bit;
};

// Logs in with 8 KiB bursts and no immediate data, clears the unit attention.
void setup(Harness& h) {
    LoginOptions o;
    o.immediate_data = "No";
    o.max_burst = "8192";
    o.max_outstanding_r2t = "1";
    login(h, o);
    std::array<std::uint8_t, 6> tur{};
    h.feed(wire(scsi_command(h, 1, tur, 0, 0)));
    ASSERT_EQ(h.sent().size(), 1u);
}

std::vector<std::uint8_t> read_all(Harness& h, std::uint32_t itt) {
    auto cdb = rw10(kRead10, 0, kBlocks);
    h.feed(wire(scsi_command(h, itt, cdb, flag::read, kBytes)));
    std::vector<std::uint8_t> data;
    for (const auto& pdu : h.sent()) data.insert(data.end(), pdu.data.begin(), pdu.data.end());
    return data;
}

// Runs one write, applying fault at Data-Out number fault_step. Returns the final answer to
// the write (a SCSI Response), or nothing if the connection closed.
std::optional<Pdu> write_with_fault(Harness& h, const std::vector<std::uint8_t>& payload,
                                    std::size_t fault_step, Fault fault) {
    auto cdb = rw10(kWrite10, 0, kBlocks);
    h.feed(wire(scsi_command(h, 100, cdb, flag::write, kBytes)));
    std::size_t step = 0;
    for (int bursts = 0; bursts < 16; ++bursts) {
        auto out = h.sent();
        if (out.empty()) return std::nullopt;
        if (out.back().bhs.opcode() == Opcode::scsi_response) return out.back();
        EXPECT_EQ(out.back().bhs.opcode(), Opcode::r2t);
        const auto& r2t = out.back().bhs;
        for (std::uint32_t done = 0; done < r2t.desired_data_transfer_length(); done += kPduBytes) {
            Step s{r2t.ttt(), done / kPduBytes, r2t.buffer_offset() + done,
                   std::min(kPduBytes, r2t.desired_data_transfer_length() - done),
                   done + kPduBytes >= r2t.desired_data_transfer_length()};
            if (step++ == fault_step) {
                switch (fault) {
                    case Fault::none: break;
                    case Fault::wrong_data_sn: s.data_sn += 1; break;
                    case Fault::wrong_offset: s.offset += 512; break;
                    case Fault::wrong_ttt: s.ttt ^= 0x5a5a; break;
                    case Fault::too_long: s.length += 512; break;
                    case Fault::early_final: s.final_bit = true; s.length = 512; break;
                    case Fault::close: h.conn->close(); return std::nullopt;
                }
            }
            s.length = std::min<std::uint32_t>(s.length, kBytes + 512 - std::min(s.offset, kBytes));
            std::vector<std::uint8_t> chunk(s.length, 0xee);
            for (std::uint32_t i = 0; i < s.length && s.offset + i < kBytes; ++i)
                chunk[i] = payload[s.offset + i];
            h.feed(wire(data_out(100, s.ttt, s.data_sn, s.offset, s.final_bit), chunk));
            if (h.conn->closing()) return std::nullopt;
            if (!h.pending_output.empty() || h.conn->has_output()) break;  // answered early
        }
    }
    auto out = h.sent();
    if (out.empty()) return std::nullopt;
    return out.back();
}

TEST(ConnectionSweep, EveryDataOutFaultFailsCleanly) {
    std::mt19937 rng(7);
    std::vector<std::uint8_t> payload(kBytes);
    for (auto& b : payload) b = static_cast<std::uint8_t>(rng() | 1);  // never all zero

    const Fault faults[] = {Fault::wrong_data_sn, Fault::wrong_offset, Fault::wrong_ttt,
                            Fault::too_long, Fault::early_final};
    for (Fault fault : faults) {
        for (std::size_t step = 0; step < kBytes / kPduBytes; ++step) {
            SCOPED_TRACE(::testing::Message() << "fault " << static_cast<int>(fault) << " at step " << step);
            Harness h;
            setup(h);
            auto answer = write_with_fault(h, payload, step, fault);
            ASSERT_TRUE(answer.has_value()) << "the connection must survive a bad Data-Out";
            EXPECT_EQ(answer->bhs.opcode(), Opcode::scsi_response);
            EXPECT_EQ(answer->bhs.itt(), 100u);
            EXPECT_EQ(answer->bhs.byte3(), 0x02) << "CHECK CONDITION";
            ASSERT_GE(answer->data.size(), 2u + 14);
            EXPECT_EQ(answer->data[2 + 12], 0x4b) << "DATA PHASE ERROR";
            // Late Data-Out for the failed command is dropped, not acted on.
            h.feed(wire(data_out(100, 1, 0, 0, true), std::vector<std::uint8_t>(512, 0xee)));
            EXPECT_TRUE(h.sent().empty());
            EXPECT_EQ(read_all(h, 200), std::vector<std::uint8_t>(kBytes, 0)) << "nothing written";
            EXPECT_FALSE(h.conn->closing());
        }
    }
}

TEST(ConnectionSweep, ClosingAtEveryStepLeavesNothingRunning) {
    std::vector<std::uint8_t> payload(kBytes, 0x42);
    for (std::size_t step = 0; step <= kBytes / kPduBytes; ++step) {
        SCOPED_TRACE(::testing::Message() << "close at step " << step);
        Harness h;
        setup(h);
        auto answer = write_with_fault(h, payload, step, Fault::close);
        if (step == kBytes / kPduBytes) {
            ASSERT_TRUE(answer.has_value());
            EXPECT_EQ(answer->bhs.byte3(), 0x00) << "no fault: the write completes";
            EXPECT_EQ(read_all(h, 200), payload);
        } else {
            EXPECT_FALSE(answer.has_value());
            EXPECT_TRUE(h.conn->closing());
            EXPECT_FALSE(h.conn->has_running_commands());
        }
    }
}

}  // namespace
}  // namespace itd::iscsi::testing
