// An ObjectStore in a RADOS pool (object_store.h), through librados, for Ceph users: the thin
// volume's objects go straight to the OSDs, without the S3 gateway's hop (on the test machine
// RADOS took 4 KiB writes about ten times faster than S3 through radosgw). A key is the RADOS
// object name as is, in the pool and the optional RADOS namespace of the options.
//
//   put      write_full            one op, applied atomically by the OSD: a reader sees the old
//                                  or the new object
//   get      read                  then, only when it comes back short, a stat for the message
//   get_all  stat + read(0, 0)     one op: a read of length 0 returns the whole object, the
//                                  stat checks its length
//   remove   remove                ENOENT is not an error
//   list     object_list           the whole namespace, filtered and sorted here, then a stat
//                                  per key (size and time), a bounded window of them in flight
//   sync     nothing: the OSDs acknowledge a write only once every replica has it on disk
//
// Each call issues its op asynchronously and waits for it (librados's aio API), so one RADOS
// client handle and its connections serve every thread; calls from many threads overlap on the
// wire. list() keeps several stats in flight the same way.
//
// Bounded time. librados waits forever by default for a monitor or an OSD that does not answer.
// open() sets rados_osd_op_timeout, rados_mon_op_timeout and client_mount_timeout, so that a
// dead or unreachable cluster makes a call fail with unavailable after about that time instead
// of hanging the thin engine's pools.
//
// Errors (errno from librados, mapped once):
//   ENOENT                                    not_found
//   ETIMEDOUT, ESHUTDOWN, ENOTCONN, EAGAIN    unavailable (ESHUTDOWN is also how Ceph says
//                                             this client was blocklisted: see the .cpp)
//   EACCES, EPERM                             failed_precondition: the cephx user lacks caps
//   anything else                             io_error, with strerror's text
// Every message names the pool, the namespace and the key.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "volume/store/object_store.h"

namespace itd::volume {

struct RadosOptions {
    std::string pool;                 // must exist: open() does not create pools
    std::string ceph_conf;            // ceph.conf path; empty: librados's search ($CEPH_CONF,
                                      // /etc/ceph/ceph.conf, ~/.ceph/config, ./ceph.conf)
    std::string client_id = "admin";  // the cephx user without "client."; its keyring is the
                                      // one ceph.conf names
    std::string rados_namespace;      // empty: the pool's default namespace
    // Each RADOS op, and each monitor request (connecting included), fails with unavailable
    // after this long. Whole seconds, at least 1: Ceph takes its timeouts in seconds.
    std::chrono::seconds op_timeout{30};
    std::chrono::seconds connect_timeout{30};
    std::size_t list_stats_in_flight = 32;  // list(): stat ops in flight at once
};

class RadosObjectStore final : public ObjectStore {
  public:
    // Connects as client.CLIENT_ID with ceph.conf and opens the pool, then stats a probe
    // object to learn that an OSD answers and that the user may read the pool.
    // invalid_argument for bad options; failed_precondition when ceph.conf cannot be read or
    // the cluster refuses the user (no keyring, wrong key, no caps); not_found when the pool
    // does not exist; unavailable when the monitors or OSDs do not answer within the timeouts.
    static Result<std::unique_ptr<RadosObjectStore>> open(RadosOptions options);
    ~RadosObjectStore() override;

    // Keys follow object_store.h, at most 1024 bytes, and no component may be "." or "..":
    // failed_precondition otherwise (the same keys as the S3 store takes, so a volume can
    // move between them).
    [[nodiscard]] Status put(std::string_view key, std::span<const std::uint8_t> data) override;
    [[nodiscard]] Status put_new(std::string_view key, std::span<const std::uint8_t> data) override;
    [[nodiscard]] Status get(std::string_view key, std::uint64_t offset_bytes,
                             std::span<std::uint8_t> out) override;
    [[nodiscard]] Result<std::vector<std::uint8_t>> get_all(std::string_view key) override;
    [[nodiscard]] Status remove(std::string_view key) override;
    // RADOS lists a pool's objects in hash order, and only whole namespaces (its listing
    // filters match xattrs, not names): the prefix is applied here. The cost is one listing
    // round trip per 1024 objects in the namespace (per PG at least), whatever the prefix,
    // plus a stat per object that matches, and memory for every matching name. Give each
    // cluster of volumes its own namespace to keep that small. Objects whose names are not
    // valid keys are skipped.
    [[nodiscard]] Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
    [[nodiscard]] Status sync() override;

    // "rados://POOL[/NAMESPACE] as client.ID": for logs.
    std::string describe() const;

    struct Impl;

  private:
    explicit RadosObjectStore(std::unique_ptr<Impl> impl);
    // put (exclusive false) and put_new (true).
    Status write_object(std::string_view key, std::span<const std::uint8_t> data, bool exclusive);
    std::unique_ptr<Impl> impl_;
};

}  // namespace itd::volume
