#include "digest_initiator.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/check.h"
#include "iscsi/sn.h"

namespace itd::load {

namespace {

using iscsi::Opcode;

constexpr std::size_t kInputBytes = 256 * 1024;
// Bounds on one poll_once(), so sending is never starved by a fast reader: at most this many
// recv() calls and at most this many iovecs in one writev().
constexpr int kMaxReadsPerPoll = 64;
constexpr int kMaxIovecs = 48;
// During login the RFC default MaxRecvDataSegmentLength (8192) binds; we take more, in case.
constexpr std::uint32_t kLoginSegmentBytes = 65536;
constexpr std::uint32_t kLogoutItt = kMaxSlots;  // never a slot's (slot < kMaxSlots)

std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%02x", v);
    return buf;
}

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

// The remaining bytes of an output chunk, from `offset`, as up to four iovecs.
int chunk_iovecs(const iscsi::OutputChunk& c, std::size_t offset, iovec* out) {
    int n = 0;
    auto add = [&](const std::uint8_t* p, std::size_t size) {
        if (offset >= size) {
            offset -= size;
            return;
        }
        out[n++] = iovec{const_cast<std::uint8_t*>(p + offset), size - offset};
        offset = 0;
    };
    for (auto piece : c.pieces()) add(piece.data(), piece.size());
    return n;
}

}  // namespace

std::string Outcome::describe() const {
    std::string s;
    if (response != 0) s = "iSCSI response " + hex(response) + ", ";
    s += "status " + hex(status);
    if (status == 0x02)
        s += ", sense key " + hex(sense_key) + ", ASC/ASCQ " + hex(asc) + "/" + hex(ascq);
    if (underflow) s += ", underflow";
    if (overflow) s += ", overflow";
    return s;
}

Initiator::Initiator(unsigned slots, std::uint32_t slot_bytes, std::uint64_t lun)
    : lun_(lun), slots_(slots), in_(kInputBytes) {
    ITD_CHECK(slots >= 1 && slots <= kMaxSlots);
    for (Slot& s : slots_) s.buffer.assign(slot_bytes, 0);
    reader_.set_placement([this](const iscsi::Bhs& bhs) { return place(bhs); });
}

Initiator::~Initiator() {
    if (fd_ >= 0) ::close(fd_);
}

std::expected<void, std::string> Initiator::connect(const std::string& host,
                                                    const std::string& port) {
    ITD_CHECK(phase_ == Phase::connecting && fd_ < 0);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
        return std::unexpected("cannot resolve " + host + ": " + gai_strerror(rc));
    std::string error = "no address for " + host;
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            error = errno_text("socket");
            continue;
        }
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            fd_ = fd;
            break;
        }
        error = errno_text(("connect to " + host + ":" + port).c_str());
        ::close(fd);
    }
    freeaddrinfo(res);
    if (fd_ < 0) return std::unexpected(error);
    const int one = 1;
    if (setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        return std::unexpected(errno_text("TCP_NODELAY"));
    const int flags = fcntl(fd_, F_GETFL);
    if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0)
        return std::unexpected(errno_text("O_NONBLOCK"));
    return {};
}

std::expected<void, std::string> Initiator::login(const LoginConfig& config,
                                                  Clock::time_point deadline) {
    ITD_CHECK(phase_ == Phase::connecting && fd_ >= 0);
    phase_ = Phase::login;
    reader_.set_limits({.max_data_segment_bytes = kLoginSegmentBytes});
    login_ = std::make_unique<Login>(config);
    queue(iscsi::serialize_chunk(login_->first_request(), false, false));
    while (phase_ == Phase::login) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::unexpected("login timed out");
        if (auto ok = poll_once(static_cast<int>(std::min<long long>(left.count(), 100))); !ok)
            return std::unexpected("login failed: " + ok.error());
    }
    return {};
}

std::expected<void, std::string> Initiator::on_login_response(const iscsi::Pdu& pdu) {
    auto next = login_->on_response(pdu);
    if (!next) return std::unexpected(next.error());
    if (next->has_value()) {
        queue(iscsi::serialize_chunk(**next, false, false));
        return {};
    }
    // Full feature phase. Digests and our MaxRecvDataSegmentLength apply from the next PDU
    // on, in both directions (RFC 7143 13.1, 13.12); nothing follows the final response
    // before our first command, so the reader holds no bytes of the new regime yet.
    negotiated_ = login_->negotiated();
    cmd_sn_ = pdu.bhs.exp_cmd_sn();
    exp_cmd_sn_ = login_->exp_cmd_sn();
    max_cmd_sn_ = login_->max_cmd_sn();
    exp_stat_sn_ = login_->exp_stat_sn();
    reader_.set_limits({.max_data_segment_bytes = 262144,
                        .header_digest = negotiated_.header_digest,
                        .data_digest = negotiated_.data_digest});
    phase_ = Phase::full_feature;
    return {};
}

bool Initiator::window_open() const {
    return phase_ == Phase::full_feature && !iscsi::sn_gt(cmd_sn_, max_cmd_sn_);
}

void Initiator::submit(unsigned slot_index, const Cdb& cdb, Direction dir, std::uint32_t bytes) {
    ITD_CHECK(slot_index < slots_.size() && window_open());
    Slot& s = slots_[slot_index];
    ITD_CHECK(!s.busy && bytes <= s.buffer.size());
    generation_ = (generation_ + 1) & ((1u << (32 - kSlotBits)) - 1);
    s.busy = true;
    s.itt = (generation_ << kSlotBits) | slot_index;
    s.dir = dir;
    s.bytes = bytes;
    s.received = 0;
    s.next_data_sn = 0;
    s.next_r2t_sn = 0;
    s.immediate = 0;
    s.sent = Clock::now();
    ++in_flight_;

    iscsi::Pdu pdu;
    pdu.bhs.set_opcode(Opcode::scsi_command);
    // F: no unsolicited Data-Out follows; ATTR 1: SIMPLE (RFC 7143 11.3.1).
    std::uint8_t flags = iscsi::flag::final_bit | 0x01;
    if (dir == Direction::read) flags |= iscsi::flag::read;
    if (dir == Direction::write) flags |= iscsi::flag::write;
    pdu.bhs.set_flags(flags);
    pdu.bhs.set_lun(lun_);
    pdu.bhs.set_itt(s.itt);
    pdu.bhs.set_expected_data_transfer_length(dir == Direction::none ? 0 : bytes);
    pdu.bhs.set_cmd_sn(cmd_sn_++);
    pdu.bhs.set_exp_stat_sn(exp_stat_sn_);
    std::copy(cdb.begin(), cdb.end(), pdu.bhs.bytes().begin() + 32);
    if (dir == Direction::write && negotiated_.immediate_data) {
        // RFC 7143 13.11: immediate data up to FirstBurstLength, in one PDU no larger than
        // the target takes.
        s.immediate = std::min(
            {bytes, negotiated_.first_burst_bytes, negotiated_.target_max_recv_data_segment_bytes});
    }
    if (s.immediate > 0) {
        queue(iscsi::serialize_borrowed(pdu, std::span(s.buffer).first(s.immediate), nullptr,
                                        header_digest(), data_digest()));
    } else {
        queue(iscsi::serialize_chunk(pdu, header_digest(), data_digest()));
    }
}

std::expected<void, std::string> Initiator::poll_once(int timeout_ms) {
    ITD_CHECK(fd_ >= 0);
    if (auto ok = flush(); !ok) return ok;
    pollfd pfd{fd_, static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
    const int n = ::poll(&pfd, 1, std::max(timeout_ms, 0));
    if (n < 0) {
        if (errno == EINTR) return {};
        return std::unexpected(errno_text("poll"));
    }
    if (n == 0) return {};
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
        // A hangup or an error shows as recv() returning 0 or failing, with its reason.
        if (auto ok = read_ready(); !ok) return ok;
    }
    return flush();
}

std::expected<void, std::string> Initiator::flush() {
    for (int round = 0; round < 64 && !out_.empty(); ++round) {
        std::array<iovec, kMaxIovecs> iov;
        int n = 0;
        std::size_t offset = out_front_sent_;
        for (const auto& chunk : out_) {
            if (n + 4 > kMaxIovecs) break;
            n += chunk_iovecs(chunk, offset, iov.data() + n);
            offset = 0;
        }
        const ssize_t sent = ::writev(fd_, iov.data(), n);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
            if (errno == EINTR) continue;
            return std::unexpected(errno_text("send"));
        }
        // Drop what went out: whole chunks, then part of the next.
        auto left = static_cast<std::size_t>(sent);
        while (left > 0) {
            const std::size_t rest = out_.front().size() - out_front_sent_;
            if (left < rest) {
                out_front_sent_ += left;
                break;
            }
            left -= rest;
            out_.pop_front();
            out_front_sent_ = 0;
        }
    }
    return {};
}

std::expected<void, std::string> Initiator::read_ready() {
    for (int reads = 0; reads < kMaxReadsPerPoll && phase_ != Phase::done;) {
        // First whatever is buffered, one PDU at a time (limits may change between PDUs).
        while (in_begin_ < in_end_ && phase_ != Phase::done) {
            auto used = reader_.feed(std::span(in_).subspan(in_begin_, in_end_ - in_begin_));
            if (!used) return std::unexpected(iscsi::to_string(used.error()));
            in_begin_ += *used;
            if (reader_.has_pdu())
                if (auto ok = on_pdu(reader_.take()); !ok) return ok;
        }
        if (phase_ == Phase::done) break;  // the target may close the connection now
        in_begin_ = in_end_ = 0;
        // A data segment with a home goes from the socket straight there.
        const std::span<std::uint8_t> window = reader_.placement_window();
        std::uint8_t* into = window.empty() ? in_.data() : window.data();
        const std::size_t room = window.empty() ? in_.size() : window.size();
        const ssize_t got = ::recv(fd_, into, room, 0);
        ++reads;
        if (got == 0) return std::unexpected("the target closed the connection");
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
            if (errno == EINTR) continue;
            return std::unexpected(errno_text("recv"));
        }
        if (window.empty()) {
            in_end_ = static_cast<std::size_t>(got);
            continue;
        }
        if (auto ok = reader_.placed(static_cast<std::size_t>(got)); !ok)
            return std::unexpected(iscsi::to_string(ok.error()));
        if (reader_.has_pdu())
            if (auto ok = on_pdu(reader_.take()); !ok) return ok;
    }
    return {};
}

Initiator::Slot* Initiator::slot_of(std::uint32_t itt) {
    const std::uint32_t index = itt & ((1u << kSlotBits) - 1);
    if (index >= slots_.size()) return nullptr;
    Slot& s = slots_[index];
    return s.busy && s.itt == itt ? &s : nullptr;
}

std::span<std::uint8_t> Initiator::place(const iscsi::Bhs& bhs) {
    // Only a Data-In that continues its command's data in order lands in the buffer; anything
    // else is collected by the reader, and on_data_in() refuses it.
    if (phase_ != Phase::full_feature || bhs.opcode() != Opcode::data_in) return {};
    Slot* s = slot_of(bhs.itt());
    const std::uint32_t length = bhs.data_segment_length();
    if (!s || s->dir != Direction::read || bhs.buffer_offset() != s->received ||
        length > s->bytes - s->received)
        return {};
    return std::span(s->buffer).subspan(s->received, length);
}

void Initiator::track_sns(const iscsi::Bhs& bhs, bool carries_status) {
    // RFC 7143 4.2.2.1: a MaxCmdSN or ExpCmdSN older than the one we hold is stale.
    if (iscsi::sn_gt(bhs.exp_cmd_sn(), exp_cmd_sn_)) exp_cmd_sn_ = bhs.exp_cmd_sn();
    if (iscsi::sn_gt(bhs.max_cmd_sn(), max_cmd_sn_)) max_cmd_sn_ = bhs.max_cmd_sn();
    if (carries_status && !iscsi::sn_lt(bhs.stat_sn(), exp_stat_sn_))
        exp_stat_sn_ = bhs.stat_sn() + 1;
}

std::expected<void, std::string> Initiator::on_pdu(iscsi::Pdu pdu) {
    if (phase_ == Phase::login) return on_login_response(pdu);
    switch (pdu.bhs.opcode()) {
        case Opcode::data_in:
            return on_data_in(pdu);
        case Opcode::scsi_response:
            return on_scsi_response(pdu);
        case Opcode::r2t:
            return on_r2t(pdu);
        case Opcode::nop_in:
            return on_nop_in(pdu);
        case Opcode::logout_response:
            if (phase_ != Phase::logout || pdu.bhs.itt() != kLogoutItt) break;
            track_sns(pdu.bhs, true);
            logout_answered_ = true;
            logout_response_ = pdu.bhs.byte2();
            phase_ = Phase::done;
            return {};
        case Opcode::reject:
            return std::unexpected("the target rejected a PDU, reason " + hex(pdu.bhs.byte2()));
        case Opcode::async_message:
            return std::unexpected("Async Message from the target, event " + hex(pdu.bhs[36]));
        default:
            break;
    }
    return std::unexpected("unexpected PDU, opcode " + hex(pdu.bhs.opcode_raw()));
}

std::expected<void, std::string> Initiator::on_data_in(const iscsi::Pdu& pdu) {
    const iscsi::Bhs& bhs = pdu.bhs;
    Slot* s = slot_of(bhs.itt());
    if (!s || s->dir != Direction::read)
        return std::unexpected("Data-In for no read in flight (ITT " + hex(bhs.itt()) + ")");
    const std::uint32_t length = bhs.data_segment_length();
    // place() took every Data-In that continues the data in order and fits the buffer.
    if (length > 0 && pdu.placed_bytes != length)
        return std::unexpected("Data-In at offset " + std::to_string(bhs.buffer_offset()) + " (" +
                               std::to_string(length) +
                               " bytes) out of order or beyond "
                               "the expected " +
                               std::to_string(s->bytes) + " bytes");
    if (bhs.data_sn() != s->next_data_sn)
        return std::unexpected("Data-In DataSN " + std::to_string(bhs.data_sn()) + ", expected " +
                               std::to_string(s->next_data_sn));
    ++s->next_data_sn;
    s->received += length;
    const bool has_status = (bhs.flags() & iscsi::flag::status) != 0;
    track_sns(bhs, has_status);
    if (!has_status) return {};
    if (!bhs.final_bit()) return std::unexpected("Data-In with status but without F");
    Outcome o;
    o.status = bhs.byte3();
    o.underflow = (bhs.flags() & iscsi::flag::underflow) != 0;
    o.overflow = (bhs.flags() & iscsi::flag::overflow) != 0;
    complete(*s, o);
    return {};
}

std::expected<void, std::string> Initiator::on_scsi_response(const iscsi::Pdu& pdu) {
    const iscsi::Bhs& bhs = pdu.bhs;
    Slot* s = slot_of(bhs.itt());
    if (!s)
        return std::unexpected("SCSI Response for no command in flight (ITT " + hex(bhs.itt()) +
                               ")");
    track_sns(bhs, true);
    Outcome o;
    o.response = bhs.byte2();
    o.status = bhs.byte3();
    o.underflow = (bhs.flags() & iscsi::flag::underflow) != 0;
    o.overflow = (bhs.flags() & iscsi::flag::overflow) != 0;
    // RFC 7143 11.4.7: SenseLength (2 bytes) and the sense data, fixed (0x70/0x71) or
    // descriptor (0x72/0x73) format (SPC-5 4.4).
    const auto& d = pdu.data;
    if (d.size() >= 2) {
        const std::size_t sense_bytes = std::min<std::size_t>(load_be16(d.data()), d.size() - 2);
        const std::uint8_t* sense = d.data() + 2;
        const std::uint8_t code = sense_bytes > 0 ? sense[0] & 0x7f : 0;
        if ((code == 0x70 || code == 0x71) && sense_bytes >= 14) {
            o.sense_key = sense[2] & 0x0f;
            o.asc = sense[12];
            o.ascq = sense[13];
        } else if ((code == 0x72 || code == 0x73) && sense_bytes >= 4) {
            o.sense_key = sense[1] & 0x0f;
            o.asc = sense[2];
            o.ascq = sense[3];
        }
    }
    complete(*s, o);
    return {};
}

std::expected<void, std::string> Initiator::on_r2t(const iscsi::Pdu& pdu) {
    const iscsi::Bhs& bhs = pdu.bhs;
    Slot* s = slot_of(bhs.itt());
    if (!s || s->dir != Direction::write)
        return std::unexpected("R2T for no write in flight (ITT " + hex(bhs.itt()) + ")");
    track_sns(bhs, false);
    const std::uint32_t offset = bhs.buffer_offset();
    const std::uint32_t length = bhs.desired_data_transfer_length();
    // RFC 7143 11.8: R2Ts ask for data not yet sent, at most MaxBurstLength each.
    if (bhs.r2t_sn() != s->next_r2t_sn || length == 0 || offset < s->immediate ||
        offset > s->bytes || length > s->bytes - offset || length > negotiated_.max_burst_bytes)
        return std::unexpected("R2T R2TSN " + std::to_string(bhs.r2t_sn()) + " for " +
                               std::to_string(length) + " bytes at " + std::to_string(offset) +
                               " does not fit a " + std::to_string(s->bytes) + "-byte write");
    ++s->next_r2t_sn;
    // RFC 7143 11.7: one sequence of Data-Out PDUs, each at most the target's
    // MaxRecvDataSegmentLength, DataSN from 0, F on the last.
    const std::uint32_t segment = negotiated_.target_max_recv_data_segment_bytes;
    std::uint32_t data_sn = 0;
    for (std::uint32_t done = 0; done < length; ++data_sn) {
        const std::uint32_t n = std::min(segment, length - done);
        iscsi::Pdu out;
        out.bhs.set_opcode(Opcode::data_out);
        out.bhs.set_flags(done + n == length ? iscsi::flag::final_bit : 0);
        out.bhs.set_lun(lun_);
        out.bhs.set_itt(s->itt);
        out.bhs.set_ttt(bhs.ttt());
        out.bhs.set_exp_stat_sn(exp_stat_sn_);
        out.bhs.set_data_sn(data_sn);
        out.bhs.set_buffer_offset(offset + done);
        queue(iscsi::serialize_borrowed(out, std::span(s->buffer).subspan(offset + done, n),
                                        nullptr, header_digest(), data_digest()));
        done += n;
    }
    return {};
}

std::expected<void, std::string> Initiator::on_nop_in(const iscsi::Pdu& pdu) {
    const iscsi::Bhs& bhs = pdu.bhs;
    // RFC 7143 11.19: a ping from the target (TTT set, ITT reserved) is answered with a
    // NOP-Out echoing TTT and LUN; we never ping, so no other NOP-In is expected.
    if (bhs.itt() != iscsi::kReservedTag || bhs.ttt() == iscsi::kReservedTag)
        return std::unexpected("NOP-In that answers no ping of ours");
    track_sns(bhs, false);
    iscsi::Pdu out;
    out.bhs.set_opcode(Opcode::nop_out, true);
    out.bhs.set_flags(iscsi::flag::final_bit);
    out.bhs.set_lun(bhs.lun());
    out.bhs.set_itt(iscsi::kReservedTag);
    out.bhs.set_ttt(bhs.ttt());
    out.bhs.set_cmd_sn(cmd_sn_);  // immediate: CmdSN does not advance
    out.bhs.set_exp_stat_sn(exp_stat_sn_);
    queue(iscsi::serialize_chunk(out, header_digest(), data_digest()));
    return {};
}

void Initiator::complete(Slot& s, Outcome o) {
    o.data_bytes = s.received;
    o.done = Clock::now();
    s.busy = false;
    --in_flight_;
    const auto index = static_cast<unsigned>(&s - slots_.data());
    completions_.emplace_back(index, o);
}

std::vector<std::pair<unsigned, Outcome>> Initiator::take_completions() {
    std::vector<std::pair<unsigned, Outcome>> out;
    out.swap(completions_);
    return out;
}

std::optional<unsigned> Initiator::overdue(Clock::time_point limit) const {
    std::optional<unsigned> oldest;
    for (unsigned i = 0; i < slots_.size(); ++i)
        if (slots_[i].busy && slots_[i].sent < limit &&
            (!oldest || slots_[i].sent < slots_[*oldest].sent))
            oldest = i;
    return oldest;
}

std::expected<void, std::string> Initiator::logout(Clock::time_point deadline) {
    ITD_CHECK(phase_ == Phase::full_feature);
    iscsi::Pdu pdu;
    // RFC 7143 11.14: reason 0, close the session; immediate, so the window does not matter.
    pdu.bhs.set_opcode(Opcode::logout_request, true);
    pdu.bhs.set_flags(iscsi::flag::final_bit | 0x00);
    pdu.bhs.set_itt(kLogoutItt);
    pdu.bhs.set_cid(0);
    pdu.bhs.set_cmd_sn(cmd_sn_);
    pdu.bhs.set_exp_stat_sn(exp_stat_sn_);
    queue(iscsi::serialize_chunk(pdu, header_digest(), data_digest()));
    phase_ = Phase::logout;
    while (phase_ == Phase::logout) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::unexpected("no Logout Response in time");
        if (auto ok = poll_once(static_cast<int>(std::min<long long>(left.count(), 100))); !ok)
            return ok;
    }
    if (logout_response_ != 0)
        return std::unexpected("Logout Response " + hex(logout_response_) + " (not success)");
    return {};
}

}  // namespace itd::load
