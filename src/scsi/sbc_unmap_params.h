// The UNMAP parameter list (SBC-4 5.30.2), decoded and bounded apart from the handler so that
// it can be fuzzed on its own (tests/fuzz/fuzz_unmap.cpp).
//
//   byte 0-1  UNMAP DATA LENGTH (n - 1)
//   byte 2-3  UNMAP BLOCK DESCRIPTOR DATA LENGTH (n - 7)
//   byte 4-7  reserved
//   byte 8..  UNMAP block descriptors, 16 bytes each:
//               0-7 UNMAP LOGICAL BLOCK ADDRESS, 8-11 NUMBER OF LOGICAL BLOCKS, 12-15 reserved
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <vector>

#include "scsi/sense.h"

namespace itd::scsi {

inline constexpr std::size_t kUnmapHeaderBytes = 8;
inline constexpr std::size_t kUnmapDescriptorBytes = 16;

struct UnmapDescriptor {
    std::uint64_t lba = 0;
    std::uint32_t blocks = 0;  // never 0: empty descriptors are dropped
};

struct UnmapLimits {
    std::uint64_t block_count = 0;          // capacity of the LU
    std::uint32_t max_descriptors = 0;      // VPD B0h MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
    std::uint64_t max_blocks = 0;           // VPD B0h MAXIMUM UNMAP LBA COUNT (sum over all)
};

struct UnmapParseError {
    SenseReason reason = SenseReason::none;
    std::optional<FieldPointer> field;         // into the parameter list (C/D = 0)
    std::optional<std::uint64_t> information;  // the LBA, for LBA OUT OF RANGE
};

// list: the parameter data that arrived, already cut to the CDB's PARAMETER LIST LENGTH, which
// is non-zero. Returns the descriptors in list order, without empty ones.
std::expected<std::vector<UnmapDescriptor>, UnmapParseError> parse_unmap_parameters(
    std::span<const std::uint8_t> list, const UnmapLimits& limits);

}  // namespace itd::scsi
