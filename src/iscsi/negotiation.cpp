#include "iscsi/negotiation.h"

#include <algorithm>
#include <array>
#include <optional>

#include "common/check.h"

namespace itd::iscsi {

namespace {

constexpr std::uint64_t kMaxSegment = (1u << 24) - 1;  // RFC 7143 13.12-14: 512..2^24-1

// RFC 7143 section 13 (and RFC 7144 13.24 for iSCSIProtocolLevel), in the RFC's order.
constexpr std::array<KeyDef, kKeyCount> kKeys = {{
    {KeyId::header_digest, "HeaderDigest", KeyKind::digest_list},
    {KeyId::data_digest, "DataDigest", KeyKind::digest_list},
    {KeyId::max_connections, "MaxConnections", KeyKind::numeric_min, 1, 65535, true},
    {KeyId::send_targets, "SendTargets", KeyKind::full_feature_only},
    {KeyId::target_name, "TargetName", KeyKind::declare_initiator},
    {KeyId::initiator_name, "InitiatorName", KeyKind::declare_initiator},
    {KeyId::target_alias, "TargetAlias", KeyKind::target_only},
    {KeyId::initiator_alias, "InitiatorAlias", KeyKind::declare_initiator},
    {KeyId::target_address, "TargetAddress", KeyKind::target_only},
    {KeyId::target_portal_group_tag, "TargetPortalGroupTag", KeyKind::target_only},
    {KeyId::initial_r2t, "InitialR2T", KeyKind::boolean_or, 0, 0, true},
    {KeyId::immediate_data, "ImmediateData", KeyKind::boolean_and, 0, 0, true},
    {KeyId::max_recv_data_segment_length, "MaxRecvDataSegmentLength", KeyKind::declare_initiator,
     512, kMaxSegment},
    {KeyId::max_burst_length, "MaxBurstLength", KeyKind::numeric_min, 512, kMaxSegment, true},
    {KeyId::first_burst_length, "FirstBurstLength", KeyKind::numeric_min, 512, kMaxSegment, true},
    {KeyId::default_time2wait, "DefaultTime2Wait", KeyKind::numeric_max, 0, 3600},
    {KeyId::default_time2retain, "DefaultTime2Retain", KeyKind::numeric_min, 0, 3600},
    {KeyId::max_outstanding_r2t, "MaxOutstandingR2T", KeyKind::numeric_min, 1, 65535, true},
    {KeyId::data_pdu_in_order, "DataPDUInOrder", KeyKind::boolean_or, 0, 0, true},
    {KeyId::data_sequence_in_order, "DataSequenceInOrder", KeyKind::boolean_or, 0, 0, true},
    {KeyId::error_recovery_level, "ErrorRecoveryLevel", KeyKind::numeric_min, 0, 2},
    {KeyId::session_type, "SessionType", KeyKind::declare_initiator},
    {KeyId::auth_method, "AuthMethod", KeyKind::security},
    {KeyId::of_marker, "OFMarker", KeyKind::marker},
    {KeyId::if_marker, "IFMarker", KeyKind::marker},
    {KeyId::of_mark_int, "OFMarkInt", KeyKind::mark_int},
    {KeyId::if_mark_int, "IFMarkInt", KeyKind::mark_int},
    {KeyId::task_reporting, "TaskReporting", KeyKind::task_reporting, 0, 0, true},
    {KeyId::iscsi_protocol_level, "iSCSIProtocolLevel", KeyKind::numeric_min, 0, 31},
}};

constexpr bool table_in_enum_order() {
    for (std::size_t i = 0; i < kKeys.size(); ++i)
        if (static_cast<std::size_t>(kKeys[i].id) != i) return false;
    return true;
}
static_assert(table_in_enum_order());

std::size_t index(KeyId id) { return static_cast<std::size_t>(id); }

// Declarations that may come in any login stage (RFC 7143 13.4-13.6, 13.21: sent in the
// first Login Request, which may be in the security stage).
bool any_stage(KeyId id) {
    return id == KeyId::initiator_name || id == KeyId::target_name ||
           id == KeyId::initiator_alias || id == KeyId::session_type;
}

// iSCSI names are at most 223 bytes (RFC 7143 4.2.7.1); aliases are text values.
constexpr std::size_t kMaxNameBytes = 223;

}  // namespace

const KeyDef* find_key(std::string_view name) {
    for (const auto& k : kKeys)
        if (k.name == name) return &k;
    return nullptr;
}

const KeyDef& key_def(KeyId id) { return kKeys[index(id)]; }

Negotiator::Negotiator(const TargetLimits& limits) : limits_(limits) {
    ITD_CHECK(limits.max_recv_data_segment_bytes >= 512 &&
              limits.max_recv_data_segment_bytes <= kMaxSegment);
    ITD_CHECK(limits.max_burst_bytes >= 512 && limits.max_burst_bytes <= kMaxSegment);
    ITD_CHECK(limits.first_burst_bytes >= 512 && limits.first_burst_bytes <= limits.max_burst_bytes);
    ITD_CHECK(limits.max_outstanding_r2t >= 1 && limits.max_outstanding_r2t <= 65535);
}

namespace {

// The SessionParams field and our own value for each numeric key.
std::uint32_t* numeric_field(SessionParams& p, KeyId id) {
    switch (id) {
        case KeyId::max_connections: return &p.max_connections;
        case KeyId::max_burst_length: return &p.max_burst_bytes;
        case KeyId::first_burst_length: return &p.first_burst_bytes;
        case KeyId::default_time2wait: return &p.default_time2wait_s;
        case KeyId::default_time2retain: return &p.default_time2retain_s;
        case KeyId::max_outstanding_r2t: return &p.max_outstanding_r2t;
        case KeyId::error_recovery_level: return &p.error_recovery_level;
        case KeyId::iscsi_protocol_level: return &p.iscsi_protocol_level;
        case KeyId::max_recv_data_segment_length: return &p.initiator_max_recv_data_segment_bytes;
        case KeyId::header_digest: case KeyId::data_digest: case KeyId::send_targets:
        case KeyId::target_name: case KeyId::initiator_name: case KeyId::target_alias:
        case KeyId::initiator_alias: case KeyId::target_address:
        case KeyId::target_portal_group_tag: case KeyId::initial_r2t:
        case KeyId::immediate_data: case KeyId::data_pdu_in_order:
        case KeyId::data_sequence_in_order: case KeyId::session_type: case KeyId::auth_method:
        case KeyId::of_marker: case KeyId::if_marker: case KeyId::of_mark_int:
        case KeyId::if_mark_int: case KeyId::task_reporting:
            return nullptr;
    }
    return nullptr;
}

std::uint32_t our_number(const TargetLimits& l, KeyId id) {
    switch (id) {
        case KeyId::max_connections: return 1;       // one connection per session
        case KeyId::max_burst_length: return l.max_burst_bytes;
        case KeyId::first_burst_length: return l.first_burst_bytes;
        case KeyId::default_time2wait: return l.default_time2wait_s;
        case KeyId::default_time2retain: return l.default_time2retain_s;
        case KeyId::max_outstanding_r2t: return l.max_outstanding_r2t;
        case KeyId::error_recovery_level: return 0;  // we implement level 0 only
        case KeyId::iscsi_protocol_level: return 1;  // RFC 7143 is level 1 (RFC 7144 13.24)
        default: break;
    }
    ITD_CHECK(false && "not a numeric key");
    return 0;
}

bool* boolean_field(SessionParams& p, KeyId id) {
    switch (id) {
        case KeyId::initial_r2t: return &p.initial_r2t;
        case KeyId::immediate_data: return &p.immediate_data;
        case KeyId::data_pdu_in_order: return &p.data_pdu_in_order;
        case KeyId::data_sequence_in_order: return &p.data_sequence_in_order;
        default: return nullptr;
    }
}

bool our_boolean(const TargetLimits& l, KeyId id) {
    switch (id) {
        case KeyId::initial_r2t: return l.initial_r2t;
        case KeyId::immediate_data: return l.immediate_data;
        // We deliver data PDUs and sequences in order only, so we answer Yes (OR with Yes).
        case KeyId::data_pdu_in_order: return true;
        case KeyId::data_sequence_in_order: return true;
        default: break;
    }
    ITD_CHECK(false && "not a boolean key");
    return false;
}

}  // namespace

std::string Negotiator::apply(const KeyDef& def, std::string_view value) {
    // Answers of "" mean "our agreed value", rendered once the whole request is applied.
    switch (def.kind) {
        case KeyKind::digest_list: {
            // RFC 7143 13.1: the responder picks the first value of the list it supports;
            // values it does not know are skipped (RFC 7143 6.2.1).
            const bool allowed = def.id == KeyId::header_digest ? limits_.header_digest_allowed
                                                                : limits_.data_digest_allowed;
            auto items = split_list(value);
            if (!items) return "Reject";
            bool& field = def.id == KeyId::header_digest ? params_.header_digest : params_.data_digest;
            for (auto item : *items) {
                if (item == "None") {
                    field = false;
                    return "";
                }
                if (item == "CRC32C" && allowed) {
                    field = true;
                    return "";
                }
            }
            return "Reject";
        }
        case KeyKind::numeric_min:
        case KeyKind::numeric_max: {
            auto v = parse_number(value);
            if (!v || *v < def.min || *v > def.max) return "Reject";
            const auto offer = static_cast<std::uint32_t>(*v);
            const std::uint32_t ours = our_number(limits_, def.id);
            *numeric_field(params_, def.id) =
                def.kind == KeyKind::numeric_min ? std::min(offer, ours) : std::max(offer, ours);
            return "";
        }
        case KeyKind::boolean_or:
        case KeyKind::boolean_and: {
            auto v = parse_boolean(value);
            if (!v) return "Reject";
            const bool ours = our_boolean(limits_, def.id);
            *boolean_field(params_, def.id) = def.kind == KeyKind::boolean_or ? (*v || ours) : (*v && ours);
            return "";
        }
        case KeyKind::marker:
            // RFC 7143 13.25: markers are obsolete; "No" is allowed as an answer and is what
            // RFC 3720 initiators expect.
            return "No";
        case KeyKind::mark_int:
            return "Reject";  // RFC 7143 13.25: MUST answer Reject
        case KeyKind::task_reporting: {
            auto items = split_list(value);
            if (items && std::find(items->begin(), items->end(), "RFC3720") != items->end())
                return "RFC3720";
            return "Reject";
        }
        case KeyKind::declare_initiator:
        case KeyKind::target_only:
        case KeyKind::full_feature_only:
        case KeyKind::security:
            break;
    }
    ITD_CHECK(false && "not a negotiated key");
    return "Reject";
}

std::string Negotiator::answer_value(KeyId id) const {
    if (id == KeyId::header_digest) return params_.header_digest ? "CRC32C" : "None";
    if (id == KeyId::data_digest) return params_.data_digest ? "CRC32C" : "None";
    // RFC 7143 13.14: FirstBurstLength is irrelevant with InitialR2T=Yes and ImmediateData=No.
    if (id == KeyId::first_burst_length && params_.initial_r2t && !params_.immediate_data)
        return "Irrelevant";
    SessionParams copy = params_;
    if (auto* n = numeric_field(copy, id)) return std::to_string(*n);
    if (auto* b = boolean_field(copy, id)) return boolean_text(*b);
    ITD_CHECK(false && "no agreed value to render");
    return "";
}

void Negotiator::fix_dependencies() {
    // RFC 7143 13.14: FirstBurstLength must not exceed MaxBurstLength. An initiator that offers
    // a larger first burst than its own maximum gets the maximum rather than a failed login.
    params_.first_burst_bytes = std::min(params_.first_burst_bytes, params_.max_burst_bytes);
}

std::expected<void, NegotiationError> Negotiator::on_request(std::span<const TextPair> pairs,
                                                             Stage stage,
                                                             std::vector<TextPair>& answers) {
    // Answers are collected as (key, fixed value or "") and rendered at the end, so values that
    // depend on each other (FirstBurstLength on MaxBurstLength, InitialR2T, ImmediateData) are
    // answered consistently whatever order the keys came in.
    std::vector<TextPair> pending_answers;
    // SessionType first: it decides which keys are irrelevant (RFC 7143 13.21).
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& kv : pairs) {
            const KeyDef* def = find_key(kv.key);
            const bool is_session_type = def && def->id == KeyId::session_type;
            if ((pass == 0) != is_session_type) continue;
            if (!def) {
                // RFC 7143 6.2: unknown keys, X- and X# extension keys included.
                if (kv.key.starts_with("CHAP_") && stage == Stage::security) continue;
                if (kv.key.starts_with("CHAP_")) return std::unexpected(NegotiationError::initiator_error);
                pending_answers.push_back(TextPair{kv.key, "NotUnderstood"});
                continue;
            }
            if (auto r = one(*def, kv, stage, pending_answers); !r) return r;
        }
    }
    fix_dependencies();
    for (auto& a : pending_answers) {
        if (a.value.empty()) a.value = answer_value(find_key(a.key)->id);
        answers.push_back(std::move(a));
    }
    return {};
}

std::expected<void, NegotiationError> Negotiator::one(const KeyDef& def, const TextPair& kv,
                                                      Stage stage, std::vector<TextPair>& answers) {
    const auto fail = std::unexpected(NegotiationError::initiator_error);
    const std::size_t i = index(def.id);
    switch (def.kind) {
        case KeyKind::security:
            // The security stage reads these itself; after it they are out of place.
            if (stage == Stage::security) return {};
            return fail;
        case KeyKind::target_only:        // RFC 7143 13.7, 13.8, 13.9: sent by targets only
        case KeyKind::full_feature_only:  // RFC 7143 13.3: SendTargets is for text requests
            return fail;
        case KeyKind::digest_list: case KeyKind::numeric_min: case KeyKind::numeric_max:
        case KeyKind::boolean_or: case KeyKind::boolean_and: case KeyKind::declare_initiator:
        case KeyKind::marker: case KeyKind::mark_int: case KeyKind::task_reporting:
            break;
    }
    if (stage == Stage::security && !any_stage(def.id)) return fail;

    // RFC 7143 6.2: a key is negotiated or declared once per login. Some initiators
    // (libiscsi) repeat their declarations in the operational stage after security; an
    // identical repeat is harmless and is answered as before, a different value is an error.
    if (seen_[i]) {
        if (seen_value_[i] != kv.value) return fail;
        if (answer_[i]) answers.push_back(TextPair{kv.key, *answer_[i]});
        return {};
    }
    seen_[i] = true;
    seen_value_[i] = kv.value;

    if (pending_[i]) {
        // The initiator's answer to our offer (target_keys()): applying the result function
        // to our offer and its answer gives the agreed value; an answer that is no valid value
        // is a failed negotiation.
        pending_[i] = false;
        if (!apply(def, kv.value).empty()) return fail;
        return {};
    }

    if (def.kind == KeyKind::declare_initiator) {
        switch (def.id) {
            case KeyId::session_type:
                if (kv.value == "Normal") params_.session_type = SessionType::normal;
                else if (kv.value == "Discovery") params_.session_type = SessionType::discovery;
                else return std::unexpected(NegotiationError::session_type_not_supported);
                return {};
            case KeyId::initiator_name:
            case KeyId::target_name: {
                if (kv.value.empty() || kv.value.size() > kMaxNameBytes) return fail;
                (def.id == KeyId::initiator_name ? params_.initiator_name : params_.target_name) =
                    kv.value;
                return {};
            }
            case KeyId::initiator_alias:
                if (kv.value.size() > kMaxTextValueBytes) return fail;
                params_.initiator_alias = kv.value;
                return {};
            case KeyId::max_recv_data_segment_length: {
                // A declaration cannot be answered with Reject: a value outside 512..2^24-1
                // leaves us not knowing what the initiator accepts, so the login fails.
                auto v = parse_number(kv.value);
                if (!v || *v < def.min || *v > def.max) return fail;
                params_.initiator_max_recv_data_segment_bytes = static_cast<std::uint32_t>(*v);
                return {};
            }
            default:
                break;
        }
        ITD_CHECK(false && "unhandled declaration");
    }

    if (def.irrelevant_in_discovery && params_.session_type == SessionType::discovery)
        answer_[i] = "Irrelevant";
    else if (kv.value.size() > kMaxTextValueBytes)
        answer_[i] = "Reject";
    else
        answer_[i] = apply(def, kv.value);
    answers.push_back(TextPair{kv.key, *answer_[i]});
    return {};
}

bool Negotiator::target_keys(std::vector<TextPair>& answers) {
    if (!declared_mrdsl_) {
        // RFC 7143 13.12: each side declares what it receives; unless we say so, the
        // initiator may send us no more than 8192 bytes per PDU.
        declared_mrdsl_ = true;
        params_.target_max_recv_data_segment_bytes = limits_.max_recv_data_segment_bytes;
        answers.push_back(TextPair{"MaxRecvDataSegmentLength",
                                   std::to_string(limits_.max_recv_data_segment_bytes)});
    }
    if (params_.session_type == SessionType::normal) {
        // Offers for keys the initiator left at a default we cannot accept.
        auto offer = [&](KeyId id, bool needed, std::string value) {
            const std::size_t i = index(id);
            if (!needed || seen_[i] || pending_[i]) return;
            pending_[i] = true;
            answers.push_back(TextPair{std::string(key_def(id).name), std::move(value)});
        };
        offer(KeyId::immediate_data, !limits_.immediate_data && params_.immediate_data, "No");
        offer(KeyId::max_burst_length, limits_.max_burst_bytes < params_.max_burst_bytes,
              std::to_string(limits_.max_burst_bytes));
        offer(KeyId::first_burst_length, limits_.first_burst_bytes < params_.first_burst_bytes,
              std::to_string(limits_.first_burst_bytes));
    }
    return pending_.any();
}

}  // namespace itd::iscsi
