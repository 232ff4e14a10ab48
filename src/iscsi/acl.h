// Initiator access lists: which initiators may log in to a target and see it in SendTargets.
// A rule names an initiator (iqn.…, eui.…, naa.…, compared case-insensitively: RFC 3722
// folds iSCSI names to lower case) or an address: an IPv4 or IPv6 literal or a CIDR prefix.
// An empty list admits everyone. Pure functions over strings, so the daemon's config parser
// can validate rules without the rest of the iSCSI layer (own CMake target, itd_iscsi_acl).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace itd::iscsi {

struct AllowRule {
    enum class Kind : std::uint8_t { name, address };
    Kind kind = Kind::name;
    std::string name;  // Kind::name: lower case
    // Kind::address: IPv6 form, IPv4 as v4-mapped (::ffff:a.b.c.d), and the prefix length
    // in that form (an IPv4 /8 is /104), so one comparison serves both families.
    std::array<std::uint8_t, 16> address{};
    unsigned prefix_bits = 128;
};

// "iqn.2026-11.org.example:host", "10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8". nullopt for
// anything else (the caller names the offending entry).
std::optional<AllowRule> parse_allow_rule(std::string_view text);

// An address as the socket layer prints it ("127.0.0.1", "::1", "::ffff:127.0.0.1",
// "fe80::1%eth0"), in the same 16-byte form; nullopt if it is not an IP literal.
std::optional<std::array<std::uint8_t, 16>> parse_peer_address(std::string_view text);

// Whether an initiator with this name, connected from this address, passes the rules. An
// empty rule list admits everyone; otherwise one matching rule (of either kind) admits. An
// unknown peer address ("") matches no address rule.
bool acl_allows(std::span<const AllowRule> rules, std::string_view initiator_name,
                std::string_view peer_address);

}  // namespace itd::iscsi
