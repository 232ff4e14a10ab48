#include "scsi/spc_copy_results.h"

#include <algorithm>

#include "common/check.h"

namespace itd::scsi {

CopyRecord* CopyResults::find_locked(NexusId nexus, std::uint8_t list_id) {
    for (CopyRecord& r : records_) {
        if (r.nexus == nexus && r.list_id == list_id) return &r;
    }
    return nullptr;
}

std::optional<CopyResults::BeginError> CopyResults::begin(NexusId nexus, std::uint8_t list_id,
                                                          bool identified,
                                                          std::size_t max_running) {
    std::lock_guard lock(mutex_);
    if (identified) {
        if (const CopyRecord* old = find_locked(nexus, list_id)) {
            // SPC-4 6.4.3.2: a LIST IDENTIFIER is unique among the copies an I_T nexus has
            // running; a completed one's status is simply replaced.
            if (old->state == CopyManagerStatus::in_progress) return BeginError::list_id_in_use;
        }
    }
    if (running_ >= max_running) return BeginError::too_many;
    ++running_;
    if (!identified) return std::nullopt;
    std::erase_if(records_,
                  [&](const CopyRecord& r) { return r.nexus == nexus && r.list_id == list_id; });
    // Room for the new record: drop the oldest completed ones. Running records are bounded by
    // max_running, so the deque never holds more than that plus kMaxCompletedRecords.
    std::size_t completed = 0;
    for (const CopyRecord& r : records_) {
        if (r.state != CopyManagerStatus::in_progress) ++completed;
    }
    for (auto it = records_.begin(); completed >= kMaxCompletedRecords && it != records_.end();) {
        if (it->state != CopyManagerStatus::in_progress) {
            it = records_.erase(it);
            --completed;
        } else {
            ++it;
        }
    }
    CopyRecord r;
    r.nexus = nexus;
    r.list_id = list_id;
    records_.push_back(r);
    return std::nullopt;
}

void CopyResults::progress(NexusId nexus, std::uint8_t list_id, std::uint16_t segments_processed,
                           std::uint64_t bytes_transferred) {
    std::lock_guard lock(mutex_);
    CopyRecord* r = find_locked(nexus, list_id);
    ITD_CHECK(r != nullptr && r->state == CopyManagerStatus::in_progress);
    r->segments_processed = segments_processed;
    r->bytes_transferred = bytes_transferred;
}

void CopyResults::complete(NexusId nexus, std::uint8_t list_id, bool identified,
                           const CommandResult& result) {
    std::lock_guard lock(mutex_);
    ITD_CHECK(running_ > 0);
    --running_;
    if (!identified) return;
    CopyRecord* r = find_locked(nexus, list_id);
    ITD_CHECK(r != nullptr && r->state == CopyManagerStatus::in_progress);
    r->state = result.status == Status::good ? CopyManagerStatus::completed_good
                                             : CopyManagerStatus::completed_with_errors;
    r->status = result.status;
    r->sense_bytes = result.sense_bytes;
    r->sense = result.sense;
}

std::optional<CopyRecord> CopyResults::copy_status(NexusId nexus, std::uint8_t list_id) {
    std::lock_guard lock(mutex_);
    const CopyRecord* r = find_locked(nexus, list_id);
    if (r == nullptr) return std::nullopt;
    return *r;
}

std::optional<CopyRecord> CopyResults::failed_segment_details(NexusId nexus, std::uint8_t list_id) {
    std::lock_guard lock(mutex_);
    const CopyRecord* r = find_locked(nexus, list_id);
    if (r == nullptr || r->state != CopyManagerStatus::completed_with_errors) return std::nullopt;
    return *r;
}

void CopyResults::discard(NexusId nexus, std::uint8_t list_id) {
    std::lock_guard lock(mutex_);
    std::erase_if(records_, [&](const CopyRecord& r) {
        return r.nexus == nexus && r.list_id == list_id &&
               r.state != CopyManagerStatus::in_progress;
    });
}

std::size_t CopyResults::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

TransferCount transfer_count(std::uint64_t bytes) {
    TransferCount t;
    while (bytes > 0xffffffffu) {
        bytes >>= 10;
        ++t.units;
    }
    t.count = static_cast<std::uint32_t>(bytes);
    return t;
}

}  // namespace itd::scsi
