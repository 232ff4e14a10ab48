#include "volume/memory/memory_volume.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
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

MemoryVolume::MemoryVolume(std::uint8_t* base, Geometry geometry)
    : base_(base),
      geometry_(geometry),
      page_bytes_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))) {
    const std::uint64_t pages = (geometry_.size_bytes() + page_bytes_ - 1) / page_bytes_;
    const std::uint64_t words = (pages + 63) / 64;
    deallocated_ = std::make_unique<std::atomic<std::uint64_t>[]>(words);
    for (std::uint64_t i = 0; i < words; ++i) deallocated_[i].store(~std::uint64_t{0});
}

MemoryVolume::~MemoryVolume() { ::munmap(base_, geometry_.size_bytes()); }

void MemoryVolume::set_deallocated(std::uint64_t first_page, std::uint64_t end_page,
                                   bool deallocated) {
    for (std::uint64_t p = first_page; p < end_page;) {
        const std::uint64_t word = p / 64;
        const std::uint64_t from = p % 64;
        const std::uint64_t to = std::min<std::uint64_t>(64, from + (end_page - p));
        const std::uint64_t mask =
            (to - from == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << (to - from)) - 1)) << from;
        if (deallocated) {
            deallocated_[word].fetch_or(mask, std::memory_order_release);
        } else if ((deallocated_[word].load(std::memory_order_relaxed) & mask) != 0) {
            deallocated_[word].fetch_and(~mask, std::memory_order_release);
        }
        p += to - from;
    }
}

bool MemoryVolume::page_deallocated(std::uint64_t page) const {
    return (deallocated_[page / 64].load(std::memory_order_acquire) >> (page % 64)) & 1;
}

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

std::span<const std::uint8_t> MemoryVolume::memory_view(std::uint64_t offset_bytes,
                                                        std::uint64_t length_bytes) const {
    check_range(offset_bytes, length_bytes);
    return {base_ + offset_bytes, length_bytes};
}

void MemoryVolume::write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in,
                         WriteFlags, Completion done) {
    check_range(offset_bytes, in.size());
    if (!in.empty()) {
        std::memcpy(base_ + offset_bytes, in.data(), in.size());
        // After the copy (see lba_status in the header).
        set_deallocated(offset_bytes / page_bytes_,
                        (offset_bytes + in.size() + page_bytes_ - 1) / page_bytes_, false);
    }
    done(Status{});
}

void MemoryVolume::flush(Completion done) { done(Status{}); }

void MemoryVolume::unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                         Completion done) {
    check_range(offset_bytes, length_bytes);
    const std::uint64_t page = page_bytes_;
    const std::uint64_t end = offset_bytes + length_bytes;
    // base_ is page aligned (mmap), so offsets align the same way addresses do.
    const std::uint64_t first_page = (offset_bytes + page - 1) / page * page;
    const std::uint64_t last_page = end / page * page;
    // Marked before the pages go (see lba_status in the header); a failed madvise leaves
    // them marked, and the memset below zeroes them, which is what deallocated means here.
    if (first_page < last_page) set_deallocated(first_page / page, last_page / page, true);
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
    set_deallocated(offset_bytes / page_bytes_,
                    (offset_bytes + length_bytes + page_bytes_ - 1) / page_bytes_, false);
    done(Status{});
}

void MemoryVolume::lba_status(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                              LbaStatusDone done) {
    check_range(offset_bytes, length_bytes);
    const std::uint64_t bs = geometry_.block_size_bytes;
    const std::uint64_t first_block = offset_bytes / bs;
    const std::uint64_t end_block =
        first_block + std::min(length_bytes / bs, kMaxStatusBlocks);
    std::vector<LbaExtent> out;
    for (std::uint64_t b = first_block; b < end_block; ++b) {
        bool mapped = false;
        for (std::uint64_t p = b * bs / page_bytes_; p <= ((b + 1) * bs - 1) / page_bytes_; ++p) {
            if (!page_deallocated(p)) {
                mapped = true;
                break;
            }
        }
        if (!out.empty() && out.back().mapped == mapped) {
            out.back().length_bytes += bs;
        } else {
            out.push_back(LbaExtent{b * bs, bs, mapped});
        }
    }
    if (out.empty()) out.push_back(LbaExtent{offset_bytes, 0, true});
    done(std::move(out));
}

}  // namespace itd::volume
