// Where a thin volume's pages and map segments live (DESIGN.md "Thin volume format"): a flat
// namespace of immutable objects. Embedded default: a local directory (dir_object_store.h);
// for a cluster: S3 or RADOS.
//
// The interface is blocking and thread-safe: the thin engine calls it from its own bounded
// pools (uploads, fetches), never from a connection's thread. Each call returns when the store
// has answered; a cluster implementation keeps its connections pooled behind it.
//
// Errors say how to retry (common/status.h): unavailable (retry the call: the service is
// down or timed out), not_found (no such key), io_error (the store failed and will not do
// better on a retry), failed_precondition (a request that cannot succeed as asked).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace itd::volume {

struct ObjectInfo {
    std::string key;
    std::uint64_t size_bytes = 0;
    std::chrono::system_clock::time_point modified;  // when it was stored
};

class ObjectStore {
public:
    virtual ~ObjectStore() = default;

    // Stores data under key. Keys are written once by the engine (each names new data), but a
    // put over an existing key replaces it whole: a reader sees the old or the new object,
    // never a mix. Keys are ASCII [A-Za-z0-9._/-], no leading '/', no empty component.
    // Durable only after a later sync() has returned.
    [[nodiscard]] virtual Status put(std::string_view key, std::span<const std::uint8_t> data) = 0;

    // Stores data under a key that must be new (the engine's pages and map segments: each key
    // names data never stored before). A key that exists already holding exactly data (a put
    // retried after its answer was lost) is success; holding anything else, conflict, and the
    // object stays as it was: a second writer can never replace an object under a volume's
    // map. S3 refuses the overwrite with a conditional PUT (If-None-Match: *; a service
    // that ignores the header stores as put does), RADOS with an exclusive create. This
    // default checks for the key first, then puts: for a store one process writes (a local
    // directory, whose volumes' owners hold a lock).
    [[nodiscard]] virtual Status put_new(std::string_view key, std::span<const std::uint8_t> data);

    // Reads out.size() bytes at offset_bytes of the object. not_found when the key is missing;
    // io_error when the object is shorter than offset_bytes + out.size().
    [[nodiscard]] virtual Status get(std::string_view key, std::uint64_t offset_bytes,
                                     std::span<std::uint8_t> out) = 0;

    // Reads a whole object.
    [[nodiscard]] virtual Result<std::vector<std::uint8_t>> get_all(std::string_view key) = 0;

    // Deletes the object; a missing key is not an error.
    [[nodiscard]] virtual Status remove(std::string_view key) = 0;

    // Every object whose key starts with prefix, in ascending key order.
    [[nodiscard]] virtual Result<std::vector<ObjectInfo>> list(std::string_view prefix) = 0;

    // Makes every put that returned before this call durable (survives a crash of this process
    // and of the machine). A store whose put is durable on return does nothing.
    [[nodiscard]] virtual Status sync() = 0;

protected:
    // put_new's answer once the key turned out to exist: success when it holds data.
    Status existing_matches(std::string_view key, std::span<const std::uint8_t> data);
};

}  // namespace itd::volume
