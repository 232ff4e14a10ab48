#include "volume/thin/catalog.h"

#include <bit>
#include <chrono>
#include <random>
#include <set>

#include "volume/thin/catalog_read.h"
#include "volume/thin/local_store.h"
#include "volume/thin/owner_request.h"

namespace itd::volume::thin {

namespace catalog_detail {

Result<std::optional<StoredSuperblock>> read_superblock(MetaStore& meta, const std::string& key,
                                                        const std::string& what) {
    auto value = meta.get(key);
    if (!value) return fail(value.error().code, what + ": " + value.error().message);
    if (!*value) return std::optional<StoredSuperblock>();
    auto sb = decode_superblock((*value)->value);
    if (!sb) return fail(sb.error().code, what + ": " + sb.error().message);
    return std::optional<StoredSuperblock>(StoredSuperblock{std::move(*sb), (*value)->revision});
}

Result<Segment> read_segment(ObjectStore& objects, const Superblock& sb, std::uint64_t index,
                             const std::string& what) {
    const SegmentRef& ref = sb.segments[index];
    const std::string key = object_key(ref.tag, ref.id);
    auto bytes = objects.get_all(key);
    if (!bytes) {
        return fail(bytes.error().code,
                    what + ": map segment " + key + ": " + bytes.error().message);
    }
    auto segment = decode_segment(*bytes, index * sb.pages_per_segment, sb.pages_per_segment);
    if (!segment) {
        return fail(segment.error().code,
                    what + ": map segment " + key + ": " + segment.error().message);
    }
    return segment;
}

std::string owner_info() { return process_owner_info("itd volume"); }

std::uint64_t now_unix_s() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

}  // namespace catalog_detail

using namespace catalog_detail;

namespace {

std::uint64_t random_tag() {
    std::random_device rd;
    std::uint64_t tag = 0;
    while (tag == 0) tag = (std::uint64_t{rd()} << 32) | rd();
    return tag;
}

Status check_geometry(const CreateParams& p) {
    const std::string what = "volume " + p.name + ": ";
    const std::uint32_t bs = p.block_size_bytes;
    if (bs < 512 || bs > 65536 || !std::has_single_bit(bs)) {
        return fail(Errc::invalid_argument, what + "block size " + std::to_string(bs) +
                                                " is not a power of two between 512 and 65536");
    }
    const std::uint32_t ps = p.page_size_bytes;
    if (ps < kMinPageSizeBytes || ps > kMaxPageSizeBytes || !std::has_single_bit(ps) || ps < bs) {
        return fail(Errc::invalid_argument,
                    what + "page size " + std::to_string(ps) +
                        " is not a power of two between 4K and 4M and at least the block size");
    }
    if (p.size_bytes == 0 || p.size_bytes % bs != 0 || p.size_bytes > kMaxSizeBytes) {
        return fail(Errc::invalid_argument, what + "size " + std::to_string(p.size_bytes) +
                                                " is not a non-zero multiple of the block size " +
                                                std::to_string(bs) + " up to 64 PiB");
    }
    if (p.pages_per_segment == 0 || p.pages_per_segment > (1u << 20) ||
        !std::has_single_bit(p.pages_per_segment)) {
        return fail(Errc::invalid_argument,
                    what + "pages per segment must be a power of two up to 2^20");
    }
    return {};
}

}  // namespace

Result<Superblock> create_volume(MetaStore& meta, const CreateParams& params) {
    if (auto ok = check_name("volume", params.name); !ok) return std::unexpected(ok.error());
    if (auto ok = check_geometry(params); !ok) return std::unexpected(ok.error());
    Superblock sb;
    sb.name = params.name;
    sb.tag = random_tag();
    sb.size_bytes = params.size_bytes;
    sb.block_size_bytes = params.block_size_bytes;
    sb.page_size_bytes = params.page_size_bytes;
    sb.pages_per_segment = params.pages_per_segment;
    sb.created_unix_s = now_unix_s();
    sb.segments.resize(sb.segment_count());
    auto revision = meta.put_if(volume_key(sb.name), encode_superblock(sb), 0);
    if (!revision) {
        if (revision.error().code == Errc::conflict) {
            return fail(Errc::failed_precondition, "volume " + sb.name + " already exists");
        }
        return std::unexpected(revision.error());
    }
    return sb;
}

namespace {

// How much a superblock holds: its mapped pages and the distinct objects it names.
Result<VolumeInfo> info_of(const Stores& stores, Superblock sb, const std::string& what) {
    VolumeInfo info;
    std::set<std::pair<std::uint64_t, std::uint64_t>> objects;
    for (std::uint64_t s = 0; s < sb.segments.size(); ++s) {
        if (sb.segments[s].tag == 0) continue;
        objects.emplace(sb.segments[s].tag, sb.segments[s].id);
        auto segment = read_segment(*stores.objects, sb, s, what);
        if (!segment) return std::unexpected(segment.error());
        for (const PageRef& e : segment->entries) {
            if (!e.mapped()) continue;
            info.mapped_bytes += sb.page_size_bytes;
            objects.emplace(e.tag, e.id);
        }
    }
    info.objects = objects.size();
    info.sb = std::move(sb);
    return info;
}

// The names under prefix (the last key component), in order.
Result<std::vector<std::string>> names_under(MetaStore& meta, const std::string& prefix) {
    auto keys = meta.list(prefix);
    if (!keys) return std::unexpected(keys.error());
    std::vector<std::string> names;
    for (const std::string& key : *keys) {
        std::string_view name(key);
        name.remove_prefix(prefix.size());
        // Only direct children: snapshots/<v>/ under "snapshots/" are another level.
        if (name.empty() || name.find('/') != std::string_view::npos) continue;
        names.emplace_back(name);
    }
    return names;
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) {
        if (!out.empty()) out += ", ";
        out += n;
    }
    return out;
}

Status check_names(std::string_view volume, std::string_view snap) {
    if (auto ok = check_name("volume", volume); !ok) return ok;
    return check_name("snapshot", snap);
}

// The volume's superblock, or not_found with what to do.
Result<StoredSuperblock> existing_volume(MetaStore& meta, std::string_view volume) {
    const std::string name(volume);
    auto stored = read_superblock(meta, volume_key(name), "volume " + name);
    if (!stored) return std::unexpected(stored.error());
    if (!*stored) {
        return fail(Errc::not_found, "volume " + name +
                                         " does not exist in this store (`itd volume list` "
                                         "shows what does)");
    }
    return std::move(**stored);
}

Result<StoredSuperblock> existing_snapshot(MetaStore& meta, std::string_view volume,
                                           std::string_view snap) {
    const std::string what = "snapshot " + std::string(volume) + "@" + std::string(snap);
    auto stored = read_superblock(meta, snapshot_key(volume, snap), what);
    if (!stored) return std::unexpected(stored.error());
    if (!*stored) {
        return fail(Errc::not_found, what + " does not exist (`itd volume snapshots " +
                                         std::string(volume) + "` shows what does)");
    }
    return std::move(**stored);
}

// Takes the volume's owner lock if nobody holds it: nullptr (no error) when somebody does.
Result<std::unique_ptr<MetaLock>> try_lock(MetaStore& meta, std::string_view volume) {
    auto lock = meta.lock(volume_key(volume), owner_info());
    if (lock) return std::move(*lock);
    if (lock.error().code == Errc::failed_precondition) return std::unique_ptr<MetaLock>();
    return fail(lock.error().code,
                "volume " + std::string(volume) + ": its lock: " + lock.error().message);
}

std::string holder_text(MetaStore& meta, std::string_view volume) {
    auto holder = meta.lock_holder(volume_key(volume));
    if (holder && *holder) return **holder;
    return "another process";
}

}  // namespace

Result<std::vector<VolumeInfo>> list_volumes(const Stores& stores) {
    auto names = names_under(*stores.meta, "volumes/");
    if (!names) return std::unexpected(names.error());
    std::vector<VolumeInfo> out;
    for (const std::string& name : *names) {
        const std::string what = "volume " + name;
        auto stored = read_superblock(*stores.meta, volume_key(name), what);
        if (!stored) return std::unexpected(stored.error());
        if (!*stored) continue;  // deleted since the listing
        auto info = info_of(stores, std::move((*stored)->sb), what);
        if (!info) return std::unexpected(info.error());
        auto holder = stores.meta->lock_holder(volume_key(name));
        if (!holder) return fail(holder.error().code, what + ": " + holder.error().message);
        info->open_by = *holder;
        out.push_back(std::move(*info));
    }
    return out;
}

Result<std::vector<VolumeInfo>> list_snapshots(const Stores& stores, std::string_view volume) {
    if (auto ok = check_name("volume", volume); !ok) return std::unexpected(ok.error());
    auto names = names_under(*stores.meta, snapshot_prefix(volume));
    if (!names) return std::unexpected(names.error());
    if (names->empty()) {
        // No snapshots of a volume that does not exist is a typo worth pointing out.
        auto vol = existing_volume(*stores.meta, volume);
        if (!vol) return std::unexpected(vol.error());
    }
    std::vector<VolumeInfo> out;
    for (const std::string& snap : *names) {
        const std::string what = "snapshot " + std::string(volume) + "@" + snap;
        auto stored = read_superblock(*stores.meta, snapshot_key(volume, snap), what);
        if (!stored) return std::unexpected(stored.error());
        if (!*stored) continue;
        auto info = info_of(stores, std::move((*stored)->sb), what);
        if (!info) return std::unexpected(info.error());
        out.push_back(std::move(*info));
    }
    return out;
}

Status snapshot_volume(const Stores& stores, std::string_view volume, std::string_view snap,
                       std::chrono::milliseconds timeout) {
    if (auto ok = check_names(volume, snap); !ok) return ok;
    const std::string full = std::string(volume) + "@" + std::string(snap);
    MetaStore& meta = *stores.meta;
    if (auto vol = existing_volume(meta, volume); !vol) return std::unexpected(vol.error());
    auto exists = meta.get(snapshot_key(volume, snap));
    if (!exists) return std::unexpected(exists.error());
    if (*exists) {
        return fail(Errc::failed_precondition, "snapshot " + full +
                                                   " already exists: choose another name, or "
                                                   "delete it first (`itd volume delete`)");
    }
    auto lock = try_lock(meta, volume);
    if (!lock) return std::unexpected(lock.error());
    if (!*lock) {
        // Served by an itd: only the owner may say what is committed (it commits first).
        OwnerRequest request;
        request.op = OwnerRequest::Op::snapshot;
        request.snapshot = std::string(snap);
        return ask_owner(meta, volume, std::move(request), timeout);
    }
    // Nobody serves it, and nobody can start to while we hold the lock: the stored superblock
    // is the committed generation.
    auto vol = existing_volume(meta, volume);
    if (!vol) return std::unexpected(vol.error());
    return record_snapshot(meta, std::move(vol->sb), snap);
}

Status record_snapshot(MetaStore& meta, Superblock sb, std::string_view snap) {
    const std::string full = sb.name + "@" + std::string(snap);
    sb.snapshot = std::string(snap);
    sb.snapshot_created_unix_s = now_unix_s();
    auto put = meta.put_if(snapshot_key(sb.name, snap), encode_superblock(sb), 0);
    if (!put) {
        if (put.error().code == Errc::conflict) {
            return fail(Errc::failed_precondition, "snapshot " + full + " already exists");
        }
        return fail(put.error().code, "snapshot " + full + ": " + put.error().message);
    }
    return {};
}

Result<Superblock> clone_snapshot(const Stores& stores, std::string_view volume,
                                  std::string_view snap, std::string_view new_name) {
    if (auto ok = check_names(volume, snap); !ok) return std::unexpected(ok.error());
    if (auto ok = check_name("volume", new_name); !ok) return std::unexpected(ok.error());
    MetaStore& meta = *stores.meta;
    auto snapshot = existing_snapshot(meta, volume, snap);
    if (!snapshot) return std::unexpected(snapshot.error());
    Superblock sb = std::move(snapshot->sb);
    sb.name = std::string(new_name);
    sb.tag = random_tag();
    sb.generation = 0;
    sb.epoch = 0;
    sb.created_unix_s = now_unix_s();
    sb.origin = std::string(volume) + "@" + std::string(snap);
    sb.snapshot.clear();
    sb.snapshot_created_unix_s = 0;
    const std::string key = volume_key(new_name);
    auto put = meta.put_if(key, encode_superblock(sb), 0);
    if (!put) {
        if (put.error().code == Errc::conflict) {
            return fail(Errc::failed_precondition,
                        "volume " + sb.name + " already exists: choose another name for the clone");
        }
        return fail(put.error().code, "volume " + sb.name + ": " + put.error().message);
    }
    // delete_snapshot() refuses while a clone names the snapshot; if it ran between our read
    // and our write, it did not see the clone: undo, rather than leave a clone whose objects gc
    // may sweep.
    auto still = meta.get(snapshot_key(volume, snap));
    if (!still || !*still || (*still)->revision != snapshot->revision) {
        (void)meta.remove_if(key, *put);
        return fail(Errc::failed_precondition,
                    "snapshot " + sb.origin + " was deleted or replaced while cloning it");
    }
    return sb;
}

Status delete_volume(const Stores& stores, std::string_view volume) {
    if (auto ok = check_name("volume", volume); !ok) return ok;
    const std::string name(volume);
    MetaStore& meta = *stores.meta;
    if (auto vol = existing_volume(meta, volume); !vol) return std::unexpected(vol.error());
    // Holding the lock: nobody opens the volume or snapshots it while we decide.
    auto lock = try_lock(meta, volume);
    if (!lock) return std::unexpected(lock.error());
    if (!*lock) {
        return fail(Errc::failed_precondition, "volume " + name + " is open by " +
                                                   holder_text(meta, volume) +
                                                   ": stop serving it first");
    }
    auto snaps = names_under(meta, snapshot_prefix(volume));
    if (!snaps) return std::unexpected(snaps.error());
    if (!snaps->empty()) {
        return fail(Errc::failed_precondition,
                    "volume " + name + " has snapshots (" + join(*snaps) +
                        "): delete them first (`itd volume delete STORE/" + name + "@SNAPSHOT`)");
    }
    auto vol = existing_volume(meta, volume);
    if (!vol) return std::unexpected(vol.error());
    if (auto removed = meta.remove_if(volume_key(volume), vol->revision); !removed) {
        return fail(removed.error().code, "volume " + name + ": " + removed.error().message);
    }
    // A request nobody will answer now (best effort: the key is harmless).
    if (auto request = meta.get(request_key(volume)); request && *request) {
        (void)meta.remove_if(request_key(volume), (*request)->revision);
    }
    return {};
}

Status delete_snapshot(const Stores& stores, std::string_view volume, std::string_view snap) {
    if (auto ok = check_names(volume, snap); !ok) return ok;
    MetaStore& meta = *stores.meta;
    auto snapshot = existing_snapshot(meta, volume, snap);
    if (!snapshot) return std::unexpected(snapshot.error());
    const std::string full = std::string(volume) + "@" + std::string(snap);
    auto names = names_under(meta, "volumes/");
    if (!names) return std::unexpected(names.error());
    std::vector<std::string> clones;
    for (const std::string& name : *names) {
        auto stored = read_superblock(meta, volume_key(name), "volume " + name);
        if (!stored) return std::unexpected(stored.error());
        if (*stored && (*stored)->sb.origin == full) clones.push_back(name);
    }
    if (!clones.empty()) {
        return fail(Errc::failed_precondition,
                    "snapshot " + full + " is the origin of " + join(clones) +
                        ": delete those volumes first (they share its data)");
    }
    if (auto removed = meta.remove_if(snapshot_key(volume, snap), snapshot->revision); !removed) {
        return fail(removed.error().code, "snapshot " + full + ": " + removed.error().message);
    }
    return {};
}

Status grow_volume(const Stores& stores, std::string_view volume, std::uint64_t size_bytes,
                   std::chrono::milliseconds timeout) {
    if (auto ok = check_name("volume", volume); !ok) return ok;
    const std::string name(volume);
    MetaStore& meta = *stores.meta;
    auto current = existing_volume(meta, volume);
    if (!current) return std::unexpected(current.error());
    const auto check = [&](const Superblock& sb) { return check_grow(sb, size_bytes); };
    if (auto ok = check(current->sb); !ok) return ok;
    auto lock = try_lock(meta, volume);
    if (!lock) return std::unexpected(lock.error());
    if (!*lock) {
        OwnerRequest request;
        request.op = OwnerRequest::Op::grow;
        request.size_bytes = size_bytes;
        return ask_owner(meta, volume, std::move(request), timeout);
    }
    auto vol = existing_volume(meta, volume);
    if (!vol) return std::unexpected(vol.error());
    if (auto ok = check(vol->sb); !ok) return ok;
    if (vol->sb.size_bytes == size_bytes) return {};
    Superblock sb = std::move(vol->sb);
    sb.size_bytes = size_bytes;
    // The new segments cover only unmapped pages: null, no object.
    sb.segments.resize(sb.segment_count());
    sb.generation += 1;
    auto put = meta.put_if(volume_key(volume), encode_superblock(sb), vol->revision);
    if (!put) {
        return fail(
            put.error().code == Errc::conflict ? Errc::unavailable : put.error().code,
            "volume " + name + ": the superblock changed while growing it: " + put.error().message);
    }
    return {};
}

Result<VolumeRef> parse_volume_ref(std::string_view text) {
    VolumeRef ref;
    const auto at = text.find('@');
    ref.volume = std::string(text.substr(0, at));
    if (auto ok = check_name("volume", ref.volume); !ok) return std::unexpected(ok.error());
    if (at != std::string_view::npos) {
        ref.snapshot = std::string(text.substr(at + 1));
        if (auto ok = check_name("snapshot", ref.snapshot); !ok) {
            return std::unexpected(ok.error());
        }
    }
    return ref;
}

}  // namespace itd::volume::thin
