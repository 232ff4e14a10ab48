#include "iscsi/discovery.h"

#include "iscsi/text.h"

namespace itd::iscsi {

std::vector<std::uint8_t> send_targets(std::string_view value, std::span<const TargetRecord> targets,
                                       bool discovery_session) {
    std::vector<std::uint8_t> out;
    if (value == "All" && !discovery_session) {
        append_text(out, "SendTargets", "Reject");
        return out;
    }
    for (const auto& t : targets) {
        // "All" lists every target; a name lists that target; empty means the session's
        // target (in a discovery session, where there is none, nothing).
        const bool wanted = value == "All" ? true
                            : value.empty() ? !discovery_session
                                            : t.name == value;
        if (!wanted) continue;
        // RFC 7143 Appendix C: TargetName, then each of its TargetAddress keys.
        append_text(out, "TargetName", t.name);
        for (const auto& a : t.addresses) append_text(out, "TargetAddress", a);
    }
    return out;
}

}  // namespace itd::iscsi
