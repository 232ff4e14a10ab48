#include "options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace itd::load {

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<Rw> parse_rw(std::string_view text) {
    for (Rw rw : {Rw::randread, Rw::randwrite, Rw::read, Rw::write, Rw::randrw})
        if (text == to_string(rw)) return rw;
    return std::nullopt;
}

}  // namespace

std::unexpected<std::string> bad_value(std::string_view option, std::string_view value,
                                       std::string_view expected) {
    return std::unexpected("invalid value '" + std::string(value) + "' for " + std::string(option) +
                           ": expected " + std::string(expected));
}

std::optional<std::expected<void, std::string>> parse_run_time(std::string_view name,
                                                               std::string_view value,
                                                               double& seconds,
                                                               double& ramp_seconds,
                                                               unsigned& timeout_seconds) {
    if (name == "--seconds") {
        auto v = parse_seconds(value, 0.001);
        if (!v) return bad_value(name, value, "a positive number of seconds, such as 5 or 0.5");
        seconds = *v;
    } else if (name == "--ramp") {
        auto v = parse_seconds(value, 0);
        if (!v) return bad_value(name, value, "a number of seconds (0 or more)");
        ramp_seconds = *v;
    } else if (name == "--timeout") {
        auto v = parse_unsigned(value, 1, 3600);
        if (!v) return bad_value(name, value, "1 to 3600 seconds");
        timeout_seconds = *v;
    } else {
        return std::nullopt;
    }
    return std::expected<void, std::string>{};
}

const char* to_string(Rw rw) {
    switch (rw) {
        case Rw::randread:
            return "randread";
        case Rw::randwrite:
            return "randwrite";
        case Rw::read:
            return "read";
        case Rw::write:
            return "write";
        case Rw::randrw:
            return "randrw";
    }
    return "?";
}

std::optional<unsigned> parse_unsigned(std::string_view text, unsigned min, unsigned max) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max)
        return std::nullopt;
    return value;
}

// from_chars also takes "inf" and "nan": refused here.
std::optional<double> parse_seconds(std::string_view text, double min) {
    double value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value) || value < min ||
        value > kMaxSeconds)
        return std::nullopt;
    return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    const std::string suffix = lowercase(text.substr(digits));
    unsigned shift = 0;
    if (suffix.empty() || suffix == "b") {
        shift = 0;
    } else if (suffix == "k" || suffix == "kib") {
        shift = 10;
    } else if (suffix == "m" || suffix == "mib") {
        shift = 20;
    } else if (suffix == "g" || suffix == "gib") {
        shift = 30;
    } else {
        return std::nullopt;
    }
    if (value == 0 || value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return std::nullopt;
    return value << shift;
}

std::expected<Options, std::string> parse_options(std::span<const std::string_view> args) {
    Options o;
    bool read_percent_given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "-h" || arg == "--help") {
            o.help = true;
            return o;
        }
        if (arg.starts_with("-") && !arg.starts_with("--"))
            return std::unexpected("unknown option '" + std::string(arg) + "'");
        if (!arg.starts_with("--")) {
            if (!o.url.empty())
                return std::unexpected("more than one URL: '" + o.url + "' and '" +
                                       std::string(arg) + "'");
            o.url = std::string(arg);
            continue;
        }
        // --name VALUE or --name=VALUE; --header-digest is the only flag.
        std::string_view name = arg;
        std::optional<std::string_view> inline_value;
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            inline_value = arg.substr(eq + 1);
        }
        if (name == "--header-digest") {
            if (inline_value) return std::unexpected("--header-digest takes no value");
            o.header_digest = true;
            continue;
        }
        std::string_view value;
        if (inline_value) {
            value = *inline_value;
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return std::unexpected(std::string(name) + " needs a value");
        }

        if (name == "--rw") {
            auto rw = parse_rw(value);
            if (!rw) return bad_value(name, value, "randread, randwrite, read, write or randrw");
            o.rw = *rw;
        } else if (name == "--read-percent") {
            auto v = parse_unsigned(value, 0, 100);
            if (!v) return bad_value(name, value, "0 to 100");
            o.read_percent = *v;
            read_percent_given = true;
        } else if (name == "--bs") {
            auto v = parse_size(value);
            if (!v || *v > kMaxBsBytes || *v % 512 != 0)
                return bad_value(name, value, "a multiple of 512 up to 64M, such as 4K, 64K or 1M");
            o.bs_bytes = static_cast<std::uint32_t>(*v);
        } else if (name == "--depth") {
            auto v = parse_unsigned(value, 1, kMaxDepth);
            if (!v) return bad_value(name, value, "1 to " + std::to_string(kMaxDepth));
            o.depth = *v;
        } else if (name == "--sessions") {
            auto v = parse_unsigned(value, 1, kMaxSessions);
            if (!v) return bad_value(name, value, "1 to " + std::to_string(kMaxSessions));
            o.sessions = *v;
        } else if (name == "--threads") {
            auto v = parse_unsigned(value, 1, kMaxThreads);
            if (!v) return bad_value(name, value, "1 to " + std::to_string(kMaxThreads));
            o.threads = *v;
        } else if (auto run_time =
                       parse_run_time(name, value, o.seconds, o.ramp_seconds, o.timeout_seconds)) {
            if (!*run_time) return std::unexpected(run_time->error());
        } else {
            return std::unexpected("unknown option '" + std::string(name) + "'");
        }
    }
    if (o.url.empty()) return std::unexpected("no URL (iscsi://HOST:PORT/IQN/LUN)");
    if (!o.url.starts_with("iscsi://"))
        return std::unexpected("'" + o.url + "' is not an iscsi:// URL");
    if (read_percent_given && o.rw != Rw::randrw)
        return std::unexpected("--read-percent applies to --rw randrw only");
    // A thread without a session would only spin: extra threads are dropped (the summary line
    // shows the number that ran).
    o.threads = std::min(o.threads, o.sessions);
    return o;
}

std::string usage() {
    return "usage: itd_load [OPTIONS] iscsi://HOST:PORT/IQN/LUN\n"
           "An iSCSI load generator on libiscsi's async API. Each session is one login with\n"
           "--depth commands always in flight; --threads poll loops share the sessions.\n"
           "  --rw MODE            randread (default), randwrite, read, write (sequential: each\n"
           "                       session walks its own part of the LUN) or randrw\n"
           "  --read-percent N     randrw: the share of reads, 0-100 (default 50)\n"
           "  --bs SIZE            bytes per command: 512, 4K (default), 64K, 1M, ...\n"
           "  --depth N            commands in flight per session (default 1)\n"
           "  --sessions N         iSCSI sessions (default 1)\n"
           "  --threads N          poll loops, at most one per session (default 1)\n"
           "  --seconds S          measured run time (default 10)\n"
           "  --ramp S             run this long first without measuring (default 0)\n"
           "  --timeout S          a command that takes longer is an error (default 30)\n"
           "  --header-digest      insist on CRC32C header digests\n"
           "The last line of output sums up the run:\n"
           "  itd_load: rw=... bs=... depth=... sessions=... threads=... seconds=... ios=...\n"
           "  iops=... mibps=... p50_us=... p99_us=... p999_us=... max_us=... errors=...\n"
           "Exit status: 0, 1 when a login failed or any command failed, 2 on bad options.\n";
}

}  // namespace itd::load
