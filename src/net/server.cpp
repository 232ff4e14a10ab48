#include "net/server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/check.h"
#include "net/socket_connection.h"

namespace itd::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
// How long a stop waits for connections to finish their running commands.
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr auto kDrainPoll = std::chrono::milliseconds(20);
}  // namespace

struct Server::Impl {
    iscsi::PortalGroup& portal_group;
    std::vector<std::unique_ptr<asio::io_context>> workers;
    std::vector<std::optional<asio::executor_work_guard<asio::io_context::executor_type>>> guards;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::size_t next_worker = 0;

    std::mutex mutex;
    std::unordered_map<SocketConnection*, std::weak_ptr<SocketConnection>> connections;
    std::atomic<bool> stopping{false};
    std::atomic<int> live_objects{0};

    Impl(iscsi::PortalGroup& pg, unsigned threads) : portal_group(pg) {
        if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
        for (unsigned i = 0; i < threads; ++i) {
            workers.push_back(std::make_unique<asio::io_context>(1));
            guards.emplace_back(asio::make_work_guard(*workers.back()));
        }
    }

    asio::io_context& control() { return *workers.front(); }

    void accept(tcp::acceptor& acceptor) {
        asio::io_context& worker = *workers[next_worker];
        next_worker = (next_worker + 1) % workers.size();
        acceptor.async_accept(worker, [this, &acceptor](boost::system::error_code ec,
                                                        tcp::socket socket) {
            if (stopping) return;
            if (!ec) start_connection(std::move(socket));
            accept(acceptor);
        });
    }

    void start_connection(tcp::socket socket) {
        auto conn = std::make_shared<SocketConnection>(
            std::move(socket), portal_group, [this](SocketConnection* c) {
                std::lock_guard lock(mutex);
                connections.erase(c);
            },
            live_objects);
        {
            std::lock_guard lock(mutex);
            connections.emplace(conn.get(), conn);
        }
        // start() runs on the connection's own thread, like everything else it does.
        asio::post(conn->executor(), [conn] { conn->start(); });
    }

    void begin_stop() {
        if (stopping.exchange(true)) return;
        for (auto& a : acceptors) {
            boost::system::error_code ec;
            a->close(ec);
        }
        std::vector<std::shared_ptr<SocketConnection>> live;
        {
            std::lock_guard lock(mutex);
            for (auto& [ptr, weak] : connections)
                if (auto c = weak.lock()) live.push_back(std::move(c));
        }
        for (auto& c : live) c->close_from_anywhere();
        drain(std::chrono::steady_clock::now() + kDrainTimeout);
    }

    // Waits (without blocking the loop) until every connection object is gone, so that no
    // command still runs against a volume, then lets the worker loops end.
    void drain(std::chrono::steady_clock::time_point deadline) {
        bool idle;
        {
            std::lock_guard lock(mutex);
            idle = connections.empty() && live_objects.load() == 0;
        }
        if (!idle && std::chrono::steady_clock::now() < deadline) {
            auto timer = std::make_shared<asio::steady_timer>(control(), kDrainPoll);
            timer->async_wait([this, timer, deadline](boost::system::error_code) { drain(deadline); });
            return;
        }
        for (auto& g : guards) g.reset();
        for (auto& w : workers) w->stop();
    }
};

Server::Server(iscsi::PortalGroup& portal_group, unsigned worker_threads)
    : impl_(std::make_unique<Impl>(portal_group, worker_threads)) {}

Server::~Server() = default;

Status Server::listen(const std::vector<ListenAddress>& addresses) {
    for (const auto& a : addresses) {
        boost::system::error_code ec;
        const bool any = a.host.empty() || a.host == "::";
        asio::ip::address address =
            any ? asio::ip::address(asio::ip::address_v6::any()) : asio::ip::make_address(a.host, ec);
        if (ec) return fail(Errc::invalid_argument, "bad listen address '" + a.host + "'");
        tcp::endpoint endpoint(address, a.port);
        auto acceptor = std::make_unique<tcp::acceptor>(impl_->control());
        acceptor->open(endpoint.protocol(), ec);
        if (ec && any) {
            // No IPv6 on this host: every IPv4 address instead.
            endpoint = tcp::endpoint(asio::ip::address_v4::any(), a.port);
            ec.clear();
            acceptor->open(endpoint.protocol(), ec);
        }
        if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        // "::" serves IPv4 too, as v4-mapped addresses, unless 0.0.0.0 on the same port is
        // listed as well (then the two sockets split the families between them).
        if (!ec && endpoint.address().is_v6() && any) {
            const bool v4_listed = std::any_of(addresses.begin(), addresses.end(), [&](const auto& o) {
                return o.host == "0.0.0.0" && o.port == a.port;
            });
            acceptor->set_option(asio::ip::v6_only(v4_listed), ec);
        }
        if (!ec) acceptor->bind(endpoint, ec);
        if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            return fail(Errc::unavailable, "cannot listen on " +
                                               (address.is_v6() ? "[" + address.to_string() + "]"
                                                                : address.to_string()) +
                                               ":" + std::to_string(a.port) + ": " + ec.message());
        }
        impl_->acceptors.push_back(std::move(acceptor));
    }
    return {};
}

std::vector<std::string> Server::local_addresses() const {
    std::vector<std::string> out;
    for (const auto& a : impl_->acceptors) {
        boost::system::error_code ec;
        auto ep = a->local_endpoint(ec);
        if (ec) continue;
        const auto addr = ep.address();
        out.push_back((addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
                      std::to_string(ep.port()));
    }
    return out;
}

void Server::run() {
    asio::signal_set signals(impl_->control(), SIGINT, SIGTERM);
    signals.async_wait([this](boost::system::error_code ec, int) {
        if (!ec) stop();
    });
    for (auto& a : impl_->acceptors) impl_->accept(*a);
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < impl_->workers.size(); ++i)
        threads.emplace_back([w = impl_->workers[i].get()] { w->run(); });
    impl_->workers.front()->run();
    for (auto& t : threads) t.join();
    boost::system::error_code ec;
    signals.cancel(ec);
}

void Server::stop() {
    asio::post(impl_->control(), [impl = impl_.get()] { impl->begin_stop(); });
}

}  // namespace itd::net
