// CRC32C digests for iSCSI header and data digests (RFC 7143 11.1 and 13.1; the polynomial
// is Castagnoli's, RFC 3720 Appendix B.4 gives test vectors). Computed with ISA-L's
// crc32_iscsi.
//
// Byte order: the digest goes on the wire least significant byte first. RFC 3720 B.4 lists
// 32 zero bytes -> "aa 36 91 8a" in wire order, i.e. the CRC value 0x8a9136aa stored
// little-endian; Linux (LIO, open-iscsi) and libiscsi send it the same way.
#pragma once

#include <cstdint>
#include <span>

namespace itd::iscsi {

inline constexpr std::size_t kDigestBytes = 4;

// Incremental CRC32C over several spans (the header digest covers BHS and AHS).
class Crc32c {
public:
    void update(std::span<const std::uint8_t> bytes);
    std::uint32_t value() const { return ~state_; }

private:
    std::uint32_t state_ = 0xffffffff;
};

std::uint32_t crc32c(std::span<const std::uint8_t> bytes);

inline void store_digest(std::uint8_t* p, std::uint32_t crc) {
    p[0] = static_cast<std::uint8_t>(crc);
    p[1] = static_cast<std::uint8_t>(crc >> 8);
    p[2] = static_cast<std::uint8_t>(crc >> 16);
    p[3] = static_cast<std::uint8_t>(crc >> 24);
}
inline std::uint32_t load_digest(const std::uint8_t* p) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
}

}  // namespace itd::iscsi
