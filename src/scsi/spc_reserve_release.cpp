// RESERVE(6)/(10) and RELEASE(6)/(10): SPC-2 reservations (SPC-2 7.21, 7.17; obsolete in
// SPC-4 but still sent by initiators and clusters). Third-party reservations and extents are
// not supported: their CDB bits are unused in the command table (INVALID FIELD IN CDB).
// Which other commands conflict is Target's dispatch (reservation_rules.h).
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/reservations.h"

namespace itd::scsi {

SenseReason handle_reserve(TaskPtr& task) {
    return task->lu->reservations().reserve_spc2(task->nexus);
}

SenseReason handle_release(TaskPtr& task) {
    // SPC-2 7.17.1: a RELEASE from a nexus that holds no reservation is GOOD and does nothing.
    task->lu->reservations().release_spc2(task->nexus);
    return SenseReason::none;
}

}  // namespace itd::scsi
