// CHAP credentials, [discovery] and allow lists in the config file: parsed, validated, and
// never echoed back in an error message.
#include <gtest/gtest.h>

#include <string>

#include "daemon/config.h"

namespace itd::daemon {
namespace {

constexpr std::string_view kSecret = "s3cret-value-0123";
constexpr std::string_view kOther = "other-secret-4567";

std::string file(std::string_view target_keys, std::string_view top = "") {
    return std::string(top) + "\n[[target]]\nname = \"iqn.2026-11.org.example:a\"\n" +
           std::string(target_keys) + "\n[[target.lun]]\nspec = \"memory:1M\"\n";
}

std::string error_of(const std::string& text) {
    auto c = parse_config_text(text, "itd.toml");
    EXPECT_FALSE(c) << text;
    if (c) return "";
    EXPECT_EQ(c.error().message.find('\n'), std::string::npos);
    return c.error().message;
}

TEST(ConfigAuth, TargetChapAndAllow) {
    auto c = parse_config_text(
        file("chap-user = \"alice\"\nchap-secret = \"s3cret-value-0123\"\n"
             "mutual-chap-user = \"disk\"\nmutual-chap-secret = \"other-secret-4567\"\n"
             "allow = [\"iqn.2026-11.org.example:host1\", \"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]"),
        "itd.toml");
    ASSERT_TRUE(c) << c.error().message;
    const auto& t = c->targets[0];
    ASSERT_TRUE(t.auth.chap);
    EXPECT_EQ(t.auth.chap->user, "alice");
    EXPECT_EQ(t.auth.chap->secret, kSecret);
    ASSERT_TRUE(t.auth.mutual_chap);
    EXPECT_EQ(t.auth.mutual_chap->user, "disk");
    EXPECT_EQ(t.auth.mutual_chap->secret, kOther);
    EXPECT_EQ(t.allow.size(), 4u);
    EXPECT_FALSE(c->discovery.chap);
}

TEST(ConfigAuth, NoSecurityKeysMeansOpen) {
    auto c = parse_config_text(file(""), "itd.toml");
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->targets[0].auth.chap);
    EXPECT_TRUE(c->targets[0].allow.empty());
}

TEST(ConfigAuth, DiscoveryTable) {
    auto c = parse_config_text(
        file("", "[discovery]\nchap-user = \"finder\"\nchap-secret = \"s3cret-value-0123\"\n"),
        "itd.toml");
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_TRUE(c->discovery.chap);
    EXPECT_EQ(c->discovery.chap->user, "finder");
    EXPECT_NE(error_of(file("", "[discovery]\nallow = []\n")).find("unknown key 'allow'"),
              std::string::npos);
    EXPECT_NE(error_of(file("", "discovery = 1\n")).find("expected a table"), std::string::npos);
}

TEST(ConfigAuth, ShortSecretNamesTheKeyNotTheValue) {
    const std::string m = error_of(file("chap-user = \"alice\"\nchap-secret = \"short-pw\""));
    EXPECT_NE(m.find("chap-secret must be 12..255 bytes long"), std::string::npos) << m;
    EXPECT_NE(m.find("itd.toml:"), std::string::npos) << m;
    EXPECT_EQ(m.find("short-pw"), std::string::npos) << m;
    const std::string m2 = error_of(file("chap-user = \"alice\"\nchap-secret = \"" +
                                         std::string(256, 'x') + "\""));
    EXPECT_NE(m2.find("chap-secret must be"), std::string::npos) << m2;
    const std::string m3 = error_of(file("chap-user = \"alice\"\nchap-secret = \"s3cret-value-0123\"\n"
                                         "mutual-chap-user = \"d\"\nmutual-chap-secret = \"tiny\""));
    EXPECT_NE(m3.find("mutual-chap-secret must be"), std::string::npos) << m3;
    EXPECT_EQ(m3.find("tiny"), std::string::npos) << m3;
    EXPECT_EQ(m3.find(kSecret), std::string::npos) << m3;
}

TEST(ConfigAuth, Pairs) {
    EXPECT_NE(error_of(file("chap-user = \"alice\"")).find("chap-user and chap-secret go together"),
              std::string::npos);
    EXPECT_NE(error_of(file("chap-secret = \"s3cret-value-0123\"")).find("go together"),
              std::string::npos);
    EXPECT_NE(error_of(file("chap-user = \"\"\nchap-secret = \"s3cret-value-0123\""))
                  .find("chap-user must be 1..255 bytes"),
              std::string::npos);
    EXPECT_NE(error_of(file("mutual-chap-user = \"d\"\nmutual-chap-secret = \"other-secret-4567\""))
                  .find("needs chap-user"),
              std::string::npos);
    const std::string same = error_of(
        file("chap-user = \"a\"\nchap-secret = \"s3cret-value-0123\"\n"
             "mutual-chap-user = \"d\"\nmutual-chap-secret = \"s3cret-value-0123\""));
    EXPECT_NE(same.find("must differ"), std::string::npos) << same;
    EXPECT_EQ(same.find(kSecret), std::string::npos) << same;
    const std::string typed = error_of(file("chap-user = \"a\"\nchap-secret = 123456789012345"));
    EXPECT_NE(typed.find("expected a string"), std::string::npos) << typed;
    EXPECT_EQ(typed.find("123456789012345"), std::string::npos) << typed;
}

TEST(ConfigAuth, BadAllowEntries) {
    const std::string m = error_of(file("allow = [\"10.0.0.0/33\"]"));
    EXPECT_NE(m.find("allow entry '10.0.0.0/33'"), std::string::npos) << m;
    EXPECT_NE(error_of(file("allow = \"10.0.0.1\"")).find("expected an array"), std::string::npos);
    EXPECT_NE(error_of(file("allow = [1]")).find("expected a string"), std::string::npos);
    EXPECT_NE(error_of(file("allow = [\"somehost\"]")).find("neither an iSCSI name"),
              std::string::npos);
}

TEST(ConfigAuth, ValidateConfigChecksTheSameRules) {
    Config c;
    TargetConfig t;
    t.name = "iqn.2026-11.org.example:a";
    t.luns.resize(1);
    t.auth.chap = ChapConfig{"alice", "short"};
    c.targets.push_back(t);
    auto st = validate_config(c);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("chap-secret must be"), std::string::npos);
    c.targets[0].auth.chap->secret = std::string(kSecret);
    c.targets[0].allow = {"bogus"};
    EXPECT_FALSE(validate_config(c));
    c.targets[0].allow = {"::1"};
    c.discovery.mutual_chap = ChapConfig{"x", std::string(kOther)};
    EXPECT_FALSE(validate_config(c));
    c.discovery.mutual_chap.reset();
    EXPECT_TRUE(validate_config(c));
}

}  // namespace
}  // namespace itd::daemon
