// SendTargets (RFC 7143 Appendix C, 13.3): the text answer listing targets and their
// addresses, as a pure function of the request value and the targets the caller may show.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace itd::iscsi {

struct TargetRecord {
    std::string name;
    std::vector<std::string> addresses;  // "host:port,tpgt" or "[v6]:port,tpgt"
};

// value: "All", a target name, or empty (the session's own target: the caller passes only
// that one in a normal session). "All" is valid only in discovery sessions; in a normal
// session it is answered SendTargets=Reject (RFC 7143 Appendix C). Unknown names give an
// empty answer.
std::vector<std::uint8_t> send_targets(std::string_view value, std::span<const TargetRecord> targets,
                                       bool discovery_session);

}  // namespace itd::iscsi
