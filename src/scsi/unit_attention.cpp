#include "scsi/unit_attention.h"

#include <algorithm>

#include "common/check.h"

namespace itd::scsi {

void UnitAttentions::push(std::deque<SenseReason>& queue, SenseReason ua) {
    ITD_CHECK(is_unit_attention(ua));
    // A power-on condition says everything the others would (the LU lost all state), so it
    // replaces them (SAM-5 5.14: "power on" outranks other conditions).
    if (ua == SenseReason::ua_power_on) {
        queue.assign(1, ua);
        return;
    }
    if (std::find(queue.begin(), queue.end(), ua) != queue.end()) return;
    if (queue.size() >= kMaxQueued) return;
    queue.push_back(ua);
}

void UnitAttentions::add_nexus(NexusId nexus) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = queues_.try_emplace(nexus);
    if (inserted) push(it->second, SenseReason::ua_power_on);
}

void UnitAttentions::establish(NexusId nexus, SenseReason ua) {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(nexus);
    if (it != queues_.end()) push(it->second, ua);
}

void UnitAttentions::establish_for_others(SenseReason ua, std::optional<NexusId> except) {
    std::lock_guard lock(mutex_);
    for (auto& [nexus, queue] : queues_) {
        if (except && nexus == *except) continue;
        push(queue, ua);
    }
}

std::optional<SenseReason> UnitAttentions::take(NexusId nexus) {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(nexus);
    if (it == queues_.end() || it->second.empty()) return std::nullopt;
    const SenseReason ua = it->second.front();
    it->second.pop_front();
    return ua;
}

bool UnitAttentions::pending(NexusId nexus) const {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(nexus);
    return it != queues_.end() && !it->second.empty();
}

}  // namespace itd::scsi
