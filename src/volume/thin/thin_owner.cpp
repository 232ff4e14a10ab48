// The owner's side of volume management (owner_request.h): growing, snapshots, and answering
// requests that management commands post for the volume this process serves.
#include <chrono>
#include <future>

#include "volume/thin/catalog.h"
#include "volume/thin/owner_request.h"
#include "volume/thin/thin_volume.h"

namespace itd::volume::thin {

namespace {

// A reply nobody collects (the requester died) is removed after this long.
constexpr std::chrono::seconds kStaleReply{60};

}  // namespace

Status ThinVolume::check_grow(std::uint64_t size_bytes) const {
    return thin::check_grow(superblock(), size_bytes);
}

Status ThinVolume::commit_and_wait() {
    std::promise<Status> promise;
    auto result = promise.get_future();
    flush([&promise](Status st) { promise.set_value(std::move(st)); });
    return result.get();
}

Status ThinVolume::grow(std::uint64_t size_bytes) {
    if (auto ok = check_grow(size_bytes); !ok) return ok;
    {
        std::lock_guard g(mutex_);
        if (fenced_) return std::unexpected(*fenced_);
        pending_size_ = size_bytes;
    }
    Status st = commit_and_wait();
    if (!st) forget_grow(size_bytes);
    return st;
}

void ThinVolume::forget_grow(std::uint64_t size_bytes) {
    // The caller hears that the grow failed: it must not happen later behind their back.
    std::lock_guard g(mutex_);
    if (pending_size_ == size_bytes) pending_size_.reset();
}

Status ThinVolume::record_snapshot(const std::string& name) {
    if (auto ok = check_name("snapshot", name); !ok) return ok;
    return thin::record_snapshot(*stores_.meta, superblock(), name);
}

Status ThinVolume::snapshot(const std::string& name) {
    if (auto ok = check_name("snapshot", name); !ok) return ok;
    if (auto st = commit_and_wait(); !st) return st;
    return record_snapshot(name);
}

void ThinVolume::serve_owner_request() {
    const std::string name = superblock().name;
    const std::string key = request_key(name);
    auto value = stores_.meta->get(key);
    if (!value || !*value) return;  // nothing asked (a store that is down: ask again later)
    const MetaValue& v = **value;
    if (is_reply(v.value)) {
        const auto now = std::chrono::steady_clock::now();
        if (!stale_reply_since_) {
            stale_reply_since_ = now;
        } else if (now - *stale_reply_since_ > kStaleReply) {
            (void)stores_.meta->remove_if(key, v.revision);
            stale_reply_since_.reset();
        }
        return;
    }
    stale_reply_since_.reset();
    auto request = decode_request(v.value);
    if (!request) {
        // Nobody can be waiting for an answer to what nobody can read.
        (void)stores_.meta->remove_if(key, v.revision);
        return;
    }
    Status st;
    switch (request->op) {
        case OwnerRequest::Op::snapshot:
            st = check_name("snapshot", request->snapshot);
            if (st) st = commit();
            if (st) st = record_snapshot(request->snapshot);
            break;
        case OwnerRequest::Op::grow:
            st = check_grow(request->size_bytes);
            if (st) {
                {
                    std::lock_guard g(mutex_);
                    pending_size_ = request->size_bytes;
                }
                st = commit();
                if (!st) forget_grow(request->size_bytes);
            }
            break;
    }
    OwnerReply reply{request->id, st ? std::string() : st.error().message};
    // A conflict means the requester gave up and withdrew the request: nobody to tell.
    (void)stores_.meta->put_if(key, encode_reply(reply), v.revision);
}

}  // namespace itd::volume::thin
