// itd_digest_load: sequential iSCSI load with CRC32C header and data digests, for measuring
// what digests cost (libiscsi, behind itd_load, cannot do data digests).
//
//   itd_digest_load [--digests none|header|both] [--rw read|write] [--bs SIZE] [--depth N]
//                   [--seconds S] [--ramp S] [--timeout S] [--verify]
//                   HOST:PORT TARGET_IQN [LUN]
//
// One connection, one session (digest_initiator.h, on itd's own PDU codec). The login asks
// for the digests and fails unless the target agrees; then TEST UNIT READY (past the power-on
// unit attention) and READ CAPACITY (16), and --depth READ(16) or WRITE(16) commands of --bs
// bytes stay in flight at sequential LBAs, wrapping at the end of the LUN: --ramp seconds
// unmeasured, then --seconds measured. At the end no new commands are sent, those in flight
// drain for at most the timeout, and the session logs out. The last stdout line sums up:
//
//   itd_digest_load: digests=both rw=read bs=1048576 depth=8 seconds=5.00 ios=N iops=X
//                    mibps=Y errors=E                                       (one line)
//
// Every PDU's digests are checked by the codec; a digest error, a PDU out of place or a
// command that does not end GOOD with all its data counts as an error; with --verify, so does
// a block read back without the LBA stamp a --verify write put there. Exit status: 0; 1 when
// the login failed or errors > 0; 2 on bad options.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/endian.h"
#include "digest_initiator.h"
#include "digest_options.h"
#include "workload.h"

namespace itd::load {
namespace {

using namespace std::chrono_literals;

constexpr auto kLogoutWait = 5s;
constexpr int kPollMs = 100;          // the longest poll(), so the clock is looked at often
constexpr unsigned kMaxReported = 5;  // failed commands described on stderr, then only counted
constexpr std::uint32_t kCapacityBytes = 32;  // READ CAPACITY (16) parameter data

Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// SAM-5 4.7: peripheral device addressing below 256, flat space addressing (01b) above.
std::uint64_t lun_field(unsigned lun) {
    const std::uint64_t first_level = lun < 256 ? lun : (0x4000u | lun);
    return first_level << 48;
}

Cdb read_write_16(bool read, std::uint64_t lba, std::uint32_t blocks) {
    Cdb c{};
    c[0] = read ? 0x88 : 0x8a;  // SBC-4 5.16 READ (16), 5.38 WRITE (16)
    store_be64(&c[2], lba);
    store_be32(&c[10], blocks);
    return c;
}

Cdb read_capacity_16() {
    Cdb c{};
    c[0] = 0x9e;  // SERVICE ACTION IN (16), SBC-4 5.20 READ CAPACITY (16)
    c[1] = 0x10;
    store_be32(&c[10], kCapacityBytes);
    return c;
}

// One command on slot 0, waited for.
std::expected<Outcome, std::string> run_one(Initiator& ini, const Cdb& cdb, Direction dir,
                                            std::uint32_t bytes, Clock::time_point deadline) {
    bool sent = false;
    while (Clock::now() < deadline) {
        if (!sent && ini.window_open()) {
            ini.submit(0, cdb, dir, bytes);
            sent = true;
        }
        if (auto ok = ini.poll_once(kPollMs); !ok) return std::unexpected(ok.error());
        for (auto& [slot, outcome] : ini.take_completions()) return outcome;
    }
    return std::unexpected("timed out");
}

struct Capacity {
    std::uint32_t block_size_bytes = 0;
    std::uint64_t blocks = 0;
};

// TEST UNIT READY until the unit attentions of a new session are gone, then READ CAPACITY (16).
std::expected<Capacity, std::string> read_capacity(Initiator& ini, Clock::time_point deadline) {
    for (int attempt = 0;; ++attempt) {
        auto tur = run_one(ini, Cdb{}, Direction::none, 0, deadline);
        if (!tur) return std::unexpected("TEST UNIT READY: " + tur.error());
        if (tur->good()) break;
        // SPC-5 4.5.8: UNIT ATTENTION (sense key 6) is reported once per condition.
        if (tur->sense_key != 0x06 || attempt == 3)
            return std::unexpected("TEST UNIT READY: " + tur->describe());
    }
    auto rc = run_one(ini, read_capacity_16(), Direction::read, kCapacityBytes, deadline);
    if (!rc) return std::unexpected("READ CAPACITY (16): " + rc.error());
    if (!rc->good() || rc->data_bytes < 12)
        return std::unexpected("READ CAPACITY (16): " + rc->describe());
    const std::uint8_t* d = ini.buffer(0).data();
    Capacity cap{load_be32(d + 8), load_be64(d) + 1};
    if (cap.block_size_bytes == 0) return std::unexpected("READ CAPACITY (16): block size 0");
    return cap;
}

std::string yes_no(bool v) {
    return v ? "Yes" : "No";
}

// --verify: the first 8 bytes of every block hold its LBA (big-endian).
void stamp(std::span<std::uint8_t> data, std::uint64_t lba, std::uint32_t block_bytes) {
    for (std::size_t at = 0; at + block_bytes <= data.size(); at += block_bytes)
        store_be64(&data[at], lba++);
}

// The first block (as an LBA) without its stamp, if any.
std::optional<std::uint64_t> unstamped(std::span<const std::uint8_t> data, std::uint64_t lba,
                                       std::uint32_t block_bytes) {
    for (std::size_t at = 0; at + block_bytes <= data.size(); at += block_bytes, ++lba)
        if (load_be64(&data[at]) != lba) return lba;
    return std::nullopt;
}

int run(const DigestOptions& o) {
    const auto timeout = std::chrono::seconds(o.timeout_seconds);
    Initiator ini(o.depth, std::max(o.bs_bytes, kCapacityBytes), lun_field(o.lun));
    auto fail = [](const std::string& why) {
        std::fprintf(stderr, "itd_digest_load: %s\n", why.c_str());
        return 1;
    };
    if (auto ok = ini.connect(o.host, o.port); !ok) return fail(ok.error());
    LoginConfig config;
    config.initiator_name = "iqn.2026-12.org.itd:digest-load";
    config.target_name = o.target;
    config.header_digest = header_digest_on(o.digests);
    config.data_digest = data_digest_on(o.digests);
    // Random-format ISID (RFC 7143 11.12.5): qualifier from the process id, so two runs at
    // once are two sessions, not a session reinstatement.
    config.isid = (0x80ull << 40) | ((static_cast<std::uint64_t>(getpid()) & 0xffffff) << 16);
    if (auto ok = ini.login(config, Clock::now() + timeout); !ok) return fail(ok.error());
    const Negotiated& n = ini.negotiated();
    std::printf(
        "itd_digest_load: logged in to %s at %s:%s LUN %u: HeaderDigest=%s DataDigest=%s; "
        "target MaxRecvDataSegmentLength=%u FirstBurstLength=%u MaxBurstLength=%u "
        "ImmediateData=%s InitialR2T=%s MaxOutstandingR2T=%u\n",
        o.target.c_str(), o.host.c_str(), o.port.c_str(), o.lun,
        n.header_digest ? "CRC32C" : "None", n.data_digest ? "CRC32C" : "None",
        n.target_max_recv_data_segment_bytes, n.first_burst_bytes, n.max_burst_bytes,
        yes_no(n.immediate_data).c_str(), yes_no(n.initial_r2t).c_str(), n.max_outstanding_r2t);

    auto cap = read_capacity(ini, Clock::now() + timeout);
    if (!cap) return fail(cap.error());
    const std::uint64_t lun_bytes = cap->blocks * cap->block_size_bytes;
    if (o.bs_bytes % cap->block_size_bytes != 0 || o.bs_bytes > lun_bytes) {
        std::fprintf(stderr,
                     "itd_digest_load: --bs %u does not fit the LUN (%llu blocks of %u bytes): it "
                     "must be a multiple of the block size and at most the LUN's size\n",
                     o.bs_bytes, static_cast<unsigned long long>(cap->blocks),
                     cap->block_size_bytes);
        return 2;
    }
    std::printf("itd_digest_load: LUN %u: %llu blocks of %u bytes (%.1f MiB)\n", o.lun,
                static_cast<unsigned long long>(cap->blocks), cap->block_size_bytes,
                static_cast<double>(lun_bytes) / (1 << 20));
    std::fflush(stdout);

    const bool reads = o.rw == Rw::read;
    if (!reads) {
        // Data worth a checksum: not all zeros, different in every slot.
        for (unsigned s = 0; s < o.depth; ++s) {
            Rng rng(0xd1635ull + s);
            auto buf = ini.buffer(s);
            for (std::size_t i = 0; i + 8 <= buf.size(); i += 8) store_be64(&buf[i], rng.next());
        }
    }
    Workload workload({.random = false,
                       .read_percent = reads ? 100u : 0u,
                       .lun_bytes = lun_bytes,
                       .bs_bytes = o.bs_bytes});
    const std::uint32_t blocks = o.bs_bytes / cap->block_size_bytes;

    const Clock::time_point begin = Clock::now() + to_duration(o.ramp_seconds);
    const Clock::time_point end = begin + to_duration(o.seconds);
    std::vector<std::uint64_t> slot_lba(o.depth);
    std::vector<unsigned> free_slots;
    for (unsigned s = o.depth; s-- > 0;) free_slots.push_back(s);
    std::uint64_t ios = 0;
    std::uint64_t errors = 0;
    bool broken = false;  // the connection is unusable: no drain, no logout

    auto account = [&](unsigned slot, const Outcome& outcome) {
        free_slots.push_back(slot);
        const bool whole = !reads || outcome.data_bytes == o.bs_bytes;
        if (outcome.good() && whole && !outcome.underflow && !outcome.overflow) {
            const auto bad = o.verify && reads ? unstamped(ini.buffer(slot).first(o.bs_bytes),
                                                           slot_lba[slot], cap->block_size_bytes)
                                               : std::nullopt;
            if (!bad) {
                if (outcome.done >= begin && outcome.done < end) ++ios;
                return;
            }
            if (++errors <= kMaxReported)
                std::fprintf(stderr,
                             "itd_digest_load: --verify: LBA %llu does not hold its stamp\n",
                             static_cast<unsigned long long>(*bad));
            return;
        }
        if (++errors <= kMaxReported)
            std::fprintf(stderr, "itd_digest_load: %s failed: %s, %u of %u bytes\n",
                         reads ? "READ (16)" : "WRITE (16)", outcome.describe().c_str(),
                         outcome.data_bytes, o.bs_bytes);
    };
    // Runs the connection until `until`, sending new commands while `send` holds.
    auto drive = [&](Clock::time_point until, bool send) {
        for (;;) {
            const Clock::time_point now = Clock::now();
            if (now >= until || (!send && ini.in_flight() == 0)) return;
            while (send && !free_slots.empty() && ini.window_open()) {
                const unsigned slot = free_slots.back();
                free_slots.pop_back();
                const std::uint64_t lba = workload.next_offset() / cap->block_size_bytes;
                slot_lba[slot] = lba;
                if (o.verify && !reads)
                    stamp(ini.buffer(slot).first(o.bs_bytes), lba, cap->block_size_bytes);
                ini.submit(slot, read_write_16(reads, lba, blocks),
                           reads ? Direction::read : Direction::write, o.bs_bytes);
            }
            const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now);
            auto ok = ini.poll_once(static_cast<int>(std::min<long long>(wait.count(), kPollMs)));
            for (auto& [slot, outcome] : ini.take_completions()) account(slot, outcome);
            if (!ok) {
                fail(ok.error());
                errors += 1 + ini.in_flight();
                broken = true;
                return;
            }
            if (ini.overdue(Clock::now() - timeout)) {
                fail("a command took longer than " + std::to_string(o.timeout_seconds) + " s");
                errors += ini.in_flight();
                broken = true;
                return;
            }
        }
    };
    drive(end, true);
    if (!broken) drive(Clock::now() + timeout, false);
    if (!broken && ini.in_flight() > 0) {
        fail(std::to_string(ini.in_flight()) + " commands still in flight after the drain");
        errors += ini.in_flight();
        broken = true;
    }
    if (!broken) {
        // Like itd_load: a logout that goes wrong is reported, but the I/O measured stands
        // (istgt closes the connection instead of answering).
        if (auto ok = ini.logout(Clock::now() + kLogoutWait); !ok) {
            std::fprintf(stderr, "itd_digest_load: logout: %s\n", ok.error().c_str());
        }
    }

    const double iops = static_cast<double>(ios) / o.seconds;
    const double mibps = iops * o.bs_bytes / (1 << 20);
    std::printf(
        "itd_digest_load: digests=%s rw=%s bs=%u depth=%u seconds=%.2f ios=%llu iops=%.0f "
        "mibps=%.2f errors=%llu\n",
        to_string(o.digests), to_string(o.rw), o.bs_bytes, o.depth, o.seconds,
        static_cast<unsigned long long>(ios), iops, mibps, static_cast<unsigned long long>(errors));
    std::fflush(stdout);
    return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace itd::load

int main(int argc, char** argv) {
    using namespace itd::load;
    // A target that closes the connection must not kill us with SIGPIPE on the next writev.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto options = parse_digest_options(args);
    if (!options) {
        std::fprintf(stderr, "itd_digest_load: %s\n%s", options.error().c_str(),
                     digest_usage().c_str());
        return 2;
    }
    if (options->help) {
        std::fputs(digest_usage().c_str(), stdout);
        return 0;
    }
    return run(*options);
}
