// S3ObjectStore against a fake S3 service on the in-test HTTP server: it checks every request's
// SigV4 signature and payload hash, keeps objects in memory, lists two keys per page, and
// answers with injected faults when told to.
#include "volume/store/s3_object_store.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "http/test_server.h"
#include "volume/store/s3_signer.h"

namespace itd::volume {
namespace {

using namespace std::chrono_literals;
using http::testing::ServerReply;
using http::testing::ServerRequest;
using http::testing::TestServer;

constexpr std::string_view access_key = "AKIDTEST";
constexpr std::string_view secret_key = "sEcReT/never+in+messages";

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out.push_back(char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '&') {
            out += "&amp;";
        } else if (c == '<') {
            out += "&lt;";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

ServerReply s3_error(unsigned status, std::string_view code, std::string_view message) {
    return ServerReply::text(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" +
                                         std::string(code) + "</Code><Message>" +
                                         std::string(message) + "</Message></Error>");
}

class FakeS3 {
  public:
    ServerReply handle(const ServerRequest& req) {
        std::unique_lock lock(mutex_);
        ++requests_;
        log_.push_back(req.method + " " + req.target);
        last_headers_ = req.headers;
        if (!faults_.empty()) {
            ServerReply r = std::move(faults_.front());
            faults_.pop_front();
            return r;
        }
        if (ServerReply denied; !authorised(req, denied)) return denied;

        const std::size_t q = req.target.find('?');
        const std::string path = percent_decode(req.target.substr(0, q));
        const std::string query = q == std::string::npos ? "" : req.target.substr(q + 1);
        std::string bucket, key;
        const std::string host = req.header("host");
        if (!vhost_suffix_.empty() && host.ends_with(vhost_suffix_)) {
            bucket = host.substr(0, host.size() - vhost_suffix_.size());
            key = path.substr(1);
        } else {
            const std::size_t slash = path.find('/', 1);
            bucket = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
            key = slash == std::string::npos ? "" : path.substr(slash + 1);
        }

        if (key.empty()) {
            if (req.method == "HEAD")
                return ServerReply::text(buckets_.count(bucket) ? 200 : 404, "");
            if (req.method == "PUT") {
                if (!buckets_.insert(bucket).second) {
                    return s3_error(409, "BucketAlreadyOwnedByYou", "yours already");
                }
                return ServerReply::text(200, "");
            }
            if (req.method == "GET") return list(bucket, query);
            return s3_error(405, "MethodNotAllowed", "no");
        }
        if (!buckets_.count(bucket)) return s3_error(404, "NoSuchBucket", "no bucket");
        const std::string full = bucket + "/" + key;
        if (req.method == "PUT") {
            if (req.header("if-none-match") == "*" && objects_.count(full)) {
                return s3_error(412, "PreconditionFailed",
                                "At least one of the pre-conditions you specified did not hold");
            }
            objects_[full] = req.body;
            return ServerReply::text(200, "");
        }
        if (req.method == "DELETE") {
            objects_.erase(full);
            return ServerReply::text(204, "");
        }
        const auto it = objects_.find(full);
        if (it == objects_.end())
            return s3_error(404, "NoSuchKey", "The specified key does not exist.");
        const std::vector<std::uint8_t>& data = it->second;
        if (req.method == "HEAD") {
            ServerReply r;
            r.content_length = std::int64_t(data.size());
            return r;
        }
        const std::string range = req.header("range");
        if (range.empty() || ignore_range_) {
            ServerReply r;
            r.body = data;
            return r;
        }
        // "bytes=FIRST-LAST"
        const std::size_t dash = range.find('-');
        const std::uint64_t first = std::stoull(range.substr(6, dash - 6));
        const std::uint64_t last = std::stoull(range.substr(dash + 1));
        if (first >= data.size()) return s3_error(416, "InvalidRange", "out of range");
        ServerReply r;
        r.status = 206;
        r.body.assign(
            data.begin() + std::ptrdiff_t(first),
            data.begin() + std::ptrdiff_t(std::min<std::uint64_t>(last + 1, data.size())));
        return r;
    }

    void inject(ServerReply r, int times = 1) {
        const std::lock_guard lock(mutex_);
        for (int i = 0; i < times; ++i) faults_.push_back(r);
    }
    int requests() {
        const std::lock_guard lock(mutex_);
        return requests_;
    }
    std::vector<std::string> log() {
        const std::lock_guard lock(mutex_);
        return log_;
    }
    std::string last_header(std::string_view name) {
        const std::lock_guard lock(mutex_);
        ServerRequest r;
        r.headers = last_headers_;
        return r.header(name);
    }
    void add_bucket(const std::string& b) {
        const std::lock_guard lock(mutex_);
        buckets_.insert(b);
    }
    bool has_bucket(const std::string& b) {
        const std::lock_guard lock(mutex_);
        return buckets_.count(b) > 0;
    }
    std::size_t object_count() {
        const std::lock_guard lock(mutex_);
        return objects_.size();
    }
    void set_vhost_suffix(std::string s) { vhost_suffix_ = std::move(s); }
    void set_ignore_range(bool on) { ignore_range_ = on; }

  private:
    // Recomputes the signature from what arrived: the headers the client named, the target as
    // sent, the payload hash it declared and the body's real hash.
    bool authorised(const ServerRequest& req, ServerReply& denied) {
        const std::string auth = req.header("authorization");
        const std::string cred_tag = "AWS4-HMAC-SHA256 Credential=";
        const std::size_t sh = auth.find(", SignedHeaders="), sg = auth.find(", Signature=");
        if (!auth.starts_with(cred_tag) || sh == std::string::npos || sg == std::string::npos) {
            denied = s3_error(400, "AuthorizationHeaderMalformed", auth);
            return false;
        }
        const std::string credential = auth.substr(cred_tag.size(), sh - cred_tag.size());
        const std::string signed_names = auth.substr(sh + 16, sg - sh - 16);
        const std::string sig = auth.substr(sg + 12);
        // ID/DATE/REGION/s3/aws4_request
        std::vector<std::string> parts;
        for (std::size_t pos = 0;;) {
            const std::size_t slash = credential.find('/', pos);
            parts.push_back(credential.substr(pos, slash - pos));
            if (slash == std::string::npos) break;
            pos = slash + 1;
        }
        const std::string date = req.header("x-amz-date");
        if (parts.size() != 5 || parts[0] != access_key || parts[1] != date.substr(0, 8) ||
            parts[3] != "s3" || parts[4] != "aws4_request") {
            denied = s3_error(403, "InvalidAccessKeyId", "bad credential " + credential);
            return false;
        }
        const std::string payload = req.header("x-amz-content-sha256");
        if (payload != sigv4::sha256_hex(req.body)) {
            denied = s3_error(400, "XAmzContentSHA256Mismatch", "payload hash");
            return false;
        }
        std::vector<http::Header> headers;
        for (std::size_t pos = 0;;) {
            const std::size_t semi = signed_names.find(';', pos);
            const std::string name = signed_names.substr(pos, semi - pos);
            headers.push_back({name, req.header(name)});
            if (semi == std::string::npos) break;
            pos = semi + 1;
        }
        if (signed_names.find("host") == std::string::npos ||
            signed_names.find("x-amz-date") == std::string::npos ||
            signed_names.find("x-amz-content-sha256") == std::string::npos) {
            denied = s3_error(403, "AccessDenied", "required headers not signed");
            return false;
        }
        const std::size_t q = req.target.find('?');
        const sigv4::Scope scope{parts[1], parts[2], "s3"};
        const std::string expected =
            sigv4::sign(sigv4::Credentials{std::string(access_key), std::string(secret_key), ""},
                        scope, date, req.method, req.target.substr(0, q),
                        q == std::string::npos ? "" : req.target.substr(q + 1), headers, payload);
        if (!expected.ends_with("Signature=" + sig)) {
            denied = s3_error(403, "SignatureDoesNotMatch",
                              "The request signature we calculated does not match");
            return false;
        }
        return true;
    }

    ServerReply list(const std::string& bucket, const std::string& query) {
        if (!buckets_.count(bucket)) return s3_error(404, "NoSuchBucket", "no bucket");
        std::map<std::string, std::string> params;
        for (std::size_t pos = 0; pos < query.size();) {
            const std::size_t amp = query.find('&', pos);
            const std::string p = query.substr(pos, amp - pos);
            const std::size_t eq = p.find('=');
            params[p.substr(0, eq)] =
                eq == std::string::npos ? "" : percent_decode(p.substr(eq + 1));
            if (amp == std::string::npos) break;
            pos = amp + 1;
        }
        if (params["list-type"] != "2") return s3_error(400, "InvalidArgument", "v2 only");
        const std::string prefix = bucket + "/" + params["prefix"];
        std::string after;
        if (params.count("continuation-token")) {
            const std::string& t = params["continuation-token"];
            if (!t.starts_with("t/") || !t.ends_with("=="))
                return s3_error(400, "InvalidArgument", "token");
            after = bucket + "/" + t.substr(2, t.size() - 4);
        }
        std::string xml =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>" +
            bucket + "</Name>";
        int n = 0;
        std::string last;
        bool truncated = false;
        for (auto it = after.empty() ? objects_.lower_bound(prefix) : objects_.upper_bound(after);
             it != objects_.end() && it->first.starts_with(prefix); ++it) {
            if (n == 2) {
                truncated = true;
                break;
            }
            const std::string key = it->first.substr(bucket.size() + 1);
            xml += "<Contents><Key>" + xml_escape(key) +
                   "</Key><LastModified>2026-11-02T10:20:30.500Z</LastModified><Size>" +
                   std::to_string(it->second.size()) + "</Size></Contents>";
            last = key;
            ++n;
        }
        xml += std::string("<IsTruncated>") + (truncated ? "true" : "false") + "</IsTruncated>";
        if (truncated) xml += "<NextContinuationToken>t/" + last + "==</NextContinuationToken>";
        xml += "</ListBucketResult>";
        return ServerReply::text(200, xml);
    }

    std::mutex mutex_;
    std::set<std::string> buckets_;
    std::map<std::string, std::vector<std::uint8_t>> objects_;  // "bucket/key"
    std::deque<ServerReply> faults_;
    std::vector<std::string> log_;
    std::vector<http::Header> last_headers_;
    std::string vhost_suffix_;
    bool ignore_range_ = false;
    int requests_ = 0;
};

class S3ObjectStoreTest : public ::testing::Test {
  protected:
    S3ObjectStoreTest() : server_([this](const ServerRequest& r) { return fake_.handle(r); }) {
        fake_.add_bucket("itd-test");
    }

    S3Options options() {
        S3Options o;
        o.endpoint = "http://127.0.0.1:" + std::to_string(server_.port());
        o.bucket = "itd-test";
        o.credentials = {std::string(access_key), std::string(secret_key), ""};
        o.retry.jitter_seed = 42;
        o.retry.sleep = [this](std::chrono::milliseconds d) {
            const std::lock_guard lock(sleeps_mutex_);
            sleeps_.push_back(d);
        };
        o.http.request_timeout = 2000ms;
        return o;
    }

    std::unique_ptr<S3ObjectStore> open(S3Options o) {
        auto store = S3ObjectStore::open(std::move(o));
        EXPECT_TRUE(store) << store.error().message;
        return store ? std::move(*store) : nullptr;
    }

    FakeS3 fake_;
    TestServer server_;
    std::mutex sleeps_mutex_;
    std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(S3ObjectStoreTest, PutGetRangeListRemove) {
    auto store = open(options());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->describe(),
              "s3://itd-test/ at http://127.0.0.1:" + std::to_string(server_.port()));
    ASSERT_TRUE(store->put("vol/objects/1", bytes("hello world")));
    ASSERT_TRUE(store->put("vol/objects/2", bytes("x")));
    ASSERT_TRUE(store->put("vol/super", bytes("zz")));
    ASSERT_TRUE(store->put("other", bytes("o")));
    ASSERT_TRUE(store->sync());

    std::vector<std::uint8_t> part(5);
    ASSERT_TRUE(store->get("vol/objects/1", 6, part));
    EXPECT_EQ(part, bytes("world"));
    EXPECT_EQ(fake_.last_header("range"), "bytes=6-10");
    ASSERT_TRUE(store->get("vol/objects/1", 0, part));
    EXPECT_EQ(part, bytes("hello"));
    EXPECT_EQ(store->get_all("vol/objects/1").value(), bytes("hello world"));

    auto l = store->list("vol/");
    ASSERT_TRUE(l) << l.error().message;
    ASSERT_EQ(l->size(), 3u);
    EXPECT_EQ((*l)[0].key, "vol/objects/1");
    EXPECT_EQ((*l)[0].size_bytes, 11u);
    EXPECT_EQ((*l)[1].key, "vol/objects/2");
    EXPECT_EQ((*l)[2].key, "vol/super");
    EXPECT_EQ((*l)[2].modified, std::chrono::system_clock::from_time_t(1793614830) + 500ms);
    EXPECT_EQ(store->list("").value().size(), 4u);
    EXPECT_TRUE(store->list("nothing/").value().empty());

    ASSERT_TRUE(store->remove("vol/objects/1"));
    ASSERT_TRUE(store->remove("vol/objects/1"));  // gone already: fine
    auto missing = store->get_all("vol/objects/1");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
    EXPECT_NE(missing.error().message.find("NoSuchKey"), std::string::npos);
    EXPECT_EQ(store->list("vol/").value().size(), 2u);
}

TEST_F(S3ObjectStoreTest, PutNewIsAConditionalPut) {
    auto store = open(options());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put_new("vol/objects/1", bytes("page")));
    EXPECT_EQ(fake_.last_header("if-none-match"), "*");
    EXPECT_EQ(fake_.log().back(), "PUT /itd-test/vol/objects/1");

    // A retry whose first try stored the object (its answer lost): 412, then a GET finds our
    // bytes there, and the put succeeds.
    ASSERT_TRUE(store->put_new("vol/objects/1", bytes("page")));
    std::vector<std::string> log = fake_.log();
    ASSERT_GE(log.size(), 2u);
    EXPECT_EQ(log[log.size() - 2], "PUT /itd-test/vol/objects/1");
    EXPECT_EQ(log.back(), "GET /itd-test/vol/objects/1");

    // Other bytes there: conflict, and the object is untouched.
    auto refused = store->put_new("vol/objects/1", bytes("another page"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::conflict);
    EXPECT_NE(refused.error().message.find("not replaced"), std::string::npos)
        << refused.error().message;
    auto all = store->get_all("vol/objects/1");
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, bytes("page"));

    // A plain put sends no condition, and replaces.
    ASSERT_TRUE(store->put("vol/objects/1", bytes("replaced")));
    EXPECT_EQ(fake_.last_header("if-none-match"), "");
}

TEST_F(S3ObjectStoreTest, ListsAcrossManyPages) {
    auto store = open(options());
    ASSERT_TRUE(store);
    std::vector<std::string> keys;
    for (int i = 0; i < 9; ++i) keys.push_back("p/k" + std::to_string(8 - i));
    for (const auto& k : keys) ASSERT_TRUE(store->put(k, bytes(k)));
    const int before = fake_.requests();
    auto l = store->list("p/");
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_EQ(fake_.requests() - before, 5);  // two keys per page
    ASSERT_EQ(l->size(), 9u);
    for (int i = 0; i < 9; ++i) EXPECT_EQ((*l)[i].key, "p/k" + std::to_string(i));
    // The continuation token went out encoded ("t/p/k1==" -> "t%2Fp%2Fk1%3D%3D").
    const auto log = fake_.log();
    EXPECT_NE(
        log[log.size() - 4].find("continuation-token=t%2Fp%2Fk1%3D%3D&list-type=2&prefix=p%2F"),
        std::string::npos)
        << log[log.size() - 4];
}

TEST_F(S3ObjectStoreTest, KeyPrefixIsAddedAndStripped) {
    S3Options o = options();
    o.key_prefix = "volumes/a/";
    auto store = open(o);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("objects/1", bytes("1")));
    EXPECT_EQ(fake_.log().back(), "PUT /itd-test/volumes/a/objects/1");
    auto l = store->list("obj");
    ASSERT_TRUE(l);
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ((*l)[0].key, "objects/1");
    EXPECT_EQ(store->get_all("objects/1").value(), bytes("1"));
}

TEST_F(S3ObjectStoreTest, ShortObjectsAndZeroLengthReads) {
    auto store = open(options());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("k", bytes("0123456789")));
    std::vector<std::uint8_t> four(4);
    auto beyond = store->get("k", 8, four);  // 206 with two bytes
    ASSERT_FALSE(beyond);
    EXPECT_EQ(beyond.error().code, Errc::io_error);
    beyond = store->get("k", 10, four);  // 416
    ASSERT_FALSE(beyond);
    EXPECT_EQ(beyond.error().code, Errc::io_error);
    std::span<std::uint8_t> none;
    EXPECT_TRUE(store->get("k", 10, none));
    auto past = store->get("k", 11, none);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code, Errc::io_error);
    auto missing = store->get("nope", 0, four);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
    missing = store->get("nope", 0, none);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);

    // A server that ignores Range sends the whole object; the store takes the slice.
    fake_.set_ignore_range(true);
    ASSERT_TRUE(store->get("k", 3, four));
    EXPECT_EQ(four, bytes("3456"));
    EXPECT_FALSE(store->get("k", 8, four));
}

TEST_F(S3ObjectStoreTest, RejectsBadKeys) {
    auto store = open(options());
    ASSERT_TRUE(store);
    for (const char* bad : {"", "/a", "a/", "a//b", "a/../b", "./a", "a b", "a?b", "a%b"}) {
        auto st = store->put(bad, bytes("x"));
        ASSERT_FALSE(st) << bad;
        EXPECT_EQ(st.error().code, Errc::failed_precondition) << bad;
    }
    EXPECT_FALSE(store->list("a b"));
    EXPECT_EQ(fake_.object_count(), 0u);
}

TEST_F(S3ObjectStoreTest, MissingBucket) {
    S3Options o = options();
    o.bucket = "not-there";
    auto store = S3ObjectStore::open(o);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, Errc::not_found);
    EXPECT_NE(store.error().message.find("not-there"), std::string::npos);
    EXPECT_NE(store.error().message.find("create_bucket"), std::string::npos);

    o.create_bucket = true;
    ASSERT_TRUE(open(o));
    EXPECT_TRUE(fake_.has_bucket("not-there"));
    ASSERT_TRUE(open(o));  // exists now: opened as is
}

TEST_F(S3ObjectStoreTest, BadOptions) {
    const auto expect_invalid = [&](S3Options o) {
        auto store = S3ObjectStore::open(std::move(o));
        ASSERT_FALSE(store);
        EXPECT_EQ(store.error().code, Errc::invalid_argument) << store.error().message;
        EXPECT_EQ(store.error().message.find(secret_key), std::string::npos);
    };
    S3Options o = options();
    o.endpoint = "s3.example.com";
    expect_invalid(o);
    o = options();
    o.bucket = "ab";
    expect_invalid(o);
    o = options();
    o.bucket = "Upper_Case";
    o.virtual_host = true;
    expect_invalid(o);
    o = options();
    o.virtual_host = true;  // an IP address has no subdomains
    expect_invalid(o);
    o = options();
    o.region = "US East";
    expect_invalid(o);
    o = options();
    o.credentials.secret_access_key.clear();
    expect_invalid(o);
    o = options();
    o.key_prefix = "/abs";
    expect_invalid(o);
    EXPECT_EQ(fake_.requests(), 0);
}

TEST_F(S3ObjectStoreTest, RetriesSlowDownAndServerErrorsWithJitteredBackoff) {
    auto store = open(options());
    ASSERT_TRUE(store);
    fake_.inject(s3_error(503, "SlowDown", "Please reduce your request rate."), 2);
    fake_.inject(s3_error(500, "InternalError", "oops"));
    fake_.inject(s3_error(400, "RequestTimeout", "socket not read in time"));
    fake_.inject(ServerReply::text(429, ""));
    ASSERT_TRUE(store->put("k", bytes("v")));
    EXPECT_EQ(store->retries(), 5u);
    EXPECT_EQ(store->get_all("k").value(), bytes("v"));
    // Full jitter: retry n waits in [0, min(5000, 100 * 2^n)] ms.
    ASSERT_EQ(sleeps_.size(), 5u);
    for (std::size_t n = 0; n < sleeps_.size(); ++n) {
        EXPECT_LE(sleeps_[n].count(), std::min<long>(5000, 100L << n)) << n;
    }
}

TEST_F(S3ObjectStoreTest, GivesUpAfterMaxAttempts) {
    S3Options o = options();
    o.retry.max_attempts = 4;
    auto store = open(o);
    ASSERT_TRUE(store);
    fake_.inject(s3_error(503, "SlowDown", "Please reduce your request rate."), 10);
    const int before = fake_.requests();
    auto st = store->put("k", bytes("v"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::unavailable);
    EXPECT_EQ(fake_.requests() - before, 4);
    EXPECT_NE(st.error().message.find("4 attempt(s)"), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("HTTP 503 SlowDown"), std::string::npos);
    EXPECT_NE(st.error().message.find("'k' in bucket itd-test"), std::string::npos);
}

TEST_F(S3ObjectStoreTest, GivesUpAfterMaxTotalTime) {
    S3Options o = options();
    o.retry.max_attempts = 1000;
    o.retry.initial_backoff = 40ms;
    o.retry.max_backoff = 40ms;
    o.retry.max_total_time = 300ms;
    o.retry.sleep = nullptr;  // really wait
    auto store = open(o);
    ASSERT_TRUE(store);
    fake_.inject(s3_error(503, "SlowDown", "slow"), 1000);
    const auto start = std::chrono::steady_clock::now();
    auto st = store->put("k", bytes("v"));
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::unavailable);
    EXPECT_LE(took, 1000ms);
    EXPECT_GE(store->retries(), 5u);
}

TEST_F(S3ObjectStoreTest, RetriesTimeoutsAndDroppedConnections) {
    S3Options o = options();
    o.http.request_timeout = 150ms;
    auto store = open(o);
    ASSERT_TRUE(store);
    ServerReply slow = ServerReply::text(200, "");
    slow.delay = 1000ms;
    fake_.inject(slow);
    ServerReply drop;
    drop.drop = true;
    fake_.inject(drop, 2);
    ASSERT_TRUE(store->put("k", bytes("v")));
    EXPECT_EQ(store->retries(), 3u);
    EXPECT_EQ(store->get_all("k").value(), bytes("v"));

    // A service that cannot be reached at all.
    S3Options gone = options();
    gone.endpoint = "http://127.0.0.1:" + std::to_string(http::testing::unused_port());
    gone.retry.max_attempts = 3;
    auto unreachable = S3ObjectStore::open(gone);
    ASSERT_FALSE(unreachable);
    EXPECT_EQ(unreachable.error().code, Errc::unavailable);
    EXPECT_NE(unreachable.error().message.find("3 attempt(s)"), std::string::npos)
        << unreachable.error().message;
}

TEST_F(S3ObjectStoreTest, MapsErrorsWithoutLeakingTheSecret) {
    auto store = open(options());
    ASSERT_TRUE(store);
    fake_.inject(s3_error(403, "AccessDenied", "Access Denied"));
    auto st = store->put("k", bytes("v"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::failed_precondition);
    EXPECT_NE(st.error().message.find("HTTP 403 AccessDenied: Access Denied"), std::string::npos)
        << st.error().message;
    EXPECT_EQ(store->retries(), 0u);

    fake_.inject(s3_error(400, "InvalidArgument", "bad"));
    st = store->remove("k");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::failed_precondition);

    fake_.inject(s3_error(412, "PreconditionFailed", "At least one of the pre-conditions failed"));
    st = store->put("k", bytes("v"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::conflict);

    // A wrong secret: the service refuses the signature; the message names neither secret.
    S3Options wrong = options();
    wrong.credentials.secret_access_key = "wrong-secret-value";
    auto refused = S3ObjectStore::open(wrong);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::failed_precondition);
    EXPECT_NE(refused.error().message.find("HTTP 403 SignatureDoesNotMatch"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(refused.error().message.find("wrong-secret-value"), std::string::npos);
    EXPECT_EQ(refused.error().message.find(secret_key), std::string::npos);
}

TEST_F(S3ObjectStoreTest, VirtualHostAddressing) {
    fake_.set_vhost_suffix(".s3.test:" + std::to_string(server_.port()));
    S3Options o = options();
    o.endpoint = "http://s3.test:" + std::to_string(server_.port());
    o.virtual_host = true;
    o.http.connect_address = "127.0.0.1";  // no DNS for s3.test here
    auto store = open(o);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("a/b", bytes("vh")));
    EXPECT_EQ(fake_.log().back(), "PUT /a/b");
    EXPECT_EQ(fake_.last_header("host"), "itd-test.s3.test:" + std::to_string(server_.port()));
    EXPECT_EQ(store->get_all("a/b").value(), bytes("vh"));
    auto l = store->list("a/");
    ASSERT_TRUE(l);
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ(fake_.log().back(), "GET /?list-type=2&prefix=a%2F");
}

TEST_F(S3ObjectStoreTest, SessionTokenIsSentAndSigned) {
    S3Options o = options();
    o.credentials.session_token = "token/with+chars";
    auto store = open(o);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("k", bytes("v")));
    EXPECT_EQ(fake_.last_header("x-amz-security-token"), "token/with+chars");
    EXPECT_NE(fake_.last_header("authorization").find("x-amz-security-token"), std::string::npos);
}

TEST_F(S3ObjectStoreTest, ParallelCallersShareABoundedPool) {
    S3Options o = options();
    o.http.max_connections = 2;
    auto store = open(o);
    ASSERT_TRUE(store);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                const std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
                const auto data = bytes(key + std::string(1000, 'x'));
                if (!store->put(key, data)) continue;
                auto back = store->get_all(key);
                if (back && *back == data) ++ok;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), 60);
    EXPECT_LE(server_.max_concurrent_requests(), 2u);
}

TEST(S3Credentials, FromEnvironment) {
    // Put back what was set: S3Service.* in this process read the same variables.
    struct Saved {
        const char* name;
        std::optional<std::string> value;
    };
    std::vector<Saved> saved;
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
        const char* v = std::getenv(name);
        saved.push_back({name, v ? std::optional<std::string>(v) : std::nullopt});
    }
    ::unsetenv("AWS_ACCESS_KEY_ID");
    ::setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    EXPECT_FALSE(s3_credentials_from_environment());
    ::setenv("AWS_ACCESS_KEY_ID", "id", 1);
    auto c = s3_credentials_from_environment();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->access_key_id, "id");
    EXPECT_EQ(c->secret_access_key, "s");
    EXPECT_EQ(c->session_token, "");
    ::setenv("AWS_SECRET_ACCESS_KEY", "", 1);
    EXPECT_FALSE(s3_credentials_from_environment());
    for (const Saved& s : saved) {
        if (s.value) {
            ::setenv(s.name, s.value->c_str(), 1);
        } else {
            ::unsetenv(s.name);
        }
    }
}

}  // namespace
}  // namespace itd::volume
