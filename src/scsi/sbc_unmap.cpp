// UNMAP (SBC-4 5.30): deallocates the ranges its parameter list names (sbc_unmap_params.h).
#include <algorithm>
#include <memory>
#include <vector>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/sbc_unmap_params.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

// The descriptors are unmapped one after another; each completion starts the next.
struct UnmapJob {
    TaskPtr task;
    std::vector<UnmapDescriptor> descriptors;
    std::size_t next = 0;
};

void unmap_next(std::unique_ptr<UnmapJob> job) {
    if (job->next == job->descriptors.size()) {
        finish_deallocation(std::move(job->task));
        return;
    }
    const UnmapDescriptor d = job->descriptors[job->next++];
    LogicalUnit& lu = *job->task->lu;
    const std::uint32_t block_bytes = lu.geometry().block_size_bytes;
    lu.volume().unmap(d.lba * block_bytes, std::uint64_t{d.blocks} * block_bytes,
                      [job = std::move(job)](itd::Status st) mutable {
                          if (!st) {
                              finish(std::move(job->task),
                                     sense_for_volume_error(st.error(), IoKind::write));
                              return;
                          }
                          unmap_next(std::move(job));
                      });
}

}  // namespace

void finish_deallocation(TaskPtr task) {
    if (task->lu->write_cache_enabled()) {
        finish(std::move(task), SenseReason::none);
        return;
    }
    volume::Volume& vol = task->lu->volume();
    vol.flush([task = std::move(task)](itd::Status st) mutable {
        finish(std::move(task),
               st ? SenseReason::none : sense_for_volume_error(st.error(), IoKind::write));
    });
}

SenseReason handle_unmap(TaskPtr& task) {
    Task& t = *task;
    // SBC-4 4.7.3.2: UNMAP is there only when the LU is thin provisioned (LBPU=1 in VPD B2h).
    if (!t.lu->thin()) return SenseReason::invalid_opcode;
    if (t.lu->read_only()) return SenseReason::write_protected;
    const std::uint16_t list_length = load_be16(&t.cdb()[7]);
    // SBC-4 5.30.1: a PARAMETER LIST LENGTH of zero is not an error; nothing is unmapped.
    if (list_length == 0) return SenseReason::none;
    // SBC-4 5.30.1: 1..7 bytes cannot hold the header: PARAMETER LIST LENGTH ERROR.
    if (list_length < kUnmapHeaderBytes) return SenseReason::parameter_list_length_error;
    const auto list = t.data_out.first(std::min<std::size_t>(list_length, t.data_out.size()));

    const UnmapLimits limits{t.lu->geometry().block_count, t.lu->max_unmap_descriptors(),
                             t.lu->max_unmap_blocks()};
    auto parsed = parse_unmap_parameters(list, limits);
    if (!parsed) {
        t.detail.field = parsed.error().field;
        t.detail.information = parsed.error().information;
        return parsed.error().reason;
    }
    if (parsed->empty()) return SenseReason::none;

    // One lock over the span of every descriptor: the ranges are few and usually close, and
    // no write may land between our unmaps of one command.
    std::uint64_t first = UINT64_MAX, end = 0;
    for (const UnmapDescriptor& d : *parsed) {
        first = std::min(first, d.lba);
        end = std::max(end, d.lba + d.blocks);
    }
    auto job = std::make_unique<UnmapJob>();
    job->task = std::move(task);
    job->descriptors = std::move(*parsed);
    LogicalUnit& lu = *job->task->lu;
    lu.range_lock().acquire(first, end - first,
                            [job = std::move(job)](RangeLock::Guard guard) mutable {
                                job->task->range_guard = std::move(guard);
                                unmap_next(std::move(job));
                            });
    return SenseReason::none;
}

}  // namespace itd::scsi
