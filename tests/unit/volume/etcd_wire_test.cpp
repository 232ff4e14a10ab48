#include "volume/meta/etcd_wire.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace itd::volume::etcd {
namespace {

namespace json = boost::json;

json::object parsed(const std::string& text) {
    return json::parse(text).as_object();
}

TEST(EtcdWire, Base64MatchesRfc4648Vectors) {
    // RFC 4648 section 10.
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(plain));
    }
}

TEST(EtcdWire, Base64RoundTripsEveryByteAndTakesUrlSafeAndUnpadded) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t n = 0; n <= all.size(); n += 37) {
        const std::string s = all.substr(0, n) + all.substr(all.size() - n % 5);
        EXPECT_EQ(base64_decode(base64_encode(s)), std::optional<std::string>(s)) << n;
    }
    EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
    EXPECT_EQ(base64_decode("-_8="), std::optional<std::string>("\xfb\xff"));
    EXPECT_EQ(base64_decode("-_8"), std::optional<std::string>("\xfb\xff"));
    EXPECT_EQ(base64_decode("Zg"), std::optional<std::string>("f"));
}

TEST(EtcdWire, Base64RejectsWhatIsNotBase64) {
    for (const char* bad : {"Z", "Zm9v!", "Zm 9v", "Zh==", "Zm9=", "Z===", "=", "Zg=a"}) {
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
    }
}

TEST(EtcdWire, PrefixEndCoversExactlyThePrefix) {
    EXPECT_EQ(prefix_end("itd/"), "itd0");
    EXPECT_EQ(prefix_end("a"), "b");
    EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
    EXPECT_EQ(prefix_end(std::string("a\xff\xff", 3)), "b");
    EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
    EXPECT_EQ(prefix_end(std::string("\xff", 1)), std::string(1, '\0'));
    // Every key with the prefix sorts below the end, and the first key after them does not.
    const std::string end = prefix_end("itd/volumes/");
    EXPECT_LT(std::string("itd/volumes/\xff\xff"), end);
    EXPECT_GE(std::string("itd/volumes0"), end);
}

TEST(EtcdWire, RangeRequestEncodesKeysAndLeavesDefaultsOut) {
    auto single = parsed(range_request("itd/k"));
    EXPECT_EQ(single.at("key").as_string(), base64_encode("itd/k"));
    EXPECT_FALSE(single.contains("range_end"));
    EXPECT_FALSE(single.contains("keys_only"));
    EXPECT_FALSE(single.contains("limit"));
    EXPECT_FALSE(single.contains("revision"));

    auto list = parsed(range_request("itd/", prefix_end("itd/"), true, 500, 77));
    EXPECT_EQ(list.at("range_end").as_string(), base64_encode("itd0"));
    EXPECT_TRUE(list.at("keys_only").as_bool());
    // 64-bit integers go as strings, as proto3 JSON writes them.
    EXPECT_EQ(list.at("limit").as_string(), "500");
    EXPECT_EQ(list.at("revision").as_string(), "77");
}

TEST(EtcdWire, TxnRequestHasComparesAndBothBranches) {
    const Compare compares[] = {
        {"itd/k", Compare::Target::mod_revision, 42},
        {"itd/.locks/k", Compare::Target::create_revision, 0},
        {"itd/l", Compare::Target::lease, 7205759403792793607},
    };
    const Op success[] = {{Op::Kind::put, "itd/k", std::string("v\0w", 3), 7205759403792793607},
                          {Op::Kind::remove, "itd/x", "", 0}};
    const Op failure[] = {{Op::Kind::range, "itd/k", "", 0}};
    auto t = parsed(txn_request(compares, success, failure));

    const auto& c = t.at("compare").as_array();
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].at("target").as_string(), "MOD");
    EXPECT_EQ(c[0].at("result").as_string(), "EQUAL");
    EXPECT_EQ(c[0].at("mod_revision").as_string(), "42");
    EXPECT_EQ(c[1].at("target").as_string(), "CREATE");
    EXPECT_EQ(c[1].at("create_revision").as_string(), "0");
    EXPECT_EQ(c[1].at("key").as_string(), base64_encode("itd/.locks/k"));
    EXPECT_EQ(c[2].at("target").as_string(), "LEASE");
    EXPECT_EQ(c[2].at("lease").as_string(), "7205759403792793607");

    const auto& s = t.at("success").as_array();
    ASSERT_EQ(s.size(), 2u);
    const auto& put = s[0].at("request_put").as_object();
    EXPECT_EQ(base64_decode(put.at("value").as_string()),
              std::optional<std::string>(std::string("v\0w", 3)));
    EXPECT_EQ(put.at("lease").as_string(), "7205759403792793607");
    EXPECT_EQ(s[1].at("request_delete_range").at("key").as_string(), base64_encode("itd/x"));
    EXPECT_FALSE(s[1].at("request_delete_range").as_object().contains("range_end"));
    const auto& f = t.at("failure").as_array();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_TRUE(f[0].as_object().contains("request_range"));

    // A put without a lease leaves the field out.
    const Op plain[] = {{Op::Kind::put, "k", "v", 0}};
    auto p = parsed(txn_request({}, plain, {}));
    EXPECT_FALSE(p.at("success").at(0).at("request_put").as_object().contains("lease"));
}

TEST(EtcdWire, LeaseRequests) {
    EXPECT_EQ(parsed(lease_grant_request(10)).at("TTL").as_string(), "10");
    EXPECT_EQ(parsed(lease_id_request(7205759403792793607)).at("ID").as_string(),
              "7205759403792793607");
}

// Bodies as etcd 3.4's gateway wrote them on this machine (scripts/cluster/etcd.sh).
TEST(EtcdWire, ParsesRangeWithStringNumbers) {
    auto r = parse_range(
        R"({"header":{"cluster_id":"2016543260081777221","member_id":"787844839350373402",)"
        R"("revision":"2","raft_term":"2"},"kvs":[{"key":"YQ==","create_revision":"2",)"
        R"("mod_revision":"3","version":"1","value":"Yg==","lease":"7205759403792793607"}],)"
        R"("count":"1"})");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->header_revision, 2u);
    EXPECT_FALSE(r->more);
    ASSERT_EQ(r->kvs.size(), 1u);
    EXPECT_EQ(r->kvs[0].key, "a");
    EXPECT_EQ(r->kvs[0].value, "b");
    EXPECT_EQ(r->kvs[0].create_revision, 2u);
    EXPECT_EQ(r->kvs[0].mod_revision, 3u);
    EXPECT_EQ(r->kvs[0].lease, 7205759403792793607);
}

TEST(EtcdWire, ParsesRangeWithOmittedDefaultsAndPlainNumbers) {
    // Nothing found: no kvs, no count.
    auto none = parse_range(R"({"header":{"cluster_id":"1","member_id":"2","revision":"9"}})");
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->header_revision, 9u);
    EXPECT_TRUE(none->kvs.empty());
    // keys_only: no value; an empty value is left out as well; numbers as JSON numbers; more.
    auto keys = parse_range(
        R"({"header":{"revision":12},"kvs":[{"key":"YQ==","create_revision":3,"mod_revision":4},)"
        R"({"key":"Yg==","create_revision":"5","mod_revision":"5"}],"more":true,"count":"7"})");
    ASSERT_TRUE(keys.has_value()) << keys.error().message;
    EXPECT_EQ(keys->header_revision, 12u);
    EXPECT_TRUE(keys->more);
    ASSERT_EQ(keys->kvs.size(), 2u);
    EXPECT_EQ(keys->kvs[0].value, "");
    EXPECT_EQ(keys->kvs[0].mod_revision, 4u);
    EXPECT_EQ(keys->kvs[0].lease, 0);
    EXPECT_EQ(keys->kvs[1].key, "b");
    // No header at all (a default header): revision 0.
    auto bare = parse_range("{}");
    ASSERT_TRUE(bare.has_value());
    EXPECT_EQ(bare->header_revision, 0u);
}

TEST(EtcdWire, RejectsMalformedAnswers) {
    for (const char* body :
         {"", "not json", "[1,2]", R"({"header":{"revision":"x"}})",
          R"({"header":{"revision":"-1"}})", R"({"header":{"revision":-1}})",
          R"({"header":{"revision":"99999999999999999999999"}})", R"({"kvs":{}})", R"({"kvs":[1]})",
          R"({"kvs":[{"key":"!!"}]})", R"({"kvs":[{"key":5}]})",
          R"({"kvs":[{"key":"YQ==","mod_revision":"1.5"}]})",
          R"({"kvs":[{"key":"YQ==","lease":true}]})"}) {
        auto r = parse_range(body);
        ASSERT_FALSE(r.has_value()) << body;
        EXPECT_EQ(r.error().code, Errc::io_error);
    }
}

TEST(EtcdWire, ParsesTxnSucceededAndFailed) {
    auto ok = parse_txn(
        R"({"header":{"cluster_id":"1","member_id":"2","revision":"2","raft_term":"2"},)"
        R"("succeeded":true,"responses":[{"response_put":{"header":{"revision":"2"}}}]})");
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
    EXPECT_TRUE(ok->succeeded);
    EXPECT_EQ(ok->header_revision, 2u);
    ASSERT_EQ(ok->ranges.size(), 1u);  // the put's place
    EXPECT_TRUE(ok->ranges[0].kvs.empty());

    // A failed compare: "succeeded" is left out; the failure branch's range answers.
    auto failed = parse_txn(
        R"({"header":{"revision":"2"},"responses":[{"response_range":{"header":{"revision":"2"},)"
        R"("kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1",)"
        R"("value":"Yg=="}],"count":"1"}},{"response_range":{"header":{"revision":"2"}}}]})");
    ASSERT_TRUE(failed.has_value()) << failed.error().message;
    EXPECT_FALSE(failed->succeeded);
    ASSERT_EQ(failed->ranges.size(), 2u);
    ASSERT_EQ(failed->ranges[0].kvs.size(), 1u);
    EXPECT_EQ(failed->ranges[0].kvs[0].value, "b");
    EXPECT_TRUE(failed->ranges[1].kvs.empty());

    // A failure branch with no ops has no responses.
    auto empty = parse_txn(R"({"header":{"revision":"5"}})");
    ASSERT_TRUE(empty.has_value());
    EXPECT_FALSE(empty->succeeded);
    EXPECT_TRUE(empty->ranges.empty());
    EXPECT_FALSE(parse_txn(R"({"responses":{}})").has_value());
    EXPECT_FALSE(parse_txn(R"({"responses":[{"response_range":[]}]})").has_value());
}

TEST(EtcdWire, ParsesLeaseGrantAndKeepAlive) {
    auto grant = parse_lease(R"({"header":{"revision":"1"},"ID":"6832420456534044166","TTL":"5"})");
    ASSERT_TRUE(grant.has_value()) << grant.error().message;
    EXPECT_EQ(grant->id, 6832420456534044166);
    EXPECT_EQ(grant->ttl_s, 5);

    auto renewed = parse_lease(
        R"({"result":{"header":{"revision":"1"},"ID":"6446799738443158790","TTL":"5"}})");
    ASSERT_TRUE(renewed.has_value());
    EXPECT_EQ(renewed->id, 6446799738443158790);
    EXPECT_EQ(renewed->ttl_s, 5);

    // An expired (or unknown) lease: TTL left out, so 0.
    auto expired = parse_lease(R"({"result":{"header":{"revision":"1"},"ID":"123"}})");
    ASSERT_TRUE(expired.has_value());
    EXPECT_EQ(expired->ttl_s, 0);

    // A streaming call's error inside a 200.
    auto error =
        parse_lease(R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader",)"
                    R"("http_status":"Service Unavailable"}})");
    ASSERT_FALSE(error.has_value());
    EXPECT_EQ(error.error().code, Errc::unavailable);
    EXPECT_NE(error.error().message.find("no leader"), std::string::npos);

    auto refused = parse_lease(R"({"header":{},"ID":"1","error":"lease already exists"})");
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, Errc::failed_precondition);
    EXPECT_FALSE(parse_lease(R"({"ID":"x"})").has_value());
    EXPECT_FALSE(parse_lease(R"({"result":7})").has_value());
}

TEST(EtcdWire, GatewayErrorsSayHowToRetry) {
    const std::tuple<unsigned, const char*, Errc> cases[] = {
        {503, R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})",
         Errc::unavailable},
        {503, R"({"error":"etcdserver: request timed out","code":14})", Errc::unavailable},
        {504, R"({"message":"context deadline exceeded","code":4})", Errc::unavailable},
        {429, R"({"message":"etcdserver: too many requests","code":8})", Errc::unavailable},
        {404, R"({"error":"etcdserver: requested lease not found","code":5})", Errc::not_found},
        {400, R"({"message":"mvcc: required revision has been compacted","code":11})",
         Errc::conflict},
        {400, R"({"message":"etcdserver: duplicate key given in txn request","code":3})",
         Errc::failed_precondition},
        {401, R"({"message":"etcdserver: user name is empty","code":16})",
         Errc::failed_precondition},
        {500, R"({"message":"something odd","code":2})", Errc::io_error},
        {502, "Bad Gateway", Errc::unavailable},
        {404, "404 page not found", Errc::failed_precondition},
        {200, "", Errc::io_error},
    };
    for (const auto& [status, body, code] : cases) {
        const Error e = gateway_error(status, body, "etcd txn");
        EXPECT_EQ(e.code, code) << body;
        EXPECT_EQ(e.message.rfind("etcd txn: HTTP " + std::to_string(status) + ": ", 0), 0u)
            << e.message;
    }
    EXPECT_NE(gateway_error(503, R"({"message":"etcdserver: no leader","code":14})", "x")
                  .message.find("etcdserver: no leader"),
              std::string::npos);
    EXPECT_NE(gateway_error(404, "404 page not found", "x").message.find("404 page not found"),
              std::string::npos);
}

TEST(EtcdWire, ExcerptIsShortAndPrintable) {
    EXPECT_EQ(excerpt(""), "(empty)");
    EXPECT_EQ(excerpt("a\nb\x01"), "a?b?");
    EXPECT_EQ(excerpt(std::string(300, 'x'), 10), std::string(10, 'x') + "...");
}

}  // namespace
}  // namespace itd::volume::etcd
