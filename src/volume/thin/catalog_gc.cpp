// Garbage collection of a thin volume store (DESIGN.md "Thin volume format"): mark from every
// live superblock, sweep what is unmarked and older than a grace period.
//
// What makes garbage: a commit that failed or crashed after uploading (its objects were never
// named), pages and segments that a later commit replaced (no superblock names them once the
// snapshots that did are deleted), deleted volumes.
//
// Why the grace period: a running commit uploads its pages and segments (steps 1-3 in
// thin_volume.h) before its superblock swap names them (step 4). Between the two they are
// unnamed, and a sweep would take them. An upload that is older than the grace period belongs
// to a commit that is long over. Below kGcSafeGrace we do not rely on timing at all: gc holds
// every volume's lock, so no commit runs while it does.
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "volume/thin/catalog.h"
#include "volume/thin/catalog_read.h"

namespace itd::volume::thin {

using namespace catalog_detail;

namespace {

// Marks what one superblock names; segments already read (a snapshot shares them with its
// volume) are not read again.
Status mark(const Stores& stores, const Superblock& sb, const std::string& what,
            std::set<std::string>& marked, std::set<std::string>& segments_read) {
    for (std::uint64_t s = 0; s < sb.segments.size(); ++s) {
        const SegmentRef& ref = sb.segments[s];
        if (ref.tag == 0) continue;
        const std::string key = object_key(ref.tag, ref.id);
        marked.insert(key);
        if (!segments_read.insert(key).second) continue;
        auto segment = read_segment(*stores.objects, sb, s, what);
        // A segment we cannot read may name anything: sweeping now could destroy live data.
        if (!segment) {
            return fail(segment.error().code,
                        segment.error().message + " (gc stops here and removes nothing)");
        }
        for (const PageRef& e : segment->entries) {
            if (e.mapped()) marked.insert(object_key(e.tag, e.id));
        }
    }
    return {};
}

// Every superblock key: volumes/<v> and snapshots/<v>/<s>.
Result<std::vector<std::string>> superblock_keys(MetaStore& meta) {
    std::vector<std::string> keys;
    for (const char* prefix : {"volumes/", "snapshots/"}) {
        auto listed = meta.list(prefix);
        if (!listed) return std::unexpected(listed.error());
        keys.insert(keys.end(), listed->begin(), listed->end());
    }
    return keys;
}

}  // namespace

Result<GcStats> gc(const Stores& stores, std::chrono::seconds grace) {
    MetaStore& meta = *stores.meta;
    // A short grace: hold every volume's lock, so that nothing commits (or opens) meanwhile.
    std::vector<std::unique_ptr<MetaLock>> locks;
    if (grace < kGcSafeGrace) {
        auto volumes = meta.list("volumes/");
        if (!volumes) return std::unexpected(volumes.error());
        for (const std::string& key : *volumes) {
            auto lock = meta.lock(key, owner_info());
            if (!lock) {
                const std::string name = key.substr(std::string_view("volumes/").size());
                if (lock.error().code != Errc::failed_precondition) {
                    return fail(lock.error().code, "volume " + name + ": " + lock.error().message);
                }
                auto holder = meta.lock_holder(key);
                const std::string who = holder && *holder ? **holder : "another process";
                return fail(Errc::failed_precondition,
                            "gc with a grace period under " +
                                std::to_string(kGcSafeGrace.count() / 60) +
                                " minutes needs every volume closed, and volume " + name +
                                " is open by " + who +
                                ": its commits upload objects before its superblock names "
                                "them. Stop serving it, or use a longer --grace");
            }
            locks.push_back(std::move(*lock));
        }
    }

    // Mark. The cut-off is taken before anything is read: an object stored after it is young
    // whatever the listing says.
    const auto cutoff = std::chrono::system_clock::now() - grace;
    GcStats stats;
    std::set<std::string> marked;
    std::set<std::string> segments_read;
    auto keys = superblock_keys(meta);
    if (!keys) return std::unexpected(keys.error());
    for (const std::string& key : *keys) {
        auto stored = read_superblock(meta, key, key);
        if (!stored) {
            return fail(stored.error().code,
                        stored.error().message + " (gc stops here and removes nothing)");
        }
        if (!*stored) continue;  // deleted since the listing: what it named may go
        if (auto ok = mark(stores, (*stored)->sb, key, marked, segments_read); !ok) {
            return std::unexpected(ok.error());
        }
    }
    stats.marked_objects = marked.size();

    // Sweep.
    auto objects = stores.objects->list("objects/");
    if (!objects) return std::unexpected(objects.error());
    for (const ObjectInfo& object : *objects) {
        if (marked.contains(object.key)) continue;
        if (object.modified > cutoff) {
            ++stats.kept_young;
            continue;
        }
        if (auto removed = stores.objects->remove(object.key); !removed) {
            return fail(removed.error().code,
                        "gc: removing " + object.key + ": " + removed.error().message);
        }
        ++stats.swept_objects;
        stats.swept_bytes += object.size_bytes;
    }
    if (stats.swept_objects > 0) {
        if (auto synced = stores.objects->sync(); !synced) return std::unexpected(synced.error());
    }
    return stats;
}

}  // namespace itd::volume::thin
