// AWS Signature Version 4 as pure functions, for S3 requests (s3_object_store.h).
//
// A request is signed in four steps (AWS General Reference, "Signature Version 4 signing
// process"), each a function here so that each can be checked against AWS's published
// examples:
//
//   canonical_request   METHOD \n PATH \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//   string_to_sign      "AWS4-HMAC-SHA256" \n DATE-TIME \n SCOPE \n hex(SHA-256(canonical))
//   signing_key         HMAC chain: "AWS4"+secret -> date -> region -> service ->
//                       "aws4_request"
//   authorization       "AWS4-HMAC-SHA256 Credential=ID/SCOPE, SignedHeaders=…, Signature=…"
//
// S3 differs from other services in two ways that matter here: the path is URI-encoded once
// and never normalised, and every request carries x-amz-content-sha256 (the payload hash,
// signed like any other header).
//
// The secret key goes into signing_key() only; nothing here returns or formats it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.h"

namespace itd::volume::sigv4 {

// Who signs. The caller takes these from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN) or from its config file. Never log secret_access_key or session_token.
struct Credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // temporary credentials: sent as x-amz-security-token
};

// The credential scope: "DATE/REGION/SERVICE/aws4_request".
struct Scope {
    std::string date;  // YYYYMMDD, the day of the request's x-amz-date, in UTC
    std::string region;
    std::string service;  // "s3"
    std::string to_string() const;
};

using Key = std::array<std::uint8_t, 32>;

inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Lower-case hex of SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::span<const std::uint8_t> data);
std::string sha256_hex(std::string_view data);

// "YYYYMMDDTHHMMSSZ" (x-amz-date), in UTC.
std::string amz_date(std::chrono::system_clock::time_point t);

// Percent-encodes every byte but the unreserved A-Z a-z 0-9 - . _ ~ (upper-case hex); '/' too
// when encode_slash. Paths keep their slashes; query names and values do not.
std::string uri_encode(std::string_view s, bool encode_slash);

// The canonical query string of an already encoded query ("b=2&a=1" -> "a=1&b=2"): parameters
// sorted by name, then value; a parameter without '=' gets an empty value ("acl" -> "acl=").
std::string canonical_query(std::string_view query);

struct CanonicalRequest {
    std::string text;            // what is hashed into the string to sign
    std::string signed_headers;  // "host;range;x-amz-date"
};

// method: "GET"; path: the URI-encoded path as sent ("/bucket/key"); query: as sent, without
// '?'; headers: the headers to sign, names in any case (lower-cased here), values trimmed and
// inner runs of spaces folded; repeated names are joined with ','. payload_hash: hex SHA-256
// of the body, or "UNSIGNED-PAYLOAD".
CanonicalRequest canonical_request(std::string_view method, std::string_view path,
                                   std::string_view query, const std::vector<http::Header>& headers,
                                   std::string_view payload_hash);

std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request_text);

Key signing_key(std::string_view secret_access_key, const Scope& scope);

// Lower-case hex of HMAC-SHA256(key, string_to_sign).
std::string signature(const Key& key, std::string_view string_to_sign_text);

std::string authorization(std::string_view access_key_id, const Scope& scope,
                          std::string_view signed_headers, std::string_view signature_hex);

// All four steps: the Authorization header's value for a request whose headers (to sign)
// already include host, x-amz-date and x-amz-content-sha256.
std::string sign(const Credentials& credentials, const Scope& scope, std::string_view amz_date,
                 std::string_view method, std::string_view path, std::string_view query,
                 const std::vector<http::Header>& headers, std::string_view payload_hash);

}  // namespace itd::volume::sigv4
