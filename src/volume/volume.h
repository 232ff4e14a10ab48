// The only interface the SCSI core sees of storage (DESIGN.md "Layers"). Offsets and lengths
// are in bytes and always whole blocks: the SCSI core checks ranges before it calls in, and a
// backend asserts them. Backends never see a CDB.
//
// Threading: a volume is shared by sessions on several threads, so every method is
// thread-safe. Completions may run on any thread (inline, or on a backend's pool); the caller
// moves back to its own thread if it needs to. Buffers passed in stay valid until the
// completion has run.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "common/status.h"

namespace itd::volume {

struct Geometry {
    std::uint32_t block_size_bytes = 512;
    std::uint64_t block_count = 0;

    std::uint64_t size_bytes() const { return block_count * block_size_bytes; }
};

struct WriteFlags {
    bool fua = false;  // the data is on stable storage before the completion runs
};

using Completion = std::move_only_function<void(Status)>;

class Volume {
public:
    virtual ~Volume() = default;

    virtual Geometry geometry() const = 0;

    // Reads out.size() bytes at offset_bytes into out.
    virtual void read(std::uint64_t offset_bytes, std::span<std::uint8_t> out,
                      Completion done) = 0;

    // Writes in at offset_bytes. Without fua the data may sit in a volatile cache until the
    // next flush.
    virtual void write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in,
                       WriteFlags flags, Completion done) = 0;

    // Makes every write completed before this call durable.
    virtual void flush(Completion done) = 0;

    // Whether writes go through a volatile cache (the WCE bit a LUN reports by default).
    virtual bool has_volatile_cache() const = 0;
};

}  // namespace itd::volume
