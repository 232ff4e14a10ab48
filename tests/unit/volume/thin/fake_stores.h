// In-memory ObjectStore and MetaStore for unit tests of the thin engine, with deterministic
// fault injection shared through one FaultPlan (STYLE.md 16: sweep failure points; drop
// unsynced data on a crash, as RocksDB's fault_injection_fs does).
//
// Every call on either store counts as one step, numbered from 1: put, get, get_all, remove,
// list, sync on the object store; get, put_if, remove_if, list, lock, lock_holder on the meta
// store (MetaLock::held() is not a call, and neither is a call refused for a malformed key,
// which fails with failed_precondition as in the real stores). A plan can
//   fail_at(N, code)                step N fails with code and has no effect;
//   fail_after_effect_at(N, code)   step N takes effect, then reports code (a lost reply: the
//                                   put or the compare-and-swap did happen);
//   crash_at(N)                     step N and every later call fail with unavailable and have
//                                   no effect, until crash_recover().
// crash_recover() is the crash itself (call it while no store call is in flight): the object
// store goes back to what its last completed sync() saw (a put or remove not covered by one is
// lost; a synced key keeps its synced content), the meta store keeps every value (its writes
// are durable on return) and loses every lock (held() turns false; the old MetaLock objects
// may still be destroyed safely). Pending faults are cleared and calls succeed again.
//
// A crash sweep:
//
//   auto plan = std::make_shared<FaultPlan>();
//   ... run the operation once on fresh stores with no faults ...
//   const std::uint64_t count = plan->steps();
//   for (std::uint64_t n = 1; n <= count + 1; ++n) {
//       fresh stores and plan; bring them to the starting state; plan->reset();
//       plan->crash_at(n);
//       run the operation (it fails from step n on, or finishes when n > count);
//       plan->crash_recover();
//       reopen and check the invariants; on failure print plan->trace()
//   }
//
// Concurrent calls are safe; with calls racing on several threads, step N is whichever call
// counted Nth.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "volume/meta/meta_store.h"
#include "volume/store/local_files.h"
#include "volume/store/object_store.h"

namespace itd::volume::testing {

class FaultPlan {
public:
    // Makes step `step` fail with code; the call has no effect.
    void fail_at(std::uint64_t step, Errc code = Errc::unavailable) {
        const std::lock_guard lock(mutex_);
        faults_[step] = Fault{code, false};
    }

    // Makes step `step` take effect and then report code.
    void fail_after_effect_at(std::uint64_t step, Errc code = Errc::unavailable) {
        const std::lock_guard lock(mutex_);
        faults_[step] = Fault{code, true};
    }

    // From step `step` on, every call fails with unavailable until crash_recover().
    void crash_at(std::uint64_t step) {
        const std::lock_guard lock(mutex_);
        crash_step_ = step;
    }

    // The crash: see the top of this file. Also usable with no crash_at (a crash "now").
    void crash_recover() {
        std::vector<Listener*> listeners;
        {
            const std::lock_guard lock(mutex_);
            crashed_ = false;
            crash_step_.reset();
            faults_.clear();
            listeners = listeners_;
        }
        for (Listener* l : listeners) l->on_crash();
    }

    // Starts counting from 0 again and forgets faults not yet reached and the trace. Does not
    // touch the stores, and does not undo a crash (only crash_recover() does).
    void reset() {
        const std::lock_guard lock(mutex_);
        steps_ = 0;
        faults_.clear();
        crash_step_.reset();
        trace_.clear();
    }

    // Calls counted since construction or reset().
    std::uint64_t steps() const {
        const std::lock_guard lock(mutex_);
        return steps_;
    }

    // True from the crash_at step until crash_recover().
    bool crashed() const {
        const std::lock_guard lock(mutex_);
        return crashed_;
    }

    // One line per counted call, "<step> <call> <key>" (the first 65536 calls), to explain
    // which call a failing sweep step was.
    std::vector<std::string> trace() const {
        const std::lock_guard lock(mutex_);
        return trace_;
    }

    // --- for the fake stores ---

    // What a store does with a call: apply its effect or not, then return error if set.
    struct Step {
        bool apply = true;
        std::optional<Error> error;
    };

    Step step(std::string_view call, std::string_view key) {
        const std::lock_guard lock(mutex_);
        const std::uint64_t n = ++steps_;
        const std::string what =
            std::to_string(n) + " " + std::string(call) + " " + std::string(key);
        if (trace_.size() < 65536) trace_.push_back(what);
        if (crash_step_ && n >= *crash_step_) crashed_ = true;
        if (crashed_) return Step{false, Error{Errc::unavailable, "crashed (step " + what + ")"}};
        const auto it = faults_.find(n);
        if (it == faults_.end()) return Step{};
        const Fault f = it->second;
        faults_.erase(it);
        return Step{f.after_effect, Error{f.code, "injected fault at step " + what}};
    }

    class Listener {
      public:
        virtual void on_crash() = 0;

      protected:
        ~Listener() = default;
    };

    void attach(Listener* l) {
        const std::lock_guard lock(mutex_);
        listeners_.push_back(l);
    }
    void detach(Listener* l) {
        const std::lock_guard lock(mutex_);
        std::erase(listeners_, l);
    }

private:
    struct Fault {
        Errc code = Errc::unavailable;
        bool after_effect = false;
    };

    mutable std::mutex mutex_;
    std::uint64_t steps_ = 0;
    std::map<std::uint64_t, Fault> faults_;
    std::optional<std::uint64_t> crash_step_;
    bool crashed_ = false;
    std::vector<std::string> trace_;
    std::vector<Listener*> listeners_;
};

namespace fake_detail {

inline std::unexpected<Error> error_of(FaultPlan::Step& s) {
    return std::unexpected(*s.error);
}

}  // namespace fake_detail

class MemoryObjectStore final : public ObjectStore, private FaultPlan::Listener {
public:
    using Clock = std::chrono::system_clock;

    explicit MemoryObjectStore(std::shared_ptr<FaultPlan> plan = std::make_shared<FaultPlan>())
        : plan_(std::move(plan)) {
        plan_->attach(this);
    }
    ~MemoryObjectStore() override { plan_->detach(this); }
    MemoryObjectStore(const MemoryObjectStore&) = delete;
    MemoryObjectStore& operator=(const MemoryObjectStore&) = delete;

    const std::shared_ptr<FaultPlan>& plan() const { return plan_; }

    [[nodiscard]] Status put(std::string_view key, std::span<const std::uint8_t> data) override {
        if (Status st = check(key); !st) return st;
        auto s = plan_->step("put", key);
        if (s.apply) {
            const std::lock_guard lock(mutex_);
            objects_[std::string(key)] = Object{
                std::make_shared<const std::vector<std::uint8_t>>(data.begin(), data.end()), now()};
        }
        if (s.error) return fake_detail::error_of(s);
        return {};
    }

    // One "put" step, as put: the check and the store happen together (as S3's conditional
    // PUT and RADOS's exclusive create do).
    [[nodiscard]] Status put_new(std::string_view key,
                                 std::span<const std::uint8_t> data) override {
        if (Status st = check(key); !st) return st;
        auto s = plan_->step("put", key);
        if (s.apply) {
            const std::lock_guard lock(mutex_);
            auto it = objects_.find(std::string(key));
            if (it != objects_.end()) {
                const std::vector<std::uint8_t>& there = *it->second.data;
                if (!std::equal(there.begin(), there.end(), data.begin(), data.end())) {
                    return fail(Errc::conflict, "object \"" + std::string(key) +
                                                    "\" exists already with other contents");
                }
            } else {
                objects_[std::string(key)] = Object{
                    std::make_shared<const std::vector<std::uint8_t>>(data.begin(), data.end()),
                    now()};
            }
        }
        if (s.error) return fake_detail::error_of(s);
        return {};
    }

    [[nodiscard]] Status get(std::string_view key, std::uint64_t offset_bytes,
                             std::span<std::uint8_t> out) override {
        if (Status st = check(key); !st) return st;
        auto s = plan_->step("get", key);
        if (s.error) return fake_detail::error_of(s);  // reads have no effect to apply
        auto data = find(key);
        if (!data) return std::unexpected(std::move(data.error()));
        const std::vector<std::uint8_t>& d = **data;
        if (offset_bytes > d.size() || out.size() > d.size() - offset_bytes) {
            return fail(Errc::io_error, "object \"" + std::string(key) + "\": is " +
                                            std::to_string(d.size()) + " bytes, shorter than " +
                                            std::to_string(out.size()) + " at offset " +
                                            std::to_string(offset_bytes));
        }
        std::copy_n(d.begin() + static_cast<std::ptrdiff_t>(offset_bytes), out.size(), out.begin());
        return {};
    }

    [[nodiscard]] Result<std::vector<std::uint8_t>> get_all(std::string_view key) override {
        if (Status st = check(key); !st) return std::unexpected(std::move(st.error()));
        auto s = plan_->step("get_all", key);
        if (s.error) return fake_detail::error_of(s);
        auto data = find(key);
        if (!data) return std::unexpected(std::move(data.error()));
        return **data;
    }

    [[nodiscard]] Status remove(std::string_view key) override {
        if (Status st = check(key); !st) return st;
        auto s = plan_->step("remove", key);
        if (s.apply) {
            const std::lock_guard lock(mutex_);
            objects_.erase(std::string(key));
        }
        if (s.error) return fake_detail::error_of(s);
        return {};
    }

    [[nodiscard]] Result<std::vector<ObjectInfo>> list(std::string_view prefix) override {
        if (Status st = local::check_prefix(prefix, "", "object key prefix"); !st) {
            return std::unexpected(std::move(st.error()));
        }
        auto s = plan_->step("list", prefix);
        if (s.error) return fake_detail::error_of(s);
        const std::lock_guard lock(mutex_);
        std::vector<ObjectInfo> out;
        for (auto it = objects_.lower_bound(std::string(prefix));
             it != objects_.end() && it->first.starts_with(prefix); ++it) {
            out.push_back(ObjectInfo{it->first, it->second.data->size(), it->second.modified});
        }
        return out;
    }

    [[nodiscard]] Status sync() override {
        auto s = plan_->step("sync", "");
        if (s.apply) {
            const std::lock_guard lock(mutex_);
            durable_ = objects_;  // shares the immutable data
        }
        if (s.error) return fake_detail::error_of(s);
        return {};
    }

    // --- inspection and setup for tests; none of these counts as a step ---

    std::size_t object_count() const {
        const std::lock_guard lock(mutex_);
        return objects_.size();
    }

    // Every key, ascending.
    std::vector<std::string> keys() const {
        const std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& [key, obj] : objects_) out.push_back(key);
        return out;
    }

    // Every key a crash now would keep (as of the last completed sync), ascending.
    std::vector<std::string> durable_keys() const {
        const std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& [key, obj] : durable_) out.push_back(key);
        return out;
    }

    bool contains(std::string_view key) const {
        const std::lock_guard lock(mutex_);
        return objects_.contains(std::string(key));
    }

    // Sets an object's modification time (also in its synced copy). False when missing.
    bool set_modified(std::string_view key, Clock::time_point modified) {
        const std::lock_guard lock(mutex_);
        const auto it = objects_.find(std::string(key));
        if (it == objects_.end()) return false;
        it->second.modified = modified;
        const auto d = durable_.find(std::string(key));
        if (d != durable_.end() && d->second.data == it->second.data) d->second.modified = modified;
        return true;
    }

    // The time later puts are stamped with; nullopt: the system clock.
    void set_now(std::optional<Clock::time_point> now) {
        const std::lock_guard lock(mutex_);
        now_ = now;
    }

    // Flips the bits of one byte of the object as stored (synced copy included), to test
    // checksums. False when the key is missing or too short.
    bool corrupt(std::string_view key, std::uint64_t byte_offset) {
        const std::lock_guard lock(mutex_);
        const auto it = objects_.find(std::string(key));
        if (it == objects_.end() || byte_offset >= it->second.data->size()) return false;
        auto copy = std::make_shared<std::vector<std::uint8_t>>(*it->second.data);
        (*copy)[byte_offset] ^= 0xff;
        const auto d = durable_.find(std::string(key));
        if (d != durable_.end() && d->second.data == it->second.data) d->second.data = copy;
        it->second.data = std::move(copy);
        return true;
    }

private:
    struct Object {
        std::shared_ptr<const std::vector<std::uint8_t>> data;
        Clock::time_point modified;
    };

    void on_crash() override {
        const std::lock_guard lock(mutex_);
        objects_ = durable_;
    }

    static Status check(std::string_view key) { return local::check_key(key, "", "object key"); }

    Clock::time_point now() const { return now_ ? *now_ : Clock::now(); }  // mutex_ held

    Result<std::shared_ptr<const std::vector<std::uint8_t>>> find(std::string_view key) const {
        const std::lock_guard lock(mutex_);
        const auto it = objects_.find(std::string(key));
        if (it == objects_.end()) {
            return fail(Errc::not_found, "object \"" + std::string(key) + "\": not found");
        }
        return it->second.data;
    }

    const std::shared_ptr<FaultPlan> plan_;
    mutable std::mutex mutex_;
    std::map<std::string, Object> objects_;  // what readers see
    std::map<std::string, Object> durable_;  // as of the last completed sync()
    std::optional<Clock::time_point> now_;
};

class MemoryMetaStore final : public MetaStore, private FaultPlan::Listener {
public:
    explicit MemoryMetaStore(std::shared_ptr<FaultPlan> plan = std::make_shared<FaultPlan>())
        : plan_(std::move(plan)), locks_(std::make_shared<LockTable>()) {
        plan_->attach(this);
    }
    ~MemoryMetaStore() override { plan_->detach(this); }
    MemoryMetaStore(const MemoryMetaStore&) = delete;
    MemoryMetaStore& operator=(const MemoryMetaStore&) = delete;

    const std::shared_ptr<FaultPlan>& plan() const { return plan_; }

    [[nodiscard]] Result<std::optional<MetaValue>> get(std::string_view key) override {
        if (Status st = check(key); !st) return std::unexpected(std::move(st.error()));
        auto s = plan_->step("meta.get", key);
        if (s.error) return fake_detail::error_of(s);
        const std::lock_guard lock(mutex_);
        const auto it = values_.find(std::string(key));
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }

    [[nodiscard]] Result<std::uint64_t> put_if(std::string_view key, std::string_view value,
                                               std::uint64_t expected_revision,
                                               const MetaLock* fence = nullptr) override {
        if (Status st = check(key); !st) return std::unexpected(std::move(st.error()));
        auto s = plan_->step("meta.put_if", key);
        if (!s.apply) return fake_detail::error_of(s);
        if (Status st = check_fence(fence, key); !st) return std::unexpected(std::move(st.error()));
        std::uint64_t revision = 0;
        {
            const std::lock_guard lock(mutex_);
            const auto it = values_.find(std::string(key));
            const std::uint64_t current = it == values_.end() ? 0 : it->second.revision;
            if (current != expected_revision) {
                // A lost reply after a failed compare changes nothing either.
                return fail(Errc::conflict, "meta key \"" + std::string(key) + "\": revision is " +
                                                std::to_string(current) + ", expected " +
                                                std::to_string(expected_revision));
            }
            revision = ++last_revision_;
            values_[std::string(key)] = MetaValue{std::string(value), revision};
        }
        if (s.error) return fake_detail::error_of(s);
        return revision;
    }

    [[nodiscard]] Status remove_if(std::string_view key, std::uint64_t expected_revision,
                                   const MetaLock* fence = nullptr) override {
        if (Status st = check(key); !st) return st;
        auto s = plan_->step("meta.remove_if", key);
        if (!s.apply) return fake_detail::error_of(s);
        if (Status st = check_fence(fence, key); !st) return st;
        {
            const std::lock_guard lock(mutex_);
            const auto it = values_.find(std::string(key));
            if (it == values_.end()) {
                return fail(Errc::not_found,
                            "meta key \"" + std::string(key) + "\": does not exist");
            }
            if (it->second.revision != expected_revision) {
                return fail(Errc::conflict, "meta key \"" + std::string(key) + "\": revision is " +
                                                std::to_string(it->second.revision) +
                                                ", expected " + std::to_string(expected_revision));
            }
            values_.erase(it);
        }
        if (s.error) return fake_detail::error_of(s);
        return {};
    }

    [[nodiscard]] Result<std::vector<std::string>> list(std::string_view prefix) override {
        if (Status st = local::check_prefix(prefix, "@", "meta key prefix"); !st) {
            return std::unexpected(std::move(st.error()));
        }
        auto s = plan_->step("meta.list", prefix);
        if (s.error) return fake_detail::error_of(s);
        const std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (auto it = values_.lower_bound(std::string(prefix));
             it != values_.end() && it->first.starts_with(prefix); ++it) {
            out.push_back(it->first);
        }
        return out;
    }

    [[nodiscard]] Result<std::unique_ptr<MetaLock>> lock(std::string_view name,
                                                         std::string_view owner_info) override {
        if (Status st = check(name); !st) return std::unexpected(std::move(st.error()));
        auto s = plan_->step("meta.lock", name);
        if (!s.apply) return fake_detail::error_of(s);
        std::unique_ptr<MetaLock> taken;
        {
            const std::lock_guard lock(locks_->mutex);
            const auto it = locks_->held.find(std::string(name));
            if (it != locks_->held.end()) {
                return fail(Errc::failed_precondition, "lock \"" + std::string(name) +
                                                           "\" is held by \"" +
                                                           it->second.owner_info + "\"");
            }
            const std::uint64_t token = ++locks_->last_token;
            locks_->held[std::string(name)] = Holder{token, std::string(owner_info)};
            taken = std::make_unique<Lock>(locks_, std::string(name), token);
        }
        if (s.error) return fake_detail::error_of(s);  // taken, but the caller never hears
        return taken;
    }

    [[nodiscard]] Result<std::optional<std::string>> lock_holder(std::string_view name) override {
        if (Status st = check(name); !st) return std::unexpected(std::move(st.error()));
        auto s = plan_->step("meta.lock_holder", name);
        if (s.error) return fake_detail::error_of(s);
        const std::lock_guard lock(locks_->mutex);
        const auto it = locks_->held.find(std::string(name));
        if (it == locks_->held.end()) return std::nullopt;
        return it->second.owner_info;
    }

    // --- inspection and setup for tests; none of these counts as a step ---

    // Every key with its value and revision.
    std::map<std::string, MetaValue> values() const {
        const std::lock_guard lock(mutex_);
        return values_;
    }

    // Takes the lock away from its holder (a lost lease): its held() turns false. False when
    // nobody held it.
    bool break_lock(std::string_view name) {
        const std::lock_guard lock(locks_->mutex);
        return locks_->held.erase(std::string(name)) > 0;
    }

private:
    struct Holder {
        std::uint64_t token = 0;
        std::string owner_info;
    };
    // Shared with the MetaLock objects, which may outlive the store.
    struct LockTable {
        std::mutex mutex;
        std::map<std::string, Holder> held;
        std::uint64_t last_token = 0;
    };

    class Lock final : public MetaLock {
      public:
        Lock(std::shared_ptr<LockTable> table, std::string name, std::uint64_t token)
            : table_(std::move(table)), name_(std::move(name)), token_(token) {}
        ~Lock() override {
            const std::lock_guard lock(table_->mutex);
            const auto it = table_->held.find(name_);
            if (it != table_->held.end() && it->second.token == token_) table_->held.erase(it);
        }
        bool held() const override {
            const std::lock_guard lock(table_->mutex);
            const auto it = table_->held.find(name_);
            return it != table_->held.end() && it->second.token == token_;
        }

      private:
        std::shared_ptr<LockTable> table_;
        std::string name_;
        std::uint64_t token_;
    };

    void on_crash() override {
        const std::lock_guard lock(locks_->mutex);
        locks_->held.clear();
    }

    static Status check(std::string_view key) { return local::check_key(key, "@", "meta key"); }

    // A fence (meta_store.h) must be one of this fake's locks, still held: a broken lock
    // (break_lock, a crash) fences its holder's writes.
    static Status check_fence(const MetaLock* fence, std::string_view key) {
        if (fence == nullptr) return {};
        if (dynamic_cast<const Lock*>(fence) == nullptr) {
            return fail(Errc::failed_precondition, "meta key \"" + std::string(key) +
                                                       "\": the fence is not a lock of this store");
        }
        if (!fence->held()) {
            return fail(Errc::failed_precondition,
                        "meta key \"" + std::string(key) + "\": the fencing lock was lost");
        }
        return {};
    }

    const std::shared_ptr<FaultPlan> plan_;
    const std::shared_ptr<LockTable> locks_;
    mutable std::mutex mutex_;
    std::map<std::string, MetaValue> values_;
    std::uint64_t last_revision_ = 0;  // store-wide: a revision never repeats
};

}  // namespace itd::volume::testing
