#include "volume/file/file_volume.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/check.h"

namespace itd::volume {

namespace {

std::unexpected<Error> sys_fail(Errc code, const std::string& path, const char* what, int err) {
    return fail(code, "file " + path + ": " + what + ": " + std::strerror(err));
}

// EIO and friends are the medium failing; ENOSPC/EDQUOT mean the sparse file could not grow,
// which to the initiator is a write error too.
Errc errc_for_io(int err) {
    switch (err) {
        case EAGAIN:
        case EINTR: return Errc::unavailable;
        default: return Errc::io_error;
    }
}

}  // namespace

Result<std::shared_ptr<FileVolume>> FileVolume::open(const Options& options) {
    const std::string& path = options.path;
    const std::uint32_t bs = options.block_size_bytes;
    ITD_CHECK(bs != 0);
    if (path.empty()) return fail(Errc::invalid_argument, "file volume: empty path");

    int flags = O_RDWR | O_CLOEXEC;
    if (options.size_bytes) flags |= O_CREAT;
    UniqueFd fd(::open(path.c_str(), flags, 0644));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ENOENT && !options.size_bytes) {
            return fail(Errc::not_found,
                        "file " + path + ": does not exist, and no size was given to create it");
        }
        return sys_fail(err == ENOENT ? Errc::not_found : Errc::failed_precondition, path, "open",
                        err);
    }

    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return sys_fail(Errc::io_error, path, "fstat", errno);
    std::uint64_t size = 0;
    if (S_ISBLK(st.st_mode)) {
        // A block device has the size it has; BLKGETSIZE64 says it in bytes.
        if (::ioctl(fd.get(), BLKGETSIZE64, &size) != 0) {
            return sys_fail(Errc::io_error, path, "ioctl(BLKGETSIZE64)", errno);
        }
    } else if (S_ISREG(st.st_mode)) {
        size = static_cast<std::uint64_t>(st.st_size);
        // A new (or empty) file becomes a sparse file of the requested size: ftruncate
        // allocates nothing, and unwritten ranges read as zeros.
        if (size == 0 && options.size_bytes) {
            if (::ftruncate(fd.get(), static_cast<off_t>(*options.size_bytes)) != 0) {
                return sys_fail(Errc::failed_precondition, path, "ftruncate", errno);
            }
            size = *options.size_bytes;
        }
    } else {
        return fail(Errc::invalid_argument, "file " + path + ": not a regular file or block device");
    }

    if (options.size_bytes && *options.size_bytes != size) {
        return fail(Errc::invalid_argument,
                    "file " + path + ": is " + std::to_string(size) + " bytes, but size " +
                        std::to_string(*options.size_bytes) + " was given");
    }
    if (size == 0 || size % bs != 0) {
        return fail(Errc::invalid_argument,
                    "file " + path + ": size " + std::to_string(size) +
                        " is not a non-zero multiple of the block size " + std::to_string(bs));
    }
    Geometry g{bs, size / bs};
    return std::shared_ptr<FileVolume>(new FileVolume(std::move(fd), path, g, options));
}

FileVolume::FileVolume(UniqueFd fd, std::string path, Geometry geometry, const Options& options)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      geometry_(geometry),
      pool_(options.io_threads, options.max_queued_ios) {}

UniqueFd::~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
}

// Members go in reverse order: pool_ drains and joins, then fd_ closes.
FileVolume::~FileVolume() = default;

void FileVolume::check_range(std::uint64_t offset_bytes, std::size_t length_bytes) const {
    const std::uint64_t size = geometry_.size_bytes();
    ITD_CHECK(offset_bytes % geometry_.block_size_bytes == 0);
    ITD_CHECK(length_bytes % geometry_.block_size_bytes == 0);
    ITD_CHECK(offset_bytes <= size && length_bytes <= size - offset_bytes);
}

Status FileVolume::do_read(std::uint64_t offset_bytes, std::span<std::uint8_t> out) const {
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                                  static_cast<off_t>(offset_bytes + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_fail(errc_for_io(errno), path_, "pread", errno);
        }
        if (n == 0) {
            // The file shrank underneath us.
            return fail(Errc::io_error, "file " + path_ + ": pread: unexpected end of file");
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status FileVolume::do_write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in) const {
    std::size_t done = 0;
    while (done < in.size()) {
        const ssize_t n = ::pwrite(fd_.get(), in.data() + done, in.size() - done,
                                   static_cast<off_t>(offset_bytes + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_fail(errc_for_io(errno), path_, "pwrite", errno);
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status FileVolume::do_sync() const {
    // fdatasync: the data and the metadata needed to read it back (file size, block map).
    if (::fdatasync(fd_.get()) != 0) return sys_fail(Errc::io_error, path_, "fdatasync", errno);
    return {};
}

Status FileVolume::do_zero(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                           int fallocate_mode) const {
    if (length_bytes == 0) return {};
    if (::fallocate(fd_.get(), fallocate_mode, static_cast<off_t>(offset_bytes),
                    static_cast<off_t>(length_bytes)) == 0) {
        return {};
    }
    const int err = errno;
    // EOPNOTSUPP: the file system (or a block device) cannot; zeros written by hand are the
    // same to every reader. Any other error is real.
    if (err != EOPNOTSUPP && err != ENODEV && err != EINVAL) {
        return sys_fail(errc_for_io(err), path_, "fallocate", err);
    }
    constexpr std::uint64_t kChunkBytes = 1u << 20;
    const std::vector<std::uint8_t> zeros(std::min(kChunkBytes, length_bytes), 0);
    for (std::uint64_t at = 0; at < length_bytes; at += zeros.size()) {
        const std::uint64_t n = std::min<std::uint64_t>(zeros.size(), length_bytes - at);
        if (auto st = do_write(offset_bytes + at, std::span(zeros).first(n)); !st) return st;
    }
    return {};
}

Result<std::vector<LbaExtent>> FileVolume::do_lba_status(std::uint64_t offset_bytes,
                                                         std::uint64_t length_bytes) const {
    const std::uint64_t end = offset_bytes + length_bytes;
    const std::uint64_t bs = geometry_.block_size_bytes;
    std::vector<LbaExtent> out;
    auto append = [&](std::uint64_t from, std::uint64_t to, bool mapped) {
        if (!out.empty() && out.back().mapped == mapped) {
            out.back().length_bytes += to - from;
        } else {
            out.push_back(LbaExtent{from, to - from, mapped});
        }
    };
    // Bounded: a caller asks again from where the answer stops.
    constexpr std::size_t kMaxExtents = 64;
    std::uint64_t at = offset_bytes;
    while (at < end && out.size() < kMaxExtents) {
        const off_t data = ::lseek(fd_.get(), static_cast<off_t>(at), SEEK_DATA);
        if (data < 0 && errno != ENXIO) {
            // EINVAL: no SEEK_DATA here (block device, old file system): everything is mapped.
            append(at, end, true);
            break;
        }
        // ENXIO: nothing but hole from here to the end of the file.
        const std::uint64_t data_at = data < 0 ? end : std::min<std::uint64_t>(data, end);
        if (data_at > at) {
            // A hole. A block is deallocated only when all of it is hole: round the end down.
            const std::uint64_t hole_end = data_at == end ? end : data_at / bs * bs;
            if (hole_end > at) {
                append(at, hole_end, false);
                at = hole_end;
                continue;
            }
        }
        const off_t hole = ::lseek(fd_.get(), static_cast<off_t>(at), SEEK_HOLE);
        if (hole < 0) return sys_fail(errc_for_io(errno), path_, "lseek(SEEK_HOLE)", errno);
        // Data. A block with any data in it is mapped: round the end up.
        std::uint64_t data_end = std::min<std::uint64_t>(hole, end);
        data_end = std::min(end, (data_end + bs - 1) / bs * bs);
        if (data_end <= at) data_end = std::min(end, at + bs);
        append(at, data_end, true);
        at = data_end;
    }
    return out;
}

void FileVolume::read(std::uint64_t offset_bytes, std::span<std::uint8_t> out, Completion done) {
    check_range(offset_bytes, out.size());
    pool_.submit([this, offset_bytes, out, done = std::move(done)]() mutable {
        done(do_read(offset_bytes, out));
    });
}

void FileVolume::write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in,
                       WriteFlags flags, Completion done) {
    check_range(offset_bytes, in.size());
    pool_.submit([this, offset_bytes, in, flags, done = std::move(done)]() mutable {
        Status st = do_write(offset_bytes, in);
        // FUA: on stable storage before the completion (SBC-4 5.40).
        if (st && flags.fua) st = do_sync();
        done(std::move(st));
    });
}

void FileVolume::unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                       Completion done) {
    check_range(offset_bytes, length_bytes);
    pool_.submit([this, offset_bytes, length_bytes, done = std::move(done)]() mutable {
        done(do_zero(offset_bytes, length_bytes, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE));
    });
}

void FileVolume::write_zeroes(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                              WriteFlags flags, Completion done) {
    check_range(offset_bytes, length_bytes);
    pool_.submit([this, offset_bytes, length_bytes, flags, done = std::move(done)]() mutable {
        // ZERO_RANGE keeps the blocks allocated: WRITE SAME without UNMAP leaves them mapped.
        Status st = do_zero(offset_bytes, length_bytes, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
        if (st && flags.fua) st = do_sync();
        done(std::move(st));
    });
}

void FileVolume::lba_status(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                            LbaStatusDone done) {
    check_range(offset_bytes, length_bytes);
    pool_.submit([this, offset_bytes, length_bytes, done = std::move(done)]() mutable {
        done(do_lba_status(offset_bytes, length_bytes));
    });
}

void FileVolume::flush(Completion done) {
    pool_.submit([this, done = std::move(done)]() mutable { done(do_sync()); });
}

}  // namespace itd::volume
