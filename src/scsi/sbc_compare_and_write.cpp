// COMPARE AND WRITE (SBC-4 5.3): reads NUMBER OF LOGICAL BLOCKS, compares them with the first
// half of the data-out buffer and, only when they are equal, writes the second half. The whole
// read-compare-write holds the LU's range lock, which every write-like command takes too, so no
// other write to the range can land in between (SBC-4 5.3: the operation is atomic with
// respect to every other command that accesses the range).
#include <algorithm>
#include <memory>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

void compare_then_write(TaskPtr task, BlockRange r, bool fua) {
    LogicalUnit& lu = *task->lu;
    const std::uint32_t block_bytes = lu.geometry().block_size_bytes;
    const std::uint64_t bytes = r.blocks * block_bytes;
    const std::uint64_t offset = r.lba * block_bytes;
    volume::Volume& vol = lu.volume();
    std::span<std::uint8_t> medium = task->bounce;
    vol.read(offset, medium, [task = std::move(task), bytes, offset,
                              fua](itd::Status st) mutable {
        if (!st) {
            finish(std::move(task), sense_for_volume_error(st.error(), IoKind::read));
            return;
        }
        const auto verify = task->data_out.first(bytes);
        const auto mismatch = std::mismatch(task->bounce.begin(), task->bounce.end(), verify.begin());
        if (mismatch.first != task->bounce.end()) {
            // SBC-4 5.3: MISCOMPARE DURING VERIFY OPERATION, INFORMATION = the offset of the
            // first byte that differs; nothing is written.
            task->detail.information =
                static_cast<std::uint64_t>(mismatch.first - task->bounce.begin());
            finish(std::move(task), SenseReason::miscompare_during_verify);
            return;
        }
        LogicalUnit& unit = *task->lu;
        const volume::WriteFlags flags{.fua = fua || !unit.write_cache_enabled()};
        const auto data = task->data_out.subspan(bytes, bytes);
        unit.volume().write(offset, data, flags, [task = std::move(task)](itd::Status wst) mutable {
            finish(std::move(task),
                   wst ? SenseReason::none : sense_for_volume_error(wst.error(), IoKind::write));
        });
    });
}

}  // namespace

SenseReason handle_compare_and_write(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const BlockRange r{load_be64(&cdb[2]), cdb[13]};
    const std::uint32_t block_bytes = t.lu->geometry().block_size_bytes;
    // The data-out buffer holds the verify data and then the write data.
    t.result.transfer_bytes = 2 * r.blocks * block_bytes;
    if (t.lu->read_only()) return SenseReason::write_protected;
    // SBC-4 5.3: more than MAXIMUM COMPARE AND WRITE LENGTH (VPD B0h) is INVALID FIELD IN CDB.
    if (r.blocks > t.lu->max_compare_and_write_blocks()) return t.invalid_cdb_field(13);
    if (auto reason = check_lba_range(t, r); reason != SenseReason::none) return reason;
    // SBC-4 5.3: zero blocks is not an error; nothing is compared or written. Zero blocks with
    // data-out is another matter: the one-byte field wrapped (libiscsi CompareAndWrite.Simple
    // sends 256 blocks as 0 and expects INVALID FIELD IN CDB, 256 being over the limit).
    if (r.blocks == 0) return t.data_out.empty() ? SenseReason::none : t.invalid_cdb_field(13);
    // Exactly twice the blocks must arrive (libiscsi CompareAndWrite.InvalidDataOutSize sends
    // four blocks for one and for three).
    if (t.data_out.size() != t.result.transfer_bytes) return SenseReason::invalid_field_in_command_iu;

    const bool fua = (cdb[1] & 0x08) != 0;
    t.bounce.resize(r.blocks * block_bytes);
    LogicalUnit& lu = *t.lu;
    lu.range_lock().acquire(r.lba, r.blocks,
                            [task = std::move(task), r, fua](RangeLock::Guard guard) mutable {
                                task->range_guard = std::move(guard);
                                compare_then_write(std::move(task), r, fua);
                            });
    return SenseReason::none;
}

}  // namespace itd::scsi
