// WRITE SAME (10) and (16) (SBC-4 5.48, 5.49): one block of data written to every block of a
// range, or the range unmapped (UNMAP bit), or zeros without a data-out buffer (NDOB).
#include <algorithm>
#include <memory>

#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

// How much of the range one volume write covers when the block is not all zeros.
constexpr std::uint64_t kFillChunkBytes = 1u << 20;

enum class SameAction : std::uint8_t { unmap, zero, fill };

// Writes the task's bounce buffer (the block repeated) over [offset, end), chunk by chunk.
struct FillJob {
    TaskPtr task;
    std::uint64_t offset_bytes = 0;
    std::uint64_t end_bytes = 0;
    volume::WriteFlags flags;
};

void fill_next(std::unique_ptr<FillJob> job) {
    if (job->offset_bytes == job->end_bytes) {
        finish(std::move(job->task), SenseReason::none);
        return;
    }
    const std::span<const std::uint8_t> chunk = std::span<const std::uint8_t>(job->task->bounce).first(
        std::min<std::uint64_t>(job->task->bounce.size(), job->end_bytes - job->offset_bytes));
    const std::uint64_t at = job->offset_bytes;
    job->offset_bytes += chunk.size();
    volume::Volume& vol = job->task->lu->volume();
    const volume::WriteFlags flags = job->flags;
    vol.write(at, chunk, flags, [job = std::move(job)](itd::Status st) mutable {
        if (!st) {
            finish(std::move(job->task), sense_for_volume_error(st.error(), IoKind::write));
            return;
        }
        fill_next(std::move(job));
    });
}

volume::Completion write_done(TaskPtr task) {
    return [task = std::move(task)](itd::Status st) mutable {
        finish(std::move(task),
               st ? SenseReason::none : sense_for_volume_error(st.error(), IoKind::write));
    };
}

void run_same(TaskPtr task, BlockRange r, SameAction action) {
    LogicalUnit& lu = *task->lu;
    const std::uint32_t block_bytes = lu.geometry().block_size_bytes;
    const std::uint64_t offset = r.lba * block_bytes;
    const std::uint64_t length = r.blocks * block_bytes;
    const volume::WriteFlags flags{.fua = !lu.write_cache_enabled()};
    lu.range_lock().acquire(r.lba, r.blocks, [task = std::move(task), offset, length, flags,
                                              action](RangeLock::Guard guard) mutable {
        task->range_guard = std::move(guard);
        volume::Volume& vol = task->lu->volume();
        switch (action) {
            case SameAction::unmap:
                vol.unmap(offset, length, [task = std::move(task)](itd::Status st) mutable {
                    if (!st) {
                        finish(std::move(task), sense_for_volume_error(st.error(), IoKind::write));
                        return;
                    }
                    finish_deallocation(std::move(task));
                });
                return;
            case SameAction::zero:
                vol.write_zeroes(offset, length, flags, write_done(std::move(task)));
                return;
            case SameAction::fill: {
                auto job = std::make_unique<FillJob>();
                job->task = std::move(task);
                job->offset_bytes = offset;
                job->end_bytes = offset + length;
                job->flags = flags;
                fill_next(std::move(job));
                return;
            }
        }
    });
}

}  // namespace

SenseReason handle_write_same(TaskPtr& task) {
    Task& t = *task;
    if (t.lu->read_only()) return SenseReason::write_protected;
    const auto cdb = t.cdb();
    const bool unmap = (cdb[1] & 0x08) != 0;
    // NDOB exists in WRITE SAME(16) only (SBC-4 5.49); the usage mask rejects it in (10).
    const bool ndob = t.spec->cdb_size == 16 && (cdb[1] & 0x01) != 0;
    // SBC-4 5.48: UNMAP=1 on a LU that does not unmap through WRITE SAME (LBPWS=0, a fully
    // provisioned LU) is INVALID FIELD IN CDB; libiscsi's WriteSame10.UnmapVPD fails a target
    // that accepts it without reporting LBPME and LBPWS.
    if (unmap && !t.lu->thin()) return t.invalid_cdb_field(1, 3);
    const std::uint32_t block_bytes = t.lu->geometry().block_size_bytes;
    // One block of data-out, or none with NDOB: the residual is measured against that.
    t.result.transfer_bytes = ndob ? 0 : block_bytes;

    const BlockRange r = decode_range(t);
    // SBC-4 5.48: zero blocks would mean "to the end of the medium"; we report WSNZ=1 in VPD
    // B0h, which makes it INVALID FIELD IN CDB.
    if (r.blocks == 0) {
        if (auto reason = check_lba_range(t, r); reason != SenseReason::none) return reason;
        return t.invalid_cdb_field(t.spec->length.offset);
    }
    if (auto reason = check_lba_range(t, r); reason != SenseReason::none) return reason;
    // SBC-4 5.48: more than MAXIMUM WRITE SAME LENGTH is INVALID FIELD IN CDB.
    if (r.blocks > t.lu->max_write_same_blocks()) {
        return t.invalid_cdb_field(t.spec->length.offset);
    }
    // Exactly one logical block of data must come with the command (libiscsi
    // WriteSame10.InvalidDataOutSize sends half a block and two blocks).
    if (!ndob && t.data_out.size() != block_bytes) return SenseReason::invalid_field_in_command_iu;

    if (unmap && t.lu->thin()) {
        // SBC-4 4.7.3.4.3: with UNMAP=1 a thin LU may deallocate the range instead of writing
        // it. It reads back as zeros (LBPRZ=1) whatever the block held; LIO does the same, and
        // libiscsi's WriteSame10.UnmapUntilEnd reads zeros after sending a block of FFh.
        run_same(std::move(task), r, SameAction::unmap);
        return SenseReason::none;
    }
    const bool zeros =
        ndob || std::all_of(t.data_out.begin(), t.data_out.end(), [](std::uint8_t b) { return b == 0; });
    if (zeros) {
        run_same(std::move(task), r, SameAction::zero);
        return SenseReason::none;
    }
    const std::uint64_t chunk_blocks =
        std::min<std::uint64_t>(r.blocks, std::max<std::uint64_t>(1, kFillChunkBytes / block_bytes));
    t.bounce.resize(chunk_blocks * block_bytes);
    for (std::uint64_t i = 0; i < chunk_blocks; ++i) {
        std::copy(t.data_out.begin(), t.data_out.end(), t.bounce.begin() + i * block_bytes);
    }
    run_same(std::move(task), r, SameAction::fill);
    return SenseReason::none;
}

}  // namespace itd::scsi
