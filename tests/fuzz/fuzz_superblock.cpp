// Decodes arbitrary superblock text (volume/thin/superblock.h). Checks: no crash, sanitizer
// report or escaping exception; a superblock that decodes is consistent (one segment entry per
// segment), re-encodes to JSON that decodes to the same superblock, and that JSON is stable
// (encoding the second decode gives the same text).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "volume/thin/superblock.h"

namespace {

bool same(const itd::volume::thin::Superblock& a, const itd::volume::thin::Superblock& b) {
    return a.name == b.name && a.tag == b.tag && a.size_bytes == b.size_bytes &&
           a.block_size_bytes == b.block_size_bytes && a.page_size_bytes == b.page_size_bytes &&
           a.pages_per_segment == b.pages_per_segment && a.generation == b.generation &&
           a.epoch == b.epoch && a.created_unix_s == b.created_unix_s && a.origin == b.origin &&
           a.snapshot == b.snapshot && a.snapshot_created_unix_s == b.snapshot_created_unix_s &&
           a.segments == b.segments;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::volume::thin;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto decoded = decode_superblock(text);
    if (!decoded) {
        ITD_CHECK(decoded.error().code == itd::Errc::io_error);
        ITD_CHECK(!decoded.error().message.empty());
        return 0;
    }
    ITD_CHECK(decoded->tag != 0);
    ITD_CHECK(decoded->segments.size() == decoded->segment_count());
    ITD_CHECK(decoded->page_count() * decoded->page_size_bytes >= decoded->size_bytes);
    const std::string encoded = encode_superblock(*decoded);
    auto again = decode_superblock(encoded);
    ITD_CHECK(again.has_value());
    ITD_CHECK(same(*decoded, *again));
    ITD_CHECK(encode_superblock(*again) == encoded);
    return 0;
}
