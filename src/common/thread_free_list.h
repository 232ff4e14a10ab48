// A per-thread cache of freed blocks of one size, for objects made and destroyed once per I/O
// (a SCSI task): the class's operator new and delete take blocks from it and give them back
// instead of going to the heap each time.
//
// A block freed on another thread than the one that made it joins that other thread's cache.
// Each thread keeps at most MaxKept blocks and frees the rest, and frees all of its blocks
// when it ends. Address sanitizer builds use the heap directly, so that a use after free is
// still caught.
#pragma once

#include <cstddef>
#include <new>

#include "common/sanitizers.h"

namespace itd {

template <std::size_t Size, std::size_t Align, std::size_t MaxKept = 256>
class ThreadFreeList {
    static_assert(Size >= sizeof(void*));
    static_assert(Align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned types need their own");

public:
    static void* allocate() {
#ifndef ITD_ADDRESS_SANITIZER
        if (!ended_ && cache_.head != nullptr) {
            Block* block = cache_.head;
            cache_.head = block->next;
            --cache_.count;
            return block;
        }
#endif
        return ::operator new(Size);
    }

    static void deallocate(void* p) noexcept {
#ifndef ITD_ADDRESS_SANITIZER
        if (!ended_ && cache_.count < MaxKept) {
            cache_.head = ::new (p) Block{cache_.head};
            ++cache_.count;
            return;
        }
#endif
        ::operator delete(p);
    }

    // Blocks this thread keeps now (for tests).
    static std::size_t kept() { return ended_ ? 0 : cache_.count; }

private:
    struct Block {
        Block* next;
    };
    struct Cache {
        Block* head = nullptr;
        std::size_t count = 0;
        ~Cache() {
            ended_ = true;  // blocks freed later on this thread (other thread_locals) go to the heap
            while (head != nullptr) {
                Block* next = head->next;
                ::operator delete(head);
                head = next;
            }
        }
    };
    static thread_local Cache cache_;
    static thread_local bool ended_;  // trivially destructible: readable after ~Cache
};

template <std::size_t Size, std::size_t Align, std::size_t MaxKept>
thread_local typename ThreadFreeList<Size, Align, MaxKept>::Cache
    ThreadFreeList<Size, Align, MaxKept>::cache_;
template <std::size_t Size, std::size_t Align, std::size_t MaxKept>
thread_local bool ThreadFreeList<Size, Align, MaxKept>::ended_ = false;

}  // namespace itd
