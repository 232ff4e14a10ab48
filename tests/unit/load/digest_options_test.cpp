#include "digest_options.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace itd::load {
namespace {

std::expected<DigestOptions, std::string> parse(std::initializer_list<std::string_view> list) {
    std::vector<std::string_view> args(list);
    return parse_digest_options(args);
}

TEST(DigestLoadOptions, DefaultsWithPortalAndTarget) {
    auto o = parse({"127.0.0.1:3260", "iqn.2026-12.org.itd:t"});
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->digests, Digests::both);
    EXPECT_EQ(o->rw, Rw::read);
    EXPECT_EQ(o->bs_bytes, 1u << 20);
    EXPECT_EQ(o->depth, 8u);
    EXPECT_DOUBLE_EQ(o->seconds, 5);
    EXPECT_DOUBLE_EQ(o->ramp_seconds, 1);
    EXPECT_EQ(o->host, "127.0.0.1");
    EXPECT_EQ(o->port, "3260");
    EXPECT_EQ(o->target, "iqn.2026-12.org.itd:t");
    EXPECT_EQ(o->lun, 0u);
    EXPECT_FALSE(o->verify);
}

TEST(DigestLoadOptions, EveryOption) {
    auto o = parse({"--digests", "none", "--rw=write", "--bs", "64K", "--depth", "32", "--seconds",
                    "0.5", "--ramp=0", "--timeout", "7", "--verify", "[::1]:3421",
                    "iqn.2026-12.org.itd:t", "3"});
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->digests, Digests::none);
    EXPECT_EQ(o->rw, Rw::write);
    EXPECT_EQ(o->bs_bytes, 65536u);
    EXPECT_EQ(o->depth, 32u);
    EXPECT_DOUBLE_EQ(o->seconds, 0.5);
    EXPECT_DOUBLE_EQ(o->ramp_seconds, 0);
    EXPECT_EQ(o->timeout_seconds, 7u);
    EXPECT_EQ(o->host, "::1");
    EXPECT_EQ(o->port, "3421");
    EXPECT_EQ(o->lun, 3u);
    EXPECT_TRUE(o->verify);
    o = parse({"--digests=header", "h:1", "t"});
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->digests, Digests::header);
    EXPECT_TRUE(header_digest_on(o->digests));
    EXPECT_FALSE(data_digest_on(o->digests));
}

TEST(DigestLoadOptions, BadArgumentsNameWhatIsWrong) {
    struct Case {
        std::initializer_list<std::string_view> args;
        const char* says;
    };
    for (const Case& c : std::initializer_list<Case>{
             {{"h:1"}, "HOST:PORT and TARGET_IQN"},
             {{"h:1", "t", "0", "extra"}, "too many"},
             {{"h", "t"}, "HOST:PORT"},
             {{"h:0", "t"}, "HOST:PORT"},
             {{"::1:3260", "t"}, "HOST:PORT"},
             {{"h:1", "t", "16384"}, "LUN"},
             {{"--digests", "crc", "h:1", "t"}, "--digests"},
             {{"--rw", "randread", "h:1", "t"}, "--rw"},
             {{"--bs", "1000", "h:1", "t"}, "--bs"},
             {{"--depth", "0", "h:1", "t"}, "--depth"},
             {{"--seconds", "0", "h:1", "t"}, "--seconds"},
             {{"--ramp", "-1", "h:1", "t"}, "--ramp"},
             {{"--sessions", "2", "h:1", "t"}, "unknown option"},
             {{"-x", "h:1", "t"}, "unknown option"},
             {{"h:1", "t", "--depth"}, "needs a value"},
         }) {
        auto o = parse(c.args);
        ASSERT_FALSE(o) << *c.args.begin();
        EXPECT_NE(o.error().find(c.says), std::string::npos) << o.error();
    }
}

TEST(DigestLoadOptions, Help) {
    auto o = parse({"--help"});
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->help);
    EXPECT_NE(digest_usage().find("--digests"), std::string::npos);
}

}  // namespace
}  // namespace itd::load
