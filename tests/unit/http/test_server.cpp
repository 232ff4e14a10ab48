#include "test_server.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>
#include <stdexcept>

#include "common/check.h"

namespace itd::http::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string ServerRequest::header(std::string_view name) const {
    for (const Header& h : headers) {
        if (h.name.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>(h.name[i])) !=
                std::tolower(static_cast<unsigned char>(name[i]))) {
                same = false;
            }
        }
        if (same) return h.value;
    }
    return {};
}

ServerReply ServerReply::text(unsigned status, std::string_view body) {
    ServerReply r;
    r.status = status;
    r.body.assign(body.begin(), body.end());
    return r;
}

struct TestServer::State {
    asio::io_context io{1};  // first: destroyed last, with the coroutines it still holds
    tcp::acceptor acceptor{io};
    std::optional<asio::ssl::context> ssl;
    Handler handler;
    std::atomic<std::uint64_t> accepted{0}, requests{0}, open{0}, max_open{0};
    std::atomic<std::uint64_t> in_flight{0}, max_in_flight{0};
};

namespace {

using State = TestServer::State;

void count_up(std::atomic<std::uint64_t>& now, std::atomic<std::uint64_t>& max) {
    const std::uint64_t value = now.fetch_add(1) + 1;
    std::uint64_t seen = max.load();
    while (value > seen && !max.compare_exchange_weak(seen, value)) {
    }
}

// Counts a request in flight until the answer is written or the session ends.
struct InFlight {
    explicit InFlight(State& st) : st_(st) { count_up(st.in_flight, st.max_in_flight); }
    ~InFlight() { st_.in_flight.fetch_sub(1); }
    State& st_;
};

template <typename Stream>
asio::awaitable<void> write_chunked(Stream& stream, bhttp::response<bhttp::empty_body>& head,
                                    const std::vector<std::uint8_t>& body) {
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> sr{head};
    co_await bhttp::async_write_header(stream, sr, asio::use_awaitable);
    // Several chunks of uneven sizes, so the client's parser meets chunk boundaries.
    std::size_t at = 0, chunk = 1000;
    while (at < body.size()) {
        const std::size_t n = std::min(chunk, body.size() - at);
        co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(body.data() + at, n)),
                                   asio::use_awaitable);
        at += n;
        chunk = chunk * 3 + 7;
    }
    co_await asio::async_write(stream, bhttp::make_chunk_last(), asio::use_awaitable);
}

template <typename Stream>
asio::awaitable<void> serve(Stream& stream, State& st, std::uint64_t id) {
    beast::flat_buffer buffer;
    buffer.reserve(64 * 1024);  // Beast reads at most the free capacity at a time
    for (std::uint64_t index = 0;; ++index) {
        bhttp::request_parser<bhttp::vector_body<std::uint8_t>> parser;
        parser.body_limit(std::uint64_t(1) << 30);
        co_await bhttp::async_read(stream, buffer, parser, asio::use_awaitable);
        st.requests.fetch_add(1);
        std::optional<InFlight> in_flight(std::in_place, st);
        auto& req = parser.get();
        ServerRequest request;
        request.method = std::string(req.method_string());
        request.target = std::string(req.target());
        for (const auto& f : req) {
            request.headers.push_back(Header{std::string(f.name_string()), std::string(f.value())});
        }
        request.body = std::move(req.body());
        request.connection_id = id;
        request.index_on_connection = index;
        ServerReply reply = st.handler(request);

        if (reply.delay.count() > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor, reply.delay);
            co_await timer.async_wait(asio::use_awaitable);
        }
        if (reply.drop) co_return;

        const bool keep = !reply.connection_close && parser.keep_alive();
        if (reply.chunked) {
            bhttp::response<bhttp::empty_body> head{bhttp::int_to_status(reply.status), 11};
            for (const Header& h : reply.headers) head.insert(h.name, h.value);
            head.keep_alive(keep);
            co_await write_chunked(stream, head, reply.body);
        } else {
            bhttp::response<bhttp::vector_body<std::uint8_t>> res{
                bhttp::int_to_status(reply.status), 11};
            for (const Header& h : reply.headers) res.insert(h.name, h.value);
            res.keep_alive(keep);
            res.content_length(reply.content_length >= 0 ? std::uint64_t(reply.content_length)
                                                         : reply.body.size());
            res.body() = std::move(reply.body);
            co_await bhttp::async_write(stream, res, asio::use_awaitable);
        }
        in_flight.reset();
        if (!keep || reply.close_after) co_return;
    }
}

asio::awaitable<void> session(tcp::socket socket, State& st) {
    const std::uint64_t id = st.accepted.fetch_add(1) + 1;
    count_up(st.open, st.max_open);
    try {
        if (st.ssl) {
            beast::ssl_stream<tcp::socket> stream(std::move(socket), *st.ssl);
            co_await stream.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
            co_await serve(stream, st, id);
        } else {
            co_await serve(socket, st, id);
        }
    } catch (const std::exception&) {
        // The client went away or broke the protocol: end the session.
    }
    st.open.fetch_sub(1);
}

asio::awaitable<void> accept_loop(State& st) {
    for (;;) {
        auto [ec, socket] = co_await st.acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        asio::co_spawn(st.io, session(std::move(socket), st), asio::detached);
    }
}

}  // namespace

TestServer::TestServer(Handler handler, const TestCert* tls)
    : tls_(tls != nullptr), state_(std::make_unique<State>()) {
    state_->handler = std::move(handler);
    if (tls) {
        state_->ssl.emplace(asio::ssl::context::tls_server);
        state_->ssl->use_certificate_chain(asio::buffer(tls->cert_pem));
        state_->ssl->use_private_key(asio::buffer(tls->key_pem), asio::ssl::context::pem);
    }
    tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(at.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(at);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    asio::co_spawn(state_->io, accept_loop(*state_), asio::detached);
    thread_ = std::thread([st = state_.get()] { st->io.run(); });
}

TestServer::~TestServer() {
    state_->io.stop();
    thread_.join();
}

std::uint64_t TestServer::connections_accepted() const {
    return state_->accepted.load();
}
std::uint64_t TestServer::requests() const {
    return state_->requests.load();
}
std::uint64_t TestServer::max_concurrent_connections() const {
    return state_->max_open.load();
}
std::uint64_t TestServer::max_concurrent_requests() const {
    return state_->max_in_flight.load();
}

TestCert make_test_cert(const std::string& subject_alt_name) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    ITD_CHECK(key != nullptr);
    X509* x = X509_new();
    ITD_CHECK(x != nullptr);
    static std::atomic<long> serial{1};
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial.fetch_add(1));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    const std::string cn = "itd test " + subject_alt_name;
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, name);

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    const std::pair<int, std::string> extensions[] = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,digitalSignature,keyCertSign"},
        {NID_subject_alt_name, subject_alt_name},
    };
    for (const auto& [nid, value] : extensions) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        ITD_CHECK(ext != nullptr);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    ITD_CHECK(X509_sign(x, key, EVP_sha256()) > 0);

    const auto to_string = [](BIO* bio) {
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        std::string s(data, std::size_t(n));
        BIO_free(bio);
        return s;
    };
    BIO* cert_bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cert_bio, x);
    BIO* key_bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    TestCert out{to_string(cert_bio), to_string(key_bio)};
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}

SilentServer::SilentServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ITD_CHECK(listen_fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ITD_CHECK(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    // The kernel completes TCP handshakes into the backlog; nobody ever accepts or reads.
    ITD_CHECK(::listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ITD_CHECK(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
}

SilentServer::~SilentServer() {
    ::close(listen_fd_);
}

std::uint16_t unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ITD_CHECK(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ITD_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ITD_CHECK(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace itd::http::testing
