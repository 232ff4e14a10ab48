#include "scsi/command_table.h"

#include <bit>
#include <iterator>

#include "common/check.h"

namespace itd::scsi {

namespace {

using D = DataDirection;
using K = LengthKind;
using L = LunAccess;

// CDB USAGE DATA per row (SPC-4 6.35.3). Bits left out are reserved, obsolete, or name features
// we do not have: RDPROTECT/WRPROTECT (no protection information, SBC-4 5.16: a non-zero value
// is INVALID FIELD IN CDB when the LU is not formatted with protection), CMDDT in INQUIRY
// (obsolete), DESC in REQUEST SENSE (we only produce fixed format), NACA and LINK in the
// control byte (SAM-5 5.9.1: NACA=1 without ACA support is INVALID FIELD IN CDB).
// We accept FUA_NV (obsolete in SBC-4, and libiscsi's Write10.Flags expects GOOD), RARC and the
// GROUP NUMBER field (ignored: no grouping function).
constexpr CommandSpec kTable[] = {
    // clang-format off
    {0x00, false, 0x00, "TEST UNIT READY", D::none, 6,
     {0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
     {}, {}, K::none, L::normal, handle_test_unit_ready},
    {0x03, false, 0x00, "REQUEST SENSE", D::in, 6,
     {0x03, 0x00, 0x00, 0x00, 0xff, 0x00},
     {}, {4, 1}, K::bytes, L::request_sense, handle_request_sense},
    {0x08, false, 0x00, "READ(6)", D::in, 6,
     {0x08, 0x1f, 0xff, 0xff, 0xff, 0x00},
     {1, 3}, {4, 1}, K::blocks_zero_is_256, L::normal, handle_read},
    {0x0a, false, 0x00, "WRITE(6)", D::out, 6,
     {0x0a, 0x1f, 0xff, 0xff, 0xff, 0x00},
     {1, 3}, {4, 1}, K::blocks_zero_is_256, L::normal, handle_write},
    {0x12, false, 0x00, "INQUIRY", D::in, 6,
     {0x12, 0x01, 0xff, 0xff, 0xff, 0x00},
     {}, {3, 2}, K::bytes, L::ua_exempt, handle_inquiry},
    // MODE SELECT(6) (SPC-4 6.9): PF and SP (SP=1 is refused by the handler: no saved pages).
    {0x15, false, 0x00, "MODE SELECT(6)", D::out, 6,
     {0x15, 0x11, 0x00, 0x00, 0xff, 0x00},
     {}, {4, 1}, K::bytes, L::no_medium, handle_mode_select},
    // RESERVE(6)/RELEASE(6) (SPC-2 7.21, 7.17): third-party and extent bits left out.
    {0x16, false, 0x00, "RESERVE(6)", D::none, 6,
     {0x16, 0x00, 0x00, 0x00, 0x00, 0x00},
     {}, {}, K::none, L::no_medium, handle_reserve},
    {0x17, false, 0x00, "RELEASE(6)", D::none, 6,
     {0x17, 0x00, 0x00, 0x00, 0x00, 0x00},
     {}, {}, K::none, L::no_medium, handle_release},
    {0x1a, false, 0x00, "MODE SENSE(6)", D::in, 6,
     {0x1a, 0x08, 0xff, 0xff, 0xff, 0x00},
     {}, {4, 1}, K::bytes, L::no_medium, handle_mode_sense},
    // START STOP UNIT (SBC-4 5.25): IMMED, POWER CONDITION MODIFIER, POWER CONDITION, NO_FLUSH,
    // LOEJ, START.
    {0x1b, false, 0x00, "START STOP UNIT", D::none, 6,
     {0x1b, 0x01, 0x00, 0x0f, 0xf7, 0x00},
     {}, {}, K::none, L::no_medium, handle_start_stop_unit},
    // PREVENT ALLOW MEDIUM REMOVAL (SBC-4 5.10): the PREVENT field.
    {0x1e, false, 0x00, "PREVENT ALLOW MEDIUM REMOVAL", D::none, 6,
     {0x1e, 0x00, 0x00, 0x00, 0x03, 0x00},
     {}, {}, K::none, L::no_medium, handle_prevent_allow},
    {0x25, false, 0x00, "READ CAPACITY(10)", D::in, 10,
     {0x25, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x00},
     {2, 4}, {}, K::none, L::normal, handle_read_capacity10},
    {0x28, false, 0x00, "READ(10)", D::in, 10,
     {0x28, 0x1e, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
     {2, 4}, {7, 2}, K::blocks, L::normal, handle_read},
    {0x2a, false, 0x00, "WRITE(10)", D::out, 10,
     {0x2a, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
     {2, 4}, {7, 2}, K::blocks, L::normal, handle_write},
    // WRITE AND VERIFY / VERIFY: DPO and BYTCHK (SBC-4 5.44, 5.33); VRPROTECT/WRPROTECT left
    // out (no protection information). VERIFY's length counts blocks, but what it transfers
    // depends on BYTCHK, so the handler sets the transfer length.
    {0x2e, false, 0x00, "WRITE AND VERIFY(10)", D::out, 10,
     {0x2e, 0x16, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
     {2, 4}, {7, 2}, K::blocks, L::normal, handle_write_and_verify},
    {0x2f, false, 0x00, "VERIFY(10)", D::out, 10,
     {0x2f, 0x16, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
     {2, 4}, {7, 2}, K::none, L::normal, handle_verify},
    // PRE-FETCH: IMMED (SBC-4 5.8).
    {0x34, false, 0x00, "PRE-FETCH(10)", D::none, 10,
     {0x34, 0x02, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
     {2, 4}, {7, 2}, K::blocks, L::normal, handle_prefetch},
    {0x35, false, 0x00, "SYNCHRONIZE CACHE(10)", D::none, 10,
     {0x35, 0x06, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
     {2, 4}, {7, 2}, K::blocks, L::normal, handle_synchronize_cache},
    // READ DEFECT DATA(10) (SBC-4 5.13): REQ_PLIST, REQ_GLIST, DEFECT LIST FORMAT.
    {0x37, false, 0x00, "READ DEFECT DATA(10)", D::in, 10,
     {0x37, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::normal, handle_read_defect_data},
    // WRITE SAME(10): UNMAP (SBC-4 5.48); ANCHOR left out (ANC_SUP=0), as are the obsolete
    // PBDATA/LBDATA. One block of data-out whatever the length says: the handler sets it.
    {0x41, false, 0x00, "WRITE SAME(10)", D::out, 10,
     {0x41, 0x08, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
     {2, 4}, {7, 2}, K::none, L::normal, handle_write_same},
    // UNMAP (SBC-4 5.30): ANCHOR left out (ANC_SUP=0).
    {0x42, false, 0x00, "UNMAP", D::out, 10,
     {0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::normal, handle_unmap},
    // SANITIZE (SBC-4 5.30), one row per service action: IMMED, AUSE. Bit 6 of byte 1 and
    // bytes 2-6 are reserved (libiscsi Sanitize.*Reserved sets each).
    {0x48, true, 0x01, "SANITIZE OVERWRITE", D::out, 10,
     {0x48, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::normal, handle_sanitize},
    {0x48, true, 0x02, "SANITIZE BLOCK ERASE", D::out, 10,
     {0x48, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::normal, handle_sanitize},
    {0x48, true, 0x03, "SANITIZE CRYPTOGRAPHIC ERASE", D::out, 10,
     {0x48, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::normal, handle_sanitize},
    {0x48, true, 0x1f, "SANITIZE EXIT FAILURE MODE", D::out, 10,
     {0x48, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::normal, handle_sanitize},
    {0x55, false, 0x00, "MODE SELECT(10)", D::out, 10,
     {0x55, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::no_medium, handle_mode_select},
    // RESERVE(10)/RELEASE(10): 3RDPTY, LONGID, the third-party id and the parameter list
    // (which only third-party reservations use) left out.
    {0x56, false, 0x00, "RESERVE(10)", D::none, 10,
     {0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
     {}, {}, K::none, L::no_medium, handle_reserve},
    {0x57, false, 0x00, "RELEASE(10)", D::none, 10,
     {0x57, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
     {}, {}, K::none, L::no_medium, handle_release},
    {0x5a, false, 0x00, "MODE SENSE(10)", D::in, 10,
     {0x5a, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::no_medium, handle_mode_sense},
    // PERSISTENT RESERVE IN (SPC-4 6.15), one row per service action.
    {0x5e, true, 0x00, "PERSISTENT RESERVE IN / READ KEYS", D::in, 10,
     {0x5e, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::no_medium, handle_persistent_reserve_in},
    {0x5e, true, 0x01, "PERSISTENT RESERVE IN / READ RESERVATION", D::in, 10,
     {0x5e, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::no_medium, handle_persistent_reserve_in},
    {0x5e, true, 0x02, "PERSISTENT RESERVE IN / REPORT CAPABILITIES", D::in, 10,
     {0x5e, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::no_medium, handle_persistent_reserve_in},
    {0x5e, true, 0x03, "PERSISTENT RESERVE IN / READ FULL STATUS", D::in, 10,
     {0x5e, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00},
     {}, {7, 2}, K::bytes, L::no_medium, handle_persistent_reserve_in},
    // PERSISTENT RESERVE OUT (SPC-4 6.16): SCOPE and TYPE, PARAMETER LIST LENGTH.
    {0x5f, true, 0x00, "PERSISTENT RESERVE OUT / REGISTER", D::out, 10,
     {0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00},
     {}, {5, 4}, K::bytes, L::no_medium, handle_persistent_reserve_out},
    {0x5f, true, 0x01, "PERSISTENT RESERVE OUT / RESERVE", D::out, 10,
     {0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00},
     {}, {5, 4}, K::bytes, L::no_medium, handle_persistent_reserve_out},
    {0x5f, true, 0x02, "PERSISTENT RESERVE OUT / RELEASE", D::out, 10,
     {0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00},
     {}, {5, 4}, K::bytes, L::no_medium, handle_persistent_reserve_out},
    {0x5f, true, 0x03, "PERSISTENT RESERVE OUT / CLEAR", D::out, 10,
     {0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00},
     {}, {5, 4}, K::bytes, L::no_medium, handle_persistent_reserve_out},
    {0x5f, true, 0x04, "PERSISTENT RESERVE OUT / PREEMPT", D::out, 10,
     {0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00},
     {}, {5, 4}, K::bytes, L::no_medium, handle_persistent_reserve_out},
    {0x5f, true, 0x05, "PERSISTENT RESERVE OUT / PREEMPT AND ABORT", D::out, 10,
     {0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00},
     {}, {5, 4}, K::bytes, L::no_medium, handle_persistent_reserve_out},
    {0x5f, true, 0x06, "PERSISTENT RESERVE OUT / REGISTER AND IGNORE EXISTING KEY", D::out, 10,
     {0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00},
     {}, {5, 4}, K::bytes, L::no_medium, handle_persistent_reserve_out},
    {0x5f, true, 0x07, "PERSISTENT RESERVE OUT / REGISTER AND MOVE", D::out, 10,
     {0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00},
     {}, {5, 4}, K::bytes, L::no_medium, handle_persistent_reserve_out},
    // EXTENDED COPY(LID1) (SPC-4 6.4); LID4 (service action 01h) is not supported.
    {0x83, true, 0x00, "EXTENDED COPY(LID1)", D::out, 16,
     {0x83, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {10, 4}, K::bytes, L::normal, handle_extended_copy},
    // RECEIVE COPY STATUS / DATA / OPERATING PARAMETERS / FAILURE DETAILS (SPC-4): LIST
    // IDENTIFIER and ALLOCATION LENGTH.
    {0x84, true, 0x00, "RECEIVE COPY STATUS(LID1)", D::in, 16,
     {0x84, 0x1f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {10, 4}, K::bytes, L::normal, handle_receive_copy_results},
    {0x84, true, 0x01, "RECEIVE COPY DATA(LID1)", D::in, 16,
     {0x84, 0x1f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {10, 4}, K::bytes, L::normal, handle_receive_copy_results},
    {0x84, true, 0x03, "RECEIVE COPY OPERATING PARAMETERS", D::in, 16,
     {0x84, 0x1f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {10, 4}, K::bytes, L::normal, handle_receive_copy_results},
    {0x84, true, 0x04, "RECEIVE COPY FAILURE DETAILS(LID1)", D::in, 16,
     {0x84, 0x1f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {10, 4}, K::bytes, L::normal, handle_receive_copy_results},
    {0x88, false, 0x00, "READ(16)", D::in, 16,
     {0x88, 0x1e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {10, 4}, K::blocks, L::normal, handle_read},
    {0x8a, false, 0x00, "WRITE(16)", D::out, 16,
     {0x8a, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {10, 4}, K::blocks, L::normal, handle_write},
    // COMPARE AND WRITE (SBC-4 5.3): DPO, FUA, FUA_NV; the data-out is twice the blocks.
    {0x89, false, 0x00, "COMPARE AND WRITE", D::out, 16,
     {0x89, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0x00, 0x00, 0x00, 0xff, 0x1f, 0x00},
     {2, 8}, {13, 1}, K::none, L::normal, handle_compare_and_write},
    // ORWRITE(16) (SBC-4 5.7): DPO, FUA, FUA_NV; ORPROTECT left out (no protection).
    {0x8b, false, 0x00, "ORWRITE(16)", D::out, 16,
     {0x8b, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {10, 4}, K::blocks, L::normal, handle_orwrite},
    {0x8e, false, 0x00, "WRITE AND VERIFY(16)", D::out, 16,
     {0x8e, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {10, 4}, K::blocks, L::normal, handle_write_and_verify},
    {0x8f, false, 0x00, "VERIFY(16)", D::out, 16,
     {0x8f, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {10, 4}, K::none, L::normal, handle_verify},
    {0x90, false, 0x00, "PRE-FETCH(16)", D::none, 16,
     {0x90, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {10, 4}, K::blocks, L::normal, handle_prefetch},
    {0x91, false, 0x00, "SYNCHRONIZE CACHE(16)", D::none, 16,
     {0x91, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {10, 4}, K::blocks, L::normal, handle_synchronize_cache},
    // WRITE SAME(16): UNMAP and NDOB (SBC-4 5.49).
    {0x93, false, 0x00, "WRITE SAME(16)", D::out, 16,
     {0x93, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {10, 4}, K::none, L::normal, handle_write_same},
    // WRITE ATOMIC(16) (SBC-4 5.48): DPO, FUA. The ATOMIC BOUNDARY field (bytes 10-11) is left
    // out: MAXIMUM ATOMIC BOUNDARY SIZE is 0 in VPD B0h.
    {0x9c, false, 0x00, "WRITE ATOMIC(16)", D::out, 16,
     {0x9c, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0x00, 0x00, 0xff, 0xff, 0x1f, 0x00},
     {2, 8}, {12, 2}, K::blocks, L::normal, handle_write_atomic},
    // SERVICE ACTION IN(16) / READ CAPACITY(16). The LBA and PMI fields are obsolete in SBC-4
    // but still accepted (SBC-3 initiators send them).
    {0x9e, true, 0x10, "READ CAPACITY(16)", D::in, 16,
     {0x9e, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x01, 0x00},
     {2, 8}, {10, 4}, K::bytes, L::normal, handle_read_capacity16},
    // SERVICE ACTION IN(16) / GET LBA STATUS (SBC-4 5.6); REPORT TYPE (byte 14) left out.
    {0x9e, true, 0x12, "GET LBA STATUS", D::in, 16,
     {0x9e, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {2, 8}, {10, 4}, K::bytes, L::normal, handle_get_lba_status},
    {0xa0, false, 0x00, "REPORT LUNS", D::in, 12,
     {0xa0, 0x00, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {6, 4}, K::bytes, L::ua_exempt, handle_report_luns},
    // MAINTENANCE IN / REPORT SUPPORTED OPERATION CODES (SPC-4 6.35).
    {0xa3, true, 0x0c, "REPORT SUPPORTED OPERATION CODES", D::in, 12,
     {0xa3, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {6, 4}, K::bytes, L::no_medium, handle_report_supported_opcodes},
    // MAINTENANCE IN / REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.37): REPD.
    {0xa3, true, 0x0d, "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS", D::in, 12,
     {0xa3, 0x1f, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {6, 4}, K::bytes, L::no_medium, handle_report_supported_tmfs},
    {0xa8, false, 0x00, "READ(12)", D::in, 12,
     {0xa8, 0x1e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 4}, {6, 4}, K::blocks, L::normal, handle_read},
    {0xaa, false, 0x00, "WRITE(12)", D::out, 12,
     {0xaa, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 4}, {6, 4}, K::blocks, L::normal, handle_write},
    {0xae, false, 0x00, "WRITE AND VERIFY(12)", D::out, 12,
     {0xae, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 4}, {6, 4}, K::blocks, L::normal, handle_write_and_verify},
    {0xaf, false, 0x00, "VERIFY(12)", D::out, 12,
     {0xaf, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00},
     {2, 4}, {6, 4}, K::none, L::normal, handle_verify},
    // READ DEFECT DATA(12) (SBC-4 5.14): REQ_PLIST, REQ_GLIST, DEFECT LIST FORMAT, ADDRESS
    // DESCRIPTOR INDEX.
    {0xb7, false, 0x00, "READ DEFECT DATA(12)", D::in, 12,
     {0xb7, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
     {}, {6, 4}, K::bytes, L::normal, handle_read_defect_data},
    // clang-format on
};

constexpr std::size_t kRows = std::size(kTable);

constexpr bool table_is_sane() {
    for (std::size_t i = 0; i < kRows; ++i) {
        const CommandSpec& row = kTable[i];
        if (row.name == nullptr) return false;
        if (row.cdb_size != 6 && row.cdb_size != 10 && row.cdb_size != 12 &&
            row.cdb_size != 16)
            return false;
        if (row.usage[0] != row.opcode) return false;
        // Fields must lie inside the CDB and not be wider than 8 bytes.
        if (row.lba.offset + row.lba.size > row.cdb_size || row.lba.size > 8) return false;
        if (row.length.offset + row.length.size > row.cdb_size || row.length.size > 8)
            return false;
        for (std::size_t j = row.cdb_size; j < row.usage.size(); ++j) {
            if (row.usage[j] != 0) return false;
        }
    }
    return true;
}
static_assert(table_is_sane());

}  // namespace

std::span<const CommandSpec> command_table() { return kTable; }

const CommandSpec* find_command(std::uint8_t opcode, std::uint8_t service_action) {
    for (const CommandSpec& row : command_table()) {
        if (row.opcode != opcode) continue;
        if (!row.has_service_action || row.service_action == service_action) return &row;
    }
    return nullptr;
}

bool opcode_has_service_actions(std::uint8_t opcode) {
    for (const CommandSpec& row : command_table()) {
        if (row.opcode == opcode && row.has_service_action) return true;
    }
    return false;
}

std::uint64_t load_field(std::span<const std::uint8_t> cdb, CdbField field) {
    ITD_CHECK(field.size <= 8 && std::size_t{field.offset} + field.size <= cdb.size());
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < field.size; ++i) v = (v << 8) | cdb[field.offset + i];
    return v;
}

std::optional<FieldPointer> find_unused_bits(const CommandSpec& spec,
                                             std::span<const std::uint8_t> cdb) {
    ITD_CHECK(cdb.size() >= spec.cdb_size);
    for (std::size_t i = 1; i < spec.cdb_size; ++i) {
        const auto unused = static_cast<std::uint8_t>(cdb[i] & ~spec.usage[i]);
        if (unused != 0) {
            // Point at the most significant offending bit.
            const auto bit = static_cast<std::uint8_t>(7 - std::countl_zero(unused));
            return FieldPointer{true, static_cast<std::uint16_t>(i), bit};
        }
    }
    return std::nullopt;
}

}  // namespace itd::scsi
