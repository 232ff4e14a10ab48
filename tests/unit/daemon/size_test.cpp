#include <gtest/gtest.h>

#include "daemon/config.h"

namespace itd::daemon {
namespace {

TEST(ParseSize, PlainBytes) {
    EXPECT_EQ(parse_size("512"), 512u);
    EXPECT_EQ(parse_size("1"), 1u);
    EXPECT_EQ(parse_size("4096B"), 4096u);
}

TEST(ParseSize, BinarySuffixes) {
    EXPECT_EQ(parse_size("64K"), 64u << 10);
    EXPECT_EQ(parse_size("64k"), 64u << 10);
    EXPECT_EQ(parse_size("64M"), 64ull << 20);
    EXPECT_EQ(parse_size("1G"), 1ull << 30);
    EXPECT_EQ(parse_size("2T"), 2ull << 40);
    EXPECT_EQ(parse_size("3P"), 3ull << 50);
    EXPECT_EQ(parse_size("64KiB"), 64u << 10);
    EXPECT_EQ(parse_size("64MiB"), 64ull << 20);
    EXPECT_EQ(parse_size("1GiB"), 1ull << 30);
    EXPECT_EQ(parse_size("1gib"), 1ull << 30);
    EXPECT_EQ(parse_size("2TiB"), 2ull << 40);
}

TEST(ParseSize, Largest) {
    EXPECT_EQ(parse_size("18446744073709551615"), UINT64_MAX);
    EXPECT_EQ(parse_size("16383P"), 16383ull << 50);
}

TEST(ParseSize, RejectsZero) {
    for (const char* text : {"0", "0K", "0G", "000"}) {
        auto size = parse_size(text);
        ASSERT_FALSE(size) << text;
        EXPECT_EQ(size.error().code, Errc::invalid_argument);
        EXPECT_NE(size.error().message.find("zero"), std::string::npos) << text;
    }
}

TEST(ParseSize, RejectsOverflow) {
    for (const char* text : {"18446744073709551616", "99999999999999999999999", "16384P",
                             "17179869184G", "16777216T"}) {
        auto size = parse_size(text);
        ASSERT_FALSE(size) << text;
        EXPECT_EQ(size.error().message, "invalid size '" + std::string(text) + "': too large");
    }
}

TEST(ParseSize, RejectsGarbage) {
    for (const char* text : {"", "K", "G1", "-1", "+1", " 1", "1 ", "1 G", "1.5G", "1X", "1Gi",
                             "1KiBB", "0x10", "1e3", "1E"}) {
        auto size = parse_size(text);
        ASSERT_FALSE(size) << text;
        EXPECT_EQ(size.error().code, Errc::invalid_argument);
        EXPECT_EQ(size.error().message.find('\n'), std::string::npos);
    }
}

TEST(ParseSize, DecimalLookingSuffixIsRejectedWithHint) {
    auto size = parse_size("1GB");
    ASSERT_FALSE(size);
    EXPECT_EQ(size.error().message, "invalid size '1GB': write 1G or 1GiB (sizes are binary)");
    EXPECT_FALSE(parse_size("64kb"));
    EXPECT_FALSE(parse_size("2TB"));
}

}  // namespace
}  // namespace itd::daemon
