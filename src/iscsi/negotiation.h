// Login key negotiation from one typed table (RFC 7143 6.2 and 13; STYLE.md #6). Each key has
// a kind (list, numerical minimum/maximum, boolean and/or, declaration), a range and the
// SessionParams field it lands in. Values are parsed into real types once, here; nothing past
// this file sees key strings.
//
// The target is the responder: it answers the initiator's offers, declares its own
// MaxRecvDataSegmentLength, and originates an offer only where an RFC default would exceed
// what it accepts (ImmediateData=No, smaller burst lengths).
#pragma once

#include <bitset>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "iscsi/session.h"  // SessionType
#include "iscsi/text.h"

namespace itd::iscsi {

// Login stages, with the values of the CSG/NSG fields (RFC 7143 11.12.3).
enum class Stage : std::uint8_t { security = 0, operational = 1, full_feature = 3 };

// What the target accepts or offers; validated by the daemon's configuration (512..2^24-1 for
// the byte limits, first_burst_bytes <= max_burst_bytes, 1..65535 R2Ts).
struct TargetLimits {
    std::uint32_t max_recv_data_segment_bytes = 262144;  // declared MaxRecvDataSegmentLength
    std::uint32_t max_burst_bytes = 1048576;              // MaxBurstLength offered (minimum)
    std::uint32_t first_burst_bytes = 262144;             // FirstBurstLength offered (minimum)
    std::uint32_t max_outstanding_r2t = 16;               // MaxOutstandingR2T (minimum)
    bool immediate_data = true;                           // ImmediateData (AND)
    bool initial_r2t = false;                             // InitialR2T (OR): false allows No
    bool header_digest_allowed = true;                    // CRC32C acceptable for HeaderDigest
    bool data_digest_allowed = true;                      // and for DataDigest
    std::uint32_t default_time2wait_s = 2;                // DefaultTime2Wait (maximum)
    std::uint32_t default_time2retain_s = 20;             // DefaultTime2Retain (minimum)
};

// What both sides agreed, with the RFC 7143 section 13 defaults for keys never sent.
struct SessionParams {
    SessionType session_type = SessionType::normal;
    std::string initiator_name;
    std::string initiator_alias;
    std::string target_name;  // empty for discovery sessions
    bool header_digest = false;  // CRC32C on headers
    bool data_digest = false;    // CRC32C on data segments
    std::uint32_t max_connections = 1;
    bool initial_r2t = true;
    bool immediate_data = true;
    // MaxRecvDataSegmentLength is declarative, one value per direction (RFC 7143 13.12):
    // what the initiator declared is the most we may send it; what we declared is the most
    // we accept. Each stays 8192 if never declared.
    std::uint32_t initiator_max_recv_data_segment_bytes = 8192;
    std::uint32_t target_max_recv_data_segment_bytes = 8192;
    std::uint32_t max_burst_bytes = 262144;
    std::uint32_t first_burst_bytes = 65536;
    std::uint32_t default_time2wait_s = 2;
    std::uint32_t default_time2retain_s = 20;
    std::uint32_t max_outstanding_r2t = 1;
    bool data_pdu_in_order = true;
    bool data_sequence_in_order = true;
    std::uint32_t error_recovery_level = 0;
    std::uint32_t iscsi_protocol_level = 0;  // RFC 7144 13.24: 0 unless negotiated
};

enum class KeyId : std::uint8_t {
    header_digest, data_digest, max_connections, send_targets, target_name, initiator_name,
    target_alias, initiator_alias, target_address, target_portal_group_tag, initial_r2t,
    immediate_data, max_recv_data_segment_length, max_burst_length, first_burst_length,
    default_time2wait, default_time2retain, max_outstanding_r2t, data_pdu_in_order,
    data_sequence_in_order, error_recovery_level, session_type, auth_method, of_marker,
    if_marker, of_mark_int, if_mark_int, task_reporting, iscsi_protocol_level,
};
inline constexpr std::size_t kKeyCount = static_cast<std::size_t>(KeyId::iscsi_protocol_level) + 1;

enum class KeyKind : std::uint8_t {
    digest_list,       // list of None/CRC32C: first one we support
    numeric_min,       // result = min(offer, ours)
    numeric_max,       // result = max(offer, ours)
    boolean_or,
    boolean_and,
    declare_initiator, // declared by the initiator (names, aliases, SessionType, MRDSL)
    target_only,       // only the target may send these: an initiator sending one errs
    full_feature_only, // SendTargets: never in login
    security,          // AuthMethod (and CHAP_*): the security stage handles these
    marker,            // obsolete OFMarker/IFMarker (RFC 7143 13.25): answered "No"
    mark_int,          // obsolete OFMarkInt/IFMarkInt: answered "Reject"
    task_reporting,    // RFC 7143 13.23 list: we do RFC3720 only
};

struct KeyDef {
    KeyId id;
    std::string_view name;
    KeyKind kind;
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    bool irrelevant_in_discovery = false;  // RFC 7143 13: "Irrelevant when SessionType=Discovery"
};

// The table row for a key name, or nullptr for keys we do not know (answered NotUnderstood).
const KeyDef* find_key(std::string_view name);
const KeyDef& key_def(KeyId id);

enum class NegotiationError : std::uint8_t {
    initiator_error,             // bad key use: wrong stage, redeclared, target-only key
    session_type_not_supported,  // SessionType other than Normal or Discovery
};

class Negotiator {
public:
    explicit Negotiator(const TargetLimits& limits);

    // Handles one Login Request's keys in `stage`, appending our answers. Security keys are
    // skipped (the security stage owns them) in the security stage and are an error after it;
    // operational keys are an error in the security stage (RFC 7143 6.3: operational
    // parameters are negotiated after security).
    [[nodiscard]] std::expected<void, NegotiationError> on_request(
        std::span<const TextPair> pairs, Stage stage, std::vector<TextPair>& answers);

    // Keys the target itself must send in the operational stage: its MaxRecvDataSegmentLength
    // declaration (once), and offers where an RFC default exceeds our limits. Returns true if
    // it made an offer the initiator has yet to answer (the target must not transit yet).
    bool target_keys(std::vector<TextPair>& answers);
    bool offers_pending() const { return pending_.any(); }

    const SessionParams& params() const { return params_; }
    bool received(KeyId id) const { return seen_[static_cast<std::size_t>(id)]; }

private:
    std::expected<void, NegotiationError> one(const KeyDef& def, const TextPair& kv, Stage stage,
                                              std::vector<TextPair>& answers);
    // Parses and applies an offer; returns the answer value ("Reject" for a bad value).
    std::string apply(const KeyDef& def, std::string_view value);
    std::string answer_value(KeyId id) const;
    void fix_dependencies();

    TargetLimits limits_;
    SessionParams params_;
    std::bitset<kKeyCount> seen_;
    std::bitset<kKeyCount> pending_;  // offers we made and await an answer to
    std::string seen_value_[kKeyCount];
    // What we answered each key (to answer an identical repeat the same way): "" renders the
    // agreed value, std::nullopt means no answer (declarations, answers to our offers).
    std::optional<std::string> answer_[kKeyCount];
    bool declared_mrdsl_ = false;
};

}  // namespace itd::iscsi
