// The ObjectStore contract (object_store_contract.h) on the directory store, each test in a
// fresh directory under the system's temporary directory.
#include <filesystem>

#include "object_store_contract.h"
#include "volume/store/dir_object_store.h"

namespace itd::volume::testing {
namespace {

namespace fs = std::filesystem;

StoreUnderTest make_dir_store(const std::string& test_id) {
    const fs::path dir = fs::temp_directory_path() / ("itd-dir-contract-" + test_id);
    fs::remove_all(dir);
    fs::create_directories(dir);
    StoreUnderTest s;
    s.cleanup = [dir](ObjectStore*) { fs::remove_all(dir); };
    auto store = DirObjectStore::open(dir.string());
    if (!store) {
        s.error = store.error().message;
        return s;
    }
    s.store = std::move(*store);
    return s;
}

INSTANTIATE_TEST_SUITE_P(Dir, ObjectStoreContract,
                         ::testing::Values(StoreFactory{"Dir", make_dir_store}),
                         ObjectStoreContract::name_of);

}  // namespace
}  // namespace itd::volume::testing
