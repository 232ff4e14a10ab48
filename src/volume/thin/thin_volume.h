// A thin-provisioned volume held as an array of pages in an ObjectStore, rooted in a superblock
// in a MetaStore (DESIGN.md "Thin volume format"). This is the engine: the page map, the page
// cache, write-back and the commit.
//
// I/O
//   read   cached page -> copy; unmapped page -> zeros (LBPRZ=1); else a ranged GET of the
//          page's object on the fetch pool (whole-page GETs are checked against the CRC32C).
//   write  into the cache: a whole page needs nothing first; a partial write to an unmapped
//          page starts from zeros; to a mapped page not cached, the page is fetched first
//          (read-modify-write). With fua the write then waits for a commit. A full cache of
//          dirty pages parks the write and asks for a commit (cache pressure), so memory stays
//          bounded and the initiator is slowed through its command window.
//   unmap  whole pages: dropped from the cache and unmapped in the map (metadata only; the
//          next commit writes the map segment); partial pages: zeros written in cache.
//
// Commit (on the commit thread: on flush(), on a timer, on cache pressure)
//
//      snapshot (under the lock)       the dirty pages' buffers (shared: later writes copy)
//          |                           and the map segments changed by unmaps
//          v
//   (1) upload pages ----------------> new objects, keys never used before
//          |   (bounded parallel)       (tag, epoch << 32 | counter)
//          v
//   (2) upload changed map segments -> new objects
//          |
//          v
//   (3) ObjectStore::sync()            everything above is durable
//          |
//          v
//   (4) MetaStore::put_if(superblock g+1, expected revision of g)
//          |-- conflict: someone else owns the volume now -> fenced: every later write and
//          v             flush fails; nothing of ours is written again
//   (5) apply (under the lock)         the map points at the new objects; pages not written
//                                      since the snapshot become clean; flushes waiting for
//                                      this commit complete
//
//   A crash anywhere before (4) leaves generation g whole: the new objects are unreferenced
//   garbage (swept by gc). A failure before (4) fails the flushes waiting for this commit;
//   the pages stay dirty and the next commit tries again.
//
// Ownership: open() takes the volume's MetaLock (one writer per volume) and bumps the
// superblock's epoch by compare-and-swap; a lock that is lost (held() false) fences the volume.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "volume/io_pool.h"
#include "volume/meta/meta_store.h"
#include "volume/store/object_store.h"
#include "volume/thin/page_cache.h"
#include "volume/thin/page_ref.h"
#include "volume/thin/superblock.h"
#include "volume/volume.h"

namespace itd::volume::thin {

struct Stores {
    std::shared_ptr<ObjectStore> objects;
    std::shared_ptr<MetaStore> meta;
};

struct ThinOptions {
    std::uint64_t cache_bytes = 256u << 20;  // at least 16 pages
    std::chrono::milliseconds commit_interval{30'000};
    // A commit starts in the background once this share of the cache is dirty, so uploads
    // overlap the writes that follow instead of taking turns with them (a full cache parks
    // writes until a commit cleans pages); 100: only when the cache is full.
    std::uint32_t writeback_percent = 25;
    std::size_t upload_threads = 8;  // uploads in flight at once
    std::size_t fetch_threads = 8;   // GETs in flight at once
    std::string owner_info;          // shown to whoever finds the volume taken
    // How often the owner looks for management requests (owner_request.h); 0: never.
    std::chrono::milliseconds request_poll_interval{1000};
    // Told, from any thread and possibly under the volume's lock (so it must not call back into
    // the volume), what an operator should see in the log: the first failed commit after
    // good ones, the first good one after failures, and the loss of the lock (fencing).
    std::function<void(const std::string&)> on_event;
};

class ThinVolume final : public Volume {
public:
    // Opens the volume for writing. Errors: not_found (no such volume), failed_precondition
    // (open by someone else: the message says who), and whatever the stores say.
    static Result<std::shared_ptr<ThinVolume>> open(Stores stores, std::string name,
                                                    ThinOptions options);
    // Commits what is dirty (a clean shutdown loses nothing), then stops.
    ~ThinVolume() override;

    Geometry geometry() const override;
    void read(std::uint64_t offset_bytes, std::span<std::uint8_t> out, Completion done) override;
    void write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in, WriteFlags flags,
               Completion done) override;
    void flush(Completion done) override;
    bool has_volatile_cache() const override { return true; }
    bool supports_unmap() const override { return true; }
    void unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes, Completion done) override;
    // Page granularity; at most kMaxStatusPages pages per call.
    void lba_status(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                    LbaStatusDone done) override;
    static constexpr std::uint64_t kMaxStatusPages = 1u << 16;

    struct Stats {
        std::uint64_t generation = 0;
        std::uint64_t commits = 0;       // successful commits that wrote a generation
        std::uint64_t mapped_pages = 0;  // in the map (committed or being committed)
        std::uint64_t cached_bytes = 0;
        std::uint64_t dirty_pages = 0;
        std::uint64_t objects_uploaded = 0;
    };
    Stats stats() const;

    // A copy of the last committed superblock.
    Superblock superblock() const;

    // Grows the volume to size_bytes (a multiple of the block size, at least the current size,
    // at most 64 PiB) and returns once the new size is committed; then the resize listener
    // runs. Not on a completion of this volume (it waits for the commit thread).
    Status grow(std::uint64_t size_bytes);
    // Commits, then records the committed generation as snapshot `name` of this volume.
    // Errors: invalid_argument (bad name), failed_precondition (the snapshot exists).
    Status snapshot(const std::string& name);

private:
    struct ReadOp;
    struct WriteOp;
    struct Upload {
        std::uint64_t page;
        std::shared_ptr<PageBuffer> data;
        std::uint64_t version;
        PageRef ref;              // set by step (1)
        bool in_segment = false;  // step (2) wrote ref into its segment
    };
    struct FlushWaiter {
        std::uint64_t commit;  // completes when this commit (or a later one) is done
        Completion done;
    };

    ThinVolume(Stores stores, Superblock sb, std::uint64_t revision, std::unique_ptr<MetaLock> lock,
               std::vector<PageRef> map, ThinOptions options);

    void check_range(std::uint64_t offset_bytes, std::uint64_t length_bytes) const;
    void continue_write(std::shared_ptr<WriteOp> op);
    static void fail_write(const std::shared_ptr<WriteOp>& op, Status st);
    void fetch_for_write(std::shared_ptr<WriteOp> op, std::uint64_t page, PageRef ref);
    // Fences the volume first when its lock is no longer held (a cluster lease ran out).
    Status fenced_status_locked();
    // Refuses writes from now on (the first reason stays) and tells on_event.
    void fence_locked(Error e);
    bool nothing_to_commit_locked() const;
    void request_commit_locked();

    // The commit thread and one commit (thin_commit.cpp).
    void commit_loop(std::stop_token stop);
    Status commit();
    Result<PageRef> upload_object(std::span<const std::uint8_t> data);
    // Runs the jobs on the upload pool, at most upload_threads at once; the first error.
    Status run_uploads(std::vector<std::move_only_function<Status()>> jobs);
    std::uint64_t next_object_id();
    void finish_commit(std::uint64_t number, const Status& st);
    Status settle_uncertain_swap();
    // Management (thin_owner.cpp): on the commit thread.
    void serve_owner_request();
    Status check_grow(std::uint64_t size_bytes) const;
    void forget_grow(std::uint64_t size_bytes);
    Status record_snapshot(const std::string& name);
    // flush(), waited for: everything written so far (and a pending grow) is committed. Not on
    // the commit thread.
    Status commit_and_wait();

    const Stores stores_;
    const ThinOptions options_;
    const std::uint64_t tag_;    // names the objects this volume writes
    const std::uint64_t epoch_;  // this owner's epoch: the high half of its object ids
    const std::uint32_t page_size_bytes_;
    const std::uint32_t block_size_bytes_;
    std::atomic<std::uint64_t> size_bytes_{0};  // sb_.size_bytes, readable without the lock
    const std::uint32_t pages_per_segment_;

    mutable std::mutex mutex_;   // guards everything below it
    Superblock sb_;              // the last committed superblock
    std::uint64_t sb_revision_;  // its MetaStore revision
    std::unique_ptr<MetaLock> lock_;
    std::vector<PageRef> map_;  // one entry per page: what reads see below the cache
    PageCache cache_;
    std::uint64_t write_version_ = 0;         // counts changes to pages
    std::set<std::uint64_t> to_upload_;       // dirty pages no commit has snapshotted since
    std::set<std::uint64_t> dirty_segments_;  // segments whose map changed by unmap
    std::deque<std::shared_ptr<WriteOp>> parked_writes_;  // waiting for room in the cache
    std::deque<FlushWaiter> flush_waiters_;
    std::uint64_t commits_started_ = 0;
    bool commit_running_ = false;
    bool commit_wanted_ = false;
    std::optional<std::uint64_t> pending_size_;  // grow: the next commit writes it
    std::optional<std::chrono::steady_clock::time_point> stale_reply_since_;
    std::optional<Error> fenced_;  // set once: the volume refuses writes from then on
    bool commits_failing_ = false;  // the last commit failed (for on_event)
    Stats stats_;
    struct UncertainSwap {
        std::string encoded;
        Superblock sb;
    };
    std::optional<UncertainSwap> uncertain_swap_;  // commit thread only
    std::condition_variable_any commit_cv_;
    std::atomic<std::uint64_t> object_counter_{0};  // the low half of the next object id

    IoPool fetch_pool_;
    IoPool upload_pool_;
    std::jthread commit_thread_;  // last: stopped and joined first
};

}  // namespace itd::volume::thin
