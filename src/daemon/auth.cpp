// CHAP credentials and allow lists in the configuration. Messages name the key that is wrong
// and never the value: a secret must not end up in a terminal, a log or a bug report.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "daemon/config.h"
#include "iscsi/acl.h"

namespace itd::daemon {

namespace {

std::unexpected<Error> invalid(std::string message) {
    return fail(Errc::invalid_argument, std::move(message));
}

Status check_chap(const ChapConfig& chap, std::string_view prefix) {
    const std::string user_key = std::string(prefix) + "chap-user";
    const std::string secret_key = std::string(prefix) + "chap-secret";
    // RFC 7143 12.1.3: CHAP_N is a text value, at most 255 bytes, and cannot hold a NUL.
    if (chap.user.empty() || chap.user.size() > 255)
        return invalid(user_key + " must be 1..255 bytes long");
    if (chap.user.find('\0') != std::string::npos) return invalid(user_key + " contains a NUL");
    // RFC 7143 12.1.3 asks for secrets with at least 96 bits of randomness: 12 bytes.
    if (chap.secret.size() < min_chap_secret_bytes || chap.secret.size() > max_chap_secret_bytes)
        return invalid(secret_key + " must be " + std::to_string(min_chap_secret_bytes) + ".." +
                       std::to_string(max_chap_secret_bytes) + " bytes long");
    return {};
}

}  // namespace

Status validate_auth(const AuthConfig& auth) {
    if (auth.chap) {
        if (auto st = check_chap(*auth.chap, ""); !st) return st;
    }
    if (auth.mutual_chap) {
        if (auto st = check_chap(*auth.mutual_chap, "mutual-"); !st) return st;
        // Mutual CHAP answers the initiator's challenge; without one-way CHAP first there is
        // no exchange to answer it in (RFC 7143 12.1.3).
        if (!auth.chap) return invalid("mutual-chap-user needs chap-user and chap-secret too");
        // RFC 7143 12.1.3: the secrets of the two directions MUST differ, or a reflected
        // challenge would authenticate anyone.
        if (auth.mutual_chap->secret == auth.chap->secret)
            return invalid("mutual-chap-secret must differ from chap-secret");
    }
    return {};
}

Result<ChapConfig> read_chap_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int saved = errno;
        return invalid("cannot open --chap-file '" + path + "': " + std::strerror(saved));
    }
    // Bounded: a user, a space and a secret of at most 255 bytes each, and a line end.
    std::string text(600, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    const std::string bad = "--chap-file '" + path + "': expected one line 'USER SECRET'";
    if (text.size() >= 600) return invalid(bad + " (file too long)");
    if (text.ends_with("\n")) text.pop_back();
    if (text.ends_with("\r")) text.pop_back();
    const auto space = text.find(' ');
    if (space == std::string::npos || text.find('\n') != std::string::npos) return invalid(bad);
    ChapConfig chap{text.substr(0, space), text.substr(space + 1)};
    AuthConfig auth;
    auth.chap = chap;
    if (auto st = validate_auth(auth); !st)
        return invalid("--chap-file '" + path + "': " + st.error().message);
    return chap;
}

Status validate_allow_rule(std::string_view rule) {
    if (!iscsi::parse_allow_rule(rule))
        return invalid("allow entry '" + std::string(rule) +
                       "' is neither an iSCSI name (iqn.…, eui.…, naa.…) nor an IP address or "
                       "CIDR prefix (10.0.0.0/8, fd00::/8)");
    return {};
}

}  // namespace itd::daemon
