// The MetaStore conformance suite (meta_store_conformance.h) on FileMetaStore.
#include "meta_store_conformance.h"

#include <filesystem>

#include "volume/meta/file_meta_store.h"

namespace itd::volume::testing {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test; every open() is another FileMetaStore object on it.
class FileEnv final : public MetaStoreEnv {
  public:
    FileEnv() {
        static std::atomic<int> counter{0};
        root_ = fs::temp_directory_path() / ("itd-meta-conformance-" + std::to_string(::getpid()) +
                                             "-" + std::to_string(counter++));
        fs::remove_all(root_);
        fs::create_directories(root_);
    }
    ~FileEnv() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    std::unique_ptr<MetaStore> open() override {
        auto s = FileMetaStore::open(root_.string());
        EXPECT_TRUE(s.has_value()) << s.error().message;
        return s ? std::move(*s) : nullptr;
    }
    std::chrono::milliseconds lock_release_delay() const override {
        return std::chrono::milliseconds(0);
    }

  private:
    fs::path root_;
};

INSTANTIATE_TEST_SUITE_P(File, MetaStoreConformance,
                         ::testing::Values(MetaStoreKind{
                             "File", [](std::string&) { return std::make_unique<FileEnv>(); }}),
                         meta_store_kind_name);

}  // namespace
}  // namespace itd::volume::testing
