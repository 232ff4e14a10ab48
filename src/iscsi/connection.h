// One iSCSI connection, sans I/O: bytes from the socket go in through receive(), serialized
// PDUs come out through take_output(), and SCSI commands leave through a CommandRunner whose
// completions come back through on_scsi_done(). Nothing here touches a socket or a thread, so
// a test drives it with scripted bytes.
//
//   [login] --Login Response T=1 NSG=FFP--> [full_feature] --Logout Response--> [closing]
//      |                                          |                                 |
//      +--login failure / bad PDU--> [closing] <--+--protocol error / shutdown------+
//
// In full feature phase (RFC 7143 4.2.2): non-immediate commands are delivered in CmdSN
// order inside the window [ExpCmdSN, MaxCmdSN] and outside it are silently ignored; write data
// arrives as immediate data, unsolicited Data-Out (InitialR2T=No) and Data-Out answering our
// R2Ts; a command runs once it is delivered and has all its data; read data leaves as
// Data-In PDUs with the status in the last one when there is no sense data.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/buffer_pool.h"
#include "iscsi/login.h"
#include "iscsi/pdu.h"
#include "iscsi/pdu_reader.h"
#include "iscsi/portal_group.h"
#include "iscsi/scsi_task.h"

namespace itd::iscsi {

// Runs SCSI commands for a connection. run() must not complete inline: it arranges for
// Connection::on_scsi_done(itt, result) to be called later on the connection's own thread.
class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    virtual void run(scsi::Target& target, std::uint32_t itt, const scsi::Command& command) = 0;
};

class Connection {
public:
    Connection(PortalGroup& portal_group, CommandRunner& runner);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Consumes bytes received from the socket. Stops early once the connection is closing.
    void receive(std::span<const std::uint8_t> bytes);

    // Write data can skip the read buffer: while a Data-Out's data segment is being read this
    // is the part of the command's buffer it has yet to fill (else empty). The socket reads
    // into it and reports the bytes with received_in_place().
    std::span<std::uint8_t> receive_window() const;
    void received_in_place(std::size_t n);

    // A SCSI command finished (on this connection's thread).
    void on_scsi_done(std::uint32_t itt, const scsi::CommandResult& result);

    // Serialized PDUs ready for the socket, in order, as gather lists (read data is borrowed
    // from the command's buffer or a memory volume's mapping, not copied).
    bool has_output() const { return !output_.empty(); }
    // Moves them to the end of into (which keeps its room: no allocation once warm), with
    // their data digests computed, or with Digests::deferred left for the caller to finish
    // (finish_data_digest) just before it sends each chunk.
    enum class Digests { computed, deferred };
    void take_output(std::vector<OutputChunk>& into, Digests digests = Digests::computed);
    std::vector<OutputChunk> take_output();

    // True once the connection should close after its output has been sent.
    bool closing() const { return phase_ == Phase::closing; }
    // True while SCSI commands are still running (their buffers must outlive them).
    bool has_running_commands() const;

    // Ends the connection now (daemon shutdown, session reinstatement, socket loss).
    void close();

    // How another thread asks this connection to close (session reinstatement, shutdown);
    // the I/O layer supplies it, since only it knows the connection's thread.
    void set_close_hook(std::function<void()> hook) { close_hook_ = std::move(hook); }
    // Why the connection decided to close itself, for the log; null when it did not (logout,
    // the peer went away) or the reason is not a framing error.
    const char* close_reason() const { return close_reason_; }

    const std::shared_ptr<Session>& session() const { return session_; }

    // The portal this connection came in on, "host:port", for SendTargets answers when the
    // target lists no addresses of its own (a wildcard listener).
    void set_local_address(std::string address) { local_address_ = std::move(address); }
    // The initiator's IP address without port ("10.0.0.7", "::1", "::ffff:127.0.0.1"), for
    // the targets' allow lists. Unset (""), only name rules can admit the initiator.
    void set_peer_address(std::string address) { peer_address_ = std::move(address); }

private:
    // Read buffer bytes a connection keeps for its next commands: eight 1 MiB reads.
    static constexpr std::size_t kKeptReadBufferBytes = 8u << 20;
    using TaskMap = std::unordered_map<std::uint32_t, std::unique_ptr<ScsiTask>>;
    enum class Phase : std::uint8_t { login, full_feature, closing };
    // A non-immediate PDU waiting for its CmdSN. A rejected SCSI command still holds its slot
    // (valid = false) so that the window moves past it.
    struct Queued {
        Pdu pdu;
        bool valid = true;
    };

    // Receiving.
    void handle_pdu(Pdu pdu);
    void handle_login_pdu(const Pdu& pdu);
    void handle_full_feature_pdu(Pdu pdu);
    void deliver(Queued queued);           // a PDU whose turn in CmdSN order has come
    void deliver_in_order();               // delivers queued PDUs that are now in order
    bool in_window(std::uint32_t cmd_sn);
    LoginConfig login_config();
    void handle_nop_out(const Pdu& pdu);
    void handle_text(const Pdu& pdu);
    void handle_logout(const Pdu& pdu);
    void handle_task_management(const Pdu& pdu);

    // SCSI (connection_scsi.cpp).
    bool create_task(const Pdu& pdu);      // false: rejected or answered at once
    void erase_task(std::uint32_t itt);    // releases its buffers from the budget
    std::unique_ptr<ScsiTask> new_task();  // a spare one when there is one
    void insert_task(std::unique_ptr<ScsiTask> task);
    // Removes the task at it from tasks_, keeping it and its map node as spares.
    TaskMap::iterator recycle_task(TaskMap::iterator it);
    void handle_data_out(const Pdu& pdu);
    // Where a Data-Out's data goes when the header shows it is in order for its command: the
    // command's buffer (the reader writes it there), else empty (collected, then checked).
    std::span<std::uint8_t> data_out_placement(const Bhs& bhs);
    void on_framing_error(FramingError error);
    void start_task(ScsiTask& task);       // delivered: ask for data, or run
    void send_r2ts(ScsiTask& task);
    void maybe_run(ScsiTask& task);
    void fail_data_phase(ScsiTask& task);
    void send_read_data_and_status(ScsiTask& task, const scsi::CommandResult& result);

    // Task management (connection_tmf.cpp).
    void on_aborted_task_done(std::uint32_t itt);
    void consume_cmd_sn(std::uint32_t cmd_sn);  // RFC 7143 11.6.1 b
    void send_tmf_response(std::uint32_t itt, std::uint8_t response);
    // Aborts the task itt or, when itt is kReservedTag, every task of lun_field (of every LUN
    // when it is empty); returns the ITTs of those still running.
    std::vector<std::uint32_t> abort_tasks(std::uint32_t itt_or_reserved,
                                           std::optional<std::uint64_t> lun_field);

    // Sending.
    void send(Pdu pdu);
    void send_borrowed(const Pdu& pdu, std::span<const std::uint8_t> data,
                       const std::shared_ptr<const void>& owner);
    void send_reject(const Bhs& rejected, std::uint8_t reason);
    void fill_response_sns(Bhs& bhs, bool advance_stat_sn);
    std::uint32_t max_cmd_sn();
    void protocol_error(const Bhs& bhs, std::uint8_t reason);

    PortalGroup& portal_group_;
    CommandRunner& runner_;
    Phase phase_ = Phase::login;
    PduReader reader_;
    std::unique_ptr<Login> login_;
    std::shared_ptr<Session> session_;
    const TargetEntry* target_ = nullptr;  // normal sessions
    SessionParams params_;

    // Sequence numbers (RFC 7143 4.2.2). With one connection per session the connection
    // keeps the session's CmdSN window too.
    std::uint32_t stat_sn_ = 0;
    std::uint32_t exp_cmd_sn_ = 0;
    std::uint32_t last_max_cmd_sn_ = 0;
    std::uint32_t next_ttt_ = 1;

    // Non-immediate PDUs that arrived ahead of ExpCmdSN, waiting for their turn.
    std::vector<Queued> out_of_order_;
    TaskMap tasks_;  // by ITT
    // Finished tasks and their map nodes, reused so that a command allocates nothing here.
    std::vector<std::unique_ptr<ScsiTask>> spare_tasks_;
    std::vector<TaskMap::node_type> spare_nodes_;
    std::size_t running_ = 0;  // commands handed to the runner and not yet done
    std::uint64_t buffered_bytes_ = 0;  // data buffers held by tasks_
    // Read buffers come from here and go back when sent (from a memory volume, untouched).
    BufferPool read_buffers_{kKeptReadBufferBytes};
    // A TMF waiting for aborted commands that were already running to finish.
    std::vector<PendingTmf> pending_tmfs_;
    // TARGET COLD RESET answered or about to be: the connection closes once the answer is out.
    bool cold_reset_pending_ = false;

    std::function<void()> close_hook_;
    const char* close_reason_ = nullptr;
    std::string local_address_;
    std::string peer_address_;
    std::vector<OutputChunk> output_;
};

}  // namespace itd::iscsi
