#include <gtest/gtest.h>

#include <string>

#include "iscsi/text.h"

namespace itd::iscsi {
namespace {

using namespace std::string_literals;

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Text, ParsesPairsInOrder) {
    auto r = parse_text(bytes("InitiatorName=iqn.x\0HeaderDigest=None,CRC32C\0a=\0"s));
    ASSERT_TRUE(r) << to_string(r.error());
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0], (TextPair{"InitiatorName", "iqn.x"}));
    EXPECT_EQ((*r)[1], (TextPair{"HeaderDigest", "None,CRC32C"}));
    EXPECT_EQ((*r)[2], (TextPair{"a", ""}));
}

TEST(Text, ValueMayContainEquals) {
    auto r = parse_text(bytes("X-a=b=c\0"s));
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)[0].value, "b=c");
}

TEST(Text, EmptyIsEmpty) {
    auto r = parse_text({});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->empty());
}

TEST(Text, TrailingNulPaddingTolerated) {
    auto r = parse_text(bytes("A=1\0\0\0\0"s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 1u);
}

TEST(Text, Malformed) {
    struct Case {
        std::string text;
        TextError error;
    };
    const std::string long_key(64, 'K');
    const std::string long_value(kMaxValueBytes + 1, 'v');
    for (const auto& c : std::vector<Case>{
             {std::string("A=1"), TextError::unterminated},
             {"A=1\0B"s, TextError::unterminated},
             {"A\0"s, TextError::missing_equals},
             {"A=1\0\0B=2\0"s, TextError::missing_equals},
             {"=1\0"s, TextError::bad_key},
             {"A b=1\0"s, TextError::bad_key},
             {"A\xff=1\0"s, TextError::bad_key},
             {long_key + "=1\0"s, TextError::bad_key},
             {"A=" + long_value + "\0"s, TextError::value_too_long},
         }) {
        auto r = parse_text(bytes(c.text));
        ASSERT_FALSE(r) << c.text.substr(0, 20);
        EXPECT_EQ(r.error(), c.error) << c.text.substr(0, 20);
    }
    // 63 bytes is the longest key.
    EXPECT_TRUE(parse_text(bytes(std::string(63, 'K') + "=1\0"s)));
}

TEST(Text, EncodeRoundTrips) {
    std::vector<TextPair> pairs = {{"A", "1"}, {"TargetAddress", "[::1]:3260,1"}, {"E", ""}};
    auto enc = encode_text(pairs);
    EXPECT_EQ(std::string(enc.begin(), enc.end()), "A=1\0TargetAddress=[::1]:3260,1\0E=\0"s);
    auto dec = parse_text(enc);
    ASSERT_TRUE(dec);
    EXPECT_EQ(*dec, pairs);
}

TEST(TextAccumulator, JoinsAPairSplitAcrossPdus) {
    TextAccumulator acc;
    auto a = acc.add(bytes("InitiatorNa"), true);
    ASSERT_TRUE(a);
    EXPECT_FALSE(*a);
    EXPECT_TRUE(acc.pending());
    auto b = acc.add(bytes("me=iqn.x\0Max"s), true);
    ASSERT_TRUE(b);
    EXPECT_FALSE(*b);
    auto c = acc.add(bytes("BurstLength=512\0"s), false);
    ASSERT_TRUE(c);
    ASSERT_TRUE(*c);
    ASSERT_EQ((*c)->size(), 2u);
    EXPECT_EQ((**c)[0], (TextPair{"InitiatorName", "iqn.x"}));
    EXPECT_EQ((**c)[1], (TextPair{"MaxBurstLength", "512"}));
    EXPECT_FALSE(acc.pending());
}

TEST(TextAccumulator, Bounded) {
    TextAccumulator acc(16);
    ASSERT_TRUE(acc.add(bytes("0123456789"), true));
    auto r = acc.add(bytes("0123456789"), true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), TextError::too_long);
}

TEST(TextAccumulator, ErrorInFinalSegment) {
    TextAccumulator acc;
    ASSERT_TRUE(acc.add(bytes("A=1"), true));
    auto r = acc.add(bytes("2"), false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), TextError::unterminated);
}

TEST(TextValues, Numbers) {
    EXPECT_EQ(parse_number("0"), 0u);
    EXPECT_EQ(parse_number("8192"), 8192u);
    EXPECT_EQ(parse_number("0x2000"), 8192u);
    EXPECT_EQ(parse_number("0X2000"), 8192u);
    EXPECT_EQ(parse_number("18446744073709551615"), UINT64_MAX);
    EXPECT_FALSE(parse_number("18446744073709551616"));
    EXPECT_FALSE(parse_number("0x10000000000000000"));
    EXPECT_FALSE(parse_number(""));
    EXPECT_FALSE(parse_number("0x"));
    EXPECT_FALSE(parse_number("12a"));
    EXPECT_FALSE(parse_number("-1"));
    EXPECT_FALSE(parse_number(" 1"));
    EXPECT_FALSE(parse_number("0bAAA="));  // base64 only where allowed
    EXPECT_EQ(parse_number("0bIAA=", true), 0x2000u);
}

TEST(TextValues, BooleansAndLists) {
    EXPECT_EQ(parse_boolean("Yes"), true);
    EXPECT_EQ(parse_boolean("No"), false);
    EXPECT_FALSE(parse_boolean("yes"));
    EXPECT_FALSE(parse_boolean(""));
    auto l = split_list("CRC32C,None");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->size(), 2u);
    EXPECT_FALSE(split_list(""));
    EXPECT_FALSE(split_list("A,,B"));
    EXPECT_FALSE(split_list("A,"));
}

TEST(TextValues, Binary) {
    EXPECT_EQ(parse_binary("0x0aFF"), (std::vector<std::uint8_t>{0x0a, 0xff}));
    EXPECT_EQ(parse_binary("0xabc"), (std::vector<std::uint8_t>{0x0a, 0xbc}));
    EXPECT_EQ(parse_binary("0bAQID"), (std::vector<std::uint8_t>{1, 2, 3}));
    EXPECT_EQ(parse_binary("0bAQI="), (std::vector<std::uint8_t>{1, 2}));
    EXPECT_FALSE(parse_binary("0x"));
    EXPECT_FALSE(parse_binary("0xzz"));
    EXPECT_FALSE(parse_binary("0bA"));
    EXPECT_FALSE(parse_binary("ab"));
    EXPECT_EQ(hex_binary(std::vector<std::uint8_t>{0x0a, 0xff}), "0x0AFF");
}

}  // namespace
}  // namespace itd::iscsi
