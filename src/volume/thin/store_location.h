// Where a thin volume store lives, as the user writes it (README "Cluster"): the STORE part of
// thin:STORE/VOLUME and the options that say how to reach it. Pure parsing: nothing here
// touches a network or a disk (store_open.h opens what this describes).
//
//   DIR                          the embedded default: DIR/objects and DIR/meta (local_store.h)
//   s3://BUCKET[/PREFIX]         objects in an S3 bucket, under PREFIX/ when given
//       endpoint=http(s)://HOST:PORT   required; region= (us-east-1), addressing=path|virtual
//   rados://POOL[/NAMESPACE]     objects in a Ceph pool, in NAMESPACE when given
//       ceph-conf=PATH (librados's search when absent), ceph-user=ID (admin)
//   both cluster kinds:
//       meta=etcd://HOST:PORT[+HOST:PORT...]   required; etcds:// for https
//       lease-ttl=SECONDS (10)   how long a dead owner keeps the volume
//       meta-prefix=TEXT         etcd key prefix (itd/s3/BUCKET[/PREFIX]/, itd/rados/POOL[/NS]/)
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace itd::volume::thin {

struct StoreLocation {
    enum class Kind { directory, s3, rados };
    Kind kind = Kind::directory;

    std::string directory;  // directory

    std::string bucket;         // s3
    std::string key_prefix;     // s3: "" or "PREFIX/"
    std::string endpoint;       // s3: "http://127.0.0.1:7480"
    std::string region = "us-east-1";
    bool virtual_host = false;  // s3: addressing=virtual

    std::string pool;             // rados
    std::string rados_namespace;  // rados
    std::string ceph_conf;        // rados: empty for librados's own search
    std::string ceph_user = "admin";

    std::vector<std::string> meta_endpoints;  // cluster kinds: "http://HOST:PORT"
    std::chrono::seconds lease_ttl{10};
    std::string meta_prefix;  // cluster kinds: ends with '/'

    bool cluster() const { return kind != Kind::directory; }
    // The store as the user wrote it, without options: "s3://bucket/prefix", "/var/lib/itd".
    // Names no endpoint and no credential, so it may go to logs and to the metadata store
    // (store_open.h records it there, so one etcd prefix is never paired with two stores).
    std::string describe() const;
};

// The option keys parse_store_location understands (beyond them a LUN-SPEC has its own).
bool is_store_option(std::string_view key);

// STORE as above, with its options (KEY -> VALUE). Options that do not fit the kind (endpoint=
// on rados://, meta= on a directory) are errors, so that nothing the user wrote is ignored.
// Errors are Errc::invalid_argument with a one-line message that does not repeat the store.
[[nodiscard]] Result<StoreLocation> parse_store_location(
    std::string_view store, const std::map<std::string, std::string>& options);

// STORE/VOLUME split at the last '/': the volume is a non-empty name after it, and STORE is
// not a bare scheme ("s3://VOLUME" names no bucket).
[[nodiscard]] Result<std::pair<std::string, std::string>> split_store_volume(
    std::string_view text);

}  // namespace itd::volume::thin
