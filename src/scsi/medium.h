// The medium of a removable logical unit (RMB=1, SPC-4 6.6.2): loaded or ejected by START STOP
// UNIT (SBC-4 5.25), and held in by PREVENT ALLOW MEDIUM REMOVAL (SBC-4 5.10), which each I_T
// nexus sets for itself.
//
//            LOEJ=1 START=0, no nexus prevents removal
//   loaded ───────────────────────────────────────────▶ ejected
//     ▲ ◀─────────────────────────────────────────────────┘
//     │      LOEJ=1 START=1, no nexus prevents removal
//   (start)
//
// While ejected, commands that need the medium get NOT READY, MEDIUM NOT PRESENT (the
// dispatcher asks present()). A prevention ends when its nexus says ALLOW, when the nexus is
// lost (SAM-5 6.3.4) and on a logical unit reset (SAM-5 6.3.3); the medium stays as it is.
// A non-removable LU always has its medium: it never enters the ejected state.
#pragma once

#include <atomic>
#include <expected>
#include <mutex>
#include <set>

#include "scsi/command.h"
#include "scsi/sense.h"

namespace itd::scsi {

class MediumState {
public:
    enum class Change : std::uint8_t { none, loaded, ejected };

    // Whether the medium is there (always, until an eject).
    bool present() const { return present_.load(std::memory_order_acquire); }

    // LOEJ=1: load (load=true) or eject the medium, unless some nexus prevents its removal
    // (SBC-4 5.25: MEDIUM REMOVAL PREVENTED; libiscsi's PreventAllow.Eject expects a load to be
    // refused the same way). Loading a loaded medium, or ejecting an ejected one, is no change.
    std::expected<Change, SenseReason> load_or_eject(bool load);

    // PREVENT ALLOW MEDIUM REMOVAL from nexus: prevent=true holds the medium in.
    void set_prevent(NexusId nexus, bool prevent);
    // Whether any nexus prevents removal.
    bool removal_prevented() const;

    // I_T nexus loss: that nexus's prevention ends.
    void nexus_lost(NexusId nexus);
    // Logical unit reset: every prevention ends.
    void reset();

private:
    mutable std::mutex mutex_;
    std::set<NexusId> preventing_;   // under mutex_
    std::atomic<bool> present_{true};  // written under mutex_, read without it
};

}  // namespace itd::scsi
