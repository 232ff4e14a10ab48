// A MetaStore in a local directory: the embedded default (meta_store.h). Several processes may
// use one directory at once (the daemon and an `itd volume` command), so every guarantee below
// holds across processes, not only across threads.
//
// Layout under ROOT:
//   <key>        one file per key: the decimal revision, '\n', then the value bytes
//   .lock        the store lock: put_if/remove_if hold it for their whole transaction
//   .revision    the store-wide revision counter (decimal, '\n')
//   .locks/<n>   one file per MetaLock name, '/' written as "%2F"; holds the owner_info
//
// A transaction (put_if, remove_if) takes an exclusive OFD lock on .lock (fcntl F_OFD_SETLKW),
// reads the key's revision, compares, and writes:
//
//   put_if:    .revision = r, made durable        (temp file, fsync, rename, fsync ROOT)
//              <key> = "r\n" value, made durable  (temp file, fsync, rename, fsync its directory
//                                                  and the parent of every directory created)
//   remove_if: unlink <key>, fsync its directory, remove directories left empty
//
// where r = max(counter, the key's revision) + 1. The counter is durable before any key carries
// r, so a crash between the two only skips r; a revision is never handed out twice, for any
// key, even after remove and re-create. get() takes no lock: rename() replaces a key's file
// whole, so a reader sees the old file or the new one.
//
// Why OFD locks (F_OFD_SETLK) and not flock() or classic POSIX record locks: like flock, an OFD
// lock belongs to the open file description, so two lock objects in one process (each opens its
// own file) exclude each other, and the kernel drops it when the last descriptor closes,
// including when the process dies. Unlike flock, F_OFD_GETLK asks whether a lock is held
// without taking it, so lock_holder() never makes a concurrent lock() fail. Classic POSIX locks
// belong to the process, so two lock objects in one process would not exclude each other, and
// closing any descriptor of the file drops them. A process that fork()s without exec shares
// the descriptor: the lock stays held while the child keeps it open (descriptors are
// O_CLOEXEC, so exec drops it).
//
// A lock file is never unlinked (unlinking lock files races with a process that just opened
// the old one); a released lock leaves it empty.
#pragma once

#include <memory>
#include <string>

#include "volume/file/file_volume.h"  // UniqueFd
#include "volume/meta/meta_store.h"

namespace itd::volume {

class FileMetaStore final : public MetaStore {
public:
    // root_dir must exist and be a directory: not_found when it is missing,
    // failed_precondition when it is not a directory or cannot be opened. Creates .locks/.
    static Result<std::unique_ptr<FileMetaStore>> open(std::string root_dir);

    // Keys (and lock names) follow meta_store.h, and no component may start with '.'
    // (local_files.h): failed_precondition otherwise. Because a key is a file, "a" and "a/b"
    // cannot both exist: the second put_if fails with failed_precondition.
    [[nodiscard]] Result<std::optional<MetaValue>> get(std::string_view key) override;
    // A fence must be a lock of a FileMetaStore (failed_precondition otherwise). A local lock
    // is held until its object is destroyed, so the fence only guards against a caller that
    // passes a lock whose held() is false.
    [[nodiscard]] Result<std::uint64_t> put_if(std::string_view key, std::string_view value,
                                               std::uint64_t expected_revision,
                                               const MetaLock* fence = nullptr) override;
    [[nodiscard]] Status remove_if(std::string_view key, std::uint64_t expected_revision,
                                   const MetaLock* fence = nullptr) override;
    [[nodiscard]] Result<std::vector<std::string>> list(std::string_view prefix) override;
    [[nodiscard]] Result<std::unique_ptr<MetaLock>> lock(std::string_view name,
                                                         std::string_view owner_info) override;
    [[nodiscard]] Result<std::optional<std::string>> lock_holder(std::string_view name) override;

    const std::string& root_dir() const { return root_dir_; }

private:
    FileMetaStore(UniqueFd root_fd, std::string root_dir);
    // Blocks until this caller holds the store lock; released when the descriptor closes.
    Result<UniqueFd> lock_store();
    Result<std::optional<MetaValue>> read_value(const std::string& key);
    Result<std::uint64_t> read_counter();
    // Writes content to path through a temporary file: fsync, rename, fsync of its directory.
    Status write_durably(const std::string& path, std::string_view content, std::string_view key);
    // The owner_info in an open lock file; waits briefly while a new holder has not written
    // it yet. nullopt when it is still empty.
    std::optional<std::string> read_owner_info(int fd);

    const UniqueFd root_fd_;
    const std::string root_dir_;
};

}  // namespace itd::volume
