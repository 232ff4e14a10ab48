#include "volume/store/dir_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "volume/store/local_files.h"

namespace itd::volume {

namespace {

constexpr std::string_view what = "object";
constexpr std::string_view key_extra_chars = "";

}  // namespace

Result<std::unique_ptr<DirObjectStore>> DirObjectStore::open(std::string root_dir) {
    auto fd = local::open_root(root_dir, "object store");
    if (!fd) return std::unexpected(std::move(fd.error()));
    return std::unique_ptr<DirObjectStore>(new DirObjectStore(std::move(*fd), std::move(root_dir)));
}

DirObjectStore::DirObjectStore(UniqueFd root_fd, std::string root_dir)
    : root_fd_(std::move(root_fd)), root_dir_(std::move(root_dir)) {}

Status DirObjectStore::put(std::string_view key, std::span<const std::uint8_t> data) {
    if (Status st = local::check_key(key, key_extra_chars, "object key"); !st) return st;
    const std::string k(key);
    std::vector<std::string> created_dirs;
    if (Status st = write_object(k, data, created_dirs); !st) return st;

    const std::lock_guard lock(mutex_);
    pending_files_.insert(k);
    pending_dirs_.insert(std::string(local::parent_dir(k)));
    // A directory this put created is an entry in its parent.
    for (const std::string& dir : created_dirs) {
        pending_dirs_.insert(std::string(local::parent_dir(dir)));
    }
    // A new file replaced the one whose fsync failed; the next sync() flushes the new one.
    failed_files_.erase(k);
    return {};
}

Status DirObjectStore::write_object(const std::string& key, std::span<const std::uint8_t> data,
                                    std::vector<std::string>& created_dirs) {
    const std::string_view dir = local::parent_dir(key);
    const std::string_view base =
        dir.empty() ? std::string_view(key) : std::string_view(key).substr(dir.size() + 1);
    const std::string tmp =
        dir.empty() ? local::temp_name(base) : std::string(dir) + "/" + local::temp_name(base);

    int fd = -1;
    for (int attempt = 0;; ++attempt) {
        fd = ::openat(root_fd_.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) break;
        const int err = errno;
        // The key's directory does not exist yet: create it (and its parents), once.
        if (err == ENOENT && attempt == 0) {
            if (Status st = local::make_dirs(root_fd_.get(), dir, created_dirs, what); !st) {
                return st;
            }
            continue;
        }
        return local::errno_fail(err, what, key, "create temporary file");
    }

    Status st = local::write_all(fd, data, what, key);
    // close() can report a deferred write error (NFS); it is part of the write.
    if (::close(fd) != 0 && st) st = local::errno_fail(errno, what, key, "close");
    if (st && ::renameat(root_fd_.get(), tmp.c_str(), root_fd_.get(), key.c_str()) != 0) {
        st = local::errno_fail(errno, what, key, "rename");
    }
    if (!st) ::unlinkat(root_fd_.get(), tmp.c_str(), 0);
    return st;
}

Result<UniqueFd> DirObjectStore::open_object(std::string_view key, std::uint64_t& size_bytes) {
    if (Status st = local::check_key(key, key_extra_chars, "object key"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    const std::string k(key);
    UniqueFd fd(::openat(root_fd_.get(), k.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        const int err = errno;
        // "a/b" when "a" is an object: there is no such key.
        return local::errno_fail(err == ENOTDIR ? ENOENT : err, what, key, "open");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return local::errno_fail(errno, what, key, "fstat");
    // A directory of keys is not an object.
    if (!S_ISREG(st.st_mode)) return local::errno_fail(ENOENT, what, key, "open");
    size_bytes = static_cast<std::uint64_t>(st.st_size);
    return fd;
}

Status DirObjectStore::get(std::string_view key, std::uint64_t offset_bytes,
                           std::span<std::uint8_t> out) {
    std::uint64_t size_bytes = 0;
    auto fd = open_object(key, size_bytes);
    if (!fd) return std::unexpected(std::move(fd.error()));
    if (offset_bytes > size_bytes || out.size() > size_bytes - offset_bytes) {
        return fail(Errc::io_error, "object \"" + std::string(key) + "\": is " +
                                        std::to_string(size_bytes) + " bytes, shorter than the " +
                                        std::to_string(out.size()) + " bytes asked for at offset " +
                                        std::to_string(offset_bytes));
    }
    return local::pread_exact(fd->get(), offset_bytes, out, what, key);
}

Result<std::vector<std::uint8_t>> DirObjectStore::get_all(std::string_view key) {
    std::uint64_t size_bytes = 0;
    auto fd = open_object(key, size_bytes);
    if (!fd) return std::unexpected(std::move(fd.error()));
    std::vector<std::uint8_t> data(size_bytes);
    if (Status st = local::pread_exact(fd->get(), 0, data, what, key); !st) {
        return std::unexpected(std::move(st.error()));
    }
    return data;
}

Status DirObjectStore::remove(std::string_view key) {
    if (Status st = local::check_key(key, key_extra_chars, "object key"); !st) return st;
    const std::string k(key);
    if (::unlinkat(root_fd_.get(), k.c_str(), 0) != 0) {
        const int err = errno;
        // Missing, below an object, or a directory of keys: no such object, which is fine.
        if (err != ENOENT && err != ENOTDIR && err != EISDIR) {
            return local::errno_fail(err, what, key, "unlink");
        }
        return {};
    }
    const std::lock_guard lock(mutex_);
    pending_files_.erase(k);
    failed_files_.erase(k);
    pending_dirs_.insert(std::string(local::parent_dir(k)));
    return {};
}

Result<std::vector<ObjectInfo>> DirObjectStore::list(std::string_view prefix) {
    if (Status st = local::check_prefix(prefix, key_extra_chars, "object key prefix"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    auto files = local::list_files(root_fd_.get(), prefix, key_extra_chars, what);
    if (!files) return std::unexpected(std::move(files.error()));
    std::vector<ObjectInfo> out;
    out.reserve(files->size());
    for (local::FileEntry& f : *files) {
        out.push_back(ObjectInfo{std::move(f.key), f.size_bytes, f.modified});
    }
    return out;
}

Status DirObjectStore::sync() {
    // One sync at a time: a sync must not return while an earlier one still flushes puts that
    // returned before it was called.
    const std::lock_guard sync_lock(sync_mutex_);
    std::set<std::string> files;
    std::set<std::string> dirs;
    {
        const std::lock_guard lock(mutex_);
        files.swap(pending_files_);
        dirs.swap(pending_dirs_);
    }

    std::optional<Error> first_error;
    // Files first, then the directories that name them (and the directories created for them),
    // deepest first.
    for (const std::string& key : files) {
        Status st = local::fsync_path(root_fd_.get(), key, what);
        if (st) continue;
        const std::lock_guard lock(mutex_);
        // A put that replaced the file meanwhile is pending again: the next sync flushes it.
        if (!pending_files_.contains(key)) failed_files_.emplace(key, st.error().message);
        if (!first_error) first_error = std::move(st.error());
    }
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
        Status st = local::fsync_path(root_fd_.get(), *it, what);
        if (st) continue;
        const std::lock_guard lock(mutex_);
        if (failed_dir_.empty()) failed_dir_ = st.error().message;
        if (!first_error) first_error = std::move(st.error());
    }
    if (first_error) return std::unexpected(std::move(*first_error));

    // An earlier sync's failure is not made good by this one (see the header).
    const std::lock_guard lock(mutex_);
    if (!failed_dir_.empty()) {
        return fail(Errc::io_error,
                    "object store " + root_dir_ + ": an earlier sync failed: " + failed_dir_);
    }
    if (!failed_files_.empty()) {
        return fail(Errc::io_error, "object store " + root_dir_ + ": an earlier sync failed: " +
                                        failed_files_.begin()->second);
    }
    return {};
}

}  // namespace itd::volume
