// Unit attention conditions of one logical unit, queued per I_T nexus (SAM-5 5.14, SPC-4 5.14).
// A condition is established for some nexuses (a new nexus: power on; a LUN reset: every nexus
// but the requester's), reported once on the next command that is not INQUIRY, REPORT LUNS or
// REQUEST SENSE, and then cleared.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "scsi/command.h"
#include "scsi/sense.h"

namespace itd::scsi {

class UnitAttentions {
public:
    // Conditions kept per nexus; more are folded (SPC-4 5.14: a device server may drop a
    // condition when the queue is full, as long as one is still reported).
    static constexpr std::size_t kMaxQueued = 8;

    // A nexus this LU has not seen: it starts with the power-on condition (SAM-5 5.14: the
    // first command from a new I_T nexus learns that the LU was reset).
    void add_nexus(NexusId nexus);
    // Establishes ua for nexus (ignored for a nexus never added).
    void establish(NexusId nexus, SenseReason ua);
    // Establishes ua for every known nexus except `except`.
    void establish_for_others(SenseReason ua, std::optional<NexusId> except);
    // Removes and returns the oldest pending condition of nexus.
    std::optional<SenseReason> take(NexusId nexus);
    bool pending(NexusId nexus) const;

private:
    static void push(std::deque<SenseReason>& queue, SenseReason ua);

    mutable std::mutex mutex_;
    std::unordered_map<NexusId, std::deque<SenseReason>> queues_;
};

}  // namespace itd::scsi
