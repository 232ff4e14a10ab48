#include "volume/thin/local_store.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "volume/meta/file_meta_store.h"
#include "volume/store/dir_object_store.h"

namespace itd::volume::thin {

std::string process_owner_info(std::string_view program) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '?';
    return std::string(program) + " pid " + std::to_string(getpid()) + " on " + host;
}

Result<Stores> open_local_store(const std::string& dir, bool create) {
    namespace fs = std::filesystem;
    const fs::path root(dir);
    for (const char* sub : {"objects", "meta"}) {
        std::error_code ec;
        const fs::path path = root / sub;
        if (fs::is_directory(path, ec)) continue;
        if (!create) {
            return fail(Errc::not_found,
                        "store " + dir + " does not exist or is not an itd store (no " + sub +
                            "/ directory); give size= to create a volume, or see `itd volume "
                            "create`");
        }
        fs::create_directories(path, ec);
        if (ec) {
            return fail(Errc::io_error,
                        "store " + dir + ": cannot create " + path.string() + ": " + ec.message());
        }
    }
    auto objects = DirObjectStore::open(dir);
    if (!objects) return std::unexpected(objects.error());
    auto meta = FileMetaStore::open((root / "meta").string());
    if (!meta) return std::unexpected(meta.error());
    return Stores{std::shared_ptr<ObjectStore>(std::move(*objects)),
                  std::shared_ptr<MetaStore>(std::move(*meta))};
}

}  // namespace itd::volume::thin
