#include "iscsi/security.h"

namespace itd::iscsi {

std::expected<void, SecurityError> SecurityNegotiation::on_request(std::span<const TextPair> pairs,
                                                                   std::vector<TextPair>& answers) {
    for (const auto& kv : pairs) {
        if (kv.key.starts_with("CHAP_")) {
            // CHAP keys only follow AuthMethod=CHAP, which we never chose.
            return std::unexpected(SecurityError::initiator_error);
        }
        if (kv.key != "AuthMethod") continue;
        if (method_ != Method::not_chosen) {
            // RFC 7143 6.2: not renegotiated within a login; an identical repeat is tolerated.
            if (kv.value == offered_) {
                answers.push_back(TextPair{"AuthMethod", "None"});
                continue;
            }
            return std::unexpected(SecurityError::initiator_error);
        }
        // RFC 7143 12.1: a list in order of preference; the target picks one it supports.
        auto items = split_list(kv.value);
        bool none_offered = false;
        if (items)
            for (auto item : *items) none_offered = none_offered || item == "None";
        if (!none_offered || cfg_.require_authentication) {
            // RFC 7143 11.13.5: 0x0201 when authentication cannot succeed (only CHAP, KRB5,
            // SRP… offered, and none of them is implemented yet).
            return std::unexpected(SecurityError::authentication_failure);
        }
        method_ = Method::none;
        offered_ = kv.value;
        answers.push_back(TextPair{"AuthMethod", "None"});
    }
    return {};
}

bool SecurityNegotiation::complete() const {
    switch (method_) {
        case Method::none: return true;
        // An initiator may leave the security stage without offering AuthMethod at all
        // (RFC 7143 6.3.1 makes authentication optional) unless the target requires it.
        case Method::not_chosen: return !cfg_.require_authentication;
    }
    return false;
}

}  // namespace itd::iscsi
