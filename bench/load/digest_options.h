// itd_digest_load's command line (usage in itd_digest_load.cpp's header). Parsing is pure, so
// the tests feed it argument lists; the number parsers are itd_load's (options.h).
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "options.h"  // Rw, parse_size, parse_unsigned, parse_seconds

namespace itd::load {

// Which iSCSI digests the login insists on (RFC 7143 13.1): CRC32C on headers, on headers and
// data segments, or on nothing.
enum class Digests { none, header, both };

const char* to_string(Digests d);
constexpr bool header_digest_on(Digests d) {
    return d != Digests::none;
}
constexpr bool data_digest_on(Digests d) {
    return d == Digests::both;
}

struct DigestOptions {
    Digests digests = Digests::both;
    Rw rw = Rw::read;  // read or write: sequential, bs at a time from LBA 0, wrapping
    std::uint32_t bs_bytes = 1 << 20;
    unsigned depth = 8;             // commands in flight
    double seconds = 5;             // measured
    double ramp_seconds = 1;        // run first, not measured
    unsigned timeout_seconds = 30;  // a command (or the login) that takes longer is an error
    // Writes stamp every block with its LBA; reads check each block holds its stamp (so run a
    // --verify write over the whole LUN first). Catches data that lands at the wrong offset,
    // which digests cannot see.
    bool verify = false;
    std::string host;  // from HOST:PORT; brackets of [v6] removed
    std::string port;
    std::string target;  // the target's IQN
    unsigned lun = 0;
    bool help = false;
};

// SAM-5 4.7: LUNs below 256 use peripheral addressing, up to 16383 flat addressing.
inline constexpr unsigned kMaxLun = 16383;

std::expected<DigestOptions, std::string> parse_digest_options(
    std::span<const std::string_view> args);

std::string digest_usage();

}  // namespace itd::load
