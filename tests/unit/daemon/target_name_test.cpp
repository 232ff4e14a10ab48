#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>

#include "daemon/config.h"

namespace itd::daemon {
namespace {

TEST(DefaultTargetName, IqnFromHostName) {
    const std::string name = default_target_name();
    EXPECT_TRUE(name.starts_with("iqn.2026-11.org.itd:")) << name;
    EXPECT_TRUE(std::regex_match(name, std::regex("iqn\\.2026-11\\.org\\.itd:[a-z0-9.-]+")))
        << name;
    EXPECT_LE(name.size(), 223u);
    EXPECT_TRUE(validate_target_name(name)) << name;

    char host[256] = {};
    ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
    std::string expected = "iqn.2026-11.org.itd:";
    for (const char* c = host; *c; ++c) {
        const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
        expected += (std::isalnum(static_cast<unsigned char>(l)) || l == '-' || l == '.') ? l : '-';
    }
    EXPECT_EQ(name, expected.substr(0, 223));
}

TEST(ValidateTargetName, Accepts) {
    for (const char* name :
         {"iqn.2026-11.org.example:disk0", "iqn.2001-04.com.example", "iqn.1999-12.x",
          "iqn.2001-04.com.example:storage:diskarrays-sn-a8675309",
          "iqn.2001-04.com.example:storage.tape1.sys1.xyz", "eui.02004567A425678D",
          "eui.02004567a425678d", "naa.52004567BA64678D", "naa.62004567BA64678D0123456789ABCDEF"}) {
        EXPECT_TRUE(validate_target_name(name)) << name;
    }
    EXPECT_TRUE(validate_target_name("iqn.2026-11.org.example:" + std::string(223 - 24, 'a')));
}

TEST(ValidateTargetName, Rejects) {
    const std::pair<std::string, std::string> cases[] = {
        {"", "empty"},
        {"disk0", "must start with iqn., eui. or naa."},
        {"IQN.2026-11.org.example:disk0", "must start with iqn., eui. or naa."},
        {"iqn.26-11.org.example", "expected iqn.YYYY-MM.reversed.domain[:name]"},
        {"iqn.2026-13.org.example", "month must be 01..12"},
        {"iqn.2026-00.org.example", "month must be 01..12"},
        {"iqn.2026-11",
         "expected a naming authority after the date, "
         "e.g. iqn.2026-11.org.example:disk0"},
        {"iqn.2026-11:disk0",
         "expected a naming authority after the date, "
         "e.g. iqn.2026-11.org.example:disk0"},
        {"iqn.2026-11.Org.Example:disk0", "iqn names must be lowercase"},
        {"iqn.2026-11.org.example:disk_0", "iqn names may contain only a-z 0-9 . - :"},
        {"iqn.2026-11.org.example:disk 0", "iqn names may contain only a-z 0-9 . - :"},
        {"eui.02004567A425678", "expected eui. and 16 hex digits"},
        {"eui.02004567A425678G", "expected eui. and 16 hex digits"},
        {"naa.52004567BA64678D00", "expected naa. and 16 or 32 hex digits"},
        {"iqn.2026-11.org.example:" + std::string(223 - 23, 'a'), "longer than 223 bytes"},
    };
    for (const auto& [name, why] : cases) {
        auto st = validate_target_name(name);
        ASSERT_FALSE(st) << name;
        EXPECT_EQ(st.error().code, Errc::invalid_argument);
        EXPECT_EQ(st.error().message, "invalid target name '" + name + "': " + why);
    }
}

}  // namespace
}  // namespace itd::daemon
