#include "daemon/serve.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "common/check.h"

#include "iscsi/portal_group.h"
#include "net/server.h"
#include "scsi/target.h"
#include "volume/open.h"

namespace itd::daemon {

namespace {

std::string portal_list(const std::vector<std::string>& addresses) {
    std::string out;
    for (const auto& a : addresses) out += (out.empty() ? "" : ", ") + a;
    return out;
}

iscsi::TargetLimits limits_from(const Config& config) {
    iscsi::TargetLimits limits;
    limits.max_recv_data_segment_bytes = config.iscsi.max_recv_data_segment_bytes;
    limits.max_burst_bytes = config.iscsi.max_burst_bytes;
    limits.first_burst_bytes = config.iscsi.first_burst_bytes;
    limits.max_outstanding_r2t = config.iscsi.max_outstanding_r2t;
    limits.immediate_data = config.iscsi.immediate_data;
    limits.initial_r2t = config.iscsi.initial_r2t;
    return limits;
}

std::optional<iscsi::ChapCredentials> credentials(const std::optional<ChapConfig>& chap) {
    if (!chap) return std::nullopt;
    return iscsi::ChapCredentials{chap->user, chap->secret};
}

iscsi::SecurityConfig security_from(const AuthConfig& auth) {
    iscsi::SecurityConfig security;
    security.chap = credentials(auth.chap);
    security.mutual_chap = credentials(auth.mutual_chap);
    return security;
}

// Where LUN lun of target keeps its APTPL state (scsi::LunConfig::pr_state_path): in the state
// directory when there is one; else next to a file-backed LUN's regular file (not a block
// device: /dev is no place for it); else nowhere (APTPL not supported).
std::string pr_state_path(const Config& config, const std::string& target, std::size_t lun,
                          const LunSpec& spec) {
    if (!config.state_dir.empty()) {
        std::string name = target;
        for (char& c : name)
            if (c == '/') c = '_';
        return config.state_dir + "/" + name + ".lun" + std::to_string(lun) + ".pr";
    }
    if (spec.volume.backend == "file") {
        std::error_code ec;
        if (std::filesystem::is_regular_file(spec.volume.arg, ec)) return spec.volume.arg + ".pr";
    }
    return {};
}

}  // namespace

int serve(const Config& config) {
    iscsi::PortalGroup portal_group;
    portal_group.limits = limits_from(config);
    portal_group.cmd_window = config.iscsi.cmd_window;
    portal_group.discovery_security = security_from(config.discovery);

    if (!config.state_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(config.state_dir, ec);
        if (ec) {
            spdlog::error("--state-dir {}: {}", config.state_dir, ec.message());
            return 1;
        }
    }
    std::vector<std::shared_ptr<scsi::Target>> targets;
    for (const auto& tc : config.targets) {
        auto target = std::make_shared<scsi::Target>(tc.name);
        for (std::size_t lun = 0; lun < tc.luns.size(); ++lun) {
            volume::OpenOptions open_options;
            open_options.notice = [&](const std::string& text) {
                spdlog::info("target {} LUN {}: {}", tc.name, lun, text);
            };
            open_options.warning = [name = tc.name, lun](const std::string& text) {
                spdlog::warn("target {} LUN {}: {}", name, lun, text);
            };
            auto volume = volume::open_volume(tc.luns[lun].volume, open_options);
            if (!volume) {
                spdlog::error("target {} LUN {}: {}", tc.name, lun, volume.error().message);
                return 1;
            }
            const auto g = (*volume)->geometry();
            spdlog::info("target {} LUN {}: {} {} ({} blocks of {} bytes)", tc.name, lun,
                         tc.luns[lun].volume.backend, tc.luns[lun].volume.arg, g.block_count,
                         g.block_size_bytes);
            const LunSpec& spec = tc.luns[lun];
            scsi::LunConfig lun_config;
            lun_config.volume = std::move(*volume);
            lun_config.thin = spec.thin;
            lun_config.read_only = spec.read_only;
            lun_config.removable = spec.removable;
            lun_config.serial = spec.serial;
            lun_config.naa_id = spec.wwn;
            lun_config.sanitize_rate_bytes_per_s = spec.sanitize_rate_bytes_per_s;
            lun_config.pr_state_path = pr_state_path(config, tc.name, lun, spec);
            if (lun_config.pr_state_path.empty())
                spdlog::debug("target {} LUN {}: APTPL not supported (no --state-dir)", tc.name,
                              lun);
            else
                spdlog::debug("target {} LUN {}: APTPL state in {}", tc.name, lun,
                              lun_config.pr_state_path);
            target->add_lun(static_cast<std::uint32_t>(lun), std::move(lun_config));
        }
        // SPC-4 5.12.5: registrations and reservations made with APTPL=1 come back.
        if (auto st = target->restore_persistent_reservations(); !st) {
            spdlog::error("target {}: persistent reservations: {}", tc.name, st.error().message);
            return 1;
        }
        targets.push_back(target);
        // A target with portals of its own reports those in SendTargets; otherwise the
        // answer names the portal the initiator connected to.
        std::vector<std::string> addresses;
        for (const auto& p : tc.portals)
            addresses.push_back(to_string(p) + "," +
                                std::to_string(portal_group.target_portal_group_tag));
        iscsi::TargetEntry entry{tc.name, tc.alias, target, std::move(addresses), {}, {}};
        for (const auto& text : tc.allow) {
            // validate_config() checked every rule already.
            auto rule = iscsi::parse_allow_rule(text);
            ITD_CHECK(rule.has_value());
            entry.allow.push_back(std::move(*rule));
        }
        entry.security = security_from(tc.auth);
        // Say what protects the target, never with what.
        spdlog::info("target {}: {}{}{}", tc.name,
                     tc.auth.chap ? "CHAP required" : "no authentication",
                     tc.auth.mutual_chap ? ", mutual CHAP available" : "",
                     tc.allow.empty() ? ", all initiators allowed"
                                      : ", " + std::to_string(tc.allow.size()) + " allow rule(s)");
        portal_group.targets.push_back(std::move(entry));
    }

    // Every target is reachable on every portal (one portal group); the listen set is the
    // global list plus any portal a target names.
    net::Server server(portal_group, config.worker_threads);
    std::vector<net::ListenAddress> listen;
    auto add_listen = [&](const Portal& p) {
        for (const auto& l : listen)
            if (l.host == p.host && l.port == p.port) return;
        listen.push_back(net::ListenAddress{p.host, p.port});
    };
    for (const auto& p : config.listen) add_listen(p);
    for (const auto& tc : config.targets)
        for (const auto& p : tc.portals) add_listen(p);
    if (auto st = server.listen(listen); !st) {
        spdlog::error("{}", st.error().message);
        return 1;
    }
    const auto addresses = server.local_addresses();
    for (const auto& tc : config.targets)
        spdlog::info("ready: target {} with {} LUN(s) on {}", tc.name, tc.luns.size(),
                     portal_list(addresses));

    server.run();

    spdlog::info("stopping: sessions closed, flushing volumes");
    int status = 0;
    for (const auto& t : targets) {
        if (auto st = t->flush_all(); !st) {
            spdlog::error("flush failed: {}", st.error().message);
            status = 1;
        }
    }
    spdlog::info("stopped");
    return status;
}

}  // namespace itd::daemon
