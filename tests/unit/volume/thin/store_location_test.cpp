#include "volume/thin/store_location.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace itd::volume::thin {
namespace {

using Options = std::map<std::string, std::string>;

StoreLocation parsed(std::string_view store, const Options& options = {}) {
    auto where = parse_store_location(store, options);
    EXPECT_TRUE(where) << store << ": " << (where ? "" : where.error().message);
    return where.value_or(StoreLocation{});
}

std::string error_of(std::string_view store, const Options& options = {}) {
    auto where = parse_store_location(store, options);
    EXPECT_FALSE(where) << store;
    if (where) return "";
    EXPECT_EQ(where.error().code, Errc::invalid_argument);
    return where.error().message;
}

const Options s3_options = {{"endpoint", "http://127.0.0.1:7480/"},
                            {"meta", "etcd://127.0.0.1:2379"}};

TEST(StoreLocation, Directory) {
    const StoreLocation where = parsed("/var/lib/itd/store");
    EXPECT_EQ(where.kind, StoreLocation::Kind::directory);
    EXPECT_FALSE(where.cluster());
    EXPECT_EQ(where.directory, "/var/lib/itd/store");
    EXPECT_EQ(where.describe(), "/var/lib/itd/store");
    // A directory's own options are not the store's: the caller checks those.
    EXPECT_EQ(parsed("store", {{"page-size", "64K"}}).directory, "store");
    EXPECT_EQ(error_of("/s", {{"meta", "etcd://h:1"}}),
              "option 'meta' does not apply to a directory store");
    EXPECT_EQ(error_of(""), "empty store directory");
    EXPECT_EQ(error_of("nfs://host/export"),
              "store 'nfs://host/export': unknown scheme (use a directory, s3://BUCKET or "
              "rados://POOL)");
}

TEST(StoreLocation, S3) {
    const StoreLocation where = parsed("s3://itd-vols", s3_options);
    EXPECT_EQ(where.kind, StoreLocation::Kind::s3);
    EXPECT_EQ(where.bucket, "itd-vols");
    EXPECT_EQ(where.key_prefix, "");
    EXPECT_EQ(where.endpoint, "http://127.0.0.1:7480");  // the trailing '/' dropped
    EXPECT_EQ(where.region, "us-east-1");
    EXPECT_FALSE(where.virtual_host);
    EXPECT_EQ(where.meta_endpoints, std::vector<std::string>{"http://127.0.0.1:2379"});
    EXPECT_EQ(where.lease_ttl, std::chrono::seconds(10));
    EXPECT_EQ(where.meta_prefix, "itd/s3/itd-vols/");
    EXPECT_EQ(where.describe(), "s3://itd-vols");

    Options more = s3_options;
    more["region"] = "eu-west-1";
    more["addressing"] = "virtual";
    more["lease-ttl"] = "4s";
    more["meta"] = "etcds://h1:2379+[::1]:2380";
    const StoreLocation prefixed = parsed("s3://itd-vols/team/a", more);
    EXPECT_EQ(prefixed.key_prefix, "team/a/");
    EXPECT_EQ(prefixed.region, "eu-west-1");
    EXPECT_TRUE(prefixed.virtual_host);
    EXPECT_EQ(prefixed.lease_ttl, std::chrono::seconds(4));
    EXPECT_EQ(prefixed.meta_endpoints,
              (std::vector<std::string>{"https://h1:2379", "https://[::1]:2380"}));
    EXPECT_EQ(prefixed.meta_prefix, "itd/s3/itd-vols/team/a/");
    EXPECT_EQ(prefixed.describe(), "s3://itd-vols/team/a");

    more["meta-prefix"] = "clusters/east/";
    EXPECT_EQ(parsed("s3://itd-vols", more).meta_prefix, "clusters/east/");
}

TEST(StoreLocation, S3Errors) {
    EXPECT_EQ(error_of("s3://ab", s3_options),
              "s3 bucket 'ab' is not a bucket name (3 to 63 lowercase letters, digits, '-' and '.')");
    EXPECT_NE(error_of("s3://Itd", s3_options).find("not a bucket name"), std::string::npos);
    EXPECT_NE(error_of("s3://itd-vols//a", s3_options).find("s3 key prefix"), std::string::npos);
    EXPECT_EQ(error_of("s3://itd-vols", {{"meta", "etcd://h:1"}}),
              "s3://itd-vols needs endpoint=http(s)://HOST:PORT (the S3 service)");
    EXPECT_EQ(error_of("s3://itd-vols", {{"endpoint", "http://h:1"}}),
              "s3://itd-vols needs meta=etcd://HOST:PORT (where its superblocks and leases live)");
    Options bad = s3_options;
    bad["endpoint"] = "ftp://h:1";
    EXPECT_EQ(error_of("s3://itd-vols", bad),
              "endpoint 'ftp://h:1' is not http(s)://HOST:PORT (e.g. endpoint=http://127.0.0.1:7480)");
    bad = s3_options;
    bad["addressing"] = "dns";
    EXPECT_EQ(error_of("s3://itd-vols", bad), "addressing 'dns' is not path or virtual");
    bad = s3_options;
    bad["ceph-conf"] = "/etc/ceph/ceph.conf";
    EXPECT_EQ(error_of("s3://itd-vols", bad),
              "option 'ceph-conf' does not apply to an s3:// store");
}

TEST(StoreLocation, Meta) {
    Options options = s3_options;
    for (const char* bad : {"etcd://", "etcd://h", "etcd://h:0", "etcd://h:65536", "etcd://:1",
                            "etcd://h:1+", "etcd://h:1+h:1", "http://h:1", "etcd://::1:2379",
                            "etcd://[::1]2379", "etcd://h :1"}) {
        options["meta"] = bad;
        EXPECT_NE(error_of("s3://itd-vols", options).find("meta '"), std::string::npos) << bad;
    }
    for (const char* bad : {"0", "1", "3601", "ten", "5m", ""}) {
        options = s3_options;
        options["lease-ttl"] = bad;
        EXPECT_FALSE(parse_store_location("s3://itd-vols", options)) << bad;
    }
}

TEST(StoreLocation, Rados) {
    const StoreLocation where = parsed("rados://rbd", {{"meta", "etcd://h:1"}});
    EXPECT_EQ(where.kind, StoreLocation::Kind::rados);
    EXPECT_EQ(where.pool, "rbd");
    EXPECT_EQ(where.rados_namespace, "");
    EXPECT_EQ(where.ceph_conf, "");
    EXPECT_EQ(where.ceph_user, "admin");
    EXPECT_EQ(where.meta_prefix, "itd/rados/rbd/");

    const StoreLocation ns = parsed(
        "rados://rbd/team-a", {{"meta", "etcd://h:1"}, {"ceph-conf", "/c"}, {"ceph-user", "itd"}});
    EXPECT_EQ(ns.rados_namespace, "team-a");
    EXPECT_EQ(ns.ceph_conf, "/c");
    EXPECT_EQ(ns.ceph_user, "itd");
    EXPECT_EQ(ns.meta_prefix, "itd/rados/rbd/team-a/");
    EXPECT_EQ(ns.describe(), "rados://rbd/team-a");

    EXPECT_NE(error_of("rados://rbd/a/b", {{"meta", "etcd://h:1"}}).find("one level"),
              std::string::npos);
    EXPECT_NE(error_of("rados://", {{"meta", "etcd://h:1"}}).find("rados pool ''"),
              std::string::npos);
    EXPECT_EQ(error_of("rados://rbd", {{"meta", "etcd://h:1"}, {"ceph-user", "client.admin"}}),
              "ceph-user 'client.admin' is not a cephx user id (without client.)");
    EXPECT_EQ(error_of("rados://rbd", {{"meta", "etcd://h:1"}, {"region", "x"}}),
              "option 'region' does not apply to a rados:// store");
}

TEST(StoreLocation, SplitStoreVolume) {
    using Pair = std::pair<std::string, std::string>;
    EXPECT_EQ(split_store_volume("/var/lib/itd/vol0").value(), (Pair{"/var/lib/itd", "vol0"}));
    EXPECT_EQ(split_store_volume("/vol0").value(), (Pair{"/", "vol0"}));
    EXPECT_EQ(split_store_volume("s3://bucket/p/vol0").value(), (Pair{"s3://bucket/p", "vol0"}));
    EXPECT_EQ(split_store_volume("rados://pool/vol0").value(), (Pair{"rados://pool", "vol0"}));
    for (const char* bad : {"vol0", "/store/", "s3://vol0", "rados://vol0", ""})
        EXPECT_FALSE(split_store_volume(bad)) << bad;
}

}  // namespace
}  // namespace itd::volume::thin
