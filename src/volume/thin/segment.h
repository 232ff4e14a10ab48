// A page map segment (DESIGN.md "Thin volume format"): the entries of pages_per_segment
// consecutive pages, stored as one immutable object. Only mapped entries are written, so a
// sparse segment is small and an all-unmapped segment is not stored at all (the superblock says
// so instead).
//
// Encoding (all integers little-endian):
//   magic "ITDSEG01" (8 bytes)
//   u64 first_page            the volume page number of entry 0
//   u32 pages_per_segment     how many pages the segment covers (the superblock's value)
//   u32 mapped_count          how many entries follow, at most pages_per_segment
//   mapped_count times:       u32 index (ascending, < pages_per_segment), u64 tag (non-zero),
//                             u64 id, u32 offset_bytes, u32 length_bytes, u32 crc32c
//   u32 crc32c of every byte before it
// decode_segment() checks every field and the checksum and fails with io_error (a damaged
// object) naming what is wrong; it never asserts on its input (tests/fuzz/fuzz_segment.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "volume/thin/page_ref.h"

namespace itd::volume::thin {

struct Segment {
    std::uint64_t first_page = 0;
    std::vector<PageRef> entries;  // size() == pages_per_segment; unmapped ones have tag 0
};

std::vector<std::uint8_t> encode_segment(const Segment& segment);

// expected_first_page and pages_per_segment come from the superblock; a segment that says
// otherwise is damaged (or is another segment's object).
[[nodiscard]] Result<Segment> decode_segment(std::span<const std::uint8_t> bytes,
                                             std::uint64_t expected_first_page,
                                             std::uint32_t pages_per_segment);

}  // namespace itd::volume::thin
