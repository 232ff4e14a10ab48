// What the two stores kept in a local directory share (dir_object_store.h, file_meta_store.h):
// the key grammar, turning a key into a path below the root without ever leaving it, temporary
// file names, a recursive listing, and small POSIX wrappers that say which key failed and why.
//
// Every path here is relative to the store's root directory and used with the *at() calls on
// the root's file descriptor, so a store keeps working on the directory it opened.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "volume/file/file_volume.h"  // UniqueFd

namespace itd::volume::local {

// Longest key component: a temporary file name adds about 30 characters to it, and the
// result must stay below NAME_MAX (255).
inline constexpr std::size_t max_component_bytes = 200;
inline constexpr std::size_t max_key_bytes = 1024;

// Checks key against the stores' grammar: components of [A-Za-z0-9._-] (plus extra_chars)
// separated by single '/', no leading or trailing '/', no empty component. A component may not
// start with '.': that rules out "." and ".." (no key escapes the root) and keeps the names
// the stores use for themselves (temporary files, .lock, .locks/, .revision) apart from keys.
// what names the store in the message ("object key"). failed_precondition when it is bad.
Status check_key(std::string_view key, std::string_view extra_chars, std::string_view what);

// A list() prefix: empty, or a key prefix (the same characters; the part before its last '/'
// must be whole valid components).
Status check_prefix(std::string_view prefix, std::string_view extra_chars, std::string_view what);

// The directory part of a relative path: "a/b" for "a/b/c", "" (the root) for "c".
std::string_view parent_dir(std::string_view path);

// ENOENT -> not_found; ENOTDIR, EISDIR (a key and a directory of keys share a name),
// ENAMETOOLONG, EACCES, EPERM and EROFS -> failed_precondition; anything else (EIO, ENOSPC, ...) ->
// io_error. The message names the key, the call and strerror(err). Readers treat ENOTDIR as "no
// such key".
std::unexpected<Error> errno_fail(int err, std::string_view what, std::string_view key,
                                  std::string_view call);

// Opens root_dir as a directory (O_DIRECTORY): not_found when it is missing,
// failed_precondition when it is not a directory or cannot be opened.
Result<UniqueFd> open_root(const std::string& root_dir, std::string_view what);

// A name for a temporary file next to base: ".~<base>~<pid>~<counter>", unique in this
// process (a process-wide counter) and among processes (the pid). It starts with '.' and
// holds '~', so it is never a valid key and list() never shows it.
std::string temp_name(std::string_view base);

// Creates each missing directory of dir (relative to the root). Appends to created every
// directory it made, parents first, so the caller can make those entries durable.
Status make_dirs(int root_fd, std::string_view dir, std::vector<std::string>& created,
                 std::string_view what);

// Writes all of data to fd (restarting on EINTR and short writes).
Status write_all(int fd, std::span<const std::uint8_t> data, std::string_view what,
                 std::string_view key);

// Reads exactly out.size() bytes at offset; io_error on end of file.
Status pread_exact(int fd, std::uint64_t offset_bytes, std::span<std::uint8_t> out,
                   std::string_view what, std::string_view key);

// fsync of the file or directory at path ("" is the root). A missing path is not an error:
// it was removed since, and its directory's fsync makes that durable.
Status fsync_path(int root_fd, const std::string& path, std::string_view what);

struct FileEntry {
    std::string key;
    std::uint64_t size_bytes = 0;
    std::chrono::system_clock::time_point modified;
};

// Every regular file below the root whose relative path starts with prefix, in ascending key
// order. Names that are not valid key components (temporary and dot files) are skipped, and
// so are symbolic links and anything else that is neither a file nor a directory.
Result<std::vector<FileEntry>> list_files(int root_fd, std::string_view prefix,
                                          std::string_view extra_chars, std::string_view what);

}  // namespace itd::volume::local
