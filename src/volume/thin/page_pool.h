// Page buffers for the thin engine, reused. A buffer whose last owner lets go (an evicted
// page, a commit's copy whose upload returned, a page unmapped) goes back to a bounded free
// list, and the next page takes it: memory already mapped, instead of fresh memory the kernel
// must fault in and zero on first touch. On a virtual machine that first touch is dear: in a
// perf profile of itd during sequential writes to a thin volume, page faults took about a
// quarter of its CPU time, the largest share on writes into new page buffers.
//
// Thread-safe: writes take buffers under the engine's lock, fetches on their own threads, and
// a buffer may come back from any thread (the last shared_ptr decides).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "common/uninit_buffer.h"

namespace itd::volume::thin {

// Uninitialised when made with a size alone: a page that a whole-page write or a fetch fills
// is not zeroed first.
using PageBuffer = UninitBytes;

class PagePool {
  public:
    // Buffers of page_bytes each; at most keep_free of them wait in the free list (the rest
    // are freed).
    PagePool(std::size_t page_bytes, std::size_t keep_free);

    // A buffer of page_bytes with unspecified contents (a reused one holds an old page).
    std::shared_ptr<PageBuffer> take();
    // A buffer of page_bytes zeros.
    std::shared_ptr<PageBuffer> take_zeroed();
    // A buffer holding a copy of from (page_bytes long).
    std::shared_ptr<PageBuffer> take_copy(const PageBuffer& from);

    // Buffers waiting in the free list now.
    std::size_t free_count() const;

  private:
    struct State {
        std::size_t page_bytes;
        std::size_t keep_free;
        mutable std::mutex mutex;
        std::vector<std::unique_ptr<PageBuffer>> free;
    };
    // Shared with every buffer handed out: a buffer outliving the pool still has a list to
    // return to (and frees itself with it).
    std::shared_ptr<State> state_;
};

}  // namespace itd::volume::thin
