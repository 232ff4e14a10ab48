// The initiator's side of an iSCSI login for itd_digest_load, without sockets (STYLE.md #2):
// Login Response PDUs in, Login Request PDUs out. It asks to go from the operational stage
// straight to full feature phase in one PDU (RFC 7143 6.3: a login may skip the security
// stage) and follows the target if it needs more steps:
//
//   first_request() --> [response] --status class != 0, bad PDU--> failure (a message)
//                          | C=1: an empty request collects the rest of the text (6.1.1)
//                          | T=0: answer the target's offers, ask to transit again
//                          | T=1, NSG=3: check the digests were agreed --> logged in
//
// Every key the target sends is handled once: answers to our offers set the session's
// parameters (RFC 7143 13), its declarations are recorded, and offers of its own are answered
// (accepted where we can, NotUnderstood for keys we do not know).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "iscsi/pdu.h"
#include "iscsi/text.h"

namespace itd::load {

struct LoginConfig {
    std::string initiator_name;
    std::string target_name;
    bool header_digest = false;  // insist on HeaderDigest=CRC32C (else offer None)
    bool data_digest = false;    // insist on DataDigest=CRC32C (else offer None)
    std::uint32_t max_recv_data_segment_bytes = 262144;  // what we declare
    std::uint32_t first_burst_bytes = 262144;            // offered
    std::uint32_t max_burst_bytes = 1048576;             // offered
    std::uint64_t isid = 0x800000000000ull;              // random format (RFC 7143 11.12.5)
    std::uint32_t cmd_sn = 1;                            // the session's first CmdSN
};

// What the login settled (RFC 7143 section 13 defaults for anything never answered).
struct Negotiated {
    bool header_digest = false;
    bool data_digest = false;
    // RFC 7143 13.12: the most we may put in one PDU to the target (its declaration).
    std::uint32_t target_max_recv_data_segment_bytes = 8192;
    std::uint32_t first_burst_bytes = 65536;
    std::uint32_t max_burst_bytes = 262144;
    bool immediate_data = true;
    bool initial_r2t = true;
    std::uint32_t max_outstanding_r2t = 1;
};

// At most this many Login Responses before we give up (a target that never lets us transit).
inline constexpr unsigned kMaxLoginSteps = 16;

class Login {
  public:
    explicit Login(LoginConfig config);

    iscsi::Pdu first_request();

    // One Login Response. The next Login Request to send, or nullopt once the target has
    // moved to full feature phase; an error (a sentence saying why) ends the login.
    std::expected<std::optional<iscsi::Pdu>, std::string> on_response(const iscsi::Pdu& response);

    const Negotiated& negotiated() const { return negotiated_; }
    std::uint16_t tsih() const { return tsih_; }
    std::uint32_t exp_stat_sn() const { return exp_stat_sn_; }
    std::uint32_t exp_cmd_sn() const { return exp_cmd_sn_; }
    std::uint32_t max_cmd_sn() const { return max_cmd_sn_; }

  private:
    iscsi::Pdu request(bool transit, std::vector<std::uint8_t> text) const;
    // Applies the target's keys of one (joined) response, appending our answers.
    std::expected<void, std::string> on_keys(const std::vector<iscsi::TextPair>& pairs,
                                             std::vector<iscsi::TextPair>& answers);
    std::expected<void, std::string> check_agreed() const;

    LoginConfig config_;
    Negotiated negotiated_;
    iscsi::TextAccumulator text_;
    unsigned steps_ = 0;
    std::uint16_t tsih_ = 0;
    std::uint32_t exp_stat_sn_ = 0;
    std::uint32_t exp_cmd_sn_ = 0;
    std::uint32_t max_cmd_sn_ = 0;
    bool digest_answered_[2] = {false, false};  // HeaderDigest, DataDigest
    std::string digest_answer_[2];
};

// "target not found (status class 0x02, detail 0x03)": RFC 7143 11.13.5.
std::string login_status_text(std::uint8_t status_class, std::uint8_t status_detail);

}  // namespace itd::load
