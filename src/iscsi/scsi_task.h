// The transport state of one SCSI command on a connection: its CDB, its buffers, and where
// its write data stands (RFC 7143 4.2.5: immediate data, the unsolicited Data-Out sequence,
// and one sequence per R2T).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <vector>

#include "common/uninit_buffer.h"
#include "scsi/command.h"

namespace itd::iscsi {

// One outstanding R2T: the burst it asked for and how much of it has arrived.
struct R2tState {
    std::uint32_t ttt = 0;
    std::uint32_t offset_bytes = 0;
    std::uint32_t length_bytes = 0;
    std::uint32_t received_bytes = 0;
    std::uint32_t next_data_sn = 0;
};

struct ScsiTask {
    std::uint32_t itt = 0;
    std::uint32_t cmd_sn = 0;
    std::uint64_t lun_field = 0;
    std::vector<std::uint8_t> cdb;  // 6 to 16 bytes, more with an extended-CDB AHS
    scsi::TaskAttribute attribute = scsi::TaskAttribute::simple;
    bool read = false;
    bool write = false;
    std::uint32_t expected_length_bytes = 0;  // EDTL

    // EDTL bytes when write, not zeroed: Data-Out fills it in order before the command runs.
    UninitBytes data_out;
    // EDTL bytes when read, not zeroed (the SCSI core writes what it reports); shared because
    // the Data-In PDUs borrow it and may outlive the task.
    std::shared_ptr<std::uint8_t[]> data_in;

    // Write data bookkeeping. The unsolicited part is immediate data plus the unsolicited
    // Data-Out sequence; its end is known once a PDU with the F bit closes it.
    std::uint32_t received_bytes = 0;
    bool unsolicited_done = true;
    std::uint32_t unsolicited_next_offset = 0;
    std::uint32_t unsolicited_next_data_sn = 0;
    std::uint32_t next_r2t_offset = 0;  // first byte no R2T has asked for yet
    std::uint32_t next_r2t_sn = 0;
    std::vector<R2tState> r2ts;         // outstanding

    bool delivered = false;  // its turn in CmdSN order has come
    bool running = false;    // handed to the SCSI core
    bool aborted = false;    // a TMF aborted it while running: drop its response
    // Requested with aborted, for the SCSI core (scsi::Command::abort); given its state when
    // the command starts.
    std::stop_source abort{std::nostopstate};

    bool has_all_data() const { return !write || received_bytes == expected_length_bytes; }

    // Makes the task as new for another command, keeping what it can reuse without a heap
    // allocation: the room in its CDB and R2T list, its write buffer's when no bigger than
    // max_kept_bytes, and its stop state unless a stop was requested on it.
    void reset(std::size_t max_kept_bytes) {
        auto kept_cdb = std::move(cdb);
        auto kept_data_out = std::move(data_out);
        auto kept_r2ts = std::move(r2ts);
        std::stop_source kept_abort = std::move(abort);
        *this = ScsiTask{};
        kept_cdb.clear();
        cdb = std::move(kept_cdb);
        if (kept_data_out.capacity() <= max_kept_bytes) {
            kept_data_out.clear();
            data_out = std::move(kept_data_out);
        }
        kept_r2ts.clear();
        r2ts = std::move(kept_r2ts);
        if (!kept_abort.stop_requested()) abort = std::move(kept_abort);
    }
};

// A task management request answered once the commands it aborted have finished running.
struct PendingTmf {
    std::uint32_t itt = 0;
    std::vector<std::uint32_t> waiting_for;  // ITTs still running
};

}  // namespace itd::iscsi
