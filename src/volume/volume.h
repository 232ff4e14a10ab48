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
#include <mutex>
#include <span>
#include <vector>

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

// One run of blocks with the same provisioning state (SBC-4 4.7.2: mapped, or deallocated:
// reads return zeros and no storage is held).
struct LbaExtent {
    std::uint64_t offset_bytes = 0;
    std::uint64_t length_bytes = 0;
    bool mapped = true;
};
// Extents in ascending order, contiguous, starting at the asked offset. They may stop short of
// the asked length (a caller asks again from where they end); never empty on success.
using LbaStatusDone = std::move_only_function<void(Result<std::vector<LbaExtent>>)>;

class Volume {
public:
    virtual ~Volume() = default;

    virtual Geometry geometry() const = 0;

    // Reads out.size() bytes at offset_bytes into out.
    virtual void read(std::uint64_t offset_bytes, std::span<std::uint8_t> out,
                      Completion done) = 0;

    // The range's bytes in memory that stays mapped for as long as the volume exists, for a
    // reader that sends them without copying them out first; empty when the backend keeps no
    // such memory (the default), and then read() is the way. The bytes may change under the
    // reader if a write to the same range runs at the same time, as with read().
    virtual std::span<const std::uint8_t> memory_view(std::uint64_t /*offset_bytes*/,
                                                      std::uint64_t /*length_bytes*/) const {
        return {};
    }
    // Writes in at offset_bytes. Without fua the data may sit in a volatile cache until the
    // next flush.
    virtual void write(std::uint64_t offset_bytes, std::span<const std::uint8_t> in,
                       WriteFlags flags, Completion done) = 0;

    // Makes every write completed before this call durable.
    virtual void flush(Completion done) = 0;

    // Whether writes go through a volatile cache (the WCE bit a LUN reports by default).
    virtual bool has_volatile_cache() const = 0;

    // Whether unmap() releases storage. A backend that cannot gets the default unmap(), which
    // fails with failed_precondition; the SCSI core only offers UNMAP when this is true.
    virtual bool supports_unmap() const { return false; }

    // Deallocates the range: afterwards it reads as zeros (the SCSI core reports LBPRZ=1), and
    // the backend may release its storage. Durable like a write without fua.
    virtual void unmap(std::uint64_t offset_bytes, std::uint64_t length_bytes, Completion done);

    // Writes zeros to the range, leaving it mapped. The default writes a zeroed buffer in
    // chunks through write(); backends override it with something cheaper.
    virtual void write_zeroes(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                              WriteFlags flags, Completion done);

    // The provisioning state of the range. The default says "all mapped", which is true of any
    // fully provisioned backend.
    virtual void lba_status(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                            LbaStatusDone done);

    // Called, on any thread, after geometry() changed (a thin volume grown online). Replaces
    // the listener set before; an empty function removes it, and once that call returns the
    // old listener is not running and never runs again.
    void set_resize_listener(std::function<void()> listener);

protected:
    void notify_resized();

private:
    std::mutex listener_mutex_;
    std::function<void()> resize_listener_;
};

}  // namespace itd::volume
