// The one declarative command table (STYLE #7, after SCST's scst_scsi_op_table). Each row says
// everything generic about a command: its name, data direction, CDB length, where the LBA and
// the length sit, which CDB bits the device server uses (SPC-4 6.35.3 CDB USAGE DATA: a CDB
// with any other bit set is rejected with INVALID FIELD IN CDB), how it meets unit attentions,
// and its handler. Dispatch and REPORT SUPPORTED OPERATION CODES both read this table.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "scsi/sense.h"
#include "scsi/task.h"

namespace itd::scsi {

enum class DataDirection : std::uint8_t { none, in, out };

// What the length field counts.
enum class LengthKind : std::uint8_t {
    none,
    blocks,             // logical blocks (READ, WRITE, SYNCHRONIZE CACHE)
    blocks_zero_is_256, // READ(6)/WRITE(6): SBC-4 5.16: 0 means 256 blocks
    bytes,              // allocation or parameter list length
};

// How a command meets a pending unit attention, a LUN that does not exist (SAM-5 5.14,
// SPC-4 6.6.1 / 6.33 / 6.39) and an ejected medium (medium.h).
enum class LunAccess : std::uint8_t {
    normal,        // needs the LU; a pending UA is reported instead of running it; NOT READY,
                   // MEDIUM NOT PRESENT while a removable medium is ejected
    no_medium,     // as normal, but runs without the medium: the SPC commands that describe or
                   // control the LU (MODE SENSE/SELECT, START STOP UNIT, PREVENT ALLOW, ...)
    ua_exempt,     // INQUIRY, REPORT LUNS: run without the LU and without touching UAs
    request_sense, // REQUEST SENSE: returns a pending UA as its parameter data
};

// A field inside the CDB; size 0: absent.
struct CdbField {
    std::uint8_t offset = 0;
    std::uint8_t size = 0;
};

using Handler = SenseReason (*)(TaskPtr& task);

struct CommandSpec {
    std::uint8_t opcode;
    bool has_service_action;
    std::uint8_t service_action;  // CDB byte 1 bits 4..0, when has_service_action
    const char* name;
    DataDirection direction;
    std::uint8_t cdb_size;
    // Byte 0 is the opcode; for service-action commands byte 1 includes the service action bits.
    std::array<std::uint8_t, 16> usage;
    CdbField lba;
    CdbField length;
    LengthKind length_kind;
    LunAccess lun_access;
    Handler handler;
};

std::span<const CommandSpec> command_table();

// The row for opcode and (when the opcode has service actions) service action, or null.
const CommandSpec* find_command(std::uint8_t opcode, std::uint8_t service_action);
// Whether some row has this opcode (so an unknown service action is INVALID FIELD IN CDB, not
// INVALID COMMAND OPERATION CODE).
bool opcode_has_service_actions(std::uint8_t opcode);

// Reads an unsigned big-endian field of 1..8 bytes.
std::uint64_t load_field(std::span<const std::uint8_t> cdb, CdbField field);

// The first CDB bit set that spec does not use, as a field pointer (byte 0 never: the opcode).
std::optional<FieldPointer> find_unused_bits(const CommandSpec& spec,
                                             std::span<const std::uint8_t> cdb);

// Handlers, one file per concern.
SenseReason handle_inquiry(TaskPtr& task);              // spc_inquiry.cpp
SenseReason handle_test_unit_ready(TaskPtr& task);      // spc_misc.cpp
SenseReason handle_request_sense(TaskPtr& task);        // spc_misc.cpp
SenseReason handle_report_luns(TaskPtr& task);          // spc_misc.cpp
SenseReason handle_mode_sense(TaskPtr& task);           // spc_mode_sense.cpp
SenseReason handle_mode_select(TaskPtr& task);          // spc_mode_select.cpp
SenseReason handle_start_stop_unit(TaskPtr& task);      // sbc_start_stop_unit.cpp
SenseReason handle_prevent_allow(TaskPtr& task);        // sbc_prevent_allow.cpp
SenseReason handle_report_supported_opcodes(TaskPtr& task);  // spc_report_opcodes.cpp
SenseReason handle_read_capacity10(TaskPtr& task);      // sbc_capacity.cpp
SenseReason handle_read_capacity16(TaskPtr& task);      // sbc_capacity.cpp
SenseReason handle_read(TaskPtr& task);                 // sbc_read_write.cpp
SenseReason handle_write(TaskPtr& task);                // sbc_read_write.cpp
SenseReason handle_synchronize_cache(TaskPtr& task);    // sbc_sync_cache.cpp
SenseReason handle_unmap(TaskPtr& task);                 // sbc_unmap.cpp
SenseReason handle_write_same(TaskPtr& task);            // sbc_write_same.cpp
SenseReason handle_get_lba_status(TaskPtr& task);        // sbc_get_lba_status.cpp
SenseReason handle_verify(TaskPtr& task);                // sbc_verify.cpp
SenseReason handle_write_and_verify(TaskPtr& task);      // sbc_verify.cpp
SenseReason handle_prefetch(TaskPtr& task);              // sbc_prefetch.cpp
SenseReason handle_compare_and_write(TaskPtr& task);     // sbc_compare_and_write.cpp
SenseReason handle_orwrite(TaskPtr& task);               // sbc_orwrite.cpp
SenseReason handle_extended_copy(TaskPtr& task);         // spc_xcopy.cpp
SenseReason handle_receive_copy_results(TaskPtr& task);  // spc_receive_copy_results.cpp
SenseReason handle_persistent_reserve_in(TaskPtr& task);   // spc_persistent_reserve.cpp
SenseReason handle_persistent_reserve_out(TaskPtr& task);  // spc_persistent_reserve.cpp
SenseReason handle_reserve(TaskPtr& task);                 // spc_reserve_release.cpp
SenseReason handle_release(TaskPtr& task);                 // spc_reserve_release.cpp
SenseReason handle_read_defect_data(TaskPtr& task);      // sbc_read_defect_data.cpp
SenseReason handle_sanitize(TaskPtr& task);              // sbc_sanitize.cpp
SenseReason handle_write_atomic(TaskPtr& task);          // sbc_write_atomic.cpp
SenseReason handle_report_supported_tmfs(TaskPtr& task); // spc_report_tmfs.cpp

// SBC-4 4.11.2: what a running (or failed) sanitize operation makes of a command that is about
// to run (t.spec null: an opcode we do not know); none lets it run (sbc_sanitize.cpp).
SenseReason sanitize_gate(Task& t);
bool sanitize_running(LogicalUnit& lu);
// Whether the LU offers a row (REPORT SUPPORTED OPERATION CODES lists only those): SANITIZE
// BLOCK ERASE needs a thin LU (sbc_sanitize.cpp).
bool command_offered(const CommandSpec& spec, const LogicalUnit& lu);

}  // namespace itd::scsi
