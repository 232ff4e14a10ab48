// Whole-configuration checks, shared by the command line and the config file.
#include <algorithm>
#include <array>
#include <set>

#include "daemon/config.h"

namespace itd::daemon {

namespace {

constexpr std::array log_levels = {std::string_view{"trace"}, std::string_view{"debug"},
                                   std::string_view{"info"}, std::string_view{"warn"},
                                   std::string_view{"error"}};

// RFC 3720 12.12, 12.13, 12.14: MaxRecvDataSegmentLength, MaxBurstLength and
// FirstBurstLength lie in 512..2^24-1.
constexpr std::uint32_t min_length_bytes = 512;
constexpr std::uint32_t max_length_bytes = (1u << 24) - 1;

std::unexpected<Error> invalid(std::string message) {
    return fail(Errc::invalid_argument, std::move(message));
}

Status check_length(std::string_view key, std::uint32_t value) {
    if (value < min_length_bytes || value > max_length_bytes)
        return invalid(std::string(key) + " " + std::to_string(value) +
                       " is out of range (512..16777215)");
    return {};
}

Status check_portals(const std::vector<Portal>& portals, std::string_view where) {
    for (std::size_t i = 0; i < portals.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (portals[i] == portals[j])
                return invalid(std::string(where) + ": listen address " + to_string(portals[i]) +
                               " given twice");
    return {};
}

}  // namespace

bool is_valid_log_level(std::string_view level) {
    return std::find(log_levels.begin(), log_levels.end(), level) != log_levels.end();
}

Status validate_config(const Config& config) {
    if (!is_valid_log_level(config.log_level))
        return invalid("invalid log level '" + config.log_level +
                       "' (use trace, debug, info, warn or error)");
    if (config.worker_threads > max_worker_threads)
        return invalid("threads " + std::to_string(config.worker_threads) +
                       " is out of range (0..1024; 0 = one per core)");
    if (config.listen.empty()) return invalid("no listen address");
    if (auto st = check_portals(config.listen, "listen"); !st) return st;

    if (auto st = validate_iscsi_limits(config.iscsi); !st) return st;

    if (config.targets.empty()) return invalid("no target configured");
    std::set<std::string> names;
    for (const auto& target : config.targets) {
        if (auto st = validate_target_name(target.name); !st) return st;
        if (!names.insert(target.name).second)
            return invalid("target name '" + target.name + "' used twice");
        if (target.luns.empty()) return invalid("target '" + target.name + "' has no LUN");
        if (auto st = check_portals(target.portals, "target '" + target.name + "'"); !st) return st;
        if (auto st = validate_auth(target.auth); !st)
            return invalid("target '" + target.name + "': " + st.error().message);
        for (const auto& rule : target.allow)
            if (auto st = validate_allow_rule(rule); !st)
                return invalid("target '" + target.name + "': " + st.error().message);
    }
    if (auto st = validate_auth(config.discovery); !st)
        return invalid("discovery: " + st.error().message);
    return {};
}

Status validate_iscsi_limits(const IscsiLimits& limits) {
    if (auto st = check_length("max-recv-data-segment-length", limits.max_recv_data_segment_bytes);
        !st)
        return st;
    if (auto st = check_length("max-burst-length", limits.max_burst_bytes); !st) return st;
    if (auto st = check_length("first-burst-length", limits.first_burst_bytes); !st) return st;
    // RFC 3720 12.14: FirstBurstLength MUST NOT exceed MaxBurstLength.
    if (limits.first_burst_bytes > limits.max_burst_bytes)
        return invalid("first-burst-length " + std::to_string(limits.first_burst_bytes) +
                       " exceeds max-burst-length " + std::to_string(limits.max_burst_bytes));
    // RFC 3720 12.17: MaxOutstandingR2T is 1..65535.
    if (limits.max_outstanding_r2t < 1 || limits.max_outstanding_r2t > 65535)
        return invalid("max-outstanding-r2t " + std::to_string(limits.max_outstanding_r2t) +
                       " is out of range (1..65535)");
    if (limits.cmd_window < 1 || limits.cmd_window > max_cmd_window)
        return invalid("cmd-window " + std::to_string(limits.cmd_window) + " is out of range (1.." +
                       std::to_string(max_cmd_window) + ")");

    return {};
}

}  // namespace itd::daemon
