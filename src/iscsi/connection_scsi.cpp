// SCSI commands on a connection: write data collection (immediate data, unsolicited Data-Out,
// R2T), handing complete commands to the SCSI core, and read data and status back
// (RFC 7143 4.2.5, 11.3-11.8).
#include <algorithm>

#include "common/check.h"
#include "iscsi/connection.h"
#include "scsi/sense.h"

namespace itd::iscsi {

namespace {

constexpr std::uint8_t kRejectProtocolError = 0x04;
constexpr std::uint8_t kRejectInvalidPduField = 0x09;

// The largest transfer one command may ask for. VPD B0 advertises 8 MiB, so a well-behaved
// initiator never comes near it; the bound keeps a hostile EDTL from reserving memory.
constexpr std::uint32_t kMaxTransferBytes = 16u << 20;
// Buffers all of a connection's commands may hold at once. Past it a command is answered
// TASK SET FULL (SAM-5 5.3.1) and the initiator retries; with the CmdSN window this bounds a
// session's memory whatever the initiator sends.
constexpr std::uint64_t kMaxBufferedBytes = 256u << 20;
// A finished task kept for reuse keeps its write buffer's room up to this size.
constexpr std::size_t kMaxKeptBufferBytes = 64u << 10;

// RFC 7143 11.3.1: the task attribute in the low three bits of byte 1.
scsi::TaskAttribute task_attribute(std::uint8_t flags) {
    switch (flags & 0x07) {
        case 2: return scsi::TaskAttribute::ordered;
        case 3: return scsi::TaskAttribute::head_of_queue;
        case 4: return scsi::TaskAttribute::aca;
        default: return scsi::TaskAttribute::simple;  // 0 untagged, 1 simple
    }
}

// The extended CDB AHS (RFC 7143 11.2.1.3, type 1) continues the CDB past byte 16.
bool append_extended_cdb(const std::vector<std::uint8_t>& ahs, std::vector<std::uint8_t>& cdb) {
    std::size_t pos = 0;
    while (pos + 4 <= ahs.size()) {
        const std::size_t length = load_be16(&ahs[pos]);
        const std::uint8_t type = ahs[pos + 2];
        // AHSLength counts the bytes after the type byte, reserved byte included.
        const std::size_t body = pos + 3;
        if (body + length > ahs.size()) return false;
        if (type == 1 && length >= 1)
            cdb.insert(cdb.end(), ahs.begin() + static_cast<std::ptrdiff_t>(body + 1),
                       ahs.begin() + static_cast<std::ptrdiff_t>(body + length));
        else if (type == 2)
            return false;  // bidirectional commands are not supported
        pos = (body + length + 3) & ~std::size_t{3};
    }
    return true;
}

}  // namespace

bool Connection::create_task(const Pdu& pdu) {
    const Bhs& bhs = pdu.bhs;
    const std::uint32_t itt = bhs.itt();
    if (itt == kReservedTag || tasks_.contains(itt)) {
        send_reject(bhs, kRejectInvalidPduField);
        return false;
    }
    auto task = new_task();
    task->itt = itt;
    task->cmd_sn = bhs.cmd_sn();
    task->lun_field = bhs.lun();
    task->attribute = task_attribute(bhs.flags());
    task->read = (bhs.flags() & flag::read) != 0;
    task->write = (bhs.flags() & flag::write) != 0;
    task->expected_length_bytes = (task->read || task->write) ? bhs.expected_data_transfer_length() : 0;
    auto cdb = bhs.cdb();
    task->cdb.assign(cdb.begin(), cdb.end());

    const auto immediate_bytes = static_cast<std::uint32_t>(pdu.data.size());
    const bool bidirectional = task->read && task->write;  // not supported
    // Immediate data needs ImmediateData=Yes, a write, and fits in FirstBurstLength and EDTL
    // (RFC 7143 4.2.5.1).
    const bool bad_immediate =
        immediate_bytes > 0 &&
        (!task->write || !params_.immediate_data || immediate_bytes > params_.first_burst_bytes ||
         immediate_bytes > task->expected_length_bytes);
    // F=0 announces unsolicited Data-Out, allowed only with InitialR2T=No (RFC 7143 11.3.1).
    const bool unsolicited_follows = !bhs.final_bit();
    const bool bad_unsolicited =
        unsolicited_follows && (!task->write || params_.initial_r2t ||
                                immediate_bytes >= std::min(params_.first_burst_bytes,
                                                            task->expected_length_bytes));
    if (bidirectional || bad_immediate || bad_unsolicited ||
        !append_extended_cdb(pdu.ahs, task->cdb)) {
        send_reject(bhs, bidirectional ? kRejectInvalidPduField : kRejectProtocolError);
        return false;
    }

    // A transfer beyond what we buffer is beyond VPD B0's MAXIMUM TRANSFER LENGTH too: the
    // command fails as SBC-4 4.4 says (INVALID FIELD IN CDB) without its data being collected;
    // any Data-Out that follows is dropped as data for an unknown task.
    if (task->expected_length_bytes > kMaxTransferBytes) {
        scsi::CommandResult refused;
        scsi::apply_sense(scsi::SenseReason::invalid_field_in_cdb, {}, refused);
        refused.transfer_bytes = task->expected_length_bytes;
        send_read_data_and_status(*task, refused);
        return false;
    }

    if (buffered_bytes_ + task->expected_length_bytes > kMaxBufferedBytes) {
        scsi::CommandResult busy;
        busy.status = scsi::Status::task_set_full;
        busy.transfer_bytes = task->expected_length_bytes;  // no residual: nothing moved
        send_read_data_and_status(*task, busy);
        return false;
    }
    buffered_bytes_ += task->expected_length_bytes;
    if (task->write) task->data_out.resize(task->expected_length_bytes);
    if (task->read && task->expected_length_bytes > 0) {
        task->data_in = read_buffers_.get(task->expected_length_bytes);
    }
    std::copy(pdu.data.begin(), pdu.data.end(), task->data_out.begin());
    task->received_bytes = immediate_bytes;
    task->unsolicited_next_offset = immediate_bytes;
    task->unsolicited_done = !unsolicited_follows;
    task->next_r2t_offset = immediate_bytes;
    insert_task(std::move(task));
    return true;
}

void Connection::start_task(ScsiTask& task) {
    task.delivered = true;
    send_r2ts(task);
    maybe_run(task);
}

void Connection::send_r2ts(ScsiTask& task) {
    // R2Ts ask for the data after the unsolicited part, MaxBurstLength at a time, with at most
    // MaxOutstandingR2T of them open (RFC 7143 4.2.5.2).
    if (!task.delivered || !task.write || !task.unsolicited_done) return;
    task.next_r2t_offset = std::max(task.next_r2t_offset, task.unsolicited_next_offset);
    while (task.r2ts.size() < params_.max_outstanding_r2t &&
           task.next_r2t_offset < task.expected_length_bytes) {
        R2tState r2t;
        r2t.ttt = next_ttt_++;
        if (next_ttt_ == kReservedTag) next_ttt_ = 1;
        r2t.offset_bytes = task.next_r2t_offset;
        r2t.length_bytes =
            std::min(params_.max_burst_bytes, task.expected_length_bytes - r2t.offset_bytes);
        task.next_r2t_offset += r2t.length_bytes;

        Pdu pdu;
        pdu.bhs.set_opcode(Opcode::r2t);
        pdu.bhs.set_flags(flag::final_bit);
        pdu.bhs.set_lun(task.lun_field);
        pdu.bhs.set_itt(task.itt);
        pdu.bhs.set_ttt(r2t.ttt);
        fill_response_sns(pdu.bhs, false);  // R2T carries StatSN but does not advance it
        pdu.bhs.set_r2t_sn(task.next_r2t_sn++);
        pdu.bhs.set_buffer_offset(r2t.offset_bytes);
        pdu.bhs.set_desired_data_transfer_length(r2t.length_bytes);
        send(std::move(pdu));
        task.r2ts.push_back(r2t);
    }
}

std::span<std::uint8_t> Connection::data_out_placement(const Bhs& bhs) {
    if (phase_ != Phase::full_feature || bhs.opcode() != Opcode::data_out) return {};
    auto it = tasks_.find(bhs.itt());
    if (it == tasks_.end() || it->second->running || it->second->aborted || !it->second->write)
        return {};
    ScsiTask& task = *it->second;
    const std::uint32_t length = bhs.data_segment_length();
    const std::uint32_t offset = bhs.buffer_offset();
    // Only data exactly where handle_data_out will expect it; anything else takes the
    // checked path and fails there.
    bool in_order = false;
    if (bhs.ttt() == kReservedTag) {
        const std::uint32_t limit = std::min(params_.first_burst_bytes, task.expected_length_bytes);
        in_order = !task.unsolicited_done && offset == task.unsolicited_next_offset &&
                   bhs.data_sn() == task.unsolicited_next_data_sn && offset <= limit &&
                   length <= limit - offset;
    } else {
        for (const R2tState& r : task.r2ts) {
            if (r.ttt == bhs.ttt())
                in_order = offset == r.offset_bytes + r.received_bytes &&
                           bhs.data_sn() == r.next_data_sn &&
                           length <= r.length_bytes - r.received_bytes;
        }
    }
    if (!in_order || offset > task.expected_length_bytes ||
        length > task.expected_length_bytes - offset)
        return {};
    return std::span(task.data_out.data() + offset, length);
}

void Connection::handle_data_out(const Pdu& pdu) {
    const Bhs& bhs = pdu.bhs;
    auto it = tasks_.find(bhs.itt());
    // Data for a command we never took (outside the window), already answered (a data phase
    // error) or aborted: drop it. So is data arriving after the command has all it needs.
    if (it == tasks_.end() || it->second->running || it->second->aborted) return;
    ScsiTask& task = *it->second;
    // Placed data is in the task's buffer already, where data_out_placement found it belongs.
    const bool placed = pdu.placed_bytes > 0;
    const auto length = placed ? pdu.placed_bytes : static_cast<std::uint32_t>(pdu.data.size());
    const std::uint32_t offset = bhs.buffer_offset();
    if (!task.write || offset > task.expected_length_bytes ||
        length > task.expected_length_bytes - offset)
        return fail_data_phase(task);

    if (bhs.ttt() == kReservedTag) {
        // Unsolicited Data-Out: one sequence, in order, ending within FirstBurstLength
        // (RFC 7143 4.2.5.1).
        const std::uint32_t limit = std::min(params_.first_burst_bytes, task.expected_length_bytes);
        if (task.unsolicited_done || offset != task.unsolicited_next_offset ||
            bhs.data_sn() != task.unsolicited_next_data_sn || offset + length > limit)
            return fail_data_phase(task);
        if (!placed) std::copy(pdu.data.begin(), pdu.data.end(), task.data_out.begin() + offset);
        task.received_bytes += length;
        task.unsolicited_next_offset += length;
        ++task.unsolicited_next_data_sn;
        if (bhs.final_bit()) {
            task.unsolicited_done = true;
            send_r2ts(task);
        }
    } else {
        // Solicited Data-Out answers one R2T: in order, DataSN counting from 0 within it
        // (RFC 7143 11.7.4).
        auto r2t = std::find_if(task.r2ts.begin(), task.r2ts.end(),
                                [&](const R2tState& r) { return r.ttt == bhs.ttt(); });
        if (r2t == task.r2ts.end() || offset != r2t->offset_bytes + r2t->received_bytes ||
            bhs.data_sn() != r2t->next_data_sn ||
            length > r2t->length_bytes - r2t->received_bytes)
            return fail_data_phase(task);
        if (!placed) std::copy(pdu.data.begin(), pdu.data.end(), task.data_out.begin() + offset);
        task.received_bytes += length;
        r2t->received_bytes += length;
        ++r2t->next_data_sn;
        if (bhs.final_bit()) {
            if (r2t->received_bytes != r2t->length_bytes) return fail_data_phase(task);
            task.r2ts.erase(r2t);
            send_r2ts(task);
        }
    }
    maybe_run(task);
}

void Connection::fail_data_phase(ScsiTask& task) {
    // At error recovery level 0 we cannot ask for the data again (no recovery R2T), but the
    // session need not die for one command: it ends with CHECK CONDITION, ABORTED COMMAND,
    // DATA PHASE ERROR and nothing is written. Its remaining Data-Out PDUs are dropped as data
    // for an unknown task. (libiscsi's iSCSIdatasn.iSCSIDataSnInvalid wants the write to fail
    // while the session lives on.)
    scsi::CommandResult result;
    scsi::apply_sense(scsi::SenseReason::data_phase_error, {}, result);
    result.transfer_bytes = task.expected_length_bytes;
    const std::uint32_t itt = task.itt;
    send_read_data_and_status(task, result);
    erase_task(itt);
}

void Connection::erase_task(std::uint32_t itt) {
    auto it = tasks_.find(itt);
    ITD_CHECK(it != tasks_.end());
    ITD_CHECK(buffered_bytes_ >= it->second->expected_length_bytes);
    buffered_bytes_ -= it->second->expected_length_bytes;
    recycle_task(it);
}

std::unique_ptr<ScsiTask> Connection::new_task() {
    if (spare_tasks_.empty()) return std::make_unique<ScsiTask>();
    auto task = std::move(spare_tasks_.back());
    spare_tasks_.pop_back();
    return task;
}

void Connection::insert_task(std::unique_ptr<ScsiTask> task) {
    const std::uint32_t itt = task->itt;
    if (spare_nodes_.empty()) {
        tasks_.emplace(itt, std::move(task));
        return;
    }
    TaskMap::node_type node = std::move(spare_nodes_.back());
    spare_nodes_.pop_back();
    node.key() = itt;
    node.mapped() = std::move(task);
    tasks_.insert(std::move(node));
}

Connection::TaskMap::iterator Connection::recycle_task(TaskMap::iterator it) {
    auto next = std::next(it);
    TaskMap::node_type node = tasks_.extract(it);
    std::unique_ptr<ScsiTask> task = std::move(node.mapped());
    // As many spares as commands the CmdSN window lets in at once; write buffers up to
    // kMaxKeptBufferBytes each, so that spares hold a few MiB at most.
    const std::size_t keep = portal_group_.cmd_window;
    if (spare_tasks_.size() < keep) {
        task->reset(kMaxKeptBufferBytes);
        spare_tasks_.push_back(std::move(task));
    }
    if (spare_nodes_.size() < keep) spare_nodes_.push_back(std::move(node));
    return next;
}

void Connection::maybe_run(ScsiTask& task) {
    if (!task.delivered || task.running || !task.has_all_data() || task.aborted) return;
    if (task.write && (!task.unsolicited_done || !task.r2ts.empty())) return;
    task.running = true;
    ++running_;
    scsi::Command command;
    command.nexus = session_->nexus;
    command.lun_field = task.lun_field;
    command.cdb = task.cdb;
    command.attribute = task.attribute;
    command.data_out = task.data_out;
    if (task.read) command.data_in = std::span(task.data_in.get(), task.expected_length_bytes);
    command.accepts_data_in_view = true;
    if (!task.abort.stop_possible()) task.abort = std::stop_source();
    command.abort = task.abort.get_token();
    runner_.run(*target_->scsi, task.itt, command);
}

void Connection::on_scsi_done(std::uint32_t itt, const scsi::CommandResult& result) {
    auto it = tasks_.find(itt);
    ITD_CHECK(it != tasks_.end() && it->second->running);
    ITD_CHECK(running_ > 0);
    --running_;
    ScsiTask& task = *it->second;
    task.running = false;
    if (phase_ == Phase::closing) {
        erase_task(itt);
        return;
    }
    if (task.aborted) {
        // RFC 7143 4.2.3.? : an aborted command gets no response; the TMF that aborted it
        // answers once every command it waits for is done.
        erase_task(itt);
        on_aborted_task_done(itt);
        return;
    }
    send_read_data_and_status(task, result);
    erase_task(itt);
}

void Connection::send_read_data_and_status(ScsiTask& task, const scsi::CommandResult& result) {
    ITD_CHECK(result.data_in_bytes <= (task.read ? task.expected_length_bytes : 0));
    ITD_CHECK(result.data_in_view.empty() || result.data_in_view.size() == result.data_in_bytes);
    // Residuals (RFC 7143 11.4.5): what the CDB asked to move against what the initiator
    // expected to move.
    const std::uint64_t wanted = result.transfer_bytes;
    const std::uint64_t expected = task.expected_length_bytes;
    std::uint8_t residual_flags = 0;
    std::uint32_t residual = 0;
    if (wanted > expected) {
        residual_flags = flag::overflow;
        residual = static_cast<std::uint32_t>(std::min<std::uint64_t>(wanted - expected, UINT32_MAX));
    } else if (wanted < expected) {
        residual_flags = flag::underflow;
        residual = static_cast<std::uint32_t>(expected - wanted);
    }
    const bool status_in_data = result.status == scsi::Status::good && result.sense_bytes == 0;

    std::uint32_t data_sn = 0;
    const std::uint32_t total = result.data_in_bytes;
    // The Data-In PDUs borrow the read data (the task's buffer, or a memory volume's mapping);
    // its owner lives on with them after the task ends.
    const std::uint8_t* data = nullptr;
    std::shared_ptr<const void> data_owner;
    if (total > 0 && !result.data_in_view.empty()) {
        data = result.data_in_view.data();
        data_owner = result.data_in_owner;
    } else if (total > 0) {
        data = task.data_in.get();
        data_owner = std::move(task.data_in);
    }
    const std::uint32_t segment = params_.initiator_max_recv_data_segment_bytes;
    std::uint32_t burst_used = 0;
    for (std::uint32_t offset = 0; offset < total;) {
        const std::uint32_t length = std::min(segment, total - offset);
        const bool last = offset + length == total;
        burst_used += length;
        Pdu pdu;
        pdu.bhs.set_opcode(Opcode::data_in);
        std::uint8_t flags = 0;
        // F closes each Data-In sequence, which MaxBurstLength bounds (RFC 7143 11.7.1).
        if (last || burst_used + segment > params_.max_burst_bytes) {
            flags |= flag::final_bit;
            burst_used = 0;
        }
        pdu.bhs.set_lun(task.lun_field);
        pdu.bhs.set_itt(task.itt);
        pdu.bhs.set_ttt(kReservedTag);
        pdu.bhs.set_data_sn(data_sn++);
        pdu.bhs.set_buffer_offset(offset);
        if (last && status_in_data) {
            flags |= flag::status | residual_flags;
            pdu.bhs.set_byte3(static_cast<std::uint8_t>(result.status));
            pdu.bhs.set_residual_count(residual);
            fill_response_sns(pdu.bhs, true);
        } else {
            pdu.bhs.set_exp_cmd_sn(exp_cmd_sn_);
            pdu.bhs.set_max_cmd_sn(max_cmd_sn());
        }
        pdu.bhs.set_flags(flags);
        send_borrowed(pdu, std::span(data + offset, length), data_owner);
        offset += length;
    }
    if (total > 0 && status_in_data) return;

    Pdu response;
    response.bhs.set_opcode(Opcode::scsi_response);
    response.bhs.set_flags(flag::final_bit | residual_flags);
    response.bhs.set_byte2(0x00);  // command completed at target
    response.bhs.set_byte3(static_cast<std::uint8_t>(result.status));
    response.bhs.set_itt(task.itt);
    fill_response_sns(response.bhs, true);
    // ExpDataSN counts the Data-In and R2T PDUs sent for the command (RFC 7143 11.4.8).
    response.bhs.set_exp_data_sn(task.read ? data_sn : task.next_r2t_sn);
    response.bhs.set_residual_count(residual);
    if (result.sense_bytes > 0) {
        // RFC 7143 11.4.7: SenseLength, then the sense data.
        response.data.resize(2 + result.sense_bytes);
        store_be16(response.data.data(), result.sense_bytes);
        std::copy_n(result.sense.begin(), result.sense_bytes, response.data.begin() + 2);
    }
    send(std::move(response));
}

}  // namespace itd::iscsi
