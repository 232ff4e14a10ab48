// iSCSI names (RFC 3720 3.2.6). Initiators compare names byte for byte, so we accept only the
// normalised (stringprep'd, lowercase) form rather than guess what the user meant.
#include <unistd.h>

#include <array>
#include <climits>
#include <string>

#include "daemon/config.h"

namespace itd::daemon {

namespace {

// RFC 3720 3.2.6.1: an iSCSI name is at most 223 bytes.
constexpr std::size_t max_name_bytes = 223;
constexpr std::string_view default_prefix = "iqn.2026-11.org.itd:";

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_iqn_char(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == ':';
}

std::unexpected<Error> bad_name(std::string_view name, std::string_view why) {
    return fail(Errc::invalid_argument,
                "invalid target name '" + std::string(name) + "': " + std::string(why));
}

bool all_hex(std::string_view text) {
    for (char c : text)
        if (!is_hex(c)) return false;
    return true;
}

// RFC 3720 3.2.6.3.1: "iqn." date "." reversed-domain [":" unique-string], with date yyyy-mm.
Status validate_iqn(std::string_view name) {
    const std::string_view rest = name.substr(4);
    const bool date_ok = rest.size() >= 7 && is_digit(rest[0]) && is_digit(rest[1]) &&
                         is_digit(rest[2]) && is_digit(rest[3]) && rest[4] == '-' &&
                         is_digit(rest[5]) && is_digit(rest[6]);
    if (!date_ok) return bad_name(name, "expected iqn.YYYY-MM.reversed.domain[:name]");
    const int month = (rest[5] - '0') * 10 + (rest[6] - '0');
    if (month < 1 || month > 12) return bad_name(name, "month must be 01..12");
    if (rest.size() < 9 || rest[7] != '.' || rest[8] == ':' || rest[8] == '.')
        return bad_name(name,
                        "expected a naming authority after the date, "
                        "e.g. iqn.2026-11.org.example:disk0");
    for (char c : name) {
        if (c >= 'A' && c <= 'Z') return bad_name(name, "iqn names must be lowercase");
        if (!is_iqn_char(c)) return bad_name(name, "iqn names may contain only a-z 0-9 . - :");
    }
    return {};
}

}  // namespace

Status validate_target_name(std::string_view name) {
    if (name.empty()) return bad_name(name, "empty");
    if (name.size() > max_name_bytes) return bad_name(name, "longer than 223 bytes");
    if (name.starts_with("iqn.")) return validate_iqn(name);
    // RFC 3720 3.2.6.3.2: "eui." and 16 hex digits (an EUI-64).
    if (name.starts_with("eui.")) {
        if (name.size() != 4 + 16 || !all_hex(name.substr(4)))
            return bad_name(name, "expected eui. and 16 hex digits");
        return {};
    }
    // RFC 3980: "naa." and 16 or 32 hex digits.
    if (name.starts_with("naa.")) {
        if ((name.size() != 4 + 16 && name.size() != 4 + 32) || !all_hex(name.substr(4)))
            return bad_name(name, "expected naa. and 16 or 32 hex digits");
        return {};
    }
    return bad_name(name, "must start with iqn., eui. or naa.");
}

std::string default_target_name() {
    std::array<char, HOST_NAME_MAX + 1> buffer{};
    std::string host;
    if (gethostname(buffer.data(), buffer.size() - 1) == 0) host = buffer.data();
    std::string name(default_prefix);
    for (char c : host) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        name += (is_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '.') ? c : '-';
    }
    if (host.empty()) name += "localhost";
    if (name.size() > max_name_bytes) name.resize(max_name_bytes);
    return name;
}

}  // namespace itd::daemon
