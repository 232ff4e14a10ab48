// A bounded pool of threads for blocking I/O (pread, pwrite, fdatasync), owned by one volume
// (DESIGN.md "Threading": blocking work runs on a bounded pool). The queue has a fixed bound;
// submit() blocks the caller while it is full, which pushes back on the connection thread and,
// through it, on the initiator; a submit from one of the pool's own threads never blocks. Destruction runs every job already queued, so every completion
// still runs exactly once, then joins the workers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace itd::volume {

class IoPool {
public:
    using Job = std::move_only_function<void()>;

    IoPool(std::size_t threads, std::size_t max_queued_jobs);
    ~IoPool();
    IoPool(const IoPool&) = delete;
    IoPool& operator=(const IoPool&) = delete;

    void submit(Job job);

private:
    void run(std::stop_token stop);

    const std::size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable_any not_empty_;
    std::condition_variable not_full_;
    std::deque<Job> queue_;
    std::vector<std::jthread> workers_;  // last: joined first, while the queue still exists
};

}  // namespace itd::volume
