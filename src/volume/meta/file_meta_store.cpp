#include "volume/meta/file_meta_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <thread>

#include "volume/store/local_files.h"

namespace itd::volume {

namespace {

constexpr std::string_view what = "meta key";
constexpr std::string_view key_extra_chars = "@";
constexpr const char* store_lock_file = ".lock";
constexpr const char* counter_file = ".revision";
constexpr const char* locks_dir = ".locks";
constexpr std::size_t max_owner_info_bytes = 64 * 1024;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// "<digits>\n" at the start of text; nullopt when malformed.
std::optional<std::uint64_t> parse_revision_line(std::string_view text, std::size_t& end) {
    end = text.find('\n');
    if (end == std::string_view::npos || end == 0) return std::nullopt;
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value);
    if (ec != std::errc() || ptr != text.data() + end) return std::nullopt;
    return value;
}

// A whole small file.
Result<std::string> read_file(int fd, std::string_view name) {
    std::string text;
    char buf[4096];
    for (off_t offset = 0;;) {
        const ssize_t n = ::pread(fd, buf, sizeof buf, offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return local::errno_fail(errno, what, name, "read");
        }
        if (n == 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
        offset += n;
    }
}

// Lock names are keys; '/' cannot be in a file name, and '%' cannot be in a key.
std::string lock_file(std::string_view name) {
    std::string path = std::string(locks_dir) + "/";
    for (char c : name) {
        if (c == '/') {
            path += "%2F";
        } else {
            path += c;
        }
    }
    return path;
}

// An exclusive OFD lock on the whole file (see the header for why OFD).
int ofd_lock(int fd, int cmd) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;  // to the end, however long the file grows
    return ::fcntl(fd, cmd, &fl);
}

class FileMetaLock final : public MetaLock {
public:
    explicit FileMetaLock(UniqueFd fd) : fd_(std::move(fd)) {}
    // Empty the file while still holding the lock, so a released lock names nobody; closing
    // the descriptor releases the lock.
    ~FileMetaLock() override { (void)::ftruncate(fd_.get(), 0); }
    bool held() const override { return true; }

private:
    UniqueFd fd_;
};

// A fence (meta_store.h) that is not held, or not a lock of a FileMetaStore.
Status check_fence(const MetaLock* fence, std::string_view key) {
    if (fence == nullptr) return {};
    if (dynamic_cast<const FileMetaLock*>(fence) == nullptr) {
        return fail(
            Errc::failed_precondition,
            "meta key \"" + std::string(key) + "\": the fence is not a lock of a file meta store");
    }
    if (!fence->held()) {
        return fail(Errc::failed_precondition,
                    "meta key \"" + std::string(key) + "\": the fencing lock was lost");
    }
    return {};
}

}  // namespace

Result<std::unique_ptr<FileMetaStore>> FileMetaStore::open(std::string root_dir) {
    auto fd = local::open_root(root_dir, "meta store");
    if (!fd) return std::unexpected(std::move(fd.error()));
    if (::mkdirat(fd->get(), locks_dir, 0755) != 0 && errno != EEXIST) {
        return local::errno_fail(errno, "meta store", root_dir + "/" + locks_dir, "mkdir");
    }
    return std::unique_ptr<FileMetaStore>(new FileMetaStore(std::move(*fd), std::move(root_dir)));
}

FileMetaStore::FileMetaStore(UniqueFd root_fd, std::string root_dir)
    : root_fd_(std::move(root_fd)), root_dir_(std::move(root_dir)) {}

Result<UniqueFd> FileMetaStore::lock_store() {
    // A descriptor of our own per transaction: OFD locks on separate opens exclude each other,
    // between threads of this process as between processes.
    UniqueFd fd(::openat(root_fd_.get(), store_lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) return local::errno_fail(errno, "meta store", store_lock_file, "open");
    while (ofd_lock(fd.get(), F_OFD_SETLKW) != 0) {
        if (errno == EINTR) continue;
        return local::errno_fail(errno, "meta store", store_lock_file, "fcntl(F_OFD_SETLKW)");
    }
    return fd;
}

Result<std::optional<MetaValue>> FileMetaStore::read_value(const std::string& key) {
    UniqueFd fd(::openat(root_fd_.get(), key.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        // Missing, or below a key ("a/b" when "a" is a key): no such key.
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        return local::errno_fail(errno, what, key, "open");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return local::errno_fail(errno, what, key, "fstat");
    if (!S_ISREG(st.st_mode)) return std::nullopt;  // a directory of keys
    auto text = read_file(fd.get(), key);
    if (!text) return std::unexpected(std::move(text.error()));
    std::size_t end = 0;
    const auto revision = parse_revision_line(*text, end);
    if (!revision || *revision == 0) {
        return fail(Errc::io_error, "meta key \"" + key + "\": file " + root_dir_ + "/" + key +
                                        " does not start with a revision line");
    }
    return MetaValue{text->substr(end + 1), *revision};
}

Result<std::uint64_t> FileMetaStore::read_counter() {
    UniqueFd fd(::openat(root_fd_.get(), counter_file, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return 0;  // a new store
        return local::errno_fail(errno, "meta store", counter_file, "open");
    }
    auto text = read_file(fd.get(), counter_file);
    if (!text) return std::unexpected(std::move(text.error()));
    std::size_t end = 0;
    const auto counter = parse_revision_line(*text, end);
    if (!counter) {
        return fail(Errc::io_error,
                    "meta store " + root_dir_ + ": " + counter_file + " does not hold a revision");
    }
    return *counter;
}

Status FileMetaStore::write_durably(const std::string& path, std::string_view content,
                                    std::string_view key) {
    const std::string dir(local::parent_dir(path));
    const std::string_view base = std::string_view(path).substr(dir.empty() ? 0 : dir.size() + 1);
    const std::string tmp =
        dir.empty() ? local::temp_name(base) : dir + "/" + local::temp_name(base);
    const int fd =
        ::openat(root_fd_.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return local::errno_fail(errno, what, key, "create temporary file");
    Status st = local::write_all(fd, as_bytes(content), what, key);
    if (st && ::fsync(fd) != 0) st = local::errno_fail(errno, what, key, "fsync");
    if (::close(fd) != 0 && st) st = local::errno_fail(errno, what, key, "close");
    if (st && ::renameat(root_fd_.get(), tmp.c_str(), root_fd_.get(), path.c_str()) != 0) {
        st = local::errno_fail(errno, what, key, "rename");
    }
    if (!st) {
        ::unlinkat(root_fd_.get(), tmp.c_str(), 0);
        return st;
    }
    return local::fsync_path(root_fd_.get(), dir, what);
}

Result<std::optional<MetaValue>> FileMetaStore::get(std::string_view key) {
    if (Status st = local::check_key(key, key_extra_chars, what); !st) {
        return std::unexpected(std::move(st.error()));
    }
    return read_value(std::string(key));
}

Result<std::uint64_t> FileMetaStore::put_if(std::string_view key, std::string_view value,
                                            std::uint64_t expected_revision,
                                            const MetaLock* fence) {
    if (Status st = local::check_key(key, key_extra_chars, what); !st) {
        return std::unexpected(std::move(st.error()));
    }
    const std::string k(key);
    auto store_lock = lock_store();
    if (!store_lock) return std::unexpected(std::move(store_lock.error()));
    if (Status st = check_fence(fence, key); !st) return std::unexpected(std::move(st.error()));

    auto current = read_value(k);
    if (!current) return std::unexpected(std::move(current.error()));
    const std::uint64_t current_revision = *current ? (*current)->revision : 0;
    if (current_revision != expected_revision) {
        return fail(Errc::conflict, "meta key \"" + k + "\": revision is " +
                                        std::to_string(current_revision) + ", expected " +
                                        std::to_string(expected_revision));
    }

    // The counter is durable before any key carries the new revision (see the header).
    auto counter = read_counter();
    if (!counter) return std::unexpected(std::move(counter.error()));
    const std::uint64_t revision = std::max(*counter, current_revision) + 1;
    if (Status st = write_durably(counter_file, std::to_string(revision) + "\n", key); !st) {
        return std::unexpected(std::move(st.error()));
    }

    std::vector<std::string> created_dirs;
    if (Status st = local::make_dirs(root_fd_.get(), local::parent_dir(k), created_dirs, what);
        !st) {
        return std::unexpected(std::move(st.error()));
    }
    std::string content = std::to_string(revision) + "\n";
    content.append(value);
    if (Status st = write_durably(k, content, key); !st) {
        return std::unexpected(std::move(st.error()));
    }
    // Each directory created is an entry in its parent; the deepest one was synced with the file.
    for (const std::string& dir : created_dirs) {
        if (Status st =
                local::fsync_path(root_fd_.get(), std::string(local::parent_dir(dir)), what);
            !st) {
            return std::unexpected(std::move(st.error()));
        }
    }
    return revision;
}

Status FileMetaStore::remove_if(std::string_view key, std::uint64_t expected_revision,
                                const MetaLock* fence) {
    if (Status st = local::check_key(key, key_extra_chars, what); !st) return st;
    const std::string k(key);
    auto store_lock = lock_store();
    if (!store_lock) return std::unexpected(std::move(store_lock.error()));
    if (Status st = check_fence(fence, key); !st) return st;

    auto current = read_value(k);
    if (!current) return std::unexpected(std::move(current.error()));
    if (!*current) return fail(Errc::not_found, "meta key \"" + k + "\": does not exist");
    if ((*current)->revision != expected_revision) {
        return fail(Errc::conflict, "meta key \"" + k + "\": revision is " +
                                        std::to_string((*current)->revision) + ", expected " +
                                        std::to_string(expected_revision));
    }
    if (::unlinkat(root_fd_.get(), k.c_str(), 0) != 0) {
        return local::errno_fail(errno, what, key, "unlink");
    }
    std::string dir(local::parent_dir(k));
    if (Status st = local::fsync_path(root_fd_.get(), dir, what); !st) return st;

    // Directories left empty go too, so a later key may take their name. Under the store lock
    // no put_if is filling them meanwhile.
    bool removed_dir = false;
    while (!dir.empty() && ::unlinkat(root_fd_.get(), dir.c_str(), AT_REMOVEDIR) == 0) {
        removed_dir = true;
        dir = std::string(local::parent_dir(dir));
    }
    if (removed_dir) return local::fsync_path(root_fd_.get(), dir, what);
    return {};
}

Result<std::vector<std::string>> FileMetaStore::list(std::string_view prefix) {
    if (Status st = local::check_prefix(prefix, key_extra_chars, "meta key prefix"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    auto files = local::list_files(root_fd_.get(), prefix, key_extra_chars, what);
    if (!files) return std::unexpected(std::move(files.error()));
    std::vector<std::string> keys;
    keys.reserve(files->size());
    for (local::FileEntry& f : *files) keys.push_back(std::move(f.key));
    return keys;
}

std::optional<std::string> FileMetaStore::read_owner_info(int fd) {
    // A new holder empties the file, then writes owner_info and a '\n'. An empty file is a
    // holder that has not written yet: give it a moment.
    for (int attempt = 0; attempt < 20; ++attempt) {
        auto text = read_file(fd, "lock");
        if (text && !text->empty()) {
            if (text->back() == '\n') text->pop_back();
            if (text->size() > max_owner_info_bytes) text->resize(max_owner_info_bytes);
            return *text;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
}

Result<std::unique_ptr<MetaLock>> FileMetaStore::lock(std::string_view name,
                                                      std::string_view owner_info) {
    if (Status st = local::check_key(name, key_extra_chars, "lock name"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    const std::string path = lock_file(name);
    UniqueFd fd(::openat(root_fd_.get(), path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) return local::errno_fail(errno, "lock", name, "open " + path);
    // A second attempt when the holder let go while we waited for its name.
    for (int attempt = 0; ofd_lock(fd.get(), F_OFD_SETLK) != 0; ++attempt) {
        const int err = errno;
        if (err != EAGAIN && err != EACCES) {
            return local::errno_fail(err, "lock", name, "fcntl(F_OFD_SETLK)");
        }
        const auto holder = read_owner_info(fd.get());
        if (!holder && attempt == 0) continue;
        return fail(Errc::failed_precondition, "lock \"" + std::string(name) + "\" is held by " +
                                                   (holder ? "\"" + *holder + "\""
                                                           : std::string("a holder that has not "
                                                                         "said who it is")));
    }
    std::string content(owner_info);
    content += '\n';
    if (::ftruncate(fd.get(), 0) != 0) return local::errno_fail(errno, "lock", name, "ftruncate");
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::pwrite(fd.get(), content.data() + done, content.size() - done,
                                   static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return local::errno_fail(errno, "lock", name, "write owner info");
        }
        done += static_cast<std::size_t>(n);
    }
    return std::unique_ptr<MetaLock>(new FileMetaLock(std::move(fd)));
}

Result<std::optional<std::string>> FileMetaStore::lock_holder(std::string_view name) {
    if (Status st = local::check_key(name, key_extra_chars, "lock name"); !st) {
        return std::unexpected(std::move(st.error()));
    }
    const std::string path = lock_file(name);
    UniqueFd fd(::openat(root_fd_.get(), path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::nullopt;  // never taken
        return local::errno_fail(errno, "lock", name, "open " + path);
    }
    // F_OFD_GETLK reports a conflicting lock without taking one.
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd.get(), F_OFD_GETLK, &fl) != 0) {
        return local::errno_fail(errno, "lock", name, "fcntl(F_OFD_GETLK)");
    }
    if (fl.l_type == F_UNLCK) return std::nullopt;
    auto holder = read_owner_info(fd.get());
    if (holder) return holder;
    // Still empty: the holder let go meanwhile, or has not written its name yet.
    fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd.get(), F_OFD_GETLK, &fl) != 0) {
        return local::errno_fail(errno, "lock", name, "fcntl(F_OFD_GETLK)");
    }
    if (fl.l_type == F_UNLCK) return std::nullopt;
    return std::optional<std::string>(std::string());
}

}  // namespace itd::volume
