#include "scsi/volume_errors.h"

namespace itd::scsi {

SenseReason sense_for_volume_error(const Error& error, IoKind kind) {
    switch (error.code) {
        case Errc::unavailable:
        case Errc::conflict:
            // Transient: NOT READY makes initiators retry the command.
            return SenseReason::not_ready;
        case Errc::io_error:
            switch (kind) {
                case IoKind::read: return SenseReason::unrecovered_read_error;
                case IoKind::write: return SenseReason::write_error;
                case IoKind::flush: return SenseReason::medium_error;
            }
            return SenseReason::medium_error;
        case Errc::out_of_range:
            // The SCSI core checks ranges first; a backend that disagrees (a volume that shrank
            // underneath us) gets the answer an initiator understands.
            return SenseReason::lba_out_of_range;
        case Errc::failed_precondition:
            // e.g. a thin volume whose lease was lost: writes must fail, loudly.
            return kind == IoKind::read ? SenseReason::unrecovered_read_error
                                        : SenseReason::write_error;
        case Errc::invalid_argument:
        case Errc::not_found: return SenseReason::internal_target_failure;
    }
    return SenseReason::internal_target_failure;
}

}  // namespace itd::scsi
