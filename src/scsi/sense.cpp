#include "scsi/sense.h"

#include <algorithm>

#include "common/check.h"
#include "common/endian.h"

namespace itd::scsi {

namespace {

// SPC-4 4.5.6 sense keys.
constexpr std::uint8_t kNoSense = 0x0;
constexpr std::uint8_t kNotReady = 0x2;
constexpr std::uint8_t kMediumError = 0x3;
constexpr std::uint8_t kHardwareError = 0x4;
constexpr std::uint8_t kIllegalRequest = 0x5;
constexpr std::uint8_t kUnitAttention = 0x6;
constexpr std::uint8_t kDataProtect = 0x7;
constexpr std::uint8_t kCopyAborted = 0xa;
constexpr std::uint8_t kAbortedCommand = 0xb;
constexpr std::uint8_t kMiscompare = 0xe;

constexpr Status kCheck = Status::check_condition;

}  // namespace

// The one table (STYLE #8). A switch over our own enum without default: a new reason that has
// no row here does not compile with -Wswitch -Werror.
SenseCode sense_code(SenseReason reason) {
    switch (reason) {
        case SenseReason::none: return {Status::good, kNoSense, 0x00, 0x00};
        // INVALID COMMAND OPERATION CODE
        case SenseReason::invalid_opcode: return {kCheck, kIllegalRequest, 0x20, 0x00};
        // INVALID FIELD IN CDB
        case SenseReason::invalid_field_in_cdb: return {kCheck, kIllegalRequest, 0x24, 0x00};
        // LOGICAL BLOCK ADDRESS OUT OF RANGE
        case SenseReason::lba_out_of_range: return {kCheck, kIllegalRequest, 0x21, 0x00};
        // PARAMETER LIST LENGTH ERROR
        case SenseReason::parameter_list_length_error:
            return {kCheck, kIllegalRequest, 0x1a, 0x00};
        // INVALID FIELD IN PARAMETER LIST
        case SenseReason::invalid_field_in_parameter_list:
            return {kCheck, kIllegalRequest, 0x26, 0x00};
        // INVALID FIELD IN COMMAND INFORMATION UNIT (what libiscsi's residual tests accept for a
        // write whose data is shorter than its CDB asks for; see sbc_read_write.cpp)
        case SenseReason::invalid_field_in_command_iu:
            return {kCheck, kIllegalRequest, 0x0e, 0x03};
        // SAVING PARAMETERS NOT SUPPORTED
        case SenseReason::saving_parameters_not_supported:
            return {kCheck, kIllegalRequest, 0x39, 0x00};
        // LOGICAL UNIT NOT SUPPORTED
        case SenseReason::lun_not_supported: return {kCheck, kIllegalRequest, 0x25, 0x00};
        // WRITE PROTECTED
        case SenseReason::write_protected: return {kCheck, kDataProtect, 0x27, 0x00};
        // UNRECOVERED READ ERROR
        case SenseReason::unrecovered_read_error: return {kCheck, kMediumError, 0x11, 0x00};
        // WRITE ERROR
        case SenseReason::write_error: return {kCheck, kMediumError, 0x0c, 0x00};
        // NO ADDITIONAL SENSE INFORMATION under MEDIUM ERROR (e.g. a failed flush)
        case SenseReason::medium_error: return {kCheck, kMediumError, 0x00, 0x00};
        // LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE: initiators retry it, which is what a
        // transient backend error (Errc::unavailable) wants.
        case SenseReason::not_ready: return {kCheck, kNotReady, 0x04, 0x00};
        // MEDIUM NOT PRESENT
        case SenseReason::medium_not_present: return {kCheck, kNotReady, 0x3a, 0x00};
        // MEDIUM REMOVAL PREVENTED
        case SenseReason::medium_removal_prevented:
            return {kCheck, kIllegalRequest, 0x53, 0x02};
        // INTERNAL TARGET FAILURE
        case SenseReason::internal_target_failure: return {kCheck, kHardwareError, 0x44, 0x00};
        case SenseReason::data_phase_error: return {kCheck, kAbortedCommand, 0x4b, 0x00};
        // LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS
        case SenseReason::sanitize_in_progress: return {kCheck, kNotReady, 0x04, 0x1b};
        // SANITIZE COMMAND FAILED
        case SenseReason::sanitize_failed: return {kCheck, kMediumError, 0x31, 0x03};
        case SenseReason::miscompare_during_verify: return {kCheck, kMiscompare, 0x1d, 0x00};
        case SenseReason::too_many_target_descriptors:
            return {kCheck, kIllegalRequest, 0x26, 0x06};
        case SenseReason::unsupported_target_descriptor_type:
            return {kCheck, kIllegalRequest, 0x26, 0x07};
        case SenseReason::too_many_segment_descriptors:
            return {kCheck, kIllegalRequest, 0x26, 0x08};
        case SenseReason::unsupported_segment_descriptor_type:
            return {kCheck, kIllegalRequest, 0x26, 0x09};
        case SenseReason::inline_data_length_exceeded:
            return {kCheck, kIllegalRequest, 0x26, 0x0b};
        case SenseReason::operation_in_progress: return {kCheck, kIllegalRequest, 0x00, 0x16};
        case SenseReason::insufficient_resources: return {kCheck, kIllegalRequest, 0x55, 0x03};
        case SenseReason::copy_aborted: return {kCheck, kCopyAborted, 0x00, 0x00};
        case SenseReason::copy_target_unreachable: return {kCheck, kCopyAborted, 0x08, 0x04};
        case SenseReason::copy_target_not_reachable: return {kCheck, kCopyAborted, 0x0d, 0x02};
        case SenseReason::copy_target_incorrect_type: return {kCheck, kCopyAborted, 0x0d, 0x03};
        case SenseReason::unexpected_inexact_segment: return {kCheck, kCopyAborted, 0x26, 0x0a};
        case SenseReason::copy_target_failure: return {kCheck, kCopyAborted, 0x0d, 0x01};
        case SenseReason::reservation_conflict:
            return {Status::reservation_conflict, kNoSense, 0x00, 0x00};
        case SenseReason::invalid_release_of_persistent_reservation:
            return {kCheck, kIllegalRequest, 0x26, 0x04};
        case SenseReason::insufficient_registration_resources:
            return {kCheck, kIllegalRequest, 0x55, 0x04};
        // POWER ON, RESET, OR BUS DEVICE RESET OCCURRED
        case SenseReason::ua_power_on: return {kCheck, kUnitAttention, 0x29, 0x00};
        // BUS DEVICE RESET FUNCTION OCCURRED (SAM-5 5.14: after a LOGICAL UNIT RESET)
        case SenseReason::ua_bus_device_reset: return {kCheck, kUnitAttention, 0x29, 0x03};
        // CAPACITY DATA HAS CHANGED
        case SenseReason::ua_capacity_changed: return {kCheck, kUnitAttention, 0x2a, 0x09};
        // MODE PARAMETERS CHANGED
        case SenseReason::ua_mode_parameters_changed:
            return {kCheck, kUnitAttention, 0x2a, 0x01};
        // REPORTED LUNS DATA HAS CHANGED
        case SenseReason::ua_reported_luns_changed: return {kCheck, kUnitAttention, 0x3f, 0x0e};
        // NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED (SPC-4 5.14)
        case SenseReason::ua_medium_may_have_changed:
            return {kCheck, kUnitAttention, 0x28, 0x00};
        case SenseReason::ua_reservations_preempted: return {kCheck, kUnitAttention, 0x2a, 0x03};
        case SenseReason::ua_reservations_released: return {kCheck, kUnitAttention, 0x2a, 0x04};
        case SenseReason::ua_registrations_preempted:
            return {kCheck, kUnitAttention, 0x2a, 0x05};
    }
    ITD_CHECK(false);
    return {};
}

const char* to_string(SenseReason reason) {
    switch (reason) {
        case SenseReason::none: return "none";
        case SenseReason::invalid_opcode: return "invalid opcode";
        case SenseReason::invalid_field_in_cdb: return "invalid field in CDB";
        case SenseReason::lba_out_of_range: return "LBA out of range";
        case SenseReason::parameter_list_length_error: return "parameter list length error";
        case SenseReason::invalid_field_in_parameter_list:
            return "invalid field in parameter list";
        case SenseReason::invalid_field_in_command_iu: return "invalid field in command IU";
        case SenseReason::saving_parameters_not_supported:
            return "saving parameters not supported";
        case SenseReason::lun_not_supported: return "LUN not supported";
        case SenseReason::write_protected: return "write protected";
        case SenseReason::unrecovered_read_error: return "unrecovered read error";
        case SenseReason::write_error: return "write error";
        case SenseReason::medium_error: return "medium error";
        case SenseReason::not_ready: return "not ready";
        case SenseReason::medium_not_present: return "medium not present";
        case SenseReason::medium_removal_prevented: return "medium removal prevented";
        case SenseReason::internal_target_failure: return "internal target failure";
        case SenseReason::data_phase_error: return "data phase error";
        case SenseReason::sanitize_in_progress: return "sanitize in progress";
        case SenseReason::sanitize_failed: return "sanitize failed";
        case SenseReason::miscompare_during_verify: return "miscompare during verify";
        case SenseReason::too_many_target_descriptors: return "too many target descriptors";
        case SenseReason::unsupported_target_descriptor_type:
            return "unsupported target descriptor type code";
        case SenseReason::too_many_segment_descriptors: return "too many segment descriptors";
        case SenseReason::unsupported_segment_descriptor_type:
            return "unsupported segment descriptor type code";
        case SenseReason::inline_data_length_exceeded: return "inline data length exceeded";
        case SenseReason::operation_in_progress: return "operation in progress";
        case SenseReason::insufficient_resources: return "insufficient resources";
        case SenseReason::copy_aborted: return "copy aborted";
        case SenseReason::copy_target_unreachable: return "unreachable copy target";
        case SenseReason::copy_target_not_reachable: return "copy target device not reachable";
        case SenseReason::copy_target_incorrect_type: return "incorrect copy target device type";
        case SenseReason::unexpected_inexact_segment: return "unexpected inexact segment";
        case SenseReason::copy_target_failure: return "third party device failure";
        case SenseReason::reservation_conflict: return "reservation conflict";
        case SenseReason::invalid_release_of_persistent_reservation:
            return "invalid release of persistent reservation";
        case SenseReason::insufficient_registration_resources:
            return "insufficient registration resources";
        case SenseReason::ua_power_on: return "UA: power on";
        case SenseReason::ua_bus_device_reset: return "UA: bus device reset";
        case SenseReason::ua_capacity_changed: return "UA: capacity changed";
        case SenseReason::ua_mode_parameters_changed: return "UA: mode parameters changed";
        case SenseReason::ua_reported_luns_changed: return "UA: reported LUNs changed";
        case SenseReason::ua_medium_may_have_changed: return "UA: medium may have changed";
        case SenseReason::ua_reservations_preempted: return "UA: reservations preempted";
        case SenseReason::ua_reservations_released: return "UA: reservations released";
        case SenseReason::ua_registrations_preempted: return "UA: registrations preempted";
    }
    return "unknown";
}

bool is_unit_attention(SenseReason reason) {
    return sense_code(reason).key == kUnitAttention;
}

std::size_t build_fixed_sense(SenseReason reason, const SenseDetail& detail, std::uint8_t* out) {
    const SenseCode code = sense_code(reason);
    std::fill_n(out, kFixedSenseBytes, std::uint8_t{0});
    // SPC-4 4.5.3 table 45. Response code 70h: current error; VALID (bit 7) says the
    // INFORMATION field holds something.
    out[0] = 0x70;
    if (detail.information) {
        out[0] |= 0x80;
        // The field is four bytes; an LBA that does not fit is left out (descriptor format
        // would carry it, and nobody relies on it for out-of-range errors).
        if (*detail.information <= 0xffffffffu) {
            store_be32(out + 3, static_cast<std::uint32_t>(*detail.information));
        } else {
            out[0] &= 0x7f;
        }
    }
    out[2] = code.key;
    out[7] = static_cast<std::uint8_t>(kFixedSenseBytes - 8);  // additional sense length: 10
    out[12] = code.asc;
    out[13] = code.ascq;
    // SPC-4 4.5.2.4.2 field pointer: SKSV, C/D, BPV and bit pointer in byte 15, field pointer
    // in bytes 16-17. Only meaningful for ILLEGAL REQUEST, and for COPY ABORTED, where the same
    // bytes are a segment pointer (SPC-4 4.5.2.4: bit 6 reserved, SD (bit 5) zero: the
    // pointer counts from the start of the parameter list, which in_cdb = false gives).
    if (detail.field && (code.key == kIllegalRequest || code.key == kCopyAborted)) {
        std::uint8_t b = 0x80;  // SKSV
        if (detail.field->in_cdb) b |= 0x40;
        if (detail.field->bit) b |= 0x08 | (*detail.field->bit & 0x07);
        out[15] = b;
        store_be16(out + 16, detail.field->byte);
    }
    // SPC-4 4.5.2.4.4 progress indication: SKSV and a 16-bit fraction, for NOT READY (a
    // sanitize or format in progress) and NO SENSE (REQUEST SENSE while one runs).
    if (detail.progress && (code.key == kNotReady || code.key == kNoSense)) {
        out[15] = 0x80;
        store_be16(out + 16, *detail.progress);
    }
    return kFixedSenseBytes;
}

void apply_sense(SenseReason reason, const SenseDetail& detail, CommandResult& result) {
    const SenseCode code = sense_code(reason);
    result.status = code.status;
    result.sense_bytes = 0;
    if (code.status == Status::check_condition) {
        result.sense_bytes =
            static_cast<std::uint8_t>(build_fixed_sense(reason, detail, result.sense.data()));
    }
}

}  // namespace itd::scsi
