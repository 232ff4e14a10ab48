// The thin engine over in-memory stores: I/O, the cache, write-back and commits, growing and
// snapshots, fencing, and the crash sweep of the commit protocol (DESIGN.md "Tests": a crash
// at every step in turn leaves a whole generation holding every write acknowledged durable).
#include <gtest/gtest.h>

#include <future>
#include <random>
#include <thread>

#include "thin/fake_stores.h"
#include "volume/thin/catalog.h"
#include "volume/thin/segment.h"
#include "volume/thin/thin_volume.h"

namespace itd::volume::thin {
namespace {

using testing::FaultPlan;
using testing::MemoryMetaStore;
using testing::MemoryObjectStore;

constexpr std::uint32_t kPage = 8192;
constexpr std::uint32_t kPagesPerSegment = 16;
constexpr std::uint64_t kSize = 128 * kPage;  // 8 segments

Status sync_write(Volume& v, std::uint64_t at, const std::vector<std::uint8_t>& data,
                  bool fua = false) {
    std::promise<Status> p;
    v.write(at, data, WriteFlags{.fua = fua}, [&](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
}

Result<std::vector<std::uint8_t>> sync_read(Volume& v, std::uint64_t at, std::size_t n) {
    std::vector<std::uint8_t> out(n, 0xEE);
    std::promise<Status> p;
    v.read(at, out, [&](Status st) { p.set_value(std::move(st)); });
    if (auto st = p.get_future().get(); !st) return std::unexpected(st.error());
    return out;
}

Status sync_flush(Volume& v) {
    std::promise<Status> p;
    v.flush([&](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
}

Status sync_unmap(Volume& v, std::uint64_t at, std::uint64_t n) {
    std::promise<Status> p;
    v.unmap(at, n, [&](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
}

std::vector<LbaExtent> sync_status(Volume& v, std::uint64_t at, std::uint64_t n) {
    std::promise<Result<std::vector<LbaExtent>>> p;
    v.lba_status(at, n, [&](Result<std::vector<LbaExtent>> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.has_value());
    return r ? *r : std::vector<LbaExtent>{};
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> out(n);
    std::mt19937 rng(seed);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng());
    return out;
}

// A byte-for-byte model of what the volume should hold.
struct Model {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(kSize, 0);
    void write(std::uint64_t at, const std::vector<std::uint8_t>& d) {
        std::copy(d.begin(), d.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at));
    }
    void zero(std::uint64_t at, std::uint64_t n) {
        std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), n, 0);
    }
};

class ThinVolumeTest : public ::testing::Test {
protected:
    void SetUp() override { fresh(); }

    void fresh() {
        plan = std::make_shared<FaultPlan>();
        objects = std::make_shared<MemoryObjectStore>(plan);
        meta = std::make_shared<MemoryMetaStore>(plan);
        CreateParams params;
        params.name = "vol";
        params.size_bytes = kSize;
        params.page_size_bytes = kPage;
        params.pages_per_segment = kPagesPerSegment;
        ASSERT_TRUE(create_volume(*meta, params).has_value());
    }

    ThinOptions options(std::uint64_t cache_pages = 64) {
        ThinOptions o;
        o.cache_bytes = cache_pages * kPage;
        o.commit_interval = std::chrono::hours(1);  // commits only when asked, in tests
        o.writeback_percent = 100;
        o.request_poll_interval = std::chrono::milliseconds(0);
        o.upload_threads = 3;
        o.fetch_threads = 2;
        o.owner_info = "test";
        return o;
    }

    std::shared_ptr<ThinVolume> open(std::uint64_t cache_pages = 64) {
        auto v = ThinVolume::open(Stores{objects, meta}, "vol", options(cache_pages));
        EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
        return v ? *v : nullptr;
    }

    // What a volume told its on_event, in order (it may tell from any thread).
    struct Events {
        std::mutex mutex;
        std::vector<std::string> told;
    };
    // open(), with the volume telling events.
    std::shared_ptr<ThinVolume> open_telling(Events& events) {
        ThinOptions o = options();
        o.on_event = [&events](const std::string& text) {
            std::lock_guard g(events.mutex);
            events.told.push_back(text);
        };
        auto v = ThinVolume::open(Stores{objects, meta}, "vol", std::move(o));
        EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
        return v ? *v : nullptr;
    }

    // Everything not committed is lost: the volume dies with every store call failing, then the
    // stores recover as a crash leaves them.
    void crash(std::shared_ptr<ThinVolume>& v) {
        plan->crash_at(plan->steps() + 1);
        v.reset();
        plan->crash_recover();
    }

    void expect_reads(Volume& v, const Model& m) {
        auto all = sync_read(v, 0, kSize);
        ASSERT_TRUE(all.has_value()) << all.error().message;
        ASSERT_EQ(all->size(), m.bytes.size());
        for (std::size_t i = 0; i < kSize; i += 512) {
            ASSERT_TRUE(std::equal(all->begin() + static_cast<std::ptrdiff_t>(i),
                                   all->begin() + static_cast<std::ptrdiff_t>(i + 512),
                                   m.bytes.begin() + static_cast<std::ptrdiff_t>(i)))
                << "block at byte " << i << " differs";
        }
    }

    std::shared_ptr<FaultPlan> plan;
    std::shared_ptr<MemoryObjectStore> objects;
    std::shared_ptr<MemoryMetaStore> meta;
};

TEST_F(ThinVolumeTest, NewVolumeReadsZerosAndIsUnmapped) {
    auto v = open();
    ASSERT_TRUE(v);
    EXPECT_EQ(v->geometry().size_bytes(), kSize);
    Model m;
    expect_reads(*v, m);
    auto ext = sync_status(*v, 0, kSize);
    ASSERT_EQ(ext.size(), 1u);
    EXPECT_FALSE(ext[0].mapped);
    EXPECT_EQ(ext[0].length_bytes, kSize);
    EXPECT_EQ(objects->object_count(), 0u);
}

TEST_F(ThinVolumeTest, WritesReadBackBeforeAndAfterCommitAndReopen) {
    auto v = open();
    Model m;
    // Unaligned to pages, spanning pages, partial pages, a whole page.
    for (auto [at, n, seed] : {std::tuple{512u, 1024u, 1u},
                               {kPage - 512, 2048u, 2u},
                               {5 * kPage, kPage, 3u},
                               {7 * kPage + 4096, 3 * kPage, 4u}}) {
        auto d = pattern(n, seed);
        ASSERT_TRUE(sync_write(*v, at, d));
        m.write(at, d);
    }
    expect_reads(*v, m);
    ASSERT_TRUE(sync_flush(*v));
    EXPECT_EQ(v->stats().generation, 1u);
    expect_reads(*v, m);
    v.reset();
    v = open();
    expect_reads(*v, m);
    auto ext = sync_status(*v, 0, 2 * kPage);
    ASSERT_EQ(ext.size(), 1u);
    EXPECT_TRUE(ext[0].mapped);
}

TEST_F(ThinVolumeTest, UnflushedWritesAreLostInACrashFlushedOnesAreNot) {
    auto v = open();
    Model m;
    auto a = pattern(kPage, 7);
    ASSERT_TRUE(sync_write(*v, 0, a));
    m.write(0, a);
    ASSERT_TRUE(sync_flush(*v));
    ASSERT_TRUE(sync_write(*v, kPage, pattern(kPage, 8)));  // never flushed
    crash(v);
    v = open();
    expect_reads(*v, m);
}

TEST_F(ThinVolumeTest, ALostLockFencesWritesAtOnceAndTheSuperblockStaysAsCommitted) {
    Events events;
    auto v = open_telling(events);
    ASSERT_TRUE(v);
    Model m;
    auto a = pattern(kPage, 11);
    ASSERT_TRUE(sync_write(*v, 0, a));
    m.write(0, a);
    ASSERT_TRUE(sync_flush(*v));
    auto before = meta->get(volume_key("vol"));
    ASSERT_TRUE(before && *before);

    // The lease runs out (another node may take the volume now).
    ASSERT_TRUE(meta->break_lock(volume_key("vol")));
    auto refused = sync_write(*v, kPage, pattern(kPage, 12));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::failed_precondition);
    EXPECT_NE(refused.error().message.find("lost its lock"), std::string::npos)
        << refused.error().message;
    EXPECT_FALSE(sync_write(*v, 0, pattern(512, 13), /*fua=*/true));
    EXPECT_FALSE(sync_flush(*v));
    expect_reads(*v, m);  // reads go on, from what was committed

    auto after = meta->get(volume_key("vol"));
    ASSERT_TRUE(after && *after);
    EXPECT_EQ((*after)->revision, (*before)->revision);
    EXPECT_EQ((*after)->value, (*before)->value);
    v.reset();
    // Said once, however many writes it refused; a fenced volume's failing commits add nothing.
    EXPECT_EQ(events.told, std::vector<std::string>{"volume vol: lost its lock (another node may own "
                                               "it now); refusing writes"});
}

TEST_F(ThinVolumeTest, ADirtyShareOfTheCacheStartsACommitInTheBackground) {
    ThinOptions o = options(16);
    o.writeback_percent = 25;  // 4 of 16 pages
    auto opened = ThinVolume::open(Stores{objects, meta}, "vol", o);
    ASSERT_TRUE(opened) << opened.error().message;
    auto v = std::move(*opened);
    auto generation = [&] {
        auto sb = meta->get(volume_key("vol"));
        return sb && *sb ? decode_superblock((*sb)->value)->generation : 0;
    };
    const std::uint64_t start = generation();
    Model m;
    for (std::uint64_t p = 0; p < 3; ++p) {
        auto d = pattern(kPage, static_cast<std::uint32_t>(p + 40));
        ASSERT_TRUE(sync_write(*v, p * kPage, d));
        m.write(p * kPage, d);
    }
    // Below the share: nothing moves without a flush (the timer is an hour away).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(generation(), start);
    auto d = pattern(kPage, 43);
    ASSERT_TRUE(sync_write(*v, 3 * kPage, d));
    m.write(3 * kPage, d);
    // The fourth dirty page starts a commit, with no flush asked for (bounded wait).
    for (int i = 0; i < 500 && generation() == start; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_GT(generation(), start);
    crash(v);
    v = open();
    expect_reads(*v, m);
}

TEST_F(ThinVolumeTest, FuaWriteIsDurableOnCompletion) {
    auto v = open();
    Model m;
    auto a = pattern(3000 / 512 * 512, 9);
    ASSERT_TRUE(sync_write(*v, 3 * kPage, a, /*fua=*/true));
    m.write(3 * kPage, a);
    crash(v);
    v = open();
    expect_reads(*v, m);
}

TEST_F(ThinVolumeTest, PartialWriteToAMappedPageReadsItFirst) {
    auto v = open();
    Model m;
    auto a = pattern(kPage, 10);
    ASSERT_TRUE(sync_write(*v, 2 * kPage, a));
    m.write(2 * kPage, a);
    ASSERT_TRUE(sync_flush(*v));
    v.reset();
    v = open();  // empty cache: the page must be fetched
    auto b = pattern(1024, 11);
    ASSERT_TRUE(sync_write(*v, 2 * kPage + 2048, b));
    m.write(2 * kPage + 2048, b);
    expect_reads(*v, m);
    ASSERT_TRUE(sync_flush(*v));
    v.reset();
    v = open();
    expect_reads(*v, m);
}

TEST_F(ThinVolumeTest, UnmapOfWholePagesWritesNoData) {
    auto v = open();
    Model m;
    for (std::uint64_t p = 0; p < 40; ++p) {
        auto d = pattern(kPage, static_cast<std::uint32_t>(100 + p));
        ASSERT_TRUE(sync_write(*v, p * kPage, d));
        m.write(p * kPage, d);
    }
    ASSERT_TRUE(sync_flush(*v));
    const std::size_t before = objects->object_count();
    // Unmap pages 1..34 and half of page 0 and of page 35.
    ASSERT_TRUE(sync_unmap(*v, kPage / 2, 35 * kPage));
    m.zero(kPage / 2, 35 * kPage);
    expect_reads(*v, m);
    ASSERT_TRUE(sync_flush(*v));
    // New objects: pages 0 and 35 (zeros written into them) and segments 0 and 2; none for
    // the 34 unmapped pages, and none for segment 1 (pages 16..31), all unmapped now.
    EXPECT_EQ(objects->object_count(), before + 2 + 2);
    EXPECT_EQ(v->superblock().segments[1].tag, 0u);
    auto ext = sync_status(*v, 0, kSize);
    ASSERT_EQ(ext.size(), 4u);
    EXPECT_TRUE(ext[0].mapped);
    EXPECT_EQ(ext[1].offset_bytes, kPage);
    EXPECT_EQ(ext[1].length_bytes, 34 * kPage);
    EXPECT_FALSE(ext[1].mapped);
    EXPECT_TRUE(ext[2].mapped);
    EXPECT_FALSE(ext[3].mapped);
    v.reset();
    v = open();
    expect_reads(*v, m);
    EXPECT_EQ(v->stats().mapped_pages, 6u);  // pages 0 and 35..39
}

TEST_F(ThinVolumeTest, UnmapEverythingLeavesNoSegments) {
    auto v = open();
    ASSERT_TRUE(sync_write(*v, 0, pattern(kPage * 20, 1)));
    ASSERT_TRUE(sync_flush(*v));
    ASSERT_TRUE(sync_unmap(*v, 0, kSize));
    ASSERT_TRUE(sync_flush(*v));
    for (const SegmentRef& s : v->superblock().segments) EXPECT_EQ(s.tag, 0u);
    Model m;
    expect_reads(*v, m);
}

TEST_F(ThinVolumeTest, AFullCacheCommitsAndNothingIsLost) {
    auto v = open(/*cache_pages=*/16);
    Model m;
    for (std::uint64_t p = 0; p < 100; ++p) {
        auto d = pattern(kPage, static_cast<std::uint32_t>(p));
        ASSERT_TRUE(sync_write(*v, p * kPage, d));
        m.write(p * kPage, d);
    }
    EXPECT_GE(v->stats().commits, 5u);  // pressure commits: 100 pages through 16
    EXPECT_LE(v->stats().cached_bytes, 16u * kPage);
    expect_reads(*v, m);
    ASSERT_TRUE(sync_flush(*v));
    v.reset();
    v = open(16);
    expect_reads(*v, m);
}

TEST_F(ThinVolumeTest, WritesDuringCommitsFromManyThreads) {
    auto v = open(/*cache_pages=*/24);
    // Each thread owns its own blocks, so the final content is known; flushes run alongside.
    constexpr int kThreads = 4;
    std::vector<Model> models(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<std::uint32_t>(t));
            for (int i = 0; i < 300; ++i) {
                // Blocks whose index % kThreads == t, one to three blocks apart.
                const std::uint64_t block = (rng() % (kSize / 512 / kThreads)) * kThreads + t;
                auto d = pattern(512, rng());
                ASSERT_TRUE(sync_write(*v, block * 512, d));
                models[t].write(block * 512, d);
                if (i % 50 == 0) {
                    ASSERT_TRUE(sync_flush(*v));
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    Model m;
    for (std::uint64_t b = 0; b < kSize / 512; ++b) {
        const auto& src = models[b % kThreads].bytes;
        std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(b * 512), 512,
                    m.bytes.begin() + static_cast<std::ptrdiff_t>(b * 512));
    }
    expect_reads(*v, m);
    ASSERT_TRUE(sync_flush(*v));
    v.reset();
    v = open();
    expect_reads(*v, m);
}

TEST_F(ThinVolumeTest, GrowKeepsDataAndTellsTheListener) {
    auto v = open();
    std::atomic<int> resized{0};
    v->set_resize_listener([&] { ++resized; });
    auto d = pattern(kPage, 5);
    ASSERT_TRUE(sync_write(*v, kSize - kPage, d));
    EXPECT_FALSE(v->grow(kSize - 512).has_value());      // shrinking
    EXPECT_FALSE(v->grow(kSize * 2 + 100).has_value());  // not whole blocks
    ASSERT_TRUE(v->grow(kSize * 2 + 512));
    EXPECT_EQ(resized.load(), 1);
    EXPECT_EQ(v->geometry().size_bytes(), kSize * 2 + 512);
    auto tail = pattern(512, 6);
    ASSERT_TRUE(sync_write(*v, kSize * 2, tail));
    ASSERT_TRUE(sync_flush(*v));
    v.reset();
    v = open();
    EXPECT_EQ(v->geometry().size_bytes(), kSize * 2 + 512);
    auto back = sync_read(*v, kSize - kPage, kPage);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, d);
    auto t = sync_read(*v, kSize * 2, 512);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(*t, tail);
    auto zeros = sync_read(*v, kSize, kPage);
    ASSERT_TRUE(zeros.has_value());
    EXPECT_EQ(*zeros, std::vector<std::uint8_t>(kPage, 0));
}

TEST_F(ThinVolumeTest, SnapshotRecordsTheCommittedGeneration) {
    auto v = open();
    auto a = pattern(kPage, 1);
    ASSERT_TRUE(sync_write(*v, 0, a));  // not flushed: the snapshot commits first
    ASSERT_TRUE(v->snapshot("s1"));
    EXPECT_FALSE(v->snapshot("s1").has_value());  // exists
    EXPECT_FALSE(v->snapshot("bad/name").has_value());
    ASSERT_TRUE(sync_write(*v, 0, pattern(kPage, 2)));
    ASSERT_TRUE(sync_flush(*v));
    auto rec = meta->get(snapshot_key("vol", "s1"));
    ASSERT_TRUE(rec.has_value() && rec->has_value());
    auto sb = decode_superblock((*rec)->value);
    ASSERT_TRUE(sb.has_value()) << sb.error().message;
    EXPECT_EQ(sb->snapshot, "s1");
    EXPECT_EQ(sb->generation, 1u);
    // The snapshot's map still names the old page, and its object still holds the old data.
    ASSERT_NE(sb->segments[0].tag, 0u);
    auto bytes = objects->get_all(object_key(sb->segments[0].tag, sb->segments[0].id));
    ASSERT_TRUE(bytes.has_value());
    auto seg = decode_segment(*bytes, 0, kPagesPerSegment);
    ASSERT_TRUE(seg.has_value());
    const PageRef& r = seg->entries[0];
    std::vector<std::uint8_t> old(kPage);
    ASSERT_TRUE(objects->get(object_key(r.tag, r.id), r.offset_bytes, old));
    EXPECT_EQ(old, a);
}

TEST_F(ThinVolumeTest, ASecondOpenIsRefusedWhileTheFirstHoldsTheVolume) {
    auto v = open();
    auto second = ThinVolume::open(Stores{objects, meta}, "vol", options());
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code, Errc::failed_precondition);
    EXPECT_NE(second.error().message.find("test"), std::string::npos) << second.error().message;
    v.reset();
    EXPECT_TRUE(ThinVolume::open(Stores{objects, meta}, "vol", options()).has_value());
}

TEST_F(ThinVolumeTest, MissingVolumeIsNotFound) {
    auto v = ThinVolume::open(Stores{objects, meta}, "nope", options());
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, Errc::not_found);
}

TEST_F(ThinVolumeTest, AnotherWriterOfTheSuperblockFencesTheVolume) {
    Events events;
    auto v = open_telling(events);
    ASSERT_TRUE(v);
    ASSERT_TRUE(sync_write(*v, 0, pattern(kPage, 1)));
    ASSERT_TRUE(sync_flush(*v));
    // Someone else swaps the superblock (a node that took the volume over).
    auto cur = meta->get(volume_key("vol"));
    ASSERT_TRUE(cur.has_value() && cur->has_value());
    auto sb = decode_superblock((*cur)->value);
    sb->epoch += 1;
    ASSERT_TRUE(meta->put_if(volume_key("vol"), encode_superblock(*sb), (*cur)->revision));
    ASSERT_TRUE(sync_write(*v, kPage, pattern(kPage, 2)));
    auto st = sync_flush(*v);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, Errc::failed_precondition);
    EXPECT_FALSE(sync_write(*v, 0, pattern(512, 3)).has_value());
    EXPECT_FALSE(sync_unmap(*v, 0, kPage).has_value());
    EXPECT_FALSE(sync_flush(*v).has_value());
    // And it never wrote the superblock again.
    auto after = meta->get(volume_key("vol"));
    EXPECT_EQ((*after)->value, encode_superblock(*sb));
    v.reset();
    // Found by a commit, not by a write: the operator hears of it once, with the reason.
    EXPECT_EQ(events.told, std::vector<std::string>{"volume vol: its superblock was changed by "
                                               "another owner; refusing writes"});
}

TEST_F(ThinVolumeTest, AFailedCommitFailsTheFlushAndTheNextOneSucceeds) {
    Events events;
    auto v = open_telling(events);
    ASSERT_TRUE(v);
    Model m;
    auto a = pattern(2 * kPage, 1);
    ASSERT_TRUE(sync_write(*v, 0, a));
    m.write(0, a);
    ASSERT_TRUE(sync_flush(*v));
    auto b = pattern(2 * kPage, 2);
    ASSERT_TRUE(sync_write(*v, 0, b));
    m.write(0, b);
    plan->fail_at(plan->steps() + 2);  // the second page's upload
    EXPECT_FALSE(sync_flush(*v).has_value());
    ASSERT_TRUE(sync_flush(*v));
    ASSERT_TRUE(sync_write(*v, 0, a));
    m.write(0, a);
    ASSERT_TRUE(sync_flush(*v));
    v.reset();
    // The operator hears of the failure once and of the recovery once; good commits are quiet.
    ASSERT_EQ(events.told.size(), 2u);
    EXPECT_TRUE(events.told[0].starts_with("volume vol: commit failed (retrying): "))
        << events.told[0];
    EXPECT_EQ(events.told[1], "volume vol: commits succeed again");
    v = open();
    expect_reads(*v, m);
}

// The crash sweep. Start: generation 1 with pages 0..39 written. The operation: partial
// writes to mapped pages, whole-page writes, an unmap, then a flush. A crash at each
// store call in turn (then a restart) must leave exactly the start or exactly the end state,
// and the end state whenever the flush had succeeded.
TEST_F(ThinVolumeTest, CrashAtEveryStepOfACommitLeavesAWholeGeneration) {
    auto setup = [&](Model& start) {
        fresh();
        auto v = open();
        for (std::uint64_t p = 0; p < 40; ++p) {
            auto d = pattern(kPage, static_cast<std::uint32_t>(p));
            ASSERT_TRUE(sync_write(*v, p * kPage, d));
            start.write(p * kPage, d);
        }
        ASSERT_TRUE(sync_flush(*v));
    };
    auto operate = [&](ThinVolume& v, Model& end) -> Status {
        auto a = pattern(1024, 1000);
        if (auto st = sync_write(v, 3 * kPage + 1024, a); !st) return st;
        end.write(3 * kPage + 1024, a);
        auto b = pattern(2 * kPage, 1001);
        if (auto st = sync_write(v, 60 * kPage, b); !st) return st;
        end.write(60 * kPage, b);
        if (auto st = sync_unmap(v, 10 * kPage, 20 * kPage); !st) return st;
        end.zero(10 * kPage, 20 * kPage);
        return sync_flush(v);
    };

    // Count the steps once, without faults.
    std::uint64_t count = 0;
    {
        Model start;
        setup(start);
        auto v = open();
        plan->reset();
        Model end = start;
        ASSERT_TRUE(operate(*v, end));
        count = plan->steps();
    }
    ASSERT_GT(count, 5u);
    for (std::uint64_t n = 1; n <= count + 1; ++n) {
        SCOPED_TRACE("crash at step " + std::to_string(n));
        Model start;
        setup(start);
        auto v = open();
        plan->reset();
        plan->crash_at(n);
        Model end = start;
        const bool flushed = operate(*v, end).has_value();
        v.reset();
        plan->crash_recover();
        v = open();
        ASSERT_TRUE(v);
        auto all = sync_read(*v, 0, kSize);
        ASSERT_TRUE(all.has_value()) << all.error().message;
        const bool is_end = *all == end.bytes;
        const bool is_start = *all == start.bytes;
        EXPECT_TRUE(is_end || (!flushed && is_start))
            << "flushed=" << flushed << " is_start=" << is_start << " is_end=" << is_end;
        // (A crash before the first write changed anything leaves end == start.)
        if (is_end != is_start) {
            EXPECT_EQ(v->stats().generation, is_end ? 2u : 1u);
        }
    }
}

// A failure (not a crash) at every step: the flush may fail, a second flush then succeeds and
// everything is there after a restart.
TEST_F(ThinVolumeTest, FailureAtEveryStepOfACommitIsRetried) {
    for (std::uint64_t n = 1; n <= 40; ++n) {
        SCOPED_TRACE("failure at step " + std::to_string(n));
        fresh();
        auto v = open();
        Model m;
        for (std::uint64_t p = 0; p < 12; ++p) {
            auto d = pattern(kPage / 2, static_cast<std::uint32_t>(p + n));
            ASSERT_TRUE(sync_write(*v, p * kPage * 3, d));
            m.write(p * kPage * 3, d);
        }
        plan->reset();
        plan->fail_at(n, n % 2 ? Errc::unavailable : Errc::io_error);
        (void)sync_flush(*v);
        ASSERT_TRUE(sync_flush(*v));
        plan->reset();  // a fault planned past the flushes is not for the reopen
        v.reset();
        v = open();
        expect_reads(*v, m);
    }
}

// The superblock swap takes effect but its answer is lost: the volume finds out, and neither
// fences itself nor loses anything.
TEST_F(ThinVolumeTest, ALostAnswerToTheSuperblockSwapIsNotAConflict) {
    auto v = open();
    Model m;
    auto a = pattern(kPage, 1);
    ASSERT_TRUE(sync_write(*v, 0, a));
    m.write(0, a);
    plan->reset();
    ASSERT_TRUE(sync_flush(*v));
    std::uint64_t put_if_step = 0;
    for (const std::string& line : plan->trace())
        if (line.find("put_if") != std::string::npos) put_if_step = std::stoull(line);
    ASSERT_GT(put_if_step, 0u);
    // Same shape again, with the swap's answer lost, and the check after it failing too.
    auto b = pattern(kPage, 2);
    ASSERT_TRUE(sync_write(*v, kPage, b));
    m.write(kPage, b);
    plan->reset();
    plan->fail_after_effect_at(put_if_step);
    plan->fail_at(put_if_step + 1);
    EXPECT_FALSE(sync_flush(*v).has_value());
    auto c = pattern(kPage, 3);
    ASSERT_TRUE(sync_write(*v, 2 * kPage, c));
    m.write(2 * kPage, c);
    ASSERT_TRUE(sync_flush(*v));
    v.reset();
    v = open();
    expect_reads(*v, m);
}

}  // namespace
}  // namespace itd::volume::thin
