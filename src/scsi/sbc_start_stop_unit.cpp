// START STOP UNIT (SBC-4 5.25): loads and ejects the medium of a removable LU (medium.h).
//
// Power conditions are not modelled: a RAM or file LU has no spindle, so it is always in the
// active power condition and always able to access its medium. A POWER CONDITION other than
// 0h (START_VALID) is accepted and, as SBC-4 5.25 says, makes the device server ignore START
// and LOEJ; moving to the power condition we are already in is not an error (SBC-4 5.25).
// START=0 with LOEJ=0 asks for the stopped power condition; we write the cache back as a
// disk does before it spins down (unless NO_FLUSH) and stay ready: libiscsi's
// StartStopUnit.NoLoej expects TEST UNIT READY to pass afterwards, as LIO and tgt do.
#include <memory>

#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

namespace {

// SBC-4 5.25 table: the POWER CONDITION MODIFIER values each POWER CONDITION allows.
bool modifier_allowed(std::uint8_t power_condition, std::uint8_t modifier) {
    switch (power_condition) {
        case 0x2:  // IDLE_A, IDLE_B, IDLE_C
        case 0xa:  // FORCE_IDLE_A .. FORCE_IDLE_C
            return modifier <= 2;
        case 0x3:  // STANDBY_Z, STANDBY_Y
        case 0xb:  // FORCE_STANDBY_Z, FORCE_STANDBY_Y
            return modifier <= 1;
        default: return modifier == 0;
    }
}

}  // namespace

SenseReason handle_start_stop_unit(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const bool immed = (cdb[1] & 0x01) != 0;
    const std::uint8_t modifier = cdb[3] & 0x0f;
    const std::uint8_t power_condition = cdb[4] >> 4;
    const bool no_flush = (cdb[4] & 0x04) != 0;
    const bool loej = (cdb[4] & 0x02) != 0;
    const bool start = (cdb[4] & 0x01) != 0;
    LogicalUnit& lu = *t.lu;

    if (!modifier_allowed(power_condition, modifier)) return t.invalid_cdb_field(3, 3);
    // SBC-4 5.25: POWER CONDITION other than 0h: START and LOEJ are ignored. Reserved values
    // are accepted too (libiscsi's StartStopUnit.PwrCnd sends every value 1h..Fh and expects
    // GOOD with the medium left in place).
    if (power_condition != 0) return SenseReason::none;

    bool flush = !start && !no_flush;  // stopping, or ejecting: write the cache back first
    if (loej) {
        // A fixed medium cannot be loaded or ejected.
        if (!lu.removable()) return t.invalid_cdb_field(4, 1);
        auto change = lu.medium().load_or_eject(start);
        if (!change) return change.error();
        if (*change == MediumState::Change::loaded) {
            // SPC-4 5.14: the other nexuses learn that the medium may not be the one they saw.
            lu.unit_attentions().establish_for_others(SenseReason::ua_medium_may_have_changed,
                                                      t.nexus);
        }
        // Ejecting an ejected medium has nothing left to write back.
        if (*change == MediumState::Change::none) flush = false;
    }
    if (!flush) return SenseReason::none;

    if (immed) {
        // SBC-4 5.25: IMMED=1 returns status once the CDB is validated; the write-back goes on.
        start_background_flush(lu);
        return SenseReason::none;
    }
    finish_after_flush(std::move(task));
    return SenseReason::none;
}

}  // namespace itd::scsi
