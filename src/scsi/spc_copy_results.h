// What a logical unit's copy manager remembers about EXTENDED COPY (LID1) commands for the
// RECEIVE COPY commands (SPC-4 RECEIVE COPY STATUS(LID1) and RECEIVE COPY FAILURE DETAILS(LID1)):
// per I_T nexus and LIST IDENTIFIER, whether the copy is running or done, how far it got, and
// the sense data it failed with.
//
//   EXTENDED COPY ──begin──▶ [in progress] ──progress(segments, bytes)──▶ [in progress]
//                                  │
//                               complete(status, sense)
//                                  ▼
//                              [completed] ──COPY STATUS / FAILED SEGMENT DETAILS read──▶ gone
//
// SPC-4: the copy manager discards a completed copy's status once it has been
// transferred, when another EXTENDED COPY reuses the LIST IDENTIFIER on the same nexus, or when
// it needs the room (we keep kMaxCompletedRecords per LU, oldest dropped first). A copy sent
// with LIST ID USAGE 11b is never recorded. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>

#include "scsi/command.h"

namespace itd::scsi {

// SPC-4 RECEIVE COPY STATUS(LID1) COPY MANAGER STATUS.
enum class CopyManagerStatus : std::uint8_t {
    in_progress = 0x00,
    completed_good = 0x01,
    completed_with_errors = 0x02,
};

struct CopyRecord {
    NexusId nexus = 0;
    std::uint8_t list_id = 0;
    CopyManagerStatus state = CopyManagerStatus::in_progress;
    std::uint16_t segments_processed = 0;
    std::uint64_t bytes_transferred = 0;
    // The EXTENDED COPY's own status and sense, once completed (FAILED SEGMENT DETAILS).
    Status status = Status::good;
    std::uint8_t sense_bytes = 0;
    std::array<std::uint8_t, kMaxSenseBytes> sense{};
};

class CopyResults {
  public:
    // Completed records kept per LU before the oldest is dropped.
    static constexpr std::size_t kMaxCompletedRecords = 64;

    // Why begin() refused.
    enum class BeginError : std::uint8_t {
        list_id_in_use,  // a copy with this LIST IDENTIFIER is running on this nexus
        too_many,        // max_running copies are running already
    };

    // Starts tracking a copy. identified: the LIST IDENTIFIER names it (LIST ID USAGE 00b or
    // 10b); an unidentified copy only counts against max_running. A completed record with the
    // same nexus and LIST IDENTIFIER is replaced.
    std::optional<BeginError> begin(NexusId nexus, std::uint8_t list_id, bool identified,
                                    std::size_t max_running);
    // After each segment of an identified copy.
    void progress(NexusId nexus, std::uint8_t list_id, std::uint16_t segments_processed,
                  std::uint64_t bytes_transferred);
    // The copy ended with result (status and sense); an unidentified one is only uncounted.
    void complete(NexusId nexus, std::uint8_t list_id, bool identified,
                  const CommandResult& result);

    // COPY STATUS: the record, if any. The caller discards a completed one once its data went
    // out whole (discard()).
    std::optional<CopyRecord> copy_status(NexusId nexus, std::uint8_t list_id);
    // FAILED SEGMENT DETAILS: a completed record that ended in CHECK CONDITION.
    std::optional<CopyRecord> failed_segment_details(NexusId nexus, std::uint8_t list_id);
    // Drops a completed record (after its data went out whole).
    void discard(NexusId nexus, std::uint8_t list_id);

    std::size_t running() const;

  private:
    CopyRecord* find_locked(NexusId nexus, std::uint8_t list_id);

    mutable std::mutex mutex_;
    std::deque<CopyRecord> records_;  // identified copies, oldest first
    std::size_t running_ = 0;         // identified and unidentified
};

// SPC-4 RECEIVE COPY STATUS(LID1) TRANSFER COUNT UNITS and TRANSFER COUNT: bytes in the
// smallest power-of-1024 unit (bytes, KiB, MiB, ...) whose count fits in 32 bits.
struct TransferCount {
    std::uint8_t units = 0;
    std::uint32_t count = 0;
};
TransferCount transfer_count(std::uint64_t bytes);

}  // namespace itd::scsi
