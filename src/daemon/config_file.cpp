// The TOML config file. Every key is known or an error: a typo such as "treads = 4" must not
// be ignored. Errors name the file, the line and the key path:
//   itd.toml:12: target[0].lun[1]: unknown backend 'fil'
//
// Example (also tests/unit/daemon/example.toml):
//
//   log-level = "info"                        # trace debug info warn error
//   listen = ["0.0.0.0:3260", "[::]:3260"]    # default: ["[::]:3260"], all addresses
//   threads = 2                               # default 0: one per core
//   state-dir = "/var/lib/itd"                # persistent reservations (APTPL); default:
//                                             # next to each file-backed LUN (<path>.pr)
//   [iscsi]                                   # optional tuning (RFC 3720 names)
//   max-recv-data-segment-length = "256K"     # sizes: integers or size strings
//   max-burst-length = 1048576
//   first-burst-length = 262144
//   max-outstanding-r2t = 16
//   cmd-window = 128
//   immediate-data = true
//   initial-r2t = false
//   [[target]]
//   name = "iqn.2026-11.org.example:disk0"    # default: iqn.2026-11.org.itd:<hostname>
//   alias = "disk0"                           # optional
//   listen = ["127.0.0.1:3260"]               # optional; default: the global list
//   [[target.lun]]                            # LUN 0
//   backend = "file"
//   path = "/srv/disk0.img"
//   size = "20G"                              # file: optional (creates it when missing)
//   block-size = 512
//   [[target.lun]]                            # LUN 1: the LUN-SPEC form
//   spec = "memory:64M,block-size=4096"
//
// Security (README "Security"): per [[target]] and in an optional [discovery] table
//   chap-user = "alice"                       # the initiator logs in as alice ...
//   chap-secret = "12-to-255-bytes"           # ... with this secret (CHAP, RFC 7143 12.1.3)
//   mutual-chap-user = "disk0"                # mutual CHAP: we answer as disk0 ...
//   mutual-chap-secret = "another-secret"     # ... with this one (must differ)
// and per [[target]] only
//   allow = ["iqn.2026-11.org.example:host1", "10.0.0.0/8", "::1"]   # default: everyone
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "daemon/config.h"
#include "daemon/lun_spec.h"

namespace itd::daemon {

namespace {

using Keys = std::initializer_list<std::string_view>;

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::none:
            return "nothing";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
    }
    return "a value";
}

std::string join(std::string_view path, std::string_view key) {
    return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

class FileParser {
  public:
    explicit FileParser(std::string source) : source_(std::move(source)) {}

    Result<Config> parse(const toml::table& root);

  private:
    std::unexpected<Error> error(const toml::source_region& where, std::string_view path,
                                 std::string_view message) const {
        std::string text = source_;
        if (where.begin.line != 0) text += ":" + std::to_string(where.begin.line);
        text += ": ";
        if (!path.empty()) text += std::string(path) + ": ";
        text += message;
        return fail(Errc::invalid_argument, std::move(text));
    }

    Status check_keys(const toml::table& table, std::string_view path, Keys allowed) const;
    Result<std::string> get_string(const toml::node& node, std::string_view path) const;
    Result<std::int64_t> get_integer(const toml::node& node, std::string_view path) const;
    Result<bool> get_bool(const toml::node& node, std::string_view path) const;
    // A size in bytes: an integer, or a string parse_size() accepts.
    Result<std::string> get_size_text(const toml::node& node, std::string_view path) const;
    Result<std::uint32_t> get_u32_size(const toml::node& node, std::string_view path) const;
    Result<std::vector<Portal>> get_portals(const toml::node& node, std::string_view path) const;
    // meta = "etcd://H:P" or ["etcd://H1:P1", "etcd://H2:P2"] -> the LUN-SPEC's etcd://H1:P1+H2:P2.
    Result<std::string> get_meta(const toml::node& node, std::string_view path) const;
    Status parse_s3(const toml::table& table, volume::StoreSecrets& secrets) const;
    const toml::array* get_table_array(const toml::node& node, std::string_view path,
                                       std::string_view example, Status& status) const;

    Status parse_iscsi(const toml::table& table, IscsiLimits& limits) const;
    // chap-user, chap-secret, mutual-chap-user, mutual-chap-secret of a target or [discovery].
    Status parse_auth(const toml::table& table, std::string_view path, AuthConfig& auth) const;
    Result<std::vector<std::string>> get_allow(const toml::node& node, std::string_view path) const;
    Result<TargetConfig> parse_target(const toml::table& table, std::string_view path) const;
    Result<LunSpec> parse_lun(const toml::table& table, std::string_view path) const;

    std::string source_;
};

Status FileParser::check_keys(const toml::table& table, std::string_view path, Keys allowed) const {
    for (auto&& [key, node] : table) {
        const std::string_view name = key.str();
        if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
        (void)node;
        return error(key.source(), path, "unknown key '" + std::string(name) + "'");
    }
    return {};
}

Result<std::string> FileParser::get_string(const toml::node& node, std::string_view path) const {
    if (const auto* s = node.as_string()) return s->get();
    return error(node.source(), path, "expected a string, got " + std::string(type_name(node)));
}

Result<std::int64_t> FileParser::get_integer(const toml::node& node, std::string_view path) const {
    if (const auto* i = node.as_integer()) return i->get();
    return error(node.source(), path, "expected an integer, got " + std::string(type_name(node)));
}

Result<bool> FileParser::get_bool(const toml::node& node, std::string_view path) const {
    if (const auto* b = node.as_boolean()) return b->get();
    return error(node.source(), path,
                 "expected true or false, got " + std::string(type_name(node)));
}

Result<std::string> FileParser::get_size_text(const toml::node& node, std::string_view path) const {
    if (const auto* s = node.as_string()) return s->get();
    if (const auto* i = node.as_integer()) {
        if (i->get() <= 0) return error(node.source(), path, "must be positive");
        return std::to_string(i->get());
    }
    return error(
        node.source(), path,
        "expected a size (integer or string such as \"64K\"), got " + std::string(type_name(node)));
}

Result<std::uint32_t> FileParser::get_u32_size(const toml::node& node,
                                               std::string_view path) const {
    auto text = get_size_text(node, path);
    if (!text) return std::unexpected(text.error());
    auto size = parse_size(*text);
    if (!size) return error(node.source(), path, size.error().message);
    if (*size > std::numeric_limits<std::uint32_t>::max())
        return error(node.source(), path, "too large");
    return static_cast<std::uint32_t>(*size);
}

Result<std::vector<Portal>> FileParser::get_portals(const toml::node& node,
                                                    std::string_view path) const {
    const auto* array = node.as_array();
    if (!array)
        return error(node.source(), path,
                     "expected an array of addresses such as [\"127.0.0.1:3260\"], got " +
                         std::string(type_name(node)));
    if (array->empty()) return error(node.source(), path, "empty list of addresses");
    std::vector<Portal> portals;
    for (const auto& element : *array) {
        auto text = get_string(element, path);
        if (!text) return std::unexpected(text.error());
        auto portal = parse_portal(*text);
        if (!portal) return error(element.source(), path, portal.error().message);
        if (std::find(portals.begin(), portals.end(), *portal) != portals.end())
            return error(element.source(), path, "address " + *text + " given twice");
        portals.push_back(*portal);
    }
    return portals;
}

const toml::array* FileParser::get_table_array(const toml::node& node, std::string_view path,
                                               std::string_view example, Status& status) const {
    const auto* array = node.as_array();
    if (!array || !array->is_array_of_tables()) {
        status = error(node.source(), path,
                       "expected an array of tables; write " + std::string(example));
        return nullptr;
    }
    return array;
}

Status FileParser::parse_iscsi(const toml::table& table, IscsiLimits& limits) const {
    constexpr std::string_view path = "iscsi";
    if (auto st =
            check_keys(table, path,
                       {"max-recv-data-segment-length", "max-burst-length", "first-burst-length",
                        "max-outstanding-r2t", "cmd-window", "immediate-data", "initial-r2t"});
        !st)
        return st;
    const std::pair<std::string_view, std::uint32_t*> sizes[] = {
        {"max-recv-data-segment-length", &limits.max_recv_data_segment_bytes},
        {"max-burst-length", &limits.max_burst_bytes},
        {"first-burst-length", &limits.first_burst_bytes},
    };
    for (const auto& [key, field] : sizes) {
        if (const auto* node = table.get(key)) {
            auto value = get_u32_size(*node, join(path, key));
            if (!value) return std::unexpected(value.error());
            *field = *value;
        }
    }
    const std::pair<std::string_view, std::uint32_t*> counts[] = {
        {"max-outstanding-r2t", &limits.max_outstanding_r2t},
        {"cmd-window", &limits.cmd_window},
    };
    for (const auto& [key, field] : counts) {
        if (const auto* node = table.get(key)) {
            auto value = get_integer(*node, join(path, key));
            if (!value) return std::unexpected(value.error());
            if (*value < 0 || *value > std::numeric_limits<std::uint32_t>::max())
                return error(node->source(), join(path, key), "out of range");
            *field = static_cast<std::uint32_t>(*value);
        }
    }
    const std::pair<std::string_view, bool*> flags[] = {
        {"immediate-data", &limits.immediate_data},
        {"initial-r2t", &limits.initial_r2t},
    };
    for (const auto& [key, field] : flags) {
        if (const auto* node = table.get(key)) {
            auto value = get_bool(*node, join(path, key));
            if (!value) return std::unexpected(value.error());
            *field = *value;
        }
    }
    // Ranges and FirstBurstLength <= MaxBurstLength; the message names the key.
    if (auto st = validate_iscsi_limits(limits); !st)
        return error(table.source(), path, st.error().message);
    return {};
}

Status FileParser::parse_auth(const toml::table& table, std::string_view path,
                              AuthConfig& auth) const {
    const std::pair<std::string_view, std::optional<ChapConfig>*> pairs[] = {
        {"", &auth.chap},
        {"mutual-", &auth.mutual_chap},
    };
    for (const auto& [prefix, slot] : pairs) {
        const std::string user_key = std::string(prefix) + "chap-user";
        const std::string secret_key = std::string(prefix) + "chap-secret";
        const toml::node* user = table.get(user_key);
        const toml::node* secret = table.get(secret_key);
        if (!user && !secret) continue;
        if (!user || !secret)
            return error(table.source(), path, user_key + " and " + secret_key + " go together");
        auto user_text = get_string(*user, join(path, user_key));
        if (!user_text) return std::unexpected(user_text.error());
        // get_string's message names the type, never the value.
        auto secret_text = get_string(*secret, join(path, secret_key));
        if (!secret_text) return std::unexpected(secret_text.error());
        *slot = ChapConfig{*user_text, *secret_text};
    }
    if (auto st = validate_auth(auth); !st) return error(table.source(), path, st.error().message);
    return {};
}

Result<std::vector<std::string>> FileParser::get_allow(const toml::node& node,
                                                       std::string_view path) const {
    const auto* array = node.as_array();
    if (!array)
        return error(node.source(), path,
                     "expected an array such as [\"iqn.2026-11.org.example:host\", "
                     "\"10.0.0.0/8\"], got " + std::string(type_name(node)));
    std::vector<std::string> rules;
    for (const auto& element : *array) {
        auto text = get_string(element, path);
        if (!text) return std::unexpected(text.error());
        if (auto st = validate_allow_rule(*text); !st)
            return error(element.source(), path, st.error().message);
        rules.push_back(*text);
    }
    return rules;
}

Result<std::string> FileParser::get_meta(const toml::node& node, std::string_view path) const {
    if (!node.is_array()) return get_string(node, path);
    const auto& array = *node.as_array();
    if (array.empty())
        return error(node.source(), path, "empty list (give one etcd://HOST:PORT or more)");
    std::string scheme;
    std::string joined;
    for (const auto& element : array) {
        auto text = get_string(element, path);
        if (!text) return std::unexpected(text.error());
        const auto end = text->find("://");
        if (end == std::string::npos)
            return error(element.source(), path, "'" + *text + "' is not etcd://HOST:PORT");
        if (scheme.empty()) scheme = text->substr(0, end + 3);
        if (text->substr(0, end + 3) != scheme)
            return error(element.source(), path, "every member needs the same scheme (" +
                                                      scheme + ")");
        if (!joined.empty()) joined += '+';
        joined += text->substr(end + 3);
    }
    return scheme + joined;
}

// [s3]: credentials for every thin LUN on an s3:// store, instead of the environment's.
Status FileParser::parse_s3(const toml::table& table, volume::StoreSecrets& secrets) const {
    if (auto st = check_keys(table, "s3", {"access-key-id", "secret-access-key", "session-token"});
        !st)
        return st;
    const auto get = [&](const char* key, std::string& out) -> Status {
        const auto* node = table.get(key);
        if (!node) return {};
        auto text = get_string(*node, join("s3", key));
        if (!text) return std::unexpected(text.error());
        // No value in the message: these are secrets.
        if (text->empty()) return error(node->source(), "s3", std::string(key) + " is empty");
        out = *text;
        return {};
    };
    for (auto [key, out] : {std::pair{"access-key-id", &secrets.s3_access_key_id},
                            std::pair{"secret-access-key", &secrets.s3_secret_access_key},
                            std::pair{"session-token", &secrets.s3_session_token}})
        if (auto st = get(key, *out); !st) return st;
    if (secrets.s3_access_key_id.empty() != secrets.s3_secret_access_key.empty())
        return error(table.source(), "s3", "access-key-id and secret-access-key go together");
    if (!secrets.s3_session_token.empty() && secrets.s3_access_key_id.empty())
        return error(table.source(), "s3", "session-token needs access-key-id and secret-access-key");
    return {};
}

Result<LunSpec> FileParser::parse_lun(const toml::table& table, std::string_view path) const {
    if (auto st = check_keys(table, path,
                             {"spec", "backend", "path", "size", "block-size", "thin", "readonly",
                              "removable", "serial", "wwn", "sanitize-rate", "page-size", "cache",
                              "endpoint", "region", "addressing", "ceph-conf", "ceph-user", "meta",
                              "lease-ttl", "meta-prefix"});
        !st)
        return std::unexpected(st.error());
    if (const auto* spec = table.get("spec")) {
        if (table.size() != 1)
            return error(table.source(), path,
                         "use either spec or backend/path/size/block-size, not both");
        auto text = get_string(*spec, join(path, "spec"));
        if (!text) return std::unexpected(text.error());
        auto lun = parse_lun_spec(*text);
        if (!lun) return error(spec->source(), path, lun.error().message);
        return lun;
    }

    const auto* backend_node = table.get("backend");
    if (!backend_node)
        return error(table.source(), path, "missing key 'backend' (or give a spec = \"...\")");
    auto backend = get_string(*backend_node, join(path, "backend"));
    if (!backend) return std::unexpected(backend.error());

    LunParts parts;
    parts.backend = *backend;
    const bool memory = parts.backend == "memory";
    if (const auto* node = table.get("path")) {
        if (memory) return error(node->source(), path, "backend 'memory' has no path");
        auto text = get_string(*node, join(path, "path"));
        if (!text) return std::unexpected(text.error());
        parts.arg = *text;
    } else if (parts.backend == "file" || parts.backend == "thin") {
        return error(table.source(), path, "missing key 'path'");
    }
    if (const auto* node = table.get("size")) {
        auto text = get_size_text(*node, join(path, "size"));
        if (!text) return std::unexpected(text.error());
        if (memory)
            parts.arg = *text;  // a LUN-SPEC gives the memory size as ARG: memory:1G
        else
            parts.options.emplace_back("size", *text);
    } else if (memory) {
        return error(table.source(), path, "missing key 'size' (memory needs a size)");
    }
    if (const auto* node = table.get("block-size")) {
        auto text = get_size_text(*node, join(path, "block-size"));
        if (!text) return std::unexpected(text.error());
        parts.options.emplace_back("block-size", *text);
    }
    // The LUN-SPEC flags are booleans here; false is the same as leaving them out.
    for (const char* key : {"thin", "readonly", "removable"}) {
        if (const auto* node = table.get(key)) {
            auto value = get_bool(*node, join(path, key));
            if (!value) return std::unexpected(value.error());
            if (*value) parts.options.emplace_back(key, std::nullopt);
        }
    }
    for (const char* key : {"serial", "wwn", "endpoint", "region", "addressing", "ceph-conf",
                            "ceph-user", "meta-prefix"}) {
        if (const auto* node = table.get(key)) {
            auto text = get_string(*node, join(path, key));
            if (!text) return std::unexpected(text.error());
            parts.options.emplace_back(key, *text);
        }
    }
    if (const auto* node = table.get("meta")) {
        auto text = get_meta(*node, join(path, "meta"));
        if (!text) return std::unexpected(text.error());
        parts.options.emplace_back("meta", *text);
    }
    if (const auto* node = table.get("lease-ttl")) {
        auto seconds = get_integer(*node, join(path, "lease-ttl"));
        if (!seconds) return std::unexpected(seconds.error());
        parts.options.emplace_back("lease-ttl", std::to_string(*seconds));
    }
    for (const char* key : {"sanitize-rate", "page-size", "cache"}) {
        const auto* node = table.get(key);
        if (!node) continue;
        auto text = get_size_text(*node, join(path, key));
        if (!text) return std::unexpected(text.error());
        parts.options.emplace_back(key, *text);
    }

    auto lun = build_lun_spec(parts);
    if (!lun) {
        // Point at the key that is wrong when there is one.
        std::string key = lun.error().key;
        if (key == "arg") key = memory ? "size" : "path";
        const toml::node* node = table.get(key);
        return error(node ? node->source() : table.source(), path, lun.error().message);
    }
    return std::move(*lun);
}

Result<TargetConfig> FileParser::parse_target(const toml::table& table,
                                              std::string_view path) const {
    if (auto st = check_keys(table, path,
                             {"name", "alias", "listen", "lun", "allow", "chap-user", "chap-secret",
                              "mutual-chap-user", "mutual-chap-secret"});
        !st)
        return std::unexpected(st.error());
    TargetConfig target;
    if (const auto* node = table.get("name")) {
        auto name = get_string(*node, join(path, "name"));
        if (!name) return std::unexpected(name.error());
        if (auto st = validate_target_name(*name); !st)
            return error(node->source(), path, st.error().message);
        target.name = *name;
    } else {
        target.name = default_target_name();
    }
    if (const auto* node = table.get("alias")) {
        auto alias = get_string(*node, join(path, "alias"));
        if (!alias) return std::unexpected(alias.error());
        target.alias = *alias;
    }
    if (const auto* node = table.get("listen")) {
        auto portals = get_portals(*node, join(path, "listen"));
        if (!portals) return std::unexpected(portals.error());
        target.portals = std::move(*portals);
    }
    if (const auto* node = table.get("allow")) {
        auto allow = get_allow(*node, join(path, "allow"));
        if (!allow) return std::unexpected(allow.error());
        target.allow = std::move(*allow);
    }
    if (auto st = parse_auth(table, path, target.auth); !st) return std::unexpected(st.error());
    const auto* lun_node = table.get("lun");
    if (!lun_node) return error(table.source(), path, "no LUN (add a [[target.lun]] table)");
    Status status;
    const auto* luns = get_table_array(*lun_node, join(path, "lun"), "[[target.lun]]", status);
    if (!luns) return std::unexpected(status.error());
    for (std::size_t i = 0; i < luns->size(); ++i) {
        auto lun = parse_lun(*(*luns)[i].as_table(),
                             std::string(path) + ".lun[" + std::to_string(i) + "]");
        if (!lun) return std::unexpected(lun.error());
        target.luns.push_back(std::move(*lun));
    }
    return target;
}

Result<Config> FileParser::parse(const toml::table& root) {
    if (auto st = check_keys(root, "",
                             {"log-level", "listen", "threads", "state-dir", "iscsi", "discovery",
                              "s3", "target"});
        !st)
        return std::unexpected(st.error());
    Config config;
    if (const auto* node = root.get("log-level")) {
        auto level = get_string(*node, "log-level");
        if (!level) return std::unexpected(level.error());
        if (!is_valid_log_level(*level))
            return error(node->source(), "log-level",
                         "invalid level '" + *level + "' (use trace, debug, info, warn or error)");
        config.log_level = *level;
    }
    if (const auto* node = root.get("listen")) {
        auto portals = get_portals(*node, "listen");
        if (!portals) return std::unexpected(portals.error());
        config.listen = std::move(*portals);
    }
    if (const auto* node = root.get("threads")) {
        auto threads = get_integer(*node, "threads");
        if (!threads) return std::unexpected(threads.error());
        if (*threads < 0 || *threads > max_worker_threads)
            return error(node->source(), "threads", "out of range (0..1024; 0 = one per core)");
        config.worker_threads = static_cast<unsigned>(*threads);
    }
    if (const auto* node = root.get("state-dir")) {
        auto dir = get_string(*node, "state-dir");
        if (!dir) return std::unexpected(dir.error());
        if (dir->empty()) return error(node->source(), "state-dir", "must not be empty");
        config.state_dir = *dir;
    }
    if (const auto* node = root.get("iscsi")) {
        const auto* table = node->as_table();
        if (!table)
            return error(node->source(), "iscsi",
                         "expected a table ([iscsi]), got " + std::string(type_name(*node)));
        if (auto st = parse_iscsi(*table, config.iscsi); !st) return std::unexpected(st.error());
    }

    if (const auto* node = root.get("discovery")) {
        const auto* table = node->as_table();
        if (!table)
            return error(node->source(), "discovery",
                         "expected a table ([discovery]), got " + std::string(type_name(*node)));
        if (auto st = check_keys(*table, "discovery",
                                 {"chap-user", "chap-secret", "mutual-chap-user",
                                  "mutual-chap-secret"});
            !st)
            return std::unexpected(st.error());
        if (auto st = parse_auth(*table, "discovery", config.discovery); !st)
            return std::unexpected(st.error());
    }

    volume::StoreSecrets s3_secrets;
    if (const auto* node = root.get("s3")) {
        const auto* table = node->as_table();
        if (!table)
            return error(node->source(), "s3",
                         "expected a table ([s3]), got " + std::string(type_name(*node)));
        if (auto st = parse_s3(*table, s3_secrets); !st) return std::unexpected(st.error());
    }

    const auto* target_node = root.get("target");
    if (!target_node) return error({}, "", "no target (add a [[target]] table)");
    Status status;
    const auto* targets = get_table_array(*target_node, "target", "[[target]]", status);
    if (!targets) return std::unexpected(status.error());
    std::set<std::string> names;
    for (std::size_t i = 0; i < targets->size(); ++i) {
        const auto& table = *(*targets)[i].as_table();
        auto target = parse_target(table, "target[" + std::to_string(i) + "]");
        if (!target) return std::unexpected(target.error());
        if (!names.insert(target->name).second) {
            const toml::node* name = table.get("name");
            return error(name ? name->source() : table.source(),
                         "target[" + std::to_string(i) + "]",
                         "target name '" + target->name + "' used twice");
        }
        for (auto& lun : target->luns)
            if (lun.volume.backend == "thin") lun.volume.secrets = s3_secrets;
        config.targets.push_back(std::move(*target));
    }

    // A backstop for anything checked only on the whole configuration.
    if (auto st = validate_config(config); !st) return error({}, "", st.error().message);
    return config;
}

}  // namespace

Result<Config> parse_config_text(std::string_view text, const std::string& source_name) {
    try {
        const toml::table root = toml::parse(text, source_name);
        return FileParser(source_name).parse(root);
    } catch (const toml::parse_error& e) {
        std::string message = source_name;
        if (e.source().begin.line != 0) message += ":" + std::to_string(e.source().begin.line);
        message += ": " + std::string(e.description());
        for (char& c : message)
            if (c == '\n') c = ' ';
        return fail(Errc::invalid_argument, std::move(message));
    } catch (const std::exception& e) {
        return fail(Errc::invalid_argument, source_name + ": " + e.what());
    }
}

Result<Config> load_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int saved = errno;
        return fail(saved == ENOENT ? Errc::not_found : Errc::invalid_argument,
                    "cannot open config file '" + path + "': " + std::strerror(saved));
    }
    std::ostringstream contents;
    contents << in.rdbuf();
    if (in.bad()) return fail(Errc::invalid_argument, "cannot read config file '" + path + "'");
    return parse_config_text(contents.str(), path);
}

}  // namespace itd::daemon
