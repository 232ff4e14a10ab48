// The I/O side of the daemon: listening sockets, one event loop per worker thread, and the
// sockets of accepted connections, each driving a sans-I/O iscsi::Connection. A connection and
// its commands stay on the thread that accepted it; SCSI completions, which may come from any
// thread, are posted back there (DESIGN.md "Threading").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "iscsi/portal_group.h"

namespace itd::net {

struct ListenAddress {
    std::string host;  // "" or "::" = every IPv4 and IPv6 address; "0.0.0.0" = every IPv4
    std::uint16_t port = 3260;
};

class Server {
public:
    Server(iscsi::PortalGroup& portal_group, unsigned worker_threads);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds every address; fails (naming the address) when one cannot be bound.
    [[nodiscard]] Status listen(const std::vector<ListenAddress>& addresses);

    // The bound addresses as "host:port" ("[v6]:port"), with real ports for port 0.
    std::vector<std::string> local_addresses() const;

    // Serves until stop(); returns once every connection has closed and every thread ended.
    void run();

    // Stops accepting, closes every connection, lets running commands finish. Thread-safe.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace itd::net
