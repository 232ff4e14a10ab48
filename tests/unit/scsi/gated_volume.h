// A memory volume whose writes can be held at a gate (to observe a command while its I/O is in
// flight) or made to fail (to drive error paths). Writes block the calling thread while the
// gate is closed, so tests start the command that will meet it on a thread of their own (or
// let a SCSI-core worker thread meet it).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "volume/volume.h"

namespace itd::scsi::testing {

class GatedVolume final : public volume::Volume {
public:
    explicit GatedVolume(std::shared_ptr<volume::Volume> inner) : inner_(std::move(inner)) {}

    void close_gate() {
        std::lock_guard lock(mutex_);
        open_ = false;
    }
    void open_gate() {
        std::lock_guard lock(mutex_);
        open_ = true;
        cv_.notify_all();
    }
    void fail_writes(bool fail) { fail_.store(fail); }
    // Writes that reached the volume (counted at the gate, before they wait there).
    int writes_started() const { return writes_.load(); }

    volume::Geometry geometry() const override { return inner_->geometry(); }
    void read(std::uint64_t offset, std::span<std::uint8_t> out, volume::Completion done) override {
        inner_->read(offset, out, std::move(done));
    }
    void write(std::uint64_t offset, std::span<const std::uint8_t> in, volume::WriteFlags flags,
               volume::Completion done) override {
        ++writes_;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return open_; });
        }
        if (fail_.load()) {
            done(fail(Errc::io_error, "injected write error"));
            return;
        }
        inner_->write(offset, in, flags, std::move(done));
    }
    void flush(volume::Completion done) override { inner_->flush(std::move(done)); }
    bool has_volatile_cache() const override { return false; }
    bool supports_unmap() const override { return inner_->supports_unmap(); }
    void unmap(std::uint64_t offset, std::uint64_t length, volume::Completion done) override {
        inner_->unmap(offset, length, std::move(done));
    }
    void write_zeroes(std::uint64_t offset, std::uint64_t length, volume::WriteFlags flags,
                      volume::Completion done) override {
        // Through write(), so the gate and the failure apply to zeroing too.
        Volume::write_zeroes(offset, length, flags, std::move(done));
    }
    void lba_status(std::uint64_t offset, std::uint64_t length, volume::LbaStatusDone done) override {
        inner_->lba_status(offset, length, std::move(done));
    }

private:
    std::shared_ptr<volume::Volume> inner_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = true;
    std::atomic<bool> fail_{false};
    std::atomic<int> writes_{0};
};

}  // namespace itd::scsi::testing
