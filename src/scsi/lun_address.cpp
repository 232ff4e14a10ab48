#include "scsi/lun_address.h"

#include "common/check.h"

namespace itd::scsi {

std::optional<std::uint32_t> decode_lun(std::uint64_t lun_field) {
    // Second to fourth level addresses (bytes 2..7) must be empty for a single-level LUN.
    if ((lun_field & 0x0000ffffffffffffull) != 0) return std::nullopt;
    const auto byte0 = static_cast<std::uint8_t>(lun_field >> 56);
    const auto byte1 = static_cast<std::uint8_t>(lun_field >> 48);
    switch (byte0 >> 6) {
        case 0b00:
            // Peripheral device addressing: the BUS IDENTIFIER must be 0 for the current level.
            if ((byte0 & 0x3f) != 0) return std::nullopt;
            return byte1;
        case 0b01:
            // Flat space addressing.
            return (std::uint32_t{byte0 & 0x3fu} << 8) | byte1;
        default:
            // Logical unit and extended addressing: not served.
            return std::nullopt;
    }
}

std::uint64_t encode_lun(std::uint32_t lun) {
    ITD_CHECK(lun <= kMaxLun);
    if (lun < 256) return std::uint64_t{lun} << 48;
    return (std::uint64_t{0x40u | (lun >> 8)} << 56) | (std::uint64_t{lun & 0xffu} << 48);
}

}  // namespace itd::scsi
