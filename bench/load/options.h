// itd_load's command line. Parsing is pure (no I/O), so the tests feed it argument lists.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace itd::load {

enum class Rw { randread, randwrite, read, write, randrw };

const char* to_string(Rw rw);
constexpr bool is_random(Rw rw) {
    return rw == Rw::randread || rw == Rw::randwrite || rw == Rw::randrw;
}

struct Options {
    Rw rw = Rw::randread;
    unsigned read_percent = 50;  // randrw only: the share of reads
    std::uint32_t bs_bytes = 4096;
    unsigned depth = 1;             // commands in flight per session
    unsigned sessions = 1;          // libiscsi contexts, each its own iSCSI session
    unsigned threads = 1;           // poll loops; never more than sessions
    double seconds = 10;            // measured
    double ramp_seconds = 0;        // run first, not measured
    unsigned timeout_seconds = 30;  // a command that takes longer counts as an error
    bool header_digest = false;     // insist on CRC32C header digests
    std::string url;                // iscsi://HOST:PORT/IQN/LUN
    bool help = false;              // --help: print usage(), nothing else
};

// Limits on the numbers, so a typo cannot ask for a terabyte of buffers.
inline constexpr std::uint32_t kMaxBsBytes = 64u << 20;
inline constexpr unsigned kMaxDepth = 4096;
inline constexpr unsigned kMaxSessions = 1024;
inline constexpr unsigned kMaxThreads = 256;
inline constexpr double kMaxSeconds = 7 * 24 * 3600;

// "4096", "4K", "64k", "1M", "1MiB", "2G": binary multiples. nullopt when malformed or zero.
std::optional<std::uint64_t> parse_size(std::string_view text);

// A decimal number in [min, max]; nullopt when malformed or out of range.
std::optional<unsigned> parse_unsigned(std::string_view text, unsigned min, unsigned max);

// Seconds as a plain decimal ("5", "0.5") in [min, kMaxSeconds]; nullopt otherwise.
std::optional<double> parse_seconds(std::string_view text, double min);

// The error for a bad option value: "invalid value 'V' for --NAME: expected WHAT".
std::unexpected<std::string> bad_value(std::string_view option, std::string_view value,
                                       std::string_view expected);

// --seconds, --ramp and --timeout, which both load generators take: nullopt when name is none
// of them, else the value stored in its field or the error.
std::optional<std::expected<void, std::string>> parse_run_time(std::string_view name,
                                                               std::string_view value,
                                                               double& seconds,
                                                               double& ramp_seconds,
                                                               unsigned& timeout_seconds);

// The arguments after argv[0]. The error is one line naming the bad argument.
std::expected<Options, std::string> parse_options(std::span<const std::string_view> args);

// The usage text (several lines, ends in a newline).
std::string usage();

}  // namespace itd::load
