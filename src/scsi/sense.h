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
    // Unit attention conditions (SPC-4 5.14 / SAM-5 5.14).
    ua_power_on,
    ua_bus_device_reset,
    ua_capacity_changed,
    ua_mode_parameters_changed,
    ua_reported_luns_changed,
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
