// One command inside the SCSI core, from Target::execute until its done callback runs.
//
// Handlers (command_table.h) take a TaskPtr&. A handler that finishes at once returns its
// SenseReason and leaves the task alone; the dispatcher completes it. A handler that starts
// volume I/O moves the task into the completion and returns SenseReason::none; the completion
// calls finish(). Either way done runs exactly once.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/thread_free_list.h"
#include "scsi/command.h"
#include "scsi/range_lock.h"
#include "scsi/sense.h"

namespace itd::scsi {

class Target;
class LogicalUnit;
struct CommandSpec;

struct Task {
    // One task per command: its memory comes from a per-thread cache (thread_free_list.h).
    static void* operator new(std::size_t bytes);
    static void operator delete(void* p) noexcept;

    Target* target = nullptr;
    LogicalUnit* lu = nullptr;  // null: the LUN field names no logical unit
    NexusId nexus = 0;
    const CommandSpec* spec = nullptr;

    std::array<std::uint8_t, 16> cdb_bytes{};
    std::uint8_t cdb_size = 0;
    std::span<const std::uint8_t> data_out;
    std::span<std::uint8_t> data_in;
    std::stop_token abort;  // Command::abort
    bool accepts_data_in_view = false;  // Command::accepts_data_in_view

    SenseDetail detail;
    CommandResult result;
    CommandDone done;
    // For a read whose data-in buffer is shorter than the blocks it asks for, and for data a
    // command reads to compare (VERIFY, COMPARE AND WRITE) or builds to write (WRITE SAME).
    std::vector<std::uint8_t> bounce;
    // The LBA range a write-like command holds (range_lock.h); released when the task ends,
    // before the transport sees the answer.
    RangeLock::Guard range_guard;
    std::span<const std::uint8_t> write_data;  // locked_write: to write once the range is granted

    std::span<const std::uint8_t> cdb() const { return {cdb_bytes.data(), cdb_size}; }

    // Records the field pointer and returns invalid_field_in_cdb (SPC-4 4.5.2.4.2).
    SenseReason invalid_cdb_field(std::uint16_t byte, std::optional<std::uint8_t> bit = {}) {
        detail.field = FieldPointer{true, byte, bit};
        return SenseReason::invalid_field_in_cdb;
    }

    // Returns parameter data for a command with an allocation length (SPC-4 4.2.5.6): the
    // device server sends min(allocation length, data) bytes, and the transport sends what fits
    // its data-in buffer.
    void send_data(std::span<const std::uint8_t> data, std::uint32_t allocation_length) {
        const std::size_t n = std::min<std::size_t>(data.size(), allocation_length);
        result.transfer_bytes = n;
        const std::size_t copied = std::min(n, data_in.size());
        std::copy_n(data.begin(), copied, data_in.begin());
        result.data_in_bytes = static_cast<std::uint32_t>(copied);
    }
};

using TaskPtr = std::unique_ptr<Task>;

// Turns reason into status and sense, and runs done.
void finish(TaskPtr task, SenseReason reason);

}  // namespace itd::scsi
