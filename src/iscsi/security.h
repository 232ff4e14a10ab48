// The security stage of login (RFC 7143 6.3.1, 12): choosing an AuthMethod and running it.
// AuthMethod=None, or CHAP (chap.h) when the target has CHAP credentials: then CHAP is the
// only method offered and None is refused, so configuring a secret cannot be bypassed.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "iscsi/chap.h"
#include "iscsi/text.h"

namespace itd::iscsi {

struct SecurityConfig {
    // When set, the initiator must authenticate with CHAP as this user and secret.
    std::optional<ChapCredentials> chap;
    // When set (with chap), a mutual CHAP challenge is answered with these (RFC 7143 12.1.3).
    std::optional<ChapCredentials> mutual_chap;
    // Refuse AuthMethod=None even without CHAP credentials (then no login can pass).
    bool require_authentication = false;

    bool requires_authentication() const { return require_authentication || chap.has_value(); }
};

enum class SecurityError : std::uint8_t {
    authentication_failure,  // no acceptable method, or the exchange failed (0x0201)
    initiator_error,         // CHAP_* keys without CHAP, AuthMethod changed mid-login
};

class SecurityNegotiation {
public:
    explicit SecurityNegotiation(SecurityConfig cfg);

    // Reads the security keys of one Login Request in the security stage and appends answers.
    [[nodiscard]] std::expected<void, SecurityError> on_request(std::span<const TextPair> pairs,
                                                                std::vector<TextPair>& answers);

    // Whether the initiator has done what the target needs to leave the security stage.
    bool complete() const;
    // True when the initiator can no longer pass: it asks to leave the stage (or skipped it)
    // without ever having offered an AuthMethod the target requires.
    bool never_started() const { return method_ == Method::not_chosen; }
    bool requires_authentication() const { return cfg_.requires_authentication(); }

private:
    enum class Method : std::uint8_t { not_chosen, none, chap };

    std::expected<void, SecurityError> choose(std::string_view offer,
                                              std::vector<TextPair>& answers);

    SecurityConfig cfg_;
    Method method_ = Method::not_chosen;
    std::string offered_;  // the AuthMethod value the initiator offered
    std::optional<ChapTarget> chap_;
};

}  // namespace itd::iscsi
