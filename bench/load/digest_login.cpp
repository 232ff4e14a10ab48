#include "digest_login.h"

#include <algorithm>
#include <cstdio>

namespace itd::load {

namespace {

using iscsi::Opcode;
using iscsi::TextPair;

constexpr std::uint8_t kOperational = 1;  // CSG/NSG values (RFC 7143 11.12.3)
constexpr std::uint8_t kFullFeature = 3;
constexpr std::uint32_t kLoginItt = 0;

std::string hex2(std::uint8_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", v);
    return buf;
}

// RFC 7143 13.12: a declared MaxRecvDataSegmentLength is 512 to 2^24 - 1.
constexpr std::uint64_t kMinSegment = 512;
constexpr std::uint64_t kMaxSegment = (1u << 24) - 1;

// The answer to a numerical offer of ours: the smaller value (RFC 7143 13.13, 13.14 are
// "minimum" keys), or the RFC default when the target would not negotiate the key.
std::uint32_t answered_minimum(std::string_view value, std::uint32_t ours,
                               std::uint32_t rfc_default) {
    auto v = iscsi::parse_number(value);
    if (!v || *v < kMinSegment || *v > kMaxSegment) return rfc_default;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(*v, ours));
}

}  // namespace

std::string login_status_text(std::uint8_t status_class, std::uint8_t status_detail) {
    const char* what = "login failed";
    if (status_class == 1) {
        what = "the target redirects the login elsewhere (not followed)";
    } else if (status_class == 2) {
        switch (status_detail) {
            case 0x01:
                what = "authentication failed";
                break;
            case 0x02:
                what = "authorization failure: this initiator may not log in";
                break;
            case 0x03:
                what = "target not found";
                break;
            case 0x04:
                what = "target removed";
                break;
            case 0x05:
                what = "unsupported iSCSI version";
                break;
            case 0x06:
                what = "too many connections";
                break;
            case 0x07:
                what = "missing parameter";
                break;
            case 0x09:
                what = "session type not supported";
                break;
            case 0x0b:
                what = "request invalid during login";
                break;
            default:
                what = "initiator error";
                break;
        }
    } else if (status_class == 3) {
        what = status_detail == 0x01   ? "target service unavailable"
               : status_detail == 0x02 ? "target out of resources"
                                       : "target error";
    }
    return std::string(what) + " (status class " + hex2(status_class) + ", detail " +
           hex2(status_detail) + ")";
}

Login::Login(LoginConfig config) : config_(std::move(config)) {}

iscsi::Pdu Login::request(bool transit, std::vector<std::uint8_t> text) const {
    iscsi::Pdu pdu;
    // RFC 7143 11.12: a Login Request is always immediate; CmdSN does not advance during login.
    pdu.bhs.set_opcode(Opcode::login_request, true);
    pdu.bhs.set_flags(static_cast<std::uint8_t>((transit ? iscsi::flag::transit : 0) |
                                                (kOperational << 2) | kFullFeature));
    pdu.bhs.set_isid(config_.isid);
    pdu.bhs.set_tsih(0);  // a new session
    pdu.bhs.set_itt(kLoginItt);
    pdu.bhs.set_cid(0);
    pdu.bhs.set_cmd_sn(config_.cmd_sn);
    pdu.bhs.set_exp_stat_sn(exp_stat_sn_);
    pdu.data = std::move(text);
    return pdu;
}

iscsi::Pdu Login::first_request() {
    const char* hd = config_.header_digest ? "CRC32C" : "None";
    const char* dd = config_.data_digest ? "CRC32C" : "None";
    std::vector<std::uint8_t> text;
    iscsi::append_text(text, "InitiatorName", config_.initiator_name);
    iscsi::append_text(text, "TargetName", config_.target_name);
    iscsi::append_text(text, "SessionType", "Normal");
    iscsi::append_text(text, "HeaderDigest", hd);
    iscsi::append_text(text, "DataDigest", dd);
    iscsi::append_text(text, "ImmediateData", "Yes");
    iscsi::append_text(text, "InitialR2T", "Yes");
    iscsi::append_text(text, "MaxRecvDataSegmentLength",
                       std::to_string(config_.max_recv_data_segment_bytes));
    iscsi::append_text(text, "FirstBurstLength", std::to_string(config_.first_burst_bytes));
    iscsi::append_text(text, "MaxBurstLength", std::to_string(config_.max_burst_bytes));
    return request(true, std::move(text));
}

std::expected<std::optional<iscsi::Pdu>, std::string> Login::on_response(
    const iscsi::Pdu& response) {
    using Result = std::expected<std::optional<iscsi::Pdu>, std::string>;
    const iscsi::Bhs& bhs = response.bhs;
    if (bhs.opcode() != Opcode::login_response)
        return std::unexpected("expected a Login Response, got opcode " + hex2(bhs.opcode_raw()));
    if (++steps_ > kMaxLoginSteps)
        return std::unexpected("the target did not finish the login in " +
                               std::to_string(kMaxLoginSteps) + " steps");
    if (bhs.status_class() != 0)
        return std::unexpected(login_status_text(bhs.status_class(), bhs.status_detail()));
    if (bhs.itt() != kLoginItt) return std::unexpected("Login Response with a foreign task tag");
    if (bhs.byte3() != 0)
        return std::unexpected("the target speaks iSCSI version " + hex2(bhs.byte3()) +
                               ", not 0x00");
    if (bhs.csg() != kOperational)
        return std::unexpected("the target answered for login stage " + std::to_string(bhs.csg()) +
                               ", not the operational stage");
    // RFC 7143 11.13.4: StatSN of the first response is the initial StatSN.
    exp_stat_sn_ = bhs.stat_sn() + 1;
    exp_cmd_sn_ = bhs.exp_cmd_sn();
    max_cmd_sn_ = bhs.max_cmd_sn();

    auto joined = text_.add(response.data, bhs.cont());
    if (!joined)
        return std::unexpected(std::string("bad text in a Login Response: ") +
                               iscsi::to_string(joined.error()));
    // RFC 7143 6.1.1: more text follows; an empty request asks for it.
    if (!joined->has_value()) return Result(request(false, {}));

    std::vector<TextPair> answers;
    if (auto ok = on_keys(**joined, answers); !ok) return std::unexpected(ok.error());
    if (bhs.transit() && bhs.nsg() == kFullFeature) {
        if (auto ok = check_agreed(); !ok) return std::unexpected(ok.error());
        tsih_ = bhs.tsih();
        return Result(std::nullopt);
    }
    if (bhs.transit())
        return std::unexpected("the target moves to login stage " + std::to_string(bhs.nsg()) +
                               ", not to full feature phase");
    // The target wants another round: our answers to its offers, and we still ask to transit.
    return Result(request(true, iscsi::encode_text(answers)));
}

std::expected<void, std::string> Login::on_keys(const std::vector<TextPair>& pairs,
                                                std::vector<TextPair>& answers) {
    for (const TextPair& kv : pairs) {
        const std::string& key = kv.key;
        const std::string& value = kv.value;
        if (key == "HeaderDigest" || key == "DataDigest") {
            const int i = key == "HeaderDigest" ? 0 : 1;
            digest_answered_[i] = true;
            digest_answer_[i] = value;
            (i == 0 ? negotiated_.header_digest : negotiated_.data_digest) = value == "CRC32C";
        } else if (key == "MaxRecvDataSegmentLength") {
            auto v = iscsi::parse_number(value);
            if (!v || *v < kMinSegment || *v > kMaxSegment)
                return std::unexpected("the target declared MaxRecvDataSegmentLength=" + value +
                                       " (not 512 to 16777215)");
            negotiated_.target_max_recv_data_segment_bytes = static_cast<std::uint32_t>(*v);
        } else if (key == "FirstBurstLength") {
            negotiated_.first_burst_bytes =
                answered_minimum(value, config_.first_burst_bytes, 65536);
        } else if (key == "MaxBurstLength") {
            negotiated_.max_burst_bytes = answered_minimum(value, config_.max_burst_bytes, 262144);
        } else if (key == "ImmediateData") {
            // RFC 7143 13.11 (AND): "No" from the target wins; anything else leaves the default.
            negotiated_.immediate_data = value != "No";
        } else if (key == "InitialR2T") {
            negotiated_.initial_r2t = value != "No";  // 13.10 (OR); we offered Yes
        } else if (key == "MaxOutstandingR2T") {
            // The target's offer (RFC 7143 13.17, minimum): we take any number of R2Ts.
            auto v = iscsi::parse_number(value);
            if (!v || *v < 1 || *v > 65535) {
                answers.push_back({key, "Reject"});
            } else {
                negotiated_.max_outstanding_r2t = static_cast<std::uint32_t>(*v);
                answers.push_back({key, value});
            }
        } else if (key == "DefaultTime2Wait" || key == "DefaultTime2Retain") {
            answers.push_back({key, value});  // no reconnection here: whatever it likes
        } else if (key == "MaxConnections") {
            answers.push_back({key, "1"});
        } else if (key == "ErrorRecoveryLevel") {
            answers.push_back({key, "0"});
        } else if (key == "DataPDUInOrder" || key == "DataSequenceInOrder") {
            answers.push_back({key, "Yes"});  // OR: the Data-In checks rely on order
        } else if (key == "IFMarker" || key == "OFMarker") {
            answers.push_back({key, "No"});
        } else if (key == "TargetAlias" || key == "TargetPortalGroupTag" ||
                   key == "TargetAddress") {
            // Declarations of the target: nothing to answer.
        } else {
            answers.push_back({key, "NotUnderstood"});
        }
    }
    return {};
}

std::expected<void, std::string> Login::check_agreed() const {
    const bool wanted[2] = {config_.header_digest, config_.data_digest};
    const bool got[2] = {negotiated_.header_digest, negotiated_.data_digest};
    const char* names[2] = {"HeaderDigest", "DataDigest"};
    for (int i = 0; i < 2; ++i) {
        const std::string asked = wanted[i] ? "CRC32C" : "None";
        const std::string answer = digest_answered_[i] ? digest_answer_[i] : "(no answer)";
        // RFC 7143 13.1: the answer is one of the values offered; we offer just one.
        if (wanted[i] != got[i] || (digest_answered_[i] && answer != asked))
            return std::unexpected("the target did not agree to " + std::string(names[i]) + "=" +
                                   asked + ": it answered " + answer);
    }
    return {};
}

}  // namespace itd::load
