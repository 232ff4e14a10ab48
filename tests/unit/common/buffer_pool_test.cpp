#include "common/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "common/sanitizers.h"

namespace itd {
namespace {

TEST(BufferPool, BuffersHoldTheirBytes) {
    BufferPool pool(1 << 20);
    auto a = pool.get(4096);
    auto b = pool.get(4096);
    std::memset(a.get(), 1, 4096);
    std::memset(b.get(), 2, 4096);
    EXPECT_EQ(a[4095], 1);
    EXPECT_EQ(b[0], 2);
    EXPECT_NE(a.get(), b.get());
}

#ifndef ITD_ADDRESS_SANITIZER

TEST(BufferPool, AReleasedBufferIsReusedForTheSameSize) {
    BufferPool pool(1 << 20);
    const std::uint8_t* first = pool.get(4096).get();  // released at once
    EXPECT_GT(pool.kept_bytes(), 4096u);               // with its control block
    auto again = pool.get(4096);
    EXPECT_EQ(again.get(), first);
    EXPECT_EQ(pool.kept_bytes(), 0u);
    auto other = pool.get(8192);  // another size: a new block
    EXPECT_NE(other.get(), first);
}

TEST(BufferPool, KeepsNoMoreThanItsBound) {
    BufferPool pool(10000);
    {
        auto a = pool.get(4096);
        auto b = pool.get(4096);
        auto c = pool.get(4096);
    }
    EXPECT_LE(pool.kept_bytes(), 10000u);
    EXPECT_GT(pool.kept_bytes(), 8192u);  // two of the three
}

TEST(BufferPool, OutlivesItsOwnerWhileBuffersLive) {
    std::shared_ptr<std::uint8_t[]> kept;
    {
        BufferPool pool(1 << 20);
        kept = pool.get(100);
    }
    kept[99] = 7;  // still valid; the pool's state goes with the last buffer
    EXPECT_EQ(kept[99], 7);
    kept.reset();
}

TEST(BufferPool, ReleasedFromAnotherThread) {
    BufferPool pool(1 << 20);
    auto a = pool.get(512);
    const std::uint8_t* where = a.get();
    std::thread([b = std::move(a)]() mutable { b.reset(); }).join();
    EXPECT_EQ(pool.get(512).get(), where);
}

#endif

}  // namespace
}  // namespace itd
