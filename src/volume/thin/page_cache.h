// The thin engine's page cache (DESIGN.md "Thin volume format"): whole pages in memory, bounded
// in bytes. A page is dirty (holds data no committed object has: never evicted) or clean (a
// copy of its committed object, or zeros of an unmapped page: evicted least recently used
// first). Not thread-safe: the engine's mutex guards it.
//
// A page's buffer is shared with a commit that is uploading it; writable() copies the buffer
// first when it is shared, so a commit uploads exactly the bytes it snapshotted and a write
// never waits for an upload (copy-on-write). Copies held only by commits are not counted
// against the budget; they live until their upload returns. Buffers come from the cache's
// PagePool, and go back to it when their last owner lets go.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "volume/thin/page_pool.h"

namespace itd::volume::thin {

class PageCache {
public:
    struct Page {
        std::shared_ptr<PageBuffer> data;
        std::uint64_t version = 0;  // the engine's write counter at the page's last change
        bool dirty = false;
        std::list<std::uint64_t>::iterator lru;  // its place in the LRU list while clean
    };

    // budget_bytes: at least one page.
    PageCache(std::uint32_t page_size_bytes, std::uint64_t budget_bytes);

    std::uint32_t page_size_bytes() const { return page_size_bytes_; }
    std::uint64_t budget_bytes() const { return budget_bytes_; }
    std::uint64_t bytes() const { return pages_.size() * std::uint64_t{page_size_bytes_}; }
    std::size_t page_count() const { return pages_.size(); }
    std::size_t dirty_count() const { return pages_.size() - lru_.size(); }
    // Where the engine takes page buffers (thread-safe, unlike the cache itself).
    PagePool& pool() { return pool_; }

    Page* find(std::uint64_t page);
    // Marks a clean page most recently used.
    void touch(std::uint64_t page);

    // Whether one more page fits, after evicting clean pages (least recently used first) if
    // needed. False when every cached page is dirty and the cache is full.
    bool make_room();

    // Inserts a page that is not cached yet, dirty, with the given buffer (page_size bytes).
    Page& insert_dirty(std::uint64_t page, std::shared_ptr<PageBuffer> data, std::uint64_t version);
    // The page's buffer, ready to be written in place: unshared (copied if a commit holds
    // it). The page must be cached.
    PageBuffer& writable(std::uint64_t page);
    void mark_dirty(std::uint64_t page, std::uint64_t version);
    void mark_clean(std::uint64_t page);
    void erase(std::uint64_t page);

private:
    const std::uint32_t page_size_bytes_;
    const std::uint64_t budget_bytes_;
    PagePool pool_;
    std::unordered_map<std::uint64_t, Page> pages_;
    std::list<std::uint64_t> lru_;  // clean pages; front: least recently used
};

}  // namespace itd::volume::thin
