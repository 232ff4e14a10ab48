// A thin volume's superblock, the root of its page array (DESIGN.md "Thin volume format"), and
// the snapshot record that freezes one. Stored in the MetaStore as JSON text (readable with
// any etcd client or text editor), under keys:
//   volumes/<name>               the volume's superblock, replaced by compare-and-swap
//   snapshots/<volume>/<name>    a snapshot: a copy of the superblock of one generation
//
// JSON fields (64-bit numbers as decimal strings, since JSON readers differ above 2^53):
//   "format": 1, "name", "tag" (16 hex digits), "size_bytes", "block_size_bytes",
//   "page_size_bytes", "pages_per_segment", "generation", "epoch",
//   "created" (seconds since 1970 as a string), "origin" (clones: "VOLUME@SNAPSHOT", else ""),
//   "snapshot" (in a snapshot record: its name, else ""), "snapshot_created" (seconds, or "0"),
//   "segments": an array with one element per segment: null when all its pages are unmapped,
//   else "TAG:ID" (two 16-hex-digit numbers; the object key is object_key(TAG, ID)).
// decode_superblock() validates everything (sizes, powers of two, the segment count matching
// the size) and fails with io_error naming the field; it never asserts on its input
// (tests/fuzz/fuzz_superblock.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace itd::volume::thin {

inline constexpr std::uint32_t kMinPageSizeBytes = 4096;
inline constexpr std::uint32_t kMaxPageSizeBytes = 4u << 20;
inline constexpr std::uint32_t kDefaultPageSizeBytes = 256u << 10;
inline constexpr std::uint32_t kDefaultPagesPerSegment = 16384;
// The largest volume: any disk 64-bit LBAs of 512 bytes address, and small enough that byte
// arithmetic on it never overflows.
inline constexpr std::uint64_t kMaxSizeBytes = 1ull << 56;

struct SegmentRef {
    std::uint64_t tag = 0;  // 0: every page of the segment is unmapped (no object)
    std::uint64_t id = 0;
    friend bool operator==(const SegmentRef&, const SegmentRef&) = default;
};

struct Superblock {
    std::string name;              // the volume's name in its store
    std::uint64_t tag = 0;         // non-zero, random at creation; names its objects
    std::uint64_t size_bytes = 0;  // a multiple of block_size_bytes
    std::uint32_t block_size_bytes = 512;
    std::uint32_t page_size_bytes = kDefaultPageSizeBytes;      // power of two, 4 KiB..4 MiB,
                                                                // >= block_size_bytes
    std::uint32_t pages_per_segment = kDefaultPagesPerSegment;  // power of two, 1..2^20
    std::uint64_t generation = 0;                               // +1 on every commit
    std::uint64_t epoch = 0;  // +1 each time an owner opens the volume for writing
    std::uint64_t created_unix_s = 0;
    std::string origin;    // clones: "VOLUME@SNAPSHOT"; else empty
    std::string snapshot;  // a snapshot record: the snapshot's name; else empty
    std::uint64_t snapshot_created_unix_s = 0;
    std::vector<SegmentRef> segments;  // ceil(page_count / pages_per_segment) entries

    std::uint64_t page_count() const {
        return (size_bytes + page_size_bytes - 1) / page_size_bytes;
    }
    std::uint64_t segment_count() const {
        return (page_count() + pages_per_segment - 1) / pages_per_segment;
    }
};

std::string encode_superblock(const Superblock& sb);
[[nodiscard]] Result<Superblock> decode_superblock(std::string_view json);

// The MetaStore keys.
std::string volume_key(std::string_view volume);                           // volumes/<volume>
std::string snapshot_key(std::string_view volume, std::string_view snap);  // snapshots/<v>/<s>
std::string snapshot_prefix(std::string_view volume);                      // snapshots/<v>/

// Whether sb may grow to size_bytes: not smaller, a multiple of its block size, at most
// kMaxSizeBytes. invalid_argument naming the volume otherwise.
[[nodiscard]] Status check_grow(const Superblock& sb, std::uint64_t size_bytes);

// Volume and snapshot names: 1..64 characters of [A-Za-z0-9._-], not starting with '.' or '-'.
[[nodiscard]] Status check_name(std::string_view what, std::string_view name);

}  // namespace itd::volume::thin
