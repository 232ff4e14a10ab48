// WRITE ATOMIC(16) (SBC-4 5.48, 4.29): a write that is atomic against every other write to its
// range. It is one volume write made while the LU's range lock (range_lock.h) covers the whole
// range, the lock every write-like command takes, so no WRITE, WRITE SAME, UNMAP, COMPARE AND
// WRITE or other atomic write can land on part of it in between. Reads do not take the lock.
//
// The limits it reports in VPD B0h and enforces here (SBC-4 6.6.4):
//   MAXIMUM ATOMIC TRANSFER LENGTH  1 MiB, within MAXIMUM TRANSFER LENGTH: what a backend
//                                   writes in one call without splitting it;
//   ATOMIC ALIGNMENT and ATOMIC TRANSFER LENGTH GRANULARITY
//                                   4 KiB (8 blocks of 512 bytes, 1 of 4096): the page every
//                                   backend writes whole, so an atomic write never shares a
//                                   page with a write it is not ordered against;
//   ATOMIC BOUNDARY                 not supported (MAXIMUM ATOMIC BOUNDARY SIZE 0): the whole
//                                   transfer is one atomic unit, and a non-zero ATOMIC
//                                   BOUNDARY field is INVALID FIELD IN CDB (the usage mask).
#include <algorithm>

#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"

namespace itd::scsi {

namespace {

constexpr std::uint32_t kMaxAtomicBytes = 1u << 20;
constexpr std::uint32_t kAtomicUnitBytes = 4096;

}  // namespace

std::uint32_t LogicalUnit::max_atomic_transfer_blocks() const {
    return std::min(max_transfer_blocks(),
                    std::max<std::uint32_t>(1, kMaxAtomicBytes / geometry().block_size_bytes));
}

std::uint32_t LogicalUnit::atomic_alignment_blocks() const {
    return std::max<std::uint32_t>(1, kAtomicUnitBytes / geometry().block_size_bytes);
}

std::uint32_t LogicalUnit::atomic_granularity_blocks() const { return atomic_alignment_blocks(); }

SenseReason handle_write_atomic(TaskPtr& task) {
    Task& t = *task;
    // SBC-4 4.13: a write-protected LU rejects writes with DATA PROTECT / WRITE PROTECTED.
    if (t.lu->read_only()) return SenseReason::write_protected;
    const BlockRange r = decode_range(t);
    if (auto reason = check_lba_range(t, r); reason != SenseReason::none) return reason;
    const LogicalUnit& lu = *t.lu;
    // SBC-4 5.48: more than MAXIMUM ATOMIC TRANSFER LENGTH, an LBA off the ATOMIC ALIGNMENT or
    // a length off the ATOMIC TRANSFER LENGTH GRANULARITY is INVALID FIELD IN CDB.
    if (r.blocks > lu.max_atomic_transfer_blocks()) return t.invalid_cdb_field(12);
    if (r.lba % lu.atomic_alignment_blocks() != 0) return t.invalid_cdb_field(2);
    if (r.blocks % lu.atomic_granularity_blocks() != 0) return t.invalid_cdb_field(12);
    // SBC-4 5.48: zero blocks is not an error; nothing is written.
    if (r.blocks == 0) return SenseReason::none;

    const std::uint64_t bytes = r.blocks * lu.geometry().block_size_bytes;
    // All of it or nothing: a write whose data stops short would only write part of the range,
    // which an atomic write must never do (unlike WRITE, see sbc_read_write.cpp).
    if (t.data_out.size() < bytes) return SenseReason::invalid_field_in_command_iu;
    const bool fua = (t.cdb()[1] & 0x08) != 0;
    const auto data = t.data_out.first(bytes);
    locked_write(std::move(task), r, data, fua);
    return SenseReason::none;
}

}  // namespace itd::scsi
