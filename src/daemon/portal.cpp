// Listen addresses. Only IP literals: a host name would need a resolver at start-up and could
// name several addresses, and a target binds to addresses, not names.
#include <arpa/inet.h>

#include <charconv>
#include <string>

#include "daemon/config.h"

namespace itd::daemon {

namespace {

std::unexpected<Error> bad_portal(std::string_view text, std::string_view why) {
    return fail(Errc::invalid_argument,
                "invalid listen address '" + std::string(text) + "': " + std::string(why));
}

bool is_ipv4(const std::string& host) {
    in_addr addr{};
    return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& host) {
    // A zone ("fe80::1%eth0") is for the socket layer to resolve; check the address part.
    const std::string address = host.substr(0, host.find('%'));
    if (address.size() != host.size() && address.size() + 1 == host.size()) return false;
    in6_addr addr{};
    return inet_pton(AF_INET6, address.c_str(), &addr) == 1;
}

Result<std::uint16_t> parse_port(std::string_view whole, std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    // Port 0 asks the kernel for any free port; the ready line names the one it gave (tests
    // use this to avoid port clashes).
    if (text.empty() || ec != std::errc{} || ptr != end || value > 65535)
        return bad_portal(whole, "port must be a number in 0..65535");
    return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<Portal> parse_portal(std::string_view text) {
    if (text.empty()) return bad_portal(text, "empty");

    std::string_view host;
    std::string_view port;
    bool bracketed = false;
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return bad_portal(text, "missing ']'");
        host = text.substr(1, close - 1);
        bracketed = true;
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return bad_portal(text, "expected ':PORT' after ']'");
            port = rest.substr(1);
            if (port.empty()) return bad_portal(text, "missing port after ':'");
        }
    } else if (const auto colon = text.find(':'); colon == std::string_view::npos) {
        // "3260" alone is a port; anything else alone is a host.
        if (text.find_first_not_of("0123456789") == std::string_view::npos)
            port = text;
        else
            host = text;
    } else {
        if (text.find(':', colon + 1) != std::string_view::npos)
            return bad_portal(text, "write an IPv6 address in brackets, e.g. [::1]:3260");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty()) return bad_portal(text, "missing port after ':'");
    }

    Portal portal;
    if (!port.empty()) {
        auto p = parse_port(text, port);
        if (!p) return std::unexpected(p.error());
        portal.port = *p;
    }
    if (host.empty() && !bracketed) {
        portal.host = "::";  // ":3260" and "3260": every address, IPv4 and IPv6
        return portal;
    }
    portal.host = std::string(host);
    if (bracketed ? !is_ipv6(portal.host) : !is_ipv4(portal.host))
        return bad_portal(text, bracketed ? "not an IPv6 address"
                                          : "not an IPv4 address (IPv6: [::1]:3260; host "
                                            "names are not accepted)");
    return portal;
}

std::string to_string(const Portal& portal) {
    const bool v6 = portal.host.find(':') != std::string::npos;
    return (v6 ? "[" + portal.host + "]" : portal.host) + ":" + std::to_string(portal.port);
}

}  // namespace itd::daemon
