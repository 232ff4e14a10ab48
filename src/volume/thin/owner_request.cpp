// The request protocol to a running owner (owner_request.h): the JSON values under
// requests/<volume> and the requester's side, ask_owner(). The owner's side is in
// thin_owner.cpp.
#include "volume/thin/owner_request.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <exception>
#include <new>
#include <optional>
#include <random>
#include <thread>

#include "volume/thin/superblock.h"

namespace itd::volume::thin {

namespace json = boost::json;

namespace {

// How often the requester looks for the owner's reply.
constexpr std::chrono::milliseconds kPollInterval{100};
// Longer values are not ours: a request is a few dozen bytes.
constexpr std::size_t kMaxValueBytes = 4096;

std::unexpected<Error> damaged(const std::string& what) {
    return fail(Errc::io_error, "owner request: " + what);
}

std::optional<json::object> parse_object(std::string_view text) {
    if (text.size() > kMaxValueBytes) return std::nullopt;
    json::error_code ec;
    json::value v;
    try {
        v = json::parse(json::string_view(text.data(), text.size()), ec);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

std::optional<std::string_view> string_field(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    const json::string& s = v->get_string();
    return std::string_view(s.data(), s.size());
}

std::string random_id() {
    std::random_device rd;
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 2; ++i) {
        std::uint64_t v = (std::uint64_t{rd()} << 32) | rd();
        for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kDigits[(v >> shift) & 0xf]);
    }
    return id;
}

std::string seconds_text(std::chrono::milliseconds d) {
    const auto ms = d.count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

// The reply to our request, if the value is one.
std::optional<OwnerReply> reply_to(const MetaValue& v, const std::string& id) {
    if (!is_reply(v.value)) return std::nullopt;
    auto reply = decode_reply(v.value);
    if (!reply || reply->id != id) return std::nullopt;
    return *reply;
}

bool is_our_request(const MetaValue& v, const std::string& id) {
    if (is_reply(v.value)) return false;
    auto request = decode_request(v.value);
    return request && request->id == id;
}

// Collects the reply (removes it, so the next request can be posted) and turns it into ours.
Status take_reply(MetaStore& meta, const std::string& key, const MetaValue& v,
                  const OwnerReply& reply) {
    // A failure here leaves a reply behind that the owner removes after a minute; the request
    // itself was answered, so the answer stands.
    (void)meta.remove_if(key, v.revision);
    if (reply.error.empty()) return {};
    // The owner's messages name the volume already.
    return fail(Errc::failed_precondition, reply.error);
}

}  // namespace

std::string request_key(std::string_view volume) {
    return "requests/" + std::string(volume);
}

std::string encode_request(const OwnerRequest& request) {
    json::object o;
    o.emplace("id", request.id);
    switch (request.op) {
        case OwnerRequest::Op::snapshot:
            o.emplace("op", "snapshot");
            o.emplace("snapshot", request.snapshot);
            break;
        case OwnerRequest::Op::grow:
            o.emplace("op", "grow");
            // 64-bit numbers as decimal strings, like the superblock.
            o.emplace("size_bytes", std::to_string(request.size_bytes));
            break;
    }
    return json::serialize(o);
}

std::string encode_reply(const OwnerReply& reply) {
    json::object o;
    o.emplace("id", reply.id);
    o.emplace("done", true);
    o.emplace("error", reply.error);
    return json::serialize(o);
}

bool is_reply(std::string_view text) {
    auto o = parse_object(text);
    if (!o) return false;
    const json::value* done = o->if_contains("done");
    return done != nullptr && done->is_bool() && done->get_bool();
}

Result<OwnerRequest> decode_request(std::string_view text) {
    auto o = parse_object(text);
    if (!o) return damaged("not a JSON object of at most 4096 bytes");
    OwnerRequest request;
    auto id = string_field(*o, "id");
    if (!id || id->empty()) return damaged("\"id\" is missing or empty");
    request.id = *id;
    auto op = string_field(*o, "op");
    if (!op) return damaged("\"op\" is missing");
    if (*op == "snapshot") {
        request.op = OwnerRequest::Op::snapshot;
        auto snap = string_field(*o, "snapshot");
        if (!snap) return damaged("a snapshot request without \"snapshot\"");
        request.snapshot = *snap;
    } else if (*op == "grow") {
        request.op = OwnerRequest::Op::grow;
        auto size = string_field(*o, "size_bytes");
        std::uint64_t value = 0;
        const auto parsed = size ? std::from_chars(size->data(), size->data() + size->size(), value)
                                 : std::from_chars_result{};
        if (!size || size->empty() || parsed.ec != std::errc{} ||
            parsed.ptr != size->data() + size->size()) {
            return damaged("a grow request without a decimal \"size_bytes\" below 2^64");
        }
        request.size_bytes = value;
    } else {
        return damaged("unknown \"op\"");
    }
    return request;
}

Result<OwnerReply> decode_reply(std::string_view text) {
    auto o = parse_object(text);
    if (!o) return damaged("not a JSON object of at most 4096 bytes");
    const json::value* done = o->if_contains("done");
    if (done == nullptr || !done->is_bool() || !done->get_bool()) {
        return damaged("a reply without \"done\": true");
    }
    auto id = string_field(*o, "id");
    if (!id) return damaged("a reply without \"id\"");
    auto error = string_field(*o, "error");
    if (!error) return damaged("a reply without \"error\"");
    return OwnerReply{std::string(*id), std::string(*error)};
}

Status ask_owner(MetaStore& meta, std::string_view volume, OwnerRequest request,
                 std::chrono::milliseconds timeout) {
    using Clock = std::chrono::steady_clock;
    const std::string name(volume);
    const std::string key = request_key(volume);
    if (request.id.empty()) request.id = random_id();
    const std::string id = request.id;

    auto posted = meta.put_if(key, encode_request(request), 0);
    if (!posted) {
        if (posted.error().code == Errc::conflict) {
            return fail(Errc::failed_precondition,
                        "another request for volume " + name +
                            " is pending (or its reply was not collected; the owner removes "
                            "those within a minute): try again later");
        }
        return fail(posted.error().code,
                    "volume " + name + ": cannot post the request: " + posted.error().message);
    }
    std::uint64_t request_revision = *posted;

    const auto deadline = Clock::now() + timeout;
    for (;;) {
        auto value = meta.get(key);
        if (value && !*value) {
            // Only an owner that could not read the request removes it unanswered.
            return fail(Errc::failed_precondition,
                        "volume " + name + ": the owner dropped the request unanswered");
        }
        if (value) {
            if (auto reply = reply_to(**value, id)) {
                return take_reply(meta, key, **value, *reply);
            }
            if (!is_our_request(**value, id)) {
                // Someone removed ours (only a confused owner or a person would) and another
                // request took its place: that one is not ours to withdraw.
                return fail(Errc::failed_precondition,
                            "volume " + name + ": the request was removed unanswered");
            }
            request_revision = (*value)->revision;
        } else if (value.error().code != Errc::unavailable) {
            (void)meta.remove_if(key, request_revision);
            return fail(value.error().code,
                        "volume " + name + ": waiting for the owner: " + value.error().message);
        }
        if (Clock::now() >= deadline) break;
        std::this_thread::sleep_for(
            std::min<Clock::duration>(kPollInterval, deadline - Clock::now()));
    }

    // Withdraw the request, unless the owner answered just now.
    auto withdrawn = meta.remove_if(key, request_revision);
    if (!withdrawn && withdrawn.error().code == Errc::conflict) {
        auto value = meta.get(key);
        if (value && *value) {
            if (auto reply = reply_to(**value, id)) {
                return take_reply(meta, key, **value, *reply);
            }
        }
    }
    std::string owner = "nobody holds its lock any more";
    if (auto holder = meta.lock_holder(volume_key(volume)); holder && *holder) owner = **holder;
    return fail(Errc::unavailable, "volume " + name + ": its owner (" + owner +
                                       ") did not answer in " + seconds_text(timeout) +
                                       "; try again, or stop the itd serving it");
}

}  // namespace itd::volume::thin
