#include "iscsi/chap.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <string>

#include "common/check.h"

namespace itd::iscsi {

namespace {

const EVP_MD* evp_md(ChapAlgorithm algorithm) {
    switch (algorithm) {
        case ChapAlgorithm::md5: return EVP_md5();
        case ChapAlgorithm::sha1: return EVP_sha1();
        case ChapAlgorithm::sha256: return EVP_sha256();
        case ChapAlgorithm::sha3_256: return EVP_sha3_256();
    }
    return nullptr;
}

// Equal lengths and equal bytes, in time that depends on the length only: a response
// compared byte by byte with an early exit tells an attacker how much of it was right.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool equal_name(std::string_view a, std::string_view b) {
    return constant_time_equal({reinterpret_cast<const std::uint8_t*>(a.data()), a.size()},
                               {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
}

}  // namespace

std::size_t digest_bytes(ChapAlgorithm algorithm) {
    switch (algorithm) {
        case ChapAlgorithm::md5: return 16;
        case ChapAlgorithm::sha1: return 20;
        case ChapAlgorithm::sha256: return 32;
        case ChapAlgorithm::sha3_256: return 32;
    }
    return 0;
}

std::optional<ChapAlgorithm> choose_chap_algorithm(std::string_view chap_a) {
    if (chap_a.size() > kMaxTextValueBytes) return std::nullopt;
    auto items = split_list(chap_a);
    if (!items) return std::nullopt;
    for (auto item : *items) {
        auto n = parse_number(item);
        if (!n) continue;
        switch (*n) {
            case 5: return ChapAlgorithm::md5;
            case 6: return ChapAlgorithm::sha1;
            case 7: return ChapAlgorithm::sha256;
            case 8: return ChapAlgorithm::sha3_256;
            default: break;  // someone else's algorithm: try the next
        }
    }
    return std::nullopt;
}

std::optional<std::uint8_t> parse_chap_identifier(std::string_view value) {
    if (value.size() > 8) return std::nullopt;
    auto n = parse_number(value);
    if (!n || *n > 255) return std::nullopt;
    return static_cast<std::uint8_t>(*n);
}

std::optional<std::vector<std::uint8_t>> parse_chap_binary(std::string_view value) {
    // Hex is the longer form: two digits a byte after "0x".
    if (value.size() > 2 + 2 * kMaxChapBinaryBytes) return std::nullopt;
    auto bytes = parse_binary(value);
    if (!bytes || bytes->empty() || bytes->size() > kMaxChapBinaryBytes) return std::nullopt;
    return bytes;
}

std::expected<ChapKeys, ChapKeyError> collect_chap_keys(std::span<const TextPair> pairs) {
    ChapKeys keys;
    for (const auto& kv : pairs) {
        if (!kv.key.starts_with("CHAP_")) continue;
        std::optional<std::string_view>* slot = nullptr;
        if (kv.key == "CHAP_A") slot = &keys.a;
        else if (kv.key == "CHAP_I") slot = &keys.i;
        else if (kv.key == "CHAP_C") slot = &keys.c;
        else if (kv.key == "CHAP_N") slot = &keys.n;
        else if (kv.key == "CHAP_R") slot = &keys.r;
        else return std::unexpected(ChapKeyError::unknown_key);
        // RFC 7143 6.1: a key appears at most once in a negotiation step.
        if (slot->has_value()) return std::unexpected(ChapKeyError::repeated_key);
        *slot = kv.value;
    }
    return keys;
}

std::vector<std::uint8_t> chap_response(ChapAlgorithm algorithm, std::uint8_t id,
                                        std::string_view secret,
                                        std::span<const std::uint8_t> challenge) {
    std::vector<std::uint8_t> out(digest_bytes(algorithm));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ITD_CHECK(ctx != nullptr);
    unsigned int len = 0;
    const bool ok = EVP_DigestInit_ex(ctx, evp_md(algorithm), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, &id, 1) == 1 &&
                    EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
                    EVP_DigestUpdate(ctx, challenge.data(), challenge.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
    EVP_MD_CTX_free(ctx);
    // The digests are built into libcrypto; failing here is a broken installation.
    ITD_CHECK(ok && len == out.size());
    return out;
}

ChapTarget::ChapTarget(ChapCredentials initiator, std::optional<ChapCredentials> target)
    : initiator_(std::move(initiator)), target_(std::move(target)) {}

std::expected<void, ChapError> ChapTarget::on_keys(const ChapKeys& keys,
                                                   std::vector<TextPair>& answers) {
    switch (state_) {
        case State::await_algorithm: return send_challenge(keys, answers);
        case State::await_response: return verify(keys, answers);
        case State::done:
            // RFC 7143 12.1.3: the exchange is over; more CHAP keys are a protocol error.
            if (keys.any()) return std::unexpected(ChapError::initiator_error);
            return {};
    }
    return std::unexpected(ChapError::initiator_error);
}

std::expected<void, ChapError> ChapTarget::send_challenge(const ChapKeys& keys,
                                                          std::vector<TextPair>& answers) {
    // The AuthMethod may be settled in a request of its own; CHAP_A follows in the next.
    if (!keys.any()) return {};
    if (!keys.a || keys.i || keys.c || keys.n || keys.r)
        return std::unexpected(ChapError::initiator_error);
    auto algorithm = choose_chap_algorithm(*keys.a);
    // RFC 7143 12.1.3: no common algorithm means the login cannot authenticate.
    if (!algorithm) return std::unexpected(ChapError::authentication_failure);
    algorithm_ = *algorithm;
    std::array<std::uint8_t, 1 + kChapChallengeBytes> random{};
    // RFC 1994 2.3: identifier and challenge unpredictable; without randomness no login.
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
        return std::unexpected(ChapError::authentication_failure);
    id_ = random[0];
    std::copy(random.begin() + 1, random.end(), challenge_.begin());
    answers.push_back(TextPair{"CHAP_A", std::to_string(static_cast<int>(algorithm_))});
    answers.push_back(TextPair{"CHAP_I", std::to_string(id_)});
    answers.push_back(TextPair{"CHAP_C", hex_binary(challenge_)});
    state_ = State::await_response;
    return {};
}

std::expected<void, ChapError> ChapTarget::verify(const ChapKeys& keys,
                                                  std::vector<TextPair>& answers) {
    if (keys.a) return std::unexpected(ChapError::initiator_error);
    if (!keys.n || !keys.r) return std::unexpected(ChapError::authentication_failure);
    auto response = parse_chap_binary(*keys.r);
    if (!response || keys.n->size() > kMaxTextValueBytes)
        return std::unexpected(ChapError::authentication_failure);
    const auto expected = chap_response(algorithm_, id_, initiator_.secret, challenge_);
    // Both checks always run, so the time taken does not say which one failed.
    const bool user_ok = equal_name(*keys.n, initiator_.user);
    const bool response_ok = constant_time_equal(*response, expected);
    if (!user_ok || !response_ok) return std::unexpected(ChapError::authentication_failure);

    // Mutual CHAP (RFC 7143 12.1.3): the initiator's CHAP_I and CHAP_C come together.
    if (keys.i.has_value() != keys.c.has_value())
        return std::unexpected(ChapError::authentication_failure);
    if (keys.c) {
        if (!target_) return std::unexpected(ChapError::authentication_failure);
        auto id = parse_chap_identifier(*keys.i);
        auto challenge = parse_chap_binary(*keys.c);
        if (!id || !challenge) return std::unexpected(ChapError::authentication_failure);
        // RFC 7143 12.1.3: a target that sees its own challenge come back must not answer
        // it, or it would compute the initiator's response for an attacker (reflection).
        if (constant_time_equal(*challenge, challenge_))
            return std::unexpected(ChapError::authentication_failure);
        answers.push_back(TextPair{"CHAP_N", target_->user});
        answers.push_back(
            TextPair{"CHAP_R", hex_binary(chap_response(algorithm_, *id, target_->secret,
                                                        *challenge))});
    }
    state_ = State::done;
    return {};
}

}  // namespace itd::iscsi
