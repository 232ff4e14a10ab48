// Reservations of one logical unit: persistent reservations (SPC-4 5.12) and SPC-2
// reservations (RESERVE/RELEASE, SPC-2 5.5). The handlers (spc_persistent_reserve.cpp,
// spc_reserve_release.cpp) decode CDBs and parameter lists; this class holds the state, decides
// each service action, and answers Target's dispatch whether a command conflicts.
//
// Persistent reservation state (SPC-4 5.12.7-5.12.11), per LU, keyed by I_T nexus:
//
//                REGISTER, REGISTER AND IGNORE EXISTING KEY (SARK != 0)
//   unregistered ─────────────────────────────────────────▶ registered(key)
//        ▲  ◀──── REGISTER(SARK=0), PREEMPT(key), CLEAR ─────┘   │   ▲
//        │                                         RESERVE(type) │   │ RELEASE(type)
//        │                                                       ▼   │
//        └──── REGISTER(SARK=0), PREEMPT(key), CLEAR ──────── holder(type)
//                   (the reservation ends with the holder's registration)
//   REGISTER AND MOVE: the reservation, and a registration, go to another nexus.
//
// For the ALL REGISTRANTS types every registered nexus is a holder (SPC-4 5.12.10), and the
// reservation ends when the last registration does.
//
// SPC-2 reservations: at most one nexus holds the LU; they end with RELEASE, a LU or target
// reset and the holder's I_T nexus loss. Persistent reservations survive all of those, and
// with APTPL=1 a restart too (pr_state_file.h). The two kinds exclude each other (SPC-4 5.12.3
// with CRH=0): RESERVE/RELEASE conflict while any registration exists, PERSISTENT RESERVE IN
// and OUT conflict while an SPC-2 reservation exists.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "scsi/command.h"
#include "scsi/reservation_rules.h"
#include "scsi/sense.h"
#include "scsi/spc_pr_out_params.h"
#include "scsi/unit_attention.h"

namespace itd::scsi {

// SPC-4 6.16.2 table 170: persistent reservation TYPE codes.
enum class PrType : std::uint8_t {
    write_exclusive = 0x1,
    exclusive_access = 0x3,
    write_exclusive_registrants_only = 0x5,
    exclusive_access_registrants_only = 0x6,
    write_exclusive_all_registrants = 0x7,
    exclusive_access_all_registrants = 0x8,
};

std::optional<PrType> pr_type_from_code(std::uint8_t code);
bool is_all_registrants(PrType type);
bool is_registrants_only(PrType type);

struct Registration {
    NexusId nexus = 0;
    std::uint64_t key = 0;  // never 0
    bool all_tg_pt = false;
    NexusNames names;
};

struct PersistentReservation {
    NexusId holder = 0;  // meaningless for the all-registrants types
    PrType type = PrType::write_exclusive;
};

struct PrState {
    std::uint32_t generation = 0;             // SPC-4 6.15.2 PRGENERATION
    std::vector<Registration> registrations;  // in the order they were made
    std::optional<PersistentReservation> reservation;
    bool aptpl = false;  // the last valid APTPL bit (SPC-4 5.12.5)
};

// One PERSISTENT RESERVE OUT, decoded and checked for CDB-level errors by the handler.
struct PrOutCommand {
    PrOutAction action = PrOutAction::register_key;
    std::optional<PrType> type;  // RESERVE, RELEASE, PREEMPT, PREEMPT AND ABORT
    PrOutParameters params;
    // REGISTER AND MOVE: the destination I_T nexus the TransportID and relative target port name.
    std::optional<NexusId> move_to;
};

struct PrOutcome {
    SenseReason reason = SenseReason::none;
    std::optional<FieldPointer> field;
};

// Names an I_T nexus by its ports, creating the id if needed (Target::register_nexus).
using NexusResolver =
    std::function<NexusId(std::string_view initiator_port, std::string_view target_port)>;

class Reservations {
  public:
    // A bound on memory per LU (INSUFFICIENT REGISTRATION RESOURCES beyond it).
    static constexpr std::size_t kMaxRegistrations = 1024;

    // state_path empty: APTPL is not supported (PTPL_C=0, APTPL=1 refused).
    Reservations(UnitAttentions& unit_attentions, std::string state_path);

    // Whether the command rule describes, sent through nexus, conflicts with a reservation
    // another nexus holds (Target's dispatch, after unit attentions). Lock-free when the LU
    // has no reservation and no registration.
    bool conflicts(NexusId nexus, const ReservationRule& rule) const;

    // PERSISTENT RESERVE OUT (SPC-4 6.16) from nexus, whose port names are names. With APTPL
    // the state file is written (and fsynced) before this returns, under the lock: rare
    // commands pay for it, and conflicts() on this LU waits for the write.
    PrOutcome persistent_reserve_out(NexusId nexus, const NexusNames& names,
                                     const PrOutCommand& cmd);
    // A copy for PERSISTENT RESERVE IN.
    PrState snapshot() const;
    bool aptpl_supported() const { return !state_path_.empty(); }

    // RESERVE(6)/(10) (SPC-2 7.21): none or reservation_conflict.
    SenseReason reserve_spc2(NexusId nexus);
    // RELEASE(6)/(10) (SPC-2 7.17): releases the holder's reservation; from any other nexus it
    // does nothing (and is GOOD).
    void release_spc2(NexusId nexus);

    // LOGICAL UNIT RESET and target reset (SAM-5 6.3.3): SPC-2 reservations end.
    void reset();
    // I_T nexus loss (SAM-5 6.3.4): the nexus's SPC-2 reservation ends.
    void nexus_lost(NexusId nexus);

    // Loads the APTPL state file, if any (Target::restore_persistent_reservations). A file
    // that does not exist is no error; a corrupt one is (nothing is loaded).
    itd::Status restore(const NexusResolver& resolve);

  private:
    using UaList = std::vector<std::pair<NexusId, SenseReason>>;

    PrOutcome apply(PrState& next, NexusId nexus, const NexusNames& names, const PrOutCommand& cmd,
                    UaList& uas) const;
    itd::Status save(const PrState& state) const;
    void update_active();

    UnitAttentions& unit_attentions_;
    const std::string state_path_;
    mutable std::mutex mutex_;
    PrState state_;
    std::optional<NexusId> spc2_holder_;
    // Any registration, persistent reservation or SPC-2 reservation: when false, conflicts()
    // needs no lock.
    std::atomic<bool> active_{false};
};

}  // namespace itd::scsi
