#include "iscsi/acl.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace itd::iscsi {

namespace {

using Address = std::array<std::uint8_t, 16>;

// Enough for the longest IPv6 literal with an embedded IPv4 part (45 bytes) and its NUL.
constexpr std::size_t kMaxLiteralBytes = 64;

std::optional<std::pair<Address, bool>> parse_literal(std::string_view text) {
    if (text.empty() || text.size() >= kMaxLiteralBytes) return std::nullopt;
    char buf[kMaxLiteralBytes];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    Address out{};
    in_addr v4{};
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        // RFC 4291 2.5.5.2: the IPv4-mapped form, which is how a dual-stack socket reports an
        // IPv4 peer; storing both families this way makes "127.0.0.1" match "::ffff:127.0.0.1".
        out[10] = 0xff;
        out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        return std::pair{out, true};
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, buf, &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        return std::pair{out, false};
    }
    return std::nullopt;
}

bool is_name(std::string_view text) {
    return text.starts_with("iqn.") || text.starts_with("eui.") || text.starts_with("naa.") ||
           text.starts_with("IQN.") || text.starts_with("EUI.") || text.starts_with("NAA.");
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool prefix_matches(const Address& rule, const Address& peer, unsigned prefix_bits) {
    const unsigned whole = prefix_bits / 8;
    if (std::memcmp(rule.data(), peer.data(), whole) != 0) return false;
    const unsigned rest = prefix_bits % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (rule[whole] & mask) == (peer[whole] & mask);
}

}  // namespace

std::optional<AllowRule> parse_allow_rule(std::string_view text) {
    AllowRule rule;
    if (is_name(text)) {
        // RFC 7143 4.2.7.1: at most 223 bytes, no spaces or control characters.
        if (text.size() <= 4 || text.size() > 223) return std::nullopt;
        for (char c : text)
            if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return std::nullopt;
        rule.kind = AllowRule::Kind::name;
        for (char c : text) rule.name.push_back(lower(c));
        return rule;
    }
    rule.kind = AllowRule::Kind::address;
    std::string_view host = text;
    std::optional<unsigned> prefix;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        host = text.substr(0, slash);
        const std::string_view digits = text.substr(slash + 1);
        unsigned value = 0;
        const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || digits.size() > 3 || ec != std::errc{} ||
            ptr != digits.data() + digits.size())
            return std::nullopt;
        prefix = value;
    }
    if (host.find('%') != std::string_view::npos) return std::nullopt;  // zones: not in rules
    auto literal = parse_literal(host);
    if (!literal) return std::nullopt;
    const auto& [address, v4] = *literal;
    const unsigned max_bits = v4 ? 32 : 128;
    if (prefix && *prefix > max_bits) return std::nullopt;
    rule.address = address;
    rule.prefix_bits = (v4 ? 96 : 0) + prefix.value_or(max_bits);
    return rule;
}

std::optional<std::array<std::uint8_t, 16>> parse_peer_address(std::string_view text) {
    // A link-local peer carries its zone ("fe80::1%eth0"); rules never name one.
    if (auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
    auto literal = parse_literal(text);
    if (!literal) return std::nullopt;
    return literal->first;
}

bool acl_allows(std::span<const AllowRule> rules, std::string_view initiator_name,
                std::string_view peer_address) {
    if (rules.empty()) return true;
    const auto peer = parse_peer_address(peer_address);
    for (const auto& rule : rules) {
        switch (rule.kind) {
            case AllowRule::Kind::name: {
                if (rule.name.size() != initiator_name.size()) break;
                bool same = true;
                for (std::size_t i = 0; i < rule.name.size() && same; ++i)
                    same = rule.name[i] == lower(initiator_name[i]);
                if (same) return true;
                break;
            }
            case AllowRule::Kind::address:
                if (peer && prefix_matches(rule.address, *peer, rule.prefix_bits)) return true;
                break;
        }
    }
    return false;
}

}  // namespace itd::iscsi
