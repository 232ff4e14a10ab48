// A minimal iSCSI initiator over one non-blocking TCP connection, on itd's own codec
// (iscsi/pdu_reader.h frames and checks digests, iscsi/pdu_writer.h serializes): enough for
// itd_digest_load to log in with CRC32C digests and keep `depth` SCSI commands in flight.
//
// One thread drives it: poll_once() sends what is queued (SCSI Commands with immediate data,
// Data-Out PDUs answering R2Ts, NOP-Out answers to target pings) and reads what arrived, so
// neither side can block the other. Data-In segments go from the socket straight into the
// command's buffer (PduReader's placement), the data digest still checked by the reader.
//
//   connect() ─ login() ─ submit()/poll_once()/take_completions() … ─ logout()
//
// Commands live in slots, one buffer each. A slot's task tag is (generation << 13) | slot,
// so a PDU for a command that already ended is not mistaken for the slot's next one.
// Anything wrong on the wire (a digest error, a PDU we did not expect, a Data-In out of
// order) ends the connection: poll_once() returns the reason, and the run fails.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "digest_login.h"
#include "iscsi/pdu_reader.h"
#include "iscsi/pdu_writer.h"

namespace itd::load {

using Clock = std::chrono::steady_clock;

inline constexpr unsigned kSlotBits = 13;
inline constexpr unsigned kMaxSlots = (1u << kSlotBits) - 1;  // the last index is the logout's

using Cdb = std::array<std::uint8_t, 16>;

enum class Direction { none, read, write };

// How a command ended (SAM-5 status, and the sense of a CHECK CONDITION).
struct Outcome {
    std::uint8_t response = 0;  // iSCSI response (RFC 7143 11.4.3): 0 = completed at target
    std::uint8_t status = 0;    // SAM status: 0x00 GOOD, 0x02 CHECK CONDITION, ...
    std::uint8_t sense_key = 0;
    std::uint8_t asc = 0;
    std::uint8_t ascq = 0;
    bool underflow = false;  // residual: less data than expected
    bool overflow = false;
    std::uint32_t data_bytes = 0;  // Data-In bytes received
    Clock::time_point done;

    bool good() const { return response == 0 && status == 0; }
    std::string describe() const;  // "status 0x02, sense key 0x6, ASC/ASCQ 0x29/0x00"
};

class Initiator {
  public:
    Initiator(unsigned slots, std::uint32_t slot_bytes, std::uint64_t lun);
    ~Initiator();
    Initiator(const Initiator&) = delete;
    Initiator& operator=(const Initiator&) = delete;

    // Blocking connect with TCP_NODELAY; the socket is non-blocking afterwards.
    std::expected<void, std::string> connect(const std::string& host, const std::string& port);
    // The whole login (digest_login.h) within the deadline.
    std::expected<void, std::string> login(const LoginConfig& config, Clock::time_point deadline);
    const Negotiated& negotiated() const { return negotiated_; }

    // A slot's buffer: the data of a write, where a read's data lands.
    std::span<std::uint8_t> buffer(unsigned slot) { return slots_[slot].buffer; }
    bool busy(unsigned slot) const { return slots_[slot].busy; }
    unsigned in_flight() const { return in_flight_; }
    // RFC 7143 3.2.2.1: a command may be sent while CmdSN <= MaxCmdSN.
    bool window_open() const;

    // Queues a command for the slot (which must be free and the window open). `bytes` of the
    // slot's buffer are read into or written from; a write sends up to FirstBurstLength as
    // immediate data and the rest when the target asks for it (R2T).
    void submit(unsigned slot, const Cdb& cdb, Direction dir, std::uint32_t bytes);

    // Sends what it can, waits up to timeout_ms for input, reads and handles what came.
    std::expected<void, std::string> poll_once(int timeout_ms);
    // The slots whose command ended since the last call, with their outcomes (the slots are
    // free again).
    std::vector<std::pair<unsigned, Outcome>> take_completions();
    // The oldest command in flight, if it was sent before `limit`.
    std::optional<unsigned> overdue(Clock::time_point limit) const;

    // Logout (reason: close the session) and its response, within the deadline.
    std::expected<void, std::string> logout(Clock::time_point deadline);

  private:
    enum class Phase { connecting, login, full_feature, logout, done };

    struct Slot {
        std::vector<std::uint8_t> buffer;
        bool busy = false;
        std::uint32_t itt = 0;
        Direction dir = Direction::none;
        std::uint32_t bytes = 0;     // expected data transfer length
        std::uint32_t received = 0;  // Data-In bytes so far
        std::uint32_t next_data_sn = 0;
        std::uint32_t next_r2t_sn = 0;
        std::uint32_t immediate = 0;  // write bytes sent with the command
        Clock::time_point sent;
    };

    std::expected<void, std::string> flush();
    std::expected<void, std::string> read_ready();
    std::expected<void, std::string> on_pdu(iscsi::Pdu pdu);
    std::expected<void, std::string> on_login_response(const iscsi::Pdu& pdu);
    std::expected<void, std::string> on_data_in(const iscsi::Pdu& pdu);
    std::expected<void, std::string> on_scsi_response(const iscsi::Pdu& pdu);
    std::expected<void, std::string> on_r2t(const iscsi::Pdu& pdu);
    std::expected<void, std::string> on_nop_in(const iscsi::Pdu& pdu);
    // The busy slot a target PDU's task tag names, or nullptr.
    Slot* slot_of(std::uint32_t itt);
    std::span<std::uint8_t> place(const iscsi::Bhs& bhs);  // PduReader's placement
    void complete(Slot& slot, Outcome outcome);
    void track_sns(const iscsi::Bhs& bhs, bool carries_status);
    void queue(iscsi::OutputChunk chunk) {
        iscsi::finish_data_digest(chunk);
        out_.push_back(std::move(chunk));
    }
    bool header_digest() const { return negotiated_.header_digest; }
    bool data_digest() const { return negotiated_.data_digest; }

    int fd_ = -1;
    Phase phase_ = Phase::connecting;
    std::uint64_t lun_;
    std::vector<Slot> slots_;
    unsigned in_flight_ = 0;
    std::uint32_t generation_ = 0;
    std::vector<std::pair<unsigned, Outcome>> completions_;

    std::unique_ptr<Login> login_;
    Negotiated negotiated_;
    std::uint32_t cmd_sn_ = 1;
    std::uint32_t exp_cmd_sn_ = 1;
    std::uint32_t max_cmd_sn_ = 1;
    std::uint32_t exp_stat_sn_ = 0;
    bool logout_answered_ = false;
    std::uint8_t logout_response_ = 0;

    iscsi::PduReader reader_;
    std::vector<std::uint8_t> in_;  // bytes read but not yet fed
    std::size_t in_begin_ = 0;
    std::size_t in_end_ = 0;
    std::deque<iscsi::OutputChunk> out_;
    std::size_t out_front_sent_ = 0;  // bytes of out_.front() already sent
};

}  // namespace itd::load
