// PRE-FETCH (10) and (16) (SBC-4 5.8, 5.9).
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"

namespace itd::scsi {

SenseReason handle_prefetch(TaskPtr& task) {
    Task& t = *task;
    const BlockRange r = decode_range(t);
    const std::uint64_t count = t.lu->geometry().block_count;
    // SBC-4 5.8: NUMBER OF LOGICAL BLOCKS zero means "to the end of the medium"; a range past
    // the end is LBA OUT OF RANGE.
    if (r.lba >= count || r.blocks > count - r.lba) {
        t.detail.information = r.lba;
        return SenseReason::lba_out_of_range;
    }
    // Our backends have no read cache to load (the file backend's is the kernel's), so there
    // is nothing to do. SBC-4 5.8: GOOD rather than CONDITION MET says the cache could not
    // take the blocks, which is true; IMMED changes nothing when nothing is pending.
    return SenseReason::none;
}

}  // namespace itd::scsi
