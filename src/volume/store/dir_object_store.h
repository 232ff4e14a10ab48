// An ObjectStore in a local directory: the embedded default (object_store.h). Key "a/b/c" is
// the file ROOT/a/b/c.
//
// put writes a temporary file next to the key (local_files.h: temp_name, never a valid key, so
// list() does not show it), then rename()s it over the key: a reader that opened the old file
// keeps reading the old object, a later one sees the new one, nobody sees a mix.
//
// put does not fsync. It records the file and every directory whose entries changed (the
// key's directory, each directory it had to create and that directory's parent); sync()
// fsyncs those files first, then those directories, and returns at once when nothing is
// pending. Syncs run one at a time, so a sync that returns covers every put that returned
// before it started, including puts an earlier, concurrent sync was still flushing.
//
// A failed fsync is not retried into a false success: Linux may drop the dirty pages and
// report the error once, so a later fsync of the same file can pass although the data is gone.
// A key whose fsync failed stays failed: every later sync() returns io_error naming it until
// the key is put again or removed. A failed directory fsync fails every later sync().
//
// remove() unlinks and, like put, leaves the directory to the next sync(); empty directories
// stay. Temporary files of a process that crashed mid-put stay too (".~*~<pid>~<n>").
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "volume/file/file_volume.h"  // UniqueFd
#include "volume/store/object_store.h"

namespace itd::volume {

class DirObjectStore final : public ObjectStore {
public:
    // root_dir must exist and be a directory: not_found when it is missing,
    // failed_precondition when it is not a directory or cannot be opened.
    static Result<std::unique_ptr<DirObjectStore>> open(std::string root_dir);

    // Keys follow object_store.h, and no component may start with '.' (local_files.h):
    // failed_precondition otherwise. A key that clashes with a directory of keys ("a" when
    // "a/b" exists, or "a/b" when "a" exists) fails put with failed_precondition.
    [[nodiscard]] Status put(std::string_view key, std::span<const std::uint8_t> data) override;
    [[nodiscard]] Status get(std::string_view key, std::uint64_t offset_bytes,
                             std::span<std::uint8_t> out) override;
    [[nodiscard]] Result<std::vector<std::uint8_t>> get_all(std::string_view key) override;
    [[nodiscard]] Status remove(std::string_view key) override;
    [[nodiscard]] Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
    [[nodiscard]] Status sync() override;

    const std::string& root_dir() const { return root_dir_; }

private:
    DirObjectStore(UniqueFd root_fd, std::string root_dir);
    Status write_object(const std::string& key, std::span<const std::uint8_t> data,
                        std::vector<std::string>& created_dirs);
    // Opens the key for reading: not_found when missing or not a regular file.
    Result<UniqueFd> open_object(std::string_view key, std::uint64_t& size_bytes);

    const UniqueFd root_fd_;
    const std::string root_dir_;

    std::mutex sync_mutex_;                // one sync() at a time; taken before mutex_
    std::mutex mutex_;                     // guards what follows
    std::set<std::string> pending_files_;  // keys put since the last sync took them
    std::set<std::string> pending_dirs_;   // directories ("" is the root) changed since then
    std::map<std::string, std::string> failed_files_;  // key -> why its fsync failed
    std::string failed_dir_;  // why a directory fsync failed; empty while none has
};

}  // namespace itd::volume
