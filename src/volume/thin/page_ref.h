// One entry of a thin volume's page map (DESIGN.md "Thin volume format"): a page is unmapped
// (reads as zeros) or names immutable data: length bytes at offset inside one object, with the
// CRC32C of those bytes. Version 1 writes one object per page (offset 0, length = page size),
// but the (object, offset) form lets a later commit pack many pages into one object.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace itd::volume::thin {

// An object's name: the volume tag of the volume that wrote it and a number unique within that
// volume (owner epoch << 32 | a counter the owner keeps in memory), so no key is ever written
// twice, even after a crash. The key is object_key(tag, id).
struct PageRef {
    std::uint64_t tag = 0;  // 0: unmapped
    std::uint64_t id = 0;
    std::uint32_t offset_bytes = 0;
    std::uint32_t length_bytes = 0;
    std::uint32_t crc32c = 0;

    bool mapped() const { return tag != 0; }
    friend bool operator==(const PageRef&, const PageRef&) = default;
};

// "objects/<tag as 16 hex digits>/<id as 16 hex digits>". Page data and map segments share it.
std::string object_key(std::uint64_t tag, std::uint64_t id);

// CRC32C (Castagnoli, with the usual pre- and post-inversion, as iSCSI digests use it): page
// checksums and the segment trailer.
std::uint32_t crc32c(std::span<const std::uint8_t> bytes);

// The prefix of every object a volume tag wrote: "objects/<tag as 16 hex digits>/".
std::string object_prefix(std::uint64_t tag);

}  // namespace itd::volume::thin
