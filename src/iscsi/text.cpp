#include "iscsi/text.h"

#include <algorithm>

namespace itd::iscsi {

namespace {

// RFC 7143 6.1: key names are made of letters, digits and . - + @ _ ; the "X#" prefix of
// IANA-registered extension keys adds '#'.
bool key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '+' || c == '@' || c == '_' || c == '#';
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int base64_digit(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view s) {
    // RFC 4648 with padding, as RFC 7143 6.1 asks for base64-constant.
    if (s.empty() || s.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    while (pad < 2 && s[s.size() - 1 - pad] == '=') ++pad;
    std::vector<std::uint8_t> out;
    out.reserve(s.size() / 4 * 3);
    std::uint32_t acc = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        int d = 0;
        if (i >= s.size() - pad) {
            d = 0;
        } else {
            d = base64_digit(s[i]);
            if (d < 0) return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(d);
        if (i % 4 == 3) {
            out.push_back(static_cast<std::uint8_t>(acc >> 16));
            out.push_back(static_cast<std::uint8_t>(acc >> 8));
            out.push_back(static_cast<std::uint8_t>(acc));
            acc = 0;
        }
    }
    out.resize(out.size() - pad);
    return out;
}

}  // namespace

const char* to_string(TextError e) {
    switch (e) {
        case TextError::unterminated: return "text not NUL-terminated";
        case TextError::missing_equals: return "key without '='";
        case TextError::bad_key: return "malformed key";
        case TextError::value_too_long: return "value too long";
        case TextError::too_long: return "text too long";
    }
    return "unknown text error";
}

std::expected<std::vector<TextPair>, TextError> parse_text(std::span<const std::uint8_t> bytes) {
    std::vector<TextPair> out;
    std::string_view rest(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    while (!rest.empty()) {
        const std::size_t nul = rest.find('\0');
        if (nul == std::string_view::npos) return std::unexpected(TextError::unterminated);
        const std::string_view entry = rest.substr(0, nul);
        if (entry.empty()) {
            // Padding NULs at the very end are tolerated; an empty entry before more text is
            // not a key=value.
            if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == '\0'; })) break;
            return std::unexpected(TextError::missing_equals);
        }
        const std::size_t eq = entry.find('=');
        if (eq == std::string_view::npos) return std::unexpected(TextError::missing_equals);
        const std::string_view key = entry.substr(0, eq);
        const std::string_view value = entry.substr(eq + 1);
        if (key.empty() || key.size() > kMaxKeyBytes || !std::all_of(key.begin(), key.end(), key_char))
            return std::unexpected(TextError::bad_key);
        if (value.size() > kMaxValueBytes) return std::unexpected(TextError::value_too_long);
        out.push_back(TextPair{std::string(key), std::string(value)});
        rest.remove_prefix(nul + 1);
    }
    return out;
}

void append_text(std::vector<std::uint8_t>& out, std::string_view key, std::string_view value) {
    out.insert(out.end(), key.begin(), key.end());
    out.push_back('=');
    out.insert(out.end(), value.begin(), value.end());
    out.push_back('\0');
}

std::vector<std::uint8_t> encode_text(std::span<const TextPair> pairs) {
    std::vector<std::uint8_t> out;
    for (const auto& p : pairs) append_text(out, p.key, p.value);
    return out;
}

std::expected<std::optional<std::vector<TextPair>>, TextError> TextAccumulator::add(
    std::span<const std::uint8_t> segment, bool continues) {
    if (segment.size() > max_total_bytes_ - bytes_.size()) {
        reset();
        return std::unexpected(TextError::too_long);
    }
    bytes_.insert(bytes_.end(), segment.begin(), segment.end());
    if (continues) {
        in_sequence_ = true;
        return std::optional<std::vector<TextPair>>{};
    }
    auto pairs = parse_text(bytes_);
    reset();
    if (!pairs) return std::unexpected(pairs.error());
    return std::optional<std::vector<TextPair>>(std::move(*pairs));
}

std::optional<std::uint64_t> parse_number(std::string_view value, bool allow_base64) {
    if (value.empty()) return std::nullopt;
    std::uint64_t v = 0;
    if (value.size() > 2 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X')) {
        const std::string_view digits = value.substr(2);
        if (digits.size() > 16) return std::nullopt;
        for (char c : digits) {
            const int d = hex_digit(c);
            if (d < 0) return std::nullopt;
            v = (v << 4) | static_cast<std::uint64_t>(d);
        }
        return v;
    }
    if (value.size() > 2 && value[0] == '0' && (value[1] == 'b' || value[1] == 'B')) {
        if (!allow_base64) return std::nullopt;
        auto bytes = decode_base64(value.substr(2));
        if (!bytes || bytes->empty() || bytes->size() > 8) return std::nullopt;
        for (auto b : *bytes) v = (v << 8) | b;
        return v;
    }
    // Decimal. RFC 7143 6.1's grammar has no leading zeros; we accept them (no initiator is
    // known to send them, and refusing a login over "08192" helps nobody).
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

std::optional<bool> parse_boolean(std::string_view value) {
    if (value == "Yes") return true;
    if (value == "No") return false;
    return std::nullopt;
}

std::optional<std::vector<std::string_view>> split_list(std::string_view value) {
    std::vector<std::string_view> out;
    while (true) {
        const std::size_t comma = value.find(',');
        const std::string_view item = value.substr(0, comma);
        if (item.empty()) return std::nullopt;
        out.push_back(item);
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return out;
}

std::optional<std::vector<std::uint8_t>> parse_binary(std::string_view value) {
    if (value.size() < 3 || value[0] != '0') return std::nullopt;
    const std::string_view body = value.substr(2);
    if (value[1] == 'b' || value[1] == 'B') return decode_base64(body);
    if (value[1] != 'x' && value[1] != 'X') return std::nullopt;
    // An odd number of hex digits has an implied leading zero nibble.
    std::vector<std::uint8_t> out;
    out.reserve(body.size() / 2 + 1);
    std::size_t i = 0;
    if (body.size() % 2 == 1) {
        const int d = hex_digit(body[0]);
        if (d < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(d));
        i = 1;
    }
    for (; i < body.size(); i += 2) {
        const int hi = hex_digit(body[i]);
        const int lo = hex_digit(body[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

std::string hex_binary(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out = "0x";
    out.reserve(2 + 2 * bytes.size());
    for (auto b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0xf]);
    }
    return out;
}

}  // namespace itd::iscsi
