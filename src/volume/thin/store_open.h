// Opens the stores a StoreLocation (store_location.h) names: a local directory (local_store.h),
// or an S3 bucket or RADOS pool for the objects with etcd for the metadata.
#pragma once

#include <string>

#include "common/status.h"
#include "volume/spec.h"
#include "volume/thin/store_location.h"
#include "volume/thin/thin_volume.h"

namespace itd::volume::thin {

// With create, makes what is missing: the directories, the S3 bucket (a RADOS pool is never
// created: that is the Ceph administrator's choice of placement and replication). A cluster
// store's metadata records the object store it belongs to under the key "store"; opening the
// same metadata prefix with another object store is failed_precondition.
[[nodiscard]] Result<Stores> open_stores(const StoreLocation& where, bool create,
                                         const StoreSecrets& secrets = {});

}  // namespace itd::volume::thin
