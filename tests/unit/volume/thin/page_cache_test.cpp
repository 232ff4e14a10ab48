// The thin engine's page cache: the byte bound, LRU eviction of clean pages only, and
// copy-on-write of buffers a commit holds.
#include "volume/thin/page_cache.h"

#include <gtest/gtest.h>

namespace itd::volume::thin {
namespace {

constexpr std::uint32_t kPage = 4096;

std::shared_ptr<PageBuffer> buffer(std::uint8_t fill) {
    return std::make_shared<PageBuffer>(kPage, fill);
}

TEST(PageCache, EvictsCleanPagesLeastRecentlyUsedFirst) {
    PageCache cache(kPage, 3 * kPage);
    for (std::uint64_t p = 0; p < 3; ++p) {
        ASSERT_TRUE(cache.make_room());
        cache.insert_dirty(p, buffer(static_cast<std::uint8_t>(p)), p);
        cache.mark_clean(p);
    }
    EXPECT_EQ(cache.bytes(), 3u * kPage);
    cache.touch(0);  // 1 is now the least recently used
    ASSERT_TRUE(cache.make_room());
    EXPECT_EQ(cache.find(1), nullptr);
    EXPECT_NE(cache.find(0), nullptr);
    EXPECT_NE(cache.find(2), nullptr);
    EXPECT_EQ(cache.page_count(), 2u);
}

TEST(PageCache, NeverEvictsDirtyPages) {
    PageCache cache(kPage, 2 * kPage);
    cache.insert_dirty(7, buffer(1), 1);
    cache.insert_dirty(8, buffer(2), 2);
    EXPECT_FALSE(cache.make_room());
    EXPECT_EQ(cache.dirty_count(), 2u);
    cache.mark_clean(8);
    EXPECT_TRUE(cache.make_room());
    EXPECT_EQ(cache.find(8), nullptr);
    ASSERT_NE(cache.find(7), nullptr);
    // A clean page written again is dirty, and out of the LRU list.
    cache.insert_dirty(9, buffer(3), 3);
    cache.mark_clean(9);
    cache.mark_dirty(9, 4);
    EXPECT_FALSE(cache.make_room());
    EXPECT_EQ(cache.find(9)->version, 4u);
}

TEST(PageCache, WritableCopiesABufferACommitHolds) {
    PageCache cache(kPage, 4 * kPage);
    cache.insert_dirty(1, buffer(0xAA), 1);
    std::shared_ptr<PageBuffer> snapshot = cache.find(1)->data;  // a commit uploading it
    PageBuffer& w = cache.writable(1);
    w[0] = 0x55;
    EXPECT_EQ((*snapshot)[0], 0xAA);  // the commit's bytes did not change
    EXPECT_EQ((*cache.find(1)->data)[0], 0x55);
    // Not shared any more: written in place.
    PageBuffer* before = cache.find(1)->data.get();
    snapshot.reset();
    EXPECT_EQ(&cache.writable(1), before);
}

TEST(PageCache, EraseForgetsCleanAndDirtyPages) {
    PageCache cache(kPage, 2 * kPage);
    cache.insert_dirty(1, buffer(1), 1);
    cache.insert_dirty(2, buffer(2), 2);
    cache.mark_clean(2);
    cache.erase(1);
    cache.erase(2);
    cache.erase(3);  // not cached: nothing happens
    EXPECT_EQ(cache.page_count(), 0u);
    EXPECT_TRUE(cache.make_room());
}

}  // namespace
}  // namespace itd::volume::thin
