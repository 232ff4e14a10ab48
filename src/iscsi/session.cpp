#include "iscsi/session.h"

#include <vector>

namespace itd::iscsi {

std::shared_ptr<Session> SessionTable::bind_new(const std::shared_ptr<Session>& session) {
    std::shared_ptr<Session> replaced;
    {
        std::lock_guard lock(mutex_);
        for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
            const Session& old = *it->second;
            if (old.isid == session->isid && old.initiator_name == session->initiator_name &&
                old.target_name == session->target_name) {
                replaced = it->second;
                sessions_.erase(it);
                break;
            }
        }
        // TSIH 0 is reserved (RFC 7143 11.12.6); skip values still in use after wrap-around.
        do {
            session->tsih = next_tsih_++;
            if (next_tsih_ == 0) next_tsih_ = 1;
        } while (session->tsih == 0 || sessions_.contains(session->tsih));
        sessions_.emplace(session->tsih, session);
    }
    // Outside the lock: the callback posts to another thread and may re-enter remove().
    if (replaced && replaced->close) replaced->close();
    return replaced;
}

std::shared_ptr<Session> SessionTable::find(std::uint16_t tsih, std::string_view initiator_name,
                                            std::uint64_t isid) const {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(tsih);
    if (it == sessions_.end()) return nullptr;
    if (it->second->initiator_name != initiator_name || it->second->isid != isid) return nullptr;
    return it->second;
}

bool SessionTable::remove(const Session* session) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(session->tsih);
    if (it == sessions_.end() || it->second.get() != session) return false;
    sessions_.erase(it);
    return true;
}

void SessionTable::close_target(std::string_view target_name, const Session* except) {
    std::vector<std::function<void()>> closers;
    {
        std::lock_guard lock(mutex_);
        for (auto& [tsih, s] : sessions_)
            if (s.get() != except && s->target_name == target_name && s->close)
                closers.push_back(s->close);
    }
    for (auto& c : closers) c();
}

void SessionTable::close_all() {
    std::vector<std::function<void()>> closers;
    {
        std::lock_guard lock(mutex_);
        for (auto& [tsih, s] : sessions_)
            if (s->close) closers.push_back(s->close);
    }
    for (auto& c : closers) c();
}

std::size_t SessionTable::size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

}  // namespace itd::iscsi
