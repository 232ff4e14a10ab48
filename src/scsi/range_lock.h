// A per-LU lock on ranges of logical blocks, asynchronous: a writer asks for its range and is
// called back once no overlapping holder remains. COMPARE AND WRITE (SBC-4 5.3) must be atomic
// against every other write to its range, and its read, compare and write span two volume
// calls; every write-like command (WRITE, WRITE SAME, UNMAP, WRITE AND VERIFY, ORWRITE) holds
// the lock over its range while its I/O runs, so none can land in between.
//
// Waiters are served first come, first served: a waiter is granted only when it overlaps
// neither a holder nor an earlier waiter, so a stream of small writes cannot starve a large one.
// Grants run on the releasing thread, outside the mutex. No lock is held while a caller's
// callback runs; the lock never blocks a thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace itd::scsi {

class RangeLock {
public:
    // Releases its range when destroyed. Move-only; an empty Guard holds nothing.
    class Guard {
    public:
        Guard() = default;
        Guard(Guard&& other) noexcept
            : lock_(std::exchange(other.lock_, nullptr)), id_(other.id_) {}
        Guard& operator=(Guard&& other) noexcept {
            if (this != &other) {
                reset();
                lock_ = std::exchange(other.lock_, nullptr);
                id_ = other.id_;
            }
            return *this;
        }
        ~Guard() { reset(); }
        void reset();
        bool held() const { return lock_ != nullptr; }

    private:
        friend class RangeLock;
        Guard(RangeLock* lock, std::uint64_t id) : lock_(lock), id_(id) {}
        RangeLock* lock_ = nullptr;
        std::uint64_t id_ = 0;
    };

    using Granted = std::move_only_function<void(Guard)>;

    RangeLock() = default;
    RangeLock(const RangeLock&) = delete;
    RangeLock& operator=(const RangeLock&) = delete;
    ~RangeLock();

    // Calls granted (inline, or later on the thread that releases the last overlapping range)
    // with a Guard over [first_lba, first_lba + blocks). blocks 0 conflicts with nothing.
    void acquire(std::uint64_t first_lba, std::uint64_t blocks, Granted granted);

    // Ranges held and waiting (for tests).
    std::size_t held_count() const;
    std::size_t waiting_count() const;

private:
    struct Range {
        std::uint64_t id;
        std::uint64_t first;
        std::uint64_t end;  // exclusive
        bool overlaps(const Range& o) const { return first < o.end && o.first < end; }
    };
    struct Waiter {
        Range range;
        Granted granted;
    };

    void release(std::uint64_t id);
    bool conflicts_locked(const Range& r, std::size_t waiters_before) const;

    mutable std::mutex mutex_;
    std::vector<Range> held_;
    std::deque<Waiter> waiting_;
    std::uint64_t next_id_ = 1;
};

}  // namespace itd::scsi
