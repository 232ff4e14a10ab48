// How each command meets a reservation held through another I_T nexus: SPC-4 5.12.1 table 65
// (persistent reservations, "commands allowed in the presence of various reservations"), the
// SBC-4 4.18 table for block commands, and SPC-2 5.5.1 for RESERVE/RELEASE reservations.
// Keyed by opcode and service action, apart from the command table so that a command added
// there later without a row here is treated as a write (the safe answer: conflict).
#pragma once

#include <cstdint>

namespace itd::scsi {

// What a command does to the medium, as far as persistent reservations care.
enum class PrAccess : std::uint8_t {
    allowed,     // never conflicts (INQUIRY, REPORT LUNS, READ CAPACITY, TEST UNIT READY, ...)
    read,        // reads: allowed through WRITE EXCLUSIVE types, not through EXCLUSIVE ACCESS
    write,       // writes: conflict for a non-holder unless registered under RO/AR types
    persistent,  // PERSISTENT RESERVE IN/OUT: the service action decides (SPC-4 5.12.7-11)
    spc2,        // RESERVE/RELEASE(6/10): conflict while any registration exists (CRH=0)
};

// How a command meets an SPC-2 reservation held by another I_T nexus (SPC-2 5.5.1).
enum class Spc2Access : std::uint8_t {
    allowed,   // INQUIRY, REPORT LUNS, REQUEST SENSE, RELEASE (a no-op), READ CAPACITY, ...
    conflict,  // everything else
};

struct ReservationRule {
    std::uint8_t opcode;
    std::int16_t service_action;  // -1: any
    PrAccess pr;
    Spc2Access spc2;
};

// The rule for a command; an opcode without a row gets {write, conflict}.
const ReservationRule& reservation_rule(std::uint8_t opcode, std::uint8_t service_action);

}  // namespace itd::scsi
