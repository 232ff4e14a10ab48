// The APTPL state file (SPC-4 5.12.5): the registrations and the persistent reservation of one
// logical unit, kept across a restart of the daemon when the last REGISTER, REGISTER AND IGNORE
// EXISTING KEY or REGISTER AND MOVE asked for it (APTPL=1). Text, one record a line:
//
//   itd-persistent-reservations 1
//   generation 7
//   registration <key: 16 hex> <ALL_TG_PT: 0|1> <initiator port: hex> <target port: hex>
//   reservation <TYPE: 1..8> <holder: registration index, or "all" for all-registrants types>
//
// Port names are hex-encoded so that no byte of an initiator's name can break a line. The file
// is replaced atomically (write a temporary, fsync, rename, fsync the directory): a crash leaves
// the old state or the new one, never a mix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace itd::scsi {

struct StoredRegistration {
    std::uint64_t key = 0;
    bool all_tg_pt = false;
    std::string initiator_port;
    std::string target_port;

    friend bool operator==(const StoredRegistration&, const StoredRegistration&) = default;
};

struct StoredReservation {
    std::uint8_t type = 0;              // SPC-4 table 170 TYPE code
    std::optional<std::size_t> holder;  // index into registrations; none: all registrants

    friend bool operator==(const StoredReservation&, const StoredReservation&) = default;
};

struct StoredPrState {
    std::uint32_t generation = 0;
    std::vector<StoredRegistration> registrations;
    std::optional<StoredReservation> reservation;

    friend bool operator==(const StoredPrState&, const StoredPrState&) = default;
};

// Registrations a state file may hold (a bound on what a corrupt or hostile file makes us
// allocate); the same bound as Reservations::kMaxRegistrations.
inline constexpr std::size_t kMaxStoredRegistrations = 1024;

std::string encode_pr_state(const StoredPrState& state);
// Checks everything: the header, each record's fields, the TYPE code, the holder index (and
// that all-registrants types have none and the others one), the registration count.
itd::Result<StoredPrState> decode_pr_state(std::string_view text);

// The file's contents; Errc::not_found when it does not exist.
itd::Result<std::string> read_state_file(const std::string& path);
// Replaces path's contents atomically and durably (see the header comment).
itd::Status write_state_file(const std::string& path, std::string_view contents);

}  // namespace itd::scsi
