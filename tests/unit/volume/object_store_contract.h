// What every ObjectStore does (object_store.h), as one value-parameterized suite that each
// store instantiates with a factory: the directory store in itd_volume_tests, RADOS in
// itd_rados_tests and S3 in itd_s3_tests (against a real cluster: tests/cluster/rados_test.sh,
// tests/cluster/s3_test.sh). The tests use only keys every store takes, and
// leave what a store adds on top of the interface (its own refusals, durability on sync, what
// happens when the service goes away) to the store's own tests.
//
//   INSTANTIATE_TEST_SUITE_P(Dir, ObjectStoreContract,
//                            ::testing::Values(StoreFactory{"Dir", make_dir_store}),
//                            ObjectStoreContract::name_of);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "volume/store/object_store.h"

namespace itd::volume::testing {

// A fresh, empty store for one test, or why there is none.
struct StoreUnderTest {
    std::unique_ptr<ObjectStore> store;
    // Run after the test, before the store is closed (store may be null); may be empty.
    std::function<void(ObjectStore* store)> cleanup;
    std::string skip_reason;  // not empty: the test is skipped (no service configured)
    std::string error;        // not empty: the test fails (the store did not open)
};

struct StoreFactory {
    std::string name;  // the instantiation's name: [A-Za-z0-9_]
    // test_id is unique per test and made of [A-Za-z0-9._-]: a directory or namespace name.
    std::function<StoreUnderTest(const std::string& test_id)> make;
};

// What gtest (and so ctest's test names) shows for the parameter.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) {
    *os << factory.name;
}

class ObjectStoreContract : public ::testing::TestWithParam<StoreFactory> {
  public:
    static std::string name_of(const ::testing::TestParamInfo<StoreFactory>& info) {
        return info.param.name;
    }

  protected:
    void SetUp() override;
    void TearDown() override;

    std::unique_ptr<ObjectStore> store_;

  private:
    std::function<void(ObjectStore*)> cleanup_;
};

}  // namespace itd::volume::testing
