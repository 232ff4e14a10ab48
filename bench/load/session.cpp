#include "session.h"

#include <cstdio>

namespace itd::load {

namespace {

constexpr unsigned kMaxReportsPerSession = 3;
constexpr int kLogoutTimeoutSeconds = 5;

const char* status_name(int status) {
    switch (status) {
        case SCSI_STATUS_GOOD:
            return "GOOD";
        case SCSI_STATUS_CHECK_CONDITION:
            return "CHECK CONDITION";
        case SCSI_STATUS_BUSY:
            return "BUSY";
        case SCSI_STATUS_RESERVATION_CONFLICT:
            return "RESERVATION CONFLICT";
        case SCSI_STATUS_TASK_SET_FULL:
            return "TASK SET FULL";
        case SCSI_STATUS_TASK_ABORTED:
            return "TASK ABORTED";
        case SCSI_STATUS_CANCELLED:
            return "cancelled";
        case SCSI_STATUS_ERROR:
            return "error";
        case SCSI_STATUS_TIMEOUT:
            return "timed out";
        default:
            return "unexpected status";
    }
}

}  // namespace

Session::Session(unsigned index, const Options& options) : index_(index), options_(options) {
    const std::string initiator = "iqn.2026-12.org.itd:load-" + std::to_string(index);
    ctx_ = iscsi_create_context(initiator.c_str());
}

Session::~Session() {
    if (ctx_) {
        closing_ = true;
        iscsi_destroy_context(ctx_);
    }
}

bool Session::login(const std::string& portal, const std::string& target, int lun) {
    if (!ctx_) {
        std::fprintf(stderr, "itd_load: session %u: cannot create a libiscsi context\n", index_);
        return false;
    }
    lun_ = lun;
    iscsi_set_targetname(ctx_, target.c_str());
    iscsi_set_session_type(ctx_, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(
        ctx_, options_.header_digest ? ISCSI_HEADER_DIGEST_CRC32C : ISCSI_HEADER_DIGEST_NONE);
    // Login PDUs and commands alike time out, so neither a login nor the drain at the end
    // can hang on a target that stopped answering.
    iscsi_set_timeout(ctx_, static_cast<int>(options_.timeout_seconds));
    // A broken connection fails the session's commands (they count as errors) instead of
    // being hidden behind a reconnect.
    iscsi_set_noautoreconnect(ctx_, 1);
    if (iscsi_full_connect_sync(ctx_, portal.c_str(), lun) != 0) {
        std::fprintf(stderr, "itd_load: session %u: login to %s (%s, LUN %d) failed: %s\n", index_,
                     portal.c_str(), target.c_str(), lun, iscsi_get_error(ctx_));
        return false;
    }
    return true;
}

void Session::prepare(const Workload::Params& params, std::uint32_t block_size_bytes, Stats* stats,
                      Window window) {
    block_size_bytes_ = block_size_bytes;
    workload_ = std::make_unique<Workload>(params);
    stats_ = stats;
    window_ = window;
    slots_.assign(options_.depth, Slot{});
    for (Slot& s : slots_) s.session = this;
    if (params.read_percent > 0) {
        read_buffer_.assign(params.bs_bytes, 0);
        read_iov_ = {read_buffer_.data(), read_buffer_.size()};
    }
    if (params.read_percent < 100) {
        // A pattern that differs per session and per byte, so a target that compresses or
        // deduplicates cannot shortcut it.
        write_buffer_.resize(params.bs_bytes);
        Rng rng(0x5eed0000ull + index_);
        for (std::size_t i = 0; i < write_buffer_.size(); i += 8) {
            std::uint64_t v = rng.next();
            for (std::size_t j = 0; j < 8 && i + j < write_buffer_.size(); ++j, v >>= 8)
                write_buffer_[i + j] = static_cast<unsigned char>(v);
        }
        write_iov_ = {write_buffer_.data(), write_buffer_.size()};
    }
}

void Session::start() {
    for (Slot& s : slots_) {
        if (failed_) break;
        submit(s);
    }
}

void Session::submit(Slot& slot) {
    const std::uint64_t offset = workload_->next_offset();
    slot.read = workload_->next_is_read();
    slot.lba = offset / block_size_bytes_;
    const auto bs = static_cast<std::uint32_t>(options_.bs_bytes);
    const int block = static_cast<int>(block_size_bytes_);
    slot.sent = Clock::now();
    // The _iov_ forms: libiscsi reads Data-In straight into read_buffer_ and sends Data-Out
    // straight from write_buffer_, with no buffer of its own per command.
    if (slot.read) {
        slot.task = iscsi_read16_iov_task(ctx_, lun_, slot.lba, bs, block, 0, 0, 0, 0, 0,
                                          &Session::on_complete, &slot, &read_iov_, 1);
    } else {
        slot.task = iscsi_write16_iov_task(ctx_, lun_, slot.lba, nullptr, bs, block, 0, 0, 0, 0, 0,
                                           &Session::on_complete, &slot, &write_iov_, 1);
    }
    if (!slot.task) {
        ++stats_->errors;
        fail(std::string("cannot send a command: ") + iscsi_get_error(ctx_));
        return;
    }
    ++in_flight_;
}

void Session::on_complete(iscsi_context*, int status, void*, void* private_data) {
    // command_data is the task, except for cancelled and timed-out commands where libiscsi
    // passes NULL: the slot's own pointer is the one to free.
    auto* slot = static_cast<Slot*>(private_data);
    slot->session->complete(*slot, status);
}

void Session::complete(Slot& slot, int status) {
    const Clock::time_point now = Clock::now();
    if (!slot.task) return;  // not ours in flight (cannot happen; do no harm)
    if (status == SCSI_STATUS_GOOD) {
        if (now >= window_.begin && now < window_.end) {
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - slot.sent);
            stats_->latency_ns.record(static_cast<std::uint64_t>(ns.count()));
            ++stats_->ios;
        }
    } else {
        ++stats_->errors;
        if (!closing_) report(slot, status);
        // These two mean the connection is gone (libiscsi cancels everything in flight when
        // it drops and may not reconnect); the other statuses are per command.
        if (!closing_ && (status == SCSI_STATUS_CANCELLED || status == SCSI_STATUS_ERROR))
            fail("connection lost");
        if (status == SCSI_STATUS_TIMEOUT) timed_out_ = true;
    }
    scsi_free_scsi_task(slot.task);
    slot.task = nullptr;
    --in_flight_;
    if (!failed_ && !closing_ && now < window_.end) submit(slot);
}

void Session::report(const Slot& slot, int status) {
    if (reported_ >= kMaxReportsPerSession) return;
    ++reported_;
    std::string why = status_name(status);
    // libiscsi's error text is only fresh for its own errors: a cancelled or timed-out
    // command leaves the previous text (often the login's unit attention) in place.
    if (status == SCSI_STATUS_CHECK_CONDITION && slot.task) {
        why += std::string(": ") + scsi_sense_key_str(slot.task->sense.key) + ", " +
               scsi_sense_ascq_str(slot.task->sense.ascq);
    } else if (status == SCSI_STATUS_TIMEOUT) {
        why += " after " + std::to_string(options_.timeout_seconds) + " s";
    } else if (status == SCSI_STATUS_CANCELLED) {
        why += " (the connection broke)";
    } else if (status == SCSI_STATUS_ERROR) {
        why += std::string(" (") + iscsi_get_error(ctx_) + ")";
    }
    std::fprintf(stderr, "itd_load: session %u: %s(16) at LBA %llu: %s%s\n", index_,
                 slot.read ? "READ" : "WRITE", static_cast<unsigned long long>(slot.lba),
                 why.c_str(),
                 reported_ == kMaxReportsPerSession ? " (further errors not shown)" : "");
}

void Session::fail(const std::string& why) {
    if (failed_) return;
    failed_ = true;
    std::fprintf(stderr, "itd_load: session %u: %s; it stops\n", index_, why.c_str());
}

void Session::service(int revents) {
    if (failed_) return;
    if (iscsi_service(ctx_, revents) < 0)
        fail(std::string("connection lost: ") + iscsi_get_error(ctx_));
}

void Session::close() {
    if (!ctx_) return;
    // A target that let a command time out would likely let the logout time out too.
    if (!failed_ && !timed_out_ && in_flight_ == 0) {
        iscsi_set_timeout(ctx_, kLogoutTimeoutSeconds);
        if (iscsi_logout_sync(ctx_) != 0)
            std::fprintf(stderr, "itd_load: session %u: logout failed: %s\n", index_,
                         iscsi_get_error(ctx_));
    } else if (in_flight_ > 0) {
        std::fprintf(stderr, "itd_load: session %u: %u commands still in flight at the end\n",
                     index_, in_flight_);
    }
    // Cancels what is still in flight: complete() counts each as an error.
    closing_ = true;
    iscsi_destroy_context(ctx_);
    ctx_ = nullptr;
}

}  // namespace itd::load
