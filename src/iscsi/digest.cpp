#include "iscsi/digest.h"

#include <isa-l/crc.h>

#include <limits>

namespace itd::iscsi {

void Crc32c::update(std::span<const std::uint8_t> bytes) {
    // ISA-L's crc32_iscsi takes and returns the running (not yet inverted) register, so
    // chaining calls continues one CRC; the final inversion happens in value().
    // Its length is an int: feed very large spans in pieces.
    constexpr std::size_t kChunk = std::numeric_limits<int>::max() / 2;
    while (!bytes.empty()) {
        const std::size_t n = bytes.size() < kChunk ? bytes.size() : kChunk;
        state_ = crc32_iscsi(const_cast<unsigned char*>(bytes.data()), static_cast<int>(n), state_);
        bytes = bytes.subspan(n);
    }
}

std::uint32_t crc32c(std::span<const std::uint8_t> bytes) {
    Crc32c c;
    c.update(bytes);
    return c.value();
}

}  // namespace itd::iscsi
