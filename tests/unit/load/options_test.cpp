#include "options.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace itd::load {
namespace {

constexpr const char* kUrl = "iscsi://127.0.0.1:3260/iqn.2026-12.org.itd:bench/0";

std::expected<Options, std::string> parse(std::initializer_list<std::string_view> list) {
    std::vector<std::string_view> args(list);
    return parse_options(args);
}

TEST(LoadOptions, DefaultsWithOnlyAUrl) {
    auto o = parse({kUrl});
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->rw, Rw::randread);
    EXPECT_EQ(o->bs_bytes, 4096u);
    EXPECT_EQ(o->depth, 1u);
    EXPECT_EQ(o->sessions, 1u);
    EXPECT_EQ(o->threads, 1u);
    EXPECT_EQ(o->ramp_seconds, 0);
    EXPECT_FALSE(o->header_digest);
    EXPECT_EQ(o->url, kUrl);
}

// The forms bench/compare.sh uses.
TEST(LoadOptions, CompareShArguments) {
    auto o = parse({"--rw", "randrw", "--read-percent", "70", "--bs", "64K", "--depth", "32",
                    "--seconds", "5", "--ramp", "1", kUrl});
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->rw, Rw::randrw);
    EXPECT_EQ(o->read_percent, 70u);
    EXPECT_EQ(o->bs_bytes, 65536u);
    EXPECT_EQ(o->depth, 32u);
    EXPECT_DOUBLE_EQ(o->seconds, 5);
    EXPECT_DOUBLE_EQ(o->ramp_seconds, 1);

    o = parse({"--rw", "randread", "--bs", "4K", "--depth", "8", "--sessions", "16", "--threads",
               "2", "--header-digest", kUrl});
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->sessions, 16u);
    EXPECT_EQ(o->threads, 2u);
    EXPECT_TRUE(o->header_digest);
}

TEST(LoadOptions, EqualsFormAndEveryMode) {
    for (auto [text, rw] : {std::pair{"randread", Rw::randread},
                            {"randwrite", Rw::randwrite},
                            {"read", Rw::read},
                            {"write", Rw::write},
                            {"randrw", Rw::randrw}}) {
        std::string arg = std::string("--rw=") + text;
        auto o = parse({arg, "--bs=1M", "--seconds=0.5", kUrl});
        ASSERT_TRUE(o) << o.error();
        EXPECT_EQ(o->rw, rw);
        EXPECT_STREQ(to_string(o->rw), text);
        EXPECT_EQ(o->bs_bytes, 1u << 20);
        EXPECT_DOUBLE_EQ(o->seconds, 0.5);
    }
}

TEST(LoadOptions, MoreThreadsThanSessionsRunOnePerSession) {
    auto o = parse({"--sessions", "1", "--threads", "2", kUrl});
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->threads, 1u);
}

TEST(LoadOptions, Help) {
    auto o = parse({"--depth", "4", "--help"});
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->help);
    EXPECT_NE(usage().find("--read-percent"), std::string::npos);
}

TEST(LoadOptions, Sizes) {
    EXPECT_EQ(parse_size("512"), 512u);
    EXPECT_EQ(parse_size("4K"), 4096u);
    EXPECT_EQ(parse_size("4k"), 4096u);
    EXPECT_EQ(parse_size("64KiB"), 65536u);
    EXPECT_EQ(parse_size("1M"), 1u << 20);
    EXPECT_EQ(parse_size("2G"), 2ull << 30);
    EXPECT_EQ(parse_size("8b"), 8u);
    for (std::string_view bad : {"", "K", "0", "0K", "4X", "4KB", "-4K", "4 K", "1.5M",
                                 "99999999999999999999", "17179869184G"})
        EXPECT_FALSE(parse_size(bad)) << bad;
}

TEST(LoadOptions, BadInputIsRefusedWithTheOptionNamed) {
    struct Case {
        std::vector<std::string_view> args;
        std::string_view says;
    };
    const std::vector<Case> cases = {
        {{}, "no URL"},
        {{"--depth", "4"}, "no URL"},
        {{"http://x/y/0"}, "not an iscsi:// URL"},
        {{kUrl, kUrl}, "more than one URL"},
        {{"--rw", "randomread", kUrl}, "--rw"},
        {{"--rw", kUrl}, "--rw"},  // the URL taken as the value
        {{kUrl, "--depth"}, "--depth needs a value"},
        {{"--depth", "0", kUrl}, "--depth"},
        {{"--depth", "-1", kUrl}, "--depth"},
        {{"--depth", "4096x", kUrl}, "--depth"},
        {{"--depth", "100000", kUrl}, "--depth"},
        {{"--sessions", "0", kUrl}, "--sessions"},
        {{"--threads", "0", kUrl}, "--threads"},
        {{"--bs", "4000", kUrl}, "--bs"},  // not a multiple of 512
        {{"--bs", "128M", kUrl}, "--bs"},
        {{"--bs", "", kUrl}, "--bs"},
        {{"--seconds", "0", kUrl}, "--seconds"},
        {{"--seconds", "inf", kUrl}, "--seconds"},
        {{"--seconds", "nan", kUrl}, "--seconds"},
        {{"--seconds", "5s", kUrl}, "--seconds"},
        {{"--ramp", "-1", kUrl}, "--ramp"},
        {{"--read-percent", "101", "--rw", "randrw", kUrl}, "--read-percent"},
        {{"--read-percent", "70", kUrl}, "randrw only"},
        {{"--header-digest=yes", kUrl}, "--header-digest"},
        {{"--iodepth", "4", kUrl}, "unknown option '--iodepth'"},
        {{"-d", kUrl}, "unknown option '-d'"},
    };
    for (const Case& c : cases) {
        auto o = parse_options(c.args);
        ASSERT_FALSE(o) << "accepted: " << (c.args.empty() ? "(nothing)" : c.args.front());
        EXPECT_NE(o.error().find(c.says), std::string::npos) << o.error();
    }
}

}  // namespace
}  // namespace itd::load
