// The sans-I/O iSCSI connection (connection.h) in full feature phase: the bytes of one SCSI
// Command PDU in through receive(), the command through a real SCSI target on a memory volume,
// and the answer out as OutputChunks from take_output(). One iteration is one whole command:
//   READ(10) 4 KiB  -> one Data-In carrying the status, its data borrowed from the task;
//   WRITE(10) 4 KiB with the data as immediate data -> one SCSI Response.
// No digests. The command runner completes after receive() returns, as the daemon's does
// (tests/unit/iscsi/connection_harness.h works the same way).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "alloc_count.h"
#include "common/check.h"
#include "common/endian.h"
#include "iscsi/connection.h"
#include "iscsi/pdu_reader.h"
#include "iscsi/pdu_writer.h"
#include "volume/memory/memory_volume.h"

namespace itd::bench {
namespace {

using iscsi::Opcode;
using iscsi::Pdu;

constexpr const char* kTargetName = "iqn.2026-11.org.itd.bench:disk";
constexpr std::uint32_t kBlockBytes = 512;
constexpr std::uint32_t kIoBytes = 4096;

// A connection logged in to a target with LUN 0 on a memory volume, its unit attention
// cleared.
class LoggedIn final : public iscsi::CommandRunner {
  public:
    LoggedIn() {
        auto target = std::make_shared<scsi::Target>(kTargetName);
        auto volume = volume::MemoryVolume::create(16 << 20, kBlockBytes);
        ITD_CHECK(volume.has_value());
        scsi::LunConfig lun;
        lun.volume = *volume;
        target->add_lun(0, std::move(lun));
        portal_group_.targets.push_back(
            iscsi::TargetEntry{kTargetName, "", target, {"127.0.0.1:3260,1"}, {}, {}});
        completed_.reserve(4);
        conn_ = std::make_unique<iscsi::Connection>(portal_group_, *this);
        reader_.set_limits({.max_data_segment_bytes = 1u << 20});
        login();
        for (int i = 0; i < 4; ++i) {
            if (test_unit_ready_good()) return;
        }
        ITD_CHECK(false && "the unit attention did not clear");
    }

    void run(scsi::Target& target, std::uint32_t itt, const scsi::Command& command) override {
        target.execute(command,
                       [this, itt](scsi::CommandResult r) { completed_.emplace_back(itt, r); });
    }

    // Feeds bytes and delivers the completions, as the I/O layer does after run() returned.
    void receive(std::span<const std::uint8_t> bytes) {
        conn_->receive(bytes);
        for (std::size_t i = 0; i < completed_.size(); ++i) {
            const auto [itt, result] = completed_[i];
            conn_->on_scsi_done(itt, result);
        }
        completed_.clear();
    }

    iscsi::Connection& connection() { return *conn_; }
    std::uint32_t next_cmd_sn() { return cmd_sn_++; }
    std::uint32_t exp_stat_sn() const { return exp_stat_sn_; }
    void saw_stat_sn(std::uint32_t stat_sn) { exp_stat_sn_ = stat_sn + 1; }

    // Every PDU the connection has sent since the last call (framed by the codec).
    std::vector<Pdu> sent() {
        std::vector<std::uint8_t> bytes;
        for (auto& chunk : conn_->take_output()) {
            for (auto piece : chunk.pieces()) bytes.insert(bytes.end(), piece.begin(), piece.end());
        }
        std::vector<Pdu> out;
        std::span<const std::uint8_t> rest = bytes;
        while (!rest.empty()) {
            auto used = reader_.feed(rest);
            ITD_CHECK(used.has_value());
            rest = rest.subspan(*used);
            if (!reader_.has_pdu()) break;
            out.push_back(reader_.take());
        }
        ITD_CHECK(reader_.idle());
        return out;
    }

  private:
    static void add_key(std::vector<std::uint8_t>& text, const std::string& key,
                        const std::string& value) {
        const std::string kv = key + "=" + value;
        text.insert(text.end(), kv.begin(), kv.end());
        text.push_back(0);
    }

    // From the operational stage straight to full feature phase (RFC 7143 6.3).
    void login() {
        std::vector<std::uint8_t> keys;
        add_key(keys, "InitiatorName", "iqn.2026-11.org.itd.bench:initiator");
        add_key(keys, "SessionType", "Normal");
        add_key(keys, "TargetName", kTargetName);
        add_key(keys, "HeaderDigest", "None");
        add_key(keys, "DataDigest", "None");
        add_key(keys, "InitialR2T", "Yes");
        add_key(keys, "ImmediateData", "Yes");
        add_key(keys, "MaxRecvDataSegmentLength", "262144");
        add_key(keys, "FirstBurstLength", "65536");
        add_key(keys, "MaxBurstLength", "262144");
        add_key(keys, "MaxOutstandingR2T", "1");
        add_key(keys, "ErrorRecoveryLevel", "0");
        for (std::uint32_t round = 0; round < 4; ++round) {
            Pdu pdu;
            pdu.bhs.set_opcode(Opcode::login_request, true);
            pdu.bhs.set_flags(iscsi::flag::transit | (1 << 2) | 3);  // CSG operational, NSG FFP
            pdu.bhs.set_isid(0x23d000000001ull);
            pdu.bhs.set_itt(0x1000 + round);
            pdu.bhs.set_cmd_sn(cmd_sn_);
            if (round == 0) pdu.data = keys;
            receive(iscsi::serialize(pdu, false, false));
            auto out = sent();
            ITD_CHECK(out.size() == 1 && out[0].bhs.opcode() == Opcode::login_response);
            ITD_CHECK(out[0].bhs.status_class() == 0);
            saw_stat_sn(out[0].bhs.stat_sn());
            if (out[0].bhs.transit() && out[0].bhs.nsg() == 3) return;
        }
        ITD_CHECK(false && "login did not reach full feature phase");
    }

    bool test_unit_ready_good() {
        Pdu pdu;
        pdu.bhs.set_opcode(Opcode::scsi_command);
        pdu.bhs.set_flags(iscsi::flag::final_bit | 1);
        pdu.bhs.set_itt(0x77);
        pdu.bhs.set_cmd_sn(next_cmd_sn());
        pdu.bhs.set_exp_stat_sn(exp_stat_sn_);
        receive(iscsi::serialize(pdu, false, false));
        auto out = sent();
        ITD_CHECK(out.size() == 1 && out[0].bhs.opcode() == Opcode::scsi_response);
        saw_stat_sn(out[0].bhs.stat_sn());
        return out[0].bhs.byte3() == 0;  // GOOD
    }

    iscsi::PortalGroup portal_group_;
    std::unique_ptr<iscsi::Connection> conn_;
    std::vector<std::pair<std::uint32_t, scsi::CommandResult>> completed_;
    iscsi::PduReader reader_;  // reads back what the connection sent, outside the timed loop
    std::uint32_t cmd_sn_ = 1;
    std::uint32_t exp_stat_sn_ = 0;
};

// The wire bytes of a READ(10) or WRITE(10) of 4 KiB at LBA 8, the write's data as immediate
// data. CmdSN and ExpStatSN are filled in per command.
std::vector<std::uint8_t> command_bytes(bool write) {
    Pdu pdu;
    pdu.bhs.set_opcode(Opcode::scsi_command);
    pdu.bhs.set_flags(static_cast<std::uint8_t>(
        iscsi::flag::final_bit | (write ? iscsi::flag::write : iscsi::flag::read) | 1));
    pdu.bhs.set_itt(0x10);
    pdu.bhs.set_expected_data_transfer_length(kIoBytes);
    auto cdb = pdu.bhs.bytes().subspan(32, 10);
    cdb[0] = write ? 0x2a : 0x28;
    store_be32(&cdb[2], 8);
    store_be16(&cdb[7], static_cast<std::uint16_t>(kIoBytes / kBlockBytes));
    if (write) pdu.data.assign(kIoBytes, 0x5a);
    return iscsi::serialize(pdu, false, false);
}

// StatSN of a response chunk (bytes 24-27 of its BHS).
std::uint32_t chunk_stat_sn(const iscsi::OutputChunk& chunk) {
    return load_be32(&chunk.pieces()[0][24]);
}

void command(benchmark::State& state, bool write) {
    LoggedIn s;
    std::vector<std::uint8_t> in = command_bytes(write);
    // The answer: Data-In with the status and the 4 KiB (a read), or a SCSI Response.
    const std::size_t expect_out_bytes = iscsi::kBhsBytes + (write ? 0 : kIoBytes);

    // One checked round first: the whole answer, GOOD.
    store_be32(&in[24], s.next_cmd_sn());
    store_be32(&in[28], s.exp_stat_sn());
    s.receive(in);
    {
        auto out = s.sent();
        ITD_CHECK(out.size() == 1);
        const Pdu& answer = out[0];
        ITD_CHECK(answer.bhs.opcode() == (write ? Opcode::scsi_response : Opcode::data_in));
        ITD_CHECK(answer.bhs.byte3() == 0);  // GOOD
        ITD_CHECK(write || ((answer.bhs.flags() & iscsi::flag::status) != 0 &&
                            answer.data.size() == kIoBytes));
        s.saw_stat_sn(answer.bhs.stat_sn());
    }

    std::size_t out_bytes = 0;
    // Kept across iterations, as the socket keeps its own (take_output appends and reuses).
    std::vector<iscsi::OutputChunk> out;
    AllocCounter allocs;
    for (auto _ : state) {
        store_be32(&in[24], s.next_cmd_sn());
        store_be32(&in[28], s.exp_stat_sn());
        s.receive(in);
        out.clear();
        s.connection().take_output(out);
        ITD_CHECK(out.size() == 1 && out.front().size() == expect_out_bytes);
        s.saw_stat_sn(chunk_stat_sn(out.front()));
        out_bytes += out.front().size();
        benchmark::DoNotOptimize(out.front().header.data());
    }
    allocs.report(state);
    state.SetItemsProcessed(state.iterations());
    // Payload bytes: the 4 KiB each command moves.
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kIoBytes));
    benchmark::DoNotOptimize(out_bytes);
}

BENCHMARK_CAPTURE(command, Read10_4K, false)->Name("Connection/Read10_4K");
BENCHMARK_CAPTURE(command, Write10_4K_immediate, true)->Name("Connection/Write10_4K_immediate");

}  // namespace
}  // namespace itd::bench
