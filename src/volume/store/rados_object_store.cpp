#include "volume/store/rados_object_store.h"

#include <rados/librados.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <utility>

#include "common/check.h"

namespace itd::volume {

namespace {

constexpr std::size_t max_key_bytes = 1024;
// Objects per listing round trip. The OSD caps what one PG returns at a time anyway; larger
// batches only cost client memory.
constexpr std::size_t list_batch = 1024;
// librados's buffers count bytes in 32 bits (and an OSD takes far less in one op: 90 MiB by
// default, osd_max_write_size).
constexpr std::size_t max_io_bytes = std::numeric_limits<std::uint32_t>::max();
// A name that is never put: open() stats it to learn that an OSD answers and lets us read.
constexpr const char* probe_object = ".itd-open-probe";

bool key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/';
}

// object_store.h's grammar, plus no "." or ".." component: RADOS itself would take them, but
// the S3 store does not (they are path steps in a URL), and the same volume must fit both.
bool valid_key(std::string_view key) {
    if (key.empty() || key.size() > max_key_bytes) return false;
    if (!std::all_of(key.begin(), key.end(), key_char)) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = key.find('/', start);
        const std::string_view part = key.substr(start, slash - start);
        if (part.empty() || part == "." || part == "..") return false;
        if (slash == std::string_view::npos) return true;
        start = slash + 1;
    }
}

// Namespaces are names we choose; keep them to the characters of a key component so they fit
// in a LUN-SPEC and a log line as they are (and can never be LIBRADOS_ALL_NSPACES, "\001").
bool valid_namespace(std::string_view ns) {
    return ns.size() <= 256 &&
           std::all_of(ns.begin(), ns.end(), [](char c) { return c != '/' && key_char(c); });
}

const char* errno_name(int err) {
    switch (err) {
        case ENOENT:
            return "ENOENT";
        case ETIMEDOUT:
            return "ETIMEDOUT";
        case ESHUTDOWN:
            return "ESHUTDOWN";
        case ENOTCONN:
            return "ENOTCONN";
        case EAGAIN:
            return "EAGAIN";
        case EACCES:
            return "EACCES";
        case EPERM:
            return "EPERM";
        default:
            return nullptr;
    }
}

std::string errno_text(int err) {
    std::string text = std::strerror(err);
    if (const char* name = errno_name(err)) text += std::string(" (") + name + ")";
    return text;
}

std::chrono::system_clock::time_point to_time_point(const struct timespec& ts) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

// One asynchronous op: issue it, then wait for its answer. The completion is released only
// after it completed, so the op's output (which librados writes on completion) stays valid
// for as long as librados may write it.
class Completion {
  public:
    Completion() : c_(librados::Rados::aio_create_completion()) { ITD_CHECK(c_ != nullptr); }
    ~Completion() {
        ITD_CHECK(!issued_ || done_);
        c_->release();
    }
    Completion(const Completion&) = delete;
    Completion& operator=(const Completion&) = delete;

    librados::AioCompletion* get() { return c_; }
    // Records what aio_operate answered: a negative value means the op was
    // never issued and will never complete.
    int issued(int r) {
        issued_ = r >= 0;
        return r;
    }
    int wait() {
        ITD_CHECK(issued_ && !done_);
        c_->wait_for_complete();
        done_ = true;
        return c_->get_return_value();
    }

  private:
    librados::AioCompletion* c_;
    bool issued_ = false;
    bool done_ = false;
};

}  // namespace

struct RadosObjectStore::Impl {
    RadosOptions options;
    std::string where;  // "RADOS pool itd/ns": the start of every message
    librados::Rados cluster;
    librados::IoCtx io;  // after cluster: destroyed first

    // The error for a negative librados result r of call on key (empty: no key).
    std::unexpected<Error> fail_op(int r, std::string_view call, std::string_view key) const {
        const int err = -r;
        std::string msg = where + ": " + std::string(call);
        if (!key.empty()) msg += " \"" + std::string(key) + "\"";
        msg += ": ";
        switch (err) {
            case ENOENT:
                return fail(Errc::not_found, msg + errno_text(err));
            case ETIMEDOUT:
                return fail(Errc::unavailable, msg + errno_text(err) + ": no answer within " +
                                                   std::to_string(options.op_timeout.count()) +
                                                   " s");
            // ESHUTDOWN is also Ceph's EBLOCKLISTED: the cluster fenced this client, and this
            // handle stays fenced; the caller (which holds no lease any more) must reopen.
            case ESHUTDOWN:
                return fail(Errc::unavailable,
                            msg + errno_text(err) + ": client shut down or blocklisted");
            case ENOTCONN:
            case EAGAIN:
                return fail(Errc::unavailable, msg + errno_text(err));
            case EACCES:
            case EPERM:
                return fail(Errc::failed_precondition, msg + errno_text(err) + ": client." +
                                                           options.client_id +
                                                           " may not do this in pool " +
                                                           options.pool + " (check its osd caps)");
            default:
                return fail(Errc::io_error, msg + errno_text(err));
        }
    }

    std::unexpected<Error> short_read(std::uint64_t got_bytes, std::uint64_t size_bytes,
                                      const std::string& key) const {
        return fail(Errc::io_error, where + ": object \"" + key + "\": read returned " +
                                        std::to_string(got_bytes) + " bytes of an object of " +
                                        std::to_string(size_bytes));
    }

    static std::unexpected<Error> bad_key(std::string_view call, std::string_view key) {
        return fail(Errc::failed_precondition,
                    std::string(call) + ": invalid object key \"" + std::string(key) +
                        "\" (ASCII [A-Za-z0-9._-] components separated by single '/', no "
                        "\".\" or \"..\", at most " +
                        std::to_string(max_key_bytes) + " bytes)");
    }

    int run(const std::string& oid, librados::ObjectWriteOperation& op) {
        Completion c;
        if (int r = c.issued(io.aio_operate(oid, c.get(), &op)); r < 0) return r;
        return c.wait();
    }
    int run(const std::string& oid, librados::ObjectReadOperation& op) {
        Completion c;
        if (int r = c.issued(io.aio_operate(oid, c.get(), &op, nullptr)); r < 0) return r;
        return c.wait();
    }

    // Every valid key in the namespace that starts with prefix, sorted.
    Result<std::vector<std::string>> list_keys(std::string_view prefix);
    // Sizes and times of keys, list_stats_in_flight at a time; keys removed meanwhile drop out.
    Result<std::vector<ObjectInfo>> stat_keys(std::vector<std::string> keys);
};

Result<std::unique_ptr<RadosObjectStore>> RadosObjectStore::open(RadosOptions options) {
    if (options.pool.empty() || std::any_of(options.pool.begin(), options.pool.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
        return fail(Errc::invalid_argument, "RADOS: bad pool name \"" + options.pool + "\"");
    }
    if (options.client_id.empty() ||
        options.client_id.find_first_of(" \t\n") != std::string::npos) {
        return fail(Errc::invalid_argument, "RADOS: bad client id \"" + options.client_id + "\"");
    }
    if (!valid_namespace(options.rados_namespace)) {
        return fail(Errc::invalid_argument, "RADOS: bad namespace \"" + options.rados_namespace +
                                                "\" (characters [A-Za-z0-9._-], at most 256)");
    }
    if (options.op_timeout.count() < 1 || options.connect_timeout.count() < 1) {
        return fail(Errc::invalid_argument, "RADOS: timeouts must be at least 1 s");
    }
    if (options.list_stats_in_flight == 0) {
        return fail(Errc::invalid_argument, "RADOS: list_stats_in_flight must be at least 1");
    }

    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    const RadosOptions& o = impl->options;
    impl->where =
        "RADOS pool " + o.pool + (o.rados_namespace.empty() ? "" : "/" + o.rados_namespace);
    const std::string user = "client." + o.client_id;
    const std::string conf_name = o.ceph_conf.empty() ? "the default ceph.conf" : o.ceph_conf;

    if (int r = impl->cluster.init2(user.c_str(), "ceph", 0); r < 0) {
        return fail(Errc::invalid_argument,
                    "RADOS: cannot create a client as " + user + ": " + errno_text(-r));
    }
    if (int r = impl->cluster.conf_read_file(o.ceph_conf.empty() ? nullptr : o.ceph_conf.c_str());
        r < 0) {
        return fail(Errc::failed_precondition,
                    "RADOS: cannot read " + conf_name + ": " + errno_text(-r));
    }
    const std::string op_s = std::to_string(o.op_timeout.count());
    const std::string connect_s = std::to_string(o.connect_timeout.count());
    for (const auto& [name, value] : {std::pair{"rados_osd_op_timeout", op_s.c_str()},
                                      std::pair{"rados_mon_op_timeout", connect_s.c_str()},
                                      std::pair{"client_mount_timeout", connect_s.c_str()}}) {
        if (int r = impl->cluster.conf_set(name, value); r < 0) {
            return fail(Errc::invalid_argument, std::string("RADOS: cannot set ") + name + " = " +
                                                    value + ": " + errno_text(-r));
        }
    }

    if (int r = impl->cluster.connect(); r < 0) {
        const int err = -r;
        const std::string msg =
            "RADOS: cannot connect as " + user + " with " + conf_name + ": " + errno_text(err);
        switch (err) {
            case ETIMEDOUT:
            case ENOTCONN:
            case EAGAIN:
            case ESHUTDOWN:
                return fail(Errc::unavailable,
                            msg + ": no monitor answered within " + connect_s + " s");
            case EACCES:
            case EPERM:
                return fail(Errc::failed_precondition,
                            msg + ": the monitors refused the user (check its key and caps)");
            // librados says ENOENT when it finds no keyring for the user (or no monitor
            // address in ceph.conf).
            case ENOENT:
                return fail(Errc::failed_precondition,
                            msg + ": no keyring for " + user + " or no mon_host in " + conf_name);
            default:
                return fail(Errc::io_error, msg);
        }
    }

    if (int r = impl->cluster.ioctx_create(o.pool.c_str(), impl->io); r < 0) {
        if (r == -ENOENT) return fail(Errc::not_found, "RADOS: pool " + o.pool + " does not exist");
        return impl->fail_op(r, "open the pool", "");
    }
    impl->io.set_namespace(o.rados_namespace);

    // A stat of a name nobody writes: ENOENT means an OSD answered and we may read.
    librados::ObjectReadOperation probe;
    std::uint64_t size_bytes = 0;
    struct timespec mtime {};
    probe.stat2(&size_bytes, &mtime, nullptr);
    if (int r = impl->run(probe_object, probe); r < 0 && r != -ENOENT) {
        return impl->fail_op(r, "open: stat", probe_object);
    }
    return std::unique_ptr<RadosObjectStore>(new RadosObjectStore(std::move(impl)));
}

RadosObjectStore::RadosObjectStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RadosObjectStore::~RadosObjectStore() = default;

std::string RadosObjectStore::describe() const {
    const RadosOptions& o = impl_->options;
    return "rados://" + o.pool + (o.rados_namespace.empty() ? "" : "/" + o.rados_namespace) +
           " as client." + o.client_id;
}

Status RadosObjectStore::put(std::string_view key, std::span<const std::uint8_t> data) {
    return write_object(key, data, false);
}

Status RadosObjectStore::put_new(std::string_view key, std::span<const std::uint8_t> data) {
    return write_object(key, data, true);
}

Status RadosObjectStore::write_object(std::string_view key, std::span<const std::uint8_t> data,
                                      bool exclusive) {
    if (!valid_key(key)) return Impl::bad_key("put", key);
    if (data.size() > max_io_bytes) {
        return fail(Errc::failed_precondition, impl_->where + ": put \"" + std::string(key) +
                                                   "\": " + std::to_string(data.size()) +
                                                   " bytes, more than one op can carry");
    }
    // The data is copied into librados's buffer. A buffer that pointed at the caller's memory
    // could still sit in the messenger's queue after a timed-out op returned unavailable; sent
    // later, it would store whatever the caller's memory holds by then under the key. A copy
    // costs some microseconds per 256 KiB; a round trip to an OSD costs a millisecond.
    librados::bufferlist bl;
    bl.append(reinterpret_cast<const char*>(data.data()), static_cast<unsigned>(data.size()));
    librados::ObjectWriteOperation op;
    // Exclusive: the whole op fails with EEXIST when the object exists (nothing written).
    if (exclusive) op.create(true);
    // An empty write_full makes an empty object (the contract tests check it).
    op.write_full(bl);
    if (int r = impl_->run(std::string(key), op); r < 0) {
        // The same bytes there already are success (object_store.h); others are a conflict.
        if (exclusive && r == -EEXIST) return existing_matches(key, data);
        return impl_->fail_op(r, "put", key);
    }
    return {};
}

Status RadosObjectStore::get(std::string_view key, std::uint64_t offset_bytes,
                             std::span<std::uint8_t> out) {
    if (!valid_key(key)) return Impl::bad_key("get", key);
    if (out.size() > max_io_bytes) {
        return fail(Errc::failed_precondition, impl_->where + ": get \"" + std::string(key) +
                                                   "\": " + std::to_string(out.size()) +
                                                   " bytes, more than one op can carry");
    }
    const std::string oid(key);
    const auto short_object = [&](std::uint64_t size_bytes) {
        return fail(Errc::io_error, impl_->where + ": object \"" + oid + "\": is " +
                                        std::to_string(size_bytes) + " bytes, shorter than the " +
                                        std::to_string(out.size()) + " bytes asked for at offset " +
                                        std::to_string(offset_bytes));
    };

    // A read of length 0 would return the whole object, and a range past 2^62 is beyond any
    // object: for those a stat alone answers.
    const bool read = !out.empty() && offset_bytes <= (std::uint64_t{1} << 62);
    // The read alone is the common case: one sub-op. When it comes back short, a stat says how
    // long the object is; if the object was replaced in between and is now long enough, read
    // again (a few times at most).
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (read) {
            librados::ObjectReadOperation op;
            librados::bufferlist bl;
            op.read(offset_bytes, out.size(), &bl, nullptr);
            if (int r = impl_->run(oid, op); r < 0) return impl_->fail_op(r, "get", key);
            if (bl.length() == out.size()) {
                bl.begin().copy(static_cast<unsigned>(out.size()),
                                reinterpret_cast<char*>(out.data()));
                return {};
            }
            // More than asked for: a broken cluster, not a reason to crash.
            if (bl.length() > out.size()) {
                return fail(Errc::io_error, impl_->where + ": get \"" + oid + "\": read returned " +
                                                std::to_string(bl.length()) + " bytes for " +
                                                std::to_string(out.size()) + " asked for");
            }
        }
        librados::ObjectReadOperation op;
        std::uint64_t size_bytes = 0;
        struct timespec mtime {};
        op.stat2(&size_bytes, &mtime, nullptr);
        if (int r = impl_->run(oid, op); r < 0) return impl_->fail_op(r, "get", key);
        if (offset_bytes > size_bytes || out.size() > size_bytes - offset_bytes) {
            return short_object(size_bytes);
        }
        if (!read) return {};
    }
    return fail(Errc::io_error, impl_->where + ": get \"" + oid +
                                    "\": the object kept changing between read and stat");
}

Result<std::vector<std::uint8_t>> RadosObjectStore::get_all(std::string_view key) {
    if (!valid_key(key)) return Impl::bad_key("get_all", key);
    librados::ObjectReadOperation op;
    std::uint64_t size_bytes = 0;
    struct timespec mtime {};
    op.stat2(&size_bytes, &mtime, nullptr);
    librados::bufferlist bl;
    op.read(0, 0, &bl, nullptr);  // length 0: to the end of the object
    if (int r = impl_->run(std::string(key), op); r < 0) {
        return impl_->fail_op(r, "get_all", key);
    }
    if (bl.length() != size_bytes)
        return impl_->short_read(bl.length(), size_bytes, std::string(key));
    std::vector<std::uint8_t> data(bl.length());
    if (!data.empty()) bl.begin().copy(bl.length(), reinterpret_cast<char*>(data.data()));
    return data;
}

Status RadosObjectStore::remove(std::string_view key) {
    if (!valid_key(key)) return Impl::bad_key("remove", key);
    librados::ObjectWriteOperation op;
    op.remove();
    if (int r = impl_->run(std::string(key), op); r < 0 && r != -ENOENT) {
        return impl_->fail_op(r, "remove", key);
    }
    return {};
}

Result<std::vector<std::string>> RadosObjectStore::Impl::list_keys(std::string_view prefix) {
    std::vector<std::string> keys;
    // The cursor is replaced with emplace (destroy, then copy-construct), never assigned:
    // librados 16's ObjectCursor::operator= leaks the cursor it overwrites (LeakSanitizer
    // found it).
    std::optional<librados::ObjectCursor> cursor(std::in_place, io.object_list_begin());
    const librados::ObjectCursor end = io.object_list_end();
    while (!io.object_list_is_end(*cursor)) {
        std::vector<librados::ObjectItem> items;
        librados::ObjectCursor next;
        if (int r = io.object_list(*cursor, end, list_batch, {}, &items, &next); r < 0) {
            return fail_op(r, "list", prefix);
        }
        // Each round trip moves the cursor on, or the listing would never end.
        if (items.empty() && next == *cursor) {
            return fail(Errc::io_error, where + ": list: the listing cursor did not advance");
        }
        for (librados::ObjectItem& item : items) {
            if (item.oid.starts_with(prefix) && valid_key(item.oid)) {
                keys.push_back(std::move(item.oid));
            }
        }
        cursor.emplace(next);
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

Result<std::vector<ObjectInfo>> RadosObjectStore::Impl::stat_keys(std::vector<std::string> keys) {
    struct Stat {
        std::size_t index = 0;
        Completion c;
        librados::ObjectReadOperation op;
        std::uint64_t size_bytes = 0;
        struct timespec mtime {};
    };
    std::vector<std::optional<ObjectInfo>> infos(keys.size());
    std::deque<std::unique_ptr<Stat>> in_flight;  // oldest first; each stays put while issued
    std::optional<std::unexpected<Error>> first_error;
    std::size_t next = 0;

    const auto finish_oldest = [&] {
        std::unique_ptr<Stat> s = std::move(in_flight.front());
        in_flight.pop_front();
        const int r = s->c.wait();
        // A key removed since the listing is no longer there: leave it out.
        if (r == -ENOENT) return;
        if (r < 0) {
            if (!first_error) first_error = fail_op(r, "list: stat", keys[s->index]);
            return;
        }
        infos[s->index] =
            ObjectInfo{std::move(keys[s->index]), s->size_bytes, to_time_point(s->mtime)};
    };

    while (next < keys.size() && !first_error) {
        if (in_flight.size() == options.list_stats_in_flight) {
            finish_oldest();
            continue;
        }
        auto s = std::make_unique<Stat>();
        s->index = next;
        // A stat op rather than IoCtx::aio_stat2, which librados 16 declares but does not export.
        s->op.stat2(&s->size_bytes, &s->mtime, nullptr);
        const int r = s->c.issued(io.aio_operate(keys[next], s->c.get(), &s->op, nullptr));
        if (r < 0) {
            first_error = fail_op(r, "list: stat", keys[next]);
            break;
        }
        in_flight.push_back(std::move(s));
        ++next;
    }
    // Every issued stat is waited for, also after an error: librados writes into them.
    while (!in_flight.empty()) finish_oldest();
    if (first_error) return std::move(*first_error);

    std::vector<ObjectInfo> out;
    out.reserve(infos.size());
    for (std::optional<ObjectInfo>& info : infos) {
        if (info) out.push_back(std::move(*info));
    }
    return out;
}

Result<std::vector<ObjectInfo>> RadosObjectStore::list(std::string_view prefix) {
    if (prefix.size() > max_key_bytes || !std::all_of(prefix.begin(), prefix.end(), key_char)) {
        return fail(Errc::failed_precondition,
                    "list: invalid object key prefix \"" + std::string(prefix) + "\"");
    }
    auto keys = impl_->list_keys(prefix);
    if (!keys) return std::unexpected(std::move(keys.error()));
    return impl_->stat_keys(std::move(*keys));
}

Status RadosObjectStore::sync() {
    return {};
}

}  // namespace itd::volume
