// Volume management on a store (the library behind `itd volume …` and `thin:…,size=`): what
// exists, creating and deleting volumes, snapshots and clones, garbage collection. Works on the
// MetaStore and ObjectStore directly; an operation that changes an open volume goes through its
// owner (see the functions' comments).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "volume/meta/meta_store.h"
#include "volume/thin/superblock.h"

namespace itd::volume::thin {

struct CreateParams {
    std::string name;
    std::uint64_t size_bytes = 0;
    std::uint32_t block_size_bytes = 512;
    std::uint32_t page_size_bytes = kDefaultPageSizeBytes;
    std::uint32_t pages_per_segment = kDefaultPagesPerSegment;
};

// Writes generation 0 of a new, all-unmapped volume. Errors: invalid_argument (bad name or
// geometry, each named), failed_precondition (the volume exists), and the store's.
[[nodiscard]] Result<Superblock> create_volume(MetaStore& meta, const CreateParams& params);

}  // namespace itd::volume::thin
