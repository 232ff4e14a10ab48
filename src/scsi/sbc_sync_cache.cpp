// SYNCHRONIZE CACHE (10) and (16) (SBC-4 5.24, 5.25).
#include <memory>

#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

SenseReason handle_synchronize_cache(TaskPtr& task) {
    Task& t = *task;
    const std::uint64_t lba = load_field(t.cdb(), t.spec->lba);
    const std::uint64_t blocks = load_field(t.cdb(), t.spec->length);
    const std::uint64_t count = t.lu->geometry().block_count;
    // SBC-4 5.24: NUMBER OF LOGICAL BLOCKS zero means "to the end of the medium"; a range past
    // the end is LBA OUT OF RANGE.
    if (lba >= count || blocks > count - lba) {
        t.detail.information = lba;
        return SenseReason::lba_out_of_range;
    }
    // The volume flushes as a whole; flushing more than asked is allowed (SBC-4 5.24: the device
    // server may synchronize more than the range).
    const bool immed = (t.cdb()[1] & 0x02) != 0;
    if (immed) {
        // SBC-4 5.24: IMMED=1 returns status once the CDB is validated.
        start_background_flush(*t.lu);
        return SenseReason::none;
    }
    finish_after_flush(std::move(task));
    return SenseReason::none;
}

void finish_after_flush(TaskPtr task) {
    std::shared_ptr<volume::Volume> vol = task->lu->config().volume;
    vol->flush([task = std::move(task)](itd::Status st) mutable {
        finish(std::move(task),
               st ? SenseReason::none : sense_for_volume_error(st.error(), IoKind::flush));
    });
}

void start_background_flush(const LogicalUnit& lu) {
    std::shared_ptr<volume::Volume> vol = lu.config().volume;
    vol->flush([vol](itd::Status) {});
}

}  // namespace itd::scsi
