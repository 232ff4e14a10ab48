// READ and WRITE (6, 10, 12, 16) (SBC-4 5.15-5.18, 5.40-5.43).
//
// Residuals. The transport hands us data-in room and data-out bytes of the initiator's expected
// data transfer length (EDTL), which may differ from what the CDB asks for (SPDTL).
// libiscsi's iscsi-test-cu (test_read10_residuals.c, test_read10_invalid.c,
// test_write_residuals.c) expects, following FCP-4 9.4.2:
//   READ,  EDTL < SPDTL: GOOD, the first EDTL bytes, residual overflow SPDTL - EDTL
//                        (even EDTL 200 of a 512-byte block: 200 bytes come back);
//   READ,  EDTL > SPDTL: GOOD, SPDTL bytes, residual underflow EDTL - SPDTL;
//   WRITE, EDTL > SPDTL: GOOD and only SPDTL bytes written, or CHECK CONDITION;
//   WRITE, EDTL < SPDTL: either "write only the EDTL bytes" (a partial block when EDTL is not
//                        a multiple of the block size, with the rest of the block unchanged),
//                        or CHECK CONDITION, ILLEGAL REQUEST, INVALID FIELD IN COMMAND
//                        INFORMATION UNIT with nothing written. Either way the residual
//                        overflow is reported.
// We write SPDTL when more arrived. When less arrived we write the whole blocks that did
// arrive, with GOOD status (Debian's libiscsi 1.19, test_write10_residuals.c, insists on
// GOOD and on the first block written when EDTL is one block of two), and reject a short write
// that ends inside a block with INVALID FIELD IN COMMAND INFORMATION UNIT, writing nothing: a
// partial-block write would need a read-modify-write that no real initiator asks for.
// transfer_bytes is SPDTL in every case so the transport reports the residual even with
// CHECK CONDITION.
#include <algorithm>
#include <memory>

#include "common/check.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

// FUA sits in byte 1 bit 3 of the 10/12/16-byte CDBs; READ(6)/WRITE(6) have none.
bool fua_bit(const Task& t) { return t.spec->cdb_size != 6 && (t.cdb()[1] & 0x08) != 0; }

}  // namespace

SenseReason handle_read(TaskPtr& task) {
    Task& t = *task;
    const BlockRange r = decode_range(t);
    if (auto reason = check_range(t, r); reason != SenseReason::none) return reason;
    // FUA on a read asks for data from the medium rather than a cache (SBC-4 5.15); our
    // backends have no read cache that could disagree with the medium, so a plain read is one.
    // DPO only hints at cache retention.
    const std::uint32_t block_bytes = t.lu->geometry().block_size_bytes;
    const std::uint64_t bytes = r.blocks * block_bytes;
    const std::uint64_t offset = r.lba * block_bytes;
    // Nothing to move: zero blocks, or an EDTL of zero (residual overflow, still GOOD).
    if (bytes == 0 || t.data_in.empty()) return SenseReason::none;

    volume::Volume& vol = t.lu->volume();
    if (t.accepts_data_in_view && t.data_in.size() >= bytes) {
        // A memory volume: the transport sends the blocks from the volume's own memory.
        if (auto view = vol.memory_view(offset, bytes); view.size() == bytes) {
            t.result.data_in_view = view;
            t.result.data_in_owner = t.lu->config().volume;
            t.result.data_in_bytes = static_cast<std::uint32_t>(bytes);
            return SenseReason::none;
        }
    }
    std::span<std::uint8_t> target;
    if (t.data_in.size() >= bytes) {
        target = t.data_in.first(bytes);
    } else {
        // EDTL < SPDTL: read whole blocks into a bounce buffer and copy what fits.
        const std::uint64_t need = (t.data_in.size() + block_bytes - 1) / block_bytes * block_bytes;
        t.bounce.resize(need);
        target = t.bounce;
    }
    vol.read(offset, target, [task = std::move(task)](itd::Status st) mutable {
        Task& done_task = *task;
        if (!st) {
            finish(std::move(task), sense_for_volume_error(st.error(), IoKind::read));
            return;
        }
        const std::uint64_t copied =
            std::min<std::uint64_t>(done_task.data_in.size(), done_task.result.transfer_bytes);
        if (!done_task.bounce.empty()) {
            std::copy_n(done_task.bounce.begin(), copied, done_task.data_in.begin());
        }
        done_task.result.data_in_bytes = static_cast<std::uint32_t>(copied);
        finish(std::move(task), SenseReason::none);
    });
    return SenseReason::none;
}

SenseReason handle_write(TaskPtr& task) {
    Task& t = *task;
    // SBC-4 4.13: a write-protected LU rejects writes with DATA PROTECT / WRITE PROTECTED.
    if (t.lu->read_only()) return SenseReason::write_protected;
    return write_from_cdb(task, fua_bit(t));
}

SenseReason write_from_cdb(TaskPtr& task, bool fua) {
    Task& t = *task;
    const BlockRange r = decode_range(t);
    if (auto reason = check_range(t, r); reason != SenseReason::none) return reason;
    const std::uint32_t block_bytes = t.lu->geometry().block_size_bytes;
    std::uint64_t bytes = r.blocks * block_bytes;
    // See the residual policy at the top of this file.
    if (t.data_out.size() < bytes) {
        if (t.data_out.size() % block_bytes != 0) return SenseReason::invalid_field_in_command_iu;
        bytes = t.data_out.size();
    }
    if (bytes == 0) return SenseReason::none;  // SBC-4 5.40: zero blocks is not an error

    const std::span<const std::uint8_t> data = t.data_out.first(bytes);
    locked_write(std::move(task), BlockRange{r.lba, bytes / block_bytes}, data, fua);
    return SenseReason::none;
}

BlockRange decode_range(const Task& t) {
    const CommandSpec& spec = *t.spec;
    BlockRange r;
    r.lba = load_field(t.cdb(), spec.lba);
    // SBC-4 5.16: READ(6)/WRITE(6) carry a 21-bit LBA; the top bits of byte 1 are reserved
    // (checked by the usage mask).
    if (spec.cdb_size == 6) r.lba &= 0x1fffff;
    r.blocks = load_field(t.cdb(), spec.length);
    if (r.blocks == 0 && spec.length_kind == LengthKind::blocks_zero_is_256) r.blocks = 256;
    return r;
}

SenseReason check_lba_range(Task& t, const BlockRange& r) {
    const std::uint64_t count = t.lu->geometry().block_count;
    if (r.lba >= count || r.blocks > count - r.lba) {
        t.detail.information = r.lba;
        return SenseReason::lba_out_of_range;
    }
    return SenseReason::none;
}

SenseReason check_range(Task& t, const BlockRange& r) {
    if (auto reason = check_lba_range(t, r); reason != SenseReason::none) return reason;
    if (r.blocks > t.lu->max_transfer_blocks()) return t.invalid_cdb_field(t.spec->length.offset);
    return SenseReason::none;
}

void locked_write(TaskPtr task, BlockRange r, std::span<const std::uint8_t> data, bool fua) {
    LogicalUnit& lu = *task->lu;
    // SBC-4 7.5.5: with WCE=0 every write completes only once on the medium, exactly what FUA
    // asks of one write.
    const volume::WriteFlags flags{.fua = fua || !lu.write_cache_enabled()};
    const std::uint64_t offset = r.lba * lu.geometry().block_size_bytes;
    // The data waits in the task, so that the closure fits in the function's own storage.
    task->write_data = data;
    lu.range_lock().acquire(
        r.lba, r.blocks,
        [task = std::move(task), offset, flags](RangeLock::Guard guard) mutable {
            task->range_guard = std::move(guard);
            volume::Volume& vol = task->lu->volume();
            const auto to_write = task->write_data;
            vol.write(offset, to_write, flags, [task = std::move(task)](itd::Status st) mutable {
                finish(std::move(task), st ? SenseReason::none
                                           : sense_for_volume_error(st.error(), IoKind::write));
            });
        });
}

}  // namespace itd::scsi
