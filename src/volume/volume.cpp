#include "volume/volume.h"

#include <algorithm>
#include <memory>

#include "common/check.h"

namespace itd::volume {

namespace {

// The default write_zeroes() writes at most this much per write() call, so that zeroing a whole
// disk does not allocate a buffer the size of the disk.
constexpr std::uint64_t kZeroChunkBytes = 1u << 20;

// Zeroes [offset, end) one chunk at a time; each chunk's completion starts the next. The state
// lives on the heap because completions may run on another thread after the caller returned.
struct ZeroWriter {
    Volume* volume;
    std::uint64_t offset_bytes;
    std::uint64_t end_bytes;
    WriteFlags flags;
    Completion done;
    std::vector<std::uint8_t> zeros;

    static void step(std::unique_ptr<ZeroWriter> self) {
        if (self->offset_bytes >= self->end_bytes) {
            Completion done = std::move(self->done);
            self.reset();
            done(Status{});
            return;
        }
        const std::uint64_t n =
            std::min<std::uint64_t>(self->zeros.size(), self->end_bytes - self->offset_bytes);
        ZeroWriter& s = *self;
        const std::uint64_t at = s.offset_bytes;
        s.offset_bytes += n;
        s.volume->write(at, std::span<const std::uint8_t>(s.zeros).first(n), s.flags,
                        [self = std::move(self)](Status st) mutable {
                            if (!st) {
                                Completion done = std::move(self->done);
                                self.reset();
                                done(std::move(st));
                                return;
                            }
                            step(std::move(self));
                        });
    }
};

}  // namespace

void Volume::unmap(std::uint64_t, std::uint64_t, Completion done) {
    done(fail(Errc::failed_precondition, "this volume does not support unmap"));
}

void Volume::write_zeroes(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                          WriteFlags flags, Completion done) {
    ITD_CHECK(offset_bytes <= geometry().size_bytes() &&
              length_bytes <= geometry().size_bytes() - offset_bytes);
    auto writer = std::make_unique<ZeroWriter>();
    writer->volume = this;
    writer->offset_bytes = offset_bytes;
    writer->end_bytes = offset_bytes + length_bytes;
    writer->flags = flags;
    writer->done = std::move(done);
    writer->zeros.assign(std::min(kZeroChunkBytes, std::max<std::uint64_t>(length_bytes, 1)), 0);
    ZeroWriter::step(std::move(writer));
}

void Volume::lba_status(std::uint64_t offset_bytes, std::uint64_t length_bytes,
                        LbaStatusDone done) {
    ITD_CHECK(offset_bytes <= geometry().size_bytes() &&
              length_bytes <= geometry().size_bytes() - offset_bytes);
    done(std::vector<LbaExtent>{LbaExtent{offset_bytes, length_bytes, true}});
}

void Volume::set_resize_listener(std::function<void()> listener) {
    std::lock_guard g(listener_mutex_);
    resize_listener_ = std::move(listener);
}

void Volume::notify_resized() {
    std::lock_guard g(listener_mutex_);
    if (resize_listener_) resize_listener_();
}

}  // namespace itd::volume
