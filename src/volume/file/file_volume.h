// A volume in a local file or block device. pread/pwrite/fdatasync run on a bounded pool of
// threads owned by the volume; completions run on a pool thread. A missing file is created
// sparse (ftruncate) when a size is given; an existing one keeps its size. Writes land in the
// kernel page cache (has_volatile_cache() is true): FUA writes and flush() call fdatasync.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/status.h"
#include "volume/io_pool.h"
#include "volume/volume.h"

namespace itd::volume {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
public:
    explicit UniqueFd(int fd = -1) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&&) = delete;
    ~UniqueFd();
    int get() const { return fd_; }

private:
    int fd_;
};

class FileVolume final : public Volume {
public:
    struct Options {
        std::string path;
        // Missing file: created with this size. Existing file or device: must match if given.
        std::optional<std::uint64_t> size_bytes;
        std::uint32_t block_size_bytes = 512;
        std::size_t io_threads = 4;
        std::size_t max_queued_ios = 256;
    };

    // Errors: not_found (missing file and no size), invalid_argument (size mismatch, a size
    // that is not a multiple of the block size, not a regular file or block device),
    // io_error / failed_precondition for system call failures, each with path and strerror.
    static Result<std::shared_ptr<FileVolume>> open(const Options& options);

    ~FileVolume() override;

    Geometry geometry() const override { return geometry_; }
    void read(std::uint64_t offset_bytes, std::span<std::uint8_t> out, Completion done) override;
    void write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in, WriteFlags flags,
               Completion done) override;
    void flush(Completion done) override;
    bool has_volatile_cache() const override { return true; }
    // Regular files: unmap punches a hole (fallocate PUNCH_HOLE|KEEP_SIZE); a file system that
    // cannot, and a block device, get zeros written instead (still correct: LBPRZ holds).
    bool supports_unmap() const override { return true; }
    void unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes, Completion done) override;
    void write_zeroes(std::uint64_t offset_bytes, std::uint64_t length_bytes, WriteFlags flags,
                      Completion done) override;
    // From SEEK_DATA/SEEK_HOLE: holes are deallocated, the rest mapped. A block device (or a
    // file system without SEEK_HOLE) reports everything mapped.
    void lba_status(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                    LbaStatusDone done) override;

private:
    FileVolume(UniqueFd fd, std::string path, Geometry geometry, const Options& options);
    void check_range(std::uint64_t offset_bytes, std::size_t length_bytes) const;
    Status do_read(std::uint64_t offset_bytes, std::span<std::uint8_t> out) const;
    Status do_write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in) const;
    Status do_sync() const;
    // fallocate(mode) over the range, or zeros written when the file system says no.
    Status do_zero(std::uint64_t offset_bytes, std::uint64_t length_bytes, int fallocate_mode) const;
    Result<std::vector<LbaExtent>> do_lba_status(std::uint64_t offset_bytes,
                                                 std::uint64_t length_bytes) const;

    UniqueFd fd_;
    std::string path_;
    Geometry geometry_;
    IoPool pool_;  // after fd_: destroyed (drained and joined) before the fd is closed
};

}  // namespace itd::volume
