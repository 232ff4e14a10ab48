// The EXTENDED COPY (LID1) parameter list (SPC-4 6.4), decoded and bounded apart from the copy
// itself so that it can be fuzzed on its own (tests/fuzz/fuzz_xcopy.cpp).
//
//   byte 0       LIST IDENTIFIER
//   byte 1       bit 5 STR, bits 4-3 LIST ID USAGE, bits 2-0 PRIORITY
//   byte 2-3     CSCD (target) DESCRIPTOR LIST LENGTH (n - 15)
//   byte 4-7     reserved
//   byte 8-11    SEGMENT DESCRIPTOR LIST LENGTH (m - n)
//   byte 12-15   INLINE DATA LENGTH (k - m)
//   byte 16..n   CSCD descriptors; we support E4h (identification descriptor), 32 bytes:
//                  0 E4h, 1 LU ID TYPE / NUL / PERIPHERAL DEVICE TYPE, 2-3 RELATIVE INITIATOR
//                  PORT IDENTIFIER, 4 CODE SET, 5 PIV / ASSOCIATION / DESIGNATOR TYPE,
//                  6 reserved, 7 DESIGNATOR LENGTH, 8-27 DESIGNATOR, 28-31 device type
//                  specific (block: 28 PAD, 29-31 DISK BLOCK LENGTH)
//   byte n+1..m  segment descriptors; we support 02h (block device to block device), 28 bytes:
//                  0 02h, 1 DC / CAT, 2-3 DESCRIPTOR LENGTH (0018h), 4-5 SOURCE CSCD
//                  DESCRIPTOR ID, 6-7 DESTINATION CSCD DESCRIPTOR ID, 8-9 reserved,
//                  10-11 BLOCK DEVICE NUMBER OF BLOCKS, 12-19 SOURCE LBA, 20-27 DESTINATION LBA
//   byte m+1..k  inline data (none: we support no segment descriptor that uses it)
//
// The parser checks what the list says about itself (lengths, counts, type codes, reserved
// bits). What needs the logical units (does a designator name one, do the LBAs fit) is checked
// while the segments are processed (spc_xcopy.cpp), where SPC-4 6.4 wants COPY ABORTED.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <vector>

#include "scsi/sense.h"

namespace itd::scsi {

inline constexpr std::size_t kXcopyHeaderBytes = 16;
inline constexpr std::size_t kCscdDescriptorBytes = 32;
inline constexpr std::size_t kSegmentHeaderBytes = 4;
inline constexpr std::size_t kBlockToBlockSegmentBytes = 28;
inline constexpr std::uint8_t kIdentificationCscd = 0xe4;
inline constexpr std::uint8_t kBlockToBlockSegment = 0x02;
// SPC-4 7.8.6.1: the designator of an identification CSCD descriptor holds at most 20 bytes.
inline constexpr std::size_t kMaxCscdDesignatorBytes = 20;

// SPC-4 6.4.3 LIST ID USAGE (01b is reserved).
enum class ListIdUsage : std::uint8_t {
    hold = 0,     // status kept for RECEIVE COPY RESULTS; LIST IDENTIFIER unique per nexus
    discard = 2,  // no held data, status still kept; LIST IDENTIFIER unique per nexus
    none = 3,     // nothing kept; LIST IDENTIFIER shall be zero
};

// What the copy manager accepts; RECEIVE COPY RESULTS OPERATING PARAMETERS and VPD 8Fh report
// the same values (spc_xcopy.h kCopyManagerLimits).
struct XcopyLimits {
    std::uint16_t max_cscd_descriptors = 0;
    std::uint16_t max_segment_descriptors = 0;
    std::uint32_t max_descriptor_list_bytes = 0;  // CSCD list plus segment list
    std::uint32_t max_inline_data_bytes = 0;
};

// An identification descriptor (E4h): names a logical unit by a VPD 83h designator.
struct CscdDescriptor {
    std::size_t offset = 0;  // of the descriptor in the parameter list, for field pointers
    std::uint8_t peripheral_type = 0;
    std::uint8_t code_set = 0;
    std::uint8_t association = 0;
    std::uint8_t designator_type = 0;
    std::uint8_t designator_bytes = 0;  // <= kMaxCscdDesignatorBytes
    std::array<std::uint8_t, kMaxCscdDesignatorBytes> designator{};
    // Block device type specific parameters (peripheral type 00h only).
    bool pad = false;
    std::uint32_t disk_block_bytes = 0;

    std::span<const std::uint8_t> designator_span() const {
        return {designator.data(), designator_bytes};
    }
};

// A block device to block device segment (02h).
struct BlockSegment {
    std::size_t offset = 0;  // of the descriptor in the parameter list
    bool dc = false;         // NUMBER OF BLOCKS counts destination (1) or source (0) blocks
    bool cat = false;
    std::uint16_t source = 0;       // SOURCE CSCD DESCRIPTOR ID
    std::uint16_t destination = 0;  // DESTINATION CSCD DESCRIPTOR ID
    std::uint16_t blocks = 0;
    std::uint64_t source_lba = 0;
    std::uint64_t destination_lba = 0;
};

// Offsets of the fields inside a block to block segment descriptor (field pointers).
inline constexpr std::size_t kSegmentSourceIdAt = 4;
inline constexpr std::size_t kSegmentDestinationIdAt = 6;
inline constexpr std::size_t kSegmentBlocksAt = 10;
inline constexpr std::size_t kSegmentSourceLbaAt = 12;
inline constexpr std::size_t kSegmentDestinationLbaAt = 20;

struct XcopyParameters {
    std::uint8_t list_id = 0;
    ListIdUsage list_id_usage = ListIdUsage::hold;
    bool str = false;           // a hint (sequential striped); we copy in order anyway
    std::uint8_t priority = 0;  // relative to other commands; we do not prioritise
    std::vector<CscdDescriptor> cscds;
    std::vector<BlockSegment> segments;
};

struct XcopyParseError {
    SenseReason reason = SenseReason::none;
    std::optional<FieldPointer> field;  // into the parameter list (C/D = 0)
};

// list: the parameter data that arrived, already cut to the CDB's PARAMETER LIST LENGTH, which
// is non-zero (SPC-4 6.4.1: zero is not an error and copies nothing). Nothing is reserved for
// descriptors before their count is checked against limits.
std::expected<XcopyParameters, XcopyParseError> parse_xcopy_parameters(
    std::span<const std::uint8_t> list, const XcopyLimits& limits);

}  // namespace itd::scsi
