// A blocking HTTP/1.1 client for the cluster stores (S3, the etcd JSON gateway), on Boost.Beast.
//
// One Client talks to one endpoint and keeps a pool of keep-alive connections to it. send()
// takes an idle connection (or opens one), writes the request, reads the whole response and
// puts the connection back unless either side asked to close it. Many threads may call send()
// at once; each call has a connection of its own for its duration. At most max_connections
// are open at a time: a caller beyond that waits for one to come back, within its request
// timeout.
//
// Each connection owns a small io_context that only the thread holding the connection runs,
// so no thread is shared and no lock is held during I/O. Every operation is asynchronous
// under the hood with a deadline (beast::tcp_stream's timer): connect + TLS handshake within
// connect_timeout, and write + read of one exchange within request_timeout. A connection
// whose exchange failed or timed out is closed, never reused.
//
// Reuse of an idle connection: before reusing one, the client peeks at its socket; a peer
// that closed it (EOF, reset, or stray bytes) makes the client drop it and take another. A
// server may still close a connection just as a request goes out on it. When that happens
// on a reused connection before any byte of the response arrived, and the method is
// idempotent (RFC 9110 9.2.2: GET, HEAD, PUT, DELETE, OPTIONS, TRACE), the client sends the
// request once more on a new connection. A POST is not resent: it returns unavailable,
// because the server may have applied it.
//
// TLS (https): OpenSSL through Boost.Asio SSL, TLS 1.2 or later, SNI, the peer's certificate
// verified against ca_file (or the system's default bundle) and the endpoint's host name or
// IP address.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace itd::http {

struct Endpoint {
    bool tls = false;
    std::string host;  // a name or an IP address; IPv6 without the brackets
    std::uint16_t port = 0;
};

// "http://HOST[:PORT]" / "https://HOST[:PORT]" (IPv6 in brackets), an optional trailing "/";
// the port defaults to 80 / 443. invalid_argument otherwise.
Result<Endpoint> parse_endpoint(std::string_view url);

// The Host header the client sends for the endpoint: "host" when the port is the scheme's
// default, "host:port" otherwise, IPv6 in brackets. Request signers (AWS SigV4) sign this.
std::string host_header(const Endpoint& endpoint);

struct Header {
    std::string name, value;
};

struct Request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string target;                  // path + query, already percent-encoded
    std::vector<Header> headers;         // Host and Content-Length are added by the client
    std::span<const std::uint8_t> body;  // borrowed for the call
};

struct Response {
    unsigned status = 0;
    std::vector<Header> headers;
    std::vector<std::uint8_t> body;
    std::optional<std::string_view> header(std::string_view name) const;  // case-insensitive
};

struct ClientOptions {
    std::chrono::milliseconds connect_timeout{3000};   // TCP connect and TLS handshake
    std::chrono::milliseconds request_timeout{30000};  // one exchange, and any wait for a slot
    std::size_t max_idle_connections = 16;             // kept open between requests
    std::size_t max_connections = 64;                  // open at once; callers beyond wait
    std::size_t max_response_body_bytes = 256u << 20;  // a larger response is an io_error
    std::string ca_file;  // TLS: verify against this CA bundle (empty: system default)
    // Non-empty: connect to this address (or name) instead of resolving the endpoint's host,
    // like curl --resolve. The Host header, SNI and certificate check still use the host.
    std::string connect_address;
};

// Blocking, thread-safe; keeps idle keep-alive connections to one endpoint and reuses them.
// Errors: unavailable for connect failures, timeouts, resets (the request may have been
// applied), and for a caller that waited request_timeout for a free connection;
// failed_precondition when the TLS peer fails verification or the TLS setup (ca_file) is
// bad; io_error for a response that breaks HTTP or exceeds max_response_body_bytes.
// An HTTP error status is NOT an error here: it comes back as a Response.
class Client {
  public:
    Client(Endpoint endpoint, ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    [[nodiscard]] Result<Response> send(const Request& request);
    const Endpoint& endpoint() const;

    // For tests and metrics: connections opened since construction, and idle ones now.
    std::uint64_t connections_opened() const;
    std::size_t idle_connections() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace itd::http
