#include "volume/thin/segment.h"


#include <algorithm>
#include <climits>
#include <iterator>
#include <string>

#include "common/check.h"
#include "common/endian.h"

namespace itd::volume::thin {

namespace {

constexpr char kMagic[8] = {'I', 'T', 'D', 'S', 'E', 'G', '0', '1'};
constexpr std::size_t kHeaderBytes = 8 + 8 + 4 + 4;  // magic, first_page, pages, mapped_count
constexpr std::size_t kEntryBytes = 4 + 8 + 8 + 4 + 4 + 4;  // index, tag, id, offset, length, crc
constexpr std::size_t kTrailerBytes = 4;                    // crc32c
// The superblock's bound on pages_per_segment (superblock.h); it also bounds what a decode
// allocates: 2^20 entries.
constexpr std::uint32_t kMaxPagesPerSegment = 1u << 20;

std::unexpected<Error> damaged(std::uint64_t first_page, const std::string& what) {
    return fail(Errc::io_error,
                "page map segment at page " + std::to_string(first_page) + ": " + what);
}

}  // namespace

std::vector<std::uint8_t> encode_segment(const Segment& segment) {
    // Encoding a segment the decoder would refuse is a bug in the caller.
    ITD_CHECK(!segment.entries.empty() && segment.entries.size() <= kMaxPagesPerSegment);
    const auto pages = static_cast<std::uint32_t>(segment.entries.size());
    std::uint32_t mapped = 0;
    for (const PageRef& ref : segment.entries) mapped += ref.mapped() ? 1 : 0;

    std::vector<std::uint8_t> out(kHeaderBytes + std::size_t{mapped} * kEntryBytes + kTrailerBytes);
    std::uint8_t* p = out.data();
    std::copy(std::begin(kMagic), std::end(kMagic), p);
    store_le64(p + 8, segment.first_page);
    store_le32(p + 16, pages);
    store_le32(p + 20, mapped);
    p += kHeaderBytes;
    for (std::uint32_t index = 0; index < pages; ++index) {
        const PageRef& ref = segment.entries[index];
        if (!ref.mapped()) continue;
        store_le32(p, index);
        store_le64(p + 4, ref.tag);
        store_le64(p + 12, ref.id);
        store_le32(p + 20, ref.offset_bytes);
        store_le32(p + 24, ref.length_bytes);
        store_le32(p + 28, ref.crc32c);
        p += kEntryBytes;
    }
    const std::size_t body = out.size() - kTrailerBytes;
    store_le32(p, crc32c(std::span<const std::uint8_t>(out.data(), body)));
    return out;
}

Result<Segment> decode_segment(std::span<const std::uint8_t> bytes,
                               std::uint64_t expected_first_page, std::uint32_t pages_per_segment) {
    // The caller's geometry comes from a decoded superblock, which already bounds it; checked
    // again here because it sizes the allocation below.
    if (pages_per_segment == 0 || pages_per_segment > kMaxPagesPerSegment) {
        return damaged(expected_first_page, "pages per segment " +
                                                std::to_string(pages_per_segment) +
                                                " is not between 1 and 2^20");
    }
    // Header first, then the lengths it implies, then the checksum, and only then the entries:
    // nothing is allocated until the byte count has been shown to match.
    if (bytes.size() < kHeaderBytes + kTrailerBytes) {
        return damaged(expected_first_page, std::to_string(bytes.size()) +
                                                " bytes is shorter than the smallest segment (" +
                                                std::to_string(kHeaderBytes + kTrailerBytes) +
                                                " bytes)");
    }
    if (!std::equal(std::begin(kMagic), std::end(kMagic), bytes.begin())) {
        return damaged(expected_first_page, "bad magic (not an ITDSEG01 object)");
    }
    const std::uint64_t first_page = load_le64(&bytes[8]);
    if (first_page != expected_first_page) {
        return damaged(expected_first_page,
                       "the object says it starts at page " + std::to_string(first_page));
    }
    const std::uint32_t pages = load_le32(&bytes[16]);
    if (pages != pages_per_segment) {
        return damaged(expected_first_page, "the object says it covers " + std::to_string(pages) +
                                                " pages, the volume " +
                                                std::to_string(pages_per_segment));
    }
    const std::uint32_t mapped = load_le32(&bytes[20]);
    if (mapped > pages_per_segment) {
        return damaged(expected_first_page, "mapped count " + std::to_string(mapped) +
                                                " exceeds the " +
                                                std::to_string(pages_per_segment) + " pages");
    }
    // mapped <= 2^20, so this cannot overflow.
    const std::size_t expected_bytes =
        kHeaderBytes + std::size_t{mapped} * kEntryBytes + kTrailerBytes;
    if (bytes.size() != expected_bytes) {
        return damaged(expected_first_page,
                       std::to_string(bytes.size()) + " bytes, but " + std::to_string(mapped) +
                           " mapped entries need exactly " + std::to_string(expected_bytes));
    }
    const std::size_t body = bytes.size() - kTrailerBytes;
    const std::uint32_t stored_crc = load_le32(&bytes[body]);
    const std::uint32_t actual_crc = crc32c(bytes.first(body));
    if (stored_crc != actual_crc) {
        return damaged(expected_first_page, "checksum mismatch (stored " +
                                                std::to_string(stored_crc) + ", computed " +
                                                std::to_string(actual_crc) + ")");
    }

    Segment segment;
    segment.first_page = first_page;
    segment.entries.resize(pages_per_segment);
    std::uint64_t next_index = 0;  // the smallest index the next entry may have
    for (std::uint32_t i = 0; i < mapped; ++i) {
        const std::uint8_t* p = &bytes[kHeaderBytes + std::size_t{i} * kEntryBytes];
        const std::uint32_t index = load_le32(p);
        if (index >= pages_per_segment) {
            return damaged(expected_first_page, "entry " + std::to_string(i) + ": index " +
                                                    std::to_string(index) + " is beyond the " +
                                                    std::to_string(pages_per_segment) + " pages");
        }
        if (index < next_index) {
            return damaged(expected_first_page, "entry " + std::to_string(i) + ": index " +
                                                    std::to_string(index) +
                                                    " is not above the previous entry's");
        }
        PageRef ref;
        ref.tag = load_le64(p + 4);
        ref.id = load_le64(p + 12);
        ref.offset_bytes = load_le32(p + 20);
        ref.length_bytes = load_le32(p + 24);
        ref.crc32c = load_le32(p + 28);
        if (ref.tag == 0) {
            return damaged(expected_first_page, "entry " + std::to_string(i) + " (index " +
                                                    std::to_string(index) + ") has tag 0");
        }
        segment.entries[index] = ref;
        next_index = std::uint64_t{index} + 1;
    }
    return segment;
}

}  // namespace itd::volume::thin
