#include "volume/thin/page_cache.h"

#include <algorithm>

#include "common/check.h"

namespace itd::volume::thin {

namespace {

// Buffers the pool keeps free: an eighth of the cache (an evicted page's buffer serves the
// next new page, so the list rarely holds many), at least a few.
std::size_t pool_keep(std::uint32_t page_size_bytes, std::uint64_t budget_bytes) {
    return static_cast<std::size_t>(std::max<std::uint64_t>(budget_bytes / page_size_bytes / 8, 4));
}

}  // namespace

PageCache::PageCache(std::uint32_t page_size_bytes, std::uint64_t budget_bytes)
    : page_size_bytes_(page_size_bytes),
      budget_bytes_(budget_bytes),
      pool_(page_size_bytes, pool_keep(page_size_bytes, budget_bytes)) {
    ITD_CHECK(page_size_bytes > 0 && budget_bytes >= page_size_bytes);
}

PageCache::Page* PageCache::find(std::uint64_t page) {
    auto it = pages_.find(page);
    return it == pages_.end() ? nullptr : &it->second;
}

void PageCache::touch(std::uint64_t page) {
    Page* p = find(page);
    ITD_CHECK(p != nullptr);
    if (!p->dirty) lru_.splice(lru_.end(), lru_, p->lru);
}

bool PageCache::make_room() {
    while (bytes() + page_size_bytes_ > budget_bytes_) {
        if (lru_.empty()) return false;
        const std::uint64_t victim = lru_.front();
        lru_.pop_front();
        pages_.erase(victim);
    }
    return true;
}

PageCache::Page& PageCache::insert_dirty(std::uint64_t page, std::shared_ptr<PageBuffer> data,
                                         std::uint64_t version) {
    ITD_CHECK(data && data->size() == page_size_bytes_);
    auto [it, inserted] = pages_.try_emplace(page);
    ITD_CHECK(inserted);
    it->second.data = std::move(data);
    it->second.version = version;
    it->second.dirty = true;
    return it->second;
}

PageBuffer& PageCache::writable(std::uint64_t page) {
    Page* p = find(page);
    ITD_CHECK(p != nullptr);
    // Other owners of the buffer are commits that snapshotted it; they only read it.
    if (p->data.use_count() > 1) p->data = pool_.take_copy(*p->data);
    return *p->data;
}

void PageCache::mark_dirty(std::uint64_t page, std::uint64_t version) {
    Page* p = find(page);
    ITD_CHECK(p != nullptr);
    if (!p->dirty) lru_.erase(p->lru);
    p->dirty = true;
    p->version = version;
}

void PageCache::mark_clean(std::uint64_t page) {
    Page* p = find(page);
    ITD_CHECK(p != nullptr);
    if (p->dirty) p->lru = lru_.insert(lru_.end(), page);
    p->dirty = false;
}

void PageCache::erase(std::uint64_t page) {
    auto it = pages_.find(page);
    if (it == pages_.end()) return;
    if (!it->second.dirty) lru_.erase(it->second.lru);
    pages_.erase(it);
}

}  // namespace itd::volume::thin
