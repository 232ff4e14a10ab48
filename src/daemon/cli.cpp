// The command line. CLI11 does the tokenising; every value is taken as text and checked by our
// own parsers, so a bad value gets the same message here as in the config file.
#include <CLI/CLI.hpp>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config.h"

namespace itd::daemon {

namespace {

constexpr std::string_view footer =
    R"(LUN-SPEC: BACKEND:ARG[,KEY=VALUE]...   LUNs are numbered 0, 1, ... in order.
  memory:SIZE[,block-size=512|4096]       RAM volume, e.g. memory:1G
  file:PATH[,size=SIZE][,block-size=N]    file or block device; size= creates it when missing
  thin:STORE/VOLUME[,size=SIZE][,block-size=N][,page-size=SIZE][,cache=SIZE]
                                          thin-provisioned volume in a local store directory:
                                          pages (default 256K) as objects, committed on
                                          SYNCHRONIZE CACHE, FUA or every 30 s; size= creates
                                          it when missing; cache= bounds its page cache
                                          (default 256M). Manage volumes: itd volume --help
  more options: thin (UNMAP, LBPME=1), readonly, removable (RMB=1: eject/load by START STOP
  UNIT), serial=TEXT, wwn=16 hex digits (NAA 2/3/5),
  sanitize-rate=SIZE (SANITIZE erases at most SIZE per second; default no limit)
Persistent reservations with APTPL=1 survive a restart: kept in --state-dir DIR, or by default
  next to a file-backed LUN's file (PATH.pr); without either (memory:) APTPL is not supported.
Sizes are binary: 64K, 512M, 1G, 2T (or KiB, MiB, GiB, TiB).
ADDR:PORT: 127.0.0.1:3260, [::1]:3260, [::]:3260 (default: all addresses, port 3260).

Examples:
  itd memory:1G
  itd thin:/var/lib/itd/store/vol0,size=100G
  itd --listen 127.0.0.1:3260 --target-name iqn.2026-11.org.example:disk0 \
      file:/srv/disk0.img,size=20G memory:64M,block-size=4096
  itd --config /etc/itd/itd.toml)";

struct Arguments {
    std::vector<std::string> listen;
    std::optional<std::string> target_name;
    std::optional<std::string> threads;
    std::optional<std::string> log_level;
    std::optional<std::string> config_path;
    std::optional<std::string> chap_file;
    std::optional<std::string> state_dir;
    std::vector<std::string> lun_specs;
    bool version = false;
};

std::unexpected<Error> usage(std::string message) {
    // CLI11 sometimes spreads a message over lines; ours are one line each.
    for (char& c : message)
        if (c == '\n') c = ' ';
    while (!message.empty() && message.back() == ' ') message.pop_back();
    return fail(Errc::invalid_argument, std::move(message));
}

Result<unsigned> parse_threads(const std::string& text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value > max_worker_threads)
        return usage("invalid --threads '" + text + "' (use 0..1024; 0 = one per core)");
    return value;
}

// Options that apply to both forms and override the config file.
Status apply_overrides(const Arguments& args, Config& config) {
    if (!args.listen.empty()) {
        config.listen.clear();
        for (const auto& text : args.listen) {
            auto portal = parse_portal(text);
            if (!portal) return std::unexpected(portal.error());
            config.listen.push_back(*portal);
        }
    }
    if (args.threads) {
        auto threads = parse_threads(*args.threads);
        if (!threads) return std::unexpected(threads.error());
        config.worker_threads = *threads;
    }
    if (args.log_level) config.log_level = *args.log_level;
    if (args.state_dir) {
        if (args.state_dir->empty()) return usage("--state-dir needs a directory");
        config.state_dir = *args.state_dir;
    }
    return {};
}

// The quick form: one target whose LUNs are the LUN-SPECs in order.
Result<Config> quick_form(const Arguments& args) {
    if (args.lun_specs.empty()) return usage("no LUN given (try: itd memory:1G)");
    TargetConfig target;
    target.name = args.target_name.value_or(default_target_name());
    if (auto st = validate_target_name(target.name); !st) return std::unexpected(st.error());
    for (const auto& text : args.lun_specs) {
        auto lun = parse_lun_spec(text);
        if (!lun) return std::unexpected(lun.error());
        target.luns.push_back(std::move(*lun));
    }
    if (args.chap_file) {
        // The secret comes from a file, never from argv: arguments are visible in ps.
        auto chap = read_chap_file(*args.chap_file);
        if (!chap) return std::unexpected(chap.error());
        target.auth.chap = std::move(*chap);
    }
    Config config;
    config.targets.push_back(std::move(target));
    return config;
}

Result<Config> file_form(const Arguments& args) {
    if (!args.lun_specs.empty())
        return usage("LUN-SPEC '" + args.lun_specs.front() +
                     "' cannot be combined with --config (put LUNs in the file)");
    if (args.target_name)
        return usage("--target-name cannot be combined with --config (name targets in the file)");
    if (args.chap_file)
        return usage("--chap-file cannot be combined with --config (put chap-user and "
                     "chap-secret in the file)");
    return load_config_file(*args.config_path);
}

Result<ParseOutcome> parse(int argc, const char* const* argv) {
    CLI::App app{"itd: iSCSI target daemon", "itd"};
    app.footer(std::string(footer));
    app.get_formatter()->column_width(28);

    Arguments args;
    app.add_option("--listen", args.listen, "Listen on ADDR:PORT (repeatable)")
        ->type_name("ADDR:PORT")
        ->allow_extra_args(false);
    app.add_option("--target-name", args.target_name,
                   "Target name (default: iqn.2026-11.org.itd:<hostname>)")
        ->type_name("IQN");
    app.add_option("--chap-file", args.chap_file,
                   "Require CHAP: FILE holds one line 'USER SECRET' (secret 12..255 bytes)")
        ->type_name("FILE");
    app.add_option("--threads", args.threads, "Worker threads (default 0: one per core)")
        ->type_name("N");
    app.add_option("--log-level", args.log_level, "trace, debug, info (default), warn, error")
        ->type_name("LEVEL");
    app.add_option("--state-dir", args.state_dir,
                   "Keep persistent reservations (APTPL) here, one file per LUN (default: "
                   "next to a file-backed LUN's file)")
        ->type_name("DIR");
    app.add_option("--config", args.config_path, "Read targets and settings from a TOML file")
        ->type_name("FILE");
    app.add_flag("-V,--version", args.version, "Print the version and exit");
    app.add_option("lun-spec", args.lun_specs, "Volumes to export, LUN 0, 1, ...")
        ->type_name("LUN-SPEC");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return InfoText{app.help()};
    } catch (const CLI::ParseError& e) {
        return usage(e.what());
    }
    if (args.version) return InfoText{"itd " ITD_VERSION "\n"};

    auto config = args.config_path ? file_form(args) : quick_form(args);
    if (!config) return std::unexpected(config.error());
    if (auto st = apply_overrides(args, *config); !st) return std::unexpected(st.error());
    if (auto st = validate_config(*config); !st) return std::unexpected(st.error());
    return std::move(*config);
}

}  // namespace

Result<ParseOutcome> parse_command_line(int argc, const char* const* argv) {
    // CLI11 throws more than ParseError on bad use of its API; nothing may escape to main.
    try {
        return parse(argc, argv);
    } catch (const std::exception& e) {
        return usage(std::string("command line: ") + e.what());
    }
}

}  // namespace itd::daemon
