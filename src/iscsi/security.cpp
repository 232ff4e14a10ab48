#include "iscsi/security.h"

namespace itd::iscsi {

namespace {

const char* method_name(bool chap) { return chap ? "CHAP" : "None"; }

}  // namespace

SecurityNegotiation::SecurityNegotiation(SecurityConfig cfg) : cfg_(std::move(cfg)) {}

std::expected<void, SecurityError> SecurityNegotiation::choose(std::string_view offer,
                                                               std::vector<TextPair>& answers) {
    if (method_ != Method::not_chosen) {
        // RFC 7143 6.2: not renegotiated within a login; an identical repeat is tolerated.
        if (offer != offered_) return std::unexpected(SecurityError::initiator_error);
        answers.push_back(TextPair{"AuthMethod", method_name(method_ == Method::chap)});
        return {};
    }
    // RFC 7143 12.1: a list in order of preference; the target picks one it supports. We
    // support exactly one method per target: CHAP when it has credentials, else None.
    auto items = split_list(offer);
    const std::string_view want = cfg_.chap ? "CHAP" : "None";
    bool offered = false;
    if (items)
        for (auto item : *items) offered = offered || item == want;
    if (!offered || (!cfg_.chap && cfg_.require_authentication)) {
        // RFC 7143 11.13.5: 0x0201 when authentication cannot succeed: None offered to a
        // target that requires CHAP, or only methods (KRB5, SRP…) we do not implement.
        return std::unexpected(SecurityError::authentication_failure);
    }
    offered_ = std::string(offer);
    if (cfg_.chap) {
        method_ = Method::chap;
        chap_.emplace(*cfg_.chap, cfg_.mutual_chap);
    } else {
        method_ = Method::none;
    }
    answers.push_back(TextPair{"AuthMethod", std::string(want)});
    return {};
}

std::expected<void, SecurityError> SecurityNegotiation::on_request(std::span<const TextPair> pairs,
                                                                   std::vector<TextPair>& answers) {
    for (const auto& kv : pairs) {
        if (kv.key != "AuthMethod") continue;
        if (auto st = choose(kv.value, answers); !st) return st;
    }
    auto keys = collect_chap_keys(pairs);
    if (!keys) return std::unexpected(SecurityError::initiator_error);
    if (method_ != Method::chap) {
        // CHAP keys only follow AuthMethod=CHAP (RFC 7143 12.1.3).
        if (keys->any()) return std::unexpected(SecurityError::initiator_error);
        return {};
    }
    // Every request of a CHAP exchange goes to it, key-less ones too: a request that should
    // carry CHAP_N and CHAP_R but does not fails the login rather than stalling it.
    if (auto st = chap_->on_keys(*keys, answers); !st) {
        switch (st.error()) {
            case ChapError::authentication_failure:
                return std::unexpected(SecurityError::authentication_failure);
            case ChapError::initiator_error:
                return std::unexpected(SecurityError::initiator_error);
        }
    }
    return {};
}

bool SecurityNegotiation::complete() const {
    switch (method_) {
        case Method::none: return true;
        case Method::chap: return chap_->done();
        // An initiator may leave the security stage without offering AuthMethod at all
        // (RFC 7143 6.3.1 makes authentication optional) unless the target requires it.
        case Method::not_chosen: return !cfg_.requires_authentication();
    }
    return false;
}

}  // namespace itd::iscsi
