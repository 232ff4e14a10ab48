#include "scsi/medium.h"

namespace itd::scsi {

std::expected<MediumState::Change, SenseReason> MediumState::load_or_eject(bool load) {
    std::lock_guard lock(mutex_);
    // Checked and changed under one lock: an eject cannot slip past a PREVENT from another
    // nexus that is being processed at the same time.
    if (!preventing_.empty()) return std::unexpected(SenseReason::medium_removal_prevented);
    const bool was_present = present_.load(std::memory_order_relaxed);
    if (was_present == load) return Change::none;
    present_.store(load, std::memory_order_release);
    return load ? Change::loaded : Change::ejected;
}

void MediumState::set_prevent(NexusId nexus, bool prevent) {
    std::lock_guard lock(mutex_);
    if (prevent) {
        preventing_.insert(nexus);
    } else {
        preventing_.erase(nexus);
    }
}

bool MediumState::removal_prevented() const {
    std::lock_guard lock(mutex_);
    return !preventing_.empty();
}

void MediumState::nexus_lost(NexusId nexus) { set_prevent(nexus, false); }

void MediumState::reset() {
    std::lock_guard lock(mutex_);
    preventing_.clear();
}

}  // namespace itd::scsi
