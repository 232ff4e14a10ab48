#include "scsi/range_lock.h"

#include <algorithm>

#include "common/check.h"

namespace itd::scsi {

void RangeLock::Guard::reset() {
    if (lock_ != nullptr) std::exchange(lock_, nullptr)->release(id_);
}

RangeLock::~RangeLock() {
    // Nothing to check: a task holding or awaiting a range points at its LU, and LUs outlive
    // their tasks (Target::~Target runs after serving stopped).
}

bool RangeLock::conflicts_locked(const Range& r, std::size_t waiters_before) const {
    for (const Range& h : held_) {
        if (h.overlaps(r)) return true;
    }
    for (std::size_t i = 0; i < waiters_before && i < waiting_.size(); ++i) {
        if (waiting_[i].range.overlaps(r)) return true;
    }
    return false;
}

void RangeLock::acquire(std::uint64_t first_lba, std::uint64_t blocks, Granted granted) {
    ITD_CHECK(granted != nullptr);
    // An LBA range that would wrap is clamped: the SCSI core checked it against the capacity.
    const std::uint64_t end = blocks > UINT64_MAX - first_lba ? UINT64_MAX : first_lba + blocks;
    std::unique_lock lock(mutex_);
    const Range r{next_id_++, first_lba, end};
    if (conflicts_locked(r, waiting_.size())) {
        waiting_.push_back(Waiter{r, std::move(granted)});
        return;
    }
    held_.push_back(r);
    lock.unlock();
    granted(Guard(this, r.id));
}

void RangeLock::release(std::uint64_t id) {
    std::vector<std::pair<std::uint64_t, Granted>> grants;
    {
        std::lock_guard lock(mutex_);
        const auto it = std::find_if(held_.begin(), held_.end(),
                                     [id](const Range& h) { return h.id == id; });
        ITD_CHECK(it != held_.end());
        held_.erase(it);
        for (std::size_t i = 0; i < waiting_.size();) {
            if (conflicts_locked(waiting_[i].range, i)) {
                ++i;
                continue;
            }
            held_.push_back(waiting_[i].range);
            grants.emplace_back(waiting_[i].range.id, std::move(waiting_[i].granted));
            waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    for (auto& [grant_id, granted] : grants) granted(Guard(this, grant_id));
}

std::size_t RangeLock::held_count() const {
    std::lock_guard lock(mutex_);
    return held_.size();
}

std::size_t RangeLock::waiting_count() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
}

}  // namespace itd::scsi
