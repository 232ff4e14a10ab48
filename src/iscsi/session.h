// iSCSI sessions (RFC 7143 4.4): the table every portal of the daemon shares, keyed by TSIH,
// with reinstatement by ISID. A session has one connection (MaxConnections=1), which owns the
// session's sequence numbers; the table only binds logins to sessions and ends replaced ones.
//
//   login (TSIH 0) --bind_new--> [Session] --login with same ISID, TSIH 0--> reinstated:
//                                    |            the old connection is told to close
//                                    +--logout / connection loss--> remove
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "scsi/command.h"

namespace itd::iscsi {

enum class SessionType : std::uint8_t { normal, discovery };

struct Session {
    std::uint16_t tsih = 0;
    std::uint64_t isid = 0;
    std::string initiator_name;
    std::string target_name;  // empty for discovery sessions
    SessionType type = SessionType::normal;
    scsi::NexusId nexus = 0;
    // Asks the owning connection to close; called from any thread (reinstatement, shutdown).
    std::function<void()> close;
};

class SessionTable {
public:
    // Binds a leading login with TSIH 0: a session with the same initiator, ISID and target is
    // reinstated (RFC 7143 6.3.5: the old one is closed), else a new session gets a fresh TSIH.
    // Returns the session it replaced, or null.
    std::shared_ptr<Session> bind_new(const std::shared_ptr<Session>& session);

    // The session with this TSIH, if it exists and belongs to this initiator and ISID.
    std::shared_ptr<Session> find(std::uint16_t tsih, std::string_view initiator_name,
                                  std::uint64_t isid) const;

    // Removes a session when its connection ends. False when it was no longer there (it was
    // replaced by reinstatement, which already ended its I_T nexus).
    bool remove(const Session* session);

    // Asks the connection of every session to target_name except `except` to close
    // (TARGET COLD RESET).
    void close_target(std::string_view target_name, const Session* except);

    // Asks every session's connection to close (daemon shutdown).
    void close_all();

    std::size_t size() const;

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::uint16_t, std::shared_ptr<Session>> sessions_;
    std::uint16_t next_tsih_ = 1;
};

}  // namespace itd::iscsi
