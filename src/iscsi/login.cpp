#include "iscsi/login.h"

#include <string>
#include <utility>

#include "common/check.h"

namespace itd::iscsi {

namespace {

// The only protocol version, RFC 7143's (11.12.4).
constexpr std::uint8_t kVersion = 0x00;

// During login neither side has declared MaxRecvDataSegmentLength in a way that binds the
// login responses, so they stay within the RFC 7143 13.12 default.
constexpr std::size_t kLoginResponseTextBytes = 8192;

LoginStatus from(NegotiationError e) {
    switch (e) {
        case NegotiationError::initiator_error: return login_status::initiator_error;
        case NegotiationError::session_type_not_supported:
            return login_status::session_type_not_supported;
    }
    return login_status::initiator_error;
}

LoginStatus from(SecurityError e) {
    switch (e) {
        case SecurityError::authentication_failure: return login_status::authentication_failure;
        case SecurityError::initiator_error: return login_status::initiator_error;
    }
    return login_status::initiator_error;
}

}  // namespace

Login::Login(LoginConfig cfg)
    : cfg_(std::move(cfg)), negotiator_(cfg_.limits), security_(cfg_.security) {
    ITD_CHECK(cfg_.bind_session != nullptr);
    ITD_CHECK(cfg_.cmd_window >= 1);
}

Stage Login::current_stage() const {
    switch (state_) {
        case State::start:
        case State::security: return Stage::security;
        case State::operational: return Stage::operational;
        case State::complete: return Stage::full_feature;
        case State::failed: return Stage::security;
    }
    return Stage::security;
}

Login::Reply Login::fail(LoginStatus status) const {
    Reply r;
    r.status = status;
    r.current = state_ == State::operational ? Stage::operational : Stage::security;
    return r;
}

Login::Step Login::on_request(const Pdu& request) {
    Reply reply = step(request);
    if (reply.status == login_status::success &&
        encode_text(reply.text).size() > kLoginResponseTextBytes) {
        // Only an initiator sending hundreds of unknown keys gets here; answering them over
        // several PDUs (C bit) is not worth it.
        reply = fail(login_status::initiator_error);
    }
    if (reply.status != login_status::success) state_ = State::failed;
    const Outcome outcome = state_ == State::failed     ? Outcome::failed
                            : state_ == State::complete ? Outcome::complete
                                                        : Outcome::in_progress;
    return Step{respond(request, reply), outcome};
}

std::optional<LoginStatus> Login::check_format(const Bhs& bhs) const {
    // RFC 7143 11.12: a Login Request is immediate and carries no AHS.
    if (bhs.opcode() != Opcode::login_request || !bhs.immediate() || bhs.total_ahs_words() != 0)
        return login_status::initiator_error;
    // RFC 7143 11.12.2: C=1 requires T=0.
    if (bhs.cont() && bhs.transit()) return login_status::initiator_error;
    // RFC 7143 11.12.3: stages 0, 1 and 3; 2 is reserved, and login cannot be *in* stage 3.
    if (bhs.csg() > 1) return login_status::initiator_error;
    // A transition goes forward, to the operational stage or to full feature phase.
    if (bhs.transit() && (bhs.nsg() <= bhs.csg() || bhs.nsg() == 2))
        return login_status::initiator_error;
    return std::nullopt;
}

std::optional<LoginStatus> Login::first_text_checks() const {
    const SessionParams& p = negotiator_.params();
    // RFC 7143 13.5: InitiatorName MUST be in the first Login Request of every connection;
    // 13.4: TargetName too, for a normal session.
    if (!negotiator_.received(KeyId::initiator_name)) return login_status::missing_parameter;
    if (p.session_type == SessionType::discovery) return std::nullopt;
    if (!negotiator_.received(KeyId::target_name)) return login_status::missing_parameter;
    if (cfg_.check_target) return cfg_.check_target(p.initiator_name, p.target_name);
    return std::nullopt;
}

Login::Reply Login::step(const Pdu& request) {
    const Bhs& bhs = request.bhs;
    if (state_ == State::complete || state_ == State::failed)
        return fail(login_status::initiator_error);  // nothing follows the last response
    if (auto bad = check_format(bhs)) return fail(*bad);

    if (state_ == State::start) {
        // RFC 7143 11.13.4: the first response carries the connection's starting StatSN; we
        // start where the initiator says it expects us to.
        stat_sn_ = bhs.exp_stat_sn();
        isid_ = bhs.isid();
        tsih_ = bhs.tsih();
        cid_ = bhs.cid();
        version_max_ = bhs.byte2();
        version_min_ = bhs.byte3();
        // RFC 7143 11.12.4: we speak version 0 only.
        if (version_min_ > kVersion) return fail(login_status::unsupported_version);
        state_ = bhs.csg() == 0 ? State::security : State::operational;
    } else {
        // The same login throughout: RFC 7143 11.12.4 (versions), 6.3 (ISID, TSIH, CID).
        if (bhs.byte2() != version_max_ || bhs.byte3() != version_min_ || bhs.isid() != isid_ ||
            bhs.tsih() != tsih_ || bhs.cid() != cid_)
            return fail(login_status::initiator_error);
        // No stage can be skipped or revisited without the target's T=1.
        if (bhs.csg() != static_cast<std::uint8_t>(current_stage()))
            return fail(login_status::initiator_error);
    }
    exp_cmd_sn_ = bhs.cmd_sn();

    auto text = text_.add(request.data, bhs.cont());
    if (!text) return fail(login_status::initiator_error);
    if (!*text) {
        // RFC 7143 6.1.1, 11.12.2: while the initiator sends C=1 the target answers each PDU
        // with an empty Login Response and keeps the stage.
        Reply r;
        r.current = current_stage();
        return r;
    }
    return negotiate(bhs, **text);
}

Login::Reply Login::negotiate(const Bhs& bhs, const std::vector<TextPair>& pairs) {
    Reply r;
    r.current = current_stage();
    // Offers we made in our last response must be answered in this request (RFC 7143 6.2).
    const bool offers_were_pending = negotiator_.offers_pending();
    if (auto n = negotiator_.on_request(pairs, r.current, r.text); !n) return fail(from(n.error()));
    if (offers_were_pending && negotiator_.offers_pending())
        return fail(login_status::initiator_error);

    if (!first_text_done_) {
        first_text_done_ = true;
        if (auto refused = first_text_checks()) return fail(*refused);
        // Which credentials apply depends on the target named (or on discovery), so the
        // security stage is set up only now, before it reads any security key.
        if (cfg_.security_for) security_ = SecurityNegotiation(cfg_.security_for(negotiator_.params()));
        // RFC 7143 6.3.1: an initiator that starts in the operational stage skips
        // authentication, which a target with CHAP credentials must not allow.
        if (r.current != Stage::security && security_.requires_authentication())
            return fail(login_status::authentication_failure);
    }
    if (r.current == Stage::security) {
        if (auto s = security_.on_request(pairs, r.text); !s) return fail(from(s.error()));
        // Asked to leave the stage without ever choosing an AuthMethod the target requires:
        // answering T=0 would only loop, so the login fails as unauthenticated.
        if (bhs.transit() && security_.never_started() && security_.requires_authentication())
            return fail(login_status::authentication_failure);
    }
    if (!tpgt_sent_) {
        // RFC 7143 13.9: the target returns its portal group tag in the first Login Response.
        tpgt_sent_ = true;
        r.text.push_back(TextPair{"TargetPortalGroupTag", std::to_string(cfg_.target_portal_group_tag)});
    }
    bool ready = true;
    switch (r.current) {
        case Stage::security: ready = security_.complete(); break;
        case Stage::operational: ready = !negotiator_.target_keys(r.text); break;
        case Stage::full_feature: ITD_CHECK(false && "no requests after full feature"); break;
    }
    // RFC 7143 6.3: the target may transit only when the initiator asked to (T=1) and it has
    // nothing left to settle in this stage; else it answers T=0 and the initiator goes on.
    if (!bhs.transit() || !ready) return r;
    return leave_stage(bhs, std::move(r));
}

Login::Reply Login::leave_stage(const Bhs& bhs, Reply r) {
    r.transit = true;
    r.next = static_cast<Stage>(bhs.nsg());
    if (r.next == Stage::operational) {
        state_ = State::operational;
        return r;
    }
    // Full feature phase: bind to a session first, so the final response carries the TSIH.
    auto bound = cfg_.bind_session(negotiator_.params(), isid_, tsih_, cid_);
    if (!bound) return fail(bound.error());
    tsih_ = *bound;
    state_ = State::complete;
    return r;
}

Pdu Login::respond(const Pdu& request, const Reply& reply) {
    const Bhs& req = request.bhs;
    Pdu out;
    Bhs& b = out.bhs;
    b.set_opcode(Opcode::login_response);
    const bool ok = reply.status == login_status::success;
    const bool transit = ok && reply.transit;
    b.set_flags(static_cast<std::uint8_t>((transit ? flag::transit : 0) |
                                          (static_cast<std::uint8_t>(reply.current) << 2) |
                                          (transit ? static_cast<std::uint8_t>(reply.next) : 0)));
    // RFC 7143 11.13: Version-max, then Version-active.
    b.set_byte2(kVersion);
    b.set_byte3(kVersion);
    b.set_isid(req.isid());
    // RFC 7143 11.13.3: the new TSIH only in the final response; else echo the initiator's.
    b.set_tsih(state_ == State::complete ? tsih_ : req.tsih());
    b.set_itt(req.itt());
    // RFC 7143 11.13.4: each response, the login's included, takes the next StatSN.
    b.set_stat_sn(stat_sn_++);
    b.set_exp_cmd_sn(exp_cmd_sn_);
    b.set_max_cmd_sn(exp_cmd_sn_ + cfg_.cmd_window - 1);
    b.set_login_status(reply.status.status_class, reply.status.status_detail);
    if (ok) out.data = encode_text(reply.text);
    return out;
}

}  // namespace itd::iscsi
