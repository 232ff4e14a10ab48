#include "scsi/sanitize.h"

#include <algorithm>
#include <chrono>
#include <future>

#include "common/check.h"

namespace itd::scsi {

namespace {

// Starts one volume call and waits for its completion. The worker thread is the sanitize's own,
// so blocking it costs nobody else; the completion may run inline or on a backend thread.
template <typename Start>
itd::Status wait_for(Start&& start) {
    std::promise<itd::Status> promise;
    std::future<itd::Status> future = promise.get_future();
    start([&promise](itd::Status st) { promise.set_value(std::move(st)); });
    return future.get();
}

// Sleeps until done_bytes fit the rate since started (in slices, so a stop is seen soon).
// Returns false when stopped.
bool pace(std::stop_token stop, std::chrono::steady_clock::time_point started,
          std::uint64_t done_bytes, std::uint64_t bytes_per_second) {
    if (bytes_per_second == 0) return !stop.stop_requested();
    const auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(done_bytes) /
                                                                 static_cast<double>(bytes_per_second)));
    while (!stop.stop_requested()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= due) return true;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            due - now, std::chrono::milliseconds(50)));
    }
    return false;
}

itd::Status stopped() { return fail(Errc::unavailable, "sanitize stopped: shutting down"); }

// The largest multiple of block_bytes that is at most limit (and at least one block).
std::uint64_t whole_blocks(std::uint64_t limit, std::uint32_t block_bytes) {
    return std::max<std::uint64_t>(1, limit / block_bytes) * block_bytes;
}

}  // namespace

Sanitizer::~Sanitizer() {
    worker_.request_stop();
    if (worker_.joinable()) worker_.join();
}

bool Sanitizer::reserve() {
    std::lock_guard guard(mutex_);
    if (state_.load(std::memory_order_acquire) == State::running) return false;
    done_bytes_.store(0, std::memory_order_relaxed);
    total_bytes_.store(1, std::memory_order_relaxed);
    state_.store(State::running, std::memory_order_release);
    return true;
}

void Sanitizer::launch(std::shared_ptr<volume::Volume> volume, RangeLock& lock,
                       SanitizePlan plan, Finished finished) {
    ITD_CHECK(volume != nullptr);
    ITD_CHECK(state_.load(std::memory_order_acquire) == State::running);
    const volume::Geometry geometry = volume->geometry();
    if (plan.method == SanitizePlan::Method::overwrite) {
        ITD_CHECK(plan.passes >= 1 && plan.block_pattern.size() == geometry.block_size_bytes);
    }
    const std::uint64_t passes = plan.method == SanitizePlan::Method::overwrite ? plan.passes : 1;
    total_bytes_.store(std::max<std::uint64_t>(1, geometry.size_bytes() * passes),
                       std::memory_order_relaxed);
    std::lock_guard guard(mutex_);
    // A previous worker has finished its operation (reserve() saw it not running); assigning
    // joins it.
    worker_ = std::jthread([this, volume = std::move(volume), lock = &lock, plan = std::move(plan),
                            finished = std::move(finished)](std::stop_token stop) mutable {
        run(stop, std::move(volume), lock, std::move(plan), std::move(finished));
    });
}

std::uint16_t Sanitizer::progress() const {
    const double done = static_cast<double>(done_bytes_.load(std::memory_order_relaxed));
    const double total = static_cast<double>(total_bytes_.load(std::memory_order_relaxed));
    return static_cast<std::uint16_t>(std::clamp(done / total * 65536.0, 0.0, 65535.0));
}

bool Sanitizer::exit_failure_mode() {
    std::lock_guard guard(mutex_);
    if (state_.load(std::memory_order_acquire) != State::failed) return true;
    if (!failed_ause_.load(std::memory_order_relaxed)) return false;
    state_.store(State::idle, std::memory_order_release);
    return true;
}

void Sanitizer::run(std::stop_token stop, std::shared_ptr<volume::Volume> volume,
                    RangeLock* lock, SanitizePlan plan, Finished finished) {
    const volume::Geometry geometry = volume->geometry();
    const std::uint64_t size = geometry.size_bytes();

    // Every block, so no write overlaps the erase (see the header).
    std::promise<RangeLock::Guard> granted;
    std::future<RangeLock::Guard> grant = granted.get_future();
    lock->acquire(0, geometry.block_count,
                  [&granted](RangeLock::Guard g) { granted.set_value(std::move(g)); });
    RangeLock::Guard range = grant.get();

    const volume::WriteFlags flags{.fua = plan.fua};
    const auto started = std::chrono::steady_clock::now();
    std::uint64_t processed = 0;  // over all passes, for the pace
    itd::Status st{};
    switch (plan.method) {
        case SanitizePlan::Method::overwrite: {
            // One bounded buffer of whole blocks of the pattern, written over the medium chunk
            // by chunk (never a buffer the size of the disk).
            std::vector<std::uint8_t> chunk(std::min(whole_blocks(kChunkBytes, geometry.block_size_bytes),
                                                     std::max<std::uint64_t>(size, geometry.block_size_bytes)));
            for (std::size_t at = 0; at < chunk.size(); at += plan.block_pattern.size()) {
                std::copy(plan.block_pattern.begin(), plan.block_pattern.end(), chunk.begin() + static_cast<std::ptrdiff_t>(at));
            }
            for (std::uint8_t pass = 0; st && pass < plan.passes; ++pass) {
                // SBC-4 5.30.2.2: INVERT=1 inverts the pattern between consecutive passes.
                if (plan.invert && pass > 0) {
                    for (std::uint8_t& b : chunk) b = static_cast<std::uint8_t>(~b);
                }
                for (std::uint64_t at = 0; st && at < size;) {
                    if (!pace(stop, started, processed, plan.bytes_per_second)) {
                        st = stopped();
                        break;
                    }
                    const std::uint64_t n = std::min<std::uint64_t>(chunk.size(), size - at);
                    processed += n;
                    st = wait_for([&](volume::Completion done) {
                        volume->write(at, std::span<const std::uint8_t>(chunk).first(n), flags,
                                      std::move(done));
                    });
                    at += n;
                    done_bytes_.fetch_add(n, std::memory_order_relaxed);
                }
            }
            break;
        }
        case SanitizePlan::Method::deallocate:
        case SanitizePlan::Method::zero: {
            const std::uint64_t step = whole_blocks(kDeallocateChunkBytes, geometry.block_size_bytes);
            for (std::uint64_t at = 0; st && at < size;) {
                if (!pace(stop, started, processed, plan.bytes_per_second)) {
                    st = stopped();
                    break;
                }
                const std::uint64_t n = std::min(step, size - at);
                processed += n;
                st = wait_for([&](volume::Completion done) {
                    if (plan.method == SanitizePlan::Method::deallocate) {
                        volume->unmap(at, n, std::move(done));
                    } else {
                        volume->write_zeroes(at, n, flags, std::move(done));
                    }
                });
                at += n;
                done_bytes_.fetch_add(n, std::memory_order_relaxed);
            }
            break;
        }
    }
    // SBC-4 4.11.1: the sanitize alters the cache too; a flush leaves nothing of the old data in
    // a volatile cache.
    if (st) st = wait_for([&](volume::Completion done) { volume->flush(std::move(done)); });
    range.reset();

    if (stop.stop_requested()) {
        // Shutting down: nobody is left to answer (see ~Sanitizer).
        state_.store(st ? State::idle : State::failed, std::memory_order_release);
        return;
    }
    {
        std::lock_guard guard(mutex_);
        failed_ause_.store(!st && plan.ause, std::memory_order_relaxed);
        state_.store(st ? State::idle : State::failed, std::memory_order_release);
    }
    if (finished) finished(std::move(st));
}

}  // namespace itd::scsi
