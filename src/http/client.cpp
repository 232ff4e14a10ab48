#include "http/client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/vector_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <condition_variable>
#include <mutex>

#include "common/check.h"

namespace itd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 9110 9.2.2: a request whose effect is the same when sent twice may be resent after a
// connection failed under it.
bool is_idempotent(bhttp::verb method) {
    switch (method) {
        case bhttp::verb::get:
        case bhttp::verb::head:
        case bhttp::verb::put:
        case bhttp::verb::delete_:
        case bhttp::verb::options:
        case bhttp::verb::trace:
            return true;
        default:
            return false;
    }
}

bool is_ip_address(const std::string& host) {
    error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

// One connection: its own io_context, run only by the thread that holds the connection.
struct Connection {
    asio::io_context io{1};  // declared first: destroyed after the streams that use it
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;
    std::string verify_failure;  // why the TLS peer was refused, filled by the verify callback

    // Beast reads at most the buffer's free capacity per call (and no less than 512 bytes):
    // without room reserved, a 256 KiB body would take 512 reads of 512 bytes.
    Connection() { buffer.reserve(64 * 1024); }

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

    // Runs the io_context until the operation that start() begins has completed. The
    // stream's timer bounds it: on expiry the stream closes and the operation completes with
    // beast::error::timeout.
    template <typename Start>
    error_code run(Start&& start) {
        std::optional<error_code> result;
        start([&result](error_code ec, auto&&...) { result = ec; });
        io.restart();
        io.run();
        ITD_CHECK(result.has_value());
        return *result;
    }

    // An idle connection is reusable while the peer has neither closed it nor sent anything
    // (a stray byte would be taken for the next response).
    bool still_open() {
        if (buffer.size() != 0) return false;
        char byte;
        const ssize_t n =
            ::recv(lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
};

// Checks the chain (OpenSSL's verdict) and then the leaf against the endpoint's host, and
// remembers why it refused.
class VerifyPeer {
  public:
    VerifyPeer(const std::string& host, std::string* failure)
        : host_check_(host), failure_(failure) {}

    bool operator()(bool preverified, asio::ssl::verify_context& ctx) {
        X509_STORE_CTX* store = ctx.native_handle();
        if (!preverified) {
            *failure_ = std::string("certificate verification failed: ") +
                        X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
            return false;
        }
        if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
        if (host_check_(preverified, ctx)) return true;
        *failure_ = "certificate does not match the host name";
        return false;
    }

  private:
    asio::ssl::host_name_verification host_check_;
    std::string* failure_;
};

struct ExchangeOutcome {
    error_code ec;
    bool got_response_bytes = false;
    bool keep_alive = false;
    Response response;
};

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view url) {
    const auto bad = [url](std::string_view why) {
        return fail(Errc::invalid_argument,
                    "endpoint '" + std::string(url) + "': " + std::string(why) +
                        " (expected http://HOST[:PORT] or https://HOST[:PORT])");
    };
    Endpoint ep;
    std::string_view rest;
    if (starts_with_nocase(url, "http://")) {
        rest = url.substr(7);
        ep.port = 80;
    } else if (starts_with_nocase(url, "https://")) {
        rest = url.substr(8);
        ep.tls = true;
        ep.port = 443;
    } else {
        return bad("the scheme is not http or https");
    }
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
        return bad("only a host and a port may follow the scheme");
    }

    std::string_view host, port;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return bad("unclosed '['");
        host = rest.substr(1, close - 1);
        if (host.find(':') == std::string_view::npos) return bad("brackets hold an IPv6 address");
        for (char c : host) {
            if (!is_hex(c) && c != ':' && c != '.') return bad("bad IPv6 address");
        }
        const std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad("junk after ']'");
            port = after.substr(1);
            if (port.empty()) return bad("empty port");
        }
    } else {
        const std::size_t colon = rest.find(':');
        host = rest.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = rest.substr(colon + 1);
            if (port.empty()) return bad("empty port");
            if (port.find(':') != std::string_view::npos) {
                return bad("an IPv6 address goes in brackets");
            }
        }
        for (char c : host) {
            if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return bad("bad host name");
        }
    }
    if (host.empty()) return bad("no host");
    ep.host = std::string(host);
    if (!port.empty()) {
        unsigned value = 0;
        if (port.size() > 5) return bad("bad port");
        for (char c : port) {
            if (!is_digit(c)) return bad("bad port");
            value = value * 10 + unsigned(c - '0');
        }
        if (value == 0 || value > 65535) return bad("port out of range");
        ep.port = std::uint16_t(value);
    }
    return ep;
}

std::string host_header(const Endpoint& endpoint) {
    std::string h =
        endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
    const std::uint16_t default_port = endpoint.tls ? 443 : 80;
    if (endpoint.port != default_port) h += ":" + std::to_string(endpoint.port);
    return h;
}

std::optional<std::string_view> Response::header(std::string_view name) const {
    for (const Header& h : headers) {
        if (iequals(h.name, name)) return std::string_view(h.value);
    }
    return std::nullopt;
}

struct Client::Impl {
    Impl(Endpoint ep, ClientOptions opts);

    Result<Response> send(const Request& request);

    struct Lease {
        std::unique_ptr<Connection> conn;
        bool reused = false;
    };
    // An idle connection that is still open, or a new one; waits for a slot until deadline.
    // fresh: always a new connection.
    Result<Lease> acquire(Clock::time_point deadline, bool fresh);
    void release(std::unique_ptr<Connection> conn, bool keep);
    Result<std::unique_ptr<Connection>> connect();
    ExchangeOutcome exchange(Connection& conn, const Request& request);
    std::string where() const { return (endpoint.tls ? "https://" : "http://") + host; }

    const Endpoint endpoint;
    const ClientOptions options;
    const std::string host;  // the Host header
    const bool host_is_ip;
    std::optional<asio::ssl::context> ssl_ctx;
    std::string tls_setup_error;  // non-empty: every send fails with it

    mutable std::mutex mutex;
    std::condition_variable slot_freed;
    std::vector<std::unique_ptr<Connection>> idle;  // most recently used last
    std::size_t open = 0;                           // idle + in use
    std::atomic<std::uint64_t> opened{0};
};

Client::Impl::Impl(Endpoint ep, ClientOptions opts)
    : endpoint(std::move(ep)),
      options(std::move(opts)),
      host(host_header(endpoint)),
      host_is_ip(is_ip_address(endpoint.host)) {
    ITD_CHECK(options.max_connections > 0);
    if (!endpoint.tls) return;
    ssl_ctx.emplace(asio::ssl::context::tls_client);
    error_code ec;
    ssl_ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1,
                         ec);
    if (!ec) ssl_ctx->set_verify_mode(asio::ssl::verify_peer, ec);
    if (!ec) {
        if (options.ca_file.empty()) {
            ssl_ctx->set_default_verify_paths(ec);
        } else {
            ssl_ctx->load_verify_file(options.ca_file, ec);
        }
    }
    if (ec) {
        tls_setup_error = "TLS setup for " + where() +
                          (options.ca_file.empty() ? "" : " (ca_file " + options.ca_file + ")") +
                          ": " + ec.message();
    }
}

Result<std::unique_ptr<Connection>> Client::Impl::connect() {
    auto conn = std::make_unique<Connection>();
    // Synchronous: a numeric host resolves at once; a name waits for the system resolver,
    // which has its own timeouts (resolv.conf).
    tcp::resolver resolver(conn->io);
    error_code ec;
    const std::string& address =
        options.connect_address.empty() ? endpoint.host : options.connect_address;
    const auto targets = resolver.resolve(address, std::to_string(endpoint.port),
                                          tcp::resolver::numeric_service, ec);
    if (ec) return fail(Errc::unavailable, "resolve " + address + ": " + ec.message());

    if (endpoint.tls) {
        conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(conn->io, *ssl_ctx);
    } else {
        conn->plain = std::make_unique<beast::tcp_stream>(conn->io);
    }
    beast::tcp_stream& stream = conn->lowest();
    // One deadline for connect and handshake: the stream's timer covers every operation
    // started until it is set again.
    stream.expires_after(options.connect_timeout);
    ec = conn->run([&](auto handler) { stream.async_connect(targets, std::move(handler)); });
    if (ec) {
        return fail(Errc::unavailable,
                    "connect to " + where() + ": " +
                        (ec == beast::error::timeout ? "timed out" : ec.message()));
    }
    stream.socket().set_option(tcp::no_delay(true), ec);

    if (endpoint.tls) {
        SSL* ssl = conn->tls->native_handle();
        // SNI names a host, never an address (RFC 6066 3).
        if (!host_is_ip && !SSL_set_tlsext_host_name(ssl, endpoint.host.c_str())) {
            return fail(Errc::failed_precondition, "TLS: cannot set server name " + endpoint.host);
        }
        conn->tls->set_verify_callback(VerifyPeer(endpoint.host, &conn->verify_failure));
        ec = conn->run([&](auto handler) {
            conn->tls->async_handshake(asio::ssl::stream_base::client, std::move(handler));
        });
        if (ec) {
            if (!conn->verify_failure.empty()) {
                return fail(Errc::failed_precondition,
                            "TLS with " + where() + ": " + conn->verify_failure);
            }
            return fail(Errc::unavailable,
                        "TLS handshake with " + where() + ": " +
                            (ec == beast::error::timeout ? "timed out" : ec.message()));
        }
    }
    stream.expires_never();
    opened.fetch_add(1, std::memory_order_relaxed);
    return conn;
}

Result<Client::Impl::Lease> Client::Impl::acquire(Clock::time_point deadline, bool fresh) {
    std::unique_lock lock(mutex);
    for (;;) {
        if (!fresh) {
            // Most recently used first: the likeliest to be open still.
            while (!idle.empty()) {
                std::unique_ptr<Connection> conn = std::move(idle.back());
                idle.pop_back();
                if (conn->still_open()) return Lease{std::move(conn), true};
                --open;  // the peer closed it while idle
            }
        } else if (open >= options.max_connections && !idle.empty()) {
            idle.erase(idle.begin());  // make room for the new connection: drop the oldest
            --open;
        }
        if (open < options.max_connections) {
            ++open;
            lock.unlock();
            auto conn = connect();
            if (!conn) {
                release(nullptr, false);
                return std::unexpected(std::move(conn.error()));
            }
            return Lease{std::move(*conn), false};
        }
        if (slot_freed.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
            open >= options.max_connections) {
            return fail(Errc::unavailable,
                        "no free connection to " + where() + " within the request timeout (" +
                            std::to_string(options.max_connections) + " in use)");
        }
    }
}

void Client::Impl::release(std::unique_ptr<Connection> conn, bool keep) {
    std::unique_ptr<Connection> drop;
    {
        const std::lock_guard lock(mutex);
        if (conn && keep && idle.size() < options.max_idle_connections) {
            idle.push_back(std::move(conn));
        } else {
            drop = std::move(conn);
            --open;
        }
    }
    slot_freed.notify_one();
    // drop closes the socket here, outside the lock.
}

ExchangeOutcome Client::Impl::exchange(Connection& conn, const Request& request) {
    ExchangeOutcome out;
    bhttp::request<bhttp::span_body<const std::uint8_t>> req{request.method, request.target, 11};
    bool has_host = false;
    for (const Header& h : request.headers) {
        if (iequals(h.name, "host")) has_host = true;
        req.insert(h.name, h.value);
    }
    if (!has_host) req.set(bhttp::field::host, host);
    req.body() = beast::span<const std::uint8_t>(request.body.data(), request.body.size());
    // A body, or a method that carries one, says its length; a bodiless GET says nothing.
    if (!request.body.empty() || request.method == bhttp::verb::put ||
        request.method == bhttp::verb::post || request.method == bhttp::verb::patch) {
        req.content_length(request.body.size());
    }

    bhttp::response_parser<bhttp::vector_body<std::uint8_t>> parser;
    parser.body_limit(std::uint64_t(options.max_response_body_bytes));
    parser.header_limit(64 * 1024);
    // RFC 9112 6.3: a response to HEAD has no body whatever its Content-Length says.
    if (request.method == bhttp::verb::head) parser.skip(true);

    beast::tcp_stream& stream = conn.lowest();
    stream.expires_after(options.request_timeout);  // write and read together
    if (conn.tls) {
        out.ec = conn.run([&](auto h) { bhttp::async_write(*conn.tls, req, std::move(h)); });
        if (!out.ec) {
            out.ec = conn.run(
                [&](auto h) { bhttp::async_read(*conn.tls, conn.buffer, parser, std::move(h)); });
        }
    } else {
        out.ec = conn.run([&](auto h) { bhttp::async_write(*conn.plain, req, std::move(h)); });
        if (!out.ec) {
            out.ec = conn.run(
                [&](auto h) { bhttp::async_read(*conn.plain, conn.buffer, parser, std::move(h)); });
        }
    }
    out.got_response_bytes = parser.got_some() || conn.buffer.size() != 0;
    if (out.ec) return out;
    stream.expires_never();

    auto& res = parser.get();
    out.keep_alive = parser.keep_alive();
    out.response.status = res.result_int();
    for (const auto& field : res) {
        out.response.headers.push_back(
            Header{std::string(field.name_string()), std::string(field.value())});
    }
    out.response.body = std::move(res.body());
    return out;
}

Result<Response> Client::Impl::send(const Request& request) {
    if (!tls_setup_error.empty()) return fail(Errc::failed_precondition, tls_setup_error);
    const Clock::time_point deadline = Clock::now() + options.request_timeout;
    bool fresh = false;
    for (;;) {
        auto lease = acquire(deadline, fresh);
        if (!lease) return std::unexpected(std::move(lease.error()));
        ExchangeOutcome out = exchange(*lease->conn, request);
        if (!out.ec) {
            release(std::move(lease->conn), out.keep_alive);
            return std::move(out.response);
        }
        release(std::move(lease->conn), false);

        // The server closed a kept-alive connection just as the request went out: nothing
        // came back, so resend an idempotent request once on a new connection.
        if (lease->reused && !fresh && !out.got_response_bytes && out.ec != beast::error::timeout &&
            is_idempotent(request.method)) {
            fresh = true;
            continue;
        }
        const std::string what =
            std::string(bhttp::to_string(request.method)) + " " + where() + request.target;
        if (out.ec == beast::error::timeout) {
            return fail(Errc::unavailable, what + ": no response within " +
                                               std::to_string(options.request_timeout.count()) +
                                               " ms");
        }
        if (out.ec == bhttp::error::body_limit) {
            return fail(Errc::io_error, what + ": response body larger than " +
                                            std::to_string(options.max_response_body_bytes) +
                                            " bytes");
        }
        if (out.ec.category() == bhttp::make_error_code(bhttp::error::need_more).category() &&
            out.ec != bhttp::error::end_of_stream && out.ec != bhttp::error::partial_message) {
            return fail(Errc::io_error, what + ": malformed response: " + out.ec.message());
        }
        return fail(Errc::unavailable, what + ": " + out.ec.message());
    }
}

Client::Client(Endpoint endpoint, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(endpoint), std::move(options))) {}

Client::~Client() = default;

Result<Response> Client::send(const Request& request) {
    return impl_->send(request);
}

const Endpoint& Client::endpoint() const {
    return impl_->endpoint;
}

std::uint64_t Client::connections_opened() const {
    return impl_->opened.load(std::memory_order_relaxed);
}

std::size_t Client::idle_connections() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->idle.size();
}

}  // namespace itd::http
