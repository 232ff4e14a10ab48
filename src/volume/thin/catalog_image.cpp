// Raw images in and out of a thin volume store: `itd volume export` and `itd volume import`.
//
// Export reads the stores directly (a committed generation is immutable: nothing to lock), so
// it also exports snapshots and volumes an itd is serving (as of their last commit). Import
// writes through the engine (ThinVolume), which takes the volume's lock: a volume is never
// written by two processes, and the pages and commits are exactly the ones an itd would write.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <vector>

#include "volume/thin/catalog.h"
#include "volume/thin/catalog_read.h"

namespace itd::volume::thin {

using namespace catalog_detail;

namespace {

std::unexpected<Error> file_error(const std::string& path, const std::string& what) {
    return fail(Errc::io_error, path + ": " + what + ": " + std::strerror(errno));
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    // close() reports the last write-back errors of some file systems (NFS): check it.
    int close() {
        const int rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }

private:
    int fd_;
};

Status write_all(int fd, const std::uint8_t* data, std::size_t n, std::uint64_t offset,
                 const std::string& path) {
    while (n > 0) {
        const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
        if (w < 0) {
            if (errno == EINTR) continue;
            return file_error(path, "write");
        }
        data += w;
        n -= static_cast<std::size_t>(w);
        offset += static_cast<std::uint64_t>(w);
    }
    return {};
}

// Reads up to n bytes; fewer only at the end of the file.
Result<std::size_t> read_full(int fd, std::uint8_t* data, std::size_t n, std::uint64_t offset,
                              const std::string& path) {
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, data + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0) {
            if (errno == EINTR) continue;
            return file_error(path, "read");
        }
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
    }
    return got;
}

bool all_zero(std::span<const std::uint8_t> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

Status export_volume(const Stores& stores, const VolumeRef& what, const std::string& path,
                     const Progress& progress) {
    const std::string name = what.text();
    const bool is_snapshot = !what.snapshot.empty();
    const std::string label = (is_snapshot ? "snapshot " : "volume ") + name;
    auto stored = read_superblock(
        *stores.meta,
        is_snapshot ? snapshot_key(what.volume, what.snapshot) : volume_key(what.volume), label);
    if (!stored) return std::unexpected(stored.error());
    if (!*stored) {
        return fail(Errc::not_found, label + " does not exist (`itd volume " +
                                         (is_snapshot ? "snapshots " + what.volume : "list") +
                                         "` shows what does)");
    }
    const Superblock& sb = (*stored)->sb;

    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) return file_error(path, "cannot open for writing");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return file_error(path, "stat");
    // A regular file becomes a sparse image: emptied, then sized, so unmapped pages are holes.
    // A block device keeps its size: unmapped pages are written as zeros there.
    const bool regular = S_ISREG(st.st_mode);
    if (regular) {
        if (::ftruncate(fd.get(), 0) != 0 ||
            ::ftruncate(fd.get(), static_cast<off_t>(sb.size_bytes)) != 0) {
            return file_error(
                path, "cannot size the image to " + std::to_string(sb.size_bytes) + " bytes");
        }
    }

    const std::uint64_t page_bytes = sb.page_size_bytes;
    std::vector<std::uint8_t> buffer(page_bytes);
    const std::vector<std::uint8_t> zeros(regular ? 0 : page_bytes, 0);
    std::uint64_t done_bytes = 0;
    const auto report = [&](std::uint64_t bytes) {
        done_bytes = std::min(sb.size_bytes, done_bytes + bytes);
        if (progress) progress(done_bytes, sb.size_bytes);
    };
    for (std::uint64_t s = 0; s < sb.segments.size(); ++s) {
        const std::uint64_t first = s * sb.pages_per_segment;
        const std::uint64_t end =
            std::min<std::uint64_t>(first + sb.pages_per_segment, sb.page_count());
        if (sb.segments[s].tag == 0) {
            for (std::uint64_t page = first; page < end && !regular; ++page) {
                const std::uint64_t at = page * page_bytes;
                const std::size_t n = std::min(page_bytes, sb.size_bytes - at);
                if (auto ok = write_all(fd.get(), zeros.data(), n, at, path); !ok) return ok;
            }
            report((end - first) * page_bytes);
            continue;
        }
        auto segment = read_segment(*stores.objects, sb, s, label);
        if (!segment) return std::unexpected(segment.error());
        for (std::uint64_t page = first; page < end; ++page) {
            const PageRef& ref = segment->entries[page - first];
            const std::uint64_t at = page * page_bytes;
            const std::size_t n = std::min(page_bytes, sb.size_bytes - at);
            if (!ref.mapped()) {
                if (!regular) {
                    if (auto ok = write_all(fd.get(), zeros.data(), n, at, path); !ok) return ok;
                }
                report(page_bytes);
                continue;
            }
            if (ref.length_bytes != page_bytes) {
                return fail(Errc::io_error,
                            label + ": page " + std::to_string(page) + " is mapped to " +
                                std::to_string(ref.length_bytes) + " bytes, not a whole page");
            }
            const std::string key = object_key(ref.tag, ref.id);
            if (auto got = stores.objects->get(key, ref.offset_bytes, buffer); !got) {
                return fail(got.error().code, label + ": page " + std::to_string(page) +
                                                  " (object " + key + "): " + got.error().message);
            }
            if (crc32c(buffer) != ref.crc32c) {
                return fail(Errc::io_error, label + ": page " + std::to_string(page) + " (object " +
                                                key +
                                                ") does not match its CRC32C: the store "
                                                "holds damaged data");
            }
            if (auto ok = write_all(fd.get(), buffer.data(), n, at, path); !ok) return ok;
            report(page_bytes);
        }
    }
    if (::fsync(fd.get()) != 0 && regular) return file_error(path, "fsync");
    if (fd.close() != 0) return file_error(path, "close");
    return {};
}

namespace {

// At most this many writes in flight into the engine: enough to keep its cache busy.
constexpr std::size_t kWritesInFlight = 8;

// Waits for the engine's completions of the writes in flight and keeps the first error.
class InFlight {
public:
    // Waits until fewer than limit writes are in flight.
    void wait_below(std::size_t limit) {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return count_ < limit; });
    }
    void started() {
        std::lock_guard lock(mutex_);
        ++count_;
    }
    void finished(Status st) {
        std::lock_guard lock(mutex_);
        --count_;
        if (!st && status_) status_ = std::move(st);
        cv_.notify_all();
    }
    Status status() {
        std::lock_guard lock(mutex_);
        return status_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t count_ = 0;
    Status status_;
};

Status wait_for(std::move_only_function<void(Completion)> start) {
    std::promise<Status> promise;
    auto result = promise.get_future();
    start([&promise](Status st) { promise.set_value(std::move(st)); });
    return result.get();
}

Result<bool> any_mapped(ThinVolume& vol, std::uint64_t offset_bytes, std::uint64_t length_bytes) {
    std::promise<Result<bool>> promise;
    auto result = promise.get_future();
    vol.lba_status(offset_bytes, length_bytes, [&promise](Result<std::vector<LbaExtent>> extents) {
        if (!extents) {
            promise.set_value(std::unexpected(extents.error()));
            return;
        }
        bool mapped = false;
        for (const LbaExtent& e : *extents) mapped = mapped || e.mapped;
        promise.set_value(mapped);
    });
    return result.get();
}

}  // namespace

Status import_volume(const Stores& stores, std::string_view volume, const std::string& path,
                     const std::optional<CreateParams>& create, const Progress& progress) {
    if (auto ok = check_name("volume", volume); !ok) return ok;
    const std::string name(volume);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return file_error(path, "cannot open");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return file_error(path, "stat");
    if (!S_ISREG(st.st_mode)) {
        return fail(Errc::invalid_argument,
                    path + ": not a regular file (import reads a raw image file)");
    }
    const auto file_bytes = static_cast<std::uint64_t>(st.st_size);

    if (create) {
        if (file_bytes == 0) {
            return fail(Errc::invalid_argument,
                        path + " is empty: there is nothing to size volume " + name + " by");
        }
        CreateParams params = *create;
        params.name = name;
        const std::uint64_t bs = params.block_size_bytes == 0 ? 512 : params.block_size_bytes;
        params.size_bytes = (file_bytes + bs - 1) / bs * bs;
        auto created = create_volume(*stores.meta, params);
        if (!created) return std::unexpected(created.error());
    }

    ThinOptions options;
    options.owner_info = owner_info();
    auto opened = ThinVolume::open(stores, name, options);
    if (!opened) return std::unexpected(opened.error());
    std::shared_ptr<ThinVolume> vol = std::move(*opened);
    const Superblock sb = vol->superblock();
    if (file_bytes > sb.size_bytes) {
        return fail(Errc::failed_precondition,
                    path + " is " + std::to_string(file_bytes) + " bytes, larger than volume " +
                        name + " (" + std::to_string(sb.size_bytes) +
                        " bytes): grow the volume first (`itd volume grow`)");
    }

    const std::uint64_t page_bytes = sb.page_size_bytes;
    const std::uint64_t bs = sb.block_size_bytes;
    InFlight in_flight;
    // One buffer per write in flight; a buffer is reused once its write has completed.
    std::vector<std::vector<std::uint8_t>> buffers(kWritesInFlight,
                                                   std::vector<std::uint8_t>(page_bytes));
    std::vector<bool> busy(kWritesInFlight, false);
    std::mutex busy_mutex;
    std::uint64_t done_bytes = 0;
    Status read_status;
    for (std::uint64_t at = 0; at < file_bytes; at += page_bytes) {
        in_flight.wait_below(kWritesInFlight);
        if (auto ok = in_flight.status(); !ok) break;
        std::size_t slot = 0;
        {
            std::lock_guard g(busy_mutex);
            while (busy[slot]) ++slot;  // fewer than kWritesInFlight are busy
            busy[slot] = true;
        }
        std::vector<std::uint8_t>& buf = buffers[slot];
        const std::size_t want = static_cast<std::size_t>(std::min(page_bytes, file_bytes - at));
        auto got = read_full(fd.get(), buf.data(), want, at, path);
        if (!got || *got != want) {
            read_status =
                got ? Status(fail(Errc::io_error, path + ": the file shrank while importing it"))
                    : Status(std::unexpected(got.error()));
            std::lock_guard g(busy_mutex);
            busy[slot] = false;
            break;
        }
        // The last piece of a file that is not whole blocks: padded with zeros.
        const std::size_t n = static_cast<std::size_t>((want + bs - 1) / bs * bs);
        std::fill(buf.begin() + static_cast<std::ptrdiff_t>(want),
                  buf.begin() + static_cast<std::ptrdiff_t>(n), 0);
        const std::span<const std::uint8_t> data(buf.data(), n);
        const auto release = [&in_flight, &busy, &busy_mutex, slot](Status result) {
            {
                std::lock_guard g(busy_mutex);
                busy[slot] = false;
            }
            in_flight.finished(std::move(result));
        };
        in_flight.started();
        if (!all_zero(data)) {
            vol->write(at, data, WriteFlags{}, release);
        } else if (n == page_bytes) {
            // Zeros stay (or become) unmapped: metadata only.
            vol->unmap(at, n, release);
        } else {
            // A partial last page of zeros: written only over something mapped (a new volume
            // has nothing there, and writing zeros would map a page).
            auto mapped = any_mapped(*vol, at, n);
            if (!mapped) {
                release(std::unexpected(mapped.error()));
            } else if (*mapped) {
                vol->write(at, data, WriteFlags{}, release);
            } else {
                release({});
            }
        }
        done_bytes = std::min(file_bytes, at + page_bytes);
        if (progress) progress(done_bytes, file_bytes);
    }
    // Every buffer stays alive until the engine is done with it.
    in_flight.wait_below(1);
    if (!read_status) return read_status;
    if (auto ok = in_flight.status(); !ok) {
        return fail(ok.error().code, "volume " + name + ": import: " + ok.error().message);
    }
    if (auto ok = wait_for([&](Completion done) { vol->flush(std::move(done)); }); !ok) {
        return fail(ok.error().code,
                    "volume " + name + ": committing the import: " + ok.error().message);
    }
    return {};
}

}  // namespace itd::volume::thin
