// REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.37). The SCSI core does not carry task
// management itself: the transport does (iSCSI: src/iscsi/connection_tmf.cpp, RFC 7143 11.5),
// so this reports what that layer answers with "function complete" rather than "function not
// supported":
//   ABORT TASK, ABORT TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET: yes;
//   TARGET RESET (TRS): yes, as iSCSI's TARGET WARM RESET and TARGET COLD RESET;
//   WAKEUP (WAKES, obsolete): no;
//   CLEAR ACA: no (we have no ACA: NACA=1 is refused in every CDB);
//   QUERY TASK, QUERY TASK SET, QUERY ASYNCHRONOUS EVENT: no (RFC 7143 has no function codes
//   for them); I_T NEXUS RESET: no.
// Keep this in step with connection_tmf.cpp.
#include <array>

#include "common/endian.h"
#include "scsi/command_table.h"

namespace itd::scsi {

namespace {

// SPC-4 6.37.2 byte 0.
constexpr std::uint8_t kAts = 0x80;   // ABORT TASK
constexpr std::uint8_t kAtss = 0x40;  // ABORT TASK SET
constexpr std::uint8_t kCtss = 0x10;  // CLEAR TASK SET
constexpr std::uint8_t kLurs = 0x08;  // LOGICAL UNIT RESET
constexpr std::uint8_t kTrs = 0x02;   // TARGET RESET

constexpr std::uint8_t kRepd = 0x80;  // CDB byte 2: return extended parameter data

}  // namespace

SenseReason handle_report_supported_tmfs(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const bool repd = (cdb[2] & kRepd) != 0;
    const std::uint32_t allocation_length = load_be32(&cdb[6]);
    // SPC-4 6.37.1: an ALLOCATION LENGTH below 4 is INVALID FIELD IN CDB.
    if (allocation_length < 4) return t.invalid_cdb_field(6);

    // SPC-4 6.37.2: 4 bytes, or 16 with REPD (the extended format, whose ADDITIONAL DATA
    // LENGTH is 0Ch). Its timeout fields stay zero: TMFTMOV=0, no timeouts reported.
    std::array<std::uint8_t, 16> data{};
    data[0] = kAts | kAtss | kCtss | kLurs | kTrs;
    data[1] = 0x00;  // QUAS, QTSS, ITNRS: none
    std::size_t size = 4;
    if (repd) {
        data[3] = 0x0c;
        size = 16;
    }
    t.send_data(std::span<const std::uint8_t>(data).first(size), allocation_length);
    return SenseReason::none;
}

}  // namespace itd::scsi
