// The security stage of login (RFC 7143 6.3.1, 12): choosing an AuthMethod and running it.
// Only AuthMethod=None is implemented. CHAP (RFC 7143 12.1.3) slots in as its own file:
// choose() offers "CHAP" when the target requires it and the CHAP_* keys go to that exchange
// through on_request(), which already receives them.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <vector>

#include "iscsi/text.h"

namespace itd::iscsi {

struct SecurityConfig {
    // When true, AuthMethod=None is refused (no method is implemented yet that could pass).
    bool require_authentication = false;
};

enum class SecurityError : std::uint8_t {
    authentication_failure,  // no acceptable method, or the exchange failed (0x0201)
    initiator_error,         // CHAP_* keys without CHAP, AuthMethod changed mid-login
};

class SecurityNegotiation {
public:
    explicit SecurityNegotiation(SecurityConfig cfg) : cfg_(cfg) {}

    // Reads the security keys of one Login Request in the security stage and appends answers.
    [[nodiscard]] std::expected<void, SecurityError> on_request(std::span<const TextPair> pairs,
                                                                std::vector<TextPair>& answers);

    // Whether the initiator has done what the target needs to leave the security stage.
    bool complete() const;

private:
    enum class Method : std::uint8_t { not_chosen, none };

    SecurityConfig cfg_;
    Method method_ = Method::not_chosen;
    std::string offered_;  // the AuthMethod value we answered
};

}  // namespace itd::iscsi
