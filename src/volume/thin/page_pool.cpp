#include "volume/thin/page_pool.h"

#include <algorithm>

#include "common/check.h"

namespace itd::volume::thin {

PagePool::PagePool(std::size_t page_bytes, std::size_t keep_free)
    : state_(std::make_shared<State>()) {
    ITD_CHECK(page_bytes > 0);
    state_->page_bytes = page_bytes;
    state_->keep_free = keep_free;
    // A buffer coming back never allocates (its deleter must not throw).
    state_->free.reserve(keep_free);
}

std::shared_ptr<PageBuffer> PagePool::take() {
    std::unique_ptr<PageBuffer> buf;
    {
        std::lock_guard g(state_->mutex);
        if (!state_->free.empty()) {
            buf = std::move(state_->free.back());
            state_->free.pop_back();
        }
    }
    if (!buf) buf = std::make_unique<PageBuffer>(state_->page_bytes);
    ITD_CHECK(buf->size() == state_->page_bytes);
    return std::shared_ptr<PageBuffer>(buf.release(), [state = state_](PageBuffer* b) {
        std::unique_ptr<PageBuffer> owned(b);
        std::lock_guard g(state->mutex);
        if (state->free.size() < state->keep_free) state->free.push_back(std::move(owned));
        // else the buffer is freed here (the list is full)
    });
}

std::shared_ptr<PageBuffer> PagePool::take_zeroed() {
    auto buf = take();
    std::fill(buf->begin(), buf->end(), std::uint8_t{0});
    return buf;
}

std::shared_ptr<PageBuffer> PagePool::take_copy(const PageBuffer& from) {
    ITD_CHECK(from.size() == state_->page_bytes);
    auto buf = take();
    std::copy(from.begin(), from.end(), buf->begin());
    return buf;
}

std::size_t PagePool::free_count() const {
    std::lock_guard g(state_->mutex);
    return state_->free.size();
}

}  // namespace itd::volume::thin
