#include "volume/meta/etcd_wire.h"

#include <array>
#include <boost/json.hpp>
#include <charconv>

namespace itd::volume::etcd {

namespace json = boost::json;

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The value of each base64 digit, both alphabets; -1 for anything else.
constexpr std::array<int, 256> make_digits() {
    std::array<int, 256> d{};
    for (int& v : d) v = -1;
    for (int i = 0; i < 64; ++i) d[static_cast<unsigned char>(kAlphabet[i])] = i;
    d['-'] = 62;
    d['_'] = 63;
    return d;
}
constexpr std::array<int, 256> kDigits = make_digits();

// A 64-bit integer field as the gateway writes it: a string of digits, or a number; absent
// means 0 (proto3 leaves defaults out). nullopt when present but not an integer of type T.
template <typename T>
std::optional<T> int_field(const json::object& o, std::string_view name) {
    const json::value* v = o.if_contains(name);
    if (v == nullptr || v->is_null()) return T{0};
    if (v->is_string()) {
        const json::string& s = v->get_string();
        T out{};
        const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
        return out;
    }
    if (v->is_int64()) {
        const std::int64_t i = v->get_int64();
        if constexpr (std::is_unsigned_v<T>) {
            if (i < 0) return std::nullopt;
        }
        return static_cast<T>(i);
    }
    if (v->is_uint64()) {
        const std::uint64_t u = v->get_uint64();
        if constexpr (std::is_signed_v<T>) {
            if (u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
        }
        return static_cast<T>(u);
    }
    return std::nullopt;
}

bool bool_field(const json::object& o, std::string_view name) {
    const json::value* v = o.if_contains(name);
    return v != nullptr && v->is_bool() && v->get_bool();
}

std::unexpected<Error> malformed(std::string_view what, std::string_view body,
                                 std::string_view why) {
    return fail(Errc::io_error,
                "etcd " + std::string(what) + " answer " + std::string(why) + ": " + excerpt(body));
}

Result<json::object> parse_object(std::string_view body, std::string_view what) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) return malformed(what, body, "is not JSON (" + ec.message() + ")");
    if (!v.is_object()) return malformed(what, body, "is not a JSON object");
    return std::move(v.get_object());
}

// The object under name; an empty one when absent (a default sub-message is left out too).
const json::object& object_field(const json::object& o, std::string_view name) {
    static const json::object empty;
    const json::value* v = o.if_contains(name);
    return v != nullptr && v->is_object() ? v->get_object() : empty;
}

Result<std::uint64_t> header_revision(const json::object& o, std::string_view what,
                                      std::string_view body) {
    const auto r = int_field<std::uint64_t>(object_field(o, "header"), "revision");
    if (!r) return malformed(what, body, "has a bad header revision");
    return *r;
}

Result<std::string> bytes_field(const json::object& o, std::string_view name, std::string_view what,
                                std::string_view body) {
    const json::value* v = o.if_contains(name);
    if (v == nullptr || v->is_null()) return std::string();
    if (!v->is_string()) return malformed(what, body, "has a non-string " + std::string(name));
    auto decoded = base64_decode(v->get_string());
    if (!decoded)
        return malformed(what, body, "has a " + std::string(name) + " that is not base64");
    return std::move(*decoded);
}

Result<RangeResult> range_of(const json::object& o, std::string_view what, std::string_view body) {
    RangeResult r;
    auto rev = header_revision(o, what, body);
    if (!rev) return std::unexpected(std::move(rev.error()));
    r.header_revision = *rev;
    r.more = bool_field(o, "more");
    const json::value* kvs = o.if_contains("kvs");
    if (kvs == nullptr || kvs->is_null()) return r;
    if (!kvs->is_array()) return malformed(what, body, "has a kvs that is not an array");
    for (const json::value& item : kvs->get_array()) {
        if (!item.is_object()) return malformed(what, body, "has a kv that is not an object");
        const json::object& kv = item.get_object();
        KeyValue out;
        auto key = bytes_field(kv, "key", what, body);
        if (!key) return std::unexpected(std::move(key.error()));
        auto value = bytes_field(kv, "value", what, body);
        if (!value) return std::unexpected(std::move(value.error()));
        out.key = std::move(*key);
        out.value = std::move(*value);
        const auto create = int_field<std::uint64_t>(kv, "create_revision");
        const auto mod = int_field<std::uint64_t>(kv, "mod_revision");
        const auto lease = int_field<std::int64_t>(kv, "lease");
        if (!create || !mod || !lease) return malformed(what, body, "has a kv with a bad number");
        out.create_revision = *create;
        out.mod_revision = *mod;
        out.lease = *lease;
        r.kvs.push_back(std::move(out));
    }
    return r;
}

json::object op_json(const Op& op) {
    json::object inner;
    inner["key"] = base64_encode(op.key);
    json::object outer;
    switch (op.kind) {
        case Op::Kind::range:
            outer["request_range"] = std::move(inner);
            break;
        case Op::Kind::put:
            inner["value"] = base64_encode(op.value);
            if (op.lease != 0) inner["lease"] = std::to_string(op.lease);
            outer["request_put"] = std::move(inner);
            break;
        case Op::Kind::remove:
            outer["request_delete_range"] = std::move(inner);
            break;
    }
    return outer;
}

json::array ops_json(std::span<const Op> ops) {
    json::array a;
    for (const Op& op : ops) a.push_back(op_json(op));
    return a;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t n = byte(i) << 16;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    // Padding, when present, completes the last group of four.
    if (text.size() % 4 == 0 && !text.empty() && text.back() == '=') {
        text.remove_suffix(1);
        if (!text.empty() && text.back() == '=') text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) return std::nullopt;  // 6 bits cannot end a byte
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int d = kDigits[static_cast<unsigned char>(c)];
        if (d < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    // The bits left over are padding and must be zero (RFC 4648 3.5: canonical encoding).
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::string prefix_end(std::string_view prefix) {
    std::string end(prefix);
    while (!end.empty()) {
        auto& last = reinterpret_cast<unsigned char&>(end.back());
        if (last < 0xff) {
            ++last;
            return end;
        }
        end.pop_back();
    }
    // etcd: a range_end of "\0" means every key >= key.
    return std::string(1, '\0');
}

std::string range_request(std::string_view key, std::string_view range_end, bool keys_only,
                          std::uint64_t limit, std::uint64_t revision) {
    json::object o;
    o["key"] = base64_encode(key);
    if (!range_end.empty()) o["range_end"] = base64_encode(range_end);
    if (keys_only) o["keys_only"] = true;
    if (limit != 0) o["limit"] = std::to_string(limit);
    if (revision != 0) o["revision"] = std::to_string(revision);
    return json::serialize(o);
}

std::string txn_request(std::span<const Compare> compares, std::span<const Op> success,
                        std::span<const Op> failure) {
    json::array cs;
    for (const Compare& c : compares) {
        json::object o;
        o["key"] = base64_encode(c.key);
        o["result"] = "EQUAL";
        switch (c.target) {
            case Compare::Target::create_revision:
                o["target"] = "CREATE";
                o["create_revision"] = std::to_string(c.value);
                break;
            case Compare::Target::mod_revision:
                o["target"] = "MOD";
                o["mod_revision"] = std::to_string(c.value);
                break;
            case Compare::Target::lease:
                o["target"] = "LEASE";
                o["lease"] = std::to_string(c.value);
                break;
        }
        cs.push_back(std::move(o));
    }
    json::object o;
    o["compare"] = std::move(cs);
    o["success"] = ops_json(success);
    o["failure"] = ops_json(failure);
    return json::serialize(o);
}

std::string lease_grant_request(std::int64_t ttl_s) {
    json::object o;
    o["TTL"] = std::to_string(ttl_s);
    return json::serialize(o);
}

std::string lease_id_request(std::int64_t lease_id) {
    json::object o;
    o["ID"] = std::to_string(lease_id);
    return json::serialize(o);
}

Result<RangeResult> parse_range(std::string_view body) {
    auto o = parse_object(body, "range");
    if (!o) return std::unexpected(std::move(o.error()));
    return range_of(*o, "range", body);
}

Result<TxnResult> parse_txn(std::string_view body) {
    auto o = parse_object(body, "txn");
    if (!o) return std::unexpected(std::move(o.error()));
    TxnResult t;
    auto rev = header_revision(*o, "txn", body);
    if (!rev) return std::unexpected(std::move(rev.error()));
    t.header_revision = *rev;
    t.succeeded = bool_field(*o, "succeeded");
    const json::value* responses = o->if_contains("responses");
    if (responses == nullptr || responses->is_null()) return t;
    if (!responses->is_array())
        return malformed("txn", body, "has responses that are not an array");
    for (const json::value& item : responses->get_array()) {
        if (!item.is_object())
            return malformed("txn", body, "has a response that is not an object");
        const json::value* range = item.get_object().if_contains("response_range");
        if (range == nullptr) {
            t.ranges.emplace_back();
            continue;
        }
        if (!range->is_object()) return malformed("txn", body, "has a bad response_range");
        auto r = range_of(range->get_object(), "txn", body);
        if (!r) return std::unexpected(std::move(r.error()));
        t.ranges.push_back(std::move(*r));
    }
    return t;
}

Result<LeaseResult> parse_lease(std::string_view body) {
    auto o = parse_object(body, "lease");
    if (!o) return std::unexpected(std::move(o.error()));
    const json::object* inner = &*o;
    if (const json::value* error = o->if_contains("error");
        error != nullptr && error->is_object()) {
        // A streaming call's error arrives inside a 200.
        return std::unexpected(gateway_error(500, json::serialize(*error), "etcd lease"));
    }
    if (const json::value* result = o->if_contains("result"); result != nullptr) {
        if (!result->is_object())
            return malformed("lease", body, "has a result that is not an object");
        inner = &result->get_object();
    }
    const auto id = int_field<std::int64_t>(*inner, "ID");
    const auto ttl = int_field<std::int64_t>(*inner, "TTL");
    if (!id || !ttl) return malformed("lease", body, "has a bad ID or TTL");
    if (const json::value* e = inner->if_contains("error");
        e != nullptr && e->is_string() && !e->get_string().empty()) {
        return fail(Errc::failed_precondition,
                    "etcd lease: " + std::string(e->get_string().c_str()));
    }
    return LeaseResult{*id, *ttl};
}

Status parse_ok(std::string_view body) {
    auto o = parse_object(body, "status");
    if (!o) return std::unexpected(std::move(o.error()));
    return {};
}

Error gateway_error(unsigned http_status, std::string_view body, std::string_view what) {
    std::string message;
    std::optional<std::int64_t> code;
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (!ec && v.is_object()) {
        const json::object& o = v.get_object();
        for (const char* field : {"message", "error"}) {
            const json::value* m = o.if_contains(field);
            if (m != nullptr && m->is_string() && !m->get_string().empty()) {
                message = m->get_string().c_str();
                break;
            }
        }
        // Unary calls say "code"; a streaming call's error object says "grpc_code".
        for (const char* field : {"code", "grpc_code"}) {
            if (o.contains(field)) {
                code = int_field<std::int64_t>(o, field);
                break;
            }
        }
    }
    if (message.empty()) message = excerpt(body);
    Errc errc = Errc::io_error;
    if (code) {
        switch (*code) {
            case 1:   // CANCELLED
            case 4:   // DEADLINE_EXCEEDED
            case 8:   // RESOURCE_EXHAUSTED ("too many requests")
            case 10:  // ABORTED
            case 14:  // UNAVAILABLE (no leader, leader changed, request timed out)
                errc = Errc::unavailable;
                break;
            case 5:  // NOT_FOUND (a lease)
                errc = Errc::not_found;
                break;
            case 11:  // OUT_OF_RANGE: the revision asked for was compacted
                errc = Errc::conflict;
                break;
            case 3:   // INVALID_ARGUMENT
            case 7:   // PERMISSION_DENIED
            case 9:   // FAILED_PRECONDITION
            case 12:  // UNIMPLEMENTED
            case 16:  // UNAUTHENTICATED
                errc = Errc::failed_precondition;
                break;
            default:
                break;
        }
    } else if (http_status >= 500) {
        errc = Errc::unavailable;
    } else if (http_status >= 400) {
        errc = Errc::failed_precondition;
    }
    return Error{errc,
                 std::string(what) + ": HTTP " + std::to_string(http_status) + ": " + message};
}

std::string excerpt(std::string_view body, std::size_t max_bytes) {
    std::string out;
    for (std::size_t i = 0; i < body.size() && i < max_bytes; ++i) {
        const unsigned char c = static_cast<unsigned char>(body[i]);
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    if (body.size() > max_bytes) out += "...";
    if (out.empty()) out = "(empty)";
    return out;
}

}  // namespace itd::volume::etcd
