#include "volume/thin/page_ref.h"

#include <isa-l/crc.h>

#include <climits>

#include "common/check.h"

namespace itd::volume::thin {

namespace {

// Fixed width, lowercase: keys sort by tag, then by id, and one number has one spelling.
void append_hex16(std::string& out, std::uint64_t v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kDigits[(v >> shift) & 0xf]);
}

}  // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> bytes) {
    // ISA-L's crc32_iscsi takes and returns the register without the final inversion; its
    // length is an int (pages are at most 4 MiB, segments at most 32 MiB).
    ITD_CHECK(bytes.size() <= static_cast<std::size_t>(INT_MAX));
    return ~crc32_iscsi(const_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()),
                        0xffffffffu);
}

std::string object_key(std::uint64_t tag, std::uint64_t id) {
    std::string key = object_prefix(tag);
    append_hex16(key, id);
    return key;
}

std::string object_prefix(std::uint64_t tag) {
    std::string prefix = "objects/";
    prefix.reserve(prefix.size() + 16 + 1 + 16);
    append_hex16(prefix, tag);
    prefix.push_back('/');
    return prefix;
}

}  // namespace itd::volume::thin
