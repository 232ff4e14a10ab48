// The PERSISTENT RESERVE OUT parameter list (SPC-4 6.16.3, 6.16.4) and iSCSI TransportIDs
// (SPC-4 7.6.4.6), decoded and bounded apart from the handler so that they can be fuzzed on
// their own (tests/fuzz/fuzz_pr_out.cpp).
//
// Basic parameter list (every service action but REGISTER AND MOVE), 24 bytes:
//   0-7   RESERVATION KEY
//   8-15  SERVICE ACTION RESERVATION KEY
//   16-19 obsolete
//   20    bit 3 SPEC_I_PT, bit 2 ALL_TG_PT, bit 0 APTPL
//   21    reserved;  22-23 obsolete
//   24..  (SPEC_I_PT=1 only) TRANSPORTID PARAMETER DATA LENGTH, TransportIDs
// REGISTER AND MOVE parameter list, 24 bytes plus one TransportID:
//   0-7   RESERVATION KEY
//   8-15  SERVICE ACTION RESERVATION KEY
//   16    reserved;  17 bit 1 UNREG, bit 0 APTPL
//   18-19 RELATIVE TARGET PORT IDENTIFIER
//   20-23 TRANSPORTID PARAMETER DATA LENGTH
//   24..  TransportID
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scsi/sense.h"

namespace itd::scsi {

// SPC-4 6.16.2 table 172: PERSISTENT RESERVE OUT service actions.
enum class PrOutAction : std::uint8_t {
    register_key = 0x00,
    reserve = 0x01,
    release = 0x02,
    clear = 0x03,
    preempt = 0x04,
    preempt_and_abort = 0x05,
    register_and_ignore = 0x06,
    register_and_move = 0x07,
};

inline constexpr std::size_t kPrOutBasicBytes = 24;
// An iSCSI TransportID is at least 24 bytes (SPC-4 7.6.4.6: ADDITIONAL LENGTH at least 20) and
// an iSCSI name at most 223 bytes (RFC 7143 4.2.7.1): 4 + 224 + ",i,0x" + 12 hex digits,
// rounded up to 4, fits in 256.
inline constexpr std::size_t kMaxTransportIdBytes = 256;

struct PrOutParameters {
    std::uint64_t reservation_key = 0;
    std::uint64_t service_action_key = 0;
    bool spec_i_pt = false;
    bool all_tg_pt = false;
    bool aptpl = false;
    // REGISTER AND MOVE only.
    bool unreg = false;
    std::uint16_t relative_target_port = 0;
    // The initiator port the TransportID names, in our canonical form "name,i,0x<12 hex>"
    // (the form Target::register_nexus is given by the iSCSI layer).
    std::string move_to_initiator_port;
};

struct PrOutParseError {
    SenseReason reason = SenseReason::none;
    std::optional<FieldPointer> field;  // into the parameter list (C/D = 0)
};

// list: the parameter data, already cut to the CDB's PARAMETER LIST LENGTH.
// SPC-4 6.16.3: SPEC_I_PT is not supported (SIP_C=0): set, it is INVALID FIELD IN PARAMETER
// LIST; so, for every action but REGISTER AND MOVE, the list is exactly 24 bytes.
std::expected<PrOutParameters, PrOutParseError> parse_pr_out_parameters(
    PrOutAction action, std::span<const std::uint8_t> list);

// An iSCSI initiator port TransportID (FORMAT CODE 01b, PROTOCOL IDENTIFIER 5h), decoded to
// "name,i,0x<isid as 12 lowercase hex digits>"; the name is lowercased (RFC 3722: iSCSI names
// compare after case folding). Returns the byte offset of the bad field on error.
std::expected<std::string, std::size_t> parse_iscsi_port_transport_id(
    std::span<const std::uint8_t> tid);

// The TransportID (format 01b) for an initiator port name "name,i,0x<isid>": NUL terminated
// and padded to a multiple of 4, at least 24 bytes (SPC-4 7.6.4.6 table 500).
std::vector<std::uint8_t> iscsi_port_transport_id(std::string_view initiator_port);

}  // namespace itd::scsi
