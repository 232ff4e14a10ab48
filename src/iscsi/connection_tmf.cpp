// Task management on a connection (RFC 7143 11.5-11.6, SAM-5 7). An aborted command that is
// still running cannot be pulled back from the volume, so the TMF response waits until it has
// finished: once the initiator hears "function complete", no aborted command writes again.
#include <algorithm>
#include <optional>

#include "iscsi/connection.h"
#include "iscsi/sn.h"
#include "scsi/lun_address.h"

namespace itd::iscsi {

namespace {

// TMF functions (RFC 7143 11.5.1) and responses (11.6.1).
constexpr std::uint8_t kAbortTask = 1;
constexpr std::uint8_t kAbortTaskSet = 2;
constexpr std::uint8_t kClearTaskSet = 3;
constexpr std::uint8_t kLogicalUnitReset = 5;
constexpr std::uint8_t kTargetWarmReset = 6;
constexpr std::uint8_t kTargetColdReset = 7;
constexpr std::uint8_t kTaskReassign = 8;

constexpr std::uint8_t kFunctionComplete = 0;
constexpr std::uint8_t kTaskDoesNotExist = 1;
constexpr std::uint8_t kLunDoesNotExist = 2;
constexpr std::uint8_t kReassignNotSupported = 4;
constexpr std::uint8_t kFunctionNotSupported = 5;

}  // namespace

std::vector<std::uint32_t> Connection::abort_tasks(std::uint32_t itt,
                                                   std::optional<std::uint64_t> lun_field) {
    std::vector<std::uint32_t> running;
    for (auto it = tasks_.begin(); it != tasks_.end();) {
        ScsiTask& task = *it->second;
        const bool match = itt != kReservedTag ? task.itt == itt
                           : lun_field         ? task.lun_field == *lun_field
                                               : true;
        if (!match) {
            ++it;
            continue;
        }
        if (task.running) {
            task.aborted = true;
            task.abort.request_stop();
            running.push_back(task.itt);
            ++it;
        } else {
            buffered_bytes_ -= task.expected_length_bytes;
            it = recycle_task(it);
        }
    }
    // Aborted commands still queued for their CmdSN keep their slot, but do nothing.
    for (auto& q : out_of_order_) {
        if (q.pdu.bhs.opcode() != Opcode::scsi_command) continue;
        if (itt != kReservedTag ? q.pdu.bhs.itt() == itt
            : lun_field         ? q.pdu.bhs.lun() == *lun_field
                                : true)
            q.valid = false;
    }
    return running;
}

void Connection::handle_task_management(const Pdu& pdu) {
    const Bhs& bhs = pdu.bhs;
    const std::uint8_t function = bhs.function();
    std::vector<std::uint32_t> waiting;
    switch (function) {
        case kAbortTask: {
            const std::uint32_t ref = bhs.referenced_task_tag();
            const bool known = tasks_.contains(ref) ||
                               std::any_of(out_of_order_.begin(), out_of_order_.end(),
                                           [&](const Queued& q) {
                                               return q.valid && q.pdu.bhs.itt() == ref;
                                           });
            if (!known) {
                // RFC 7143 11.6.1 b: a command not received yet whose CmdSN lies in the window
                // before this request's is taken as received (and will be ignored if it
                // comes), and the abort completes. c: anything else, a command that already
                // finished among them, does not exist (libiscsi's
                // iSCSITMF.AbortTaskSimpleAsync tells the two cases apart).
                const std::uint32_t ref_sn = bhs.ref_cmd_sn();
                if (!in_window(ref_sn) || !sn_lt(ref_sn, bhs.cmd_sn()))
                    return send_tmf_response(bhs.itt(), kTaskDoesNotExist);
                consume_cmd_sn(ref_sn);
                return send_tmf_response(bhs.itt(), kFunctionComplete);
            }
            waiting = abort_tasks(ref, 0);
            break;
        }
        case kAbortTaskSet:
        case kClearTaskSet:
            waiting = abort_tasks(kReservedTag, bhs.lun());
            break;
        case kLogicalUnitReset: {
            const auto lun = scsi::decode_lun(bhs.lun());
            if (!lun || !target_->scsi->has_lun(*lun))
                return send_tmf_response(bhs.itt(), kLunDoesNotExist);
            waiting = abort_tasks(kReservedTag, bhs.lun());
            target_->scsi->reset_lun(*lun, session_->nexus);
            break;
        }
        case kTargetWarmReset:
        case kTargetColdReset: {
            // SAM-5 7.13 / RFC 7143 11.5.1: every LU of the target is reset (the reset unit
            // attention for every other nexus, SPC-2 reservations released, ...) and this
            // session's tasks are aborted. Other sessions' commands run to their end: they are
            // on other threads, and a reset promises no more than that nothing acts after it.
            waiting = abort_tasks(kReservedTag, std::nullopt);
            target_->scsi->reset_target(session_->nexus);
            if (function == kTargetColdReset) {
                // A cold reset also ends every session to the target: the others now, this one
                // once its response is on the wire (RFC 7143 11.5.1: the target closes the
                // connections after sending the response).
                portal_group_.sessions.close_target(target_->name, session_.get());
                cold_reset_pending_ = true;
            }
            break;
        }
        case kTaskReassign:
            // Needs error recovery level 2.
            return send_tmf_response(bhs.itt(), kReassignNotSupported);
        default:
            return send_tmf_response(bhs.itt(), kFunctionNotSupported);
    }
    if (waiting.empty()) return send_tmf_response(bhs.itt(), kFunctionComplete);
    pending_tmfs_.push_back(PendingTmf{bhs.itt(), std::move(waiting)});
}

void Connection::consume_cmd_sn(std::uint32_t cmd_sn) {
    // A placeholder holds the slot, so the command is a duplicate if it ever arrives and the
    // window moves past it.
    Queued placeholder;
    placeholder.pdu.bhs.set_opcode(Opcode::scsi_command);
    placeholder.pdu.bhs.set_cmd_sn(cmd_sn);
    placeholder.valid = false;
    if (cmd_sn == exp_cmd_sn_) {
        ++exp_cmd_sn_;
        deliver_in_order();
        return;
    }
    for (const auto& q : out_of_order_)
        if (q.pdu.bhs.cmd_sn() == cmd_sn) return;
    out_of_order_.push_back(std::move(placeholder));
}

void Connection::on_aborted_task_done(std::uint32_t itt) {
    for (auto it = pending_tmfs_.begin(); it != pending_tmfs_.end();) {
        std::erase(it->waiting_for, itt);
        if (it->waiting_for.empty()) {
            send_tmf_response(it->itt, kFunctionComplete);
            it = pending_tmfs_.erase(it);
        } else {
            ++it;
        }
    }
}

void Connection::send_tmf_response(std::uint32_t itt, std::uint8_t response) {
    Pdu reply = response_pdu(Opcode::task_mgmt_response, itt);
    reply.bhs.set_byte2(response);
    fill_response_sns(reply.bhs, true);
    send(std::move(reply));
    // The output is flushed before a closing connection's socket closes.
    if (cold_reset_pending_) phase_ = Phase::closing;
}

}  // namespace itd::iscsi
