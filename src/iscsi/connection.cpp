#include "iscsi/connection.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "common/check.h"
#include "iscsi/sn.h"
#include "iscsi/text.h"

namespace itd::iscsi {

namespace {

// Reject reasons (RFC 7143 11.17.1).
constexpr std::uint8_t kRejectDataDigest = 0x02;
constexpr std::uint8_t kRejectProtocolError = 0x04;
constexpr std::uint8_t kRejectCommandNotSupported = 0x05;

std::string initiator_port_name(std::string_view initiator, std::uint64_t isid) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ",i,0x%012" PRIx64, isid);
    return std::string(initiator) + suffix;
}

std::string target_port_name(std::string_view target, std::uint16_t tpgt) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, ",t,0x%04x", tpgt);
    return std::string(target) + suffix;
}

}  // namespace

Connection::Connection(PortalGroup& portal_group, CommandRunner& runner)
    : portal_group_(portal_group), runner_(runner) {
    // During login the limits are the RFC's defaults (MaxRecvDataSegmentLength 8192 both
    // ways, no digests: RFC 7143 13.12).
    reader_.set_limits(PduReader::Limits{});
    reader_.set_placement([this](const Bhs& bhs) { return data_out_placement(bhs); });
}

Connection::~Connection() {
    // With one connection per session and error recovery level 0, the connection's end is the
    // session's, and so the I_T nexus's (SAM-5 6.3.4). A reinstated session's nexus loss was
    // reported when it was replaced.
    if (session_ && portal_group_.sessions.remove(session_.get()) &&
        session_->type == SessionType::normal && target_ != nullptr) {
        target_->scsi->nexus_lost(session_->nexus);
    }
}

bool Connection::has_running_commands() const { return running_ > 0; }

void Connection::take_output(std::vector<OutputChunk>& into, Digests digests) {
    if (digests == Digests::computed) {
        for (auto& chunk : output_) finish_data_digest(chunk);
    }
    if (into.empty()) {
        std::swap(into, output_);  // the two vectors trade their room
    } else {
        std::move(output_.begin(), output_.end(), std::back_inserter(into));
    }
    output_.clear();
}

std::vector<OutputChunk> Connection::take_output() {
    std::vector<OutputChunk> out;
    take_output(out);
    return out;
}

void Connection::close() { phase_ = Phase::closing; }

void Connection::receive(std::span<const std::uint8_t> bytes) {
    while (!bytes.empty() && phase_ != Phase::closing) {
        auto consumed = reader_.feed(bytes);
        if (!consumed) {
            on_framing_error(consumed.error());
            if (phase_ == Phase::closing) return;
            bytes = bytes.subspan(reader_.last_feed_bytes());
            continue;
        }
        bytes = bytes.subspan(*consumed);
        if (reader_.has_pdu()) handle_pdu(reader_.take());
    }
}

void Connection::on_framing_error(FramingError error) {
    // A PDU we cannot frame. A data digest error leaves the stream in step, so the PDU is
    // rejected and the connection goes on (RFC 7143 7.8); anything else means we no longer
    // know where the next PDU starts.
    if (error == FramingError::data_digest_mismatch) {
        send_reject(reader_.last_header(), kRejectDataDigest);
        return;
    }
    close_reason_ = to_string(error);
    phase_ = Phase::closing;
}

std::span<std::uint8_t> Connection::receive_window() const {
    if (phase_ == Phase::closing) return {};
    return reader_.placement_window();
}

void Connection::received_in_place(std::size_t n) {
    if (phase_ == Phase::closing) return;
    if (auto ok = reader_.placed(n); !ok) return on_framing_error(ok.error());
    if (reader_.has_pdu()) handle_pdu(reader_.take());
}

void Connection::handle_pdu(Pdu pdu) {
    switch (phase_) {
        case Phase::login: handle_login_pdu(pdu); return;
        case Phase::full_feature: handle_full_feature_pdu(std::move(pdu)); return;
        case Phase::closing: return;
    }
}

// ---- Login -----------------------------------------------------------------------------

LoginConfig Connection::login_config() {
    LoginConfig cfg;
    cfg.limits = portal_group_.limits;
    cfg.target_portal_group_tag = portal_group_.target_portal_group_tag;
    cfg.cmd_window = portal_group_.cmd_window;
    cfg.check_target = [this](std::string_view initiator_name, std::string_view target_name)
        -> std::optional<LoginStatus> {
        const TargetEntry* target = portal_group_.find_target(target_name);
        if (!target) return login_status::target_not_found;
        // RFC 7143 11.13.5: 0x0202, the initiator is not allowed access to this target.
        if (!acl_allows(target->allow, initiator_name, peer_address_))
            return login_status::authorization_failure;
        return std::nullopt;
    };
    cfg.security_for = [this](const SessionParams& params) -> SecurityConfig {
        if (params.session_type == SessionType::discovery) return portal_group_.discovery_security;
        // check_target ran first and refused unknown names, so the target exists.
        const TargetEntry* target = portal_group_.find_target(params.target_name);
        ITD_CHECK(target != nullptr);
        return target->security;
    };
    cfg.bind_session = [this](const SessionParams& params, std::uint64_t isid,
                              std::uint16_t tsih,
                              std::uint16_t) -> std::expected<std::uint16_t, LoginStatus> {
        if (tsih != 0) {
            // Adding a connection to a session: we offer MaxConnections=1 and error recovery
            // level 0, so there is no session a second connection could join.
            if (!portal_group_.sessions.find(tsih, params.initiator_name, isid))
                return std::unexpected(login_status::session_does_not_exist);
            return std::unexpected(login_status::too_many_connections);
        }
        auto session = std::make_shared<Session>();
        session->isid = isid;
        session->initiator_name = params.initiator_name;
        session->type = params.session_type;
        session->close = close_hook_;
        if (session->type == SessionType::normal) {
            target_ = portal_group_.find_target(params.target_name);
            if (!target_) return std::unexpected(login_status::target_not_found);
            session->target_name = target_->name;
            session->nexus = target_->scsi->register_nexus(
                initiator_port_name(params.initiator_name, isid),
                target_port_name(target_->name, portal_group_.target_portal_group_tag));
        }
        session_ = std::move(session);
        if (auto replaced = portal_group_.sessions.bind_new(session_);
            replaced && replaced->type == SessionType::normal) {
            // Reinstatement ends the old session's nexus before the new one issues a command.
            if (const TargetEntry* old = portal_group_.find_target(replaced->target_name))
                old->scsi->nexus_lost(replaced->nexus);
        }
        return session_->tsih;
    };
    return cfg;
}

void Connection::handle_login_pdu(const Pdu& pdu) {
    if (pdu.bhs.opcode() != Opcode::login_request) {
        // RFC 7143 6.2: only Login Requests before the login completes.
        phase_ = Phase::closing;
        return;
    }
    if (!login_) login_ = std::make_unique<Login>(login_config());
    Login::Step step = login_->on_request(pdu);
    send(std::move(step.response));
    switch (step.outcome) {
        case Login::Outcome::in_progress: return;
        case Login::Outcome::failed: phase_ = Phase::closing; return;
        case Login::Outcome::complete: break;
    }
    params_ = login_->params();
    stat_sn_ = login_->next_stat_sn();
    exp_cmd_sn_ = login_->exp_cmd_sn();
    last_max_cmd_sn_ = exp_cmd_sn_ + portal_group_.cmd_window - 1;
    login_.reset();
    phase_ = Phase::full_feature;
    // Digests and the negotiated segment limit apply from the first PDU after the final
    // login response (RFC 7143 13.1).
    reader_.set_limits(PduReader::Limits{
        .max_data_segment_bytes = params_.target_max_recv_data_segment_bytes,
        .header_digest = params_.header_digest,
        .data_digest = params_.data_digest,
    });
}

// ---- Full feature phase: ordering -------------------------------------------------------

bool Connection::in_window(std::uint32_t cmd_sn) {
    return !sn_lt(cmd_sn, exp_cmd_sn_) && !sn_gt(cmd_sn, max_cmd_sn());
}

void Connection::handle_full_feature_pdu(Pdu pdu) {
    const Bhs& bhs = pdu.bhs;
    const bool discovery = params_.session_type == SessionType::discovery;
    switch (bhs.opcode_raw()) {
        case static_cast<std::uint8_t>(Opcode::data_out):
            if (discovery) return protocol_error(bhs, kRejectProtocolError);
            handle_data_out(pdu);
            reader_.recycle(std::move(pdu.data));
            return;
        case static_cast<std::uint8_t>(Opcode::snack_request):
            // SNACK needs error recovery level 1 or more; we negotiate 0 (RFC 7143 11.16).
            send_reject(bhs, kRejectProtocolError);
            return;
        case static_cast<std::uint8_t>(Opcode::scsi_command):
        case static_cast<std::uint8_t>(Opcode::task_mgmt_request):
            // RFC 7143 4.3: a discovery session carries only text, NOP and logout.
            if (discovery) {
                send_reject(bhs, kRejectProtocolError);
                return;
            }
            break;
        case static_cast<std::uint8_t>(Opcode::nop_out):
        case static_cast<std::uint8_t>(Opcode::text_request):
        case static_cast<std::uint8_t>(Opcode::logout_request):
            break;
        case static_cast<std::uint8_t>(Opcode::login_request):
            // A login in full feature phase is a protocol error (RFC 7143 6.2).
            return protocol_error(bhs, kRejectProtocolError);
        default:
            send_reject(bhs, kRejectCommandNotSupported);
            return;
    }

    const bool immediate = bhs.immediate();
    // RFC 7143 4.2.2.1: non-immediate commands outside [ExpCmdSN, MaxCmdSN] are silently
    // ignored, and so are duplicates.
    if (!immediate && !in_window(bhs.cmd_sn())) return;
    if (!immediate && bhs.cmd_sn() != exp_cmd_sn_) {
        for (const auto& q : out_of_order_)
            if (q.pdu.bhs.cmd_sn() == bhs.cmd_sn()) return;
    }
    bool valid = true;
    if (bhs.opcode() == Opcode::scsi_command) {
        valid = create_task(pdu);
        reader_.recycle(std::move(pdu.data));  // copied into the task: the header is enough now
    }
    if (phase_ == Phase::closing) return;

    if (immediate) {
        if (valid) deliver(Queued{std::move(pdu), true});
        return;
    }
    if (bhs.cmd_sn() == exp_cmd_sn_) {
        ++exp_cmd_sn_;
        deliver(Queued{std::move(pdu), valid});
        deliver_in_order();
    } else {
        out_of_order_.push_back(Queued{std::move(pdu), valid});
    }
}

void Connection::deliver_in_order() {
    bool progress = true;
    while (progress && phase_ != Phase::closing) {
        progress = false;
        for (auto it = out_of_order_.begin(); it != out_of_order_.end(); ++it) {
            if (it->pdu.bhs.cmd_sn() != exp_cmd_sn_) continue;
            Queued next = std::move(*it);
            out_of_order_.erase(it);
            ++exp_cmd_sn_;
            deliver(std::move(next));
            progress = true;
            break;
        }
    }
}

void Connection::deliver(Queued queued) {
    if (!queued.valid) return;
    const Pdu& pdu = queued.pdu;
    switch (pdu.bhs.opcode()) {
        case Opcode::scsi_command: {
            auto it = tasks_.find(pdu.bhs.itt());
            if (it != tasks_.end()) start_task(*it->second);
            return;
        }
        case Opcode::nop_out: handle_nop_out(pdu); return;
        case Opcode::text_request: handle_text(pdu); return;
        case Opcode::logout_request: handle_logout(pdu); return;
        case Opcode::task_mgmt_request: handle_task_management(pdu); return;
        default: ITD_CHECK(false && "only ordered opcodes are queued");
    }
}

// ---- Full feature phase: NOP, Text, Logout ----------------------------------------------

void Connection::handle_nop_out(const Pdu& pdu) {
    // ITT 0xffffffff: an answer to our NOP-In, or a ping that wants no reply (RFC 7143 11.18).
    if (pdu.bhs.itt() == kReservedTag) return;
    Pdu reply = response_pdu(Opcode::nop_in, pdu.bhs.itt());
    reply.bhs.set_lun(pdu.bhs.lun());
    reply.bhs.set_ttt(kReservedTag);
    fill_response_sns(reply.bhs, true);
    // The ping data comes back as it came (it is already bounded by our receive limit, and the
    // initiator's limit is at least 512; trim to it to be safe).
    const std::size_t echo = std::min<std::size_t>(
        pdu.data.size(), params_.initiator_max_recv_data_segment_bytes);
    reply.data.assign(pdu.data.begin(), pdu.data.begin() + static_cast<std::ptrdiff_t>(echo));
    send(std::move(reply));
}

void Connection::handle_text(const Pdu& pdu) {
    Pdu reply = response_pdu(Opcode::text_response, pdu.bhs.itt());
    reply.bhs.set_lun(pdu.bhs.lun());
    reply.bhs.set_ttt(kReservedTag);

    auto pairs = parse_text(pdu.data);
    if (!pairs) return send_reject(pdu.bhs, kRejectProtocolError);
    std::vector<TextPair> answer;
    for (const auto& kv : *pairs) {
        if (kv.key == "SendTargets") {
            std::vector<TargetRecord> records;
            for (const auto& t : portal_group_.targets) {
                if (params_.session_type == SessionType::normal &&
                    (!target_ || t.name != target_->name))
                    continue;
                // A discovery session lists only the targets this initiator may log in to.
                if (!acl_allows(t.allow, params_.initiator_name, peer_address_)) continue;
                TargetRecord record{t.name, t.addresses};
                if (record.addresses.empty() && !local_address_.empty())
                    record.addresses.push_back(
                        local_address_ + "," +
                        std::to_string(portal_group_.target_portal_group_tag));
                records.push_back(std::move(record));
            }
            auto bytes = send_targets(kv.value, records,
                                      params_.session_type == SessionType::discovery);
            reply.data.insert(reply.data.end(), bytes.begin(), bytes.end());
        } else {
            // Full-feature renegotiation is not offered: every other key is answered as not
            // understood, which RFC 7143 6.2 allows the target to do.
            answer.push_back(TextPair{kv.key, "NotUnderstood"});
        }
    }
    auto more = encode_text(answer);
    reply.data.insert(reply.data.end(), more.begin(), more.end());
    if (reply.data.size() > params_.initiator_max_recv_data_segment_bytes) {
        // Text continuation across PDUs is not implemented; SendTargets for a handful of
        // targets fits in 8 KiB by a wide margin.
        return send_reject(pdu.bhs, kRejectProtocolError);
    }
    fill_response_sns(reply.bhs, true);
    send(std::move(reply));
}

void Connection::handle_logout(const Pdu& pdu) {
    Pdu reply = response_pdu(Opcode::logout_response, pdu.bhs.itt());
    // Response 0: closed successfully. With one connection per session, closing the
    // connection and closing the session come to the same thing (RFC 7143 11.14-15).
    reply.bhs.set_byte2(0x00);
    reply.bhs.set_time2wait(0);
    reply.bhs.set_time2retain(0);
    fill_response_sns(reply.bhs, true);
    send(std::move(reply));
    phase_ = Phase::closing;
}

// ---- Sending ------------------------------------------------------------------------------

std::uint32_t Connection::max_cmd_sn() {
    // The window shrinks by every command we hold (queued, collecting data or running), so the
    // initiator can never have more than cmd_window of them with us (DESIGN.md "Threading":
    // a full queue pushes back through MaxCmdSN). MaxCmdSN never moves backwards.
    const std::size_t held = tasks_.size() + out_of_order_.size();
    const std::int64_t open = static_cast<std::int64_t>(portal_group_.cmd_window) -
                              static_cast<std::int64_t>(held);
    std::uint32_t max = exp_cmd_sn_ + static_cast<std::uint32_t>(std::max<std::int64_t>(open, 0)) - 1;
    if (sn_lt(max, last_max_cmd_sn_)) max = last_max_cmd_sn_;
    last_max_cmd_sn_ = max;
    return max;
}

void Connection::fill_response_sns(Bhs& bhs, bool advance_stat_sn) {
    bhs.set_stat_sn(stat_sn_);
    if (advance_stat_sn) ++stat_sn_;
    bhs.set_exp_cmd_sn(exp_cmd_sn_);
    bhs.set_max_cmd_sn(max_cmd_sn());
}

void Connection::send(Pdu pdu) {
    output_.push_back(serialize_chunk(pdu, params_.header_digest, params_.data_digest));
}

void Connection::send_borrowed(const Pdu& pdu, std::span<const std::uint8_t> data,
                               const std::shared_ptr<const void>& owner) {
    output_.push_back(
        serialize_borrowed(pdu, data, owner, params_.header_digest, params_.data_digest));
}

void Connection::send_reject(const Bhs& rejected, std::uint8_t reason) {
    Pdu reply = response_pdu(Opcode::reject, kReservedTag);
    reply.bhs.set_byte2(reason);
    fill_response_sns(reply.bhs, true);
    // RFC 7143 11.17: the data segment carries the rejected PDU's header.
    auto raw = rejected.bytes();
    reply.data.assign(raw.begin(), raw.end());
    send(std::move(reply));
}

void Connection::protocol_error(const Bhs& bhs, std::uint8_t reason) {
    // At error recovery level 0 a broken sequence cannot be repaired: reject and close, which
    // fails the session's commands at the initiator (RFC 7143 7.1.4, 7.12).
    send_reject(bhs, reason);
    phase_ = Phase::closing;
}

}  // namespace itd::iscsi
