// A small HTTP/1.1 server for tests, on Boost.Beast: one thread, one coroutine per
// connection, 127.0.0.1 on a port the kernel picks. A handler answers each request and says how
// to misbehave (delay, close the connection after the answer, close without answering,
// chunked encoding). Optionally TLS with a certificate made for the test (make_test_cert).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"

namespace itd::http::testing {

struct ServerRequest {
    std::string method;
    std::string target;
    std::vector<Header> headers;
    std::vector<std::uint8_t> body;
    std::uint64_t connection_id = 0;        // 1, 2, … in accept order
    std::uint64_t index_on_connection = 0;  // 0 for a connection's first request

    std::string header(std::string_view name) const;  // case-insensitive; "" when absent
};

struct ServerReply {
    unsigned status = 200;
    std::vector<Header> headers;
    std::vector<std::uint8_t> body;
    bool chunked = false;                // Transfer-Encoding: chunked instead of Content-Length
    std::chrono::milliseconds delay{0};  // wait before answering
    bool close_after = false;          // close the connection silently after answering (keep-alive)
    bool connection_close = false;     // answer with "Connection: close", then close
    bool drop = false;                 // close the connection without answering
    std::int64_t content_length = -1;  // >= 0: send this Content-Length whatever the body (HEAD)

    static ServerReply text(unsigned status, std::string_view body);
};

using Handler = std::function<ServerReply(const ServerRequest&)>;

// A self-signed certificate (its own CA) for the given subjectAltName, e.g.
// "IP:127.0.0.1,DNS:localhost", with its private key, both PEM.
struct TestCert {
    std::string cert_pem;
    std::string key_pem;
};
TestCert make_test_cert(const std::string& subject_alt_name);

class TestServer {
  public:
    explicit TestServer(Handler handler, const TestCert* tls = nullptr);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    std::uint16_t port() const { return port_; }
    Endpoint endpoint() const { return Endpoint{tls_, "127.0.0.1", port_}; }
    std::uint64_t connections_accepted() const;
    std::uint64_t requests() const;
    std::uint64_t max_concurrent_connections() const;
    // Requests read and not yet answered, at most at once. Unlike connections, the server
    // counts these exactly: a connection the client closed may look open here a while.
    std::uint64_t max_concurrent_requests() const;

    struct State;

  private:
    bool tls_ = false;
    std::uint16_t port_ = 0;
    std::unique_ptr<State> state_;
    std::thread thread_;
};

// Accepts TCP connections and never reads from them: a peer that hangs (TLS handshake timeout).
class SilentServer {
  public:
    SilentServer();
    ~SilentServer();
    std::uint16_t port() const { return port_; }

  private:
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
};

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
std::uint16_t unused_port();

}  // namespace itd::http::testing
