// One iSCSI session of the load generator: a libiscsi context logged in to the target, with
// `depth` command slots. Each slot holds one command in flight; its completion records the
// latency and sends the slot's next command at once, until the run's end. A thread's poll loop
// (itd_load.cpp) drives the context through fd(), events() and service().
//
//   login() ─ prepare() ─ start() ─ service()/tick() … (end: no new commands) … close()
//
// A session lives on one thread from start() to close(); nothing in it is locked.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
}

#include "histogram.h"
#include "options.h"
#include "workload.h"

namespace itd::load {

using Clock = std::chrono::steady_clock;

// The measured interval: completions in [begin, end) count. No command is sent after end.
struct Window {
    Clock::time_point begin;
    Clock::time_point end;
};

// What one thread's sessions found; merged across threads at the end.
struct Stats {
    Histogram latency_ns;
    std::uint64_t ios = 0;     // good completions inside the window
    std::uint64_t errors = 0;  // every command that did not end GOOD, whenever it ended
};

class Session {
  public:
    Session(unsigned index, const Options& options);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    iscsi_context* context() { return ctx_; }
    unsigned index() const { return index_; }

    // Connects and logs in (blocking). False with a message on stderr.
    bool login(const std::string& portal, const std::string& target, int lun);

    void prepare(const Workload::Params& params, std::uint32_t block_size_bytes, Stats* stats,
                 Window window);
    // Sends the first `depth` commands.
    void start();

    int fd() const { return iscsi_get_fd(ctx_); }
    int events() const { return iscsi_which_events(ctx_); }
    // Hands poll()'s revents to libiscsi; completions run from here.
    void service(int revents);
    // Lets libiscsi time out stuck commands (call about once a second).
    void tick() { service(0); }

    unsigned in_flight() const { return in_flight_; }
    // The connection broke, or a command could not be sent: the session sends nothing more.
    bool failed() const { return failed_; }

    // Logs out when nothing is in flight, then frees the context. A command still in flight is
    // cancelled and counts as an error.
    void close();

  private:
    struct Slot {
        Session* session = nullptr;
        scsi_task* task = nullptr;  // while in flight
        Clock::time_point sent;
        std::uint64_t lba = 0;
        bool read = true;
    };

    static void on_complete(iscsi_context* ctx, int status, void* command_data, void* private_data);
    void complete(Slot& slot, int status);
    void submit(Slot& slot);
    void fail(const std::string& why);
    void report(const Slot& slot, int status);

    unsigned index_;
    const Options& options_;
    iscsi_context* ctx_ = nullptr;
    int lun_ = 0;
    std::uint32_t block_size_bytes_ = 512;
    std::unique_ptr<Workload> workload_;
    Stats* stats_ = nullptr;
    Window window_{};
    std::vector<Slot> slots_;  // never resized after prepare(): libiscsi holds pointers into it
    // One buffer each way, shared by all slots: reads land in read_buffer_ (the data is not
    // looked at), writes send write_buffer_'s pattern. No allocation per command here.
    std::vector<unsigned char> read_buffer_;
    std::vector<unsigned char> write_buffer_;
    scsi_iovec read_iov_{};
    scsi_iovec write_iov_{};
    unsigned in_flight_ = 0;
    bool failed_ = false;
    bool closing_ = false;
    bool timed_out_ = false;  // a command timed out: the target may not answer a logout either
    unsigned reported_ = 0;   // error messages printed (a few per session, not one per command)
};

}  // namespace itd::load
