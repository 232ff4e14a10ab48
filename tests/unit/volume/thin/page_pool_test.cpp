// The thin engine's page-buffer pool: buffers come back when their last owner lets go and are
// handed out again, the free list stays bounded, zeroed and copied buffers hold what they
// should even when reused, and buffers may outlive the pool and come back from other threads.
#include "volume/thin/page_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "volume/thin/page_cache.h"

namespace itd::volume::thin {
namespace {

constexpr std::size_t kPage = 4096;

TEST(PagePool, ReusesABufferItsLastOwnerLetGo) {
    PagePool pool(kPage, 4);
    auto a = pool.take();
    ASSERT_EQ(a->size(), kPage);
    const std::uint8_t* memory = a->data();
    auto b = a;  // a second owner: the buffer stays out of the pool
    a.reset();
    EXPECT_EQ(pool.free_count(), 0u);
    b.reset();
    EXPECT_EQ(pool.free_count(), 1u);
    auto c = pool.take();
    EXPECT_EQ(c->data(), memory);  // the same memory, not a new allocation
    EXPECT_EQ(c->size(), kPage);
    EXPECT_EQ(pool.free_count(), 0u);
}

TEST(PagePool, KeepsAtMostKeepFreeBuffers) {
    PagePool pool(kPage, 2);
    std::vector<std::shared_ptr<PageBuffer>> held;
    for (int i = 0; i < 5; ++i) held.push_back(pool.take());
    held.clear();
    EXPECT_EQ(pool.free_count(), 2u);
    PagePool none(kPage, 0);
    none.take().reset();
    EXPECT_EQ(none.free_count(), 0u);
}

TEST(PagePool, ZeroedAndCopiedBuffersHoldTheirBytesWhenReused) {
    PagePool pool(kPage, 4);
    {
        auto dirty = pool.take();
        std::fill(dirty->begin(), dirty->end(), std::uint8_t{0xEE});
    }
    ASSERT_EQ(pool.free_count(), 1u);
    auto zeros = pool.take_zeroed();
    EXPECT_TRUE(std::all_of(zeros->begin(), zeros->end(), [](std::uint8_t v) { return v == 0; }));
    std::fill(zeros->begin(), zeros->end(), std::uint8_t{0xEE});
    PageBuffer source(kPage);
    for (std::size_t i = 0; i < kPage; ++i) source[i] = static_cast<std::uint8_t>(i * 7);
    zeros.reset();
    auto copy = pool.take_copy(source);
    EXPECT_EQ(*copy, source);
}

TEST(PagePool, ABufferMayOutliveThePool) {
    std::shared_ptr<PageBuffer> survivor;
    {
        PagePool pool(kPage, 4);
        survivor = pool.take();
        (*survivor)[0] = 42;
    }
    EXPECT_EQ((*survivor)[0], 42);
    survivor.reset();  // returns to the (now orphaned) list, freed with it: no leak under ASan
}

TEST(PagePool, BuffersComeBackFromOtherThreads) {
    PagePool pool(kPage, 8);
    constexpr int kRounds = 2000;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&pool, t] {
            for (int i = 0; i < kRounds; ++i) {
                auto buf = pool.take();
                (*buf)[0] = static_cast<std::uint8_t>(t);
                (*buf)[kPage - 1] = static_cast<std::uint8_t>(i);
                ASSERT_EQ((*buf)[0], static_cast<std::uint8_t>(t));
                std::thread([b = std::move(buf)] {}).join();  // let go on yet another thread
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_LE(pool.free_count(), 8u);
    EXPECT_GE(pool.free_count(), 1u);
}

TEST(PagePool, TheCacheCopiesIntoPooledBuffers) {
    PageCache cache(kPage, 64 * kPage);
    cache.insert_dirty(1, cache.pool().take_zeroed(), 1);
    std::shared_ptr<PageBuffer> snapshot = cache.find(1)->data;  // a commit uploading it
    {
        auto spare = cache.pool().take();  // one buffer waiting in the pool
        (void)spare;
    }
    ASSERT_EQ(cache.pool().free_count(), 1u);
    cache.writable(1)[0] = 9;  // copy-on-write takes the pooled buffer
    EXPECT_EQ(cache.pool().free_count(), 0u);
    EXPECT_EQ((*snapshot)[0], 0);
    snapshot.reset();  // the commit's upload returned: its buffer goes back
    EXPECT_EQ(cache.pool().free_count(), 1u);
    cache.erase(1);  // and so does the page's
    EXPECT_EQ(cache.pool().free_count(), 2u);
}

}  // namespace
}  // namespace itd::volume::thin
