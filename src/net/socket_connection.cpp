#include "net/socket_connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <iterator>
#include <utility>

namespace itd::net {

namespace asio = boost::asio;

namespace {
constexpr std::size_t kReadBufferBytes = 256 * 1024;
// A Data-Out data segment with at least this much still to come is read straight into its
// command's buffer; a smaller rest comes through the read buffer with whatever follows it.
constexpr std::size_t kMinInPlaceReadBytes = 16 * 1024;
// Above this much unsent output we stop reading until the client catches up.
constexpr std::size_t kMaxQueuedOutputBytes = 32u << 20;
// About this much data whose digest is computed here goes into one gather write: the CRC
// reads it just before the kernel copies it, and this much stays in cache in between.
constexpr std::size_t kDigestedBytesPerWrite = 256 * 1024;
constexpr auto kLoginTimeout = std::chrono::seconds(30);
}  // namespace

SocketConnection::SocketConnection(asio::ip::tcp::socket socket, iscsi::PortalGroup& portal_group,
                                   OnClosed on_closed, std::atomic<int>& live)
    : socket_(std::move(socket)),
      login_timer_(socket_.get_executor()),
      connection_(portal_group, *this),
      on_closed_(std::move(on_closed)),
      live_(live),
      read_buffer_(kReadBufferBytes) {
    ++live_;
}

SocketConnection::~SocketConnection() { --live_; }

void SocketConnection::start() {
    boost::system::error_code ec;
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    auto remote = socket_.remote_endpoint(ec);
    if (!ec) {
        peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
        connection_.set_peer_address(remote.address().to_string());
    }
    spdlog::debug("connection from {}", peer_);
    auto local = socket_.local_endpoint(ec);
    if (!ec) {
        const auto addr = local.address();
        std::string text = addr.is_v6() && !addr.to_v6().is_v4_mapped()
                               ? "[" + addr.to_string() + "]"
                               : (addr.is_v6() ? asio::ip::make_address_v4(asio::ip::v4_mapped,
                                                                           addr.to_v6())
                                                     .to_string()
                                               : addr.to_string());
        connection_.set_local_address(text + ":" + std::to_string(local.port()));
    }
    std::weak_ptr<SocketConnection> weak = shared_from_this();
    login_timer_.expires_after(kLoginTimeout);
    login_timer_.async_wait([weak](boost::system::error_code wait_ec) {
        auto self = weak.lock();
        if (wait_ec || !self || self->logged_in_) return;
        spdlog::info("connection from {}: no login within {} s, closing", self->peer_,
                     kLoginTimeout.count());
        self->connection_.close();
        self->close_now();
    });
    connection_.set_close_hook([weak] {
        if (auto self = weak.lock()) self->close_from_anywhere();
    });
    read_more();
}

void SocketConnection::close_from_anywhere() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->connection_.close();
        self->close_now();
    });
}

void SocketConnection::run(scsi::Target& target, std::uint32_t itt, const scsi::Command& command) {
    // The SCSI core may finish on its own thread (file I/O pool) or inline; either way the
    // result comes back to this socket's thread, and never inside this call.
    // Completions queue up and one posted handler delivers all that are there when it runs:
    // a handler per command would allocate (asio keeps few spare handler blocks per thread).
    target.execute(command, [self = shared_from_this(), itt](scsi::CommandResult result) {
        bool post = false;
        {
            std::lock_guard lock(self->completions_mutex_);
            self->completions_.push_back(Completion{itt, std::move(result)});
            post = !std::exchange(self->completions_posted_, true);
        }
        if (post) asio::post(self->socket_.get_executor(), [self] { self->deliver_completions(); });
    });
}

void SocketConnection::deliver_completions() {
    {
        std::lock_guard lock(completions_mutex_);
        std::swap(delivering_, completions_);
        completions_posted_ = false;
    }
    for (const Completion& c : delivering_) connection_.on_scsi_done(c.itt, c.result);
    delivering_.clear();
    pump();
}

void SocketConnection::read_more() {
    if (reading_ || socket_closed_ || connection_.closing()) return;
    if (queued_bytes_ > kMaxQueuedOutputBytes) return;  // resumed by pump()
    reading_ = true;
    if (auto window = connection_.receive_window(); window.size() >= kMinInPlaceReadBytes) {
        socket_.async_read_some(
            asio::buffer(window.data(), window.size()),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                self->reading_ = false;
                if (ec) {
                    self->connection_.close();
                    self->close_now();
                    return;
                }
                self->connection_.received_in_place(n);
                self->pump();
                self->read_more();
            });
        return;
    }
    socket_.async_read_some(
        asio::buffer(read_buffer_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            self->reading_ = false;
            if (ec) {
                self->connection_.close();
                self->close_now();
                return;
            }
            self->connection_.receive(std::span(self->read_buffer_.data(), n));
            self->log_login();
            self->pump();
            self->read_more();
        });
}

void SocketConnection::pump() {
    if (socket_closed_) return;
    const std::size_t before = pending_.size();
    connection_.take_output(pending_, iscsi::Connection::Digests::deferred);
    for (std::size_t i = before; i < pending_.size(); ++i) queued_bytes_ += pending_[i].size();
    if (!write_in_flight_ && !pending_.empty()) {
        write_in_flight_ = true;
        // One gather write for everything queued so far, or, when there are data digests to
        // compute, for the chunks up to the one that brings them to kDigestedBytesPerWrite.
        std::size_t take = 0;
        std::size_t digested = 0;
        while (take < pending_.size() && digested < kDigestedBytesPerWrite) {
            if (pending_[take].digest_pending) digested += pending_[take].data.size();
            ++take;
        }
        if (take == pending_.size()) {
            std::swap(in_flight_, pending_);
        } else {
            std::move(pending_.begin(), pending_.begin() + take, std::back_inserter(in_flight_));
            pending_.erase(pending_.begin(), pending_.begin() + take);
        }
        gather_.clear();
        for (auto& c : in_flight_) {
            iscsi::finish_data_digest(c);
            for (auto piece : c.pieces()) {
                if (!piece.empty()) gather_.emplace_back(piece.data(), piece.size());
            }
        }
        // A view of gather_, not a copy: asio keeps the buffer sequence it is given.
        asio::async_write(socket_, std::span<const asio::const_buffer>(gather_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              self->write_in_flight_ = false;
                              self->queued_bytes_ -= n;
                              self->in_flight_.clear();
                              if (ec) {
                                  self->connection_.close();
                                  self->close_now();
                                  return;
                              }
                              self->pump();
                              self->read_more();
                          });
        return;
    }
    if (!write_in_flight_ && connection_.closing()) close_now();
}

void SocketConnection::log_login() {
    const auto& session = connection_.session();
    if (logged_in_ || !session) return;
    logged_in_ = true;
    login_timer_.cancel();
    if (session->type == iscsi::SessionType::discovery) {
        spdlog::info("discovery session from {} ({})", peer_, session->initiator_name);
    } else {
        spdlog::info("login from {} ({}) to {}, TSIH {}", peer_, session->initiator_name,
                     session->target_name, session->tsih);
    }
}

void SocketConnection::close_now() {
    if (socket_closed_) return;
    socket_closed_ = true;
    login_timer_.cancel();
    if (const char* why = connection_.close_reason()) {
        spdlog::warn("connection from {} closed: {}", peer_, why);
    } else if (logged_in_) {
        spdlog::info("connection from {} closed", peer_);
    } else {
        spdlog::debug("connection from {} closed before login completed", peer_);
    }
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    if (on_closed_) on_closed_(this);
}

}  // namespace itd::net
