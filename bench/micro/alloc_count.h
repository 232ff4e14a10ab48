// Counts heap allocations, so a benchmark can report how many one operation makes.
//
// alloc_count.cpp replaces every replaceable operator new and delete (C++ [new.delete]) with
// versions that count on the calling thread and forward to malloc and free. That is all the
// replacement does: it works the same under AddressSanitizer, whose malloc and free then see
// every allocation (ASan's own operator new is not used, so it cannot report a new/free
// mismatch in this executable; the unit tests under ASan still can). Plain malloc calls are
// not counted; nothing on the paths measured here makes one.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

namespace itd::bench {

// How many times this thread has called operator new (any form) so far.
std::uint64_t thread_allocations();

// Counts the allocations of a benchmark's timed loop: create it just before the loop and call
// report() after it, which sets the "allocs/op" counter (average per iteration).
class AllocCounter {
  public:
    AllocCounter() : start_(thread_allocations()) {}
    void report(benchmark::State& state) const {
        state.counters["allocs/op"] = benchmark::Counter(
            static_cast<double>(thread_allocations() - start_), benchmark::Counter::kAvgIterations);
    }

  private:
    std::uint64_t start_;
};

}  // namespace itd::bench
