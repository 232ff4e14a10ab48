// Volume management on a store (the library behind `itd volume …` and `thin:…,size=`): what
// exists, creating and deleting volumes, snapshots and clones, garbage collection. Works on the
// MetaStore and ObjectStore directly; an operation that changes an open volume goes through its
// owner (see the functions' comments).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "volume/meta/meta_store.h"
#include "volume/thin/superblock.h"
#include "volume/thin/thin_volume.h"

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

// A volume or snapshot as `itd volume list` shows it.
struct VolumeInfo {
    Superblock sb;
    std::uint64_t mapped_bytes = 0;      // mapped pages times the page size
    std::uint64_t objects = 0;           // distinct page objects + map segment objects it names
    std::optional<std::string> open_by;  // the lock holder's owner_info; snapshots: nullopt
};

// Every volume in the store, by name, with its counts (reads each map segment once).
[[nodiscard]] Result<std::vector<VolumeInfo>> list_volumes(const Stores& stores);
// The snapshots of one volume, by name. not_found when the volume does not exist and has no
// snapshots.
[[nodiscard]] Result<std::vector<VolumeInfo>> list_snapshots(const Stores& stores,
                                                             std::string_view volume);

// Records the volume's committed generation as snapshot `snap`. A volume nobody serves is
// snapshotted here under its lock; one an itd serves is asked to do it (ask_owner), which
// commits what is cached first. Errors: invalid_argument (bad name), not_found (no volume),
// failed_precondition (the snapshot exists; or the owner refused), unavailable (the owner did
// not answer within timeout).
[[nodiscard]] Status snapshot_volume(const Stores& stores, std::string_view volume,
                                     std::string_view snap, std::chrono::milliseconds timeout);

// Writes snapshot record snapshots/<sb.name>/<snap>: sb (a committed superblock) with its
// snapshot fields set. failed_precondition when the snapshot exists.
[[nodiscard]] Status record_snapshot(MetaStore& meta, Superblock sb, std::string_view snap);

// A new volume new_name whose generation 0 is snapshot volume@snap: the same geometry and map
// segments (objects are immutable, so they are shared and nothing is copied), a new tag,
// origin "volume@snap". Errors: not_found (no such snapshot), failed_precondition (new_name
// exists).
[[nodiscard]] Result<Superblock> clone_snapshot(const Stores& stores, std::string_view volume,
                                                std::string_view snap, std::string_view new_name);

// Removes the volume's superblock (its objects stay until gc). Refused (failed_precondition)
// while it is open, naming who has it, and while it has snapshots, naming them.
[[nodiscard]] Status delete_volume(const Stores& stores, std::string_view volume);
// Removes a snapshot record. Refused while a clone's origin is this snapshot (names them).
[[nodiscard]] Status delete_snapshot(const Stores& stores, std::string_view volume,
                                     std::string_view snap);

// Grows the volume to size_bytes (never shrinks). A volume nobody serves is changed here
// under its lock; one an itd serves is asked to grow (its initiators see CAPACITY DATA HAS
// CHANGED).
[[nodiscard]] Status grow_volume(const Stores& stores, std::string_view volume,
                                 std::uint64_t size_bytes, std::chrono::milliseconds timeout);

struct GcStats {
    std::uint64_t marked_objects = 0;  // objects some volume or snapshot names
    std::uint64_t swept_objects = 0;   // removed
    std::uint64_t swept_bytes = 0;
    std::uint64_t kept_young = 0;  // unnamed but younger than the grace period: kept
};
// Below this grace period gc holds every volume's lock while it runs, and so refuses while
// any volume is open: an open volume's commit uploads its objects before its superblock names
// them, and a short grace would sweep them.
inline constexpr std::chrono::seconds kGcSafeGrace{600};
// Marks every object named by a superblock under volumes/ and snapshots/ (their map segments
// and every page those segments name), then removes the objects under objects/ that are not
// marked and older than grace.
[[nodiscard]] Result<GcStats> gc(const Stores& stores, std::chrono::seconds grace);

// Called with the bytes done so far and the total, after each page.
using Progress = std::function<void(std::uint64_t done_bytes, std::uint64_t total_bytes)>;

// "VOLUME" or "VOLUME@SNAPSHOT", checked.
struct VolumeRef {
    std::string volume;
    std::string snapshot;  // empty: the volume itself
    std::string text() const { return snapshot.empty() ? volume : volume + "@" + snapshot; }
};
[[nodiscard]] Result<VolumeRef> parse_volume_ref(std::string_view text);

// Writes the committed generation of a volume (or a snapshot) to path as a raw image of its
// size: the file is truncated to the size and only mapped pages are written, so unmapped
// pages stay holes. Every page read is checked against its CRC32C. A volume an itd serves is
// exported as of its last commit.
[[nodiscard]] Status export_volume(const Stores& stores, const VolumeRef& what,
                                   const std::string& path, const Progress& progress);

// Writes the file at path into the volume from byte 0, page by page, through the thin engine
// (so it is refused while an itd serves the volume); all-zero pages are left unmapped. With
// create, the volume is created first, sized to the file rounded up to create->block_size_bytes
// (create->name and size_bytes are ignored). Errors: the file is larger than the volume, the
// volume exists (with create) or does not (without).
[[nodiscard]] Status import_volume(const Stores& stores, std::string_view volume,
                                   const std::string& path,
                                   const std::optional<CreateParams>& create,
                                   const Progress& progress);

}  // namespace itd::volume::thin
