// The signer against AWS's published Signature V4 examples: the aws-sig-v4-test-suite
// (get-vanilla and neighbours, service "service", 2015-08-30) and the S3 API reference's
// header-signing examples (examplebucket, 2013-05-24). The vectors are written out by hand.
#include "volume/store/s3_signer.h"

#include <gtest/gtest.h>

namespace itd::volume::sigv4 {
namespace {

std::string hex(const Key& k) {
    std::string out;
    for (std::uint8_t b : k) {
        out.push_back("0123456789abcdef"[b >> 4]);
        out.push_back("0123456789abcdef"[b & 0xf]);
    }
    return out;
}

// The test suite's credentials and scope.
const Credentials suite_credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Scope suite_scope{"20150830", "us-east-1", "service"};
constexpr std::string_view suite_date = "20150830T123600Z";

const std::vector<http::Header> suite_headers = {{"Host", "example.amazonaws.com"},
                                                 {"X-Amz-Date", "20150830T123600Z"}};

TEST(SigV4, GetVanillaStepByStep) {
    const CanonicalRequest canonical =
        canonical_request("GET", "/", "", suite_headers, empty_payload_sha256);
    EXPECT_EQ(canonical.text,
              "GET\n"
              "/\n"
              "\n"
              "host:example.amazonaws.com\n"
              "x-amz-date:20150830T123600Z\n"
              "\n"
              "host;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(canonical.signed_headers, "host;x-amz-date");

    const std::string sts = string_to_sign(suite_date, suite_scope, canonical.text);
    EXPECT_EQ(sts,
              "AWS4-HMAC-SHA256\n"
              "20150830T123600Z\n"
              "20150830/us-east-1/service/aws4_request\n"
              "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");

    const Key key = signing_key(suite_credentials.secret_access_key, suite_scope);
    EXPECT_EQ(hex(key), "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");
    const std::string sig = signature(key, sts);
    EXPECT_EQ(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    EXPECT_EQ(authorization("AKIDEXAMPLE", suite_scope, canonical.signed_headers, sig),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, GetVanillaQueryOrderKeyCase) {
    EXPECT_EQ(canonical_query("Param2=value2&Param1=value1"), "Param1=value1&Param2=value2");
    const std::string auth =
        sign(suite_credentials, suite_scope, suite_date, "GET", "/", "Param2=value2&Param1=value1",
             suite_headers, empty_payload_sha256);
    EXPECT_TRUE(auth.ends_with(
        "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
        << auth;
}

TEST(SigV4, PostVanilla) {
    const std::string auth = sign(suite_credentials, suite_scope, suite_date, "POST", "/", "",
                                  suite_headers, empty_payload_sha256);
    EXPECT_TRUE(auth.ends_with(
        "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
        << auth;
}

// The S3 API reference's examples.
const Credentials s3_credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                 ""};
const Scope s3_scope{"20130524", "us-east-1", "s3"};
constexpr std::string_view s3_date = "20130524T000000Z";

TEST(SigV4, S3GetObjectWithRange) {
    const std::vector<http::Header> headers = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", std::string(empty_payload_sha256)},
        {"x-amz-date", "20130524T000000Z"},
    };
    const CanonicalRequest canonical =
        canonical_request("GET", "/test.txt", "", headers, empty_payload_sha256);
    EXPECT_EQ(canonical.text,
              "GET\n"
              "/test.txt\n"
              "\n"
              "host:examplebucket.s3.amazonaws.com\n"
              "range:bytes=0-9\n"
              "x-amz-content-sha256:"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
              "x-amz-date:20130524T000000Z\n"
              "\n"
              "host;range;x-amz-content-sha256;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const std::string sts = string_to_sign(s3_date, s3_scope, canonical.text);
    EXPECT_EQ(sts,
              "AWS4-HMAC-SHA256\n"
              "20130524T000000Z\n"
              "20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_EQ(signature(signing_key(s3_credentials.secret_access_key, s3_scope), sts),
              "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    EXPECT_EQ(sign(s3_credentials, s3_scope, s3_date, "GET", "/test.txt", "", headers,
                   empty_payload_sha256),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3PutObject) {
    const std::string payload = sha256_hex(std::string_view("Welcome to Amazon S3."));
    EXPECT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const std::string path = "/" + uri_encode("test$file.text", false);
    EXPECT_EQ(path, "/test%24file.text");
    const std::vector<http::Header> headers = {
        {"Host", "examplebucket.s3.amazonaws.com"}, {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-date", "20130524T000000Z"},         {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"x-amz-content-sha256", payload},
    };
    const CanonicalRequest canonical = canonical_request("PUT", path, "", headers, payload);
    EXPECT_EQ(canonical.signed_headers,
              "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
    EXPECT_EQ(string_to_sign(s3_date, s3_scope, canonical.text),
              "AWS4-HMAC-SHA256\n"
              "20130524T000000Z\n"
              "20130524/us-east-1/s3/aws4_request\n"
              "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
    EXPECT_TRUE(sign(s3_credentials, s3_scope, s3_date, "PUT", path, "", headers, payload)
                    .ends_with("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b597"
                               "1af0ece108bd"));
}

TEST(SigV4, S3ListObjects) {
    const std::vector<http::Header> headers = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-content-sha256", std::string(empty_payload_sha256)},
        {"x-amz-date", "20130524T000000Z"},
    };
    const std::string auth = sign(s3_credentials, s3_scope, s3_date, "GET", "/",
                                  "prefix=J&max-keys=2", headers, empty_payload_sha256);
    EXPECT_TRUE(auth.ends_with(
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
        << auth;
}

TEST(SigV4, Helpers) {
    EXPECT_EQ(amz_date(std::chrono::system_clock::from_time_t(1440938160)), "20150830T123600Z");
    EXPECT_EQ(sha256_hex(std::string_view()), empty_payload_sha256);
    EXPECT_EQ(uri_encode("a b+c/d~e_f.g-h%", false), "a%20b%2Bc/d~e_f.g-h%25");
    EXPECT_EQ(uri_encode("a/b=c&d", true), "a%2Fb%3Dc%26d");
    EXPECT_EQ(uri_encode("\xe1\x88\xb4", true), "%E1%88%B4");
    EXPECT_EQ(canonical_query(""), "");
    EXPECT_EQ(canonical_query("b=2&a=2&a=1&acl"), "a=1&a=2&acl=&b=2");
    // Header values are trimmed, inner spaces folded; repeated names join with ','.
    const CanonicalRequest c = canonical_request(
        "GET", "", "", {{"X-B", "  two   words "}, {"x-a", "1"}, {"X-A", "2"}}, "h");
    EXPECT_EQ(c.text, "GET\n/\n\nx-a:1,2\nx-b:two words\n\nx-a;x-b\nh");
    EXPECT_EQ(c.signed_headers, "x-a;x-b");
}

}  // namespace
}  // namespace itd::volume::sigv4
