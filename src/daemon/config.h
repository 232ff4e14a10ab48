// The daemon's configuration: what the command line and the TOML config file turn into. Every
// parser here returns a validated value or one-line itd::Error (Errc::invalid_argument, or
// Errc::not_found for a config file that cannot be opened); none of them throws. The caller
// prints "itd: <message>" and exits 2.
//
// Command line (cli.cpp):
//   itd [--listen ADDR:PORT]... [--target-name IQN] [--chap-file FILE] [--threads N]
//       [--log-level L] LUN-SPEC...
//   itd --config FILE [--listen ADDR:PORT]... [--threads N] [--log-level L]
// LUN-SPEC (lun_spec.cpp): BACKEND:ARG[,KEY=VALUE|,FLAG]...   e.g. memory:1G,
//   memory:64M,block-size=4096, file:/srv/disk.img,size=20G, file:/srv/disk.img
// Config file (config_file.cpp): TOML, see the example at the top of config_file.cpp and
//   tests/unit/daemon/example.toml.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "volume/spec.h"

namespace itd::daemon {

inline constexpr std::uint16_t default_iscsi_port = 3260;

// A listening address. host is an IP literal: IPv4 dotted quad or IPv6 without brackets (an
// IPv6 zone such as "fe80::1%eth0" is kept). "" (never produced by the parsers), "0.0.0.0"
// and "::" mean any address; "::" means all IPv4 and IPv6 addresses (bind dual-stack).
struct Portal {
    std::string host;
    std::uint16_t port = default_iscsi_port;

    friend bool operator==(const Portal&, const Portal&) = default;
};

struct LunSpec {
    volume::VolumeSpec volume;
    // thin: logical block provisioning (UNMAP, WRITE SAME with UNMAP, GET LBA STATUS; LBPME=1).
    bool thin = false;
    bool read_only = false;             // readonly: writes fail with WRITE PROTECTED
    // removable: RMB=1; START STOP UNIT ejects and loads the medium, PREVENT ALLOW MEDIUM
    // REMOVAL holds it in.
    bool removable = false;
    std::string serial;                 // serial=: VPD 80h; empty: derived from the names
    std::optional<std::uint64_t> wwn;   // wwn=: the 8-byte NAA id in VPD 83h; none: derived
    // sanitize-rate=: SANITIZE erases at most this many bytes per second; 0: no limit.
    std::uint64_t sanitize_rate_bytes_per_s = 0;
};

// CHAP credentials (RFC 7143 12.1.3). Only the config file carries them: a secret on the
// command line would show in ps and in shell history. Validated: user 1..255 bytes, secret
// 12..255 bytes (RFC 7143 12.1.3 wants at least 96 bits of randomness).
struct ChapConfig {
    std::string user;
    std::string secret;  // never in a log line or an error message
};
inline constexpr std::size_t min_chap_secret_bytes = 12;
inline constexpr std::size_t max_chap_secret_bytes = 255;

// Who must authenticate: chap (the initiator to us) and, when the initiator asks for mutual
// CHAP, mutual_chap (we to the initiator). mutual_chap needs chap and a different secret.
struct AuthConfig {
    std::optional<ChapConfig> chap;
    std::optional<ChapConfig> mutual_chap;
};

struct TargetConfig {
    std::string name;             // validated iSCSI name: iqn.…, eui.… or naa.…
    std::string alias;            // TargetAlias, may be empty
    std::vector<LunSpec> luns;    // LUN i is luns[i]; never empty
    std::vector<Portal> portals;  // empty: the daemon's global listen list
    AuthConfig auth;
    // Initiators allowed to log in and to see the target in SendTargets: iSCSI names and IP
    // addresses or CIDR prefixes, validated by iscsi::parse_allow_rule. Empty: everyone.
    std::vector<std::string> allow;
};

// iSCSI limits users may tune, the target's side of negotiation (RFC 3720 section 12).
// Validated: the byte limits lie in 512..2^24-1, first_burst_bytes <= max_burst_bytes,
// max_outstanding_r2t in 1..65535, cmd_window in 1..max_cmd_window.
struct IscsiLimits {
    std::uint32_t max_recv_data_segment_bytes = 262144;  // MaxRecvDataSegmentLength
    std::uint32_t max_burst_bytes = 1048576;             // MaxBurstLength
    std::uint32_t first_burst_bytes = 262144;            // FirstBurstLength
    std::uint32_t max_outstanding_r2t = 16;              // MaxOutstandingR2T
    std::uint32_t cmd_window = 128;                      // MaxCmdSN - ExpCmdSN + 1 per session
    bool immediate_data = true;                          // ImmediateData
    bool initial_r2t = false;                            // InitialR2T
};
inline constexpr std::uint32_t max_cmd_window = 4096;
inline constexpr unsigned max_worker_threads = 1024;

struct Config {
    // Default: all IPv4 and IPv6 addresses, port 3260. A --listen or a listen key replaces it.
    std::vector<Portal> listen = {Portal{"::", default_iscsi_port}};
    std::vector<TargetConfig> targets;  // never empty; names unique
    unsigned worker_threads = 0;        // 0 = one per core
    std::string log_level = "info";     // trace debug info warn error
    IscsiLimits iscsi;
    AuthConfig discovery;  // CHAP for discovery sessions ([discovery])
    // --state-dir / state-dir: where persistent reservations with APTPL=1 are kept, one file
    // per LUN (<dir>/<target name>.lun<N>.pr). Empty: a file-backed LUN on a regular file keeps
    // them next to it (<path>.pr); other LUNs do not support APTPL.
    std::string state_dir;
};

// --help or --version: print text to stdout and exit 0.
struct InfoText {
    std::string text;
};
using ParseOutcome = std::variant<Config, InfoText>;

// argv[0] is the program name. Usage errors come back as one-line messages.
[[nodiscard]] Result<ParseOutcome> parse_command_line(int argc, const char* const* argv);

// A TOML config file. Errors read "<path>:<line>: <key path>: <problem>".
[[nodiscard]] Result<Config> load_config_file(const std::string& path);
// The same, from text already read; source_name stands for the path in messages.
[[nodiscard]] Result<Config> parse_config_text(std::string_view text,
                                               const std::string& source_name);

// One LUN-SPEC; messages read "LUN-SPEC '<text>': <problem>".
[[nodiscard]] Result<LunSpec> parse_lun_spec(std::string_view text);

// A size in bytes: 512, 64K, 64M, 1G, 2T, 1P or 64KiB … 1PiB (binary: 1G = 2^30; suffixes
// are case-insensitive). Rejects 0, overflow, signs, spaces, fractions and "GB"-style
// suffixes.
[[nodiscard]] Result<std::uint64_t> parse_size(std::string_view text);

// A listen address: "127.0.0.1:3260", "[::1]:3260", "[::]:3260", "0.0.0.0:3260", ":3260" or
// "3260" (all addresses, as "::"), "127.0.0.1" or "[::1]" (port 3260).
[[nodiscard]] Result<Portal> parse_portal(std::string_view text);
// The reverse: "127.0.0.1:3260", "[::1]:3260".
std::string to_string(const Portal& portal);

// iqn.2026-11.org.itd:<hostname lowercased, other than [a-z0-9.-] replaced by '-'>.
std::string default_target_name();
// RFC 3720 3.2.6.3: iqn.YYYY-MM.reversed.domain[:anything], eui.<16 hex>, naa.<16|32 hex>;
// lowercase [a-z0-9.:-] for iqn; at most 223 bytes.
[[nodiscard]] Status validate_target_name(std::string_view name);

[[nodiscard]] bool is_valid_log_level(std::string_view level);

// The ranges in IscsiLimits' comment; messages name the config file's keys.
[[nodiscard]] Status validate_iscsi_limits(const IscsiLimits& limits);

// CHAP credentials: lengths, pairs given together, mutual only with one-way and with another
// secret. Messages name the key ("mutual-chap-secret must ..."), never a value.
[[nodiscard]] Status validate_auth(const AuthConfig& auth);
// --chap-file: one line "USER SECRET" (a single space between them; the secret may contain
// spaces). Validated like chap-user/chap-secret; messages never quote the file's contents.
[[nodiscard]] Result<ChapConfig> read_chap_file(const std::string& path);
// One allow = [...] entry: an iSCSI name, an IP address or a CIDR prefix.
[[nodiscard]] Status validate_allow_rule(std::string_view rule);

// Checks what no single parser sees: unique target names, non-empty LUN lists, the iSCSI
// limits, thread count, log level, duplicate portals.
[[nodiscard]] Status validate_config(const Config& config);

}  // namespace itd::daemon
