#include "http/client.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <thread>

#include "test_server.h"

namespace itd::http::testing {
namespace {

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}
std::string text(const std::vector<std::uint8_t>& b) {
    return {b.begin(), b.end()};
}

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) b = std::uint8_t(rng());
    return out;
}

Request get(std::string target) {
    Request r;
    r.target = std::move(target);
    return r;
}

// Answers "METHOD TARGET #connection.index" and echoes a request body back.
ServerReply echo(const ServerRequest& req) {
    ServerReply r;
    if (!req.body.empty()) {
        r.body = req.body;
    } else {
        r.body = bytes(req.method + " " + req.target + " #" + std::to_string(req.connection_id) +
                       "." + std::to_string(req.index_on_connection));
    }
    r.headers.push_back({"X-Echo-Header", req.header("x-test")});
    return r;
}

TEST(ParseEndpoint, AcceptsHostsPortsAndSchemes) {
    auto a = parse_endpoint("http://127.0.0.1:7480");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_FALSE(a->tls);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 7480);
    EXPECT_EQ(host_header(*a), "127.0.0.1:7480");

    auto b = parse_endpoint("https://s3.example.com/");
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->tls);
    EXPECT_EQ(b->host, "s3.example.com");
    EXPECT_EQ(b->port, 443);
    EXPECT_EQ(host_header(*b), "s3.example.com");

    auto c = parse_endpoint("HTTP://[::1]:2379");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "::1");
    EXPECT_EQ(c->port, 2379);
    EXPECT_EQ(host_header(*c), "[::1]:2379");

    auto d = parse_endpoint("http://[fe80::1]");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->port, 80);
    EXPECT_EQ(host_header(*d), "[fe80::1]");
    EXPECT_EQ(host_header(Endpoint{true, "h", 80}), "h:80");
}

TEST(ParseEndpoint, RejectsEverythingElse) {
    for (const char* bad :
         {"", "127.0.0.1:80", "ftp://h", "http://", "http://:80", "http://h:", "http://h:0",
          "http://h:65536", "http://h:123456", "http://h:8a", "http://::1:80", "http://[::1",
          "http://[::1]x", "http://[host]:80", "http://h/path", "http://user@h", "http://h?x",
          "http://h h", "http://h:80:90"}) {
        auto r = parse_endpoint(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, Errc::invalid_argument) << bad;
        }
    }
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
    TestServer server(echo);
    Client client(server.endpoint());
    for (int i = 0; i < 20; ++i) {
        Request req = get("/k?i=" + std::to_string(i));
        req.headers.push_back({"X-Test", "v" + std::to_string(i)});
        auto res = client.send(req);
        ASSERT_TRUE(res) << res.error().message;
        EXPECT_EQ(res->status, 200u);
        EXPECT_EQ(text(res->body), "GET /k?i=" + std::to_string(i) + " #1." + std::to_string(i));
        EXPECT_EQ(res->header("x-echo-HEADER").value_or(""), "v" + std::to_string(i));
        EXPECT_FALSE(res->header("x-missing"));
    }
    EXPECT_EQ(server.connections_accepted(), 1u);
    EXPECT_EQ(client.connections_opened(), 1u);
    EXPECT_EQ(client.idle_connections(), 1u);
}

TEST(HttpClient, ConnectAddressOverridesResolution) {
    TestServer server(
        [](const ServerRequest& req) { return ServerReply::text(200, req.header("host")); });
    ClientOptions opts;
    opts.connect_address = "127.0.0.1";
    Client client(Endpoint{false, "bucket.s3.invalid", server.port()}, opts);
    auto res = client.send(get("/"));
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(text(res->body), "bucket.s3.invalid:" + std::to_string(server.port()));
}

TEST(HttpClient, HttpErrorStatusIsAResponse) {
    TestServer server([](const ServerRequest&) { return ServerReply::text(503, "SlowDown"); });
    Client client(server.endpoint());
    auto res = client.send(get("/"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503u);
    EXPECT_EQ(text(res->body), "SlowDown");
}

TEST(HttpClient, ReconnectsWhenTheServerClosedAnIdleConnection) {
    TestServer server([](const ServerRequest& req) {
        ServerReply r = echo(req);
        r.close_after = true;  // keep-alive advertised, then closed
        return r;
    });
    Client client(server.endpoint());
    for (int i = 0; i < 10; ++i) {
        Request req = get("/c");
        req.method = i % 2 ? bhttp::verb::post : bhttp::verb::get;
        auto res = client.send(req);
        ASSERT_TRUE(res) << i << ": " << res.error().message;
        EXPECT_EQ(res->status, 200u);
        // Let the close arrive, so even a POST finds the connection closed before sending.
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(server.connections_accepted(), 10u);
    EXPECT_EQ(server.requests(), 10u);
}

// The server takes the second request on a connection and closes without answering: the race
// of a keep-alive timeout. An idempotent request is resent once on a new connection.
ServerReply drop_second(const ServerRequest& req) {
    if (req.index_on_connection == 1) {
        ServerReply r;
        r.drop = true;
        return r;
    }
    return echo(req);
}

TEST(HttpClient, ResendsAnIdempotentRequestOnceAfterAReusedConnectionFailed) {
    TestServer server(drop_second);
    Client client(server.endpoint());
    ASSERT_TRUE(client.send(get("/1")));
    auto res = client.send(get("/2"));
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(text(res->body), "GET /2 #2.0");
    EXPECT_EQ(server.connections_accepted(), 2u);
    EXPECT_EQ(server.requests(), 3u);

    Request put = get("/3");
    put.method = bhttp::verb::put;
    const auto body = bytes("payload");
    put.body = body;
    res = client.send(put);  // the second request on connection 2: dropped, resent on 3
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(text(res->body), "payload");
    EXPECT_EQ(server.connections_accepted(), 3u);
}

TEST(HttpClient, DoesNotResendAPost) {
    TestServer server(drop_second);
    Client client(server.endpoint());
    Request post = get("/txn");
    post.method = bhttp::verb::post;
    ASSERT_TRUE(client.send(post));
    auto res = client.send(post);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::unavailable);
    EXPECT_EQ(server.requests(), 2u);
    // The failed connection was dropped; the next request opens a new one.
    EXPECT_EQ(client.idle_connections(), 0u);
    ASSERT_TRUE(client.send(post));
    EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST(HttpClient, DoesNotResendOnAFreshConnection) {
    TestServer server([](const ServerRequest&) {
        ServerReply r;
        r.drop = true;
        return r;
    });
    Client client(server.endpoint());
    auto res = client.send(get("/"));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::unavailable);
    EXPECT_EQ(server.requests(), 1u);
}

TEST(HttpClient, RequestTimeoutDropsTheConnection) {
    TestServer server([](const ServerRequest& req) {
        ServerReply r = echo(req);
        if (req.target == "/slow") r.delay = 2000ms;
        return r;
    });
    ClientOptions opts;
    opts.request_timeout = 200ms;
    Client client(server.endpoint(), opts);
    ASSERT_TRUE(client.send(get("/fast")));
    const auto start = Clock::now();
    auto res = client.send(get("/slow"));  // on the reused connection: a timeout is not resent
    const auto took = Clock::now() - start;
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::unavailable);
    EXPECT_NE(res.error().message.find("no response within 200 ms"), std::string::npos)
        << res.error().message;
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 1500ms);
    EXPECT_EQ(client.idle_connections(), 0u);
    EXPECT_EQ(server.requests(), 2u);

    auto again = client.send(get("/fast"));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(text(again->body), "GET /fast #2.0");
}

TEST(HttpClient, ConnectRefusedIsUnavailable) {
    Client client(Endpoint{false, "127.0.0.1", unused_port()});
    auto res = client.send(get("/"));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::unavailable);
    EXPECT_NE(res.error().message.find("connect to http://127.0.0.1:"), std::string::npos)
        << res.error().message;
}

TEST(HttpClient, ConnectTimeoutCoversTheTlsHandshake) {
    SilentServer silent;
    ClientOptions opts;
    opts.connect_timeout = 200ms;
    Client client(Endpoint{true, "127.0.0.1", silent.port()}, opts);
    const auto start = Clock::now();
    auto res = client.send(get("/"));
    const auto took = Clock::now() - start;
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::unavailable);
    EXPECT_NE(res.error().message.find("timed out"), std::string::npos) << res.error().message;
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 1500ms);
}

TEST(HttpClient, LargeBodiesBothWays) {
    TestServer server(echo);
    Client client(server.endpoint());
    const auto body = random_bytes(9 << 20, 1);
    Request put = get("/big");
    put.method = bhttp::verb::put;
    put.body = body;
    for (int i = 0; i < 2; ++i) {
        auto res = client.send(put);
        ASSERT_TRUE(res) << res.error().message;
        EXPECT_EQ(res->header("content-length").value_or(""), std::to_string(body.size()));
        EXPECT_TRUE(res->body == body);
    }
    EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST(HttpClient, ChunkedResponse) {
    const auto body = random_bytes(3 << 20, 2);
    TestServer server([&](const ServerRequest& req) {
        ServerReply r;
        r.chunked = req.target == "/chunked";
        r.body = r.chunked ? body : bytes("plain");
        return r;
    });
    Client client(server.endpoint());
    auto res = client.send(get("/chunked"));
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->header("transfer-encoding").value_or(""), "chunked");
    EXPECT_TRUE(res->body == body);
    // The connection stays usable after a chunked body.
    res = client.send(get("/plain"));
    ASSERT_TRUE(res);
    EXPECT_EQ(text(res->body), "plain");
    EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST(HttpClient, ResponseBodyLimit) {
    TestServer server([](const ServerRequest&) {
        ServerReply r;
        r.body.assign(2000, 'x');
        return r;
    });
    ClientOptions opts;
    opts.max_response_body_bytes = 1000;
    Client client(server.endpoint(), opts);
    auto res = client.send(get("/"));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::io_error);
}

TEST(HttpClient, HeadResponseHasNoBody) {
    TestServer server([](const ServerRequest& req) {
        ServerReply r = echo(req);
        if (req.method == "HEAD") {
            r.body.clear();
            r.content_length = 12345;
        }
        return r;
    });
    Client client(server.endpoint());
    Request head = get("/h");
    head.method = bhttp::verb::head;
    auto res = client.send(head);
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->header("content-length").value_or(""), "12345");
    EXPECT_TRUE(res->body.empty());
    res = client.send(get("/after"));
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(text(res->body), "GET /after #1.1");
}

TEST(HttpClient, ConnectionCloseIsHonoured) {
    TestServer server([](const ServerRequest& req) {
        ServerReply r = echo(req);
        r.connection_close = true;
        return r;
    });
    Client client(server.endpoint());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.send(get("/")));
    EXPECT_EQ(server.connections_accepted(), 3u);
    EXPECT_EQ(client.idle_connections(), 0u);
}

TEST(HttpClient, ConcurrentCallersShareABoundedPool) {
    TestServer server([](const ServerRequest& req) {
        ServerReply r = echo(req);
        r.delay = 3ms;
        return r;
    });
    ClientOptions opts;
    opts.max_connections = 3;
    opts.max_idle_connections = 2;
    Client client(server.endpoint(), opts);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 15; ++i) {
                Request req = get("/t" + std::to_string(t));
                auto res = client.send(req);
                if (res && res->status == 200 &&
                    text(res->body).starts_with("GET /t" + std::to_string(t) + " #")) {
                    ++ok;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), 8 * 15);
    EXPECT_LE(server.max_concurrent_requests(), 3u);
    EXPECT_GE(server.max_concurrent_requests(), 2u);
    EXPECT_LE(client.idle_connections(), 2u);
}

class HttpsClient : public ::testing::Test {
  protected:
    static std::string write_file(const std::string& name, const std::string& data) {
        const std::string path = ::testing::TempDir() + "itd_http_" + name;
        std::ofstream(path) << data;
        return path;
    }
};

TEST_F(HttpsClient, VerifiesThePeerAndKeepsTheConnection) {
    const TestCert cert = make_test_cert("IP:127.0.0.1,DNS:localhost");
    TestServer server(echo, &cert);
    ClientOptions opts;
    opts.ca_file = write_file("ca.pem", cert.cert_pem);
    Client client(server.endpoint(), opts);
    for (int i = 0; i < 3; ++i) {
        auto res = client.send(get("/s"));
        ASSERT_TRUE(res) << res.error().message;
        EXPECT_EQ(text(res->body), "GET /s #1." + std::to_string(i));
    }
    // By name: SNI and the DNS entry of the certificate.
    Client by_name(Endpoint{true, "localhost", server.port()}, opts);
    auto res = by_name.send(get("/n"));
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST_F(HttpsClient, RefusesAnUntrustedCertificate) {
    const TestCert cert = make_test_cert("IP:127.0.0.1");
    TestServer server(echo, &cert);
    Client client(server.endpoint());  // the system's CAs do not know the test certificate
    auto res = client.send(get("/"));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::failed_precondition);
    EXPECT_NE(res.error().message.find("certificate verification failed"), std::string::npos)
        << res.error().message;
}

TEST_F(HttpsClient, RefusesACertificateForAnotherHost) {
    const TestCert cert = make_test_cert("DNS:other.example");
    TestServer server(echo, &cert);
    ClientOptions opts;
    opts.ca_file = write_file("other.pem", cert.cert_pem);
    Client client(server.endpoint(), opts);
    auto res = client.send(get("/"));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::failed_precondition);
    EXPECT_NE(res.error().message.find("does not match"), std::string::npos) << res.error().message;
}

TEST_F(HttpsClient, BadCaFileFailsEveryRequest) {
    ClientOptions opts;
    opts.ca_file = ::testing::TempDir() + "itd_http_no_such_ca.pem";
    Client client(Endpoint{true, "127.0.0.1", 1}, opts);
    auto res = client.send(get("/"));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::failed_precondition);
    EXPECT_NE(res.error().message.find("itd_http_no_such_ca.pem"), std::string::npos)
        << res.error().message;
}

}  // namespace
}  // namespace itd::http::testing
