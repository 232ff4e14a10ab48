#include "volume/store/object_store.h"

#include <algorithm>

namespace itd::volume {

Status ObjectStore::put_new(std::string_view key, std::span<const std::uint8_t> data) {
    Status there = existing_matches(key, data);
    if (there || there.error().code != Errc::not_found) return there;
    return put(key, data);
}

Status ObjectStore::existing_matches(std::string_view key, std::span<const std::uint8_t> data) {
    auto existing = get_all(key);
    if (!existing) return std::unexpected(std::move(existing.error()));
    if (std::equal(existing->begin(), existing->end(), data.begin(), data.end())) return {};
    return fail(Errc::conflict, "object \"" + std::string(key) +
                                    "\" exists already with other contents (" +
                                    std::to_string(existing->size()) + " bytes); not replaced");
}

}  // namespace itd::volume
