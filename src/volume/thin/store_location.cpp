#include "volume/thin/store_location.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace itd::volume::thin {

namespace {

constexpr std::string_view s3_scheme = "s3://";
constexpr std::string_view rados_scheme = "rados://";

constexpr std::array s3_keys = {std::string_view{"endpoint"}, std::string_view{"region"},
                                std::string_view{"addressing"}};
constexpr std::array rados_keys = {std::string_view{"ceph-conf"}, std::string_view{"ceph-user"}};
constexpr std::array meta_keys = {std::string_view{"meta"}, std::string_view{"lease-ttl"},
                                  std::string_view{"meta-prefix"}};

// Lease TTLs etcd grants: below 2 s keep-alives cannot keep up; an hour is plenty of patience.
constexpr long min_lease_ttl_s = 2;
constexpr long max_lease_ttl_s = 3600;

template <std::size_t N>
bool in(const std::array<std::string_view, N>& keys, std::string_view key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

Status invalid(std::string message) { return fail(Errc::invalid_argument, std::move(message)); }

// S3 bucket names (AWS's rules, which Ceph RGW and MinIO follow): 3..63 lowercase letters,
// digits, '-' and '.', starting and ending with a letter or digit.
bool valid_bucket(std::string_view name) {
    if (name.size() < 3 || name.size() > 63) return false;
    const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front()) || !alnum(name.back())) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

// Printable, no spaces, no '/', ',' or '='; used for pools, namespaces and prefix parts.
bool valid_component(std::string_view part) {
    return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
        return c > 0x20 && c < 0x7f && c != '/' && c != ',' && c != '=' && c != '@';
    });
}

bool valid_port(std::string_view text) {
    unsigned port = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, port);
    return !text.empty() && ec == std::errc{} && ptr == end && port >= 1 && port <= 65535;
}

// HOST:PORT or [V6-ADDRESS]:PORT.
bool valid_host_port(std::string_view text) {
    std::size_t colon = 0;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close < 2 || close + 1 >= text.size() ||
            text[close + 1] != ':')
            return false;
        colon = close + 1;
    } else {
        colon = text.rfind(':');
        if (colon == std::string_view::npos || colon == 0) return false;
        const std::string_view host = text.substr(0, colon);
        if (host.find(':') != std::string_view::npos) return false;  // a bare IPv6 address
    }
    const std::string_view host = text.substr(0, colon);
    if (std::any_of(host.begin(), host.end(), [](char c) { return c <= 0x20 || c >= 0x7f; }))
        return false;
    return valid_port(text.substr(colon + 1));
}

Status parse_endpoint(std::string_view text, StoreLocation& out) {
    const bool http = text.starts_with("http://");
    const bool https = text.starts_with("https://");
    std::string_view rest = text.substr(http ? 7 : https ? 8 : 0);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if ((!http && !https) || !valid_host_port(rest))
        return invalid("endpoint '" + std::string(text) +
                       "' is not http(s)://HOST:PORT (e.g. endpoint=http://127.0.0.1:7480)");
    out.endpoint = std::string(text.substr(0, text.size() - (text.back() == '/' ? 1 : 0)));
    return {};
}

Status parse_meta(std::string_view text, StoreLocation& out) {
    const bool plain = text.starts_with("etcd://");
    const bool tls = text.starts_with("etcds://");
    const std::string example =
        " (e.g. meta=etcd://127.0.0.1:2379, several as etcd://h1:2379+h2:2379; etcds:// for TLS)";
    if (!plain && !tls)
        return invalid("meta '" + std::string(text) + "' is not etcd://HOST:PORT" + example);
    std::string_view rest = text.substr(plain ? 7 : 8);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    out.meta_endpoints.clear();
    while (true) {
        const auto plus = rest.find('+');
        const std::string_view one = rest.substr(0, plus);
        if (!valid_host_port(one))
            return invalid("meta '" + std::string(text) + "': '" + std::string(one) +
                           "' is not HOST:PORT" + example);
        std::string url = std::string(tls ? "https://" : "http://") + std::string(one);
        if (std::find(out.meta_endpoints.begin(), out.meta_endpoints.end(), url) !=
            out.meta_endpoints.end())
            return invalid("meta '" + std::string(text) + "' names " + std::string(one) + " twice");
        out.meta_endpoints.push_back(std::move(url));
        if (plus == std::string_view::npos) break;
        rest.remove_prefix(plus + 1);
    }
    return {};
}

Status parse_lease_ttl(std::string_view text, StoreLocation& out) {
    std::string_view digits = text;
    if (digits.ends_with('s')) digits.remove_suffix(1);
    long seconds = 0;
    const auto* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, seconds);
    if (digits.empty() || ec != std::errc{} || ptr != end || seconds < min_lease_ttl_s ||
        seconds > max_lease_ttl_s)
        return invalid("lease-ttl '" + std::string(text) + "' is not a number of seconds from " +
                       std::to_string(min_lease_ttl_s) + " to " + std::to_string(max_lease_ttl_s));
    out.lease_ttl = std::chrono::seconds(seconds);
    return {};
}

// "A/B/C" -> each part valid; returns the parts joined with '/' and a trailing '/'.
Result<std::string> parse_path_parts(std::string_view text, std::string_view what) {
    std::string joined;
    while (!text.empty()) {
        const auto slash = text.find('/');
        const std::string_view part = text.substr(0, slash);
        if (!valid_component(part))
            return fail(Errc::invalid_argument,
                        std::string(what) + " '" + std::string(text) +
                            "': empty part or a character that is not allowed (space, ',', '=', "
                            "'@' or a control character)");
        joined.append(part).push_back('/');
        if (slash == std::string_view::npos) break;
        text.remove_prefix(slash + 1);
        if (text.empty()) return fail(Errc::invalid_argument, std::string(what) + " ends with '/'");
    }
    return joined;
}

Status parse_s3(std::string_view rest, StoreLocation& out) {
    out.kind = StoreLocation::Kind::s3;
    const auto slash = rest.find('/');
    out.bucket = std::string(rest.substr(0, slash));
    if (!valid_bucket(out.bucket))
        return invalid("s3 bucket '" + out.bucket +
                       "' is not a bucket name (3 to 63 lowercase letters, digits, '-' and '.')");
    if (slash != std::string_view::npos) {
        auto prefix = parse_path_parts(rest.substr(slash + 1), "s3 key prefix");
        if (!prefix) return std::unexpected(prefix.error());
        out.key_prefix = std::move(*prefix);
    }
    return {};
}

Status parse_rados(std::string_view rest, StoreLocation& out) {
    out.kind = StoreLocation::Kind::rados;
    const auto slash = rest.find('/');
    out.pool = std::string(rest.substr(0, slash));
    if (!valid_component(out.pool))
        return invalid("rados pool '" + out.pool + "' is empty or has a character not allowed");
    if (slash != std::string_view::npos) {
        const std::string_view ns = rest.substr(slash + 1);
        if (!valid_component(ns))
            return invalid("rados namespace '" + std::string(ns) +
                           "' is empty or has a character not allowed (one level: "
                           "rados://POOL/NAMESPACE)");
        out.rados_namespace = std::string(ns);
    }
    return {};
}

}  // namespace

std::string StoreLocation::describe() const {
    switch (kind) {
        case Kind::directory:
            return directory;
        case Kind::s3: {
            std::string text = std::string(s3_scheme) + bucket;
            if (!key_prefix.empty()) text += "/" + key_prefix.substr(0, key_prefix.size() - 1);
            return text;
        }
        case Kind::rados:
            return std::string(rados_scheme) + pool +
                   (rados_namespace.empty() ? "" : "/" + rados_namespace);
    }
    return {};
}

bool is_store_option(std::string_view key) {
    return in(s3_keys, key) || in(rados_keys, key) || in(meta_keys, key);
}

Result<StoreLocation> parse_store_location(std::string_view store,
                                           const std::map<std::string, std::string>& options) {
    StoreLocation out;
    if (store.starts_with(s3_scheme)) {
        if (auto st = parse_s3(store.substr(s3_scheme.size()), out); !st)
            return std::unexpected(st.error());
    } else if (store.starts_with(rados_scheme)) {
        if (auto st = parse_rados(store.substr(rados_scheme.size()), out); !st)
            return std::unexpected(st.error());
    } else if (store.find("://") != std::string_view::npos) {
        return fail(Errc::invalid_argument, "store '" + std::string(store) +
                                                "': unknown scheme (use a directory, s3://BUCKET "
                                                "or rados://POOL)");
    } else if (store.empty()) {
        return fail(Errc::invalid_argument, "empty store directory");
    } else {
        out.directory = std::string(store);
    }

    for (const auto& [key, value] : options) {
        if (!is_store_option(key)) continue;  // the caller's own options
        const bool fits = in(meta_keys, key) ? out.cluster()
                          : in(s3_keys, key) ? out.kind == StoreLocation::Kind::s3
                                             : out.kind == StoreLocation::Kind::rados;
        if (!fits) {
            const char* kind = out.kind == StoreLocation::Kind::s3      ? "an s3:// store"
                               : out.kind == StoreLocation::Kind::rados ? "a rados:// store"
                                                                        : "a directory store";
            return fail(Errc::invalid_argument,
                        "option '" + key + "' does not apply to " + kind);
        }
        if (value.empty())
            return fail(Errc::invalid_argument, "option '" + key + "' needs a value");
        Status st;
        if (key == "endpoint") {
            st = parse_endpoint(value, out);
        } else if (key == "region") {
            out.region = value;
        } else if (key == "addressing") {
            if (value != "path" && value != "virtual")
                st = invalid("addressing '" + value + "' is not path or virtual");
            out.virtual_host = value == "virtual";
        } else if (key == "ceph-conf") {
            out.ceph_conf = value;
        } else if (key == "ceph-user") {
            if (!valid_component(value) || value.starts_with("client."))
                st = invalid("ceph-user '" + value + "' is not a cephx user id (without client.)");
            out.ceph_user = value;
        } else if (key == "meta") {
            st = parse_meta(value, out);
        } else if (key == "lease-ttl") {
            st = parse_lease_ttl(value, out);
        } else if (key == "meta-prefix") {
            auto prefix = parse_path_parts(value.ends_with('/') ? value.substr(0, value.size() - 1)
                                                                : value,
                                           "meta-prefix");
            if (!prefix) return std::unexpected(prefix.error());
            out.meta_prefix = std::move(*prefix);
        }
        if (!st) return std::unexpected(st.error());
    }

    if (out.cluster()) {
        if (out.meta_endpoints.empty())
            return fail(Errc::invalid_argument,
                        out.describe() + " needs meta=etcd://HOST:PORT (where its superblocks "
                                         "and leases live)");
        if (out.kind == StoreLocation::Kind::s3 && out.endpoint.empty())
            return fail(Errc::invalid_argument,
                        out.describe() + " needs endpoint=http(s)://HOST:PORT (the S3 service)");
        if (out.meta_prefix.empty()) {
            const std::string where = out.describe();
            out.meta_prefix = "itd/" + where.substr(0, where.find(':')) + "/" +
                              where.substr(where.find("://") + 3) + "/";
        }
    }
    return out;
}

Result<std::pair<std::string, std::string>> split_store_volume(std::string_view text) {
    const auto slash = text.rfind('/');
    const bool bare_scheme = slash != std::string_view::npos && slash >= 2 &&
                             text.substr(slash - 2, 3) == "://";
    if (slash == std::string_view::npos || slash + 1 == text.size() || bare_scheme)
        return fail(Errc::invalid_argument,
                    "'" + std::string(text) +
                        "' is not STORE/VOLUME (e.g. /var/lib/itd/store/vol0, "
                        "s3://BUCKET/vol0, rados://POOL/vol0)");
    std::string store = slash == 0 ? "/" : std::string(text.substr(0, slash));
    return std::pair{std::move(store), std::string(text.substr(slash + 1))};
}

}  // namespace itd::volume::thin
