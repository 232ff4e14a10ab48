#include "client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <isa-l/crc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace itd_it {

namespace {
std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}
}  // namespace

std::string portal() { return env_or("ITD_PORTAL", "127.0.0.1:3260"); }
std::string target() { return env_or("ITD_TARGET", "iqn.2026-11.org.itd:test"); }
int lun() { return std::atoi(env_or("ITD_LUN", "0").c_str()); }

void ContextDeleter::operator()(iscsi_context* c) const {
    if (!c) return;
    iscsi_logout_sync(c);
    iscsi_destroy_context(c);
}

Context connect(const SessionOptions& options) {
    Context ctx(iscsi_create_context(options.initiator.c_str()));
    if (!ctx) return nullptr;
    iscsi_set_targetname(ctx.get(), target().c_str());
    iscsi_set_session_type(ctx.get(), ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(ctx.get(), options.header_digest ? ISCSI_HEADER_DIGEST_CRC32C
                                                             : ISCSI_HEADER_DIGEST_NONE);
    iscsi_set_immediate_data(ctx.get(),
                             options.immediate_data ? ISCSI_IMMEDIATE_DATA_YES : ISCSI_IMMEDIATE_DATA_NO);
    iscsi_set_initial_r2t(ctx.get(), options.initial_r2t ? ISCSI_INITIAL_R2T_YES : ISCSI_INITIAL_R2T_NO);
    iscsi_set_timeout(ctx.get(), 30);
    if (iscsi_full_connect_sync(ctx.get(), portal().c_str(), lun()) != 0) {
        std::fprintf(stderr, "login failed: %s\n", iscsi_get_error(ctx.get()));
        iscsi_destroy_context(ctx.release());
        return nullptr;
    }
    return ctx;
}

std::optional<Capacity> read_capacity(iscsi_context* ctx) {
    Task tur(iscsi_testunitready_sync(ctx, lun()));
    Task cap(iscsi_readcapacity16_sync(ctx, lun()));
    auto* rc = cap && cap->status == SCSI_STATUS_GOOD
                   ? static_cast<scsi_readcapacity16*>(scsi_datain_unmarshall(cap.get()))
                   : nullptr;
    if (!rc) {
        std::fprintf(stderr, "READ CAPACITY (16) failed: %s\n", iscsi_get_error(ctx));
        return std::nullopt;
    }
    return Capacity{rc->block_length, rc->returned_lba + 1};
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

RawConnection::RawConnection() {
    const std::string p = portal();
    const auto colon = p.rfind(':');
    std::string host = p.substr(0, colon);
    if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), p.substr(colon + 1).c_str(), &hints, &res) != 0) return;
    fd_ = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd_ >= 0 && ::connect(fd_, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd_);
        fd_ = -1;
    }
    freeaddrinfo(res);
}

RawConnection::~RawConnection() {
    if (fd_ >= 0) close(fd_);
}

bool RawConnection::send_all(const std::vector<std::uint8_t>& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

bool RawConnection::read_exact(std::uint8_t* out, std::size_t n, int timeout_ms) {
    std::size_t got = 0;
    while (got < n) {
        pollfd pfd{fd_, POLLIN, 0};
        if (poll(&pfd, 1, timeout_ms) <= 0) return false;
        ssize_t r = ::recv(fd_, out + got, n - got, 0);
        if (r <= 0) return false;
        got += static_cast<std::size_t>(r);
    }
    return true;
}

std::optional<std::vector<std::uint8_t>> RawConnection::read_pdu(int timeout_ms) {
    std::vector<std::uint8_t> pdu(48);
    if (!read_exact(pdu.data(), 48, timeout_ms)) return std::nullopt;
    const std::size_t ahs = pdu[4] * 4u;
    const std::size_t data = (std::size_t{pdu[5]} << 16) | (std::size_t{pdu[6]} << 8) | pdu[7];
    std::vector<std::uint8_t> rest(ahs + (header_digest_ ? 4 : 0) + ((data + 3) & ~std::size_t{3}) +
                                   (data_digest_ && data > 0 ? 4 : 0));
    if (!rest.empty() && !read_exact(rest.data(), rest.size(), timeout_ms)) return std::nullopt;
    // The BHS, the AHS and the data segment, without digests and padding.
    pdu.resize(48 + ahs + data);
    std::copy_n(rest.begin(), ahs, pdu.begin() + 48);
    std::copy_n(rest.begin() + static_cast<std::ptrdiff_t>(ahs + (header_digest_ ? 4 : 0)), data,
                pdu.begin() + static_cast<std::ptrdiff_t>(48 + ahs));
    return pdu;
}

bool RawConnection::closed_within(int timeout_ms) {
    std::uint8_t buf[4096];
    for (int i = 0; i < 1000; ++i) {
        pollfd pfd{fd_, POLLIN, 0};
        if (poll(&pfd, 1, timeout_ms) <= 0) return false;
        ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
        if (r <= 0) return true;
    }
    return false;
}

std::vector<std::uint8_t> login_pdu(const std::vector<std::string>& keys, std::uint32_t itt) {
    std::vector<std::uint8_t> data;
    for (const auto& k : keys) {
        data.insert(data.end(), k.begin(), k.end());
        data.push_back(0);
    }
    std::vector<std::uint8_t> pdu(48, 0);
    pdu[0] = 0x43;                    // Login Request, immediate
    pdu[1] = 0x80 | (1 << 2) | 3;     // T=1, CSG=operational, NSG=full feature
    pdu[5] = static_cast<std::uint8_t>(data.size() >> 16);
    pdu[6] = static_cast<std::uint8_t>(data.size() >> 8);
    pdu[7] = static_cast<std::uint8_t>(data.size());
    pdu[8] = 0x80;                    // ISID: random format
    pdu[13] = static_cast<std::uint8_t>(itt);
    pdu[16] = static_cast<std::uint8_t>(itt >> 24);
    pdu[17] = static_cast<std::uint8_t>(itt >> 16);
    pdu[18] = static_cast<std::uint8_t>(itt >> 8);
    pdu[19] = static_cast<std::uint8_t>(itt);
    pdu[27] = 1;                      // CmdSN 1
    // resize-and-copy rather than insert: GCC 12 at -O2 misreads the insert as out of bounds.
    pdu.resize((48 + data.size() + 3) & ~std::size_t{3}, 0);
    std::copy(data.begin(), data.end(), pdu.begin() + 48);
    return pdu;
}

std::uint32_t crc32c(const std::uint8_t* data, std::size_t n) {
    return ~crc32_iscsi(const_cast<unsigned char*>(data), static_cast<int>(n), 0xffffffffu);
}

}  // namespace itd_it
