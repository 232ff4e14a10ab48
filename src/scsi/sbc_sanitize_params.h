// The SANITIZE OVERWRITE parameter list (SBC-4 5.30.2.2, table "OVERWRITE service action
// parameter list"), decoded and bounded apart from the handler so that it can be fuzzed on its
// own (tests/fuzz/fuzz_sanitize.cpp).
//
//   byte 0    INVERT (bit 7), TEST (bits 6-5), OVERWRITE COUNT (bits 4-0)
//   byte 1    reserved
//   byte 2-3  INITIALIZATION PATTERN LENGTH (n - 3)
//   byte 4..n INITIALIZATION PATTERN
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <vector>

#include "scsi/sense.h"

namespace itd::scsi {

inline constexpr std::size_t kOverwriteHeaderBytes = 4;

struct OverwriteParameters {
    bool invert = false;
    std::uint8_t test = 0;         // 0..3; 0 is the only value with a meaning the standard fixes
    std::uint8_t passes = 0;       // OVERWRITE COUNT, 1..31
    std::vector<std::uint8_t> pattern;  // 1..block size bytes
};

struct SanitizeParseError {
    SenseReason reason = SenseReason::none;
    std::optional<FieldPointer> field;  // into the parameter list (C/D = 0)
};

// list: the parameter data, already cut to the CDB's PARAMETER LIST LENGTH. block_bytes: the
// logical block length, which bounds the pattern.
std::expected<OverwriteParameters, SanitizeParseError> parse_overwrite_parameters(
    std::span<const std::uint8_t> list, std::uint32_t block_bytes);

// One logical block of the pattern: the pattern repeated, the last copy cut at the block's end
// (SBC-4 5.30.2.2: the initialization pattern is written to each logical block, repeated as
// often as it takes to fill it).
std::vector<std::uint8_t> fill_block(std::span<const std::uint8_t> pattern, std::uint32_t block_bytes);

}  // namespace itd::scsi
