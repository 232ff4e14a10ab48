// What a transport hands the SCSI core, and what it gets back. The SCSI core knows nothing of
// iSCSI: a transport decodes its own PDUs into a Command, collects the write data first, and
// turns a CommandResult into its own responses (data, status, sense, residuals).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <stop_token>

namespace itd::scsi {

// Identifies an I_T nexus (one initiator port talking to one target port). The SCSI core keeps
// unit attentions and reservations per nexus. See Target::register_nexus.
using NexusId = std::uint32_t;

// The names behind a NexusId (SAM-5 4.6.4): the initiator port (iSCSI: "iqn...,i,0x<isid>",
// what a TransportID carries) and the target port ("iqn...,t,0x<tpgt>").
struct NexusNames {
    std::string initiator_port;
    std::string target_port;
};

// SAM-5 5.3 task attributes.
enum class TaskAttribute : std::uint8_t { simple, ordered, head_of_queue, aca };

// SAM-5 5.3.1 status codes.
enum class Status : std::uint8_t {
    good = 0x00,
    check_condition = 0x02,
    condition_met = 0x04,
    busy = 0x08,
    reservation_conflict = 0x18,
    task_set_full = 0x28,
    aca_active = 0x30,
    task_aborted = 0x40,
};

struct Command {
    NexusId nexus = 0;
    // The 8-byte LUN field exactly as it came off the wire (SAM-5 4.7); the SCSI core decodes it.
    std::uint64_t lun_field = 0;
    std::span<const std::uint8_t> cdb;
    TaskAttribute attribute = TaskAttribute::simple;
    // The write data the initiator sent: exactly its expected data transfer length (which may
    // differ from what the CDB asks for; the handler decides what that means).
    std::span<const std::uint8_t> data_out;
    // Room for read data: its size is the initiator's expected data transfer length. Its
    // contents start undefined; a command writes the bytes it reports in data_in_bytes.
    std::span<std::uint8_t> data_in;
    // The transport can send read data from memory it does not own (CommandResult::
    // data_in_view) instead of data_in, holding CommandResult::data_in_owner until it is sent.
    bool accepts_data_in_view = false;
    // Requested when the transport aborts the command (a task management function, SAM-5 7).
    // done still runs exactly once, and its answer is dropped; a handler whose work outlives
    // its command (SANITIZE, which goes on after the abort) answers as soon as this is asked.
    std::stop_token abort;
};

// Fixed-format sense data (SPC-4 4.5.3) is 18 bytes; descriptor format may use more.
inline constexpr std::size_t kMaxSenseBytes = 96;

struct CommandResult {
    Status status = Status::good;
    std::uint8_t sense_bytes = 0;  // valid bytes in sense
    std::array<std::uint8_t, kMaxSenseBytes> sense{};
    // Bytes written into Command::data_in (never more than its size), or, when data_in_view
    // is not empty, the size of data_in_view.
    std::uint32_t data_in_bytes = 0;
    // Read data sent from where it lies (a memory volume's mapping) instead of data_in, only
    // when the Command accepts_data_in_view; data_in_owner keeps it mapped.
    std::span<const std::uint8_t> data_in_view;
    std::shared_ptr<const void> data_in_owner;
    // Bytes the CDB itself asks to transfer, in whichever direction (for a READ: blocks times
    // block size; for INQUIRY: the allocation length). The transport compares this with the
    // expected data transfer length to report residual overflow or underflow.
    std::uint64_t transfer_bytes = 0;
};

// Runs exactly once per command, on any thread.
using CommandDone = std::move_only_function<void(CommandResult)>;

}  // namespace itd::scsi
