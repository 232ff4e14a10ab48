// A byte vector whose resize() leaves new bytes uninitialised: for buffers that are always
// filled before they are read (write data collected in order), where zeroing them first would
// only cost a pass over the memory.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace itd {

template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
    using value_type = T;
    template <typename U>
    struct rebind {
        using other = DefaultInitAllocator<U>;
    };
    DefaultInitAllocator() = default;
    template <typename U>
    DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

    template <typename U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;  // default-initialised: no zeroing
    }
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

using UninitBytes = std::vector<std::uint8_t, DefaultInitAllocator<std::uint8_t>>;

}  // namespace itd
