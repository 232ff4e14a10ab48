// A connection under test: a real SCSI target on a memory volume, a command runner that
// completes later (never inline, like the daemon's), and helpers that build initiator PDUs and
// read back what the connection sent, by hand, so the test does not trust the codec it tests.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "iscsi/connection.h"
#include "volume/open.h"

namespace itd::iscsi::testing {

inline constexpr const char* kTargetName = "iqn.2026-11.org.itd.test:disk";

struct Harness : CommandRunner {
    PortalGroup portal_group;
    std::unique_ptr<Connection> conn;
    std::deque<std::pair<std::uint32_t, scsi::CommandResult>> completed;
    std::vector<std::uint8_t> pending_output;
    std::uint32_t cmd_sn = 1;

    explicit Harness(std::uint64_t volume_bytes = 4 << 20) {
        auto target = std::make_shared<scsi::Target>(kTargetName);
        volume::VolumeSpec spec;
        spec.backend = "memory";
        spec.size_bytes = volume_bytes;
        scsi::LunConfig lun;
        lun.volume = volume::open_volume(spec).value();
        target->add_lun(0, std::move(lun));
        portal_group.targets.push_back(TargetEntry{kTargetName, "", target, {"127.0.0.1:3260,1"}, {}, {}});
        conn = std::make_unique<Connection>(portal_group, *this);
    }

    void run(scsi::Target& target, std::uint32_t itt, const scsi::Command& command) override {
        target.execute(command, [this, itt](scsi::CommandResult r) { completed.emplace_back(itt, r); });
    }

    // Delivers completions, as the I/O layer would after run() returned.
    void complete_all() {
        while (!completed.empty()) {
            auto [itt, result] = completed.front();
            completed.pop_front();
            conn->on_scsi_done(itt, result);
        }
    }

    void feed(const std::vector<std::uint8_t>& bytes, bool byte_at_a_time = false) {
        if (byte_at_a_time) {
            for (auto b : bytes) conn->receive(std::span(&b, 1));
        } else {
            conn->receive(bytes);
        }
        complete_all();
    }

    // Feeds bytes as the socket does when it reads write data straight into the command's
    // buffer: a header at a time through receive(), and data segments into receive_window()
    // in two reads each. Counts the bytes that went in place.
    std::size_t in_place_bytes = 0;
    void feed_in_place(const std::vector<std::uint8_t>& bytes) {
        std::size_t pos = 0;
        while (pos < bytes.size()) {
            auto window = conn->receive_window();
            if (!window.empty()) {
                const std::size_t n = std::min(bytes.size() - pos, (window.size() + 1) / 2);
                std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(pos), n, window.begin());
                conn->received_in_place(n);
                in_place_bytes += n;
                pos += n;
                continue;
            }
            const std::size_t n = std::min<std::size_t>(kBhsBytes, bytes.size() - pos);
            conn->receive(std::span(bytes.data() + pos, n));
            pos += n;
        }
        complete_all();
    }

    // Every whole PDU the connection has sent since the last call (no digests).
    std::vector<Pdu> sent() {
        for (auto& chunk : conn->take_output()) {
            for (auto piece : chunk.pieces())
                pending_output.insert(pending_output.end(), piece.begin(), piece.end());
        }
        std::vector<Pdu> out;
        std::size_t pos = 0;
        while (pending_output.size() - pos >= kBhsBytes) {
            Pdu pdu;
            pdu.bhs = Bhs(std::span<const std::uint8_t, kBhsBytes>(pending_output.data() + pos, kBhsBytes));
            const std::size_t ahs = pdu.bhs.total_ahs_words() * 4u;
            const std::size_t data = pdu.bhs.data_segment_length();
            const std::size_t total = kBhsBytes + ahs + ((data + 3) & ~std::size_t{3});
            if (pending_output.size() - pos < total) break;
            const auto* d = pending_output.data() + pos + kBhsBytes + ahs;
            pdu.data.assign(d, d + data);
            out.push_back(std::move(pdu));
            pos += total;
        }
        pending_output.erase(pending_output.begin(), pending_output.begin() + static_cast<std::ptrdiff_t>(pos));
        return out;
    }
};

// GCC 12 at -O2 reports a false out-of-bounds copy when this is inlined into some callers
// (a known libstdc++/GCC 12 -Warray-bounds false positive); the sizes below are exact.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
inline std::vector<std::uint8_t> wire(const Bhs& bhs, const std::vector<std::uint8_t>& data = {}) {
    Bhs h = bhs;
    h.set_data_segment_length(static_cast<std::uint32_t>(data.size()));
    std::vector<std::uint8_t> out((kBhsBytes + data.size() + 3) & ~std::size_t{3}, 0);
    std::copy(h.bytes().begin(), h.bytes().end(), out.begin());
    std::copy(data.begin(), data.end(), out.begin() + kBhsBytes);
    return out;
}
#pragma GCC diagnostic pop

inline std::vector<std::uint8_t> text(const std::map<std::string, std::string>& keys) {
    std::vector<std::uint8_t> out;
    for (const auto& [k, v] : keys) {
        std::string kv = k + "=" + v;
        out.insert(out.end(), kv.begin(), kv.end());
        out.push_back(0);
    }
    return out;
}

inline std::string text_value(const std::vector<std::uint8_t>& data, const std::string& key) {
    std::string all(data.begin(), data.end());
    std::size_t pos = 0;
    while (pos < all.size()) {
        std::size_t end = all.find('\0', pos);
        if (end == std::string::npos) end = all.size();
        std::string kv = all.substr(pos, end - pos);
        if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
        pos = end + 1;
    }
    return "";
}

struct LoginOptions {
    std::string session_type = "Normal";
    std::string initial_r2t = "Yes";
    std::string immediate_data = "Yes";
    std::string max_recv_data_segment = "8192";
    std::string first_burst = "65536";
    std::string max_burst = "262144";
    std::string max_outstanding_r2t = "1";
    std::uint64_t isid = 0x23d000000001ull;
};

// Logs in from the operational stage straight to full feature phase; returns the final
// response.
inline Pdu login(Harness& h, const LoginOptions& o = {}) {
    std::map<std::string, std::string> keys = {
        {"InitiatorName", "iqn.2026-11.org.itd.test:initiator"},
        {"SessionType", o.session_type},
        {"HeaderDigest", "None"},
        {"DataDigest", "None"},
        {"InitialR2T", o.initial_r2t},
        {"ImmediateData", o.immediate_data},
        {"MaxRecvDataSegmentLength", o.max_recv_data_segment},
        {"FirstBurstLength", o.first_burst},
        {"MaxBurstLength", o.max_burst},
        {"MaxOutstandingR2T", o.max_outstanding_r2t},
        {"ErrorRecoveryLevel", "0"},
    };
    if (o.session_type == "Normal") keys["TargetName"] = kTargetName;
    Pdu last;
    for (int round = 0; round < 4; ++round) {
        Bhs bhs;
        bhs.set_opcode(Opcode::login_request, true);
        bhs.set_flags(flag::transit | (1 << 2) | 3);  // T=1, CSG=operational, NSG=full feature
        bhs.set_isid(o.isid);
        bhs.set_itt(0x1000 + round);
        bhs.set_cmd_sn(h.cmd_sn);
        h.feed(wire(bhs, round == 0 ? text(keys) : std::vector<std::uint8_t>{}));
        auto out = h.sent();
        EXPECT_EQ(out.size(), 1u);
        if (out.empty()) return last;
        last = out.back();
        EXPECT_EQ(last.bhs.opcode(), Opcode::login_response);
        EXPECT_EQ(last.bhs.status_class(), 0) << "login refused";
        if (last.bhs.status_class() != 0) return last;
        if (last.bhs.transit() && last.bhs.nsg() == 3) return last;
    }
    ADD_FAILURE() << "login did not reach full feature phase";
    return last;
}

inline Bhs scsi_command(Harness& h, std::uint32_t itt, std::span<const std::uint8_t> cdb,
                        std::uint8_t rw_flags, std::uint32_t edtl, bool final_bit = true) {
    Bhs bhs;
    bhs.set_opcode(Opcode::scsi_command);
    bhs.set_flags(static_cast<std::uint8_t>((final_bit ? flag::final_bit : 0) | rw_flags | 1));
    bhs.set_itt(itt);
    bhs.set_expected_data_transfer_length(edtl);
    bhs.set_cmd_sn(h.cmd_sn++);
    std::copy(cdb.begin(), cdb.end(), bhs.bytes().begin() + 32);
    return bhs;
}

inline Bhs data_out(std::uint32_t itt, std::uint32_t ttt, std::uint32_t data_sn,
                    std::uint32_t offset, bool final_bit) {
    Bhs bhs;
    bhs.set_opcode(Opcode::data_out);
    bhs.set_flags(final_bit ? flag::final_bit : 0);
    bhs.set_itt(itt);
    bhs.set_ttt(ttt);
    bhs.set_data_sn(data_sn);
    bhs.set_buffer_offset(offset);
    return bhs;
}

inline std::array<std::uint8_t, 10> rw10(std::uint8_t opcode, std::uint32_t lba, std::uint16_t blocks) {
    std::array<std::uint8_t, 10> cdb{};
    cdb[0] = opcode;
    store_be32(&cdb[2], lba);
    store_be16(&cdb[7], blocks);
    return cdb;
}

}  // namespace itd::iscsi::testing
