#include "volume/store/local_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace itd::volume::local {

namespace {

bool valid_char(char c, std::string_view extra_chars) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || extra_chars.find(c) != std::string_view::npos;
}

// Why component is not a valid key component, or nullptr when it is. partial: the last,
// unfinished component of a prefix (may be empty, may be a leading part of a longer name).
const char* component_problem(std::string_view component, std::string_view extra_chars,
                              bool partial) {
    if (component.empty()) return partial ? nullptr : "has an empty component";
    if (component.front() == '.') return "has a component that starts with '.'";
    if (component.size() > max_component_bytes) return "has a component longer than 200 bytes";
    for (char c : component) {
        if (!valid_char(c, extra_chars)) return "has a character outside [A-Za-z0-9._/-]";
    }
    return nullptr;
}

std::unexpected<Error> bad_key(std::string_view what, std::string_view key, const char* problem) {
    return fail(Errc::failed_precondition,
                std::string(what) + " \"" + std::string(key) + "\" " + problem);
}

Status check_components(std::string_view key, std::string_view extra_chars, std::string_view what,
                        bool last_partial) {
    if (key.size() > max_key_bytes) return bad_key(what, key, "is longer than 1024 bytes");
    if (!key.empty() && key.front() == '/') return bad_key(what, key, "starts with '/'");
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = key.find('/', start);
        const bool last = slash == std::string_view::npos;
        const std::string_view component =
            key.substr(start, last ? std::string_view::npos : slash - start);
        if (const char* problem = component_problem(component, extra_chars, last && last_partial)) {
            // Name '@' in the message only for the store that allows it.
            if (extra_chars.find('@') != std::string_view::npos &&
                std::strcmp(problem, "has a character outside [A-Za-z0-9._/-]") == 0) {
                problem = "has a character outside [A-Za-z0-9._@/-]";
            }
            return bad_key(what, key, problem);
        }
        if (last) return {};
        start = slash + 1;
    }
}

std::chrono::system_clock::time_point to_time_point(const struct timespec& ts) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

// True when some key below directory dir (relative path, "" for the root) can start with
// prefix: the directory lies on the prefix's path, or the prefix ends inside it.
bool may_hold_prefix(const std::string& dir, std::string_view prefix) {
    const std::string with_slash = dir.empty() ? std::string() : dir + "/";
    const std::size_t n = std::min(with_slash.size(), prefix.size());
    return std::string_view(with_slash).substr(0, n) == prefix.substr(0, n);
}

Status list_dir(int root_fd, const std::string& dir, std::string_view prefix,
                std::string_view extra_chars, std::string_view what, std::vector<FileEntry>& out) {
    const int fd =
        ::openat(root_fd, dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        // The prefix names a directory that does not exist (or was removed meanwhile).
        if (err == ENOENT || err == ENOTDIR) return {};
        return errno_fail(err, what, dir + "/", "open directory");
    }
    DIR* d = ::fdopendir(fd);  // owns fd from here on
    if (d == nullptr) {
        const int err = errno;
        ::close(fd);
        return errno_fail(err, what, dir + "/", "fdopendir");
    }
    Status result;
    while (true) {
        errno = 0;
        const dirent* entry = ::readdir(d);
        if (entry == nullptr) {
            if (errno != 0) result = errno_fail(errno, what, dir + "/", "readdir");
            break;
        }
        const std::string_view name(entry->d_name);
        if (component_problem(name, extra_chars, false) != nullptr) continue;
        const std::string path = dir.empty() ? std::string(name) : dir + "/" + std::string(name);
        if (!may_hold_prefix(path, prefix) && !std::string_view(path).starts_with(prefix)) {
            continue;
        }
        struct stat st {};
        if (::fstatat(::dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;  // removed while we listed
            result = errno_fail(errno, what, path, "fstatat");
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if (!may_hold_prefix(path, prefix)) continue;
            result = list_dir(root_fd, path, prefix, extra_chars, what, out);
            if (!result) break;
        } else if (S_ISREG(st.st_mode) && std::string_view(path).starts_with(prefix)) {
            out.push_back(
                FileEntry{path, static_cast<std::uint64_t>(st.st_size), to_time_point(st.st_mtim)});
        }
    }
    ::closedir(d);
    return result;
}

}  // namespace

Status check_key(std::string_view key, std::string_view extra_chars, std::string_view what) {
    if (key.empty()) return bad_key(what, key, "is empty");
    return check_components(key, extra_chars, what, false);
}

Status check_prefix(std::string_view prefix, std::string_view extra_chars, std::string_view what) {
    if (prefix.empty()) return {};
    return check_components(prefix, extra_chars, what, true);
}

std::string_view parent_dir(std::string_view path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::unexpected<Error> errno_fail(int err, std::string_view what, std::string_view key,
                                  std::string_view call) {
    Errc code = Errc::io_error;
    switch (err) {
        case ENOENT:
            code = Errc::not_found;
            break;
        case ENOTDIR:
        case EISDIR:
        case ENAMETOOLONG:
        // Permissions and a read-only file system: retrying will not help, and the medium
        // has not failed.
        case EACCES:
        case EPERM:
        case EROFS:
            code = Errc::failed_precondition;
            break;
        default:
            break;
    }
    std::string message = std::string(what) + " \"" + std::string(key) +
                          "\": " + std::string(call) + ": " + std::strerror(err);
    if (err == ENOTDIR || err == EISDIR) {
        message += " (a key and a directory of keys cannot share a name)";
    }
    return fail(code, std::move(message));
}

Result<UniqueFd> open_root(const std::string& root_dir, std::string_view what) {
    if (root_dir.empty())
        return fail(Errc::failed_precondition, std::string(what) + ": empty path");
    UniqueFd fd(::open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) {
        const int err = errno;
        const std::string message = std::string(what) + " " + root_dir + ": " +
                                    (err == ENOTDIR ? "not a directory" : std::strerror(err));
        return fail(err == ENOENT ? Errc::not_found : Errc::failed_precondition, message);
    }
    return fd;
}

std::string temp_name(std::string_view base) {
    static std::atomic<std::uint64_t> counter{0};
    return ".~" + std::string(base) + "~" + std::to_string(::getpid()) + "~" +
           std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

Status make_dirs(int root_fd, std::string_view dir, std::vector<std::string>& created,
                 std::string_view what) {
    if (dir.empty()) return {};
    std::size_t end = 0;
    while (end != std::string_view::npos) {
        end = dir.find('/', end + 1);
        const std::string path(dir.substr(0, end));
        if (::mkdirat(root_fd, path.c_str(), 0755) == 0) {
            created.push_back(path);
        } else if (errno != EEXIST) {
            return errno_fail(errno, what, path + "/", "mkdir");
        }
    }
    return {};
}

Status write_all(int fd, std::span<const std::uint8_t> data, std::string_view what,
                 std::string_view key) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_fail(errno, what, key, "write");
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status pread_exact(int fd, std::uint64_t offset_bytes, std::span<std::uint8_t> out,
                   std::string_view what, std::string_view key) {
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::pread(fd, out.data() + done, out.size() - done,
                                  static_cast<off_t>(offset_bytes + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_fail(errno, what, key, "pread");
        }
        if (n == 0) {
            return fail(Errc::io_error, std::string(what) + " \"" + std::string(key) +
                                            "\": ends before byte " +
                                            std::to_string(offset_bytes + out.size()));
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status fsync_path(int root_fd, const std::string& path, std::string_view what) {
    const int fd = ::openat(root_fd, path.empty() ? "." : path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return {};
        return errno_fail(errno, what, path, "open for fsync");
    }
    const UniqueFd owner(fd);
    if (::fsync(fd) != 0) return errno_fail(errno, what, path.empty() ? "/" : path, "fsync");
    return {};
}

Result<std::vector<FileEntry>> list_files(int root_fd, std::string_view prefix,
                                          std::string_view extra_chars, std::string_view what) {
    std::vector<FileEntry> out;
    // Start in the deepest directory the prefix names whole: "a/b/c" lists below "a/b".
    const std::string start(parent_dir(prefix));
    if (Status st = list_dir(root_fd, start, prefix, extra_chars, what, out); !st) {
        return std::unexpected(std::move(st.error()));
    }
    std::sort(out.begin(), out.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.key < b.key; });
    return out;
}

}  // namespace itd::volume::local
