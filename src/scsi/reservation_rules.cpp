#include "scsi/reservation_rules.h"

#include <iterator>

namespace itd::scsi {

namespace {

using P = PrAccess;
using S = Spc2Access;

// SPC-4 table 65 and SBC-4 table 13 (commands allowed in the presence of various reservations);
// REPORT CAPABILITIES' ALLOW COMMANDS field (100b) promises exactly the TEST UNIT READY,
// RECEIVE COPY RESULTS and "read" rows below. Rows for commands not implemented yet (MODE SELECT,
// SANITIZE, ...) are here so that the command, once added, meets reservations correctly.
constexpr ReservationRule kRules[] = {
    // clang-format off
    {0x00, -1, P::allowed, S::conflict},     // TEST UNIT READY (SPC-4: allowed under PRs)
    {0x03, -1, P::allowed, S::allowed},      // REQUEST SENSE
    {0x04, -1, P::write, S::conflict},       // FORMAT UNIT
    {0x08, -1, P::read, S::conflict},        // READ(6)
    {0x0a, -1, P::write, S::conflict},       // WRITE(6)
    {0x12, -1, P::allowed, S::allowed},      // INQUIRY
    {0x15, -1, P::write, S::conflict},       // MODE SELECT(6)
    {0x16, -1, P::spc2, S::conflict},        // RESERVE(6)
    {0x17, -1, P::spc2, S::allowed},         // RELEASE(6): GOOD, and nothing, from a non-holder
    {0x1a, -1, P::read, S::conflict},        // MODE SENSE(6)
    {0x1b, -1, P::write, S::conflict},       // START STOP UNIT
    {0x1e, -1, P::write, S::conflict},       // PREVENT ALLOW MEDIUM REMOVAL (SBC-4: conflicts
                                             // when PREVENT is set; we take it for either)
    {0x25, -1, P::allowed, S::allowed},      // READ CAPACITY(10)
    {0x28, -1, P::read, S::conflict},        // READ(10)
    {0x2a, -1, P::write, S::conflict},       // WRITE(10)
    {0x2e, -1, P::write, S::conflict},       // WRITE AND VERIFY(10)
    {0x2f, -1, P::read, S::conflict},        // VERIFY(10)
    {0x34, -1, P::read, S::conflict},        // PRE-FETCH(10)
    {0x35, -1, P::write, S::conflict},       // SYNCHRONIZE CACHE(10)
    {0x37, -1, P::read, S::conflict},        // READ DEFECT DATA(10)
    {0x3b, -1, P::write, S::conflict},       // WRITE BUFFER
    {0x3c, -1, P::read, S::conflict},        // READ BUFFER
    {0x41, -1, P::write, S::conflict},       // WRITE SAME(10)
    {0x42, -1, P::write, S::conflict},       // UNMAP
    {0x48, -1, P::write, S::conflict},       // SANITIZE
    {0x4c, -1, P::write, S::conflict},       // LOG SELECT
    {0x4d, -1, P::allowed, S::allowed},      // LOG SENSE
    {0x55, -1, P::write, S::conflict},       // MODE SELECT(10)
    {0x56, -1, P::spc2, S::conflict},        // RESERVE(10)
    {0x57, -1, P::spc2, S::allowed},         // RELEASE(10)
    {0x5a, -1, P::read, S::conflict},        // MODE SENSE(10)
    {0x5e, -1, P::persistent, S::conflict},  // PERSISTENT RESERVE IN
    {0x5f, -1, P::persistent, S::conflict},  // PERSISTENT RESERVE OUT
    {0x83, -1, P::write, S::conflict},       // EXTENDED COPY
    {0x84, -1, P::allowed, S::conflict},     // RECEIVE COPY RESULTS / DATA / STATUS
    {0x88, -1, P::read, S::conflict},        // READ(16)
    {0x89, -1, P::write, S::conflict},       // COMPARE AND WRITE
    {0x8a, -1, P::write, S::conflict},       // WRITE(16)
    {0x8b, -1, P::write, S::conflict},       // ORWRITE(16)
    {0x8e, -1, P::write, S::conflict},       // WRITE AND VERIFY(16)
    {0x8f, -1, P::read, S::conflict},        // VERIFY(16)
    {0x90, -1, P::read, S::conflict},        // PRE-FETCH(16)
    {0x91, -1, P::write, S::conflict},       // SYNCHRONIZE CACHE(16)
    {0x93, -1, P::write, S::conflict},       // WRITE SAME(16)
    {0x9c, -1, P::write, S::conflict},       // WRITE ATOMIC(16)
    {0x9e, 0x10, P::allowed, S::allowed},    // READ CAPACITY(16)
    {0x9e, 0x12, P::read, S::conflict},      // GET LBA STATUS
    {0xa0, -1, P::allowed, S::allowed},      // REPORT LUNS
    {0xa3, 0x0a, P::allowed, S::allowed},    // REPORT TARGET PORT GROUPS
    {0xa3, 0x0c, P::read, S::allowed},       // REPORT SUPPORTED OPERATION CODES
    {0xa3, 0x0d, P::read, S::allowed},       // REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS
    {0xa8, -1, P::read, S::conflict},        // READ(12)
    {0xaa, -1, P::write, S::conflict},       // WRITE(12)
    {0xae, -1, P::write, S::conflict},       // WRITE AND VERIFY(12)
    {0xaf, -1, P::read, S::conflict},        // VERIFY(12)
    {0xb7, -1, P::read, S::conflict},        // READ DEFECT DATA(12)
    // clang-format on
};

constexpr ReservationRule kDefault{0x00, -1, P::write, S::conflict};

}  // namespace

const ReservationRule& reservation_rule(std::uint8_t opcode, std::uint8_t service_action) {
    for (const ReservationRule& rule : kRules) {
        if (rule.opcode != opcode) continue;
        if (rule.service_action < 0 || rule.service_action == service_action) return rule;
    }
    return kDefault;
}

}  // namespace itd::scsi
