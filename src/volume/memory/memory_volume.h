// A volume in RAM, for tests and scratch disks. One zeroed allocation; reads and writes are
// memcpy and complete inline. No locks: concurrent writes to different ranges touch different
// bytes, and overlapping concurrent writes may interleave, as on a real disk (SAM-5 leaves
// their order to the initiator; the SCSI core's range lock orders COMPARE AND WRITE). has_volatile_cache() is false: nothing survives a restart
// anyway, and there is nothing a flush could make more durable.
#pragma once

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
    void write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in, WriteFlags flags,
               Completion done) override;
    void flush(Completion done) override;
    bool has_volatile_cache() const override { return false; }
    bool supports_unmap() const override { return true; }
    // Zeroes the range; whole pages inside it are given back to the kernel (MADV_DONTNEED on a
    // private anonymous mapping: the next touch maps a zero page). lba_status() keeps the
    // default "all mapped": the kernel does not tell us cheaply which pages are resident.
    void unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes, Completion done) override;
    void write_zeroes(std::uint64_t offset_bytes, std::uint64_t length_bytes, WriteFlags flags,
                      Completion done) override;

    ~MemoryVolume() override;

private:
    MemoryVolume(std::uint8_t* base, Geometry geometry) : base_(base), geometry_(geometry) {}
    void check_range(std::uint64_t offset_bytes, std::size_t length_bytes) const;

    std::uint8_t* base_;
    Geometry geometry_;
};

}  // namespace itd::volume
