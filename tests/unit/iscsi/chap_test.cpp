// The CHAP decoder and the target's side of the exchange (chap.h), checked against digests
// computed independently: Python hashlib for the fixed vectors, OpenSSL's one-shot EVP_Digest
// for the exchanges.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <map>
#include <string>

#include "iscsi/chap.h"

namespace itd::iscsi {
namespace {

constexpr const char* kSecret = "itd-test-secret";

std::vector<std::uint8_t> one_shot(ChapAlgorithm a, std::uint8_t id, std::string_view secret,
                                   std::span<const std::uint8_t> challenge) {
    std::vector<std::uint8_t> msg{id};
    msg.insert(msg.end(), secret.begin(), secret.end());
    msg.insert(msg.end(), challenge.begin(), challenge.end());
    const EVP_MD* md = a == ChapAlgorithm::md5      ? EVP_md5()
                       : a == ChapAlgorithm::sha1   ? EVP_sha1()
                       : a == ChapAlgorithm::sha256 ? EVP_sha256()
                                                    : EVP_sha3_256();
    std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
    unsigned len = 0;
    EXPECT_EQ(EVP_Digest(msg.data(), msg.size(), out.data(), &len, md, nullptr), 1);
    out.resize(len);
    return out;
}

std::vector<std::uint8_t> counting(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i);
    return v;
}

TEST(Chap, KnownVectors) {
    // id 0x2a, secret "itd-test-secret", challenge 00 01 .. 0f; digests from Python hashlib.
    const auto challenge = counting(16);
    const std::pair<ChapAlgorithm, const char*> vectors[] = {
        {ChapAlgorithm::md5, "0xEA1119B370DD526FFAC7CD5134439C8D"},
        {ChapAlgorithm::sha1, "0x26EFD78BC752637759C404638112AB48D220BB74"},
        {ChapAlgorithm::sha256, "0x985B5AAAC7D806A0CA685427BF460BE0ADFF5A40AD369D66BF34838D6491C423"},
        {ChapAlgorithm::sha3_256,
         "0x7C1E7D923DE3197774F6360FEDA5667684ED4DBAC8DA9B295711057F04E1A2DE"},
    };
    for (const auto& [a, hex] : vectors) {
        auto r = chap_response(a, 0x2a, kSecret, challenge);
        EXPECT_EQ(hex_binary(r), hex);
        EXPECT_EQ(r.size(), digest_bytes(a));
        EXPECT_EQ(r, one_shot(a, 0x2a, kSecret, challenge));
    }
}

TEST(Chap, ChoosesTheFirstSupportedAlgorithm) {
    EXPECT_EQ(choose_chap_algorithm("5"), ChapAlgorithm::md5);
    EXPECT_EQ(choose_chap_algorithm("7,5"), ChapAlgorithm::sha256);
    EXPECT_EQ(choose_chap_algorithm("128,8,5"), ChapAlgorithm::sha3_256);
    EXPECT_EQ(choose_chap_algorithm("x,6"), ChapAlgorithm::sha1);
    EXPECT_FALSE(choose_chap_algorithm("128"));
    EXPECT_FALSE(choose_chap_algorithm(""));
    EXPECT_FALSE(choose_chap_algorithm("5,,7"));
    EXPECT_FALSE(choose_chap_algorithm(std::string(300, '5')));
}

TEST(Chap, Identifier) {
    EXPECT_EQ(parse_chap_identifier("0"), 0);
    EXPECT_EQ(parse_chap_identifier("255"), 255);
    EXPECT_EQ(parse_chap_identifier("0x1f"), 0x1f);
    EXPECT_FALSE(parse_chap_identifier("256"));
    EXPECT_FALSE(parse_chap_identifier("-1"));
    EXPECT_FALSE(parse_chap_identifier(""));
    EXPECT_FALSE(parse_chap_identifier("000000000001"));
}

TEST(Chap, BinaryValuesAreBounded) {
    EXPECT_EQ(parse_chap_binary("0x00ff"), (std::vector<std::uint8_t>{0x00, 0xff}));
    EXPECT_EQ(parse_chap_binary("0bAP8="), (std::vector<std::uint8_t>{0x00, 0xff}));
    EXPECT_TRUE(parse_chap_binary("0x" + std::string(2 * kMaxChapBinaryBytes, 'a')));
    EXPECT_FALSE(parse_chap_binary("0x" + std::string(2 * kMaxChapBinaryBytes + 2, 'a')));
    EXPECT_FALSE(parse_chap_binary("0x" + std::string(1 << 20, 'a')));
    EXPECT_FALSE(parse_chap_binary("0x"));
    EXPECT_FALSE(parse_chap_binary("0xzz"));
    EXPECT_FALSE(parse_chap_binary("1234"));
    EXPECT_FALSE(parse_chap_binary("0b@@@@"));
}

TEST(Chap, CollectKeys) {
    std::vector<TextPair> pairs = {{"CHAP_N", "u"}, {"Other", "x"}, {"CHAP_R", "0x00"}};
    auto keys = collect_chap_keys(pairs);
    ASSERT_TRUE(keys);
    EXPECT_EQ(keys->n, "u");
    EXPECT_EQ(keys->r, "0x00");
    EXPECT_FALSE(keys->a);
    pairs.push_back({"CHAP_N", "v"});
    EXPECT_EQ(collect_chap_keys(pairs).error(), ChapKeyError::repeated_key);
    EXPECT_EQ(collect_chap_keys(std::vector<TextPair>{{"CHAP_X", "1"}}).error(),
              ChapKeyError::unknown_key);
}

// Drives a ChapTarget through CHAP_A and returns the target's answers as a map.
struct Exchange {
    ChapTarget target;
    std::map<std::string, std::string> challenge;

    explicit Exchange(std::optional<ChapCredentials> mutual = std::nullopt,
                      std::string_view algorithms = "5")
        : target(ChapCredentials{"alice", kSecret}, std::move(mutual)) {
        std::vector<TextPair> answers;
        ChapKeys keys;
        keys.a = algorithms;
        EXPECT_TRUE(target.on_keys(keys, answers));
        for (auto& kv : answers) challenge[kv.key] = kv.value;
    }
    ChapAlgorithm algorithm() const {
        return static_cast<ChapAlgorithm>(std::stoi(challenge.at("CHAP_A")));
    }
    std::string response(std::string_view secret) const {
        auto c = parse_chap_binary(challenge.at("CHAP_C"));
        return hex_binary(one_shot(algorithm(),
                                   static_cast<std::uint8_t>(std::stoi(challenge.at("CHAP_I"))),
                                   secret, *c));
    }
};

TEST(ChapTarget, ChallengeIsFreshAndLongEnough) {
    Exchange a, b;
    EXPECT_EQ(a.challenge.at("CHAP_A"), "5");
    auto ca = parse_chap_binary(a.challenge.at("CHAP_C"));
    ASSERT_TRUE(ca);
    EXPECT_GE(ca->size(), 16u);
    EXPECT_NE(a.challenge.at("CHAP_C"), b.challenge.at("CHAP_C"));
    EXPECT_EQ(Exchange(std::nullopt, "8,5").challenge.at("CHAP_A"), "8");
}

TEST(ChapTarget, OneWaySucceedsWithEachAlgorithm) {
    for (const char* a : {"5", "6", "7", "8"}) {
        Exchange x(std::nullopt, a);
        const std::string r = x.response(kSecret);
        ChapKeys keys;
        keys.n = "alice";
        keys.r = r;
        std::vector<TextPair> answers;
        EXPECT_TRUE(x.target.on_keys(keys, answers)) << a;
        EXPECT_TRUE(x.target.done());
        EXPECT_TRUE(answers.empty());
    }
}

TEST(ChapTarget, WrongSecretUserOrLengthFails) {
    struct Case {
        std::string user, secret;
        bool truncate;
    };
    for (const Case& c : {Case{"alice", "wrong-secret-xx", false}, Case{"bob", kSecret, false},
                          Case{"alice", kSecret, true}, Case{"", kSecret, false}}) {
        Exchange x;
        std::string r = x.response(c.secret);
        if (c.truncate) r.resize(r.size() - 2);
        ChapKeys keys;
        keys.n = c.user;
        keys.r = r;
        std::vector<TextPair> answers;
        auto st = x.target.on_keys(keys, answers);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error(), ChapError::authentication_failure);
        EXPECT_FALSE(x.target.done());
    }
}

TEST(ChapTarget, MalformedAndMissingKeysFail) {
    const std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> cases = {
        {std::nullopt, "0x00"}, {"alice", std::nullopt}, {"alice", "0x123"},
        {"alice", "0x" + std::string(4000, 'f')}, {"alice", "nonsense"}, {std::string(300, 'a'), "0x00"},
    };
    for (const auto& [n, r] : cases) {
        Exchange x;
        ChapKeys keys;
        if (n) keys.n = *n;
        if (r) keys.r = *r;
        std::vector<TextPair> answers;
        EXPECT_FALSE(x.target.on_keys(keys, answers));
    }
    // Keys out of order.
    ChapTarget t(ChapCredentials{"alice", kSecret}, std::nullopt);
    ChapKeys early;
    early.n = "alice";
    early.r = "0x00";
    std::vector<TextPair> answers;
    EXPECT_EQ(t.on_keys(early, answers).error(), ChapError::initiator_error);
    Exchange x;
    ChapKeys again;
    again.a = "5";
    EXPECT_EQ(x.target.on_keys(again, answers).error(), ChapError::initiator_error);
    // No supported algorithm.
    ChapTarget u(ChapCredentials{"alice", kSecret}, std::nullopt);
    ChapKeys md4;
    md4.a = "128";
    EXPECT_EQ(u.on_keys(md4, answers).error(), ChapError::authentication_failure);
}

TEST(ChapTarget, MutualAnswersWithTheTargetSecret) {
    const ChapCredentials mutual{"disk0", "target-secret-0123"};
    Exchange x(mutual, "7");
    const std::string r = x.response(kSecret);
    const auto my_challenge = counting(24);
    const std::string c = hex_binary(my_challenge);
    ChapKeys keys;
    keys.n = "alice";
    keys.r = r;
    keys.i = "77";
    keys.c = c;
    std::vector<TextPair> answers;
    ASSERT_TRUE(x.target.on_keys(keys, answers));
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0], (TextPair{"CHAP_N", "disk0"}));
    EXPECT_EQ(answers[1].key, "CHAP_R");
    EXPECT_EQ(answers[1].value,
              hex_binary(one_shot(ChapAlgorithm::sha256, 77, mutual.secret, my_challenge)));
    EXPECT_TRUE(x.target.done());
}

TEST(ChapTarget, MutualFailures) {
    const ChapCredentials mutual{"disk0", "target-secret-0123"};
    auto attempt = [&](std::optional<ChapCredentials> m, std::optional<std::string> i,
                       std::function<std::optional<std::string>(const Exchange&)> c) {
        Exchange x(m);
        const std::string r = x.response(kSecret);
        const auto cv = c(x);
        ChapKeys keys;
        keys.n = "alice";
        keys.r = r;
        if (i) keys.i = *i;
        if (cv) keys.c = *cv;
        std::vector<TextPair> answers;
        auto st = x.target.on_keys(keys, answers);
        EXPECT_TRUE(answers.empty());
        return st ? std::optional<ChapError>{} : std::optional<ChapError>{st.error()};
    };
    const auto fixed = [](const Exchange&) { return std::optional<std::string>("0x0102030405"); };
    // Reflection: our own challenge sent back must not be answered.
    EXPECT_EQ(attempt(mutual, "1", [](const Exchange& x) {
                  return std::optional<std::string>(x.challenge.at("CHAP_C"));
              }),
              ChapError::authentication_failure);
    // Mutual asked of a target without mutual credentials.
    EXPECT_EQ(attempt(std::nullopt, "1", fixed), ChapError::authentication_failure);
    // CHAP_I without CHAP_C and the reverse; bad identifier; bad challenge.
    EXPECT_EQ(attempt(mutual, "1", [](const Exchange&) { return std::optional<std::string>(); }),
              ChapError::authentication_failure);
    EXPECT_EQ(attempt(mutual, std::nullopt, fixed), ChapError::authentication_failure);
    EXPECT_EQ(attempt(mutual, "300", fixed), ChapError::authentication_failure);
    EXPECT_EQ(attempt(mutual, "1", [](const Exchange&) { return std::optional<std::string>("0x"); }),
              ChapError::authentication_failure);
}

}  // namespace
}  // namespace itd::iscsi
