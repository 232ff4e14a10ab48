// The thin engine's commit: the protocol drawn in thin_volume.h, steps (1) to (5), and the
// thread that runs it.
#include <algorithm>
#include <map>

#include "common/check.h"
#include "volume/thin/segment.h"
#include "volume/thin/thin_volume.h"

namespace itd::volume::thin {

namespace {

// After a failed commit the timer retries sooner than its usual interval.
constexpr std::chrono::milliseconds kRetryInterval{1000};

}  // namespace

void ThinVolume::flush(Completion done) {
    std::unique_lock lock(mutex_);
    Status status = fenced_status_locked();
    if (status && nothing_to_commit_locked()) {
        if (commit_running_) {
            // Everything acknowledged so far is in the commit that is running.
            flush_waiters_.push_back(FlushWaiter{commits_started_, std::move(done)});
            return;
        }
        lock.unlock();
        done({});
        return;
    }
    if (!status) {
        lock.unlock();
        done(std::move(status));
        return;
    }
    // The running commit (if any) snapshotted before this flush: it takes the next one.
    flush_waiters_.push_back(FlushWaiter{commits_started_ + 1, std::move(done)});
    request_commit_locked();
}

bool ThinVolume::nothing_to_commit_locked() const {
    return to_upload_.empty() && dirty_segments_.empty() && !pending_size_;
}

void ThinVolume::request_commit_locked() {
    commit_wanted_ = true;
    commit_cv_.notify_all();
}

void ThinVolume::commit_loop(std::stop_token stop) {
    using Clock = std::chrono::steady_clock;
    auto next = Clock::now() + options_.commit_interval;
    const bool polling = options_.request_poll_interval.count() > 0;
    auto next_poll = Clock::now() + options_.request_poll_interval;
    std::unique_lock lock(mutex_);
    for (;;) {
        commit_cv_.wait_until(lock, stop, polling ? std::min(next, next_poll) : next,
                              [&] { return commit_wanted_; });
        const bool stopping = stop.stop_requested();
        if (polling && !stopping && Clock::now() >= next_poll) {
            lock.unlock();
            serve_owner_request();
            lock.lock();
            next_poll = Clock::now() + options_.request_poll_interval;
        }
        if (!commit_wanted_ && !stopping && Clock::now() < next) continue;
        commit_wanted_ = false;
        // A fenced volume still runs commit(): it fails the flushes that wait.
        const bool idle =
            nothing_to_commit_locked() && flush_waiters_.empty() && parked_writes_.empty();
        if (!idle) {
            lock.unlock();
            const Status st = commit();
            lock.lock();
            next = Clock::now() + (st ? options_.commit_interval
                                      : std::min(options_.commit_interval, kRetryInterval));
        } else {
            next = Clock::now() + options_.commit_interval;
        }
        if (stopping) return;
    }
}

std::uint64_t ThinVolume::next_object_id() {
    const std::uint64_t counter = object_counter_.fetch_add(1);
    // 2^32 objects per owner epoch: a volume reopened takes a new epoch.
    ITD_CHECK(counter < (1ull << 32));
    return (epoch_ << 32) | counter;
}

Result<PageRef> ThinVolume::upload_object(std::span<const std::uint8_t> data) {
    PageRef ref;
    ref.tag = tag_;
    ref.id = next_object_id();
    ref.offset_bytes = 0;
    ref.length_bytes = static_cast<std::uint32_t>(data.size());
    ref.crc32c = crc32c(data);
    // A new key (next_object_id never repeats): the store refuses to replace anything there.
    if (auto st = stores_.objects->put_new(object_key(ref.tag, ref.id), data); !st) {
        return std::unexpected(st.error());
    }
    return ref;
}

Status ThinVolume::run_uploads(std::vector<std::move_only_function<Status()>> jobs) {
    std::mutex m;
    std::condition_variable cv;
    std::size_t pending = jobs.size();
    Status first_error;
    for (auto& job : jobs) {
        upload_pool_.submit([&, job = std::move(job)]() mutable {
            Status st = job();
            std::lock_guard g(m);
            if (!st && first_error) first_error = std::move(st);
            if (--pending == 0) cv.notify_one();
        });
    }
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return pending == 0; });
    return first_error;
}

Status ThinVolume::commit() {
    std::vector<Upload> uploads;
    std::set<std::uint64_t> segments;
    std::uint64_t number = 0;
    std::optional<Error> fenced;
    std::optional<std::uint64_t> new_size;
    {
        std::lock_guard g(mutex_);
        number = ++commits_started_;
        commit_running_ = true;
        fenced = fenced_;
    }
    if (fenced) {
        finish_commit(number, std::unexpected(*fenced));
        return std::unexpected(*fenced);
    }
    {
        std::lock_guard g(mutex_);
        // Snapshot: the buffers are shared from here on, so later writes copy them.
        new_size = pending_size_;
        uploads.reserve(to_upload_.size());
        for (std::uint64_t page : to_upload_) {
            PageCache::Page* p = cache_.find(page);
            ITD_CHECK(p != nullptr && p->dirty);
            uploads.push_back(Upload{page, p->data, p->version, PageRef{}, false});
            segments.insert(page / pages_per_segment_);
        }
        to_upload_.clear();
        segments.merge(dirty_segments_);
        dirty_segments_.clear();
    }

    auto failed = [&](Error e) -> Status {
        {
            std::lock_guard g(mutex_);
            for (const Upload& u : uploads)
                if (cache_.find(u.page) != nullptr) to_upload_.insert(u.page);
            dirty_segments_.merge(segments);
        }
        finish_commit(number, std::unexpected(e));
        return std::unexpected(std::move(e));
    };

    if (uploads.empty() && segments.empty() && !new_size) {
        finish_commit(number, {});
        return {};
    }

    // (1) The pages, as new objects.
    {
        std::vector<std::move_only_function<Status()>> jobs;
        for (Upload& u : uploads) {
            jobs.push_back([this, &u]() -> Status {
                auto ref = upload_object(*u.data);
                if (!ref) return std::unexpected(ref.error());
                u.ref = *ref;
                return {};
            });
        }
        if (auto st = run_uploads(std::move(jobs)); !st) return failed(st.error());
    }

    // (2) The map segments they change, built from the map with the new pages laid over it. A
    // page unmapped since the snapshot (no longer cached) keeps the map's entry: the unmap is
    // newer, and it marked the segment for the next commit.
    std::map<std::uint64_t, SegmentRef> new_segments;
    {
        std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> encoded;
        {
            std::lock_guard g(mutex_);
            std::map<std::uint64_t, std::vector<Upload*>> by_segment;
            for (Upload& u : uploads) by_segment[u.page / pages_per_segment_].push_back(&u);
            for (std::uint64_t s : segments) {
                Segment seg;
                seg.first_page = s * pages_per_segment_;
                seg.entries.resize(pages_per_segment_);
                const std::uint64_t end =
                    std::min<std::uint64_t>(map_.size(), seg.first_page + pages_per_segment_);
                std::copy(map_.begin() + static_cast<std::ptrdiff_t>(seg.first_page),
                          map_.begin() + static_cast<std::ptrdiff_t>(end), seg.entries.begin());
                for (Upload* u : by_segment[s]) {
                    if (cache_.find(u->page) == nullptr) continue;
                    seg.entries[u->page - seg.first_page] = u->ref;
                    u->in_segment = true;
                }
                const bool any = std::any_of(seg.entries.begin(), seg.entries.end(),
                                             [](const PageRef& r) { return r.mapped(); });
                if (any) {
                    encoded.emplace_back(s, encode_segment(seg));
                } else {
                    new_segments[s] = SegmentRef{};
                }
            }
        }
        std::vector<std::move_only_function<Status()>> jobs;
        std::vector<SegmentRef> refs(encoded.size());
        for (std::size_t i = 0; i < encoded.size(); ++i) {
            jobs.push_back([this, &encoded, &refs, i]() -> Status {
                auto ref = upload_object(encoded[i].second);
                if (!ref) return std::unexpected(ref.error());
                refs[i] = SegmentRef{ref->tag, ref->id};
                return {};
            });
        }
        if (auto st = run_uploads(std::move(jobs)); !st) return failed(st.error());
        for (std::size_t i = 0; i < encoded.size(); ++i) new_segments[encoded[i].first] = refs[i];
    }

    // (3) Everything uploaded is durable before the superblock names it.
    if (auto st = stores_.objects->sync(); !st) return failed(st.error());

    // (4) The superblock, by compare-and-swap on the revision we wrote last. If the last
    // commit's swap ended without an answer, find out first whether it happened: then its
    // superblock is ours to build on (its pages are in this commit again, so every segment
    // that named them is written anew).
    if (auto st = settle_uncertain_swap(); !st) return failed(st.error());
    Superblock next;
    std::uint64_t expected_revision = 0;
    {
        std::lock_guard g(mutex_);
        next = sb_;
        expected_revision = sb_revision_;
    }
    next.generation += 1;
    for (const auto& [s, ref] : new_segments) next.segments[s] = ref;
    if (new_size) {
        // Growing adds unmapped pages: new segments start empty, old ones stay as they are.
        next.size_bytes = *new_size;
        next.segments.resize(next.segment_count());
    }
    if (!lock_->held()) {
        Error e{Errc::failed_precondition,
                "volume " + next.name + ": lost its lock; refusing writes"};
        {
            std::lock_guard g(mutex_);
            fence_locked(e);
        }
        return failed(e);
    }
    const std::string encoded = encode_superblock(next);
    // Fenced by our lock: in a cluster the store itself refuses the swap once the lease is gone,
    // even before this process notices.
    auto revision =
        stores_.meta->put_if(volume_key(next.name), encoded, expected_revision, lock_.get());
    if (!revision) {
        // The swap may have happened with its answer lost (a timeout, a dropped connection).
        // Reading the key tells: our exact superblock there means it did.
        if (auto now = stores_.meta->get(volume_key(next.name));
            now && *now && (*now)->value == encoded) {
            revision = (*now)->revision;
        }
    }
    if (!revision) {
        if (revision.error().code == Errc::failed_precondition) {
            // The fence held: our lock is gone, and so is our right to write.
            Error e{Errc::failed_precondition,
                    "volume " + next.name + ": lost its lock; refusing writes (" +
                        revision.error().message + ")"};
            {
                std::lock_guard g(mutex_);
                fence_locked(e);
            }
            return failed(e);
        }
        if (revision.error().code == Errc::conflict) {
            // Someone else wrote our superblock: we are not its owner any more. Never write it
            // again; every later write fails (DESIGN.md "Ownership and fencing").
            Error e{Errc::failed_precondition,
                    "volume " + next.name +
                        ": its superblock was changed by another owner; refusing writes"};
            {
                std::lock_guard g(mutex_);
                fence_locked(e);
            }
            return failed(e);
        }
        // Unknown whether the swap happened: the next commit asks before its own.
        uncertain_swap_ = UncertainSwap{encoded, next};
        return failed(revision.error());
    }

    // (5) Apply: the map names the new objects; pages unchanged since the snapshot are clean.
    {
        std::lock_guard g(mutex_);
        for (const Upload& u : uploads) {
            if (!u.in_segment) continue;
            PageCache::Page* p = cache_.find(u.page);
            if (p == nullptr) continue;  // unmapped since step (2): the map says so already
            if (!map_[u.page].mapped()) ++stats_.mapped_pages;
            map_[u.page] = u.ref;
            if (p->version == u.version) cache_.mark_clean(u.page);
        }
        if (new_size) {
            map_.resize(next.page_count());
            if (pending_size_ == new_size) pending_size_.reset();
            // After the map grew: a command that sees the new size finds its pages.
            size_bytes_.store(next.size_bytes, std::memory_order_release);
        }
        sb_ = std::move(next);
        sb_revision_ = *revision;
        stats_.generation = sb_.generation;
        stats_.commits += 1;
        stats_.objects_uploaded += uploads.size() + new_segments.size();
    }
    // The listener first: whoever waits for the grow learns of it after the initiators can.
    if (new_size) notify_resized();
    finish_commit(number, {});
    return {};
}

Status ThinVolume::settle_uncertain_swap() {
    if (!uncertain_swap_) return {};
    const std::string key = volume_key(uncertain_swap_->sb.name);
    auto now = stores_.meta->get(key);
    if (!now) return std::unexpected(now.error());
    if (*now && (*now)->value == uncertain_swap_->encoded) {
        std::lock_guard g(mutex_);
        sb_ = uncertain_swap_->sb;
        sb_revision_ = (*now)->revision;
        stats_.generation = sb_.generation;
    }
    // Otherwise it did not happen; if someone else wrote the key, our swap will conflict.
    uncertain_swap_.reset();
    return {};
}

void ThinVolume::finish_commit(std::uint64_t number, const Status& st) {
    std::vector<Completion> flushes;
    std::deque<std::shared_ptr<WriteOp>> parked;
    {
        std::lock_guard g(mutex_);
        commit_running_ = false;
        if (options_.on_event && !fenced_ && commits_failing_ == st.has_value()) {
            commits_failing_ = !st;
            options_.on_event(st ? "volume " + sb_.name + ": commits succeed again"
                                 : "volume " + sb_.name + ": commit failed (retrying): " +
                                       st.error().message);
        }
        while (!flush_waiters_.empty() && flush_waiters_.front().commit <= number) {
            flushes.push_back(std::move(flush_waiters_.front().done));
            flush_waiters_.pop_front();
        }
        parked.swap(parked_writes_);
    }
    for (auto& done : flushes) done(st);
    // Parked writes try again: a successful commit cleaned pages they can evict. After a failed
    // one they fail too, rather than wait for a store that may not come back.
    for (auto& op : parked) {
        if (st) {
            continue_write(std::move(op));
        } else {
            fail_write(op, st);
        }
    }
}

}  // namespace itd::volume::thin
