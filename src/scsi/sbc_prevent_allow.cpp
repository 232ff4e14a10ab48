// PREVENT ALLOW MEDIUM REMOVAL (SBC-4 5.10): each I_T nexus prevents or allows the removal of
// the medium for itself; START STOP UNIT refuses to eject (or load) while any nexus prevents
// it (medium.h). A prevention also ends with its nexus and on a logical unit reset.
#include "scsi/command_table.h"
#include "scsi/lun.h"

namespace itd::scsi {

SenseReason handle_prevent_allow(TaskPtr& task) {
    Task& t = *task;
    const std::uint8_t prevent = t.cdb()[4] & 0x03;
    // SBC-4 5.10 table: 00b allows removal, 01b prevents it, 10b and 11b are obsolete (they
    // named medium changer ports).
    if (prevent > 1) return t.invalid_cdb_field(4, 1);
    // On a non-removable LU the state is kept all the same: it has no effect there (nothing can
    // eject the medium), and the command is not an error (SBC-4 5.10 makes no exception).
    t.lu->medium().set_prevent(t.nexus, prevent == 1);
    return SenseReason::none;
}

}  // namespace itd::scsi
