#include "volume/thin/page_ref.h"

namespace itd::volume::thin {

namespace {

// Fixed width, lowercase: keys sort by tag, then by id, and one number has one spelling.
void append_hex16(std::string& out, std::uint64_t v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kDigits[(v >> shift) & 0xf]);
}

}  // namespace

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
