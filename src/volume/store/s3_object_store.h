// An ObjectStore in an S3 bucket (object_store.h), for any S3-compatible service: Ceph RGW,
// MinIO, AWS. Requests are signed with AWS Signature V4 (s3_signer.h) and sent through a pooled
// HTTP/1.1 client (http/client.h), over TLS when the endpoint says https.
//
//   put      PUT    /BUCKET/PREFIXKEY             x-amz-content-sha256 = SHA-256 of the data
//   get      GET    /BUCKET/PREFIXKEY             Range: bytes=OFFSET-LAST
//   get_all  GET    /BUCKET/PREFIXKEY
//   remove   DELETE /BUCKET/PREFIXKEY             a missing key (404) is not an error
//   list     GET    /BUCKET?list-type=2&prefix=…  ListObjectsV2, page after page
//   sync     nothing: S3 stores an object durably before it answers a PUT with 200
//
// With virtual-host addressing the bucket moves from the path into the host name
// (BUCKET.HOST); path-style is the default because it needs no DNS for new buckets, and is
// what RGW and MinIO expect out of the box.
//
// Errors and retries. A request that fails in a way a retry may cure — a connection that
// could not be made or broke, a timeout, HTTP 5xx (503 SlowDown among them), 429, or 400
// RequestTimeout — is retried with exponential back-off and full jitter: before retry n the
// store sleeps a uniform random time in [0, min(max_backoff, initial_backoff * 2^n)], for at
// most max_attempts attempts and max_total_time in all; then the call returns unavailable.
// Other answers map to codes once:
//   404 (NoSuchKey)                   not_found
//   403, 400 and other 4xx            failed_precondition, with S3's error code and message
//   409, 412 (PreconditionFailed)     conflict
// Every message names the operation, the bucket and the key, never a credential.
//
// Bounded parallel requests: the HTTP client keeps at most http.max_connections open; a caller
// beyond that waits for one (within http.request_timeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "http/client.h"
#include "volume/store/object_store.h"
#include "volume/store/s3_signer.h"

namespace itd::volume {

struct S3RetryPolicy {
    // Patient by default: a block device would rather stall (a gateway that restarts) than
    // fail a write. Against a refused connection the waits alone set the pace: 25 tries' caps
    // sum to 96 s and average half that, so max_total_time is what ends it, at 30 s (with 10
    // tries it was about 11 s, shorter than a radosgw restart under load).
    int max_attempts = 25;  // tries of one request, the first one included
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    std::chrono::milliseconds max_total_time{30000};  // from the first try to the last retry
    // Nondeterminism, injected for tests: how to wait, and the jitter's seed (0: random).
    std::function<void(std::chrono::milliseconds)> sleep;  // empty: this_thread::sleep_for
    std::uint64_t jitter_seed = 0;
};

struct S3Options {
    std::string endpoint;  // "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com"
    std::string bucket;
    std::string key_prefix;  // prepended to every key ("vol0/"); list() strips it again
    std::string region = "us-east-1";
    bool virtual_host = false;   // BUCKET.HOST instead of HOST/BUCKET
    bool create_bucket = false;  // make the bucket at open() when it does not exist
    sigv4::Credentials credentials;
    http::ClientOptions http;  // timeouts, connection bound, TLS CA file
    S3RetryPolicy retry;
    // The clock that dates signatures; empty: the system clock.
    std::function<std::chrono::system_clock::time_point()> now;
};

// Credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN;
// nullopt unless both of the first two are set and non-empty.
std::optional<sigv4::Credentials> s3_credentials_from_environment();

class S3ObjectStore final : public ObjectStore {
  public:
    // Checks the options, then the bucket (a one-key listing): not_found when it does not exist and
    // create_bucket is off; invalid_argument for a bad endpoint, bucket name or region;
    // failed_precondition when S3 refuses (bad credentials, no access); unavailable when the
    // service cannot be reached within the retry policy.
    static Result<std::unique_ptr<S3ObjectStore>> open(S3Options options);
    ~S3ObjectStore() override;

    // Keys follow object_store.h, and no component may be "." or "..": failed_precondition
    // otherwise.
    [[nodiscard]] Status put(std::string_view key, std::span<const std::uint8_t> data) override;
    [[nodiscard]] Status put_new(std::string_view key, std::span<const std::uint8_t> data) override;
    [[nodiscard]] Status get(std::string_view key, std::uint64_t offset_bytes,
                             std::span<std::uint8_t> out) override;
    [[nodiscard]] Result<std::vector<std::uint8_t>> get_all(std::string_view key) override;
    [[nodiscard]] Status remove(std::string_view key) override;
    [[nodiscard]] Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
    [[nodiscard]] Status sync() override;

    // "s3://BUCKET/PREFIX at http://HOST:PORT": for logs; no credentials.
    std::string describe() const;

    // Requests retried since open (each retry counts once): for tests and metrics.
    std::uint64_t retries() const;

    struct Impl;

  private:
    // put (if_absent false) and put_new (true: a conditional PUT).
    Status put_object(std::string_view key, std::span<const std::uint8_t> data, bool if_absent);
    explicit S3ObjectStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace itd::volume
