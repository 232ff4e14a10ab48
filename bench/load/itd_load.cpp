// itd_load: an iSCSI load generator on libiscsi's async API (bench/compare.sh runs it).
//
//   itd_load [--rw randread|randwrite|read|write|randrw] [--read-percent N] [--bs SIZE]
//            [--depth N] [--sessions N] [--threads N] [--seconds S] [--ramp S]
//            [--timeout S] [--header-digest] iscsi://HOST:PORT/IQN/LUN
//
// Every session logs in first (one after the other). Then each thread runs a poll() loop over
// its share of the sessions (session i goes to thread i mod threads), each session keeping
// --depth commands in flight: --ramp seconds unmeasured, then --seconds measured. At the end
// no new commands are sent, those in flight drain for at most kDrain, and the sessions log
// out. The last stdout line sums up the run (bench/compare.sh parses it):
//
//   itd_load: rw=randread bs=4096 depth=32 sessions=1 threads=1 seconds=5.00 ios=N iops=X
//             mibps=Y p50_us=A p99_us=B p999_us=C max_us=D errors=E          (one line)
//
// Latency is steady_clock from sending a command to its completion callback, per command, in
// a log-linear histogram (histogram.h). Exit status: 0; 1 when a login failed or any command
// did not end GOOD (errors > 0); 2 on bad options.
#include <poll.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "options.h"
#include "session.h"

namespace itd::load {
namespace {

using namespace std::chrono_literals;

constexpr auto kDrain = 10s;  // the longest wait for commands in flight at the end
constexpr auto kTick = 1s;    // how often libiscsi gets to time out stuck commands

Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// One thread's loop over its sessions, from the first command to close().
void run_thread(const std::vector<Session*>& sessions, Window window) {
    for (Session* s : sessions) s->start();
    const Clock::time_point drain_deadline = window.end + kDrain;
    Clock::time_point next_tick = Clock::now() + kTick;
    std::vector<pollfd> fds;
    std::vector<Session*> polled;
    fds.reserve(sessions.size());
    polled.reserve(sessions.size());
    for (;;) {
        const Clock::time_point now = Clock::now();
        fds.clear();
        polled.clear();
        bool active = false;
        for (Session* s : sessions) {
            if (s->failed() || (now >= window.end && s->in_flight() == 0)) continue;
            active = true;
            const int events = s->events();
            if (s->fd() < 0 || events == 0) continue;
            fds.push_back({s->fd(), static_cast<short>(events), 0});
            polled.push_back(s);
        }
        if (!active || now >= drain_deadline) break;

        Clock::time_point wake =
            std::min(next_tick, now < window.end ? window.end : drain_deadline);
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - now);
        const int n =
            poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(wait.count(), 0)));
        if (n < 0 && errno != EINTR) {
            std::fprintf(stderr, "itd_load: poll: %s\n", std::strerror(errno));
            break;
        }
        for (std::size_t i = 0; n > 0 && i < fds.size(); ++i)
            if (fds[i].revents) polled[i]->service(fds[i].revents);
        if (Clock::now() >= next_tick) {
            for (Session* s : sessions) s->tick();
            next_tick += kTick;
        }
    }
    for (Session* s : sessions) s->close();
}

struct Capacity {
    std::uint32_t block_size_bytes = 0;
    std::uint64_t blocks = 0;
};

// READ CAPACITY (16), retried past a unit attention or two.
bool read_capacity(Session& session, int lun, Capacity& out) {
    for (int attempt = 0; attempt < 3; ++attempt) {
        scsi_task* task = iscsi_readcapacity16_sync(session.context(), lun);
        if (!task) break;
        const bool good = task->status == SCSI_STATUS_GOOD;
        auto* rc16 =
            good ? static_cast<scsi_readcapacity16*>(scsi_datain_unmarshall(task)) : nullptr;
        if (rc16) {
            out.block_size_bytes = rc16->block_length;
            out.blocks = rc16->returned_lba + 1;
        }
        const bool unit_attention = task->status == SCSI_STATUS_CHECK_CONDITION &&
                                    task->sense.key == SCSI_SENSE_UNIT_ATTENTION;
        scsi_free_scsi_task(task);
        if (rc16) return out.block_size_bytes > 0;
        if (!unit_attention) break;
    }
    std::fprintf(stderr, "itd_load: READ CAPACITY (16) failed: %s\n",
                 iscsi_get_error(session.context()));
    return false;
}

// The Block Limits VPD page's MAXIMUM TRANSFER LENGTH in blocks; 0 when there is none or the
// page is not there (SBC-4 6.6.4: zero means no limit is reported).
std::uint32_t max_transfer_blocks(Session& session, int lun) {
    scsi_task* task =
        iscsi_inquiry_sync(session.context(), lun, 1, SCSI_INQUIRY_PAGECODE_BLOCK_LIMITS, 255);
    if (!task) return 0;
    std::uint32_t blocks = 0;
    if (task->status == SCSI_STATUS_GOOD) {
        auto* bl = static_cast<scsi_inquiry_block_limits*>(scsi_datain_unmarshall(task));
        if (bl) blocks = bl->max_xfer_len;
    }
    scsi_free_scsi_task(task);
    return blocks;
}

int run(const Options& options) {
    std::vector<std::unique_ptr<Session>> sessions;
    for (unsigned i = 0; i < options.sessions; ++i)
        sessions.push_back(std::make_unique<Session>(i, options));

    iscsi_url* url = sessions[0]->context()
                         ? iscsi_parse_full_url(sessions[0]->context(), options.url.c_str())
                         : nullptr;
    if (!url) {
        std::fprintf(stderr, "itd_load: bad URL '%s': %s\n%s", options.url.c_str(),
                     sessions[0]->context() ? iscsi_get_error(sessions[0]->context()) : "",
                     usage().c_str());
        return 2;
    }
    const std::string portal = url->portal;
    const std::string target = url->target;
    const int lun = url->lun;
    iscsi_destroy_url(url);

    for (auto& s : sessions)
        if (!s->login(portal, target, lun)) return 1;

    Capacity cap;
    if (!read_capacity(*sessions[0], lun, cap)) return 1;
    const std::uint64_t lun_bytes = cap.blocks * cap.block_size_bytes;
    if (options.bs_bytes % cap.block_size_bytes != 0 || options.bs_bytes > lun_bytes) {
        std::fprintf(stderr,
                     "itd_load: --bs %u does not fit the LUN (%llu blocks of %u bytes): it must "
                     "be a multiple of the block size and at most the LUN's size\n",
                     options.bs_bytes, static_cast<unsigned long long>(cap.blocks),
                     cap.block_size_bytes);
        return 2;
    }
    const std::uint32_t max_blocks = max_transfer_blocks(*sessions[0], lun);
    if (max_blocks != 0 && options.bs_bytes / cap.block_size_bytes > max_blocks) {
        std::fprintf(stderr,
                     "itd_load: --bs %u is more than the target takes in one command (MAXIMUM "
                     "TRANSFER LENGTH %u blocks of %u bytes)\n",
                     options.bs_bytes, max_blocks, cap.block_size_bytes);
        return 2;
    }
    std::printf("itd_load: %s: LUN %d, %llu blocks of %u bytes (%.1f MiB); %u sessions logged in\n",
                options.url.c_str(), lun, static_cast<unsigned long long>(cap.blocks),
                cap.block_size_bytes, static_cast<double>(lun_bytes) / (1 << 20), options.sessions);
    std::fflush(stdout);

    const unsigned read_percent = options.rw == Rw::randread || options.rw == Rw::read ? 100
                                  : options.rw == Rw::randrw ? options.read_percent
                                                             : 0;
    std::vector<Stats> stats(options.threads);
    std::vector<std::vector<Session*>> shares(options.threads);
    const Clock::time_point start = Clock::now();
    Window window;
    window.begin = start + to_duration(options.ramp_seconds);
    window.end = window.begin + to_duration(options.seconds);
    for (unsigned i = 0; i < options.sessions; ++i) {
        Workload::Params p;
        p.random = is_random(options.rw);
        p.read_percent = read_percent;
        p.lun_bytes = lun_bytes;
        p.bs_bytes = options.bs_bytes;
        p.session = i;
        p.sessions = options.sessions;
        sessions[i]->prepare(p, cap.block_size_bytes, &stats[i % options.threads], window);
        shares[i % options.threads].push_back(sessions[i].get());
    }
    {
        std::vector<std::jthread> threads;
        for (unsigned t = 0; t < options.threads; ++t)
            threads.emplace_back([&shares, t, window] { run_thread(shares[t], window); });
    }

    Stats total;
    for (const Stats& s : stats) {
        total.latency_ns.merge(s.latency_ns);
        total.ios += s.ios;
        total.errors += s.errors;
    }
    const double iops = static_cast<double>(total.ios) / options.seconds;
    const double mibps = iops * options.bs_bytes / (1 << 20);
    auto us = [&](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
    std::printf(
        "itd_load: rw=%s bs=%u depth=%u sessions=%u threads=%u seconds=%.2f ios=%llu iops=%.0f "
        "mibps=%.2f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%llu\n",
        to_string(options.rw), options.bs_bytes, options.depth, options.sessions, options.threads,
        options.seconds, static_cast<unsigned long long>(total.ios), iops, mibps,
        us(total.latency_ns.percentile(50)), us(total.latency_ns.percentile(99)),
        us(total.latency_ns.percentile(99.9)), us(total.latency_ns.max()),
        static_cast<unsigned long long>(total.errors));
    std::fflush(stdout);
    if (total.errors > 0) {
        std::fprintf(stderr, "itd_load: %llu commands failed\n",
                     static_cast<unsigned long long>(total.errors));
        return 1;
    }
    for (const auto& s : sessions) {
        if (s->failed()) return 1;
    }
    return 0;
}

}  // namespace
}  // namespace itd::load

int main(int argc, char** argv) {
    using namespace itd::load;
    // A target that closes the connection must not kill us with SIGPIPE on the next write.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto options = parse_options(args);
    if (!options) {
        std::fprintf(stderr, "itd_load: %s\n%s", options.error().c_str(), usage().c_str());
        return 2;
    }
    if (options->help) {
        std::fputs(usage().c_str(), stdout);
        return 0;
    }
    return run(*options);
}
