// What the SBC handlers share: the LBA range a CDB names, the checks every block command makes
// on it, and a write that holds the LU's range lock (range_lock.h) while it runs.
#pragma once

#include <cstdint>
#include <span>

#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/task.h"

namespace itd::scsi {

struct BlockRange {
    std::uint64_t lba = 0;
    std::uint64_t blocks = 0;
};

// The LBA and length fields the command table names for this CDB.
BlockRange decode_range(const Task& t);

// SBC-4 4.5: the whole range must lie within the medium; an LBA at or past the end is out of
// range even with zero blocks (libiscsi's *.BeyondEol and *.0Blocks tests). Sets INFORMATION.
SenseReason check_lba_range(Task& t, const BlockRange& r);

// check_lba_range, then SBC-4 6.6.4: more blocks than MAXIMUM TRANSFER LENGTH is INVALID FIELD
// IN CDB, pointing at the length field.
SenseReason check_range(Task& t, const BlockRange& r);

// The data-out part of WRITE (and WRITE AND VERIFY): decodes and checks the range, applies the
// residual policy at the top of sbc_read_write.cpp, and starts a locked_write. Returns a reason
// to finish with now, or none when the write went asynchronous (the task is taken).
SenseReason write_from_cdb(TaskPtr& task, bool fua);

// Takes the range lock over r, then writes data at r.lba and finishes the task (with the
// volume's error mapped to sense, or GOOD). data must stay valid until the task finishes
// (the transport's data-out buffer or the task's bounce buffer).
void locked_write(TaskPtr task, BlockRange r, std::span<const std::uint8_t> data, bool fua);

// Writes the volume's cache back, then finishes the task: GOOD, or the flush error as sense
// (SYNCHRONIZE CACHE, START STOP UNIT, MODE SELECT turning the write cache off).
void finish_after_flush(TaskPtr task);
// For IMMED=1 (SBC-4 5.24, 5.25): starts the write-back and returns at once; its error, if
// any, cannot be reported any more (as on a disk). The volume stays alive until it ends.
void start_background_flush(const LogicalUnit& lu);

// Finishes a command that deallocated blocks (UNMAP, WRITE SAME with UNMAP) with GOOD. With
// the write cache disabled (WCE=0) every change must be durable before GOOD, as a write's would
// be (SBC-4 7.5.5): the volume is flushed first, and a flush error is the command's error.
void finish_deallocation(TaskPtr task);

}  // namespace itd::scsi
