// VERIFY (10, 12, 16) and WRITE AND VERIFY (10, 12, 16) (SBC-4 5.33-5.35, 5.44-5.46).
//
// BYTCHK (byte 1 bits 2..1) says what VERIFY compares: 00b nothing (a medium check), 01b the
// data-out buffer against the blocks, 11b one block of data-out against every block; 10b is
// reserved. A difference is MISCOMPARE with the offset of the first differing byte in the
// INFORMATION field (SBC-4 5.33).
#include <algorithm>
#include <memory>

#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

constexpr std::uint8_t kBytchkNone = 0x0;
constexpr std::uint8_t kBytchkAll = 0x1;
constexpr std::uint8_t kBytchkReserved = 0x2;
constexpr std::uint8_t kBytchkOneBlock = 0x3;

std::uint8_t bytchk(const Task& t) { return (t.cdb()[1] >> 1) & 0x03; }

// The first byte where medium (the task's bounce buffer) differs from what the initiator sent;
// with one_block the data-out block is compared with every block in turn.
std::optional<std::uint64_t> first_difference(const Task& t, bool one_block) {
    const std::uint32_t block_bytes = t.lu->geometry().block_size_bytes;
    for (std::uint64_t i = 0; i < t.bounce.size(); ++i) {
        const std::uint8_t sent = one_block ? t.data_out[i % block_bytes] : t.data_out[i];
        if (t.bounce[i] != sent) return i;
    }
    return std::nullopt;
}

}  // namespace

SenseReason handle_verify(TaskPtr& task) {
    Task& t = *task;
    const std::uint8_t check = bytchk(t);
    if (check == kBytchkReserved) return t.invalid_cdb_field(1, 2);
    const BlockRange r = decode_range(t);
    const std::uint32_t block_bytes = t.lu->geometry().block_size_bytes;
    const std::uint64_t medium_bytes = r.blocks * block_bytes;
    const std::uint64_t out_bytes = check == kBytchkAll        ? medium_bytes
                                    : check == kBytchkOneBlock ? (r.blocks ? block_bytes : 0)
                                                               : 0;
    t.result.transfer_bytes = out_bytes;
    if (auto reason = check_range(t, r); reason != SenseReason::none) return reason;
    // SBC-4 5.33: zero blocks is not an error. Without BYTCHK there is nothing to compare, and
    // a backend read error would show on the next READ just the same: GOOD.
    if (r.blocks == 0 || check == kBytchkNone) return SenseReason::none;
    if (t.data_out.size() < out_bytes) return SenseReason::invalid_field_in_command_iu;

    t.bounce.resize(medium_bytes);
    volume::Volume& vol = t.lu->volume();
    vol.read(r.lba * block_bytes, t.bounce, [task = std::move(task), check](itd::Status st) mutable {
        if (!st) {
            finish(std::move(task), sense_for_volume_error(st.error(), IoKind::read));
            return;
        }
        if (auto at = first_difference(*task, check == kBytchkOneBlock)) {
            task->detail.information = *at;
            finish(std::move(task), SenseReason::miscompare_during_verify);
            return;
        }
        finish(std::move(task), SenseReason::none);
    });
    return SenseReason::none;
}

SenseReason handle_write_and_verify(TaskPtr& task) {
    Task& t = *task;
    if (t.lu->read_only()) return SenseReason::write_protected;
    // SBC-4 5.44: BYTCHK 10b and 11b are reserved for WRITE AND VERIFY.
    if (bytchk(t) == kBytchkReserved || bytchk(t) == kBytchkOneBlock) {
        return t.invalid_cdb_field(1, 2);
    }
    // The write goes to the medium (FUA) so that "verify" means what it says; once the volume
    // has accepted the write, reading it back would compare our own buffer with itself, so the
    // verification is the write's success. Residuals as for WRITE (libiscsi
    // iSCSIResiduals.WriteVerify*Residuals expect the same answers).
    return write_from_cdb(task, /*fua=*/true);
}

}  // namespace itd::scsi
