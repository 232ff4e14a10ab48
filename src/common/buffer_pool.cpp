#include "common/buffer_pool.h"

#include <algorithm>
#include <new>

#include "common/sanitizers.h"

namespace itd {

// Kept blocks by their exact size: a connection asks for few distinct sizes.
struct BufferPool::State {
    explicit State(std::size_t max) : max_kept_bytes(max) {}
    ~State() {
        for (auto& size_class : classes) {
            for (void* p : size_class.blocks) ::operator delete(p);
        }
    }

    void* take(std::size_t bytes) {
#ifndef ITD_ADDRESS_SANITIZER
        {
            std::lock_guard lock(mutex);
            for (auto& size_class : classes) {
                if (size_class.bytes != bytes || size_class.blocks.empty()) continue;
                void* p = size_class.blocks.back();
                size_class.blocks.pop_back();
                kept_bytes -= bytes;
                return p;
            }
        }
#endif
        return ::operator new(bytes);
    }

    void give(void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#ifndef ITD_ADDRESS_SANITIZER
        {
            std::lock_guard lock(mutex);
            if (kept_bytes + bytes <= max_kept_bytes) {
                auto it = std::find_if(classes.begin(), classes.end(),
                                       [&](const SizeClass& c) { return c.bytes == bytes; });
                try {
                    if (it == classes.end()) it = classes.insert(classes.end(), SizeClass{bytes, {}});
                    it->blocks.push_back(p);
                    kept_bytes += bytes;
                    return;
                } catch (const std::bad_alloc&) {
                    // No room to remember it: free it below.
                }
            }
        }
#endif
        ::operator delete(p);
    }

    struct SizeClass {
        std::size_t bytes;
        std::vector<void*> blocks;
    };
    const std::size_t max_kept_bytes;
    mutable std::mutex mutex;
    std::vector<SizeClass> classes;
    std::size_t kept_bytes = 0;
};

template <typename T>
struct BufferPool::Allocator {
    using value_type = T;
    std::shared_ptr<State> state;

    explicit Allocator(std::shared_ptr<State> s) : state(std::move(s)) {}
    template <typename U>
    Allocator(const Allocator<U>& other) : state(other.state) {}

    T* allocate(std::size_t n) { return static_cast<T*>(state->take(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { state->give(p, n * sizeof(T)); }

    template <typename U>
    bool operator==(const Allocator<U>& other) const {
        return state == other.state;
    }
};

BufferPool::BufferPool(std::size_t max_kept_bytes)
    : state_(std::make_shared<State>(max_kept_bytes)) {}

std::shared_ptr<std::uint8_t[]> BufferPool::get(std::size_t bytes) {
    return std::allocate_shared_for_overwrite<std::uint8_t[]>(Allocator<std::uint8_t>(state_),
                                                              bytes);
}

std::size_t BufferPool::kept_bytes() const {
    std::lock_guard lock(state_->mutex);
    return state_->kept_bytes;
}

}  // namespace itd
