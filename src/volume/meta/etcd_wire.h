// The JSON that etcd's v3 HTTP gateway (grpc-gateway, POST /v3/...) takes and gives, without
// any I/O: request builders and response parsers for the calls etcd_meta_store.h makes. Tested
// on their own (tests/unit/volume/etcd_wire_test.cpp).
//
// The gateway speaks proto3's JSON mapping, which has three habits a parser must expect:
//   - bytes (keys, values) are base64 (RFC 4648, with padding);
//   - 64-bit integers (revisions, lease IDs, TTLs, counts) are written as JSON strings,
//     "revision":"42"; a number is accepted too;
//   - a field with its default value (0, false, empty) is left out: a txn whose compare failed
//     has no "succeeded", a range that found nothing has no "kvs", an expired lease's
//     keep-alive answer has no "TTL".
// Errors come back with an HTTP error status and {"error":..., "message":..., "code":N}, where
// N is a gRPC status code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace itd::volume::etcd {

// Base64 with padding, the alphabet of RFC 4648 section 4 (proto3 JSON "bytes").
std::string base64_encode(std::string_view bytes);
// Accepts the standard and the URL-safe alphabet, with or without padding; nullopt when the
// text is not base64.
std::optional<std::string> base64_decode(std::string_view text);

// The range_end that makes a range cover every key starting with prefix: prefix with its last
// byte below 0xff incremented and what follows it dropped ("a/" -> "a0"); "\0" (every key)
// when there is no such byte, as for the empty prefix.
std::string prefix_end(std::string_view prefix);

// --- requests -------------------------------------------------------------------------------

// POST /v3/kv/range. range_end empty: the single key. limit 0: no limit. revision 0: the
// latest.
std::string range_request(std::string_view key, std::string_view range_end = {},
                          bool keys_only = false, std::uint64_t limit = 0,
                          std::uint64_t revision = 0);

// One comparison of a txn; every comparison here is EQUAL.
struct Compare {
    enum class Target { create_revision, mod_revision, lease };
    std::string key;
    Target target = Target::mod_revision;
    std::int64_t value = 0;  // for create_revision, 0 means "the key does not exist"
};

// One operation of a txn.
struct Op {
    enum class Kind { range, put, remove };
    Kind kind = Kind::range;
    std::string key;
    std::string value;       // put
    std::int64_t lease = 0;  // put: attach the key to this lease (0: none)
};

// POST /v3/kv/txn: if every compare holds, success runs, else failure.
std::string txn_request(std::span<const Compare> compares, std::span<const Op> success,
                        std::span<const Op> failure);

// POST /v3/lease/grant.
std::string lease_grant_request(std::int64_t ttl_s);
// POST /v3/lease/keepalive, /v3/lease/revoke, /v3/lease/timetolive.
std::string lease_id_request(std::int64_t lease_id);

// --- responses ------------------------------------------------------------------------------

struct KeyValue {
    std::string key;  // decoded
    std::string value;
    std::uint64_t create_revision = 0;
    std::uint64_t mod_revision = 0;
    std::int64_t lease = 0;
};

struct RangeResult {
    std::uint64_t header_revision = 0;  // the store's revision when the range ran
    std::vector<KeyValue> kvs;
    bool more = false;  // a limit cut the answer short
};

struct TxnResult {
    std::uint64_t header_revision = 0;  // after a successful write: the written key's revision
    bool succeeded = false;
    // The answer of each failure (or success) op that was a range, in order; other ops leave
    // an empty RangeResult in their place.
    std::vector<RangeResult> ranges;
};

struct LeaseResult {
    std::int64_t id = 0;
    std::int64_t ttl_s = 0;  // keep-alive: 0 (absent) when the lease has expired
};

// Each takes a 2xx answer's body. io_error when the body is not the JSON expected (the
// message quotes the start of it).
Result<RangeResult> parse_range(std::string_view body);
Result<TxnResult> parse_txn(std::string_view body);
// Grant answers {...}; keep-alive, a streaming call, answers {"result":{...}} (or
// {"error":{...}} inside a 200): both are taken.
Result<LeaseResult> parse_lease(std::string_view body);
// Only the header is checked (revoke, maintenance/status).
Status parse_ok(std::string_view body);

// An answer with an HTTP error status, or a 200 whose body carries an error, as an Error:
// gRPC code UNAVAILABLE (14), DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), ABORTED (10),
// CANCELLED (1) and HTTP 5xx without a code -> unavailable; NOT_FOUND (5) -> not_found;
// OUT_OF_RANGE (11: a compacted revision) -> conflict; INVALID_ARGUMENT, FAILED_PRECONDITION,
// PERMISSION_DENIED, UNAUTHENTICATED, UNIMPLEMENTED and other 4xx -> failed_precondition;
// anything else -> io_error. what names the call ("etcd txn").
Error gateway_error(unsigned http_status, std::string_view body, std::string_view what);

// For messages: the start of body, printable, at most max_bytes.
std::string excerpt(std::string_view body, std::size_t max_bytes = 200);

}  // namespace itd::volume::etcd
