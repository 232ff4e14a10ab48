// The 8-byte LUN field (SAM-5 4.7). We answer single-level LUNs in two address methods:
// peripheral device addressing (byte 0 = 00h, byte 1 = LUN 0..255) and flat space addressing
// (byte 0 = 40h | LUN bits 13..8, byte 1 = LUN bits 7..0, LUN 0..16383). Bytes 2..7 are zero.
#pragma once

#include <cstdint>
#include <optional>

namespace itd::scsi {

// The highest LUN flat space addressing can name.
inline constexpr std::uint32_t kMaxLun = 0x3fff;

// The LUN a field names, or nothing when the field uses an address method or level we do not
// serve (the command then goes to "a logical unit that does not exist").
// lun_field holds the eight wire bytes big-endian: byte 0 is bits 63..56.
std::optional<std::uint32_t> decode_lun(std::uint64_t lun_field);

// The field REPORT LUNS returns for lun (<= kMaxLun): peripheral addressing below 256, the way
// Linux and Windows expect LUN 0..255 to look, flat space addressing above.
std::uint64_t encode_lun(std::uint32_t lun);

}  // namespace itd::scsi
