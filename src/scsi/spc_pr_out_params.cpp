#include "scsi/spc_pr_out_params.h"

#include <algorithm>
#include <cstdio>

#include "common/endian.h"

namespace itd::scsi {

namespace {

constexpr std::uint8_t kProtocolIscsi = 0x5;  // SPC-4 7.6.1 table 444
constexpr std::uint8_t kFormatPort = 0x1;     // SPC-4 7.6.4.6: initiator port (name + ISID)
constexpr std::string_view kPortSeparator = ",i,0x";

std::unexpected<PrOutParseError> length_error() {
    return std::unexpected(PrOutParseError{SenseReason::parameter_list_length_error, {}});
}

std::unexpected<PrOutParseError> field_error(std::size_t byte,
                                             std::optional<std::uint8_t> bit = {}) {
    return std::unexpected(PrOutParseError{
        SenseReason::invalid_field_in_parameter_list,
        FieldPointer{false, static_cast<std::uint16_t>(std::min<std::size_t>(byte, 0xffff)), bit}});
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::expected<std::string, std::size_t> parse_iscsi_port_transport_id(
    std::span<const std::uint8_t> tid) {
    if (tid.size() < 24) return std::unexpected(std::size_t{0});
    if ((tid[0] & 0x0f) != kProtocolIscsi) return std::unexpected(std::size_t{0});
    // SPC-4 7.6.4.6: format 00b names only the initiator device, every one of its ports; a
    // REGISTER AND MOVE needs one I_T nexus, so only 01b (name and ISID) will do.
    if ((tid[0] >> 6) != kFormatPort) return std::unexpected(std::size_t{0});
    const std::size_t additional = load_be16(&tid[2]);
    // SPC-4 7.6.4.6: ADDITIONAL LENGTH is a multiple of four, at least 20, and the
    // TransportID must lie inside the data that holds it.
    if (additional < 20 || additional % 4 != 0 || 4 + additional > tid.size())
        return std::unexpected(std::size_t{2});
    const auto text = tid.subspan(4, additional);
    const auto nul = std::find(text.begin(), text.end(), std::uint8_t{0});
    if (nul == text.end()) return std::unexpected(std::size_t{4});
    const std::string_view port(reinterpret_cast<const char*>(text.data()),
                                static_cast<std::size_t>(nul - text.begin()));
    // "name,i,0x" then the ISID in hex (SPC-4 7.6.4.6: the separator is case-insensitive).
    std::string folded(port.size(), '\0');
    std::transform(port.begin(), port.end(), folded.begin(), lower);
    const std::size_t sep = folded.find(kPortSeparator);
    if (sep == 0 || sep == std::string::npos || sep > 223) return std::unexpected(std::size_t{4});
    const std::string_view isid_hex = std::string_view(folded).substr(sep + kPortSeparator.size());
    if (isid_hex.empty() || isid_hex.size() > 12) return std::unexpected(std::size_t{4 + sep});
    std::uint64_t isid = 0;
    for (const char c : isid_hex) {
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        if (digit < 0) return std::unexpected(std::size_t{4 + sep});
        isid = (isid << 4) | static_cast<std::uint64_t>(digit);
    }
    const std::string_view name = std::string_view(folded).substr(0, sep);
    for (const char c : name) {
        // RFC 7143 4.2.7.1 characters; anything else (a comma, a space, a control byte) cannot
        // be a name we would have logged in.
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':';
        if (!ok) return std::unexpected(std::size_t{4});
    }
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ",i,0x%012llx", static_cast<unsigned long long>(isid));
    return std::string(name) + suffix;
}

std::vector<std::uint8_t> iscsi_port_transport_id(std::string_view initiator_port) {
    // NUL terminated, padded to a multiple of four, ADDITIONAL LENGTH at least 20.
    std::size_t additional = (initiator_port.size() + 1 + 3) / 4 * 4;
    additional = std::max<std::size_t>(additional, 20);
    additional = std::min<std::size_t>(additional, 0xfffc);
    std::vector<std::uint8_t> tid(4 + additional, 0);
    tid[0] = static_cast<std::uint8_t>((kFormatPort << 6) | kProtocolIscsi);
    store_be16(&tid[2], static_cast<std::uint16_t>(additional));
    const std::size_t n = std::min(initiator_port.size(), additional - 1);
    std::copy_n(initiator_port.begin(), n, tid.begin() + 4);
    return tid;
}

std::expected<PrOutParameters, PrOutParseError> parse_pr_out_parameters(
    PrOutAction action, std::span<const std::uint8_t> list) {
    // SPC-4 6.16.3 / 6.16.4: both layouts start with a 24-byte part; less is PARAMETER LIST
    // LENGTH ERROR.
    if (list.size() < kPrOutBasicBytes) return length_error();
    PrOutParameters p;
    p.reservation_key = load_be64(&list[0]);
    p.service_action_key = load_be64(&list[8]);

    if (action == PrOutAction::register_and_move) {
        p.unreg = (list[17] & 0x02) != 0;
        p.aptpl = (list[17] & 0x01) != 0;
        p.relative_target_port = load_be16(&list[18]);
        const std::size_t tid_length = load_be32(&list[20]);
        // SPC-4 6.16.4: the list holds the 24 bytes and exactly the TransportID data.
        if (tid_length > kMaxTransportIdBytes || kPrOutBasicBytes + tid_length != list.size())
            return length_error();
        // SPC-4 7.6.4.6: an iSCSI TransportID is at least 24 bytes; a shorter TRANSPORTID
        // PARAMETER DATA LENGTH cannot hold one.
        if (tid_length < 24) return field_error(20);
        auto port = parse_iscsi_port_transport_id(list.subspan(kPrOutBasicBytes));
        if (!port) return field_error(kPrOutBasicBytes + port.error());
        p.move_to_initiator_port = std::move(*port);
        return p;
    }

    p.spec_i_pt = (list[20] & 0x08) != 0;
    p.all_tg_pt = (list[20] & 0x04) != 0;
    p.aptpl = (list[20] & 0x01) != 0;
    // SPC-4 6.16.3: SPEC_I_PT is valid only for REGISTER; set for any other service action, or
    // for REGISTER when the device server does not support it (SIP_C=0, as here), it is
    // INVALID FIELD IN PARAMETER LIST.
    if (p.spec_i_pt) return field_error(20, 3);
    // SPC-4 6.16.3: with SPEC_I_PT zero the list is 24 bytes.
    if (list.size() != kPrOutBasicBytes) return length_error();
    return p;
}

}  // namespace itd::scsi
