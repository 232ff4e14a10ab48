#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/config.h"

namespace itd::daemon {
namespace {

Result<ParseOutcome> run(std::vector<std::string> args) {
    args.insert(args.begin(), "itd");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    return parse_command_line(static_cast<int>(args.size()), argv.data());
}

Config config_of(std::vector<std::string> args) {
    auto outcome = run(args);
    EXPECT_TRUE(outcome) << (outcome ? "" : outcome.error().message);
    if (!outcome) return {};
    EXPECT_TRUE(std::holds_alternative<Config>(*outcome));
    if (!std::holds_alternative<Config>(*outcome)) return {};
    return std::get<Config>(*outcome);
}

std::string error_of(std::vector<std::string> args) {
    auto outcome = run(args);
    EXPECT_FALSE(outcome);
    if (outcome) return "";
    EXPECT_EQ(outcome.error().code, Errc::invalid_argument);
    EXPECT_EQ(outcome.error().message.find('\n'), std::string::npos) << outcome.error().message;
    return outcome.error().message;
}

std::string write_temp(const std::string& name, const std::string& text) {
    const std::string path = testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
}

TEST(CommandLine, QuickFormDefaults) {
    const Config c = config_of({"memory:1G"});
    ASSERT_EQ(c.targets.size(), 1u);
    EXPECT_EQ(c.targets[0].name, default_target_name());
    EXPECT_EQ(c.targets[0].alias, "");
    EXPECT_TRUE(c.targets[0].portals.empty());
    ASSERT_EQ(c.targets[0].luns.size(), 1u);
    EXPECT_EQ(c.targets[0].luns[0].volume.size_bytes, 1ull << 30);
    EXPECT_EQ(c.listen, (std::vector<Portal>{{"::", 3260}}));
    EXPECT_EQ(c.worker_threads, 0u);
    EXPECT_EQ(c.log_level, "info");
    EXPECT_EQ(c.iscsi.max_recv_data_segment_bytes, 262144u);
    EXPECT_EQ(c.iscsi.max_burst_bytes, 1048576u);
    EXPECT_EQ(c.iscsi.first_burst_bytes, 262144u);
    EXPECT_EQ(c.iscsi.max_outstanding_r2t, 16u);
    EXPECT_EQ(c.iscsi.cmd_window, 128u);
    EXPECT_TRUE(c.iscsi.immediate_data);
    EXPECT_FALSE(c.iscsi.initial_r2t);
}

TEST(CommandLine, StateDir) {
    EXPECT_EQ(config_of({"memory:1G"}).state_dir, "");
    EXPECT_EQ(config_of({"--state-dir", "/var/lib/itd", "memory:1G"}).state_dir, "/var/lib/itd");
    EXPECT_EQ(error_of({"--state-dir", "", "memory:1G"}), "--state-dir needs a directory");
}

TEST(CommandLine, QuickFormEverything) {
    const Config c =
        config_of({"--listen", "127.0.0.1:3260", "--listen=[::1]:3261", "--target-name",
                   "iqn.2026-11.org.example:disk0", "file:/srv/disk0.img,size=20G",
                   "memory:64M,block-size=4096", "--threads", "3", "--log-level", "debug"});
    EXPECT_EQ(c.listen, (std::vector<Portal>{{"127.0.0.1", 3260}, {"::1", 3261}}));
    ASSERT_EQ(c.targets.size(), 1u);
    EXPECT_EQ(c.targets[0].name, "iqn.2026-11.org.example:disk0");
    ASSERT_EQ(c.targets[0].luns.size(), 2u);
    EXPECT_EQ(c.targets[0].luns[0].volume.backend, "file");
    EXPECT_EQ(c.targets[0].luns[1].volume.backend, "memory");
    EXPECT_EQ(c.targets[0].luns[1].volume.block_size_bytes, 4096u);
    EXPECT_EQ(c.worker_threads, 3u);
    EXPECT_EQ(c.log_level, "debug");
}

TEST(CommandLine, ListenForms) {
    EXPECT_EQ(config_of({"--listen", "0.0.0.0:3260", "memory:1G"}).listen,
              (std::vector<Portal>{{"0.0.0.0", 3260}}));
    EXPECT_EQ(config_of({"--listen", "[::]:3260", "memory:1G"}).listen,
              (std::vector<Portal>{{"::", 3260}}));
    EXPECT_EQ(config_of({"--listen", ":3261", "memory:1G"}).listen,
              (std::vector<Portal>{{"::", 3261}}));
    EXPECT_EQ(config_of({"--listen", "3262", "memory:1G"}).listen,
              (std::vector<Portal>{{"::", 3262}}));
}

TEST(CommandLine, NoLun) {
    EXPECT_EQ(error_of({}), "no LUN given (try: itd memory:1G)");
    EXPECT_EQ(error_of({"--listen", "127.0.0.1:3260"}), "no LUN given (try: itd memory:1G)");
}

TEST(CommandLine, Help) {
    for (const char* flag : {"--help", "-h"}) {
        auto outcome = run({flag});
        ASSERT_TRUE(outcome);
        ASSERT_TRUE(std::holds_alternative<InfoText>(*outcome));
        const std::string& text = std::get<InfoText>(*outcome).text;
        EXPECT_NE(text.find("--listen"), std::string::npos) << text;
        EXPECT_NE(text.find("LUN-SPEC"), std::string::npos) << text;
        EXPECT_NE(text.find("itd memory:1G"), std::string::npos) << text;
    }
    // --help wins over a bad rest of the line.
    auto outcome = run({"memory:1G", "--help"});
    ASSERT_TRUE(outcome);
    EXPECT_TRUE(std::holds_alternative<InfoText>(*outcome));
}

TEST(CommandLine, Version) {
    auto outcome = run({"--version"});
    ASSERT_TRUE(outcome);
    ASSERT_TRUE(std::holds_alternative<InfoText>(*outcome));
    EXPECT_TRUE(std::get<InfoText>(*outcome).text.starts_with("itd 0."));
}

TEST(CommandLine, UsageErrors) {
    EXPECT_EQ(error_of({"--bogus", "memory:1G"}),
              "The following argument was not expected: --bogus");
    EXPECT_EQ(error_of({"memory:1G", "--listen"}), "--listen: 1 required ADDR:PORT missing");
    EXPECT_EQ(error_of({"--threads", "x", "memory:1G"}),
              "invalid --threads 'x' (use 0..1024; 0 = one per core)");
    EXPECT_EQ(error_of({"--threads", "-1", "memory:1G"}),
              "invalid --threads '-1' (use 0..1024; 0 = one per core)");
    EXPECT_EQ(error_of({"--threads", "1025", "memory:1G"}),
              "invalid --threads '1025' (use 0..1024; 0 = one per core)");
    EXPECT_EQ(error_of({"--log-level", "verbose", "memory:1G"}),
              "invalid log level 'verbose' (use trace, debug, info, warn or error)");
    EXPECT_EQ(error_of({"--listen", "::1", "memory:1G"}),
              "invalid listen address '::1': write an IPv6 address in brackets, e.g. [::1]:3260");
    EXPECT_EQ(error_of({"--listen", "127.0.0.1:3260", "--listen", "127.0.0.1:3260", "memory:1G"}),
              "listen: listen address 127.0.0.1:3260 given twice");
    EXPECT_EQ(error_of({"--target-name", "disk0", "memory:1G"}),
              "invalid target name 'disk0': must start with iqn., eui. or naa.");
    EXPECT_EQ(error_of({"memory:1G", "memory:1X"}),
              "LUN-SPEC 'memory:1X': invalid size '1X': unknown suffix (use K, M, G, T, P or "
              "KiB … PiB)");
}

TEST(CommandLine, ConfigFile) {
    const std::string path = write_temp("itd_cli.toml", R"(
threads = 4
log-level = "warn"
[[target]]
name = "iqn.2026-11.org.example:a"
[[target.lun]]
spec = "memory:1G"
)");
    const Config c = config_of({"--config", path});
    EXPECT_EQ(c.worker_threads, 4u);
    EXPECT_EQ(c.log_level, "warn");
    ASSERT_EQ(c.targets.size(), 1u);
    EXPECT_EQ(c.targets[0].name, "iqn.2026-11.org.example:a");
    EXPECT_EQ(c.listen, (std::vector<Portal>{{"::", 3260}}));

    // --listen, --threads and --log-level override the file.
    const Config o = config_of(
        {"--config", path, "--listen", "127.0.0.1:3261", "--log-level", "trace", "--threads", "1"});
    EXPECT_EQ(o.listen, (std::vector<Portal>{{"127.0.0.1", 3261}}));
    EXPECT_EQ(o.log_level, "trace");
    EXPECT_EQ(o.worker_threads, 1u);
}

TEST(CommandLine, ConfigConflicts) {
    const std::string path = write_temp("itd_cli_conflict.toml", R"(
[[target]]
name = "iqn.2026-11.org.example:a"
[[target.lun]]
spec = "memory:1G"
)");
    EXPECT_EQ(error_of({"--config", path, "memory:1G"}),
              "LUN-SPEC 'memory:1G' cannot be combined with --config (put LUNs in the file)");
    EXPECT_EQ(error_of({"--config", path, "--target-name", "iqn.2026-11.org.example:b"}),
              "--target-name cannot be combined with --config (name targets in the file)");
}

TEST(CommandLine, ConfigFileErrorsPassThrough) {
    const std::string missing = testing::TempDir() + "itd_no_such_file.toml";
    std::filesystem::remove(missing);
    auto outcome = run({"--config", missing});
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, Errc::not_found);
    EXPECT_EQ(outcome.error().message,
              "cannot open config file '" + missing + "': No such file or directory");

    const std::string bad = write_temp("itd_cli_bad.toml", "treads = 4\n");
    EXPECT_EQ(error_of({"--config", bad}), bad + ":1: unknown key 'treads'");
}

}  // namespace
}  // namespace itd::daemon
