#include <gtest/gtest.h>

#include <string>

#include "daemon/config.h"

namespace itd::daemon {
namespace {

Config parse_ok(std::string_view text) {
    auto c = parse_config_text(text, "itd.toml");
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c.value_or(Config{});
}

std::string error_of(std::string_view text) {
    auto c = parse_config_text(text, "itd.toml");
    EXPECT_FALSE(c) << text;
    if (c) return "";
    EXPECT_EQ(c.error().code, Errc::invalid_argument);
    EXPECT_EQ(c.error().message.find('\n'), std::string::npos) << c.error().message;
    return c.error().message;
}

// The smallest valid target, appended to files that test something else.
constexpr std::string_view target = R"(
[[target]]
name = "iqn.2026-11.org.example:a"
[[target.lun]]
spec = "memory:1M"
)";

TEST(ConfigFile, Example) {
    auto loaded = load_config_file(ITD_DAEMON_TEST_DIR "/example.toml");
    ASSERT_TRUE(loaded) << loaded.error().message;
    const Config& c = *loaded;
    EXPECT_EQ(c.log_level, "info");
    EXPECT_EQ(c.listen, (std::vector<Portal>{{"0.0.0.0", 3260}, {"::", 3260}}));
    EXPECT_EQ(c.worker_threads, 2u);
    EXPECT_EQ(c.iscsi.max_burst_bytes, 1048576u);
    EXPECT_EQ(c.iscsi.first_burst_bytes, 262144u);
    ASSERT_EQ(c.targets.size(), 1u);
    const TargetConfig& t = c.targets[0];
    EXPECT_EQ(t.name, "iqn.2026-11.org.example:disk0");
    EXPECT_EQ(t.alias, "disk0");
    EXPECT_EQ(t.portals, (std::vector<Portal>{{"127.0.0.1", 3260}}));
    ASSERT_EQ(t.luns.size(), 2u);
    EXPECT_EQ(t.luns[0].volume.backend, "file");
    EXPECT_EQ(t.luns[0].volume.arg, "/srv/disk0.img");
    EXPECT_EQ(t.luns[0].volume.size_bytes, 20ull << 30);
    EXPECT_EQ(t.luns[0].volume.block_size_bytes, 512u);
    EXPECT_EQ(t.luns[1].volume.backend, "memory");
    EXPECT_EQ(t.luns[1].volume.size_bytes, 64ull << 20);
    EXPECT_EQ(t.luns[1].volume.block_size_bytes, 4096u);
}

TEST(ConfigFile, Defaults) {
    const Config c = parse_ok(target);
    EXPECT_EQ(c.listen, (std::vector<Portal>{{"::", 3260}}));
    EXPECT_EQ(c.worker_threads, 0u);
    EXPECT_EQ(c.log_level, "info");
    EXPECT_EQ(c.iscsi.cmd_window, 128u);
    ASSERT_EQ(c.targets.size(), 1u);
    EXPECT_TRUE(c.targets[0].portals.empty());
}

TEST(ConfigFile, IscsiTuningValues) {
    const Config c = parse_ok(std::string(R"(
[iscsi]
max-recv-data-segment-length = "64K"
max-burst-length = "8M"
first-burst-length = 65536
max-outstanding-r2t = 4
cmd-window = 32
immediate-data = false
initial-r2t = true
)") + std::string(target));
    EXPECT_EQ(c.iscsi.max_recv_data_segment_bytes, 65536u);
    EXPECT_EQ(c.iscsi.max_burst_bytes, 8u << 20);
    EXPECT_EQ(c.iscsi.first_burst_bytes, 65536u);
    EXPECT_EQ(c.iscsi.max_outstanding_r2t, 4u);
    EXPECT_EQ(c.iscsi.cmd_window, 32u);
    EXPECT_FALSE(c.iscsi.immediate_data);
    EXPECT_TRUE(c.iscsi.initial_r2t);
}

TEST(ConfigFile, SeveralTargetsAndLunForms) {
    const Config c = parse_ok(R"(
[[target]]
name = "iqn.2026-11.org.example:a"
[[target.lun]]
backend = "memory"
size = "1G"
block-size = "4K"
[[target.lun]]
backend = "file"
path = "/srv/b.img"
[[target]]
name = "eui.02004567A425678D"
listen = ["[::1]:3261"]
[[target.lun]]
backend = "memory"
size = 1048576
)");
    ASSERT_EQ(c.targets.size(), 2u);
    ASSERT_EQ(c.targets[0].luns.size(), 2u);
    EXPECT_EQ(c.targets[0].luns[0].volume.size_bytes, 1ull << 30);
    EXPECT_EQ(c.targets[0].luns[0].volume.block_size_bytes, 4096u);
    EXPECT_EQ(c.targets[0].luns[1].volume.arg, "/srv/b.img");
    EXPECT_FALSE(c.targets[0].luns[1].volume.size_bytes);
    EXPECT_EQ(c.targets[1].name, "eui.02004567A425678D");
    EXPECT_EQ(c.targets[1].portals, (std::vector<Portal>{{"::1", 3261}}));
    EXPECT_EQ(c.targets[1].luns[0].volume.size_bytes, 1u << 20);
}

TEST(ConfigFile, TargetNameDefaultsToHostName) {
    const Config c = parse_ok("[[target]]\n[[target.lun]]\nspec = \"memory:1M\"\n");
    EXPECT_EQ(c.targets[0].name, default_target_name());
}

TEST(ConfigFile, SyntaxError) {
    EXPECT_EQ(error_of("threads = 2\nlisten = [\"a\"\n"),
              "itd.toml:2: Error while parsing array: encountered end-of-file");
}

TEST(ConfigFile, UnknownKeys) {
    EXPECT_EQ(error_of("treads = 2\n"), "itd.toml:1: unknown key 'treads'");
    EXPECT_EQ(error_of("[iscsi]\nmax-burst = 1\n"), "itd.toml:2: iscsi: unknown key 'max-burst'");
    EXPECT_EQ(error_of("[[target]]\nnmae = \"x\"\n"), "itd.toml:2: target[0]: unknown key 'nmae'");
    EXPECT_EQ(error_of(std::string(target) + "pth = \"/x\"\n"),
              "itd.toml:6: target[0].lun[0]: unknown key 'pth'");
}

TEST(ConfigFile, LunErrorsNameTheLine) {
    const std::string head =
        "[[target]]\nname = \"iqn.2026-11.org.example:a\"\n"
        "[[target.lun]]\nspec = \"memory:1M\"\n[[target.lun]]\n";
    // Lines 1-5 are head; the first line of each case is line 6.
    EXPECT_EQ(error_of(head + "backend = \"fil\"\npath = \"/x\"\n"),
              "itd.toml:6: target[0].lun[1]: unknown backend 'fil' (use memory, file or thin)");
    EXPECT_EQ(error_of(head + "backend = \"thin\"\n"),
              "itd.toml:5: target[0].lun[1]: missing key 'path'");
    EXPECT_EQ(error_of(head + "backend = \"memory\"\n"),
              "itd.toml:5: target[0].lun[1]: missing key 'size' (memory needs a size)");
    EXPECT_EQ(error_of(head + "backend = \"file\"\n"),
              "itd.toml:5: target[0].lun[1]: missing key 'path'");
    EXPECT_EQ(error_of(head + "path = \"/x\"\n"),
              "itd.toml:5: target[0].lun[1]: missing key 'backend' (or give a spec = \"...\")");
    EXPECT_EQ(error_of(head + "backend = \"file\"\npath = \"\"\n"),
              "itd.toml:7: target[0].lun[1]: empty path, e.g. file:/srv/disk0.img");
    EXPECT_EQ(error_of(head + "backend = \"memory\"\npath = \"/x\"\n"),
              "itd.toml:7: target[0].lun[1]: backend 'memory' has no path");
    EXPECT_EQ(error_of(head + "backend = \"memory\"\n\nsize = \"1X\"\n"),
              "itd.toml:8: target[0].lun[1]: invalid size '1X': unknown suffix (use K, M, G, "
              "T, P or KiB … PiB)");
    EXPECT_EQ(error_of(head + "backend = \"memory\"\nsize = 1000\n"),
              "itd.toml:7: target[0].lun[1]: size 1000 is not a multiple of block-size 512");
    EXPECT_EQ(error_of(head + "backend = \"memory\"\nsize = -1\n"),
              "itd.toml:7: target[0].lun[1].size: must be positive");
    EXPECT_EQ(error_of(head + "backend = \"file\"\npath = \"/x\"\nsize = 1.5\n"),
              "itd.toml:8: target[0].lun[1].size: expected a size (integer or string such as "
              "\"64K\"), got a float");
    EXPECT_EQ(error_of(head + "backend = \"memory\"\nsize = \"1G\"\nblock-size = 1000\n"),
              "itd.toml:8: target[0].lun[1]: invalid block-size '1000' (use 512 or 4096; any "
              "power of two 512..65536)");
    EXPECT_EQ(error_of(head + "backend = 7\n"),
              "itd.toml:6: target[0].lun[1].backend: expected a string, got an integer");
    EXPECT_EQ(error_of(head + "spec = \"memory:1G,removable=yes\"\n"),
              "itd.toml:6: target[0].lun[1]: LUN-SPEC 'memory:1G,removable=yes': option "
              "'removable' is a flag and takes no value");
    EXPECT_EQ(error_of(head + "spec = \"memory:1G\"\nbackend = \"memory\"\n"),
              "itd.toml:5: target[0].lun[1]: use either spec or backend/path/size/block-size, "
              "not both");
    EXPECT_EQ(error_of(head + "backend = \"file\"\npath = \"/x\"\nremovable = \"yes\"\n"),
              "itd.toml:8: target[0].lun[1].removable: expected true or false, got a string");
    EXPECT_EQ(error_of(head + "backend = \"file\"\npath = \"/x\"\npage-size = \"256K\"\n"),
              "itd.toml:8: target[0].lun[1]: option 'page-size' is for thin volumes only");
    EXPECT_EQ(error_of(head + "backend = \"thin\"\npath = \"/s/v\"\npage-size = \"3K\"\n"),
              "itd.toml:8: target[0].lun[1]: invalid page-size '3K' (a power of two from 4K "
              "to 4M; default 256K)");
    EXPECT_EQ(error_of(head + "backend = \"memory\"\nsize = \"1G\"\nmeta = \"etcd://x:1\"\n"),
              "itd.toml:8: target[0].lun[1]: option 'meta' is for thin volumes on s3:// or "
              "rados:// stores only");
    EXPECT_EQ(error_of(head + "backend = \"memory\"\nsize = \"1G\"\nwwn = \"12\"\n"),
              "itd.toml:8: target[0].lun[1]: invalid wwn '12' (16 hex digits, NAA 2, 3 or 5 "
              "first, e.g. wwn=3000000000000001)");
}

TEST(ConfigFile, LunThinReadonlySerialWwn) {
    const Config c = parse_ok(
        "[[target]]\nname = \"iqn.2026-11.org.example:a\"\n"
        "[[target.lun]]\nbackend = \"memory\"\nsize = \"1G\"\nthin = true\nreadonly = false\n"
        "serial = \"S1\"\nwwn = \"3000000000000001\"\n"
        "[[target.lun]]\nspec = \"memory:1G,readonly\"\n");
    ASSERT_EQ(c.targets[0].luns.size(), 2u);
    const LunSpec& a = c.targets[0].luns[0];
    EXPECT_TRUE(a.thin);
    EXPECT_FALSE(a.read_only);
    EXPECT_EQ(a.serial, "S1");
    EXPECT_EQ(a.wwn, 0x3000000000000001ull);
    EXPECT_TRUE(c.targets[0].luns[1].read_only);
}

TEST(ConfigFile, LunRemovable) {
    const Config c = parse_ok(
        "[[target]]\nname = \"iqn.2026-11.org.example:a\"\n"
        "[[target.lun]]\nbackend = \"memory\"\nsize = \"128M\"\nremovable = true\n"
        "[[target.lun]]\nbackend = \"memory\"\nsize = \"1G\"\nremovable = false\n"
        "[[target.lun]]\nspec = \"memory:1G,removable,thin\"\n");
    ASSERT_EQ(c.targets[0].luns.size(), 3u);
    EXPECT_TRUE(c.targets[0].luns[0].removable);
    EXPECT_FALSE(c.targets[0].luns[1].removable);
    EXPECT_TRUE(c.targets[0].luns[2].removable);
    EXPECT_TRUE(c.targets[0].luns[2].thin);
}

TEST(ConfigFile, TargetErrors) {
    EXPECT_EQ(error_of("threads = 1\n"), "itd.toml: no target (add a [[target]] table)");
    EXPECT_EQ(error_of("[target]\nname = \"iqn.2026-11.org.example:a\"\n"),
              "itd.toml:1: target: expected an array of tables; write [[target]]");
    EXPECT_EQ(error_of("[[target]]\nname = \"iqn.2026-11.org.example:a\"\n"),
              "itd.toml:1: target[0]: no LUN (add a [[target.lun]] table)");
    EXPECT_EQ(error_of("[[target]]\nname = \"iqn.2026-11.org.example:a\"\nlun = 1\n"),
              "itd.toml:3: target[0].lun: expected an array of tables; write [[target.lun]]");
    EXPECT_EQ(error_of("[[target]]\nname = \"Disk0\"\n"),
              "itd.toml:2: target[0]: invalid target name 'Disk0': must start with iqn., eui. "
              "or naa.");
    EXPECT_EQ(error_of(std::string(target) + std::string(target)),
              "itd.toml:8: target[1]: target name 'iqn.2026-11.org.example:a' used twice");
    EXPECT_EQ(error_of("[[target]]\nname = \"iqn.2026-11.org.example:a\"\nalias = 1\n"),
              "itd.toml:3: target[0].alias: expected a string, got an integer");
    EXPECT_EQ(error_of("[[target]]\nlisten = [\"127.0.0.1:99999\"]\n"),
              "itd.toml:2: target[0].listen: invalid listen address '127.0.0.1:99999': port "
              "must be a number in 0..65535");
}

TEST(ConfigFile, GlobalErrors) {
    const std::string t(target);
    EXPECT_EQ(error_of("log-level = \"loud\"\n" + t),
              "itd.toml:1: log-level: invalid level 'loud' (use trace, debug, info, warn or "
              "error)");
    EXPECT_EQ(error_of("threads = \"2\"\n" + t),
              "itd.toml:1: threads: expected an integer, got a string");
    EXPECT_EQ(error_of("threads = -1\n" + t),
              "itd.toml:1: threads: out of range (0..1024; 0 = one per core)");
    EXPECT_EQ(error_of("listen = \"0.0.0.0:3260\"\n" + t),
              "itd.toml:1: listen: expected an array of addresses such as "
              "[\"127.0.0.1:3260\"], got a string");
    EXPECT_EQ(error_of("listen = []\n" + t), "itd.toml:1: listen: empty list of addresses");
    EXPECT_EQ(error_of("listen = [\n  \"0.0.0.0:3260\",\n  \"::1\",\n]\n" + t),
              "itd.toml:3: listen: invalid listen address '::1': write an IPv6 address in "
              "brackets, e.g. [::1]:3260");
    EXPECT_EQ(error_of("listen = [\"[::]:3260\", \":3260\"]\n" + t),
              "itd.toml:1: listen: address :3260 given twice");
    EXPECT_EQ(error_of("listen = [3260]\n" + t),
              "itd.toml:1: listen: expected a string, got an integer");
    EXPECT_EQ(error_of("iscsi = 1\n" + t),
              "itd.toml:1: iscsi: expected a table ([iscsi]), got an integer");
}

TEST(ConfigFile, StateDir) {
    const std::string t(target);
    EXPECT_EQ(parse_ok(t).state_dir, "");
    EXPECT_EQ(parse_ok("state-dir = \"/var/lib/itd\"\n" + t).state_dir, "/var/lib/itd");
    EXPECT_EQ(error_of("state-dir = \"\"\n" + t), "itd.toml:1: state-dir: must not be empty");
    EXPECT_EQ(error_of("state-dir = 1\n" + t),
              "itd.toml:1: state-dir: expected a string, got an integer");
}

TEST(ConfigFile, ClusterStores) {
    const std::string text = R"(
[s3]
access-key-id = "AKIDEXAMPLE"
secret-access-key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

[[target]]
name = "iqn.2026-11.org.example:a"
[[target.lun]]
backend = "thin"
path = "s3://itd-vols/vol0"
size = "1G"
endpoint = "http://127.0.0.1:7480"
meta = ["etcd://127.0.0.1:2379", "etcd://127.0.0.1:2380", "etcd://127.0.0.1:2381"]
lease-ttl = 6
[[target.lun]]
backend = "thin"
path = "rados://itd/vol1"
ceph-conf = "/etc/ceph/ceph.conf"
meta = "etcd://127.0.0.1:2379"
)";
    const Config c = parse_ok(text);
    ASSERT_EQ(c.targets.size(), 1u);
    ASSERT_EQ(c.targets[0].luns.size(), 2u);
    const auto& s3 = c.targets[0].luns[0].volume;
    EXPECT_EQ(s3.arg, "s3://itd-vols/vol0");
    EXPECT_EQ(s3.options.at("meta"), "etcd://127.0.0.1:2379+127.0.0.1:2380+127.0.0.1:2381");
    EXPECT_EQ(s3.options.at("lease-ttl"), "6");
    EXPECT_EQ(s3.secrets.s3_access_key_id, "AKIDEXAMPLE");
    EXPECT_EQ(s3.secrets.s3_secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    EXPECT_EQ(c.targets[0].luns[1].volume.options.at("ceph-conf"), "/etc/ceph/ceph.conf");

    const std::string t(target);
    // A secret never shows in a message.
    const std::string half = error_of("[s3]\nsecret-access-key = \"TOPSECRETVALUE\"\n" + t);
    EXPECT_EQ(half, "itd.toml:1: s3: access-key-id and secret-access-key go together");
    EXPECT_EQ(error_of("[s3]\nsecret = \"TOPSECRETVALUE\"\n" + t).find("TOPSECRETVALUE"),
              std::string::npos);
    EXPECT_EQ(error_of("s3 = 1\n" + t), "itd.toml:1: s3: expected a table ([s3]), got an integer");
    const std::string head = "[[target]]\nname = \"iqn.2026-11.org.example:a\"\n[[target.lun]]\n"
                             "backend = \"thin\"\npath = \"rados://p/v\"\n";
    EXPECT_EQ(error_of(head + "meta = [\"etcd://a:1\", \"etcds://b:2\"]\n"),
              "itd.toml:6: target[0].lun[0].meta: every member needs the same scheme (etcd://)");
    EXPECT_EQ(error_of(head + "meta = []\n"),
              "itd.toml:6: target[0].lun[0].meta: empty list (give one etcd://HOST:PORT or more)");
    EXPECT_EQ(error_of(head + "meta = \"etcd://a:1\"\nendpoint = \"http://x:1\"\n"),
              "itd.toml:7: target[0].lun[0]: option 'endpoint' does not apply to a rados:// "
              "store");
}

TEST(ConfigFile, IscsiErrors) {
    const std::string t(target);
    EXPECT_EQ(error_of("[iscsi]\nmax-burst-length = 256\n" + t),
              "itd.toml:1: iscsi: max-burst-length 256 is out of range (512..16777215)");
    EXPECT_EQ(error_of("[iscsi]\nmax-burst-length = \"16M\"\n" + t),
              "itd.toml:1: iscsi: max-burst-length 16777216 is out of range (512..16777215)");
    EXPECT_EQ(error_of("[iscsi]\nmax-burst-length = 65536\n" + t),
              "itd.toml:1: iscsi: first-burst-length 262144 exceeds max-burst-length 65536");
    EXPECT_EQ(error_of("[iscsi]\nmax-outstanding-r2t = 0\n" + t),
              "itd.toml:1: iscsi: max-outstanding-r2t 0 is out of range (1..65535)");
    EXPECT_EQ(error_of("[iscsi]\ncmd-window = 5000\n" + t),
              "itd.toml:1: iscsi: cmd-window 5000 is out of range (1..4096)");
    EXPECT_EQ(error_of("[iscsi]\n\ncmd-window = -1\n" + t),
              "itd.toml:3: iscsi.cmd-window: out of range");
    EXPECT_EQ(error_of("[iscsi]\nimmediate-data = \"yes\"\n" + t),
              "itd.toml:2: iscsi.immediate-data: expected true or false, got a string");
    EXPECT_EQ(error_of("[iscsi]\nfirst-burst-length = \"8G\"\n" + t),
              "itd.toml:2: iscsi.first-burst-length: too large");
}

TEST(ConfigFile, MissingFile) {
    auto c = load_config_file("/nonexistent/itd.toml");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::not_found);
    EXPECT_EQ(c.error().message,
              "cannot open config file '/nonexistent/itd.toml': No such file or directory");
}

}  // namespace
}  // namespace itd::daemon
