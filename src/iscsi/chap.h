// CHAP for iSCSI login (RFC 7143 12.1.3, RFC 1994): the value decoder and the target's side
// of the exchange. The security stage (security.h) hands every CHAP_* key here once the
// AuthMethod is CHAP:
//
//   initiator                                   target
//   AuthMethod=CHAP,None   ------------------>  AuthMethod=CHAP
//   CHAP_A=<list>          ------------------>  CHAP_A=<a> CHAP_I=<id> CHAP_C=<challenge>
//   CHAP_N, CHAP_R         ------------------>  (verified against chap-secret)
//   [+ CHAP_I, CHAP_C: mutual]                  [CHAP_N, CHAP_R with mutual-chap-secret]
//
//   await_algorithm --CHAP_A--> await_response --CHAP_N/CHAP_R ok--> done
//          any bad key, value or response --> (error; the login fails)
//
// A response is digest(id || secret || challenge) (RFC 1994 4.1) with the hash CHAP_A names.
// Secrets never leave this file's objects: no log line or error carries them.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "iscsi/text.h"

namespace itd::iscsi {

// CHAP_A values (IANA "PPP Authentication Algorithms"; RFC 1994, RFC 7143 12.1.3, and the
// SHA ones Linux targets offer since 5.x).
enum class ChapAlgorithm : std::uint8_t { md5 = 5, sha1 = 6, sha256 = 7, sha3_256 = 8 };

std::size_t digest_bytes(ChapAlgorithm algorithm);

// RFC 7143 12.1.3: challenges and responses are binary values; we refuse any longer than 1024
// bytes (the RFC's bound on CHAP_C), before decoding.
inline constexpr std::size_t kMaxChapBinaryBytes = 1024;
// Our challenge: RFC 7143 12.1.3 asks for one at least as long as the digest; 32 bytes covers
// SHA-256 and SHA3-256.
inline constexpr std::size_t kChapChallengeBytes = 32;

struct ChapCredentials {
    std::string user;    // CHAP_N
    std::string secret;  // never logged
};

// ---- Decoder ---------------------------------------------------------------------------

// The first algorithm of a CHAP_A list we support; unknown or malformed members are skipped
// (RFC 7143 12.1.3: the target picks one of the initiator's, in its order).
std::optional<ChapAlgorithm> choose_chap_algorithm(std::string_view chap_a);
// CHAP_I: a number 0..255 (decimal or 0x hex).
std::optional<std::uint8_t> parse_chap_identifier(std::string_view value);
// CHAP_C / CHAP_R: 0x hex or 0b base64, 1..kMaxChapBinaryBytes bytes; the text length is
// bounded before anything is decoded.
std::optional<std::vector<std::uint8_t>> parse_chap_binary(std::string_view value);

// The CHAP keys of one Login Request. A key given twice, or a CHAP_* key we do not know, is
// malformed.
struct ChapKeys {
    std::optional<std::string_view> a, i, c, n, r;
    bool any() const { return a || i || c || n || r; }
};
enum class ChapKeyError : std::uint8_t { unknown_key, repeated_key };
[[nodiscard]] std::expected<ChapKeys, ChapKeyError> collect_chap_keys(
    std::span<const TextPair> pairs);

// digest(id || secret || challenge), RFC 1994 4.1.
std::vector<std::uint8_t> chap_response(ChapAlgorithm algorithm, std::uint8_t id,
                                        std::string_view secret,
                                        std::span<const std::uint8_t> challenge);

// ---- The target's side of the exchange ----------------------------------------------------

enum class ChapError : std::uint8_t {
    authentication_failure,  // wrong user or response, unusable values, reflection (0x0201)
    initiator_error,         // keys out of order (0x0200)
};

class ChapTarget {
public:
    // `initiator` authenticates to us; `target`, when set, is what we answer a mutual
    // challenge with. Without it a mutual challenge fails.
    ChapTarget(ChapCredentials initiator, std::optional<ChapCredentials> target);

    // One request's CHAP keys; appends our CHAP keys to answers.
    [[nodiscard]] std::expected<void, ChapError> on_keys(const ChapKeys& keys,
                                                         std::vector<TextPair>& answers);
    bool done() const { return state_ == State::done; }

private:
    enum class State : std::uint8_t { await_algorithm, await_response, done };

    std::expected<void, ChapError> send_challenge(const ChapKeys& keys,
                                                  std::vector<TextPair>& answers);
    std::expected<void, ChapError> verify(const ChapKeys& keys, std::vector<TextPair>& answers);

    ChapCredentials initiator_;
    std::optional<ChapCredentials> target_;
    State state_ = State::await_algorithm;
    ChapAlgorithm algorithm_ = ChapAlgorithm::md5;
    std::uint8_t id_ = 0;
    std::array<std::uint8_t, kChapChallengeBytes> challenge_{};
};

}  // namespace itd::iscsi
