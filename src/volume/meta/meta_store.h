// Where a thin volume's superblock and the catalog of volumes and snapshots live (DESIGN.md
// "Thin volume format"): small values under keys, each replaced only by compare-and-swap on its
// revision, and an exclusive owner lock per volume. Embedded default: files in a local
// directory (file_meta_store.h); for a cluster: etcd (the lock becomes a lease).
//
// Blocking and thread-safe, like ObjectStore. Every successful put_if/remove_if is durable when
// it returns. Errors: unavailable (retry the call), conflict (the revision moved: re-read and
// retry the transaction, or give up), not_found, failed_precondition, io_error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace itd::volume {

struct MetaValue {
    std::string value;
    std::uint64_t revision = 0;  // > 0; changes on every successful write of the key
};

// An exclusive claim on a name, held until destroyed (or, in a cluster, until its lease
// expires: then held() turns false and the holder must stop writing). Once false, held() stays
// false: a lost lock is never regained; take a new one.
class MetaLock {
public:
    virtual ~MetaLock() = default;
    virtual bool held() const = 0;
};

class MetaStore {
public:
    virtual ~MetaStore() = default;

    // The key's value and revision; nullopt when the key does not exist.
    [[nodiscard]] virtual Result<std::optional<MetaValue>> get(std::string_view key) = 0;

    // Writes value under key if the key's revision is expected_revision, where 0 means "the key
    // must not exist". Returns the new revision; conflict when the revision differs.
    // Keys are ASCII [A-Za-z0-9._@/-], no leading '/', no empty component.
    //
    // fence, when given, is a lock taken from this store: the write happens only while it is
    // still held (DESIGN.md "Ownership and fencing"). A cluster store checks it in the same
    // transaction as the revision, so a holder whose lease ran out can never overwrite what the
    // next holder wrote. When the lock is lost: failed_precondition saying so (checked before
    // the revision: do not retry), and the lock's held() is false from then on.
    [[nodiscard]] virtual Result<std::uint64_t> put_if(std::string_view key, std::string_view value,
                                                       std::uint64_t expected_revision,
                                                       const MetaLock* fence = nullptr) = 0;

    // Deletes the key if its revision is expected_revision; conflict when it differs, not_found
    // when the key does not exist. fence as for put_if.
    [[nodiscard]] virtual Status remove_if(std::string_view key, std::uint64_t expected_revision,
                                           const MetaLock* fence = nullptr) = 0;

    // Every key that starts with prefix, in ascending order.
    [[nodiscard]] virtual Result<std::vector<std::string>> list(std::string_view prefix) = 0;

    // Takes the exclusive lock called name for this process. owner_info is stored with it (who
    // holds it and how to reach them) and shown to anyone who finds it taken. Fails with
    // failed_precondition, whose message quotes the holder's owner_info, when another holder
    // (another process, or another lock object in this one) has it. A holder that dies
    // (kill -9) loses it: at once for a local lock, after the lease's TTL in a cluster.
    [[nodiscard]] virtual Result<std::unique_ptr<MetaLock>> lock(std::string_view name,
                                                                 std::string_view owner_info) = 0;

    // The owner_info of the lock's current holder; nullopt when nobody holds it.
    [[nodiscard]] virtual Result<std::optional<std::string>> lock_holder(std::string_view name) = 0;
};

}  // namespace itd::volume
