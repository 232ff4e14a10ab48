// PERSISTENT RESERVE IN (SPC-4 6.15) and PERSISTENT RESERVE OUT (SPC-4 6.16). The CDB and the
// parameter list are decoded here (spc_pr_out_params.h); the state and the decisions are the
// LU's Reservations (reservations.h).
#include <vector>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/reservations.h"
#include "scsi/spc_pr_out_params.h"
#include "scsi/target.h"

namespace itd::scsi {

namespace {

// SPC-4 6.15.1 table 163: PERSISTENT RESERVE IN service actions.
constexpr std::uint8_t kReadKeys = 0x00;
constexpr std::uint8_t kReadReservation = 0x01;
constexpr std::uint8_t kReportCapabilities = 0x02;
constexpr std::uint8_t kReadFullStatus = 0x03;

// SPC-4 6.15.2: the header every service action but REPORT CAPABILITIES starts with.
std::vector<std::uint8_t> with_header(const PrState& s, std::size_t additional_bytes) {
    std::vector<std::uint8_t> data(8 + additional_bytes, 0);
    store_be32(&data[0], s.generation);
    store_be32(&data[4], static_cast<std::uint32_t>(additional_bytes));
    return data;
}

std::uint8_t scope_type(const PersistentReservation& r) {
    return static_cast<std::uint8_t>(r.type);  // SCOPE 0h: LU_SCOPE (SPC-4 6.15.3.2)
}

// SPC-4 6.15.3.2: for the all-registrants types the RESERVATION KEY field is zero.
std::uint64_t reservation_key(const PrState& s) {
    if (!s.reservation || is_all_registrants(s.reservation->type)) return 0;
    for (const Registration& r : s.registrations)
        if (r.nexus == s.reservation->holder) return r.key;
    return 0;
}

std::vector<std::uint8_t> read_keys(const PrState& s) {
    auto data = with_header(s, 8 * s.registrations.size());
    for (std::size_t i = 0; i < s.registrations.size(); ++i)
        store_be64(&data[8 + 8 * i], s.registrations[i].key);
    return data;
}

std::vector<std::uint8_t> read_reservation(const PrState& s) {
    if (!s.reservation) return with_header(s, 0);
    auto data = with_header(s, 16);
    store_be64(&data[8], reservation_key(s));
    data[8 + 13] = scope_type(*s.reservation);
    return data;
}

// SPC-4 6.15.4 table 166.
std::vector<std::uint8_t> report_capabilities(const PrState& s, bool aptpl_supported) {
    std::vector<std::uint8_t> data(8, 0);
    store_be16(&data[0], 8);  // LENGTH
    // CRH=0 (RESERVE/RELEASE conflict with registrations), SIP_C=0 (no SPEC_I_PT), ATP_C=1
    // (ALL_TG_PT: with one target port every registration is on all of them), PTPL_C.
    data[2] = static_cast<std::uint8_t>(0x04 | (aptpl_supported ? 0x01 : 0x00));
    // TMV=1; ALLOW COMMANDS 100b (SPC-4 table 208): TEST UNIT READY and RECEIVE COPY RESULTS
    // pass WRITE EXCLUSIVE and EXCLUSIVE ACCESS, MODE SENSE, READ BUFFER, REPORT SUPPORTED
    // OPERATION CODES, ... pass WRITE EXCLUSIVE (reservation_rules.cpp); PTPL_A: APTPL is in
    // effect.
    data[3] = static_cast<std::uint8_t>(0x80 | (0x4 << 4) | (s.aptpl ? 0x01 : 0x00));
    // PERSISTENT RESERVATION TYPE MASK: WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX; EX_AC_AR.
    data[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
    data[5] = 0x01;
    return data;
}

// SPC-4 6.15.5: one full status descriptor per registration.
std::vector<std::uint8_t> read_full_status(const PrState& s) {
    std::vector<std::uint8_t> descriptors;
    for (const Registration& r : s.registrations) {
        const auto tid = iscsi_port_transport_id(r.names.initiator_port);
        const std::size_t at = descriptors.size();
        descriptors.resize(at + 24 + tid.size(), 0);
        std::uint8_t* d = &descriptors[at];
        store_be64(d, r.key);
        const bool holder = s.reservation && (is_all_registrants(s.reservation->type) ||
                                              s.reservation->holder == r.nexus);
        d[12] = static_cast<std::uint8_t>((r.all_tg_pt ? 0x02 : 0x00) | (holder ? 0x01 : 0x00));
        if (holder) d[13] = scope_type(*s.reservation);
        // RELATIVE TARGET PORT IDENTIFIER (VPD 83h: port 1); 0 when ALL_TG_PT is set.
        store_be16(d + 18, r.all_tg_pt ? 0 : 1);
        store_be32(d + 20, static_cast<std::uint32_t>(tid.size()));
        std::copy(tid.begin(), tid.end(), d + 24);
    }
    auto data = with_header(s, descriptors.size());
    std::copy(descriptors.begin(), descriptors.end(), data.begin() + 8);
    return data;
}

bool uses_type(PrOutAction action) {
    switch (action) {
        case PrOutAction::reserve:
        case PrOutAction::release:
        case PrOutAction::preempt:
        case PrOutAction::preempt_and_abort:
            return true;
        case PrOutAction::register_key:
        case PrOutAction::clear:
        case PrOutAction::register_and_ignore:
        case PrOutAction::register_and_move:
            return false;
    }
    return false;
}

}  // namespace

SenseReason handle_persistent_reserve_in(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const std::uint32_t allocation_length = load_be16(&cdb[7]);
    const Reservations& reservations = t.lu->reservations();
    const PrState s = reservations.snapshot();
    std::vector<std::uint8_t> data;
    switch (cdb[1] & 0x1f) {
        case kReadKeys:
            data = read_keys(s);
            break;
        case kReadReservation:
            data = read_reservation(s);
            break;
        case kReportCapabilities:
            data = report_capabilities(s, reservations.aptpl_supported());
            break;
        case kReadFullStatus:
            data = read_full_status(s);
            break;
        default:
            return t.invalid_cdb_field(1, 4);  // the table has rows for 0..3 only
    }
    t.send_data(data, allocation_length);
    return SenseReason::none;
}

SenseReason handle_persistent_reserve_out(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    PrOutCommand cmd;
    cmd.action = static_cast<PrOutAction>(cdb[1] & 0x1f);  // rows exist for 0..7 only
    if (uses_type(cmd.action)) {
        // SPC-4 6.16.2: SCOPE other than LU_SCOPE, and TYPE codes table 170 does not list, are
        // INVALID FIELD IN CDB.
        if ((cdb[2] >> 4) != 0) return t.invalid_cdb_field(2, 7);
        cmd.type = pr_type_from_code(cdb[2] & 0x0f);
        if (!cmd.type) return t.invalid_cdb_field(2, 3);
    }
    const std::uint32_t list_length = load_be32(&cdb[5]);
    const auto list = t.data_out.first(std::min<std::size_t>(list_length, t.data_out.size()));
    auto params = parse_pr_out_parameters(cmd.action, list);
    if (!params) {
        t.detail.field = params.error().field;
        return params.error().reason;
    }
    cmd.params = std::move(*params);

    const auto names = t.target->nexus_names(t.nexus);
    if (!names) return SenseReason::internal_target_failure;  // the transport registers first
    Reservations& reservations = t.lu->reservations();
    if (cmd.action == PrOutAction::register_and_move) {
        // Naming the destination creates its I_T nexus id: only for a request that can
        // succeed (a registered holder), so that failing commands leave no ids behind.
        // The state machine gives the answer when it is not (move_to stays empty).
        const PrState s = reservations.snapshot();
        const bool holder = s.reservation && !is_all_registrants(s.reservation->type) &&
                            s.reservation->holder == t.nexus &&
                            reservation_key(s) == cmd.params.reservation_key &&
                            cmd.params.service_action_key != 0;
        if (holder) {
            cmd.move_to =
                t.target->register_nexus(cmd.params.move_to_initiator_port, names->target_port);
        }
    }
    const PrOutcome outcome = reservations.persistent_reserve_out(t.nexus, *names, cmd);
    t.detail.field = outcome.field;
    return outcome.reason;
}

}  // namespace itd::scsi
