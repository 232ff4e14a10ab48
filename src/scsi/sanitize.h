// The sanitize operation of one logical unit (SBC-4 4.11). SANITIZE (sbc_sanitize.cpp) checks
// the command and hands a Plan to the LU's Sanitizer, which erases the whole medium on a thread
// of its own, so that erasing a large volume blocks no connection's event loop.
//
// The operation belongs to the LU, not to the SANITIZE command: SBC-4 4.11.1 has it run to the
// end whatever happens to the command that started it (IMMED=1 answers at once; an aborted
// command, a LU reset or a logout leave it running). While it runs the dispatcher answers
// every command except INQUIRY, REPORT LUNS and REQUEST SENSE with NOT READY, SANITIZE IN
// PROGRESS, and REQUEST SENSE reports progress (SBC-4 4.11.2).
//
//        reserve, launch                    every pass written (and flushed)
//   idle ───────────────▶ running ─────────────────────────────────────────▶ idle
//    ▲                       │ a volume error
//    │                       ▼
//    └──────────────────── failed ◀─── (media access: MEDIUM ERROR, SANITIZE COMMAND FAILED)
//      a sanitize that succeeds, or EXIT FAILURE MODE when the failed one had AUSE=1
//
// The worker first takes the LU's range lock over every block, so a write that passed the
// dispatcher just before the operation started finishes before the erase begins and cannot
// land after it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "common/status.h"
#include "scsi/range_lock.h"
#include "volume/volume.h"

namespace itd::scsi {

struct SanitizePlan {
    enum class Method : std::uint8_t {
        overwrite,   // OVERWRITE: the pattern over every block, `passes` times
        deallocate,  // BLOCK ERASE / CRYPTOGRAPHIC ERASE on a thin LU: unmap everything
        zero,        // CRYPTOGRAPHIC ERASE on a fully provisioned LU: write zeros everywhere
    };
    Method method = Method::zero;
    // OVERWRITE: one logical block of the initialization pattern, already repeated to fill it.
    std::vector<std::uint8_t> block_pattern;
    std::uint8_t passes = 1;
    // OVERWRITE INVERT: the pattern is inverted between consecutive passes.
    bool invert = false;
    // AUSE: if this operation fails, EXIT FAILURE MODE may end the failure mode.
    bool ause = false;
    // Whether writes must reach stable storage (WCE=0); the operation ends with a flush anyway.
    bool fua = false;
    // At most this many bytes of the medium per second (0: as fast as the volume goes), so
    // that erasing one LU does not take all of a shared backend (LunConfig).
    std::uint64_t bytes_per_second = 0;
};

class Sanitizer {
public:
    enum class State : std::uint8_t { idle, running, failed };
    // Runs once on the worker thread when the operation ends (an error: it failed).
    using Finished = std::move_only_function<void(itd::Status)>;

    // How much one volume call covers: bounds the memory an overwrite holds and how often
    // progress moves.
    static constexpr std::uint64_t kChunkBytes = 1u << 20;
    static constexpr std::uint64_t kDeallocateChunkBytes = 64u << 20;

    Sanitizer() = default;
    Sanitizer(const Sanitizer&) = delete;
    Sanitizer& operator=(const Sanitizer&) = delete;
    // Stops a running operation between two volume calls and waits for it (daemon shutdown:
    // its finished callback is dropped, never run, as the transport is going away too).
    ~Sanitizer();

    // Claims the LU for a new operation: false when one is already running. A caller that got
    // true must call launch() next.
    bool reserve();
    // Starts plan over the whole of volume, holding lock over every block while it runs.
    // finished may be empty (IMMED=1).
    void launch(std::shared_ptr<volume::Volume> volume, RangeLock& lock, SanitizePlan plan,
                Finished finished);

    State state() const { return state_.load(std::memory_order_acquire); }
    // SPC-4 4.5.2.4.4 PROGRESS INDICATION: the fraction done, 0..65535.
    std::uint16_t progress() const;

    // SANITIZE EXIT FAILURE MODE (SBC-4 5.30.2.4). Returns false when it is not allowed: the
    // failed operation was started with AUSE=0 (only a new sanitize ends that failure mode).
    // Without a failure it does nothing and succeeds.
    bool exit_failure_mode();

private:
    void run(std::stop_token stop, std::shared_ptr<volume::Volume> volume, RangeLock* lock,
             SanitizePlan plan, Finished finished);

    std::mutex mutex_;  // serializes reserve(), exit_failure_mode() and the worker's hand-over
    std::atomic<State> state_{State::idle};
    std::atomic<bool> failed_ause_{false};
    std::atomic<std::uint64_t> done_bytes_{0};
    std::atomic<std::uint64_t> total_bytes_{1};
    std::jthread worker_;
};

class LogicalUnit;

// SANITIZE BLOCK ERASE is offered on thin LUs only (sbc_sanitize.cpp).
bool block_erase_offered(const LogicalUnit& lu);

}  // namespace itd::scsi
