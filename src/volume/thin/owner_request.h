// Changes to an open volume go through its owner, the itd serving it: only the owner may write
// its superblock. A management command asks through the MetaStore, which works the same for a
// local store and a cluster's etcd:
//
//   requester                               owner (polls its key about once a second)
//   put_if(requests/<volume>, request, 0) ->
//                                           performs it (a snapshot commits first, then records
//                                           the committed generation; a grow swaps the
//                                           superblock and raises CAPACITY DATA HAS CHANGED)
//                                        <- put_if(requests/<volume>, reply, request's revision)
//   get() until a reply with its id, then remove_if(requests/<volume>, reply's revision)
//
// A requester that gives up (timeout) removes its request if it is still unanswered; an owner
// that finds a reply nobody collected for a minute removes it. Values are JSON:
//   request {"id": "...", "op": "snapshot", "snapshot": "NAME"}
//           {"id": "...", "op": "grow", "size_bytes": "N"}
//   reply   {"id": "...", "done": true, "error": ""}      (error: empty on success)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "volume/meta/meta_store.h"

namespace itd::volume::thin {

struct OwnerRequest {
    enum class Op { snapshot, grow };
    std::string id;  // random, names this request
    Op op = Op::snapshot;
    std::string snapshot;          // snapshot: its name
    std::uint64_t size_bytes = 0;  // grow: the new size
};

struct OwnerReply {
    std::string id;
    std::string error;  // empty: done
};

std::string request_key(std::string_view volume);  // requests/<volume>

std::string encode_request(const OwnerRequest& request);
std::string encode_reply(const OwnerReply& reply);
// A value under requests/<volume> is a request or a reply; io_error when it is neither.
[[nodiscard]] Result<OwnerRequest> decode_request(std::string_view json);
[[nodiscard]] Result<OwnerReply> decode_reply(std::string_view json);
bool is_reply(std::string_view json);

// The requester's side: posts the request and waits for the owner's reply, at most timeout.
// Errors: failed_precondition (another request is pending; or the owner answered with an
// error: its message), unavailable (no answer in time: the request is withdrawn).
[[nodiscard]] Status ask_owner(MetaStore& meta, std::string_view volume, OwnerRequest request,
                               std::chrono::milliseconds timeout);

}  // namespace itd::volume::thin
