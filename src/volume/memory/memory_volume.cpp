#include "volume/memory/memory_volume.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/check.h"

namespace itd::volume {

Result<std::shared_ptr<MemoryVolume>> MemoryVolume::create(std::uint64_t size_bytes,
                                                           std::uint32_t block_size_bytes) {
    ITD_CHECK(block_size_bytes != 0 && size_bytes != 0 && size_bytes % block_size_bytes == 0);
    // An anonymous private mapping is zeroed by the kernel and backed lazily: a 1 GiB scratch
    // disk costs only what is written. MAP_NORESERVE keeps large sparse disks possible under
    // strict overcommit.
    void* p = ::mmap(nullptr, size_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return fail(Errc::failed_precondition,
                    "memory volume of " + std::to_string(size_bytes) +
                        " bytes: mmap: " + std::strerror(errno));
    }
    Geometry g{block_size_bytes, size_bytes / block_size_bytes};
    return std::shared_ptr<MemoryVolume>(new MemoryVolume(static_cast<std::uint8_t*>(p), g));
}

MemoryVolume::~MemoryVolume() { ::munmap(base_, geometry_.size_bytes()); }

void MemoryVolume::check_range(std::uint64_t offset_bytes, std::size_t length_bytes) const {
    // The SCSI core checked the range against the geometry; here we assert it (volume.h).
    const std::uint64_t size = geometry_.size_bytes();
    ITD_CHECK(offset_bytes % geometry_.block_size_bytes == 0);
    ITD_CHECK(length_bytes % geometry_.block_size_bytes == 0);
    ITD_CHECK(offset_bytes <= size && length_bytes <= size - offset_bytes);
}

void MemoryVolume::read(std::uint64_t offset_bytes, std::span<std::uint8_t> out,
                        Completion done) {
    check_range(offset_bytes, out.size());
    if (!out.empty()) std::memcpy(out.data(), base_ + offset_bytes, out.size());
    done(Status{});
}

void MemoryVolume::write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in,
                         WriteFlags, Completion done) {
    check_range(offset_bytes, in.size());
    if (!in.empty()) std::memcpy(base_ + offset_bytes, in.data(), in.size());
    done(Status{});
}

void MemoryVolume::flush(Completion done) { done(Status{}); }

void MemoryVolume::unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                         Completion done) {
    check_range(offset_bytes, length_bytes);
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t end = offset_bytes + length_bytes;
    // base_ is page aligned (mmap), so offsets align the same way addresses do.
    const std::uint64_t first_page = (offset_bytes + page - 1) / page * page;
    const std::uint64_t last_page = end / page * page;
    if (first_page < last_page &&
        ::madvise(base_ + first_page, last_page - first_page, MADV_DONTNEED) == 0) {
        // Only the partial pages at either end still need zeros.
        std::memset(base_ + offset_bytes, 0, first_page - offset_bytes);
        std::memset(base_ + last_page, 0, end - last_page);
    } else {
        std::memset(base_ + offset_bytes, 0, length_bytes);
    }
    done(Status{});
}

void MemoryVolume::write_zeroes(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                                WriteFlags, Completion done) {
    check_range(offset_bytes, length_bytes);
    std::memset(base_ + offset_bytes, 0, length_bytes);
    done(Status{});
}

}  // namespace itd::volume
