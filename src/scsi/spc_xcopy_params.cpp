#include "scsi/spc_xcopy_params.h"

#include <algorithm>

#include "common/endian.h"

namespace itd::scsi {

namespace {

std::unexpected<XcopyParseError> fail(SenseReason reason, std::size_t byte,
                                      std::optional<std::uint8_t> bit = {}) {
    const auto at = static_cast<std::uint16_t>(std::min<std::size_t>(byte, 0xffff));
    return std::unexpected(XcopyParseError{reason, FieldPointer{false, at, bit}});
}

std::unexpected<XcopyParseError> invalid(std::size_t byte, std::optional<std::uint8_t> bit = {}) {
    return fail(SenseReason::invalid_field_in_parameter_list, byte, bit);
}

std::unexpected<XcopyParseError> length_error() {
    return std::unexpected(XcopyParseError{SenseReason::parameter_list_length_error, {}});
}

// The most significant bit set in the bits of value that mask leaves out, if any.
std::optional<std::uint8_t> reserved_bit(std::uint8_t value, std::uint8_t used_mask) {
    const auto extra = static_cast<std::uint8_t>(value & ~used_mask);
    if (extra == 0) return std::nullopt;
    std::uint8_t bit = 7;
    while ((extra & (1u << bit)) == 0) --bit;
    return bit;
}

// SPC-4 6.4.5 identification descriptor CSCD descriptor (E4h), 32 bytes at list[at].
std::expected<CscdDescriptor, XcopyParseError> parse_identification(
    std::span<const std::uint8_t> list, std::size_t at) {
    const std::uint8_t* d = &list[at];
    CscdDescriptor c;
    c.offset = at;
    // Byte 1: LU ID TYPE (bits 7-6) and NUL (bit 5) are ignored: SPC-4 makes NUL obsolete, and
    // an identification descriptor names its LU by the designator, not by a LU IDENTIFIER
    // (libiscsi's ExtendedCopy.ValidTgtDescr expects GOOD with a reserved LU ID TYPE).
    c.peripheral_type = d[1] & 0x1f;
    // Bytes 2-3 RELATIVE INITIATOR PORT IDENTIFIER: we reach our own LUs through no port.
    if (auto bit = reserved_bit(d[4], 0x0f)) return invalid(at + 4, bit);
    c.code_set = d[4] & 0x0f;
    // Byte 5: PIV (bit 7) only qualifies port designators, which never name a LU.
    if (auto bit = reserved_bit(d[5], 0xbf)) return invalid(at + 5, bit);
    c.association = (d[5] >> 4) & 0x03;
    c.designator_type = d[5] & 0x0f;
    if (d[6] != 0) return invalid(at + 6);
    // SPC-4 6.4.5: the DESIGNATOR field is 20 bytes; a longer designator cannot be named.
    if (d[7] > kMaxCscdDesignatorBytes) return invalid(at + 7);
    c.designator_bytes = d[7];
    std::copy_n(d + 8, c.designator_bytes, c.designator.begin());
    if (c.peripheral_type == 0x00) {
        // SPC-4 6.4.5 block device type specific CSCD parameters: PAD, DISK BLOCK LENGTH.
        if (auto bit = reserved_bit(d[28], 0x04)) return invalid(at + 28, bit);
        c.pad = (d[28] & 0x04) != 0;
        c.disk_block_bytes = load_be24(d + 29);
    }
    return c;
}

// SPC-4 6.4.6 block device to block device segment descriptor (02h), at list[at], whose
// four-byte header has been checked to fit.
std::expected<BlockSegment, XcopyParseError> parse_block_to_block(
    std::span<const std::uint8_t> list, std::size_t at) {
    const std::uint8_t* d = &list[at];
    // DESCRIPTOR LENGTH counts the bytes after it: 0018h for this type.
    if (load_be16(d + 2) != kBlockToBlockSegmentBytes - kSegmentHeaderBytes) {
        return invalid(at + 2);
    }
    BlockSegment s;
    s.offset = at;
    if (auto bit = reserved_bit(d[1], 0x03)) return invalid(at + 1, bit);
    s.dc = (d[1] & 0x02) != 0;
    s.cat = (d[1] & 0x01) != 0;
    s.source = load_be16(d + kSegmentSourceIdAt);
    s.destination = load_be16(d + kSegmentDestinationIdAt);
    if (d[8] != 0 || d[9] != 0) return invalid(at + 8);
    s.blocks = load_be16(d + kSegmentBlocksAt);
    s.source_lba = load_be64(d + kSegmentSourceLbaAt);
    s.destination_lba = load_be64(d + kSegmentDestinationLbaAt);
    return s;
}

}  // namespace

std::expected<XcopyParameters, XcopyParseError> parse_xcopy_parameters(
    std::span<const std::uint8_t> list, const XcopyLimits& limits) {
    // SPC-4 6.4.1: a parameter list that cannot hold its own header is truncated.
    if (list.size() < kXcopyHeaderBytes) return length_error();

    XcopyParameters p;
    p.list_id = list[0];
    if (auto bit = reserved_bit(list[1], 0x3f)) return invalid(1, bit);
    p.str = (list[1] & 0x20) != 0;
    p.priority = list[1] & 0x07;
    switch ((list[1] >> 3) & 0x03) {
        case 0:
            p.list_id_usage = ListIdUsage::hold;
            break;
        case 2:
            p.list_id_usage = ListIdUsage::discard;
            break;
        case 3:
            p.list_id_usage = ListIdUsage::none;
            break;
        default:
            return invalid(1, 4);  // 01b is reserved
    }
    // SPC-4 6.4.3: LIST ID USAGE 11b asks for a LIST IDENTIFIER of zero.
    if (p.list_id_usage == ListIdUsage::none && p.list_id != 0) return invalid(0);
    for (std::size_t i = 4; i < 8; ++i) {
        if (list[i] != 0) return invalid(i);
    }

    const std::size_t cscd_bytes = load_be16(&list[2]);
    const std::size_t segment_bytes = load_be32(&list[8]);
    const std::size_t inline_bytes = load_be32(&list[12]);
    // SPC-4 6.4.3: descriptor lists longer than the MAXIMUM DESCRIPTOR LIST LENGTH we report
    // are a PARAMETER LIST LENGTH ERROR. Checked before the counts, so that a list that is
    // both too long and has too many descriptors says "too long" (libiscsi DescrLimits).
    if (cscd_bytes + segment_bytes > limits.max_descriptor_list_bytes) return length_error();
    // No segment descriptor we support reads inline data, so MAXIMUM INLINE DATA LENGTH is 0.
    if (inline_bytes > limits.max_inline_data_bytes) {
        return fail(SenseReason::inline_data_length_exceeded, 12);
    }
    // SPC-4 6.4.1: lists the PARAMETER LIST LENGTH (or the data that arrived) cuts short.
    const std::size_t cscd_end = kXcopyHeaderBytes + cscd_bytes;
    const std::size_t segment_end = cscd_end + segment_bytes;
    if (segment_end + inline_bytes > list.size()) return length_error();

    // CSCD descriptors. Only E4h is supported, and E4h is 32 bytes long.
    p.cscds.reserve(
        std::min<std::size_t>(cscd_bytes / kCscdDescriptorBytes, limits.max_cscd_descriptors));
    for (std::size_t at = kXcopyHeaderBytes; at < cscd_end; at += kCscdDescriptorBytes) {
        // SPC-4 6.4.3.4: more than MAXIMUM CSCD DESCRIPTOR COUNT: TOO MANY TARGET DESCRIPTORS.
        if (p.cscds.size() == limits.max_cscd_descriptors) {
            return fail(SenseReason::too_many_target_descriptors, 2);
        }
        if (list[at] != kIdentificationCscd) {
            return fail(SenseReason::unsupported_target_descriptor_type, at);
        }
        // The list length must end on a descriptor boundary.
        if (cscd_end - at < kCscdDescriptorBytes) return invalid(2);
        auto c = parse_identification(list, at);
        if (!c) return std::unexpected(c.error());
        p.cscds.push_back(*c);
    }

    // Segment descriptors: each says its own length after a four-byte header.
    std::size_t at = cscd_end;
    while (at < segment_end) {
        // SPC-4 6.4.3.5: more than MAXIMUM SEGMENT DESCRIPTOR COUNT: TOO MANY SEGMENT
        // DESCRIPTORS.
        if (p.segments.size() == limits.max_segment_descriptors) {
            return fail(SenseReason::too_many_segment_descriptors, 8);
        }
        if (segment_end - at < kSegmentHeaderBytes) return invalid(8);
        if (list[at] != kBlockToBlockSegment) {
            return fail(SenseReason::unsupported_segment_descriptor_type, at);
        }
        const std::size_t length = kSegmentHeaderBytes + load_be16(&list[at + 2]);
        if (length > segment_end - at) return invalid(at + 2);
        auto s = parse_block_to_block(list, at);
        if (!s) return std::unexpected(s.error());
        p.segments.push_back(*s);
        at += length;
    }
    return p;
}

}  // namespace itd::scsi
