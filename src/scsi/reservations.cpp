#include "scsi/reservations.h"

#include <algorithm>

#include "common/check.h"
#include "scsi/pr_state_file.h"

namespace itd::scsi {

std::optional<PrType> pr_type_from_code(std::uint8_t code) {
    switch (code) {
        case 0x1:
            return PrType::write_exclusive;
        case 0x3:
            return PrType::exclusive_access;
        case 0x5:
            return PrType::write_exclusive_registrants_only;
        case 0x6:
            return PrType::exclusive_access_registrants_only;
        case 0x7:
            return PrType::write_exclusive_all_registrants;
        case 0x8:
            return PrType::exclusive_access_all_registrants;
        default:
            return std::nullopt;
    }
}

bool is_all_registrants(PrType type) {
    return type == PrType::write_exclusive_all_registrants ||
           type == PrType::exclusive_access_all_registrants;
}

bool is_registrants_only(PrType type) {
    return type == PrType::write_exclusive_registrants_only ||
           type == PrType::exclusive_access_registrants_only;
}

namespace {

bool is_exclusive_access(PrType type) {
    switch (type) {
        case PrType::exclusive_access:
        case PrType::exclusive_access_registrants_only:
        case PrType::exclusive_access_all_registrants:
            return true;
        case PrType::write_exclusive:
        case PrType::write_exclusive_registrants_only:
        case PrType::write_exclusive_all_registrants:
            return false;
    }
    return true;
}

const Registration* find_registration(const PrState& s, NexusId nexus) {
    for (const Registration& r : s.registrations)
        if (r.nexus == nexus) return &r;
    return nullptr;
}

Registration* find_registration(PrState& s, NexusId nexus) {
    return const_cast<Registration*>(find_registration(std::as_const(s), nexus));
}

// SPC-4 5.12.10: the holder is the nexus that made the reservation, or for the all-registrants
// types every registered nexus.
bool is_holder(const PrState& s, NexusId nexus) {
    if (!s.reservation) return false;
    if (is_all_registrants(s.reservation->type)) return find_registration(s, nexus) != nullptr;
    return s.reservation->holder == nexus;
}

PrOutcome outcome(SenseReason reason) {
    return PrOutcome{reason, {}};
}

PrOutcome parameter_field(std::uint16_t byte, std::optional<std::uint8_t> bit = {}) {
    return PrOutcome{SenseReason::invalid_field_in_parameter_list, FieldPointer{false, byte, bit}};
}

constexpr PrOutcome kConflict{SenseReason::reservation_conflict, {}};
constexpr PrOutcome kGood{SenseReason::none, {}};

// Removes nexus's registration (REGISTER with SARK zero, SPC-4 5.12.7). A holder's reservation
// ends with it, except for the all-registrants types, which end with the last registration
// (SPC-4 5.12.11.2.2); a registrants-only reservation ending so tells every other registrant
// RESERVATIONS RELEASED.
void unregister(PrState& s, NexusId nexus, std::vector<std::pair<NexusId, SenseReason>>& uas) {
    std::erase_if(s.registrations, [&](const Registration& r) { return r.nexus == nexus; });
    if (!s.reservation) return;
    const PrType type = s.reservation->type;
    if (is_all_registrants(type)) {
        if (s.registrations.empty()) s.reservation.reset();
        return;
    }
    if (s.reservation->holder != nexus) return;
    s.reservation.reset();
    if (is_registrants_only(type)) {
        for (const Registration& r : s.registrations)
            uas.emplace_back(r.nexus, SenseReason::ua_reservations_released);
    }
}

// Removes every registration with key except the requester's; each removed nexus is told
// REGISTRATIONS PREEMPTED (SPC-4 5.12.11.4.4). Returns how many went.
std::size_t preempt_key(PrState& s, std::uint64_t key, NexusId requester,
                        std::vector<std::pair<NexusId, SenseReason>>& uas) {
    std::size_t removed = 0;
    std::erase_if(s.registrations, [&](const Registration& r) {
        if (r.key != key || r.nexus == requester) return false;
        uas.emplace_back(r.nexus, SenseReason::ua_registrations_preempted);
        ++removed;
        return true;
    });
    return removed;
}

StoredPrState to_stored(const PrState& s) {
    StoredPrState out;
    out.generation = s.generation;
    if (!s.aptpl) return out;  // SPC-4 5.12.5: APTPL=0: nothing survives a power loss
    for (const Registration& r : s.registrations)
        out.registrations.push_back(
            {r.key, r.all_tg_pt, r.names.initiator_port, r.names.target_port});
    if (s.reservation) {
        StoredReservation res;
        res.type = static_cast<std::uint8_t>(s.reservation->type);
        if (!is_all_registrants(s.reservation->type)) {
            for (std::size_t i = 0; i < s.registrations.size(); ++i)
                if (s.registrations[i].nexus == s.reservation->holder) res.holder = i;
            ITD_CHECK(res.holder.has_value());  // a holder is always registered
        }
        out.reservation = res;
    }
    return out;
}

}  // namespace

Reservations::Reservations(UnitAttentions& unit_attentions, std::string state_path)
    : unit_attentions_(unit_attentions), state_path_(std::move(state_path)) {}

void Reservations::update_active() {
    active_.store(spc2_holder_.has_value() || !state_.registrations.empty(),
                  std::memory_order_release);
}

bool Reservations::conflicts(NexusId nexus, const ReservationRule& rule) const {
    if (!active_.load(std::memory_order_acquire)) return false;
    std::lock_guard lock(mutex_);
    // SPC-2 5.5.1: a nexus other than the holder may send only the allowed commands. SPC-4
    // 5.12.3 (CRH=0): while an SPC-2 reservation exists, PERSISTENT RESERVE IN and OUT
    // conflict whichever nexus sends them.
    if (spc2_holder_) {
        if (rule.pr == PrAccess::persistent) return true;
        if (*spc2_holder_ != nexus && rule.spc2 == Spc2Access::conflict) return true;
    }
    // SPC-4 5.12.3 (CRH=0): while any registration exists, RESERVE and RELEASE conflict.
    if (rule.pr == PrAccess::spc2 && !state_.registrations.empty()) return true;
    if (!state_.reservation || is_holder(state_, nexus)) return false;
    // SPC-4 5.12.1 table 65, SBC-4 4.18: a nexus that does not hold the reservation.
    const PrType type = state_.reservation->type;
    const bool registered = find_registration(state_, nexus) != nullptr;
    switch (rule.pr) {
        case PrAccess::allowed:
        case PrAccess::persistent:
        case PrAccess::spc2:
            return false;
        case PrAccess::read:
            // Reads pass WRITE EXCLUSIVE of every kind; EXCLUSIVE ACCESS lets registrants read
            // only under the registrants-only and all-registrants types.
            if (!is_exclusive_access(type)) return false;
            return type == PrType::exclusive_access || !registered;
        case PrAccess::write:
            if (type == PrType::write_exclusive || type == PrType::exclusive_access) return true;
            return !registered;
    }
    return true;
}

PrState Reservations::snapshot() const {
    std::lock_guard lock(mutex_);
    return state_;
}

PrOutcome Reservations::persistent_reserve_out(NexusId nexus, const NexusNames& names,
                                               const PrOutCommand& cmd) {
    UaList uas;
    {
        std::lock_guard lock(mutex_);
        // SPC-4 5.12.3 (CRH=0): see conflicts(); checked again under the lock.
        if (spc2_holder_) return kConflict;
        PrState next = state_;
        const PrOutcome result = apply(next, nexus, names, cmd, uas);
        if (result.reason != SenseReason::none) return result;
        // SPC-4 5.12.5: with APTPL (now or until now) the state file follows every change; if
        // it cannot be written the command fails and nothing changes.
        if (!state_path_.empty() && (state_.aptpl || next.aptpl)) {
            if (!save(next)) return outcome(SenseReason::internal_target_failure);
        }
        state_ = std::move(next);
        update_active();
    }
    for (const auto& [target, ua] : uas) unit_attentions_.establish(target, ua);
    return kGood;
}

PrOutcome Reservations::apply(PrState& s, NexusId nexus, const NexusNames& names,
                              const PrOutCommand& cmd, UaList& uas) const {
    const PrOutParameters& p = cmd.params;
    Registration* reg = find_registration(s, nexus);
    switch (cmd.action) {
        case PrOutAction::register_key:
        case PrOutAction::register_and_ignore: {
            // SPC-4 6.16.3: APTPL=1 where persistence is not supported (PTPL_C=0).
            if (p.aptpl && !aptpl_supported()) return parameter_field(20, 0);
            const bool ignore = cmd.action == PrOutAction::register_and_ignore;
            if (reg == nullptr) {
                // SPC-4 5.12.7 table 50: an unregistered nexus must send RESERVATION KEY zero
                // (unless it ignores the existing key); SARK zero registers nothing.
                if (!ignore && p.reservation_key != 0) return kConflict;
                if (p.service_action_key == 0) return kGood;
                if (s.registrations.size() >= kMaxRegistrations)
                    return outcome(SenseReason::insufficient_registration_resources);
                s.registrations.push_back(
                    Registration{nexus, p.service_action_key, p.all_tg_pt, names});
            } else {
                // SPC-4 5.12.7 table 51: a registered nexus must name its key; SARK zero
                // unregisters, anything else replaces the key.
                if (!ignore && p.reservation_key != reg->key) return kConflict;
                if (p.service_action_key == 0) {
                    unregister(s, nexus, uas);
                } else {
                    reg->key = p.service_action_key;
                }
            }
            s.aptpl = p.aptpl;
            ++s.generation;
            return kGood;
        }
        case PrOutAction::reserve: {
            if (reg == nullptr || p.reservation_key != reg->key) return kConflict;
            ITD_CHECK(cmd.type.has_value());
            // SPC-4 5.12.9: a second RESERVE by the holder with the same type is GOOD and
            // changes nothing; any other RESERVE while a reservation exists conflicts.
            if (s.reservation) {
                if (is_holder(s, nexus) && s.reservation->type == *cmd.type) return kGood;
                return kConflict;
            }
            s.reservation = PersistentReservation{nexus, *cmd.type};
            return kGood;  // SPC-4 6.15.2: RESERVE does not change PRGENERATION
        }
        case PrOutAction::release: {
            if (reg == nullptr || p.reservation_key != reg->key) return kConflict;
            ITD_CHECK(cmd.type.has_value());
            // SPC-4 5.12.11.2: no reservation, or a nexus that does not hold it: GOOD, nothing.
            if (!s.reservation || !is_holder(s, nexus)) return kGood;
            if (s.reservation->type != *cmd.type)
                return outcome(SenseReason::invalid_release_of_persistent_reservation);
            const PrType type = s.reservation->type;
            s.reservation.reset();
            // SPC-4 5.12.11.2: releasing a registrants-only or all-registrants reservation
            // tells every other registrant RESERVATIONS RELEASED.
            if (type != PrType::write_exclusive && type != PrType::exclusive_access) {
                for (const Registration& r : s.registrations)
                    if (r.nexus != nexus)
                        uas.emplace_back(r.nexus, SenseReason::ua_reservations_released);
            }
            return kGood;
        }
        case PrOutAction::clear: {
            if (reg == nullptr || p.reservation_key != reg->key) return kConflict;
            // SPC-4 5.12.11.6: every registration and the reservation go; every other
            // registrant hears RESERVATIONS PREEMPTED.
            for (const Registration& r : s.registrations)
                if (r.nexus != nexus)
                    uas.emplace_back(r.nexus, SenseReason::ua_reservations_preempted);
            s.registrations.clear();
            s.reservation.reset();
            ++s.generation;
            return kGood;
        }
        case PrOutAction::preempt:
        case PrOutAction::preempt_and_abort: {
            // SPC-4 5.12.11.4, figure 11 (the preempt flowchart).
            if (reg == nullptr || p.reservation_key != reg->key) return kConflict;
            ITD_CHECK(cmd.type.has_value());
            const std::uint64_t sark = p.service_action_key;
            const bool sark_registered =
                std::any_of(s.registrations.begin(), s.registrations.end(),
                            [&](const Registration& r) { return r.key == sark; });
            if (s.reservation && is_all_registrants(s.reservation->type) && sark == 0) {
                // Preempting an all-registrants reservation with SARK zero removes every other
                // registration and makes the requester the holder of a reservation of the new
                // type.
                std::erase_if(s.registrations, [&](const Registration& r) {
                    if (r.nexus == nexus) return false;
                    uas.emplace_back(r.nexus, SenseReason::ua_registrations_preempted);
                    return true;
                });
                s.reservation = PersistentReservation{nexus, *cmd.type};
                ++s.generation;
                return kGood;
            }
            if (s.reservation && !is_all_registrants(s.reservation->type)) {
                const Registration* holder = find_registration(s, s.reservation->holder);
                ITD_CHECK(holder != nullptr);
                if (holder->key == sark) {
                    // SARK names the holder: the reservation is released, every other
                    // registration with that key removed (REGISTRATIONS PREEMPTED), and the
                    // requester holds a reservation of the new type; a changed type tells the
                    // remaining registrants RESERVATIONS RELEASED. A holder may preempt itself:
                    // it keeps its registration.
                    const PrType old_type = s.reservation->type;
                    preempt_key(s, sark, nexus, uas);
                    s.reservation = PersistentReservation{nexus, *cmd.type};
                    if (old_type != *cmd.type) {
                        for (const Registration& r : s.registrations)
                            if (r.nexus != nexus)
                                uas.emplace_back(r.nexus, SenseReason::ua_reservations_released);
                    }
                    ++s.generation;
                    return kGood;
                }
            }
            // SPC-4 5.12.11.4.4 (removing registrations): no reservation, or SARK names no
            // holder. Table 72: SARK zero under a reservation that is not all-registrants is
            // INVALID FIELD IN PARAMETER LIST; without a reservation zero names no registered
            // key, and a key nobody holds is RESERVATION CONFLICT (figure 9). Every
            // registration with the key goes, the requester's too (without a unit attention
            // for it).
            if (sark == 0 && s.reservation) return parameter_field(8);
            if (!sark_registered) return kConflict;
            std::erase_if(s.registrations, [&](const Registration& r) {
                if (r.key != sark) return false;
                if (r.nexus != nexus)
                    uas.emplace_back(r.nexus, SenseReason::ua_registrations_preempted);
                return true;
            });
            // An all-registrants reservation ends with its last registration.
            if (s.reservation && s.registrations.empty()) s.reservation.reset();
            ++s.generation;
            return kGood;
        }
        case PrOutAction::register_and_move: {
            // SPC-4 5.12.8 table 52: unregistered, or the wrong key: conflict; no reservation:
            // INVALID FIELD IN CDB; an all-registrants one, or one another nexus holds:
            // conflict; SARK zero from the holder: INVALID FIELD IN PARAMETER LIST.
            if (reg == nullptr || p.reservation_key != reg->key) return kConflict;
            if (!s.reservation) return PrOutcome{SenseReason::invalid_field_in_cdb, {}};
            if (is_all_registrants(s.reservation->type) || s.reservation->holder != nexus)
                return kConflict;
            if (p.service_action_key == 0) return parameter_field(8);
            if (p.aptpl && !aptpl_supported()) return parameter_field(17, 0);
            // VPD 83h: one target port, relative port 1.
            if (p.relative_target_port != 1) return parameter_field(18);
            // The handler names the destination only for a request that passes the checks
            // above; if the state changed in between, the request no longer holds.
            if (!cmd.move_to) return kConflict;
            const NexusId dest = *cmd.move_to;
            // The destination may not be the nexus the command came through.
            if (dest == nexus) return parameter_field(kPrOutBasicBytes);
            // SPC-4 5.12.8: the destination is registered with SARK, whether or not it was
            // registered before.
            if (Registration* existing = find_registration(s, dest)) {
                existing->key = p.service_action_key;
            } else {
                if (s.registrations.size() >= kMaxRegistrations)
                    return outcome(SenseReason::insufficient_registration_resources);
                s.registrations.push_back(
                    Registration{dest, p.service_action_key, false,
                                 NexusNames{p.move_to_initiator_port, names.target_port}});
            }
            s.reservation->holder = dest;
            if (p.unreg)
                std::erase_if(s.registrations,
                              [&](const Registration& r) { return r.nexus == nexus; });
            s.aptpl = p.aptpl;
            ++s.generation;
            return kGood;
        }
    }
    return outcome(SenseReason::invalid_field_in_cdb);
}

SenseReason Reservations::reserve_spc2(NexusId nexus) {
    std::lock_guard lock(mutex_);
    // SPC-2 7.21.2: a second RESERVE from the holder is GOOD; from anyone else a conflict.
    // SPC-4 5.12.3 (CRH=0): conflict while any registration exists.
    if (!state_.registrations.empty()) return SenseReason::reservation_conflict;
    if (spc2_holder_ && *spc2_holder_ != nexus) return SenseReason::reservation_conflict;
    spc2_holder_ = nexus;
    update_active();
    return SenseReason::none;
}

void Reservations::release_spc2(NexusId nexus) {
    std::lock_guard lock(mutex_);
    if (spc2_holder_ == nexus) spc2_holder_.reset();
    update_active();
}

void Reservations::reset() {
    std::lock_guard lock(mutex_);
    spc2_holder_.reset();
    update_active();
}

void Reservations::nexus_lost(NexusId nexus) {
    release_spc2(nexus);
}

itd::Status Reservations::save(const PrState& state) const {
    return write_state_file(state_path_, encode_pr_state(to_stored(state)));
}

itd::Status Reservations::restore(const NexusResolver& resolve) {
    if (state_path_.empty()) return {};
    auto text = read_state_file(state_path_);
    if (!text) {
        if (text.error().code == Errc::not_found) return {};
        return std::unexpected(text.error());
    }
    auto stored = decode_pr_state(*text);
    if (!stored) return fail(stored.error().code, state_path_ + ": " + stored.error().message);
    PrState next;
    next.generation = stored->generation;
    for (const StoredRegistration& r : stored->registrations) {
        const NexusId nexus = resolve(r.initiator_port, r.target_port);
        next.registrations.push_back(
            Registration{nexus, r.key, r.all_tg_pt, NexusNames{r.initiator_port, r.target_port}});
    }
    if (stored->reservation) {
        const auto type = pr_type_from_code(stored->reservation->type);
        ITD_CHECK(type.has_value());  // decode_pr_state checked it
        PersistentReservation res{0, *type};
        if (stored->reservation->holder)
            res.holder = next.registrations[*stored->reservation->holder].nexus;
        next.reservation = res;
    }
    // The file holds registrations only when APTPL was 1 when it was written.
    next.aptpl = !next.registrations.empty();
    std::lock_guard lock(mutex_);
    state_ = std::move(next);
    update_active();
    return {};
}

}  // namespace itd::scsi
