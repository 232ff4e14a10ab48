// The embedded default store (DESIGN.md "What itd is"): one local directory holding a thin
// volume store, needing no other service.
//   DIR/objects/   the ObjectStore: pages and map segments, one file per object
//   DIR/meta/      the MetaStore: superblocks and snapshot records, one file per key, and the
//                  volumes' owner locks
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "volume/thin/thin_volume.h"

namespace itd::volume::thin {

// "PROGRAM pid N on HOST": who holds a volume's lock, as others are told when they find it
// taken.
std::string process_owner_info(std::string_view program);

// Opens the store in dir. With create, makes the directories that are missing; without, a
// directory that is not a store (no meta/ and objects/) is not_found, with a message that says
// how to create one.
[[nodiscard]] Result<Stores> open_local_store(const std::string& dir, bool create);

}  // namespace itd::volume::thin
