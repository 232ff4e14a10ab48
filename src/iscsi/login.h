// The login phase of one connection (RFC 7143 6), sans I/O: one Login Request in, exactly one
// Login Response out. Stages follow CSG/NSG (RFC 7143 6.3, 11.12.3):
//
//   first request                                   T=1 NSG=1 (security done)
//   CSG=0 ----> [security] ------------------------------------------> [operational]
//                 |  ^ T=0 / C=1: stay                                    |  ^ T=0 / C=1 /
//                 |  +------+                                             |  | our offers
//                 |                                                       |  +--- pending
//   first request |  T=1 NSG=3 (skip operational)        T=1 NSG=3        |
//   CSG=1 --------+----------------------------+----------------------+---+
//     (straight to [operational])              v                      v
//                                       bind_session() ok --> [complete]  (T=1 NSG=3 sent)
//   any state --PDU format error, bad key, refused target or bind--> [failed]
//   [security] --CHAP failure, None offered where CHAP is required-->  [failed] (0x0201)
//   first request CSG=1 when the target requires CHAP -------------->  [failed] (0x0201)
//
// Each step decides a Reply; respond() turns every Reply into the Login Response, so no
// branch can forget to answer (STYLE.md #11). A failed step answers its status and the
// caller closes the connection after sending it.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "iscsi/negotiation.h"
#include "iscsi/pdu.h"
#include "iscsi/security.h"
#include "iscsi/text.h"

namespace itd::iscsi {

// Status-Class and Status-Detail of a Login Response (RFC 7143 11.13.5).
struct LoginStatus {
    std::uint8_t status_class;
    std::uint8_t status_detail;
    friend bool operator==(const LoginStatus&, const LoginStatus&) = default;
};

namespace login_status {
inline constexpr LoginStatus success{0x00, 0x00};
inline constexpr LoginStatus target_moved_temporarily{0x01, 0x01};
inline constexpr LoginStatus target_moved_permanently{0x01, 0x02};
inline constexpr LoginStatus initiator_error{0x02, 0x00};
inline constexpr LoginStatus authentication_failure{0x02, 0x01};
inline constexpr LoginStatus authorization_failure{0x02, 0x02};
inline constexpr LoginStatus target_not_found{0x02, 0x03};
inline constexpr LoginStatus target_removed{0x02, 0x04};
inline constexpr LoginStatus unsupported_version{0x02, 0x05};
inline constexpr LoginStatus too_many_connections{0x02, 0x06};
inline constexpr LoginStatus missing_parameter{0x02, 0x07};
inline constexpr LoginStatus cannot_include_in_session{0x02, 0x08};
inline constexpr LoginStatus session_type_not_supported{0x02, 0x09};
inline constexpr LoginStatus session_does_not_exist{0x02, 0x0a};
inline constexpr LoginStatus invalid_during_login{0x02, 0x0b};
inline constexpr LoginStatus target_error{0x03, 0x00};
inline constexpr LoginStatus service_unavailable{0x03, 0x01};
inline constexpr LoginStatus out_of_resources{0x03, 0x02};
}  // namespace login_status

struct LoginConfig {
    TargetLimits limits;
    SecurityConfig security;
    std::uint16_t target_portal_group_tag = 1;
    std::uint32_t cmd_window = 64;  // MaxCmdSN = ExpCmdSN + cmd_window - 1
    // Known target? Allowed for this initiator? std::nullopt when fine, else the status to
    // answer (target_not_found, authorization_failure…). Called for Normal sessions once,
    // when the first request's text is complete and both names are known.
    std::function<std::optional<LoginStatus>(std::string_view initiator_name,
                                             std::string_view target_name)>
        check_target;
    // The security the login must pass, chosen once the first request's text is complete
    // and the names and SessionType are known (each target, and discovery, has its own CHAP
    // credentials). Unset: `security` above for every login.
    std::function<SecurityConfig(const SessionParams&)> security_for;
    // Called once, just before the final (T=1, NSG=FFP) response is built: binds the
    // connection to a session (new with TSIH 0, reinstatement by ISID, or an existing one by
    // TSIH) and returns the TSIH, or a status such as session_does_not_exist.
    std::function<std::expected<std::uint16_t, LoginStatus>(
        const SessionParams&, std::uint64_t isid, std::uint16_t tsih, std::uint16_t cid)>
        bind_session;
};

class Login {
public:
    explicit Login(LoginConfig cfg);

    enum class Outcome { in_progress, complete, failed };
    struct Step {
        Pdu response;
        Outcome outcome;
    };

    // One Login Request in, exactly one Login Response out.
    Step on_request(const Pdu& request);

    const SessionParams& params() const { return negotiator_.params(); }  // valid once complete
    std::uint32_t next_stat_sn() const { return stat_sn_; }  // for the first full-feature response
    std::uint32_t exp_cmd_sn() const { return exp_cmd_sn_; }  // login requests are immediate
    std::uint64_t isid() const { return isid_; }
    std::uint16_t tsih() const { return tsih_; }
    std::uint16_t cid() const { return cid_; }

private:
    enum class State : std::uint8_t { start, security, operational, complete, failed };

    struct Reply {
        LoginStatus status = login_status::success;
        Stage current = Stage::security;  // CSG of the response: the request's stage
        bool transit = false;
        Stage next = Stage::security;  // NSG, meaningful with transit
        std::vector<TextPair> text;
    };

    Reply step(const Pdu& request);
    std::optional<LoginStatus> check_format(const Bhs& bhs) const;
    std::optional<LoginStatus> first_text_checks() const;
    Reply negotiate(const Bhs& bhs, const std::vector<TextPair>& pairs);
    Reply leave_stage(const Bhs& bhs, Reply reply);
    Reply fail(LoginStatus status) const;
    Pdu respond(const Pdu& request, const Reply& reply);
    Stage current_stage() const;

    LoginConfig cfg_;
    Negotiator negotiator_;
    SecurityNegotiation security_;
    TextAccumulator text_;
    State state_ = State::start;
    bool first_text_done_ = false;
    bool tpgt_sent_ = false;
    std::uint8_t version_max_ = 0;
    std::uint8_t version_min_ = 0;
    std::uint64_t isid_ = 0;
    std::uint16_t tsih_ = 0;
    std::uint16_t cid_ = 0;
    std::uint32_t stat_sn_ = 0;
    std::uint32_t exp_cmd_sn_ = 0;
};

}  // namespace itd::iscsi
