// One accepted TCP socket driving one iscsi::Connection: reads feed the connection, its output
// goes out in gather writes, and SCSI commands it issues complete back on this socket's
// thread. Reading pauses while too much output is queued, so a client that does not read
// cannot make us buffer without bound.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "iscsi/connection.h"

namespace itd::net {

class SocketConnection : public std::enable_shared_from_this<SocketConnection>,
                         private iscsi::CommandRunner {
public:
    using OnClosed = std::function<void(SocketConnection*)>;

    // live counts the connection objects that exist (the server waits for it to reach zero
    // on stop, so that no command still runs against a volume).
    SocketConnection(boost::asio::ip::tcp::socket socket, iscsi::PortalGroup& portal_group,
                     OnClosed on_closed, std::atomic<int>& live);
    ~SocketConnection() override;

    void start();
    boost::asio::any_io_executor executor() { return socket_.get_executor(); }
    // Closes the connection from any thread.
    void close_from_anywhere();

private:
    void run(scsi::Target& target, std::uint32_t itt, const scsi::Command& command) override;
    void deliver_completions();
    void read_more();
    void pump();
    void close_now();
    void log_login();  // once, when the login completes

    boost::asio::ip::tcp::socket socket_;
    // A connection must finish its login within this time, or it is closed: an idle socket
    // that never logs in would otherwise hold its buffers for ever.
    boost::asio::steady_timer login_timer_;
    iscsi::Connection connection_;
    OnClosed on_closed_;
    std::atomic<int>& live_;
    std::vector<std::uint8_t> read_buffer_;
    // Output not yet handed to a write, and the output of the write in flight with its gather
    // list (the chunks and the read buffers they borrow live until the write completes). They
    // keep their room between writes.
    std::vector<iscsi::OutputChunk> pending_;
    std::vector<iscsi::OutputChunk> in_flight_;
    std::vector<boost::asio::const_buffer> gather_;
    // Finished SCSI commands, from any thread, waiting for this socket's thread; delivering_
    // keeps its room between rounds.
    struct Completion {
        std::uint32_t itt;
        scsi::CommandResult result;
    };
    std::mutex completions_mutex_;
    std::vector<Completion> completions_;  // guarded by completions_mutex_
    bool completions_posted_ = false;      // guarded: a deliver_completions() is on its way
    std::vector<Completion> delivering_;
    std::size_t queued_bytes_ = 0;
    bool reading_ = false;
    bool write_in_flight_ = false;
    bool socket_closed_ = false;
    bool logged_in_ = false;
    std::string peer_ = "?";  // "address:port" of the initiator, for logs
};

}  // namespace itd::net
