// A volume in RAM, for tests and scratch disks. One zeroed allocation; reads and writes are
// memcpy and complete inline. No locks: concurrent writes to different ranges touch different
// bytes, and overlapping concurrent writes may interleave, as on a real disk (SAM-5 leaves
// their order to the initiator; the SCSI core's range lock orders COMPARE AND WRITE). has_volatile_cache() is false: nothing survives a restart
// anyway, and there is nothing a flush could make more durable.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/status.h"
#include "volume/volume.h"

namespace itd::volume {

class MemoryVolume final : public Volume {
public:
    // size_bytes a non-zero multiple of block_size_bytes. Fails when the memory is not there.
    static Result<std::shared_ptr<MemoryVolume>> create(std::uint64_t size_bytes,
                                                        std::uint32_t block_size_bytes);

    Geometry geometry() const override { return geometry_; }
    void read(std::uint64_t offset_bytes, std::span<std::uint8_t> out, Completion done) override;
    // The mapping itself: memory volumes send read data without a copy.
    std::span<const std::uint8_t> memory_view(std::uint64_t offset_bytes,
                                              std::uint64_t length_bytes) const override;
    void write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in, WriteFlags flags,
               Completion done) override;
    void flush(Completion done) override;
    bool has_volatile_cache() const override { return false; }
    bool supports_unmap() const override { return true; }
    // Zeroes the range; whole pages inside it are given back to the kernel (MADV_DONTNEED on a
    // private anonymous mapping: the next touch maps a zero page) and marked deallocated.
    void unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes, Completion done) override;
    void write_zeroes(std::uint64_t offset_bytes, std::uint64_t length_bytes, WriteFlags flags,
                      Completion done) override;
    // A block is deallocated when every memory page it touches is: never written since the
    // volume was created, or given back by unmap() since. One bit per page says so; a write
    // clears it after its copy, unmap() sets it before giving the page back, so a bit that
    // says "deallocated" never hides data (at worst a zeroed page still says "mapped").
    // Answers at most kMaxStatusBlocks blocks per call.
    void lba_status(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                    LbaStatusDone done) override;
    static constexpr std::uint64_t kMaxStatusBlocks = 1u << 21;

    ~MemoryVolume() override;

private:
    MemoryVolume(std::uint8_t* base, Geometry geometry);
    void check_range(std::uint64_t offset_bytes, std::size_t length_bytes) const;
    // Marks the pages wholly inside [first_page, end_page) (page numbers).
    void set_deallocated(std::uint64_t first_page, std::uint64_t end_page, bool deallocated);
    bool page_deallocated(std::uint64_t page) const;

    std::uint8_t* base_;
    Geometry geometry_;
    std::uint64_t page_bytes_;
    // Bit p set: page p is deallocated. Starts all set (a fresh mapping reads as zeros).
    std::unique_ptr<std::atomic<std::uint64_t>[]> deallocated_;
};

}  // namespace itd::volume
