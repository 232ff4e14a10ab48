// SANITIZE (SBC-4 5.30): checks the CDB and the OVERWRITE parameter list, then hands the work to
// the LU's Sanitizer (sanitize.h), which owns the operation until it ends. Also the gate the
// dispatcher asks before any command while an operation runs or has failed (SBC-4 4.11.2).
//
// What each service action does on our volumes:
//   OVERWRITE           the initialization pattern over every block, OVERWRITE COUNT times;
//   BLOCK ERASE         every block deallocated (thin LUs only: it is the one erase that
//                       releases storage, and initiators check LBPME before they trust it);
//   CRYPTOGRAPHIC ERASE we hold no media keys to change, so the data itself goes: deallocated
//                       on a thin LU, zeros written on a fully provisioned one;
//   EXIT FAILURE MODE   ends the failure mode a sanitize started with AUSE=1 left behind.
// Every erased block reads back as zeros afterwards (LBPRZ=1), which VPD B1h reports as
// WABEREQ/WACEREQ 01b.
#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sanitize.h"
#include "scsi/sbc_sanitize_params.h"

namespace itd::scsi {

namespace {

// SBC-4 5.30.1 table: SANITIZE service actions.
constexpr std::uint8_t kOverwrite = 0x01;
constexpr std::uint8_t kBlockErase = 0x02;
constexpr std::uint8_t kCryptoErase = 0x03;
constexpr std::uint8_t kExitFailureMode = 0x1f;

constexpr std::uint8_t kImmedBit = 0x80;
constexpr std::uint8_t kAuseBit = 0x20;

// The SANITIZE command of an operation started with IMMED=0, answered once: when the operation
// ends, or at once when the transport aborts the command (SBC-4 4.11.1: the operation goes on
// regardless; without this, an ABORT TASK would wait for the whole erase to finish).
struct PendingSanitize {
    std::mutex mutex;
    TaskPtr task;
    std::optional<std::stop_callback<std::function<void()>>> on_abort;

    static void answer(const std::shared_ptr<PendingSanitize>& self, SenseReason reason) {
        TaskPtr task;
        {
            std::lock_guard lock(self->mutex);
            task = std::move(self->task);
        }
        if (task != nullptr) finish(std::move(task), reason);
    }
};

SenseReason start(TaskPtr& task, SanitizePlan plan, bool immed) {
    LogicalUnit& lu = *task->lu;
    // Another SANITIZE may have got in between the dispatcher's check and here.
    if (!lu.sanitizer().reserve()) return SenseReason::sanitize_in_progress;
    plan.ause = (task->cdb()[1] & kAuseBit) != 0;
    plan.fua = !lu.write_cache_enabled();
    plan.bytes_per_second = lu.config().sanitize_rate_bytes_per_s;
    Sanitizer::Finished finished;
    std::shared_ptr<PendingSanitize> pending;
    if (!immed) {
        // SBC-4 5.30.1: with IMMED=0 the command completes when the operation does.
        pending = std::make_shared<PendingSanitize>();
        pending->task = std::move(task);
        finished = [pending](itd::Status st) {
            PendingSanitize::answer(pending, st ? SenseReason::none : SenseReason::sanitize_failed);
        };
    }
    const std::stop_token abort = pending ? pending->task->abort : std::stop_token{};
    lu.sanitizer().launch(lu.config().volume, lu.range_lock(), std::move(plan), std::move(finished));
    if (pending) {
        // Registered after the launch: an abort that came first runs the callback right here.
        // The answer to an aborted command is dropped by the transport (SAM-5 7.2, TAS=0).
        // Not under the mutex: a callback that runs inline takes it.
        if (abort.stop_possible()) {
            pending->on_abort.emplace(abort, [weak = std::weak_ptr(pending)] {
                if (auto self = weak.lock()) PendingSanitize::answer(self, SenseReason::none);
            });
        }
    }
    // IMMED=1: GOOD as soon as the command is checked and the operation has started.
    return SenseReason::none;
}

}  // namespace

bool block_erase_offered(const LogicalUnit& lu) { return lu.thin(); }

bool command_offered(const CommandSpec& spec, const LogicalUnit& lu) {
    if (spec.opcode == 0x48 && spec.service_action == kBlockErase) return block_erase_offered(lu);
    return true;
}

bool sanitize_running(LogicalUnit& lu) {
    return lu.sanitizer().state() == Sanitizer::State::running;
}

SenseReason sanitize_gate(Task& t) {
    switch (t.lu->sanitizer().state()) {
        case Sanitizer::State::idle: return SenseReason::none;
        case Sanitizer::State::running:
            // SBC-4 4.11.2: only INQUIRY, REPORT LUNS and REQUEST SENSE run meanwhile (REQUEST
            // SENSE reports the progress); every other command, one we do not know included,
            // learns how far the erase has got.
            if (t.spec != nullptr && (t.spec->lun_access == LunAccess::ua_exempt ||
                                      t.spec->lun_access == LunAccess::request_sense)) {
                return SenseReason::none;
            }
            t.detail.progress = t.lu->sanitizer().progress();
            return SenseReason::sanitize_in_progress;
        case Sanitizer::State::failed:
            // SBC-4 4.11.4: after a failed sanitize, commands that access the medium (those with
            // an LBA, and UNMAP) fail until a sanitize succeeds or EXIT FAILURE MODE ends the
            // failure mode.
            if (t.spec == nullptr) return SenseReason::none;
            if (t.spec->lba.size != 0 || t.spec->opcode == 0x42) return SenseReason::sanitize_failed;
            return SenseReason::none;
    }
    return SenseReason::none;
}

SenseReason handle_sanitize(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const std::uint8_t service_action = cdb[1] & 0x1f;
    const bool immed = (cdb[1] & kImmedBit) != 0;
    const std::uint16_t list_length = load_be16(&cdb[7]);
    LogicalUnit& lu = *t.lu;
    const std::uint32_t block_bytes = lu.geometry().block_size_bytes;

    switch (service_action) {
        case kExitFailureMode:
            // SBC-4 5.30.2.4: no parameter list.
            if (list_length != 0) return t.invalid_cdb_field(7);
            // Only a failure that AUSE=1 allowed to be left this way.
            if (!lu.sanitizer().exit_failure_mode()) return t.invalid_cdb_field(1, 4);
            return SenseReason::none;
        case kBlockErase:
        case kCryptoErase: {
            if (service_action == kBlockErase && !block_erase_offered(lu)) {
                return t.invalid_cdb_field(1, 4);
            }
            // SBC-4 5.30.2.3 / 5.30.2.5: a non-zero PARAMETER LIST LENGTH is INVALID FIELD IN CDB.
            if (list_length != 0) return t.invalid_cdb_field(7);
            // SBC-4 4.13: a write-protected LU refuses to be erased.
            if (lu.read_only()) return SenseReason::write_protected;
            SanitizePlan plan;
            plan.method = lu.thin() ? SanitizePlan::Method::deallocate : SanitizePlan::Method::zero;
            return start(task, std::move(plan), immed);
        }
        case kOverwrite: {
            // SBC-4 5.30.2.2: PARAMETER LIST LENGTH below 5 or above the block length plus 4
            // is INVALID FIELD IN CDB (libiscsi Sanitize.Overwrite tries 0..4 and block + 5).
            if (list_length < kOverwriteHeaderBytes + 1 ||
                list_length > std::uint32_t{block_bytes} + kOverwriteHeaderBytes) {
                return t.invalid_cdb_field(7);
            }
            const auto list = t.data_out.first(std::min<std::size_t>(list_length, t.data_out.size()));
            auto parsed = parse_overwrite_parameters(list, block_bytes);
            if (!parsed) {
                t.detail.field = parsed.error().field;
                return parsed.error().reason;
            }
            // TEST 00b is the only value the standard gives a meaning; we have no test mode.
            if (parsed->test != 0) {
                t.detail.field = FieldPointer{false, 0, 6};
                return SenseReason::invalid_field_in_parameter_list;
            }
            if (lu.read_only()) return SenseReason::write_protected;
            SanitizePlan plan;
            plan.method = SanitizePlan::Method::overwrite;
            plan.block_pattern = fill_block(parsed->pattern, block_bytes);
            plan.passes = parsed->passes;
            plan.invert = parsed->invert;
            return start(task, std::move(plan), immed);
        }
        default:
            // The command table has a row per service action we know; dispatch refuses others.
            return t.invalid_cdb_field(1, 4);
    }
}

}  // namespace itd::scsi
