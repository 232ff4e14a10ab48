// PDU serialization (RFC 7143 11.1): BHS, AHS, optional header digest, data segment padded
// to 4 bytes, optional data digest (present only when the data segment is not empty).
#pragma once

#include <cstdint>
#include <vector>

#include "iscsi/pdu.h"

namespace itd::iscsi {

// Sets TotalAHSLength and DataSegmentLength in the copy it writes from pdu.ahs and pdu.data.
// pdu.ahs must be a multiple of 4 bytes and at most 1020; pdu.data below 2^24 (checked: these
// come from our own code, not from the wire).
std::vector<std::uint8_t> serialize(const Pdu& pdu, bool header_digest, bool data_digest);

}  // namespace itd::iscsi
