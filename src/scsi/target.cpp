#include "scsi/target.h"

#include <condition_variable>
#include <optional>

#include "common/check.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/lun_address.h"
#include "scsi/reservation_rules.h"
#include "scsi/task.h"

namespace itd::scsi {

void finish(TaskPtr task, SenseReason reason) {
    ITD_CHECK(task != nullptr && task->done);
    apply_sense(reason, task->detail, task->result);
    if (reason != SenseReason::none) {
        // No data goes with CHECK CONDITION status (the sense data says what happened).
        task->result.data_in_bytes = 0;
        task->result.data_in_view = {};
        task->result.data_in_owner.reset();
    }
    CommandDone done = std::move(task->done);
    CommandResult result = std::move(task->result);
    task.reset();  // release buffers before the transport sees the answer
    done(result);
}

Target::Target(std::string target_name) : name_(std::move(target_name)) {}

Target::~Target() = default;

void Target::add_lun(std::uint32_t lun, LunConfig config) {
    ITD_CHECK(lun <= kMaxLun);
    ITD_CHECK(config.volume != nullptr);
    std::unique_lock lock(luns_mutex_);
    auto unit = std::make_unique<LogicalUnit>(lun, std::move(config), name_);
    // A nexus registered before this LUN appeared meets it as "just powered on" too.
    {
        std::lock_guard nexus_lock(nexus_mutex_);
        for (const auto& [port, nexus] : nexus_ids_) unit->unit_attentions().add_nexus(nexus);
    }
    const bool inserted = luns_.emplace(lun, std::move(unit)).second;
    ITD_CHECK(inserted);
}

std::vector<std::uint32_t> Target::luns() const {
    std::shared_lock lock(luns_mutex_);
    std::vector<std::uint32_t> out;
    out.reserve(luns_.size());
    for (const auto& [lun, unit] : luns_) out.push_back(lun);
    return out;
}

bool Target::has_lun(std::uint32_t lun) const { return find_lun(lun) != nullptr; }

LogicalUnit* Target::find_lun(std::uint32_t lun) const {
    std::shared_lock lock(luns_mutex_);
    auto it = luns_.find(lun);
    return it == luns_.end() ? nullptr : it->second.get();
}

LogicalUnit* Target::find_lun_by_naa(std::uint64_t naa_id) const {
    std::shared_lock lock(luns_mutex_);
    for (const auto& [lun, unit] : luns_) {
        if (unit->naa_id() == naa_id) return unit.get();
    }
    return nullptr;
}

NexusId Target::register_nexus(std::string_view initiator_port, std::string_view target_port) {
    std::string key;
    key.reserve(initiator_port.size() + target_port.size() + 1);
    key.append(initiator_port).push_back('\n');  // '\n' cannot occur in an iSCSI name
    key.append(target_port);
    NexusId id = 0;
    {
        std::lock_guard lock(nexus_mutex_);
        auto it = nexus_ids_.find(key);
        if (it != nexus_ids_.end()) return it->second;
        id = next_nexus_++;
        nexus_ids_.emplace(std::move(key), id);
        nexus_names_.emplace(id,
                             NexusNames{std::string(initiator_port), std::string(target_port)});
    }
    std::shared_lock lock(luns_mutex_);
    for (const auto& [lun, unit] : luns_) unit->unit_attentions().add_nexus(id);
    return id;
}

std::optional<NexusNames> Target::nexus_names(NexusId nexus) const {
    std::lock_guard lock(nexus_mutex_);
    auto it = nexus_names_.find(nexus);
    if (it == nexus_names_.end()) return std::nullopt;
    return it->second;
}

itd::Status Target::restore_persistent_reservations() {
    std::vector<LogicalUnit*> units;
    {
        std::shared_lock lock(luns_mutex_);
        for (const auto& [lun, unit] : luns_) units.push_back(unit.get());
    }
    // LUNs are never removed, so the pointers stay valid; register_nexus takes the LUN lock
    // itself.
    for (LogicalUnit* unit : units) {
        auto st = unit->reservations().restore(
            [this](std::string_view initiator_port, std::string_view target_port) {
                return register_nexus(initiator_port, target_port);
            });
        if (!st) return st;
    }
    return {};
}

void Target::reset_lun(std::uint32_t lun, NexusId requester) {
    if (LogicalUnit* unit = find_lun(lun)) unit->reset(requester);
}

void Target::reset_target(NexusId requester) {
    std::shared_lock lock(luns_mutex_);
    for (const auto& [lun, unit] : luns_) unit->reset(requester);
}

void Target::nexus_lost(NexusId nexus) {
    std::shared_lock lock(luns_mutex_);
    for (const auto& [lun, unit] : luns_) unit->nexus_lost(nexus);
}

itd::Status Target::flush_all() {
    std::vector<std::shared_ptr<volume::Volume>> volumes;
    {
        std::shared_lock lock(luns_mutex_);
        for (const auto& [lun, unit] : luns_) volumes.push_back(unit->config().volume);
    }
    std::mutex mutex;
    std::condition_variable cv;
    std::size_t remaining = volumes.size();
    itd::Status first = {};
    for (auto& vol : volumes) {
        vol->flush([&](itd::Status st) {
            std::lock_guard lock(mutex);
            if (!st && first) first = std::move(st);
            if (--remaining == 0) cv.notify_all();
        });
    }
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return remaining == 0; });
    return first;
}

namespace {

// The bytes the CDB asks to move, before the handler runs. Handlers with an allocation length
// lower it to what they return (Task::send_data).
std::uint64_t cdb_transfer_bytes(const Task& task) {
    const CommandSpec& spec = *task.spec;
    if (spec.direction == DataDirection::none) return 0;
    const std::uint64_t n = load_field(task.cdb(), spec.length);
    switch (spec.length_kind) {
        case LengthKind::none: return 0;
        case LengthKind::bytes: return n;
        case LengthKind::blocks:
        case LengthKind::blocks_zero_is_256: {
            if (task.lu == nullptr) return 0;
            const std::uint64_t blocks =
                (n == 0 && spec.length_kind == LengthKind::blocks_zero_is_256) ? 256 : n;
            return blocks * task.lu->geometry().block_size_bytes;
        }
    }
    return 0;
}

// Everything between a decoded task and its handler: the command table, the LUN, unit
// attentions and reserved bits, in the order SAM-5/SPC-4 ask for.
SenseReason dispatch(TaskPtr& task) {
    Task& t = *task;
    if (t.cdb_size == 0) return SenseReason::invalid_opcode;
    const std::uint8_t opcode = t.cdb_bytes[0];
    const std::uint8_t service_action = t.cdb_size > 1 ? (t.cdb_bytes[1] & 0x1f) : 0;
    t.spec = find_command(opcode, service_action);

    const bool needs_lu = t.spec == nullptr || t.spec->lun_access == LunAccess::normal ||
                          t.spec->lun_access == LunAccess::no_medium;
    // SPC-4 6.6.1 / 6.33 / 6.39: INQUIRY, REPORT LUNS and REQUEST SENSE answer for a LUN that
    // does not exist; anything else is LOGICAL UNIT NOT SUPPORTED, even an unknown opcode.
    if (t.lu == nullptr && needs_lu) return SenseReason::lun_not_supported;

    // SBC-4 4.11.2: while a sanitize operation runs, every command but INQUIRY, REPORT LUNS and
    // REQUEST SENSE ends with NOT READY, SANITIZE IN PROGRESS, before a pending unit attention
    // is taken: the UA stays queued for the first command that can run (libiscsi's
    // Sanitize.Reset logs in anew, with a power-on UA pending, and expects SANITIZE IN
    // PROGRESS). After a failed sanitize the UA comes first, as for any other error.
    if (t.lu != nullptr && sanitize_running(*t.lu)) {
        if (auto reason = sanitize_gate(t); reason != SenseReason::none) return reason;
    }

    // SAM-5 5.14: a pending unit attention is reported instead of running the command, except
    // for INQUIRY and REPORT LUNS (and REQUEST SENSE, which returns it as data). An unknown
    // opcode still reports it: the UA tells the initiator something it must hear first.
    if (t.lu != nullptr && needs_lu) {
        if (auto ua = t.lu->unit_attentions().take(t.nexus)) return *ua;
    }
    if (t.lu != nullptr && t.spec != nullptr) {
        if (auto reason = sanitize_gate(t); reason != SenseReason::none) return reason;
    }

    if (t.spec == nullptr) {
        if (opcode_has_service_actions(opcode)) return t.invalid_cdb_field(1, 4);
        return SenseReason::invalid_opcode;
    }
    // The transport hands us the whole CDB field (16 bytes for iSCSI); a shorter one than the
    // opcode needs is malformed.
    if (t.cdb_size < t.spec->cdb_size) return t.invalid_cdb_field(0);

    // SPC-4 5.12.1, SPC-2 5.5.1: a reservation another nexus holds may exclude the command
    // (after unit attentions, SAM-5 5.14; reservation_rules.cpp says which).
    if (t.lu != nullptr &&
        t.lu->reservations().conflicts(t.nexus, reservation_rule(opcode, service_action)))
        return SenseReason::reservation_conflict;

    t.result.transfer_bytes = cdb_transfer_bytes(t);

    if (auto bad = find_unused_bits(*t.spec, t.cdb())) {
        t.detail.field = *bad;
        return SenseReason::invalid_field_in_cdb;
    }
    // SBC-4 5.25: with the medium ejected, a command that needs it is NOT READY, MEDIUM NOT
    // PRESENT until a START STOP UNIT loads it again (TEST UNIT READY reports just that).
    if (t.spec->lun_access == LunAccess::normal && !t.lu->medium().present()) {
        return SenseReason::medium_not_present;
    }
    return t.spec->handler(task);
}

}  // namespace

using TaskBlocks = ThreadFreeList<sizeof(Task), alignof(Task)>;

void* Task::operator new(std::size_t bytes) {
    ITD_CHECK(bytes == sizeof(Task));
    return TaskBlocks::allocate();
}

void Task::operator delete(void* p) noexcept { TaskBlocks::deallocate(p); }

void Target::execute(const Command& cmd, CommandDone done) {
    ITD_CHECK(done != nullptr);
    auto task = std::make_unique<Task>();
    task->target = this;
    task->nexus = cmd.nexus;
    task->done = std::move(done);
    task->data_out = cmd.data_out;
    task->data_in = cmd.data_in;
    task->accepts_data_in_view = cmd.accepts_data_in_view;
    task->abort = cmd.abort;
    // CDBs longer than 16 bytes (32-byte variable length CDBs via an extended-CDB AHS) have
    // opcode 7Fh, which the table does not list; the first 16 bytes are enough to say so.
    task->cdb_size = static_cast<std::uint8_t>(std::min<std::size_t>(cmd.cdb.size(), 16));
    std::copy_n(cmd.cdb.begin(), task->cdb_size, task->cdb_bytes.begin());
    if (auto lun = decode_lun(cmd.lun_field)) task->lu = find_lun(*lun);

    const SenseReason reason = dispatch(task);
    // A handler that went asynchronous took the task and finishes it from its completion.
    if (task != nullptr) finish(std::move(task), reason);
}

}  // namespace itd::scsi
