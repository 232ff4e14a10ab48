#include "volume/thin/store_open.h"

#include "volume/meta/etcd_meta_store.h"
#include "volume/store/rados_object_store.h"
#include "volume/store/s3_object_store.h"
#include "volume/thin/local_store.h"

namespace itd::volume::thin {

namespace {

// The key that pairs a cluster store's metadata with its object store.
constexpr std::string_view store_record_key = "store";

Result<std::shared_ptr<ObjectStore>> open_s3(const StoreLocation& where, bool create,
                                             const StoreSecrets& secrets) {
    S3Options options;
    options.endpoint = where.endpoint;
    options.bucket = where.bucket;
    options.key_prefix = where.key_prefix;
    options.region = where.region;
    options.virtual_host = where.virtual_host;
    options.create_bucket = create;
    if (!secrets.s3_access_key_id.empty()) {
        options.credentials = {secrets.s3_access_key_id, secrets.s3_secret_access_key,
                               secrets.s3_session_token};
    } else if (auto env = s3_credentials_from_environment()) {
        options.credentials = std::move(*env);
    } else {
        return fail(Errc::invalid_argument,
                    "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                    "environment, or access-key-id and secret-access-key in the config file's "
                    "[s3] table");
    }
    auto store = S3ObjectStore::open(std::move(options));
    if (!store) return std::unexpected(store.error());
    return std::shared_ptr<ObjectStore>(std::move(*store));
}

Result<std::shared_ptr<ObjectStore>> open_rados(const StoreLocation& where) {
    RadosOptions options;
    options.pool = where.pool;
    options.rados_namespace = where.rados_namespace;
    options.ceph_conf = where.ceph_conf;
    options.client_id = where.ceph_user;
    auto store = RadosObjectStore::open(std::move(options));
    if (!store) return std::unexpected(store.error());
    return std::shared_ptr<ObjectStore>(std::move(*store));
}

// The first opener records which object store the metadata belongs to; later ones must match.
Status check_store_record(MetaStore& meta, const StoreLocation& where) {
    const std::string identity = where.describe();
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto record = meta.get(store_record_key);
        if (!record) return std::unexpected(record.error());
        if (*record) {
            if ((*record)->value == identity) return {};
            return fail(Errc::failed_precondition,
                        "etcd prefix " + where.meta_prefix + " belongs to " + (*record)->value +
                            ", not " + identity + " (give each store its own meta-prefix=)");
        }
        auto put = meta.put_if(store_record_key, identity, 0);
        if (put) return {};
        if (put.error().code != Errc::conflict) return std::unexpected(put.error());
        // Another opener wrote it first: read what it wrote.
    }
    return fail(Errc::unavailable, "etcd prefix " + where.meta_prefix + ": store record kept changing");
}

}  // namespace

Result<Stores> open_stores(const StoreLocation& where, bool create, const StoreSecrets& secrets) {
    if (!where.cluster()) return open_local_store(where.directory, create);

    EtcdOptions etcd;
    etcd.endpoints = where.meta_endpoints;
    etcd.prefix = where.meta_prefix;
    etcd.lease_ttl = where.lease_ttl;
    auto meta = EtcdMetaStore::open(std::move(etcd));
    if (!meta) return fail(meta.error().code, "etcd: " + meta.error().message);
    std::shared_ptr<MetaStore> shared_meta(std::move(*meta));

    auto objects = where.kind == StoreLocation::Kind::s3 ? open_s3(where, create, secrets)
                                                         : open_rados(where);
    if (!objects) return std::unexpected(objects.error());
    if (auto st = check_store_record(*shared_meta, where); !st) return std::unexpected(st.error());
    return Stores{std::move(*objects), std::move(shared_meta)};
}

}  // namespace itd::volume::thin
