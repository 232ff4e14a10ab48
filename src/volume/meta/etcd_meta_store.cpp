#include "volume/meta/etcd_meta_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "http/client.h"
#include "volume/meta/etcd_wire.h"
#include "volume/store/local_files.h"

namespace itd::volume {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kKeyExtraChars = "@";
constexpr std::string_view kLocksDir = ".locks/";
constexpr std::uint64_t kListPageKeys = 1000;
constexpr int kListAttempts = 3;  // a list whose snapshot revision was compacted starts over

class HttpTransport final : public EtcdTransport {
  public:
    HttpTransport(const std::vector<http::Endpoint>& endpoints, std::vector<std::string> urls,
                  const http::ClientOptions& options)
        : urls_(std::move(urls)) {
        for (const http::Endpoint& e : endpoints) {
            clients_.push_back(std::make_unique<http::Client>(e, options));
        }
    }

    std::size_t endpoint_count() const override { return clients_.size(); }
    std::string endpoint_url(std::size_t index) const override { return urls_.at(index); }

    Result<EtcdReply> post(std::size_t index, std::string_view path,
                           std::string_view body) override {
        http::Request request;
        request.method = boost::beast::http::verb::post;
        request.target = std::string(path);
        request.headers.push_back({"Content-Type", "application/json"});
        request.body = {reinterpret_cast<const std::uint8_t*>(body.data()), body.size()};
        auto response = clients_.at(index)->send(request);
        if (!response) return std::unexpected(std::move(response.error()));
        return EtcdReply{response->status,
                         std::string(response->body.begin(), response->body.end())};
    }

  private:
    std::vector<std::unique_ptr<http::Client>> clients_;
    std::vector<std::string> urls_;
};

// A pause of about d (between d/2 and d), so clients that failed together do not retry in
// step.
Clock::duration jittered(Clock::duration d) {
    thread_local std::minstd_rand rng(std::random_device{}());
    const auto half = d / 2;
    std::uniform_int_distribution<Clock::rep> extra(0, half.count());
    return half + Clock::duration(extra(rng));
}

std::string quoted(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

}  // namespace

struct EtcdMetaStore::Core {
    std::shared_ptr<EtcdTransport> transport;
    EtcdOptions options;
    std::atomic<std::size_t> preferred{0};  // the member that answered last

    std::string data_key(std::string_view key) const { return options.prefix + std::string(key); }
    std::string lock_key(std::string_view name) const {
        return options.prefix + std::string(kLocksDir) + std::string(name);
    }

    // POSTs body to path; on unavailable goes round the members and retries with back-off
    // (see the header) until deadline, or until *cancel turns true. *retried is set when an
    // attempt failed without an answer, so the request may have been applied before the
    // attempt that answered. Returns a 2xx answer's body; an error answer as an Error
    // (etcd::gateway_error).
    Result<std::string> call(std::string_view path, std::string_view body, std::string_view what,
                             Clock::time_point deadline, bool* retried = nullptr,
                             const std::atomic<bool>* cancel = nullptr) {
        const std::size_t n = transport->endpoint_count();
        const std::size_t first = preferred.load() % n;
        std::optional<Error> last;
        Clock::duration backoff = milliseconds(50);
        for (std::size_t attempt = 0;; ++attempt) {
            if (attempt > 0) {
                if (attempt % n == 0) {
                    // A whole round without an answer: wait before the next.
                    const auto until = std::min(deadline, Clock::now() + jittered(backoff));
                    while (Clock::now() < until && !(cancel != nullptr && cancel->load())) {
                        std::this_thread::sleep_for(
                            std::min<Clock::duration>(until - Clock::now(), milliseconds(50)));
                    }
                    backoff = std::min<Clock::duration>(backoff * 2, milliseconds(1000));
                }
                if (Clock::now() >= deadline || (cancel != nullptr && cancel->load())) {
                    return fail(Errc::unavailable,
                                std::string(what) + ": no etcd member answered in " +
                                    std::to_string(attempt) + " attempts; last: " + last->message);
                }
            }
            const std::size_t i = (first + attempt) % n;
            auto reply = transport->post(i, path, body);
            Error error;
            if (reply && reply->status / 100 == 2) {
                preferred.store(i);
                return std::move(reply->body);
            }
            if (reply) {
                error = etcd::gateway_error(reply->status, reply->body, what);
            } else {
                error = Error{reply.error().code, std::string(what) + ": " +
                                                      transport->endpoint_url(i) + ": " +
                                                      reply.error().message};
            }
            if (error.code != Errc::unavailable) return std::unexpected(std::move(error));
            if (retried != nullptr) *retried = true;
            last = std::move(error);
        }
    }

    Result<std::string> call(std::string_view path, std::string_view body, std::string_view what,
                             bool* retried = nullptr) {
        return call(path, body, what, Clock::now() + options.retry_budget, retried);
    }

    // Best effort, bounded: the lease expires by itself anyway.
    void revoke(std::int64_t lease) {
        const auto budget =
            std::min<Clock::duration>(options.retry_budget, 2 * options.request_timeout);
        (void)call("/v3/lease/revoke", etcd::lease_id_request(lease), "etcd lease revoke",
                   Clock::now() + budget);
    }
};

namespace {

// A lock: a key attached to a lease that a thread of its own keeps alive (see the header).
class EtcdMetaLock final : public MetaLock {
  public:
    EtcdMetaLock(std::shared_ptr<EtcdMetaStore::Core> core, std::string key, std::int64_t lease,
                 std::uint64_t create_revision, Clock::time_point granted_sent,
                 std::chrono::seconds ttl)
        : core_(std::move(core)),
          key_(std::move(key)),
          lease_(lease),
          create_revision_(create_revision),
          ttl_(ttl),
          deadline_((granted_sent + ttl).time_since_epoch().count()) {
        thread_ = std::thread([this, granted_sent] { keep_alive(granted_sent); });
    }

    ~EtcdMetaLock() override {
        {
            const std::lock_guard g(mutex_);
            stop_.store(true);
        }
        cv_.notify_all();
        thread_.join();
        lost_.store(true);
        // Revoking the lease deletes the key with it.
        core_->revoke(lease_);
    }

    bool held() const override {
        if (lost_.load()) return false;
        if (Clock::now().time_since_epoch().count() >= deadline_.load()) {
            lost_.store(true);  // for good, even if a late renewal would say otherwise
            return false;
        }
        return true;
    }

    void mark_lost() const { lost_.store(true); }
    const std::string& key() const { return key_; }
    std::uint64_t create_revision() const { return create_revision_; }
    const std::string& prefix() const { return core_->options.prefix; }

  private:
    Clock::time_point deadline() const {
        return Clock::time_point(Clock::duration(deadline_.load()));
    }

    // Waits until t or until the lock is destroyed; false when it is.
    bool wait_until(Clock::time_point t) {
        std::unique_lock lk(mutex_);
        return !cv_.wait_until(lk, t, [this] { return stop_.load(); });
    }

    void keep_alive(Clock::time_point last_sent) {
        // Renew at a third of the TTL: two renewals may fail before the lease runs out.
        const Clock::duration period = std::chrono::duration_cast<Clock::duration>(ttl_) / 3;
        // After a failure, retry soon (the members' own retries are inside call()).
        const Clock::duration pause =
            std::min<Clock::duration>(period / 4, std::chrono::milliseconds(250));
        Clock::time_point next = last_sent + period;
        while (wait_until(next)) {
            if (!held()) return;
            const Clock::time_point old_deadline = deadline();
            const Clock::time_point sent = Clock::now();
            auto body = core_->call("/v3/lease/keepalive", etcd::lease_id_request(lease_),
                                    "etcd lease keep-alive", old_deadline, nullptr, &stop_);
            if (stop_.load()) return;
            Result<etcd::LeaseResult> lease = std::unexpected(Error{Errc::io_error, ""});
            if (body) {
                lease = etcd::parse_lease(*body);
            } else {
                lease = std::unexpected(std::move(body.error()));
            }
            if (!lease) {
                if (lease.error().code == Errc::unavailable) {
                    next = Clock::now() + pause;  // held() turns false at the deadline
                    continue;
                }
                mark_lost();  // not_found: etcd dropped the lease; or answers we cannot read
                return;
            }
            // Alive when etcd got the request, which was after `sent`; but once the old
            // deadline has passed, held() may already have said false: it stays false.
            if (lease->ttl_s <= 0 || Clock::now() >= old_deadline) {
                mark_lost();
                return;
            }
            deadline_.store((sent + std::chrono::seconds(lease->ttl_s)).time_since_epoch().count());
            // The key must still be ours: an operator may have deleted it, or (after a lapse
            // that etcd noticed and we did not) another holder may have taken it.
            auto range = core_->call("/v3/kv/range", etcd::range_request(key_), "etcd range (lock)",
                                     deadline(), nullptr, &stop_);
            if (range) {
                auto r = etcd::parse_range(*range);
                if (r && (r->kvs.empty() || r->kvs[0].create_revision != create_revision_)) {
                    mark_lost();
                    return;
                }
            }
            next = sent + period;
        }
    }

    const std::shared_ptr<EtcdMetaStore::Core> core_;
    const std::string key_;
    const std::int64_t lease_;
    const std::uint64_t create_revision_;
    const std::chrono::seconds ttl_;
    std::atomic<Clock::rep> deadline_;
    mutable std::atomic<bool> lost_{false};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// The fence of a write (meta_store.h): an EtcdMetaLock of a store with the same prefix, still
// held as far as this process knows.
Result<const EtcdMetaLock*> check_fence(const MetaLock* fence, const std::string& prefix,
                                        std::string_view key) {
    if (fence == nullptr) return nullptr;
    const auto* lock = dynamic_cast<const EtcdMetaLock*>(fence);
    if (lock == nullptr || lock->prefix() != prefix) {
        return fail(Errc::failed_precondition,
                    "meta key " + quoted(key) + ": the fence is not a lock of this etcd store");
    }
    if (!lock->held()) {
        return fail(Errc::failed_precondition,
                    "meta key " + quoted(key) + ": the fencing lock was lost (lease expired)");
    }
    return lock;
}

// After a failed txn with the fence's range second in its failure branch: the lock key is
// gone or belongs to another holder. Marks the lock lost.
bool fence_lost(const EtcdMetaLock* lock, const etcd::TxnResult& txn) {
    if (lock == nullptr) return false;
    const bool lost = txn.ranges.size() < 2 || txn.ranges[1].kvs.empty() ||
                      txn.ranges[1].kvs[0].create_revision != lock->create_revision();
    if (lost) lock->mark_lost();
    return lost;
}

}  // namespace

Result<std::shared_ptr<EtcdTransport>> make_etcd_http_transport(const EtcdOptions& options) {
    if (options.endpoints.empty()) {
        return fail(Errc::invalid_argument, "etcd: no endpoint given");
    }
    std::vector<http::Endpoint> endpoints;
    for (const std::string& url : options.endpoints) {
        auto e = http::parse_endpoint(url);
        if (!e) return fail(Errc::invalid_argument, "etcd " + e.error().message);
        endpoints.push_back(std::move(*e));
    }
    http::ClientOptions client;
    client.connect_timeout = options.connect_timeout;
    client.request_timeout = options.request_timeout;
    client.max_idle_connections = 4;
    client.max_response_body_bytes = 64u << 20;
    client.ca_file = options.ca_file;
    return std::shared_ptr<EtcdTransport>(
        std::make_shared<HttpTransport>(endpoints, options.endpoints, client));
}

Result<std::unique_ptr<EtcdMetaStore>> EtcdMetaStore::open(EtcdOptions options) {
    auto transport = make_etcd_http_transport(options);
    if (!transport) return std::unexpected(std::move(transport.error()));
    return open(std::move(*transport), std::move(options));
}

Result<std::unique_ptr<EtcdMetaStore>> EtcdMetaStore::open(std::shared_ptr<EtcdTransport> transport,
                                                           EtcdOptions options) {
    if (transport == nullptr || transport->endpoint_count() == 0) {
        return fail(Errc::invalid_argument, "etcd: no endpoint given");
    }
    if (options.lease_ttl < std::chrono::seconds(1)) {
        return fail(Errc::invalid_argument, "etcd: the lease TTL must be at least 1 s");
    }
    if (options.prefix.find('\0') != std::string::npos) {
        return fail(Errc::invalid_argument, "etcd: the key prefix holds a NUL byte");
    }
    auto core = std::make_shared<Core>();
    core->transport = std::move(transport);
    core->options = std::move(options);
    auto status = core->call("/v3/maintenance/status", "{}", "etcd status");
    if (!status) return std::unexpected(std::move(status.error()));
    if (auto ok = etcd::parse_ok(*status); !ok) return std::unexpected(std::move(ok.error()));
    return std::unique_ptr<EtcdMetaStore>(new EtcdMetaStore(std::move(core)));
}

EtcdMetaStore::EtcdMetaStore(std::shared_ptr<Core> core) : core_(std::move(core)) {}
EtcdMetaStore::~EtcdMetaStore() = default;

const EtcdOptions& EtcdMetaStore::options() const {
    return core_->options;
}

Result<std::optional<MetaValue>> EtcdMetaStore::get(std::string_view key) {
    if (Status st = local::check_key(key, kKeyExtraChars, "meta key"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    auto body =
        core_->call("/v3/kv/range", etcd::range_request(core_->data_key(key)), "etcd range");
    if (!body) return std::unexpected(std::move(body.error()));
    auto range = etcd::parse_range(*body);
    if (!range) return std::unexpected(std::move(range.error()));
    if (range->kvs.empty()) return std::nullopt;
    return MetaValue{std::move(range->kvs[0].value), range->kvs[0].mod_revision};
}

Result<std::uint64_t> EtcdMetaStore::put_if(std::string_view key, std::string_view value,
                                            std::uint64_t expected_revision,
                                            const MetaLock* fence) {
    if (Status st = local::check_key(key, kKeyExtraChars, "meta key"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    auto lock = check_fence(fence, core_->options.prefix, key);
    if (!lock) return std::unexpected(std::move(lock.error()));
    const std::string k = core_->data_key(key);

    std::vector<etcd::Compare> compares;
    if (expected_revision == 0) {
        compares.push_back({k, etcd::Compare::Target::create_revision, 0});
    } else {
        compares.push_back(
            {k, etcd::Compare::Target::mod_revision, static_cast<std::int64_t>(expected_revision)});
    }
    std::vector<etcd::Op> failure{{etcd::Op::Kind::range, k, {}, 0}};
    if (*lock != nullptr) {
        compares.push_back({(*lock)->key(), etcd::Compare::Target::create_revision,
                            static_cast<std::int64_t>((*lock)->create_revision())});
        failure.push_back({etcd::Op::Kind::range, (*lock)->key(), {}, 0});
    }
    const etcd::Op success[] = {{etcd::Op::Kind::put, k, std::string(value), 0}};

    bool retried = false;
    auto body = core_->call("/v3/kv/txn", etcd::txn_request(compares, success, failure),
                            "etcd txn (put_if)", &retried);
    if (!body) return std::unexpected(std::move(body.error()));
    auto txn = etcd::parse_txn(*body);
    if (!txn) return std::unexpected(std::move(txn.error()));
    if (txn->succeeded) return txn->header_revision;

    if (fence_lost(*lock, *txn)) {
        return fail(
            Errc::failed_precondition,
            "meta key " + quoted(key) +
                ": the fencing lock was lost (its lease expired or another holder took it)");
    }
    if (txn->ranges.empty()) {
        return fail(Errc::io_error, "etcd txn (put_if): the failure branch did not answer");
    }
    const std::vector<etcd::KeyValue>& kvs = txn->ranges[0].kvs;
    const std::uint64_t current = kvs.empty() ? 0 : kvs[0].mod_revision;
    // A retried write whose first attempt did happen (see the header).
    if (retried && !kvs.empty() && kvs[0].value == value && current > expected_revision) {
        return current;
    }
    return fail(Errc::conflict, "meta key " + quoted(key) + ": revision is " +
                                    std::to_string(current) + ", expected " +
                                    std::to_string(expected_revision));
}

Status EtcdMetaStore::remove_if(std::string_view key, std::uint64_t expected_revision,
                                const MetaLock* fence) {
    if (Status st = local::check_key(key, kKeyExtraChars, "meta key"); !st) return st;
    auto lock = check_fence(fence, core_->options.prefix, key);
    if (!lock) return std::unexpected(std::move(lock.error()));
    const std::string k = core_->data_key(key);
    if (expected_revision == 0) {
        // No key has revision 0: the answer is not_found or conflict, with nothing to write.
        auto current = get(key);
        if (!current) return std::unexpected(std::move(current.error()));
        if (!*current) return fail(Errc::not_found, "meta key " + quoted(key) + ": does not exist");
        return fail(Errc::conflict, "meta key " + quoted(key) + ": revision is " +
                                        std::to_string((*current)->revision) + ", expected 0");
    }

    std::vector<etcd::Compare> compares{
        {k, etcd::Compare::Target::mod_revision, static_cast<std::int64_t>(expected_revision)}};
    std::vector<etcd::Op> failure{{etcd::Op::Kind::range, k, {}, 0}};
    if (*lock != nullptr) {
        compares.push_back({(*lock)->key(), etcd::Compare::Target::create_revision,
                            static_cast<std::int64_t>((*lock)->create_revision())});
        failure.push_back({etcd::Op::Kind::range, (*lock)->key(), {}, 0});
    }
    const etcd::Op success[] = {{etcd::Op::Kind::remove, k, {}, 0}};

    bool retried = false;
    auto body = core_->call("/v3/kv/txn", etcd::txn_request(compares, success, failure),
                            "etcd txn (remove_if)", &retried);
    if (!body) return std::unexpected(std::move(body.error()));
    auto txn = etcd::parse_txn(*body);
    if (!txn) return std::unexpected(std::move(txn.error()));
    if (txn->succeeded) return {};

    if (fence_lost(*lock, *txn)) {
        return fail(
            Errc::failed_precondition,
            "meta key " + quoted(key) +
                ": the fencing lock was lost (its lease expired or another holder took it)");
    }
    if (txn->ranges.empty()) {
        return fail(Errc::io_error, "etcd txn (remove_if): the failure branch did not answer");
    }
    const std::vector<etcd::KeyValue>& kvs = txn->ranges[0].kvs;
    if (kvs.empty()) {
        if (retried) return {};  // gone, as asked: most likely by our own first attempt
        return fail(Errc::not_found, "meta key " + quoted(key) + ": does not exist");
    }
    return fail(Errc::conflict, "meta key " + quoted(key) + ": revision is " +
                                    std::to_string(kvs[0].mod_revision) + ", expected " +
                                    std::to_string(expected_revision));
}

Result<std::vector<std::string>> EtcdMetaStore::list(std::string_view prefix) {
    if (Status st = local::check_prefix(prefix, kKeyExtraChars, "meta key prefix"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    const std::string& root = core_->options.prefix;
    const std::string start = root + std::string(prefix);
    const std::string end = etcd::prefix_end(start);
    for (int attempt = 1;; ++attempt) {
        std::vector<std::string> keys;
        // etcd takes no empty key: "\0" is the first key there is.
        std::string from = start.empty() ? std::string(1, '\0') : start;
        std::uint64_t revision = 0;  // every page at the first page's revision
        Status st;
        while (st) {
            auto body = core_->call("/v3/kv/range",
                                    etcd::range_request(from, end, true, kListPageKeys, revision),
                                    "etcd range (list)");
            if (!body) {
                st = std::unexpected(std::move(body.error()));
                break;
            }
            auto range = etcd::parse_range(*body);
            if (!range) return std::unexpected(std::move(range.error()));
            if (revision == 0) revision = range->header_revision;
            for (etcd::KeyValue& kv : range->kvs) {
                if (!kv.key.starts_with(root)) continue;
                std::string rel = kv.key.substr(root.size());
                if (rel.starts_with(kLocksDir)) continue;
                keys.push_back(std::move(rel));
            }
            if (!range->more || range->kvs.empty()) return keys;
            from = range->kvs.back().key + '\0';  // the next key after the last one
        }
        // A compacted snapshot revision: start over at the latest one.
        if (st.error().code != Errc::conflict || attempt >= kListAttempts) {
            return std::unexpected(std::move(st.error()));
        }
    }
}

Result<std::unique_ptr<MetaLock>> EtcdMetaStore::lock(std::string_view name,
                                                      std::string_view owner_info) {
    if (Status st = local::check_key(name, kKeyExtraChars, "lock name"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    const std::string key = core_->lock_key(name);
    const Clock::time_point sent = Clock::now();  // the lease's clock starts after this
    auto granted =
        core_->call("/v3/lease/grant", etcd::lease_grant_request(core_->options.lease_ttl.count()),
                    "etcd lease grant");
    if (!granted) return std::unexpected(std::move(granted.error()));
    auto lease = etcd::parse_lease(*granted);
    if (!lease) return std::unexpected(std::move(lease.error()));
    if (lease->id == 0 || lease->ttl_s <= 0) {
        return fail(Errc::io_error,
                    "etcd lease grant: no lease in the answer: " + etcd::excerpt(*granted));
    }
    // Every way out but success revokes the lease.
    struct Revoker {
        Core& core;
        std::int64_t lease;
        bool armed = true;
        ~Revoker() {
            if (armed) core.revoke(lease);
        }
    } revoker{*core_, lease->id};

    const etcd::Compare compares[] = {{key, etcd::Compare::Target::create_revision, 0}};
    const etcd::Op success[] = {{etcd::Op::Kind::put, key, std::string(owner_info), lease->id}};
    const etcd::Op failure[] = {{etcd::Op::Kind::range, key, {}, 0}};
    bool retried = false;
    auto body = core_->call("/v3/kv/txn", etcd::txn_request(compares, success, failure),
                            "etcd txn (lock)", &retried);
    if (!body) {
        if (body.error().code == Errc::not_found) {
            // The lease ran out while the txn was retried.
            return fail(Errc::unavailable, "lock " + quoted(name) + ": " + body.error().message);
        }
        return std::unexpected(std::move(body.error()));
    }
    auto txn = etcd::parse_txn(*body);
    if (!txn) return std::unexpected(std::move(txn.error()));
    std::uint64_t create_revision = txn->header_revision;
    if (!txn->succeeded) {
        if (txn->ranges.empty() || txn->ranges[0].kvs.empty()) {
            // The txn is atomic: a failed create-if-absent saw the key. Should not happen.
            return fail(Errc::unavailable,
                        "lock " + quoted(name) + ": taken, but its holder could not be read");
        }
        const etcd::KeyValue& holder = txn->ranges[0].kvs[0];
        if (holder.lease != lease->id) {
            return fail(Errc::failed_precondition,
                        "lock " + quoted(name) + " is held by " + quoted(holder.value));
        }
        create_revision = holder.create_revision;  // our own first attempt took it
    }
    revoker.armed = false;
    return std::unique_ptr<MetaLock>(new EtcdMetaLock(core_, key, lease->id, create_revision, sent,
                                                      std::chrono::seconds(lease->ttl_s)));
}

Result<std::optional<std::string>> EtcdMetaStore::lock_holder(std::string_view name) {
    if (Status st = local::check_key(name, kKeyExtraChars, "lock name"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    auto body = core_->call("/v3/kv/range", etcd::range_request(core_->lock_key(name)),
                            "etcd range (lock)");
    if (!body) return std::unexpected(std::move(body.error()));
    auto range = etcd::parse_range(*body);
    if (!range) return std::unexpected(std::move(range.error()));
    if (range->kvs.empty()) return std::nullopt;
    return std::move(range->kvs[0].value);
}

}  // namespace itd::volume
