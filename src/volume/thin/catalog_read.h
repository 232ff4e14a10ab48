// What the catalog functions (catalog.h) share: reading superblocks and map segments from the
// stores, with messages that name the volume. Internal to catalog*.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "volume/meta/meta_store.h"
#include "volume/store/object_store.h"
#include "volume/thin/segment.h"
#include "volume/thin/superblock.h"

namespace itd::volume::thin::catalog_detail {

struct StoredSuperblock {
    Superblock sb;
    std::uint64_t revision = 0;
};

// The superblock under key (volume_key() or snapshot_key()); nullopt when the key is missing.
// what names it in messages ("volume V", "snapshot V@S").
[[nodiscard]] Result<std::optional<StoredSuperblock>> read_superblock(MetaStore& meta,
                                                                      const std::string& key,
                                                                      const std::string& what);

// Map segment `index` of sb (whose SegmentRef must be non-null), decoded.
[[nodiscard]] Result<Segment> read_segment(ObjectStore& objects, const Superblock& sb,
                                           std::uint64_t index, const std::string& what);

// "itd volume pid N on HOST": the owner_info of the locks the catalog takes.
std::string owner_info();

std::uint64_t now_unix_s();

}  // namespace itd::volume::thin::catalog_detail
