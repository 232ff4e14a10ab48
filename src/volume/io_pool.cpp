#include "volume/io_pool.h"

#include "common/check.h"

namespace itd::volume {

namespace {
// Set on pool threads: a completion that starts more I/O (COMPARE AND WRITE's write after its
// read, a range-lock grant) submits from a worker, and a worker must never wait for room in a
// queue only workers drain.
thread_local const IoPool* current_pool = nullptr;
}  // namespace

IoPool::IoPool(std::size_t threads, std::size_t max_queued_jobs) : max_queued_(max_queued_jobs) {
    ITD_CHECK(threads > 0 && max_queued_jobs > 0);
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
        workers_.emplace_back([this](std::stop_token stop) { run(stop); });
    }
}

IoPool::~IoPool() {
    for (auto& w : workers_) w.request_stop();
    not_empty_.notify_all();
    workers_.clear();  // joins; workers drain the queue before they leave
    ITD_CHECK(queue_.empty());
}

void IoPool::submit(Job job) {
    std::unique_lock lock(mutex_);
    // The bound is exceeded only by follow-up jobs from workers, at most one per command in
    // flight, and commands in flight are bounded by the CmdSN window.
    if (current_pool != this) not_full_.wait(lock, [&] { return queue_.size() < max_queued_; });
    queue_.push_back(std::move(job));
    lock.unlock();
    not_empty_.notify_one();
}

void IoPool::run(std::stop_token stop) {
    current_pool = this;
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            // wait() with a stop token returns when stop is requested, too.
            not_empty_.wait(lock, stop, [&] { return !queue_.empty(); });
            if (queue_.empty()) return;  // stop requested and nothing left to run
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        not_full_.notify_one();
        job();
    }
}

}  // namespace itd::volume
