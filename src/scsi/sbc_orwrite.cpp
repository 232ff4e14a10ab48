// ORWRITE(16) (SBC-4 5.7): the data-out buffer is ORed into the blocks on the medium. The read,
// the OR and the write hold the LU's range lock (range_lock.h), so no other write to the range
// can land in between and be lost.
#include <algorithm>
#include <memory>

#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

void or_then_write(TaskPtr task, std::uint64_t offset, bool fua) {
    volume::Volume& vol = task->lu->volume();
    std::span<std::uint8_t> medium = task->bounce;
    vol.read(offset, medium, [task = std::move(task), offset, fua](itd::Status st) mutable {
        if (!st) {
            finish(std::move(task), sense_for_volume_error(st.error(), IoKind::read));
            return;
        }
        for (std::size_t i = 0; i < task->bounce.size(); ++i) task->bounce[i] |= task->data_out[i];
        LogicalUnit& lu = *task->lu;
        const volume::WriteFlags flags{.fua = fua || !lu.write_cache_enabled()};
        const std::span<const std::uint8_t> data = task->bounce;
        lu.volume().write(offset, data, flags, [task = std::move(task)](itd::Status wst) mutable {
            finish(std::move(task),
                   wst ? SenseReason::none : sense_for_volume_error(wst.error(), IoKind::write));
        });
    });
}

}  // namespace

SenseReason handle_orwrite(TaskPtr& task) {
    Task& t = *task;
    if (t.lu->read_only()) return SenseReason::write_protected;
    const BlockRange r = decode_range(t);
    if (auto reason = check_range(t, r); reason != SenseReason::none) return reason;
    const std::uint32_t block_bytes = t.lu->geometry().block_size_bytes;
    const std::uint64_t bytes = r.blocks * block_bytes;
    // SBC-4 5.7: zero blocks is not an error.
    if (bytes == 0) return SenseReason::none;
    // Every byte to OR in must be there: a short ORWRITE has no meaningful partial form.
    if (t.data_out.size() < bytes) return SenseReason::invalid_field_in_command_iu;
    const bool fua = (t.cdb()[1] & 0x08) != 0;
    t.bounce.resize(bytes);
    LogicalUnit& lu = *t.lu;
    const std::uint64_t offset = r.lba * block_bytes;
    lu.range_lock().acquire(r.lba, r.blocks,
                            [task = std::move(task), offset, fua](RangeLock::Guard guard) mutable {
                                task->range_guard = std::move(guard);
                                or_then_write(std::move(task), offset, fua);
                            });
    return SenseReason::none;
}

}  // namespace itd::scsi
