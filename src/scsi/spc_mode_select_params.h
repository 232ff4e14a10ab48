// The MODE SELECT parameter list (SPC-4 6.9, 6.10, 7.5.4-7.5.7), decoded and checked apart from
// the handler so that it can be fuzzed on its own (tests/fuzz/fuzz_mode_select.cpp).
//
//   mode parameter header    MODE SELECT(6): 4 bytes       MODE SELECT(10): 8 bytes
//                              0    MODE DATA LENGTH (reserved) 0-1  MODE DATA LENGTH (reserved)
//                              1    MEDIUM TYPE                 2    MEDIUM TYPE
//                              2    DEVICE-SPECIFIC PARAMETER   3    DEVICE-SPECIFIC PARAMETER
//                              3    BLOCK DESCRIPTOR LENGTH     4    bit 0 LONGLBA
//                                                               6-7  BLOCK DESCRIPTOR LENGTH
//   block descriptors        SBC-4 6.5.2 short (8 bytes): 0-3 NUMBER OF LOGICAL BLOCKS,
//                              5-7 LOGICAL BLOCK LENGTH; SBC-4 6.5.3 long (16 bytes, LONGLBA=1):
//                              0-7 NUMBER OF LOGICAL BLOCKS, 12-15 LOGICAL BLOCK LENGTH
//   mode pages               byte 0 PS (reserved here), SPF, PAGE CODE; byte 1 PAGE LENGTH
//
// Nothing is applied here: the result is the complete set of parameters the list asks for, so
// that a list with any error changes nothing (all or nothing).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "scsi/mode_pages.h"
#include "scsi/sense.h"

namespace itd::scsi {

inline constexpr std::size_t kModeSelect6HeaderBytes = 4;
inline constexpr std::size_t kModeSelect10HeaderBytes = 8;

struct ModeSelectContext {
    bool ten = false;          // MODE SELECT(10): the 8-byte header
    bool page_format = true;   // the CDB's PF bit
    std::uint64_t block_count = 0;       // what block descriptors must match
    std::uint32_t block_size_bytes = 0;
    ModeParameters current;    // what the pages are compared with
};

struct ModeSelectError {
    SenseReason reason = SenseReason::none;
    std::optional<FieldPointer> field;  // into the parameter list (C/D = 0), or the CDB's PF
};

// list: the parameter data that arrived, cut to the CDB's PARAMETER LIST LENGTH. An empty list
// changes nothing (SPC-4 6.9.1: a zero length is not an error). Returns the parameters that
// become current: ctx.current with whatever changeable bits the pages set.
std::expected<ModeParameters, ModeSelectError> parse_mode_select(
    std::span<const std::uint8_t> list, const ModeSelectContext& ctx);

}  // namespace itd::scsi
