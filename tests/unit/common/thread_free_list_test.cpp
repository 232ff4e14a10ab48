#include "common/thread_free_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

namespace itd {
namespace {

// Each test uses its own list type (a distinct MaxKept or Size), so they do not share caches.
#ifndef ITD_ADDRESS_SANITIZER

TEST(ThreadFreeList, AFreedBlockIsTheNextOneGiven) {
    using List = ThreadFreeList<64, 8, 4>;
    void* a = List::allocate();
    List::deallocate(a);
    EXPECT_EQ(List::kept(), 1u);
    EXPECT_EQ(List::allocate(), a);
    EXPECT_EQ(List::kept(), 0u);
    List::deallocate(a);
}

TEST(ThreadFreeList, KeepsAtMostMaxKept) {
    using List = ThreadFreeList<72, 8, 3>;
    std::vector<void*> blocks;
    for (int i = 0; i < 5; ++i) blocks.push_back(List::allocate());
    for (void* p : blocks) List::deallocate(p);
    EXPECT_EQ(List::kept(), 3u);
    // The kept ones come back (last freed first), then fresh ones.
    std::set<void*> again;
    for (int i = 0; i < 3; ++i) again.insert(List::allocate());
    EXPECT_EQ(List::kept(), 0u);
    for (void* p : again) EXPECT_NE(std::find(blocks.begin(), blocks.end(), p), blocks.end());
    for (void* p : again) List::deallocate(p);
}

TEST(ThreadFreeList, BlocksFreedOnAnotherThreadStayThere) {
    using List = ThreadFreeList<80, 8, 8>;
    void* a = List::allocate();
    std::size_t kept_there = 0;
    std::thread other([&] {
        List::deallocate(a);
        kept_there = List::kept();
    });  // the thread's cache frees the block when the thread ends
    other.join();
    EXPECT_EQ(kept_there, 1u);
    EXPECT_EQ(List::kept(), 0u);
}

#endif

TEST(ThreadFreeList, BlocksAreUsableMemory) {
    using List = ThreadFreeList<96, 8, 2>;
    std::vector<unsigned char*> blocks;
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 4; ++i) {
            auto* p = static_cast<unsigned char*>(List::allocate());
            for (int b = 0; b < 96; ++b) p[b] = static_cast<unsigned char>(i + b);
            blocks.push_back(p);
        }
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            for (int b = 0; b < 96; ++b)
                ASSERT_EQ(blocks[i][b], static_cast<unsigned char>(static_cast<int>(i) + b));
        }
        for (auto* p : blocks) List::deallocate(p);
        blocks.clear();
    }
}

}  // namespace
}  // namespace itd
