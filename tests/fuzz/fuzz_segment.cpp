// Decodes arbitrary page map segment objects (volume/thin/segment.h). Checks: no crash or
// sanitizer report; a segment that decodes has the geometry asked for, re-encodes to exactly
// the bytes it came from (the format has one encoding per segment), and decodes again to the
// same entries.
//
// Input layout: byte 0 flags, bytes 1-8 the expected first page, bytes 9-12 pages per segment
// (little-endian); the rest is the object. Flag bit 0: overwrite the object's last 4 bytes with
// its correct checksum first, so the fuzzer gets past the CRC to the checks behind it. Flag
// bit 1: take the expected geometry from the object's own header (bytes 8-19) instead.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/check.h"
#include "common/endian.h"
#include "volume/thin/segment.h"

namespace {

// Bitwise, independent of the ISA-L one the codec uses.
std::uint32_t bitwise_crc32c(std::span<const std::uint8_t> bytes) {
    std::uint32_t crc = 0xffffffff;
    for (std::uint8_t b : bytes) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0);
    }
    return ~crc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::volume::thin;
    if (size < 13) return 0;
    const std::uint8_t flags = data[0];
    std::uint64_t first_page = itd::load_le64(data + 1);
    std::uint32_t pages = itd::load_le32(data + 9);
    std::vector<std::uint8_t> object(data + 13, data + size);
    if ((flags & 1) && object.size() >= 4) {
        const std::size_t body = object.size() - 4;
        itd::store_le32(&object[body], bitwise_crc32c(std::span(object).first(body)));
    }
    if ((flags & 2) && object.size() >= 20) {
        first_page = itd::load_le64(&object[8]);
        pages = itd::load_le32(&object[16]);
    }

    auto decoded = decode_segment(object, first_page, pages);
    if (!decoded) {
        ITD_CHECK(decoded.error().code == itd::Errc::io_error);
        ITD_CHECK(!decoded.error().message.empty());
        return 0;
    }
    ITD_CHECK(decoded->first_page == first_page);
    ITD_CHECK(decoded->entries.size() == pages);
    const std::vector<std::uint8_t> encoded = encode_segment(*decoded);
    ITD_CHECK(encoded == object);
    auto again = decode_segment(encoded, first_page, pages);
    ITD_CHECK(again.has_value());
    ITD_CHECK(again->first_page == decoded->first_page);
    ITD_CHECK(again->entries == decoded->entries);
    return 0;
}
