// CHAP credentials, [discovery] and allow lists in the config file: parsed, validated, and
// never echoed back in an error message.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

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

// --chap-file FILE: the quick form's CHAP, from a file so the secret never is in argv.
Result<ParseOutcome> command_line(std::vector<std::string> args) {
    args.insert(args.begin(), "itd");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(args.size()), argv.data());
}

std::string chap_file(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

TEST(ConfigAuth, ChapFileForTheQuickForm) {
    auto ok = command_line({"--chap-file", chap_file("chap1", "alice s3cret value 0123\n"),
                            "memory:1M"});
    ASSERT_TRUE(ok) << ok.error().message;
    const auto& t = std::get<Config>(*ok).targets[0];
    ASSERT_TRUE(t.auth.chap);
    EXPECT_EQ(t.auth.chap->user, "alice");
    EXPECT_EQ(t.auth.chap->secret, "s3cret value 0123");  // spaces belong to the secret

    for (const std::string& bad : {std::string("alice\n"), std::string("alice short\n"),
                                   std::string("alice s3cret-value-0123\nmore\n"),
                                   std::string(" s3cret-value-0123\n"), std::string(700, 'x')}) {
        auto r = command_line({"--chap-file", chap_file("chap2", bad), "memory:1M"});
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message.find("--chap-file"), std::string::npos) << r.error().message;
        EXPECT_EQ(r.error().message.find("short"), std::string::npos) << r.error().message;
        EXPECT_EQ(r.error().message.find("s3cret"), std::string::npos) << r.error().message;
    }
    auto missing = command_line({"--chap-file", "/nonexistent/chap", "memory:1M"});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("cannot open --chap-file"), std::string::npos);
    auto with_config = command_line({"--chap-file", chap_file("chap3", "a s3cret-value-0123"),
                                     "--config", "x.toml"});
    ASSERT_FALSE(with_config);
    EXPECT_NE(with_config.error().message.find("cannot be combined with --config"),
              std::string::npos);
}

}  // namespace
}  // namespace itd::daemon
