#include "volume/store/s3_object_store.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "volume/store/s3_xml.h"

namespace itd::volume {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t max_key_bytes = 1024;     // S3's limit on a key
constexpr std::size_t max_message_bytes = 300;  // of S3's own error text, in our messages
constexpr int max_list_pages = 10'000'000;      // a bound on one listing, never reached

bool is_key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '/' || c == '-';
}

Status check_chars(std::string_view s, std::string_view what) {
    for (char c : s) {
        if (!is_key_char(c)) {
            return fail(Errc::failed_precondition, std::string(what) + " '" + std::string(s) +
                                                       "' has a character outside [A-Za-z0-9._/-]");
        }
    }
    return {};
}

Status check_key(std::string_view key) {
    const auto bad = [key](std::string_view why) {
        return fail(Errc::failed_precondition,
                    "object key '" + std::string(key) + "': " + std::string(why));
    };
    if (key.empty()) return bad("empty");
    if (key.size() > max_key_bytes) return bad("longer than 1024 bytes");
    if (Status st = check_chars(key, "object key"); !st) return st;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t slash = key.find('/', pos);
        const std::string_view part = key.substr(pos, slash - pos);
        if (part.empty()) return bad("empty path component");
        if (part == "." || part == "..") return bad("'.' or '..' component");
        if (slash == std::string_view::npos) break;
        pos = slash + 1;
    }
    return {};
}

// S3 bucket naming rules (the DNS-compatible ones that virtual-host addressing needs), with
// path-style also taking what RGW and MinIO accept: upper case and '_'.
Status check_bucket(std::string_view bucket, bool virtual_host) {
    const auto bad = [bucket](std::string_view why) {
        return fail(Errc::invalid_argument,
                    "S3 bucket name '" + std::string(bucket) + "': " + std::string(why));
    };
    if (bucket.size() < 3 || bucket.size() > 63) return bad("must be 3 to 63 characters");
    for (char c : bucket) {
        const bool dns = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        const bool relaxed = (c >= 'A' && c <= 'Z') || c == '_';
        if (!dns && !(relaxed && !virtual_host)) {
            return bad(virtual_host ? "virtual-host addressing needs [a-z0-9.-]"
                                    : "must be [A-Za-z0-9._-]");
        }
    }
    if (bucket.front() == '.' || bucket.front() == '-' || bucket.back() == '.' ||
        bucket.back() == '-') {
        return bad("must start and end with a letter or digit");
    }
    return {};
}

std::string truncate(std::string s) {
    if (s.size() > max_message_bytes) {
        s.resize(max_message_bytes);
        s += "…";
    }
    return s;
}

std::string_view body_text(const http::Response& res) {
    return {reinterpret_cast<const char*>(res.body.data()), res.body.size()};
}

// "HTTP 403 AccessDenied: Access Denied"
std::string describe_status(const http::Response& res) {
    const s3xml::ErrorDocument doc = s3xml::parse_error(body_text(res));
    std::string out = "HTTP " + std::to_string(res.status);
    if (!doc.code.empty()) out += " " + doc.code;
    if (!doc.message.empty()) out += ": " + truncate(doc.message);
    return out;
}

// Whether a retry may cure this answer: the service is overloaded, failing or timed out.
bool retryable(const http::Response& res) {
    if (res.status >= 500 || res.status == 429) return true;
    // A request that the server gave up reading (a stall on our side): send it again.
    return res.status == 400 && s3xml::parse_error(body_text(res)).code == "RequestTimeout";
}

// One answer that is not a success, as an error that says how to retry.
Error map_status(const http::Response& res, const std::string& what) {
    const std::string message = what + ": " + describe_status(res);
    if (res.status == 404) return Error{Errc::not_found, message};
    if (res.status == 409 || res.status == 412) return Error{Errc::conflict, message};
    if (res.status >= 500 || res.status == 429) return Error{Errc::unavailable, message};
    if (res.status >= 300 && res.status < 500) return Error{Errc::failed_precondition, message};
    return Error{Errc::io_error, message};
}

}  // namespace

struct S3ObjectStore::Impl {
    struct Call {
        bhttp::verb method = bhttp::verb::get;
        std::string path;                   // URI-encoded
        std::string query;                  // encoded, without '?'
        std::vector<http::Header> headers;  // extra headers to sign (Range)
        std::span<const std::uint8_t> body;
    };

    // Signs and sends the call, retrying what a retry may cure (s3_object_store.h). Returns the
    // final answer whatever its status, or unavailable once the retry policy is spent.
    Result<http::Response> execute(const Call& call, const std::string& what);
    std::chrono::milliseconds backoff(int retry);
    Status check_bucket_exists();

    std::string object_path(std::string_view key) const {
        return bucket_path_prefix + sigv4::uri_encode(opts.key_prefix, false) +
               sigv4::uri_encode(key, false);
    }
    std::string what(std::string_view op, std::string_view key) const {
        return "S3 " + std::string(op) + " '" + opts.key_prefix + std::string(key) +
               "' in bucket " + opts.bucket;
    }

    S3Options opts;
    std::string host;                // the Host header, signed
    std::string bucket_path;         // "/BUCKET" or "/"
    std::string bucket_path_prefix;  // what precedes a key: "/BUCKET/" or "/"
    std::string where;               // for messages
    std::unique_ptr<http::Client> client;

    std::mutex rng_mutex;
    std::mt19937_64 rng;
    std::atomic<std::uint64_t> retries{0};
};

std::chrono::milliseconds S3ObjectStore::Impl::backoff(int retry) {
    // Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform wait up
    // to the exponential cap spreads the retries of many clients that failed together.
    const auto cap_ms = std::min<std::int64_t>(
        opts.retry.max_backoff.count(), opts.retry.initial_backoff.count() << std::min(retry, 30));
    std::uniform_int_distribution<std::int64_t> dist(0, std::max<std::int64_t>(cap_ms, 0));
    const std::lock_guard lock(rng_mutex);
    return std::chrono::milliseconds(dist(rng));
}

Result<http::Response> S3ObjectStore::Impl::execute(const Call& call, const std::string& what) {
    const Clock::time_point start = Clock::now();
    const std::string payload_hash =
        call.body.empty() ? std::string(sigv4::empty_payload_sha256) : sigv4::sha256_hex(call.body);
    const std::string method(bhttp::to_string(call.method));
    std::string last_failure;
    int attempt = 1;
    for (;; ++attempt) {
        // Signed anew on every try: x-amz-date must stay within 15 minutes of the server.
        const std::string date =
            sigv4::amz_date(opts.now ? opts.now() : std::chrono::system_clock::now());
        std::vector<http::Header> headers = {
            {"Host", host}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", date}};
        if (!opts.credentials.session_token.empty()) {
            headers.push_back({"x-amz-security-token", opts.credentials.session_token});
        }
        headers.insert(headers.end(), call.headers.begin(), call.headers.end());
        const sigv4::Scope scope{date.substr(0, 8), opts.region, "s3"};
        std::string authorization = sigv4::sign(opts.credentials, scope, date, method, call.path,
                                                call.query, headers, payload_hash);
        headers.push_back({"Authorization", std::move(authorization)});

        http::Request req;
        req.method = call.method;
        req.target = call.query.empty() ? call.path : call.path + "?" + call.query;
        req.headers = std::move(headers);
        req.body = call.body;
        auto res = client->send(req);
        if (res) {
            if (!retryable(*res)) return res;
            last_failure = describe_status(*res);
        } else if (res.error().code == Errc::unavailable) {
            last_failure = res.error().message;
        } else {
            return std::unexpected(Error{res.error().code, what + ": " + res.error().message});
        }

        if (attempt >= opts.retry.max_attempts) break;
        const std::chrono::milliseconds wait = backoff(attempt - 1);
        if (Clock::now() - start + wait > opts.retry.max_total_time) break;
        retries.fetch_add(1, std::memory_order_relaxed);
        if (opts.retry.sleep) {
            opts.retry.sleep(wait);
        } else {
            std::this_thread::sleep_for(wait);
        }
    }
    const auto spent =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    return fail(Errc::unavailable, what + ": no success after " + std::to_string(attempt) +
                                       " attempt(s) in " + std::to_string(spent) +
                                       " ms; last: " + last_failure);
}

Status S3ObjectStore::Impl::check_bucket_exists() {
    const std::string what_bucket = "S3 bucket " + opts.bucket + " at " + where;
    // A one-key listing rather than HEAD: it needs the same permission (s3:ListBucket), and a
    // refusal comes with S3's error code (SignatureDoesNotMatch, InvalidAccessKeyId, …),
    // which a HEAD answer has no body for.
    auto probe =
        execute(Call{bhttp::verb::get,
                     bucket_path,
                     "list-type=2&max-keys=1&prefix=" + sigv4::uri_encode(opts.key_prefix, true),
                     {},
                     {}},
                what_bucket);
    if (!probe) return std::unexpected(probe.error());
    if (probe->status == 200) return {};
    if (probe->status == 301) {
        return fail(
            Errc::failed_precondition,
            what_bucket + ": HTTP 301 (the bucket is in another region than " + opts.region + ")");
    }
    if (probe->status != 404 || s3xml::parse_error(body_text(*probe)).code != "NoSuchBucket") {
        return std::unexpected(map_status(*probe, what_bucket));
    }
    if (!opts.create_bucket) {
        return fail(Errc::not_found,
                    what_bucket + " does not exist (create it, or ask for create_bucket)");
    }

    // us-east-1 is S3's default location and takes no configuration document.
    std::string config;
    if (opts.region != "us-east-1") {
        config =
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<LocationConstraint>" +
            opts.region + "</LocationConstraint></CreateBucketConfiguration>";
    }
    const std::span<const std::uint8_t> body(reinterpret_cast<const std::uint8_t*>(config.data()),
                                             config.size());
    auto created = execute(Call{bhttp::verb::put, bucket_path, "", {}, body},
                           "S3 create bucket " + opts.bucket + " at " + where);
    if (!created) return std::unexpected(created.error());
    if (created->status == 200) return {};
    // Another node created it first: ours all the same.
    if (created->status == 409 &&
        s3xml::parse_error(body_text(*created)).code == "BucketAlreadyOwnedByYou") {
        return {};
    }
    Error e = map_status(*created, "S3 create bucket " + opts.bucket + " at " + where);
    if (e.code == Errc::conflict) e.code = Errc::failed_precondition;  // someone else's bucket
    return std::unexpected(std::move(e));
}

std::optional<sigv4::Credentials> s3_credentials_from_environment() {
    const auto get = [](const char* name) {
        const char* v = std::getenv(name);
        return std::string(v ? v : "");
    };
    sigv4::Credentials c{get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"),
                         get("AWS_SESSION_TOKEN")};
    if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
    return c;
}

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::open(S3Options options) {
    auto endpoint = http::parse_endpoint(options.endpoint);
    if (!endpoint) return std::unexpected(endpoint.error());
    if (Status st = check_bucket(options.bucket, options.virtual_host); !st) {
        return std::unexpected(st.error());
    }
    if (options.region.empty() ||
        options.region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") !=
            std::string::npos) {
        return fail(Errc::invalid_argument,
                    "S3 region '" + options.region + "': must be [a-z0-9-]");
    }
    if (!options.key_prefix.empty()) {
        if (Status st = check_chars(options.key_prefix, "S3 key prefix"); !st) {
            return fail(Errc::invalid_argument, st.error().message);
        }
        if (options.key_prefix.front() == '/') {
            return fail(Errc::invalid_argument, "S3 key prefix must not start with '/'");
        }
    }
    if (options.credentials.access_key_id.empty() ||
        options.credentials.secret_access_key.empty()) {
        return fail(Errc::invalid_argument,
                    "S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                    "(or the config file's S3 credentials)");
    }
    if (options.retry.max_attempts < 1) options.retry.max_attempts = 1;

    auto impl = std::make_unique<Impl>();
    impl->where = options.endpoint;
    if (options.virtual_host) {
        boost::system::error_code ec;
        (void)boost::asio::ip::make_address(endpoint->host, ec);
        if (!ec) {
            return fail(
                Errc::invalid_argument,
                "S3 virtual-host addressing needs a host name, not the address " + endpoint->host);
        }
        endpoint->host = options.bucket + "." + endpoint->host;
        impl->bucket_path = "/";
        impl->bucket_path_prefix = "/";
    } else {
        impl->bucket_path = "/" + options.bucket;
        impl->bucket_path_prefix = "/" + options.bucket + "/";
    }
    impl->host = http::host_header(*endpoint);
    std::uint64_t seed = options.retry.jitter_seed;
    if (seed == 0) seed = (std::uint64_t(std::random_device{}()) << 32) | std::random_device{}();
    impl->rng.seed(seed);
    impl->client = std::make_unique<http::Client>(*endpoint, options.http);
    impl->opts = std::move(options);

    if (Status st = impl->check_bucket_exists(); !st) return std::unexpected(st.error());
    return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(std::move(impl)));
}

S3ObjectStore::S3ObjectStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3ObjectStore::~S3ObjectStore() = default;

Status S3ObjectStore::put(std::string_view key, std::span<const std::uint8_t> data) {
    return put_object(key, data, false);
}

Status S3ObjectStore::put_new(std::string_view key, std::span<const std::uint8_t> data) {
    return put_object(key, data, true);
}

Status S3ObjectStore::put_object(std::string_view key, std::span<const std::uint8_t> data,
                                 bool if_absent) {
    if (Status st = check_key(key); !st) return st;
    const std::string what = impl_->what("put", key);
    Impl::Call call{bhttp::verb::put, impl_->object_path(key), "", {}, data};
    if (if_absent) call.headers.push_back({"If-None-Match", "*"});
    auto res = impl_->execute(call, what);
    if (!res) return std::unexpected(res.error());
    if (res->status == 200) return {};
    // 412 to a conditional PUT: the key exists. Ours, if an earlier try of this call stored it
    // and its answer was lost (the retry loop sent it again).
    if (if_absent && res->status == 412) return existing_matches(key, data);
    return std::unexpected(map_status(*res, what));
}

Status S3ObjectStore::get(std::string_view key, std::uint64_t offset_bytes,
                          std::span<std::uint8_t> out) {
    if (Status st = check_key(key); !st) return st;
    const std::string what = impl_->what("get", key);
    const auto too_short = [&](std::string_view detail) {
        return fail(Errc::io_error, what + ": the object is shorter than " +
                                        std::to_string(offset_bytes + out.size()) + " bytes (" +
                                        std::string(detail) + ")");
    };
    if (out.empty()) {
        // No byte range names zero bytes: ask for the object's size instead.
        auto res = impl_->execute(
            Impl::Call{bhttp::verb::head, impl_->object_path(key), "", {}, {}}, what);
        if (!res) return std::unexpected(res.error());
        if (res->status != 200) return std::unexpected(map_status(*res, what));
        const auto length = res->header("content-length");
        if (!length) return fail(Errc::io_error, what + ": no Content-Length in the answer");
        std::uint64_t size = 0;
        if (length->empty() || length->size() > 19)
            return fail(Errc::io_error, what + ": bad Content-Length");
        for (char c : *length) {
            if (c < '0' || c > '9') return fail(Errc::io_error, what + ": bad Content-Length");
            size = size * 10 + std::uint64_t(c - '0');
        }
        if (size < offset_bytes) return too_short("size " + std::to_string(size));
        return {};
    }

    const std::uint64_t last = offset_bytes + out.size() - 1;
    Impl::Call call{bhttp::verb::get, impl_->object_path(key), "", {}, {}};
    call.headers.push_back(
        {"Range", "bytes=" + std::to_string(offset_bytes) + "-" + std::to_string(last)});
    auto res = impl_->execute(call, what);
    if (!res) return std::unexpected(res.error());
    // RFC 9110 15.5.17: 416 when the range starts beyond the end.
    if (res->status == 416) return too_short("HTTP 416");
    std::span<const std::uint8_t> data;
    if (res->status == 206) {
        data = res->body;
    } else if (res->status == 200) {
        // A server that ignores Range sends the whole object.
        if (res->body.size() > offset_bytes) {
            data = std::span<const std::uint8_t>(res->body).subspan(offset_bytes);
        }
    } else {
        return std::unexpected(map_status(*res, what));
    }
    if (data.size() < out.size()) return too_short("got " + std::to_string(data.size()));
    if (res->status == 206 && data.size() != out.size()) {
        return fail(Errc::io_error, what + ": asked for " + std::to_string(out.size()) +
                                        " bytes, got " + std::to_string(data.size()));
    }
    std::memcpy(out.data(), data.data(), out.size());
    return {};
}

Result<std::vector<std::uint8_t>> S3ObjectStore::get_all(std::string_view key) {
    if (Status st = check_key(key); !st) return std::unexpected(st.error());
    const std::string what = impl_->what("get", key);
    auto res =
        impl_->execute(Impl::Call{bhttp::verb::get, impl_->object_path(key), "", {}, {}}, what);
    if (!res) return std::unexpected(res.error());
    if (res->status != 200) return std::unexpected(map_status(*res, what));
    return std::move(res->body);
}

Status S3ObjectStore::remove(std::string_view key) {
    if (Status st = check_key(key); !st) return st;
    const std::string what = impl_->what("remove", key);
    auto res =
        impl_->execute(Impl::Call{bhttp::verb::delete_, impl_->object_path(key), "", {}, {}}, what);
    if (!res) return std::unexpected(res.error());
    // S3 answers 204 whether the key existed or not; some services say 404 for a missing one.
    if (res->status == 204 || res->status == 200 || res->status == 404) return {};
    return std::unexpected(map_status(*res, what));
}

Result<std::vector<ObjectInfo>> S3ObjectStore::list(std::string_view prefix) {
    if (Status st = check_chars(prefix, "list prefix"); !st) return std::unexpected(st.error());
    const std::string& key_prefix = impl_->opts.key_prefix;
    const std::string full_prefix = key_prefix + std::string(prefix);
    const std::string what = "S3 list '" + full_prefix + "' in bucket " + impl_->opts.bucket;
    std::vector<ObjectInfo> all;
    std::string token;
    for (int page = 0;; ++page) {
        if (page >= max_list_pages) return fail(Errc::io_error, what + ": too many pages");
        // Parameters in canonical (sorted) order; the signer sorts them anyway.
        std::string query;
        if (!token.empty()) query = "continuation-token=" + sigv4::uri_encode(token, true) + "&";
        query += "list-type=2&prefix=" + sigv4::uri_encode(full_prefix, true);
        auto res = impl_->execute(
            Impl::Call{bhttp::verb::get, impl_->bucket_path, std::move(query), {}, {}}, what);
        if (!res) return std::unexpected(res.error());
        if (res->status != 200) return std::unexpected(map_status(*res, what));
        auto parsed = s3xml::parse_list_page(body_text(*res));
        if (!parsed) return fail(Errc::io_error, what + ": " + parsed.error().message);
        for (ObjectInfo& info : parsed->objects) {
            if (!info.key.starts_with(full_prefix)) {
                return fail(Errc::io_error,
                            what + ": S3 listed '" + info.key + "', outside the prefix");
            }
            info.key.erase(0, key_prefix.size());
            all.push_back(std::move(info));
        }
        if (!parsed->truncated) break;
        if (parsed->next_continuation_token == token) {
            return fail(Errc::io_error, what + ": S3 repeated a continuation token");
        }
        token = std::move(parsed->next_continuation_token);
    }
    // S3 lists in UTF-8 binary order, which for our keys is ascending order already; a
    // service that differs must not break the interface's promise.
    std::sort(all.begin(), all.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return all;
}

Status S3ObjectStore::sync() {
    // S3 answers a PUT with 200 only once the object is stored durably.
    return {};
}

std::string S3ObjectStore::describe() const {
    return "s3://" + impl_->opts.bucket + "/" + impl_->opts.key_prefix + " at " + impl_->where;
}

std::uint64_t S3ObjectStore::retries() const {
    return impl_->retries.load(std::memory_order_relaxed);
}

}  // namespace itd::volume
