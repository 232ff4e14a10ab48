// Why a command did not complete with GOOD status, and the one table that turns each reason into
// a status and sense data (STYLE #8). Handlers say `return SenseReason::invalid_field_in_cdb;`
// and never spell a sense key, ASC or ASCQ themselves.
#pragma once

#include <cstdint>
#include <optional>

#include "scsi/command.h"

namespace itd::scsi {

enum class SenseReason : std::uint8_t {
    none,  // GOOD status
    invalid_opcode,
    invalid_field_in_cdb,
    lba_out_of_range,
    parameter_list_length_error,
    invalid_field_in_parameter_list,
    invalid_field_in_command_iu,
    saving_parameters_not_supported,
    lun_not_supported,
    write_protected,
    unrecovered_read_error,
    write_error,
    medium_error,
    not_ready,
    // A removable LU's medium was ejected (START STOP UNIT, medium.h): NOT READY, MEDIUM NOT
    // PRESENT (3Ah/00h) for every command that needs it.
    medium_not_present,
    // An eject or load while some nexus prevents medium removal (SBC-4 5.25): ILLEGAL REQUEST,
    // MEDIUM REMOVAL PREVENTED (53h/02h).
    medium_removal_prevented,
    internal_target_failure,
    // VERIFY, WRITE AND VERIFY, COMPARE AND WRITE found other data on the medium: MISCOMPARE,
    // MISCOMPARE DURING VERIFY OPERATION (SBC-4 5.3, 5.33), with the offset of the first
    // differing byte in INFORMATION.
    miscompare_during_verify,
    // A sanitize operation runs on the LU (SBC-4 4.11.2): NOT READY, LOGICAL UNIT NOT READY,
    // SANITIZE IN PROGRESS (04h/1Bh), with the progress indication when SenseDetail has one.
    sanitize_in_progress,
    // The last sanitize operation failed (SBC-4 4.11.4): MEDIUM ERROR, SANITIZE COMMAND FAILED
    // (31h/03h), until a sanitize succeeds or EXIT FAILURE MODE ends it.
    sanitize_failed,
    // The transport could not collect the write data (an iSCSI DataSN or offset out of
    // sequence): ABORTED COMMAND, DATA PHASE ERROR (SPC-4 4.5.6, 4Bh/00h).
    data_phase_error,
    // EXTENDED COPY (SPC-4 6.4): errors in the parameter list found before any segment is
    // processed are ILLEGAL REQUEST; TOO MANY / UNSUPPORTED ... DESCRIPTOR(S) (26h/06h-09h),
    // INLINE DATA LENGTH EXCEEDED (26h/0Bh), OPERATION IN PROGRESS for a LIST IDENTIFIER
    // still in use (00h/16h), INSUFFICIENT RESOURCES for too many concurrent copies (55h/03h).
    too_many_target_descriptors,
    unsupported_target_descriptor_type,
    too_many_segment_descriptors,
    unsupported_segment_descriptor_type,
    inline_data_length_exceeded,
    operation_in_progress,
    insufficient_resources,
    // SPC-4 6.4: errors met while processing segments are COPY ABORTED, with a field pointer
    // into the parameter list (segment pointer, SPC-4 4.5.2.4): the segment cannot be done
    // as written (00h/00h, e.g. its blocks lie outside a copy target), UNREACHABLE COPY TARGET
    // (08h/04h: no such CSCD descriptor), COPY TARGET DEVICE NOT REACHABLE (0Dh/02h: no LU
    // has that designator), INCORRECT COPY TARGET DEVICE TYPE (0Dh/03h), UNEXPECTED INEXACT
    // SEGMENT (26h/0Ah), THIRD PARTY DEVICE FAILURE (0Dh/01h: a copy target's I/O failed).
    copy_aborted,
    copy_target_unreachable,
    copy_target_not_reachable,
    copy_target_incorrect_type,
    unexpected_inexact_segment,
    copy_target_failure,
    // Another I_T nexus's reservation excludes the command (SPC-4 5.12, SPC-2 5.5.1): status
    // RESERVATION CONFLICT, no sense data.
    reservation_conflict,
    // PERSISTENT RESERVE OUT RELEASE with another TYPE than the reservation's (SPC-4 5.12.11.2):
    // ILLEGAL REQUEST, INVALID RELEASE OF PERSISTENT RESERVATION.
    invalid_release_of_persistent_reservation,
    // No room for another registration (SPC-4 5.12.7): ILLEGAL REQUEST, INSUFFICIENT
    // REGISTRATION RESOURCES.
    insufficient_registration_resources,
    // Unit attention conditions (SPC-4 5.14 / SAM-5 5.14).
    ua_power_on,
    ua_bus_device_reset,
    ua_capacity_changed,
    ua_mode_parameters_changed,
    ua_reported_luns_changed,
    // NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED: another nexus loaded the medium.
    ua_medium_may_have_changed,
    ua_reservations_preempted,    // SPC-4 5.12.11.4
    ua_reservations_released,     // SPC-4 5.12.11.2
    ua_registrations_preempted,   // SPC-4 5.12.11.4
};

// SPC-4 4.5.2.4.2 / 4.5.3: the sense-key specific field of ILLEGAL REQUEST names the first byte
// (and bit) of the CDB or parameter list that was wrong. It is cheap to fill and tells an
// initiator's log exactly which field we rejected.
struct FieldPointer {
    bool in_cdb = true;           // C/D bit: CDB (1) or parameter list (0)
    std::uint16_t byte = 0;       // byte offset
    std::optional<std::uint8_t> bit;  // bit position, when known
};

// Extra detail some reasons carry.
struct SenseDetail {
    std::optional<FieldPointer> field;
    std::optional<std::uint64_t> information;  // the INFORMATION field (e.g. the failing LBA)
    // SPC-4 4.5.2.4.4 progress indication (0..65535 of the way through) for NOT READY.
    std::optional<std::uint16_t> progress;
};

struct SenseCode {
    Status status;
    std::uint8_t key;
    std::uint8_t asc;
    std::uint8_t ascq;
};

// The table row for a reason (SPC-4 4.5.6 for the codes).
SenseCode sense_code(SenseReason reason);

const char* to_string(SenseReason reason);

// Fixed-format sense data is 18 bytes: response code 70h, additional sense length 10 (SPC-4
// 4.5.3). libiscsi and Linux both parse it; we never send descriptor format (D_SENSE=0).
inline constexpr std::size_t kFixedSenseBytes = 18;

// Writes fixed-format sense for reason into out (at least kFixedSenseBytes long); returns the
// number of bytes written.
std::size_t build_fixed_sense(SenseReason reason, const SenseDetail& detail, std::uint8_t* out);

// Sets result.status and, for CHECK CONDITION, result.sense from the table. reason none leaves
// the result GOOD.
void apply_sense(SenseReason reason, const SenseDetail& detail, CommandResult& result);

// Whether reason is a unit attention condition.
bool is_unit_attention(SenseReason reason);

}  // namespace itd::scsi
