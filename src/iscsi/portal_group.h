// What every connection of the daemon shares: the targets it serves, the session table and
// the negotiation limits. Read-only once serving starts, except the session table, which
// locks itself.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "iscsi/acl.h"
#include "iscsi/discovery.h"
#include "iscsi/login.h"
#include "iscsi/negotiation.h"
#include "iscsi/session.h"
#include "scsi/target.h"

namespace itd::iscsi {

struct TargetEntry {
    std::string name;
    std::string alias;
    std::shared_ptr<scsi::Target> scsi;
    // Portals reported by SendTargets, as "host:port,tpgt" ("[v6]:port,tpgt").
    std::vector<std::string> addresses;
    // Who may log in and see the target in SendTargets; empty: everyone (acl.h).
    std::vector<AllowRule> allow;
    // CHAP credentials for logins to this target (security.h); no chap: AuthMethod=None.
    SecurityConfig security;
};

struct PortalGroup {
    TargetLimits limits;
    std::uint16_t target_portal_group_tag = 1;
    std::uint32_t cmd_window = 128;
    std::vector<TargetEntry> targets;
    // CHAP for discovery sessions ([discovery] in the config file).
    SecurityConfig discovery_security;
    SessionTable sessions;

    const TargetEntry* find_target(std::string_view name) const {
        for (const auto& t : targets)
            if (t.name == name) return &t;
        return nullptr;
    }
};

}  // namespace itd::iscsi
