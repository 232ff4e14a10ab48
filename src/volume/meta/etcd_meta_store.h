// A MetaStore on etcd v3 (meta_store.h), for a cluster: talks to etcd's HTTP/JSON gateway
// (POST /v3/..., etcd_wire.h) with the shared HTTP client (http/client.h). Debian 12's etcd is
// 3.4; its gateway answers under /v3/.
//
// Layout under the configured prefix P (default "itd/"):
//   P<key>           a MetaStore key and its value; the key's revision is etcd's mod_revision
//   P.locks/<name>   a MetaLock: the holder's owner_info, attached to the holder's lease
// No key has a component starting with '.' (meta_store.h's grammar, local::check_key), so the
// two never meet.
//
// Every call is one etcd request (list: one per page of 1000 keys):
//   get          range P<key>
//   put_if       txn  if   mod_revision(P<key>) == expected   (expected 0: create_revision == 0,
//                          i.e. the key does not exist)
//                     [and create_revision(P.locks/<fence>) == the fence's own]
//                     then put P<key>
//                     else range P<key> [, range P.locks/<fence>]   (which compare failed, and why)
//                The new revision is the txn's header revision: etcd gives each write the
//                store's next revision, so a revision never repeats, for any key, even after
//                remove and re-create.
//   remove_if    txn  likewise, then delete P<key>
//   list         range [P<prefix>, prefix_end(P<prefix>)) keys only, every page at the first
//                page's revision (one consistent view)
//   lock         lease grant (TTL), then
//                txn  if create_revision(P.locks/<name>) == 0 then put it with the lease
//                     else range it (the holder's owner_info for the message)
//   lock_holder  range P.locks/<name>
//
// A lock's life, and when held() is true:
//
//   grant sent at s0 ─► txn creates the key ─► keep-alive sent at s1 ─► ... at sN ─► revoke
//                                               answered TTL=T                   (destructor)
//   held() == now < s_last + T, where s_last is when the last keep-alive that the lease was
//   alive (TTL > 0) was SENT. etcd restarted the lease's clock when it got the request, after
//   s_last, so by our clock the lease cannot expire earlier. A keep-alive thread renews at
//   T/3 and retries on failure until the deadline. held() turns false, for good, when the
//   deadline passes without a confirmation, when etcd says the lease is gone (TTL 0, not
//   found), or when the lock key is not ours any more (deleted, or re-created by another
//   holder). A put_if/remove_if fenced by the lock checks the lock key's create_revision in
//   the same txn: once the lease expired in etcd, the key is gone and the fenced write fails
//   there even if this process has not noticed yet.
//
// Endpoints (several members of one cluster): a call goes to the member that answered last;
// on unavailable (no connection, a timeout, "no leader", "leader changed", an HTTP 5xx) it
// moves to the next, and after a whole round without an answer waits (back-off from 50 ms
// doubling to 1 s, with jitter) and tries again, until retry_budget has passed. Other errors
// return at once.
//
// A write whose answer was lost may have happened. When a put_if, remove_if or lock had to be
// retried and its compare then fails, it asks whether the store already holds what it wrote:
// put_if finds its exact value at a revision later than expected (the same test the thin
// commit uses, thin_commit.cpp), remove_if finds the key gone, lock finds the key attached to
// its own lease; each then reports success.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "volume/meta/meta_store.h"

namespace itd::volume {

struct EtcdOptions {
    std::vector<std::string> endpoints;  // "http://127.0.0.1:2379" (https too); at least one
    std::string prefix = "itd/";         // every key and lock below it
    std::chrono::seconds lease_ttl{10};  // a lock's lease; a dead holder loses it after this
    std::chrono::milliseconds connect_timeout{1000};
    // One request to one member. Short: a member that lost its leader holds requests until
    // its own timeout (about 5 s + 2 election timeouts) while the next member may already
    // answer; a timed-out write is retried and recognised (see above).
    std::chrono::milliseconds request_timeout{2000};
    std::chrono::milliseconds retry_budget{10000};  // one call, over every member and retry
    std::string ca_file;                            // https: the CA bundle (empty: system's)
};

// An answer from one member: the HTTP status and body.
struct EtcdReply {
    unsigned status = 0;
    std::string body;
};

// How the store reaches the members; the HTTP one (make_etcd_http_transport) in production, a
// fault-injecting one in tests.
class EtcdTransport {
  public:
    virtual ~EtcdTransport() = default;
    virtual std::size_t endpoint_count() const = 0;
    virtual std::string endpoint_url(std::size_t index) const = 0;  // for messages
    // POSTs a JSON body to path ("/v3/kv/range") on member index; thread-safe. unavailable
    // when there was no answer (the request may have been applied).
    [[nodiscard]] virtual Result<EtcdReply> post(std::size_t index, std::string_view path,
                                                 std::string_view body) = 0;
};

// One keep-alive HTTP client per endpoint. invalid_argument for an endpoint that is not
// http(s)://HOST[:PORT], or none at all.
Result<std::shared_ptr<EtcdTransport>> make_etcd_http_transport(const EtcdOptions& options);

class EtcdMetaStore final : public MetaStore {
  public:
    // Checks the options and that some member answers (maintenance/status, within the retry
    // budget): invalid_argument for bad options, unavailable when no member answers.
    static Result<std::unique_ptr<EtcdMetaStore>> open(EtcdOptions options);
    static Result<std::unique_ptr<EtcdMetaStore>> open(std::shared_ptr<EtcdTransport> transport,
                                                       EtcdOptions options);
    ~EtcdMetaStore() override;

    // Keys and lock names follow meta_store.h, and no component may start with '.', as in
    // FileMetaStore: failed_precondition otherwise.
    [[nodiscard]] Result<std::optional<MetaValue>> get(std::string_view key) override;
    // A fence must be a lock of an EtcdMetaStore with the same prefix, on the same cluster
    // (failed_precondition otherwise).
    [[nodiscard]] Result<std::uint64_t> put_if(std::string_view key, std::string_view value,
                                               std::uint64_t expected_revision,
                                               const MetaLock* fence = nullptr) override;
    [[nodiscard]] Status remove_if(std::string_view key, std::uint64_t expected_revision,
                                   const MetaLock* fence = nullptr) override;
    [[nodiscard]] Result<std::vector<std::string>> list(std::string_view prefix) override;
    // The lock holds a lease of options.lease_ttl and keeps it alive from a thread of its own;
    // destroying it revokes the lease (the key goes with it). It may outlive the store.
    [[nodiscard]] Result<std::unique_ptr<MetaLock>> lock(std::string_view name,
                                                         std::string_view owner_info) override;
    [[nodiscard]] Result<std::optional<std::string>> lock_holder(std::string_view name) override;

    const EtcdOptions& options() const;

    struct Core;  // shared with the locks

  private:
    explicit EtcdMetaStore(std::shared_ptr<Core> core);
    std::shared_ptr<Core> core_;
};

}  // namespace itd::volume
