// `itd volume SUBCOMMAND ...` (volume_cli.h). Each subcommand is one row of kCommands (its
// usage, its options, how many operands) and one function that calls the catalog.
#include "daemon/volume_cli.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/lun_spec.h"
#include "volume/thin/catalog.h"
#include "volume/thin/store_location.h"
#include "volume/thin/store_open.h"

namespace itd::daemon {

namespace {

namespace thin = itd::volume::thin;
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// How long snapshot and grow wait for the itd serving a volume, unless --timeout says.
constexpr std::chrono::seconds kDefaultOwnerTimeout{60};
constexpr std::chrono::seconds kDefaultGrace{3600};

constexpr std::string_view kOverview =
    R"(usage: itd volume SUBCOMMAND ...     thin volumes in a store

  create    STORE/VOLUME --size SIZE [--block-size 512|4096] [--page-size SIZE]
  list      STORE
  snapshot  STORE/VOLUME SNAPSHOT [--timeout DURATION]
  snapshots STORE/VOLUME
  clone     STORE/VOLUME@SNAPSHOT NEWVOLUME
  delete    STORE/VOLUME | STORE/VOLUME@SNAPSHOT
  grow      STORE/VOLUME SIZE [--timeout DURATION]
  import    FILE STORE/VOLUME [--create] [--block-size 512|4096] [--page-size SIZE]
  export    STORE/VOLUME[@SNAPSHOT] FILE
  gc        STORE [--grace DURATION]

STORE/VOLUME is what itd serves as thin:STORE/VOLUME. STORE is a local directory, or a
cluster store with its options after the name, as in a LUN-SPEC (S3 credentials from the
environment):
  s3://BUCKET[/PREFIX]/VOLUME,endpoint=http://HOST:PORT,meta=etcd://HOST:PORT
  rados://POOL[/NAMESPACE]/VOLUME,ceph-conf=PATH,meta=etcd://HOST:PORT
and for list and gc the store alone: s3://BUCKET,endpoint=...,meta=...
Sizes are binary: 64K, 512M, 1G, 2T.
Durations: 30s, 10m, 1h, 2d (a bare number is seconds).
`itd volume SUBCOMMAND --help` says more about one subcommand.
)";

struct Option {
    std::string_view name;  // without "--"
    bool takes_value;
};

struct Args {
    std::vector<std::string> operands;
    std::map<std::string, std::string, std::less<>> options;  // flags map to ""

    const std::string* get(std::string_view name) const {
        auto it = options.find(name);
        return it == options.end() ? nullptr : &it->second;
    }
};

// A usage error: exit 2.
struct UsageError {
    std::string message;
};

using Outcome = std::expected<void, std::variant<Error, UsageError>>;

std::unexpected<std::variant<Error, UsageError>> usage(std::string message) {
    return std::unexpected(std::variant<Error, UsageError>(UsageError{std::move(message)}));
}
std::unexpected<std::variant<Error, UsageError>> failed(Error error) {
    return std::unexpected(std::variant<Error, UsageError>(std::move(error)));
}

struct Command {
    std::string_view name;
    std::string_view synopsis;  // after "itd volume NAME "
    std::string_view help;      // what it does, several lines
    std::vector<Option> options;
    std::size_t operands;
    Outcome (*run)(const Args&);
};

// ---- operands and values --------------------------------------------------------------------

struct StorePath {
    std::string dir;   // the store, with a cluster store's ",KEY=VALUE..." options
    std::string name;  // VOLUME or VOLUME@SNAPSHOT
};

bool cluster_store(std::string_view text) {
    return text.starts_with("s3://") || text.starts_with("rados://");
}

// A cluster store's options follow the first ','; a directory may contain commas.
std::pair<std::string, std::string> split_options(const std::string& text) {
    const auto comma = cluster_store(text) ? text.find(',') : std::string::npos;
    if (comma == std::string::npos) return {text, ""};
    return {text.substr(0, comma), text.substr(comma)};
}

// STORE/NAME, split at the last '/' like the thin:STORE/VOLUME LUN-SPEC.
Result<StorePath> split_store_path(const std::string& text, std::string_view what) {
    const auto [path, options] = split_options(text);
    auto split = thin::split_store_volume(path);
    if (!split) {
        return fail(Errc::invalid_argument, "'" + path + "' is not STORE/" + std::string(what) +
                                                " (the store, a slash, then the name)");
    }
    return StorePath{split->first + options, split->second};
}

Result<std::uint64_t> parse_duration_s(const std::string& text, std::string_view option) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    const std::string_view suffix(ptr, static_cast<std::size_t>(end - ptr));
    std::uint64_t unit = 0;
    if (suffix.empty() || suffix == "s") unit = 1;
    if (suffix == "m") unit = 60;
    if (suffix == "h") unit = 3600;
    if (suffix == "d") unit = 86400;
    if (text.empty() || ec != std::errc{} || ptr == text.data() || unit == 0 ||
        value > (std::uint64_t{1} << 40) / unit) {
        return fail(Errc::invalid_argument,
                    "invalid --" + std::string(option) + " '" + text +
                        "': expected a duration such as 0s, 30s, 10m, 1h or 2d");
    }
    return value * unit;
}

Result<std::uint32_t> parse_u32_size(const std::string& text, std::string_view option) {
    auto value = parse_size(text);
    if (!value) {
        return fail(Errc::invalid_argument,
                    "--" + std::string(option) + ": " + value.error().message);
    }
    if (*value > UINT32_MAX) {
        return fail(Errc::invalid_argument,
                    "--" + std::string(option) + " '" + text + "' is too large");
    }
    return static_cast<std::uint32_t>(*value);
}

// --block-size and --page-size into create parameters (the rest is the caller's).
Result<thin::CreateParams> geometry_options(const Args& args) {
    thin::CreateParams params;
    if (const std::string* text = args.get("block-size")) {
        auto bs = parse_u32_size(*text, "block-size");
        if (!bs) return std::unexpected(bs.error());
        params.block_size_bytes = *bs;
    }
    if (const std::string* text = args.get("page-size")) {
        auto ps = parse_u32_size(*text, "page-size");
        if (!ps) return std::unexpected(ps.error());
        params.page_size_bytes = *ps;
    }
    return params;
}

Result<std::chrono::milliseconds> owner_timeout(const Args& args) {
    const std::string* text = args.get("timeout");
    if (text == nullptr) return std::chrono::milliseconds(kDefaultOwnerTimeout);
    auto s = parse_duration_s(*text, "timeout");
    if (!s) return std::unexpected(s.error());
    if (*s == 0) return fail(Errc::invalid_argument, "--timeout must be at least 1s");
    return std::chrono::milliseconds(std::chrono::seconds(*s));
}

// A store as split_store_path leaves it: a directory, or s3:// or rados:// with its options.
Result<thin::Stores> open_store(const std::string& text, bool create = false) {
    const auto [store, option_text] = split_options(text);
    std::map<std::string, std::string> options;
    for (const auto& [key, value] : split_option_list(option_text)) {
        if (!thin::is_store_option(key))
            return fail(Errc::invalid_argument,
                        "'" + key + "' is not a store option (endpoint=, region=, addressing=, "
                                    "ceph-conf=, ceph-user=, meta=, lease-ttl=, meta-prefix=)");
        if (!value || !options.emplace(key, *value).second)
            return fail(Errc::invalid_argument, "option '" + key + "' without a value or given twice");
    }
    auto where = thin::parse_store_location(store, options);
    if (!where) return fail(Errc::invalid_argument, store + ": " + where.error().message);
    return thin::open_stores(*where, create);
}

// ---- printing ------------------------------------------------------------------------------

// 8M, 256K, 1.5G: exact when the size is a whole number of the unit, else one decimal.
std::string human_size(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"", "K", "M", "G", "T", "P", "E"};
    int unit = 0;
    std::uint64_t scale = 1;
    while (unit < 6 && bytes >= scale * 1024) {
        scale *= 1024;
        ++unit;
    }
    if (bytes % scale == 0) return std::to_string(bytes / scale) + kUnits[unit];
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%s",
                  static_cast<double>(bytes) / static_cast<double>(scale), kUnits[unit]);
    return text;
}

std::string utc_time(std::uint64_t unix_s) {
    const auto t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &tm);
    return text;
}

// Columns padded to their widest cell, two spaces apart; the last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
        }
        std::printf("%s\n", line.c_str());
    }
}

// Progress of an import or export on stderr: a bar redrawn in place on a terminal (at most
// ten times a second), else a plain line every few seconds.
class ProgressMeter {
public:
    explicit ProgressMeter(std::string what)
        : what_(std::move(what)),
          tty_(isatty(STDERR_FILENO) == 1),
          start_(Clock::now()),
          last_(start_) {}

    void update(std::uint64_t done_bytes, std::uint64_t total_bytes) {
        const auto now = Clock::now();
        const auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(2000);
        // The end is finish()'s to say (after the import's commit, say).
        if (done_bytes >= total_bytes || now - last_ < every) return;
        last_ = now;
        printed_ = true;
        draw(done_bytes, total_bytes, now);
    }

    // The last line, after success.
    void finish(std::uint64_t total_bytes) {
        draw(total_bytes, total_bytes, Clock::now());
        if (tty_) std::fputc('\n', stderr);
    }

    // Leaves the bar's line before an error message.
    void abandon() {
        if (tty_ && printed_) std::fputc('\n', stderr);
    }

private:
    void draw(std::uint64_t done, std::uint64_t total, Clock::time_point now) {
        const double seconds = std::chrono::duration<double>(now - start_).count();
        const double mib_s = seconds > 0 ? static_cast<double>(done) / (1 << 20) / seconds : 0.0;
        const int percent = total == 0 ? 100 : static_cast<int>(done * 100 / total);
        if (tty_) {
            constexpr int kWidth = 30;
            const int filled = percent * kWidth / 100;
            std::fprintf(stderr, "\r%s [%s%s] %3d%%  %s of %s  %.1f MiB/s ", what_.c_str(),
                         std::string(static_cast<std::size_t>(filled), '#').c_str(),
                         std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(),
                         percent, human_size(done).c_str(), human_size(total).c_str(), mib_s);
        } else {
            std::fprintf(stderr, "%s: %d%%, %s of %s, %.1f MiB/s\n", what_.c_str(), percent,
                         human_size(done).c_str(), human_size(total).c_str(), mib_s);
        }
        std::fflush(stderr);
    }

    std::string what_;
    bool tty_;
    Clock::time_point start_;
    Clock::time_point last_;
    bool printed_ = false;
};

// ---- subcommands ---------------------------------------------------------------------------

Outcome run_create(const Args& args) {
    auto where = split_store_path(args.operands[0], "VOLUME");
    if (!where) return usage(where.error().message);
    const std::string* size_text = args.get("size");
    if (size_text == nullptr) return usage("create needs --size SIZE");
    auto size = parse_size(*size_text);
    if (!size) return usage("--size: " + size.error().message);
    auto params = geometry_options(args);
    if (!params) return usage(params.error().message);
    params->name = where->name;
    params->size_bytes = *size;
    // Check the name and geometry before a store directory appears for them.
    if (auto ok = thin::check_name("volume", params->name); !ok) return usage(ok.error().message);
    auto stores = open_store(where->dir, true);
    if (!stores) return failed(stores.error());
    auto sb = thin::create_volume(*stores->meta, *params);
    if (!sb) return failed(sb.error());
    std::printf("created volume %s: %s, %u-byte blocks, %s pages\n", sb->name.c_str(),
                human_size(sb->size_bytes).c_str(), sb->block_size_bytes,
                human_size(sb->page_size_bytes).c_str());
    return {};
}

Outcome run_list(const Args& args) {
    auto stores = open_store(args.operands[0]);
    if (!stores) return failed(stores.error());
    auto volumes = thin::list_volumes(*stores);
    if (!volumes) return failed(volumes.error());
    std::vector<std::vector<std::string>> rows{
        {"NAME", "SIZE", "BLOCK", "PAGE", "MAPPED", "OBJECTS", "GENERATION", "ORIGIN", "OPEN-BY"}};
    for (const thin::VolumeInfo& v : *volumes) {
        rows.push_back({v.sb.name, human_size(v.sb.size_bytes),
                        std::to_string(v.sb.block_size_bytes), human_size(v.sb.page_size_bytes),
                        human_size(v.mapped_bytes), std::to_string(v.objects),
                        std::to_string(v.sb.generation), v.sb.origin.empty() ? "-" : v.sb.origin,
                        v.open_by.value_or("-")});
    }
    print_table(rows);
    return {};
}

Outcome run_snapshot(const Args& args) {
    auto where = split_store_path(args.operands[0], "VOLUME");
    if (!where) return usage(where.error().message);
    auto timeout = owner_timeout(args);
    if (!timeout) return usage(timeout.error().message);
    const std::string& snap = args.operands[1];
    if (auto ok = thin::check_name("snapshot", snap); !ok) return usage(ok.error().message);
    auto stores = open_store(where->dir);
    if (!stores) return failed(stores.error());
    if (auto ok = thin::snapshot_volume(*stores, where->name, snap, *timeout); !ok) {
        return failed(ok.error());
    }
    std::printf("created snapshot %s@%s\n", where->name.c_str(), snap.c_str());
    return {};
}

Outcome run_snapshots(const Args& args) {
    auto where = split_store_path(args.operands[0], "VOLUME");
    if (!where) return usage(where.error().message);
    auto stores = open_store(where->dir);
    if (!stores) return failed(stores.error());
    auto snaps = thin::list_snapshots(*stores, where->name);
    if (!snaps) return failed(snaps.error());
    std::vector<std::vector<std::string>> rows{
        {"NAME", "CREATED", "SIZE", "MAPPED", "OBJECTS", "GENERATION"}};
    for (const thin::VolumeInfo& s : *snaps) {
        rows.push_back({s.sb.name + "@" + s.sb.snapshot, utc_time(s.sb.snapshot_created_unix_s),
                        human_size(s.sb.size_bytes), human_size(s.mapped_bytes),
                        std::to_string(s.objects), std::to_string(s.sb.generation)});
    }
    print_table(rows);
    return {};
}

Outcome run_clone(const Args& args) {
    auto where = split_store_path(args.operands[0], "VOLUME@SNAPSHOT");
    if (!where) return usage(where.error().message);
    auto ref = thin::parse_volume_ref(where->name);
    if (!ref) return usage(ref.error().message);
    if (ref->snapshot.empty()) {
        return usage(
            "clone takes a snapshot, STORE/VOLUME@SNAPSHOT (`itd volume snapshot` makes one)");
    }
    if (auto ok = thin::check_name("volume", args.operands[1]); !ok) {
        return usage(ok.error().message);
    }
    auto stores = open_store(where->dir);
    if (!stores) return failed(stores.error());
    auto sb = thin::clone_snapshot(*stores, ref->volume, ref->snapshot, args.operands[1]);
    if (!sb) return failed(sb.error());
    std::printf("created volume %s from snapshot %s\n", sb->name.c_str(), sb->origin.c_str());
    return {};
}

Outcome run_delete(const Args& args) {
    auto where = split_store_path(args.operands[0], "VOLUME");
    if (!where) return usage(where.error().message);
    auto ref = thin::parse_volume_ref(where->name);
    if (!ref) return usage(ref.error().message);
    auto stores = open_store(where->dir);
    if (!stores) return failed(stores.error());
    if (ref->snapshot.empty()) {
        if (auto ok = thin::delete_volume(*stores, ref->volume); !ok) return failed(ok.error());
        std::printf("deleted volume %s (`itd volume gc` frees its data)\n", ref->volume.c_str());
    } else {
        if (auto ok = thin::delete_snapshot(*stores, ref->volume, ref->snapshot); !ok) {
            return failed(ok.error());
        }
        std::printf("deleted snapshot %s (`itd volume gc` frees its data)\n", ref->text().c_str());
    }
    return {};
}

Outcome run_grow(const Args& args) {
    auto where = split_store_path(args.operands[0], "VOLUME");
    if (!where) return usage(where.error().message);
    auto size = parse_size(args.operands[1]);
    if (!size) return usage(size.error().message);
    auto timeout = owner_timeout(args);
    if (!timeout) return usage(timeout.error().message);
    auto stores = open_store(where->dir);
    if (!stores) return failed(stores.error());
    if (auto ok = thin::grow_volume(*stores, where->name, *size, *timeout); !ok) {
        return failed(ok.error());
    }
    std::printf("volume %s is %s\n", where->name.c_str(), human_size(*size).c_str());
    return {};
}

// Runs a copy (import or export) under a progress meter: the bar while it runs, the final
// line on success, the error after the bar's line on failure.
template <typename Copy>
Outcome with_progress(std::string what, Copy copy) {
    ProgressMeter meter(std::move(what));
    std::uint64_t total = 0;
    auto ok = copy([&](std::uint64_t done, std::uint64_t all) {
        total = all;
        meter.update(done, all);
    });
    if (!ok) {
        meter.abandon();
        return failed(ok.error());
    }
    meter.finish(total);
    return {};
}

Outcome run_import(const Args& args) {
    const std::string& file = args.operands[0];
    auto where = split_store_path(args.operands[1], "VOLUME");
    if (!where) return usage(where.error().message);
    const bool create = args.get("create") != nullptr;
    auto params = geometry_options(args);
    if (!params) return usage(params.error().message);
    if (!create && (args.get("block-size") || args.get("page-size"))) {
        return usage("--block-size and --page-size go with --create");
    }
    if (auto ok = thin::check_name("volume", where->name); !ok) return usage(ok.error().message);
    auto stores = open_store(where->dir, create);
    if (!stores) return failed(stores.error());
    return with_progress("import " + file, [&](auto progress) {
        return thin::import_volume(*stores, where->name, file,
                                   create ? std::optional(*params) : std::nullopt, progress);
    });
}

Outcome run_export(const Args& args) {
    auto where = split_store_path(args.operands[0], "VOLUME[@SNAPSHOT]");
    if (!where) return usage(where.error().message);
    auto ref = thin::parse_volume_ref(where->name);
    if (!ref) return usage(ref.error().message);
    const std::string& file = args.operands[1];
    auto stores = open_store(where->dir);
    if (!stores) return failed(stores.error());
    return with_progress("export " + ref->text(), [&](auto progress) {
        return thin::export_volume(*stores, *ref, file, progress);
    });
}

Outcome run_gc(const Args& args) {
    std::uint64_t grace_s = static_cast<std::uint64_t>(kDefaultGrace.count());
    if (const std::string* text = args.get("grace")) {
        auto s = parse_duration_s(*text, "grace");
        if (!s) return usage(s.error().message);
        grace_s = *s;
    }
    auto stores = open_store(args.operands[0]);
    if (!stores) return failed(stores.error());
    auto stats = thin::gc(*stores, std::chrono::seconds(grace_s));
    if (!stats) return failed(stats.error());
    std::printf(
        "gc: %llu objects in use; removed %llu unreferenced objects (%llu bytes); kept %llu "
        "unreferenced objects younger than the grace period\n",
        static_cast<unsigned long long>(stats->marked_objects),
        static_cast<unsigned long long>(stats->swept_objects),
        static_cast<unsigned long long>(stats->swept_bytes),
        static_cast<unsigned long long>(stats->kept_young));
    return {};
}

const std::vector<Command>& commands() {
    static const std::vector<Command> kCommands = {
        {"create",
         "STORE/VOLUME --size SIZE [--block-size 512|4096] [--page-size SIZE]",
         "Creates an empty (all unmapped) thin volume; creates the store directory too when it\n"
         "is missing. --page-size: a power of two from 4K to 4M (default 256K).\n",
         {{"size", true}, {"block-size", true}, {"page-size", true}},
         1,
         run_create},
        {"list",
         "STORE",
         "Lists the volumes: size, block and page size, bytes mapped, objects named, the\n"
         "committed generation, the snapshot a clone was made from, and the itd serving it.\n",
         {},
         1,
         run_list},
        {"snapshot",
         "STORE/VOLUME SNAPSHOT [--timeout DURATION]",
         "Records the volume's committed state as SNAPSHOT. When an itd serves the volume, it\n"
         "is asked to commit and record it (waiting at most --timeout, default 60s).\n",
         {{"timeout", true}},
         2,
         run_snapshot},
        {"snapshots", "STORE/VOLUME", "Lists the volume's snapshots.\n", {}, 1, run_snapshots},
        {"clone",
         "STORE/VOLUME@SNAPSHOT NEWVOLUME",
         "Creates NEWVOLUME from a snapshot. Nothing is copied: the two share the snapshot's\n"
         "data, and each writes its own from then on.\n",
         {},
         2,
         run_clone},
        {"delete",
         "STORE/VOLUME | STORE/VOLUME@SNAPSHOT",
         "Deletes a volume (refused while an itd serves it or while it has snapshots) or a\n"
         "snapshot (refused while a clone was made from it). `itd volume gc` frees the data.\n",
         {},
         1,
         run_delete},
        {"grow",
         "STORE/VOLUME SIZE [--timeout DURATION]",
         "Grows the volume to SIZE (volumes never shrink). When an itd serves the volume, it\n"
         "is asked to grow it, and its initiators see CAPACITY DATA HAS CHANGED.\n",
         {{"timeout", true}},
         2,
         run_grow},
        {"import",
         "FILE STORE/VOLUME [--create] [--block-size 512|4096] [--page-size SIZE]",
         "Writes a raw image FILE into the volume from its first byte; pages of zeros stay\n"
         "unmapped. Refused while an itd serves the volume. --create creates the volume,\n"
         "sized to FILE rounded up to whole blocks.\n",
         {{"create", false}, {"block-size", true}, {"page-size", true}},
         2,
         run_import},
        {"export",
         "STORE/VOLUME[@SNAPSHOT] FILE",
         "Writes the volume's (or snapshot's) committed state to FILE as a raw image; unmapped\n"
         "pages become holes, so the file is sparse. Every page is checked against its CRC32C.\n"
         "A volume an itd serves is exported as of its last commit.\n",
         {},
         2,
         run_export},
        {"gc",
         "STORE [--grace DURATION]",
         "Removes the objects no volume or snapshot names (left by deleted volumes and\n"
         "snapshots, overwritten pages and interrupted commits) that are older than --grace\n"
         "(default 1h). A grace under 10m needs every volume closed.\n",
         {{"grace", true}},
         1,
         run_gc},
    };
    return kCommands;
}

std::string command_usage(const Command& c) {
    return "usage: itd volume " + std::string(c.name) + " " + std::string(c.synopsis);
}

// Operands and --options (--name VALUE, --name=VALUE, or a flag), in any order; "--" ends
// the options.
std::expected<Args, std::string> parse_args(const Command& c, std::span<const char* const> words) {
    Args args;
    bool options_done = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string_view word = words[i];
        if (options_done || !word.starts_with("--") || word == "--") {
            if (word == "--" && !options_done) {
                options_done = true;
                continue;
            }
            args.operands.emplace_back(word);
            continue;
        }
        std::string_view name = word.substr(2);
        std::optional<std::string> value;
        if (const auto eq = name.find('='); eq != std::string_view::npos) {
            value = std::string(name.substr(eq + 1));
            name = name.substr(0, eq);
        }
        const auto option = std::find_if(c.options.begin(), c.options.end(),
                                         [&](const Option& o) { return o.name == name; });
        if (option == c.options.end())
            return std::unexpected("unknown option --" + std::string(name));
        if (option->takes_value && !value) {
            if (i + 1 == words.size())
                return std::unexpected("--" + std::string(name) + " needs a value");
            value = words[++i];
        }
        if (!option->takes_value && value) {
            return std::unexpected("--" + std::string(name) + " takes no value");
        }
        if (args.options.contains(name)) {
            return std::unexpected("--" + std::string(name) + " given twice");
        }
        args.options.emplace(std::string(name), value.value_or(""));
    }
    if (args.operands.size() != c.operands) {
        return std::unexpected(std::to_string(c.operands) + " operand" +
                               (c.operands == 1 ? "" : "s") + " expected, got " +
                               std::to_string(args.operands.size()));
    }
    return args;
}

bool is_help(std::string_view word) {
    return word == "--help" || word == "-h" || word == "help";
}

}  // namespace

int volume_main(int argc, const char* const* argv) {
    const std::span<const char* const> words(argv, static_cast<std::size_t>(std::max(argc, 0)));
    if (words.empty()) {
        std::fputs(kOverview.data(), stderr);
        return kExitUsage;
    }
    if (is_help(words[0])) {
        std::fputs(kOverview.data(), stdout);
        return kExitOk;
    }
    const auto& all = commands();
    const auto command =
        std::find_if(all.begin(), all.end(), [&](const Command& c) { return c.name == words[0]; });
    if (command == all.end()) {
        std::fprintf(stderr, "itd volume: unknown subcommand '%s' (see `itd volume --help`)\n",
                     words[0]);
        return kExitUsage;
    }
    const auto rest = words.subspan(1);
    if (std::any_of(rest.begin(), rest.end(), [](const char* w) {
            return std::string_view(w) == "--help" || std::string_view(w) == "-h";
        })) {
        std::printf("%s\n\n%s", command_usage(*command).c_str(),
                    std::string(command->help).c_str());
        return kExitOk;
    }
    auto args = parse_args(*command, rest);
    if (!args) {
        std::fprintf(stderr, "itd volume %s: %s\n%s\n", words[0], args.error().c_str(),
                     command_usage(*command).c_str());
        return kExitUsage;
    }
    Outcome outcome = command->run(*args);
    if (outcome) return kExitOk;
    if (const auto* u = std::get_if<UsageError>(&outcome.error())) {
        std::fprintf(stderr, "itd volume %s: %s\n%s\n", words[0], u->message.c_str(),
                     command_usage(*command).c_str());
        return kExitUsage;
    }
    std::fprintf(stderr, "itd volume: %s\n", std::get<Error>(outcome.error()).message.c_str());
    return kExitFailed;
}

}  // namespace itd::daemon
