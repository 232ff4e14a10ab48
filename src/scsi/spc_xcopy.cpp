// EXTENDED COPY (LID1) (SPC-4 6.4): copies the block ranges its segment descriptors name between
// the logical units of this Target, which its CSCD descriptors name by VPD 83h designator.
//
// The parameter list is decoded first (spc_xcopy_params.h); its errors are ILLEGAL REQUEST.
// Then the segments run in order, each one resolved only when it starts (SPC-4 6.4: errors
// met while processing segments are COPY ABORTED, with a segment pointer at the field to
// blame). A segment moves through one buffer of at most kCopyChunkBytes: read a chunk from the
// source volume, take the destination LU's range lock over the chunk (range_lock.h, as every
// write does), write it, release, next chunk. When source and destination are the same LU and
// the destination range starts inside the source range, the chunks go last to first, so the
// result is what copying the whole range at once would give.
#include <algorithm>
#include <memory>
#include <numeric>

#include "common/check.h"
#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/spc_xcopy.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

// One segment, resolved against the logical units.
struct SegmentPlan {
    LogicalUnit* source = nullptr;
    LogicalUnit* destination = nullptr;
    std::uint64_t source_offset_bytes = 0;
    std::uint64_t destination_offset_bytes = 0;
    std::uint64_t bytes = 0;
    std::uint64_t chunk_bytes = 0;  // a multiple of both block sizes
    bool backwards = false;
};

struct CopyJob {
    TaskPtr task;
    XcopyParameters params;
    bool identified = false;  // LIST ID USAGE 00b/10b: RECEIVE COPY RESULTS can ask about it
    std::size_t next_segment = 0;
    std::uint64_t bytes_transferred = 0;  // by the segments before the current one
    SegmentPlan plan;
    std::uint64_t segment_done_bytes = 0;
    std::vector<std::uint8_t> buffer;
    RangeLock::Guard guard;
};
using JobPtr = std::unique_ptr<CopyJob>;

void start_segment(JobPtr job);

// Records the outcome for RECEIVE COPY RESULTS, then answers the initiator.
void finish_copy(JobPtr job, SenseReason reason) {
    Task& t = *job->task;
    CommandResult outcome;
    apply_sense(reason, t.detail, outcome);
    t.lu->copy_results().complete(t.nexus, job->params.list_id, job->identified, outcome);
    job->guard.reset();
    finish(std::move(job->task), reason);
}

SenseReason point_at(Task& t, std::size_t list_byte, SenseReason reason) {
    t.detail.field = FieldPointer{
        false, static_cast<std::uint16_t>(std::min<std::size_t>(list_byte, 0xffff)), std::nullopt};
    return reason;
}

// The logical unit a CSCD descriptor ID names (SPC-4 6.4.6.1: IDs 0000h-07FFh index the CSCD
// descriptor list; we support none of the special IDs above it).
SenseReason resolve(Task& t, const XcopyParameters& p, std::uint16_t id, std::size_t id_at,
                    LogicalUnit*& out) {
    if (id >= p.cscds.size()) return point_at(t, id_at, SenseReason::copy_target_unreachable);
    const CscdDescriptor& c = p.cscds[id];
    // Our LUs carry one designator a 20-byte field can hold: NAA, binary, associated with the
    // LU (spc_inquiry.cpp). Any other designator names no LU of ours.
    constexpr std::uint8_t kBinary = 0x1, kAssocLu = 0x0, kNaa = 0x3;
    LogicalUnit* lu = nullptr;
    if (c.code_set == kBinary && c.association == kAssocLu && c.designator_type == kNaa &&
        c.designator_bytes == 8) {
        lu = t.target->find_lun_by_naa(load_be64(c.designator.data()));
    }
    if (lu == nullptr) return point_at(t, c.offset + 4, SenseReason::copy_target_not_reachable);
    // SPC-4 6.4.5 (CSCD descriptors): the descriptor must describe the device it names: a block
    // device (peripheral device type 00h) with the block length it really has.
    if (c.peripheral_type != 0x00) {
        return point_at(t, c.offset + 1, SenseReason::copy_target_incorrect_type);
    }
    if (c.disk_block_bytes != lu->geometry().block_size_bytes) {
        return point_at(t, c.offset + 29, SenseReason::copy_target_incorrect_type);
    }
    out = lu;
    return SenseReason::none;
}

bool in_range(const LogicalUnit& lu, std::uint64_t lba, std::uint64_t blocks) {
    const std::uint64_t count = lu.geometry().block_count;
    return lba < count && blocks <= count - lba;
}

// SPC-4 6.4.6 block device to block device segment: the checks that need the LUs.
SenseReason plan_segment(Task& t, const XcopyParameters& p, const BlockSegment& s,
                         SegmentPlan& plan) {
    if (auto r = resolve(t, p, s.source, s.offset + kSegmentSourceIdAt, plan.source);
        r != SenseReason::none)
        return r;
    if (auto r = resolve(t, p, s.destination, s.offset + kSegmentDestinationIdAt, plan.destination);
        r != SenseReason::none)
        return r;
    const std::uint64_t source_block = plan.source->geometry().block_size_bytes;
    const std::uint64_t destination_block = plan.destination->geometry().block_size_bytes;
    // DC: NUMBER OF BLOCKS counts destination blocks (1) or source blocks (0).
    plan.bytes = std::uint64_t{s.blocks} * (s.dc ? destination_block : source_block);
    // SPC-4 6.4.6: zero blocks copies nothing and is not an error.
    if (plan.bytes == 0) return SenseReason::none;
    // A segment that does not fill whole blocks on both sides is inexact; we neither pad nor
    // carry the remainder into the next segment (PAD and CAT), so it cannot be done.
    if (plan.bytes % source_block != 0 || plan.bytes % destination_block != 0) {
        return point_at(t, s.offset + kSegmentBlocksAt, SenseReason::unexpected_inexact_segment);
    }
    if (plan.bytes > kMaxSegmentBytes) {
        return point_at(t, s.offset + kSegmentBlocksAt, SenseReason::copy_aborted);
    }
    // SBC-4 4.5: both ranges lie within their medium. (libiscsi ExtendedCopy.ValidSegDescr
    // expects COPY ABORTED for a destination past the end.)
    if (!in_range(*plan.source, s.source_lba, plan.bytes / source_block)) {
        t.detail.information = s.source_lba;
        return point_at(t, s.offset + kSegmentSourceLbaAt, SenseReason::copy_aborted);
    }
    if (!in_range(*plan.destination, s.destination_lba, plan.bytes / destination_block)) {
        t.detail.information = s.destination_lba;
        return point_at(t, s.offset + kSegmentDestinationLbaAt, SenseReason::copy_aborted);
    }
    // SBC-4 4.13: a write-protected copy destination refuses the write as WRITE would.
    if (plan.destination->read_only()) return SenseReason::write_protected;

    plan.source_offset_bytes = s.source_lba * source_block;
    plan.destination_offset_bytes = s.destination_lba * destination_block;
    const std::uint64_t unit = std::lcm(source_block, destination_block);
    plan.chunk_bytes = std::max<std::uint64_t>(unit, kCopyChunkBytes / unit * unit);
    // Copying forward would overwrite source blocks not yet read when the destination starts
    // inside the source range of the same LU: go backwards then.
    plan.backwards = plan.source == plan.destination &&
                     plan.destination_offset_bytes > plan.source_offset_bytes &&
                     plan.destination_offset_bytes < plan.source_offset_bytes + plan.bytes;
    return SenseReason::none;
}

// A copy target's I/O failed: transient errors stay NOT READY (the initiator retries the whole
// command, which copying again makes good); anything else aborts the copy.
SenseReason copy_io_error(const Error& error, IoKind kind) {
    const SenseReason r = sense_for_volume_error(error, kind);
    return r == SenseReason::not_ready ? r : SenseReason::copy_target_failure;
}

// Marks the current segment processed, for RECEIVE COPY STATUS.
void segment_processed(CopyJob& job) {
    job.bytes_transferred += job.plan.bytes;
    ++job.next_segment;
    if (!job.identified) return;
    Task& t = *job.task;
    t.lu->copy_results().progress(t.nexus, job.params.list_id,
                                  static_cast<std::uint16_t>(job.next_segment),
                                  job.bytes_transferred);
}

void copy_chunk(JobPtr job);

void chunk_written(JobPtr job, std::uint64_t n) {
    job->segment_done_bytes += n;
    if (job->segment_done_bytes < job->plan.bytes) {
        copy_chunk(std::move(job));
        return;
    }
    segment_processed(*job);
    start_segment(std::move(job));
}

// Writes chunk at byte at of the segment's destination range, holding the destination LU's
// range lock over those blocks while the write runs.
void write_chunk(JobPtr job, std::span<const std::uint8_t> chunk, std::uint64_t at) {
    LogicalUnit& destination = *job->plan.destination;
    const std::uint64_t block = destination.geometry().block_size_bytes;
    const std::uint64_t offset = job->plan.destination_offset_bytes + at;
    destination.range_lock().acquire(
        offset / block, chunk.size() / block,
        [job = std::move(job), chunk, offset](RangeLock::Guard guard) mutable {
            job->guard = std::move(guard);
            LogicalUnit& dst = *job->plan.destination;
            // SBC-4 7.5.5: with WCE=0 every write completes only once on the medium.
            const volume::WriteFlags flags{.fua = !dst.write_cache_enabled()};
            dst.volume().write(offset, chunk, flags,
                               [job = std::move(job), n = chunk.size()](itd::Status st) mutable {
                                   job->guard.reset();
                                   if (!st) {
                                       finish_copy(std::move(job),
                                                   copy_io_error(st.error(), IoKind::write));
                                       return;
                                   }
                                   chunk_written(std::move(job), n);
                               });
        });
}

// Reads the next chunk of the current segment (the last one first when going backwards) into
// the job's buffer, then writes it.
void copy_chunk(JobPtr job) {
    const SegmentPlan& plan = job->plan;
    const std::uint64_t n = std::min(plan.chunk_bytes, plan.bytes - job->segment_done_bytes);
    const std::uint64_t at =
        plan.backwards ? plan.bytes - job->segment_done_bytes - n : job->segment_done_bytes;
    ITD_CHECK(n > 0 && n <= job->buffer.size());
    const std::span<std::uint8_t> chunk(job->buffer.data(), n);
    LogicalUnit& source = *plan.source;
    source.volume().read(plan.source_offset_bytes + at, chunk,
                         [job = std::move(job), chunk, at](itd::Status st) mutable {
                             if (!st) {
                                 finish_copy(std::move(job),
                                             copy_io_error(st.error(), IoKind::read));
                                 return;
                             }
                             write_chunk(std::move(job), chunk, at);
                         });
}

void start_segment(JobPtr job) {
    while (job->next_segment < job->params.segments.size()) {
        const BlockSegment& s = job->params.segments[job->next_segment];
        job->plan = SegmentPlan{};
        job->segment_done_bytes = 0;
        if (auto r = plan_segment(*job->task, job->params, s, job->plan); r != SenseReason::none) {
            finish_copy(std::move(job), r);
            return;
        }
        if (job->plan.bytes != 0) {
            const std::uint64_t need = std::min(job->plan.chunk_bytes, job->plan.bytes);
            if (job->buffer.size() < need) job->buffer.resize(need);
            copy_chunk(std::move(job));
            return;
        }
        // An empty segment: processed, nothing moved.
        segment_processed(*job);
    }
    finish_copy(std::move(job), SenseReason::none);
}

}  // namespace

SenseReason handle_extended_copy(TaskPtr& task) {
    Task& t = *task;
    const std::uint32_t list_length = load_be32(&t.cdb()[10]);
    // SPC-4 6.4.1: a PARAMETER LIST LENGTH of zero is not an error; nothing is copied.
    if (list_length == 0) return SenseReason::none;
    const auto list = t.data_out.first(std::min<std::size_t>(list_length, t.data_out.size()));
    auto parsed = parse_xcopy_parameters(list, kCopyManagerLimits);
    if (!parsed) {
        t.detail.field = parsed.error().field;
        return parsed.error().reason;
    }

    const bool identified = parsed->list_id_usage != ListIdUsage::none;
    if (auto refused = t.lu->copy_results().begin(t.nexus, parsed->list_id, identified,
                                                  kMaxConcurrentCopies)) {
        switch (*refused) {
            case CopyResults::BeginError::list_id_in_use:
                // SPC-4 6.4.3: a LIST IDENTIFIER already running on this I_T nexus.
                return point_at(t, 0, SenseReason::operation_in_progress);
            case CopyResults::BeginError::too_many:
                return SenseReason::insufficient_resources;
        }
    }
    auto job = std::make_unique<CopyJob>();
    job->params = std::move(*parsed);
    job->identified = identified;
    job->task = std::move(task);
    start_segment(std::move(job));
    return SenseReason::none;
}

}  // namespace itd::scsi
