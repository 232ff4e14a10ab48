// The thin engine's I/O paths and opening; the commit is in thin_commit.cpp.
#include "volume/thin/thin_volume.h"


#include <algorithm>
#include <atomic>
#include <cstring>

#include "common/check.h"
#include "volume/thin/segment.h"

namespace itd::volume::thin {

namespace {

constexpr int kOpenAttempts = 5;

// The map of one volume from its segments.
Result<std::vector<PageRef>> load_map(ObjectStore& objects, const Superblock& sb) {
    std::vector<PageRef> map(sb.page_count());
    for (std::uint64_t s = 0; s < sb.segments.size(); ++s) {
        const SegmentRef& ref = sb.segments[s];
        if (ref.tag == 0) continue;
        const std::string key = object_key(ref.tag, ref.id);
        auto bytes = objects.get_all(key);
        if (!bytes) {
            return fail(bytes.error().code, "volume " + sb.name + ": map segment " + key + ": " +
                                                bytes.error().message);
        }
        const std::uint64_t first = s * sb.pages_per_segment;
        auto segment = decode_segment(*bytes, first, sb.pages_per_segment);
        if (!segment) {
            return fail(segment.error().code, "volume " + sb.name + ": map segment " + key + ": " +
                                                  segment.error().message);
        }
        for (std::uint64_t i = 0; i < segment->entries.size(); ++i) {
            const PageRef& e = segment->entries[i];
            if (!e.mapped()) continue;
            if (first + i >= map.size() || e.length_bytes != sb.page_size_bytes) {
                return fail(Errc::io_error, "volume " + sb.name + ": map segment " + key +
                                                " maps page " + std::to_string(first + i) +
                                                " wrongly (beyond the end, or not a whole page)");
            }
            map[first + i] = e;
        }
    }
    return map;
}

}  // namespace

// Several pieces of one read finish on different threads; the last one completes the read.
struct ThinVolume::ReadOp {
    Completion done;
    std::atomic<std::size_t> pending{1};  // one for the submitting thread itself
    std::mutex mutex;
    Status status;

    void finish(Status st) {
        if (!st) {
            std::lock_guard g(mutex);
            if (status) status = std::move(st);
        }
        if (pending.fetch_sub(1) == 1) done(std::move(status));
    }
};

// A write goes page by page; it may stop to fetch a page or to wait for room in the cache, and
// continue on another thread.
struct ThinVolume::WriteOp {
    std::uint64_t offset_bytes;
    std::span<const std::uint8_t> in;  // empty with zeros: writes zeros
    std::uint64_t length_bytes;
    bool zeros = false;
    bool fua = false;
    Completion done;
    std::uint64_t done_bytes = 0;
    // A page fetched for read-modify-write, with the reference it was fetched from.
    std::optional<std::uint64_t> fetched_page;
    PageRef fetched_ref;
    std::shared_ptr<PageBuffer> fetched;
};

Result<std::shared_ptr<ThinVolume>> ThinVolume::open(Stores stores, std::string name,
                                                     ThinOptions options) {
    if (auto ok = check_name("volume", name); !ok) return std::unexpected(ok.error());
    const std::string key = volume_key(name);
    auto lock = stores.meta->lock(key, options.owner_info);
    if (!lock) {
        if (lock.error().code == Errc::failed_precondition) {
            return fail(Errc::failed_precondition,
                        "volume " + name + " is open elsewhere: " + lock.error().message);
        }
        return std::unexpected(lock.error());
    }
    // Holding the lock, bump the epoch: object ids of this owner never repeat an earlier
    // owner's. Management commands write the superblock too (under the same lock when the
    // volume is closed), so a conflict here is a race with one that just finished: retry.
    for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
        auto current = stores.meta->get(key);
        if (!current) return std::unexpected(current.error());
        if (!*current) {
            return fail(Errc::not_found, "thin volume " + name +
                                             " does not exist in this store (give size= to "
                                             "create it, or see `itd volume create`)");
        }
        auto sb = decode_superblock((*current)->value);
        if (!sb) {
            return fail(sb.error().code, "volume " + name + ": superblock: " + sb.error().message);
        }
        if (sb->name != name || !sb->snapshot.empty()) {
            return fail(Errc::io_error, "volume " + name + ": the superblock names another volume");
        }
        if (sb->epoch >= 0xFFFFFFFFu) {
            return fail(Errc::failed_precondition, "volume " + name + ": owner epochs exhausted");
        }
        sb->epoch += 1;
        auto revision =
            stores.meta->put_if(key, encode_superblock(*sb), (*current)->revision, lock->get());
        if (!revision) {
            if (revision.error().code == Errc::conflict) continue;
            return std::unexpected(revision.error());
        }
        auto map = load_map(*stores.objects, *sb);
        if (!map) return std::unexpected(map.error());
        if (options.cache_bytes < 16ull * sb->page_size_bytes) {
            return fail(Errc::invalid_argument,
                        "volume " + name + ": the cache must hold at least 16 pages (" +
                            std::to_string(16ull * sb->page_size_bytes) + " bytes)");
        }
        return std::shared_ptr<ThinVolume>(new ThinVolume(std::move(stores), std::move(*sb),
                                                          *revision, std::move(*lock),
                                                          std::move(*map), std::move(options)));
    }
    return fail(Errc::unavailable,
                "volume " + name + ": the superblock kept changing while opening");
}

ThinVolume::ThinVolume(Stores stores, Superblock sb, std::uint64_t revision,
                       std::unique_ptr<MetaLock> lock, std::vector<PageRef> map,
                       ThinOptions options)
    : stores_(std::move(stores)),
      options_(std::move(options)),
      tag_(sb.tag),
      epoch_(sb.epoch),
      page_size_bytes_(sb.page_size_bytes),
      block_size_bytes_(sb.block_size_bytes),
      pages_per_segment_(sb.pages_per_segment),
      sb_(std::move(sb)),
      sb_revision_(revision),
      lock_(std::move(lock)),
      map_(std::move(map)),
      cache_(page_size_bytes_, options_.cache_bytes),
      fetch_pool_(options_.fetch_threads, 1024),
      upload_pool_(options_.upload_threads, 2 * options_.upload_threads),
      commit_thread_([this](std::stop_token stop) { commit_loop(stop); }) {
    stats_.generation = sb_.generation;
    size_bytes_.store(sb_.size_bytes, std::memory_order_release);
    for (const PageRef& r : map_) stats_.mapped_pages += r.mapped() ? 1 : 0;
}

ThinVolume::~ThinVolume() {
    // The commit thread commits what is dirty when asked to stop (commit_loop).
    commit_thread_.request_stop();
    commit_thread_.join();
}

Geometry ThinVolume::geometry() const {
    // Every command asks; the size changes only when a grow commits, so no lock.
    const std::uint64_t size = size_bytes_.load(std::memory_order_acquire);
    return Geometry{block_size_bytes_, size / block_size_bytes_};
}

ThinVolume::Stats ThinVolume::stats() const {
    std::lock_guard g(mutex_);
    Stats s = stats_;
    s.cached_bytes = cache_.bytes();
    s.dirty_pages = cache_.dirty_count();
    return s;
}

Superblock ThinVolume::superblock() const {
    std::lock_guard g(mutex_);
    return sb_;
}

void ThinVolume::check_range(std::uint64_t offset_bytes, std::uint64_t length_bytes) const {
    const Geometry g = geometry();
    ITD_CHECK(offset_bytes % g.block_size_bytes == 0 && length_bytes % g.block_size_bytes == 0);
    ITD_CHECK(offset_bytes <= g.size_bytes() && length_bytes <= g.size_bytes() - offset_bytes);
}

void ThinVolume::fence_locked(Error e) {
    if (fenced_) return;  // the first reason stays
    fenced_ = std::move(e);
    if (options_.on_event) options_.on_event(fenced_->message);
}

Status ThinVolume::fenced_status_locked() {
    if (!fenced_ && !lock_->held()) {
        fence_locked(Error{Errc::failed_precondition,
                           "volume " + sb_.name + ": lost its lock (another node may own it now); "
                           "refusing writes"});
    }
    if (fenced_) return std::unexpected(*fenced_);
    return {};
}

void ThinVolume::read(std::uint64_t offset_bytes, std::span<std::uint8_t> out, Completion done) {
    check_range(offset_bytes, out.size());
    auto op = std::make_shared<ReadOp>();
    op->done = std::move(done);
    struct Fetch {
        PageRef ref;
        std::uint32_t in_page;
        std::span<std::uint8_t> out;
    };
    std::vector<Fetch> fetches;
    {
        std::lock_guard g(mutex_);
        std::uint64_t at = offset_bytes;
        std::size_t done_bytes = 0;
        while (done_bytes < out.size()) {
            const std::uint64_t page = at / page_size_bytes_;
            const auto in_page = static_cast<std::uint32_t>(at % page_size_bytes_);
            const std::size_t n =
                std::min<std::size_t>(page_size_bytes_ - in_page, out.size() - done_bytes);
            auto piece = out.subspan(done_bytes, n);
            if (PageCache::Page* p = cache_.find(page)) {
                std::memcpy(piece.data(), p->data->data() + in_page, n);
                cache_.touch(page);
            } else if (!map_[page].mapped()) {
                std::memset(piece.data(), 0, n);
            } else {
                fetches.push_back(Fetch{map_[page], in_page, piece});
            }
            at += n;
            done_bytes += n;
        }
    }
    op->pending += fetches.size();
    for (const Fetch& f : fetches) {
        fetch_pool_.submit([this, op, f] {
            const std::string key = object_key(f.ref.tag, f.ref.id);
            Status st = stores_.objects->get(key, f.ref.offset_bytes + f.in_page, f.out);
            if (st && f.out.size() == page_size_bytes_ && crc32c(f.out) != f.ref.crc32c) {
                st = fail(Errc::io_error, "object " + key + ": checksum mismatch");
            }
            op->finish(std::move(st));
        });
    }
    op->finish({});
}

void ThinVolume::write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in,
                       WriteFlags flags, Completion done) {
    check_range(offset_bytes, in.size());
    auto op = std::make_shared<WriteOp>();
    op->offset_bytes = offset_bytes;
    op->in = in;
    op->length_bytes = in.size();
    op->fua = flags.fua;
    op->done = std::move(done);
    continue_write(std::move(op));
}

void ThinVolume::continue_write(std::shared_ptr<WriteOp> op) {
    std::unique_lock lock(mutex_);
    Status status = fenced_status_locked();
    while (status && op->done_bytes < op->length_bytes) {
        const std::uint64_t at = op->offset_bytes + op->done_bytes;
        const std::uint64_t page = at / page_size_bytes_;
        const auto in_page = static_cast<std::uint32_t>(at % page_size_bytes_);
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(page_size_bytes_ - in_page, op->length_bytes - op->done_bytes));
        if (cache_.find(page) == nullptr) {
            const bool whole = n == page_size_bytes_ || !map_[page].mapped();
            const bool have_fetched =
                op->fetched && op->fetched_page == page && op->fetched_ref == map_[page];
            if (!whole && !have_fetched) {
                // Read-modify-write: fetch the page, then come back here. If the map changed
                // meanwhile (a commit, an unmap), the check above sends us round again.
                const PageRef ref = map_[page];
                lock.unlock();
                fetch_for_write(std::move(op), page, ref);
                return;
            }
            if (!cache_.make_room()) {
                // Every cached page is dirty: wait for a commit to clean some. A fetched page
                // stays with the write for when it comes back.
                parked_writes_.push_back(std::move(op));
                request_commit_locked();
                return;
            }
            // A write of the whole page fills it: no zeros first. A part of an unmapped page
            // starts from zeros.
            std::shared_ptr<PageBuffer> data = n == page_size_bytes_ ? cache_.pool().take()
                                               : whole               ? cache_.pool().take_zeroed()
                                                                     : std::move(op->fetched);
            cache_.insert_dirty(page, std::move(data), write_version_);
        }
        op->fetched_page.reset();
        op->fetched.reset();
        PageBuffer& buf = cache_.writable(page);
        if (op->zeros) {
            std::memset(buf.data() + in_page, 0, n);
        } else {
            std::memcpy(buf.data() + in_page, op->in.data() + op->done_bytes, n);
        }
        cache_.mark_dirty(page, ++write_version_);
        to_upload_.insert(page);
        op->done_bytes += n;
    }
    if (status && !commit_wanted_ && options_.writeback_percent < 100 &&
        to_upload_.size() * 100 * page_size_bytes_ >=
            options_.cache_bytes * options_.writeback_percent)
        request_commit_locked();
    lock.unlock();
    if (status && op->fua) {
        flush(std::move(op->done));
        return;
    }
    op->done(std::move(status));
}

void ThinVolume::fail_write(const std::shared_ptr<WriteOp>& op, Status st) {
    op->done(std::move(st));
}

void ThinVolume::fetch_for_write(std::shared_ptr<WriteOp> op, std::uint64_t page, PageRef ref) {
    fetch_pool_.submit([this, op = std::move(op), page, ref]() mutable {
        auto buf = cache_.pool().take();
        const std::string key = object_key(ref.tag, ref.id);
        Status st = stores_.objects->get(key, ref.offset_bytes, *buf);
        if (st && crc32c(*buf) != ref.crc32c) {
            st = fail(Errc::io_error, "object " + key + ": checksum mismatch");
        }
        if (!st) {
            op->done(std::move(st));
            return;
        }
        op->fetched_page = page;
        op->fetched_ref = ref;
        op->fetched = std::move(buf);
        continue_write(std::move(op));
    });
}

void ThinVolume::unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes, Completion done) {
    check_range(offset_bytes, length_bytes);
    const std::uint64_t end = offset_bytes + length_bytes;
    const std::uint64_t first_whole = (offset_bytes + page_size_bytes_ - 1) / page_size_bytes_;
    const std::uint64_t end_whole = end / page_size_bytes_;
    Status status;
    {
        std::lock_guard g(mutex_);
        status = fenced_status_locked();
        for (std::uint64_t page = first_whole; status && page < end_whole; ++page) {
            const bool cached = cache_.find(page) != nullptr;
            // A cached page may be in a commit's segment already (or about to be): its
            // segment must be written again, even when the map says unmapped.
            if (cached || map_[page].mapped()) dirty_segments_.insert(page / pages_per_segment_);
            if (map_[page].mapped()) --stats_.mapped_pages;
            cache_.erase(page);
            to_upload_.erase(page);
            map_[page] = PageRef{};
        }
    }
    if (!status) {
        done(std::move(status));
        return;
    }
    // The partial pages at either end get zeros, through the write path.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> partial;
    if (first_whole >= end_whole) {
        partial.emplace_back(offset_bytes, length_bytes);
    } else {
        if (offset_bytes < first_whole * page_size_bytes_)
            partial.emplace_back(offset_bytes, first_whole * page_size_bytes_ - offset_bytes);
        if (end > end_whole * page_size_bytes_)
            partial.emplace_back(end_whole * page_size_bytes_, end - end_whole * page_size_bytes_);
    }
    if (partial.empty()) {
        done({});
        return;
    }
    auto shared_done = std::make_shared<ReadOp>();  // the same "last piece completes" logic
    shared_done->done = std::move(done);
    shared_done->pending += partial.size();
    for (auto [at, n] : partial) {
        auto op = std::make_shared<WriteOp>();
        op->offset_bytes = at;
        op->length_bytes = n;
        op->zeros = true;
        op->done = [shared_done](Status st) { shared_done->finish(std::move(st)); };
        continue_write(std::move(op));
    }
    shared_done->finish({});
}

void ThinVolume::lba_status(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                            LbaStatusDone done) {
    check_range(offset_bytes, length_bytes);
    std::vector<LbaExtent> extents;
    {
        std::lock_guard g(mutex_);
        const std::uint64_t end = offset_bytes + length_bytes;
        std::uint64_t at = offset_bytes;
        for (std::uint64_t pages = 0; at < end && pages < kMaxStatusPages; ++pages) {
            const std::uint64_t page = at / page_size_bytes_;
            const std::uint64_t next = std::min(end, (page + 1) * page_size_bytes_);
            const bool mapped = cache_.find(page) != nullptr || map_[page].mapped();
            if (!extents.empty() && extents.back().mapped == mapped) {
                extents.back().length_bytes += next - at;
            } else {
                extents.push_back(LbaExtent{at, next - at, mapped});
            }
            at = next;
        }
    }
    if (extents.empty()) extents.push_back(LbaExtent{offset_bytes, 0, true});
    done(std::move(extents));
}

}  // namespace itd::volume::thin
