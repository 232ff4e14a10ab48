// GET LBA STATUS (SBC-4 5.6): the provisioning status of the blocks from STARTING LOGICAL
// BLOCK ADDRESS on, from the volume's lba_status().
#include <algorithm>
#include <vector>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

constexpr std::size_t kHeaderBytes = 8;
constexpr std::size_t kDescriptorBytes = 16;
// SBC-4 5.6.2 PROVISIONING STATUS.
constexpr std::uint8_t kMapped = 0x0;
constexpr std::uint8_t kDeallocated = 0x1;
// How far one answer looks ahead; the initiator asks again from where it stops.
constexpr std::uint64_t kMaxLookaheadBytes = 1ull << 30;

}  // namespace

SenseReason handle_get_lba_status(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const std::uint64_t lba = load_be64(&cdb[2]);
    const std::uint32_t allocation_length = load_be32(&cdb[10]);
    const volume::Geometry g = t.lu->geometry();
    // SBC-4 5.6.1: a STARTING LBA past the last one is LOGICAL BLOCK ADDRESS OUT OF RANGE
    // (libiscsi GetLBAStatus.BeyondEol: capacity + 1, 2^63 and 2^64 - 1).
    if (lba >= g.block_count) {
        t.detail.information = lba;
        return SenseReason::lba_out_of_range;
    }
    // SPC-4 4.2.5.6: an allocation length of zero is not an error; nothing is transferred.
    if (allocation_length == 0) return SenseReason::none;
    // As many descriptors as the allocation length holds (at least one: the initiator gets
    // the header and a cut descriptor), each at most 2^32 - 1 blocks.
    const std::size_t max_descriptors =
        std::max<std::size_t>(1, (allocation_length - std::min<std::size_t>(allocation_length,
                                                                           kHeaderBytes)) /
                                     kDescriptorBytes);
    const std::uint64_t offset = lba * g.block_size_bytes;
    const std::uint64_t length = std::min(g.size_bytes() - offset, kMaxLookaheadBytes);
    volume::Volume& vol = t.lu->volume();
    vol.lba_status(offset, length, [task = std::move(task), allocation_length, max_descriptors](
                                       Result<std::vector<volume::LbaExtent>> extents) mutable {
        if (!extents) {
            finish(std::move(task), sense_for_volume_error(extents.error(), IoKind::read));
            return;
        }
        const std::uint32_t block_bytes = task->lu->geometry().block_size_bytes;
        std::vector<std::uint8_t> d(kHeaderBytes, 0);
        for (const volume::LbaExtent& e : *extents) {
            std::uint64_t first = e.offset_bytes / block_bytes;
            std::uint64_t blocks = e.length_bytes / block_bytes;
            while (blocks > 0 && (d.size() - kHeaderBytes) / kDescriptorBytes < max_descriptors) {
                const std::uint64_t n = std::min<std::uint64_t>(blocks, 0xffffffffu);
                const std::size_t at = d.size();
                d.resize(at + kDescriptorBytes, 0);
                store_be64(&d[at], first);
                store_be32(&d[at + 8], static_cast<std::uint32_t>(n));
                d[at + 12] = e.mapped ? kMapped : kDeallocated;
                first += n;
                blocks -= n;
            }
        }
        // PARAMETER DATA LENGTH: the bytes after itself (SBC-4 5.6.2).
        store_be32(&d[0], static_cast<std::uint32_t>(d.size() - 4));
        task->send_data(d, allocation_length);
        finish(std::move(task), SenseReason::none);
    });
    return SenseReason::none;
}

}  // namespace itd::scsi
