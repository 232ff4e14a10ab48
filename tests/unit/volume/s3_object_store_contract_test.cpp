// The ObjectStore contract (object_store_contract.h) on S3ObjectStore against a real S3
// service, as S3Service.* runs (tests/cluster/s3_test.sh): skipped unless ITD_S3_ENDPOINT and
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are set. Each test works under a key prefix of its
// own in the bucket ITD_S3_BUCKET (default itd-s3-test) and removes what it left.
#include <cstdlib>

#include "object_store_contract.h"
#include "volume/store/s3_object_store.h"

namespace itd::volume::testing {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

void remove_all(ObjectStore* store) {
    if (store == nullptr) return;
    auto l = store->list("");
    if (!l) return;
    for (const ObjectInfo& o : *l) (void)store->remove(o.key);
}

StoreUnderTest make_s3_store(const std::string& test_id) {
    StoreUnderTest s;
    auto credentials = s3_credentials_from_environment();
    if (env("ITD_S3_ENDPOINT").empty() || !credentials) {
        s.skip_reason =
            "no S3 service: set ITD_S3_ENDPOINT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(tests/cluster/s3_test.sh, or eval \"$(scripts/cluster/ceph.sh env DIR)\")";
        return s;
    }
    S3Options o;
    o.endpoint = env("ITD_S3_ENDPOINT");
    o.bucket = env("ITD_S3_BUCKET").empty() ? "itd-s3-test" : env("ITD_S3_BUCKET");
    o.create_bucket = true;
    o.key_prefix = "itd-contract-" + test_id + "/";
    if (!env("AWS_DEFAULT_REGION").empty()) o.region = env("AWS_DEFAULT_REGION");
    o.credentials = *credentials;
    o.http.max_connections = 16;
    auto store = S3ObjectStore::open(std::move(o));
    if (!store) {
        s.error = store.error().message;
        return s;
    }
    // What an earlier process with this PID left under the prefix goes first.
    remove_all(store->get());
    s.store = std::move(*store);
    s.cleanup = remove_all;
    return s;
}

INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreContract,
                         ::testing::Values(StoreFactory{"S3", make_s3_store}),
                         ObjectStoreContract::name_of);

}  // namespace
}  // namespace itd::volume::testing
