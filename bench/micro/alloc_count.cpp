// Replacement operator new and delete that count allocations per thread (alloc_count.h).
#include "alloc_count.h"

#include <cstdlib>
#include <new>

namespace itd::bench {

namespace {

// A plain thread-local: no atomic, no guard (constant-initialized), cheap enough to leave on
// while timing.
constinit thread_local std::uint64_t t_allocations = 0;

void* allocate(std::size_t bytes) {
    ++t_allocations;
    if (bytes == 0) bytes = 1;  // operator new returns a distinct pointer for 0 bytes too
    for (;;) {
        if (void* p = std::malloc(bytes)) return p;
        std::new_handler handler = std::get_new_handler();
        if (handler == nullptr) throw std::bad_alloc();
        handler();
    }
}

void* allocate_aligned(std::size_t bytes, std::align_val_t align) {
    ++t_allocations;
    if (bytes == 0) bytes = 1;
    std::size_t alignment = static_cast<std::size_t>(align);
    if (alignment < sizeof(void*)) alignment = sizeof(void*);  // posix_memalign's minimum
    for (;;) {
        void* p = nullptr;
        if (posix_memalign(&p, alignment, bytes) == 0) return p;
        std::new_handler handler = std::get_new_handler();
        if (handler == nullptr) throw std::bad_alloc();
        handler();
    }
}

template <typename Allocate>
void* allocate_nothrow(Allocate allocate_or_throw) noexcept {
    try {
        return allocate_or_throw();
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

}  // namespace

std::uint64_t thread_allocations() {
    return t_allocations;
}

}  // namespace itd::bench

using itd::bench::allocate;
using itd::bench::allocate_aligned;
using itd::bench::allocate_nothrow;

void* operator new(std::size_t n) {
    return allocate(n);
}
void* operator new[](std::size_t n) {
    return allocate(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return allocate_nothrow([n] { return allocate(n); });
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return allocate_nothrow([n] { return allocate(n); });
}
void* operator new(std::size_t n, std::align_val_t a) {
    return allocate_aligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return allocate_aligned(n, a);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return allocate_nothrow([n, a] { return allocate_aligned(n, a); });
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return allocate_nothrow([n, a] { return allocate_aligned(n, a); });
}

// Every form of delete is free(): malloc and posix_memalign memory alike.
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
