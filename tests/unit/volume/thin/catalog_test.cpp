// Volume management on a store (catalog.h): listing, snapshots and clones, deletion and its
// refusals, growing, garbage collection, raw image import and export. Each test runs on the
// in-memory fakes and on the local store (DirObjectStore + FileMetaStore in a temp dir).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>

#include "thin/fake_stores.h"
#include "volume/thin/catalog.h"
#include "volume/thin/local_store.h"
#include "volume/thin/owner_request.h"
#include "volume/thin/segment.h"
#include "volume/thin/thin_volume.h"

namespace itd::volume::thin {
namespace {

using namespace std::chrono_literals;
using testing::MemoryMetaStore;
using testing::MemoryObjectStore;
namespace fs = std::filesystem;

constexpr std::uint32_t kPage = 4096;
constexpr std::uint32_t kPagesPerSegment = 16;
constexpr std::uint64_t kSize = 64 * kPage;  // 4 segments

Status sync_write(Volume& v, std::uint64_t at, const std::vector<std::uint8_t>& data) {
    std::promise<Status> p;
    v.write(at, data, WriteFlags{}, [&](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
}

std::vector<std::uint8_t> sync_read(Volume& v, std::uint64_t at, std::size_t n) {
    std::vector<std::uint8_t> out(n, 0xEE);
    std::promise<Status> p;
    v.read(at, out, [&](Status st) { p.set_value(std::move(st)); });
    auto st = p.get_future().get();
    EXPECT_TRUE(st) << st.error().message;
    return out;
}

Status sync_flush(Volume& v) {
    std::promise<Status> p;
    v.flush([&](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> out(n);
    std::mt19937 rng(seed);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng());
    return out;
}

std::vector<std::uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

enum class Kind { fake, local };

class CatalogTest : public ::testing::TestWithParam<Kind> {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/itd-catalog-test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        if (GetParam() == Kind::fake) {
            fake_objects_ = std::make_shared<MemoryObjectStore>();
            stores_ = Stores{fake_objects_, std::make_shared<MemoryMetaStore>()};
        } else {
            auto s = open_local_store(dir_ + "/store", true);
            ASSERT_TRUE(s) << s.error().message;
            stores_ = *s;
        }
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    void create(const std::string& name, std::uint64_t size = kSize) {
        CreateParams p;
        p.name = name;
        p.size_bytes = size;
        p.page_size_bytes = kPage;
        p.pages_per_segment = kPagesPerSegment;
        auto sb = create_volume(*stores_.meta, p);
        ASSERT_TRUE(sb) << sb.error().message;
    }

    std::shared_ptr<ThinVolume> open(const std::string& name, std::string owner = "test owner") {
        ThinOptions options;
        options.cache_bytes = 64 * kPage;
        options.owner_info = std::move(owner);
        options.request_poll_interval = 10ms;
        auto vol = ThinVolume::open(stores_, name, options);
        EXPECT_TRUE(vol) << vol.error().message;
        return vol ? *vol : nullptr;
    }

    // Writes data at the volume's offset and commits, then closes it.
    void write_closed(const std::string& name, std::uint64_t at,
                      const std::vector<std::uint8_t>& data) {
        auto vol = open(name);
        ASSERT_TRUE(vol);
        ASSERT_TRUE(sync_write(*vol, at, data));
        ASSERT_TRUE(sync_flush(*vol));
    }

    std::vector<std::uint8_t> read_closed(const std::string& name, std::uint64_t at,
                                          std::size_t n) {
        auto vol = open(name);
        if (!vol) return {};
        return sync_read(*vol, at, n);
    }

    std::size_t object_count() {
        auto objects = stores_.objects->list("objects/");
        EXPECT_TRUE(objects);
        return objects ? objects->size() : 0;
    }

    std::string dir_;
    Stores stores_;
    std::shared_ptr<MemoryObjectStore> fake_objects_;
};

INSTANTIATE_TEST_SUITE_P(Stores, CatalogTest, ::testing::Values(Kind::fake, Kind::local),
                         [](const ::testing::TestParamInfo<Kind>& p) {
                             return p.param == Kind::fake ? "Fakes" : "LocalStore";
                         });

TEST_P(CatalogTest, ListShowsVolumesCountsAndOwner) {
    create("b");
    create("a", 2 * kSize);
    // Pages 0, 1 (segment 0) and 20 (segment 1): 3 page objects + 2 segment objects.
    write_closed("a", 0, pattern(2 * kPage, 1));
    write_closed("a", 20 * kPage, pattern(kPage, 2));
    auto held = open("b", "itd pid 7 on box");
    ASSERT_TRUE(held);

    auto list = list_volumes(stores_);
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 2u);
    const VolumeInfo& a = (*list)[0];
    EXPECT_EQ(a.sb.name, "a");
    EXPECT_EQ(a.sb.size_bytes, 2 * kSize);
    EXPECT_EQ(a.mapped_bytes, 3 * kPage);
    EXPECT_EQ(a.objects, 5u);
    EXPECT_EQ(a.sb.generation, 2u);
    EXPECT_FALSE(a.open_by);
    const VolumeInfo& b = (*list)[1];
    EXPECT_EQ(b.sb.name, "b");
    EXPECT_EQ(b.mapped_bytes, 0u);
    EXPECT_EQ(b.objects, 0u);
    ASSERT_TRUE(b.open_by);
    EXPECT_EQ(*b.open_by, "itd pid 7 on box");
}

// The whole story: snapshot, overwrite, clone; the clone reads the old data, the volume the
// new; the snapshot survives gc; everything reads back after gc with grace 0.
TEST_P(CatalogTest, SnapshotOverwriteCloneGc) {
    create("vol");
    const auto old_data = pattern(3 * kPage, 10);
    const auto new_data = pattern(kPage, 11);
    write_closed("vol", 0, old_data);

    ASSERT_TRUE(snapshot_volume(stores_, "vol", "s1", 5s));  // offline: under the lock
    {
        auto vol = open("vol");
        ASSERT_TRUE(vol);
        ASSERT_TRUE(sync_write(*vol, kPage, new_data));  // overwrites page 1
        ASSERT_TRUE(sync_flush(*vol));
        // Online: through the owner, which commits first.
        ASSERT_TRUE(sync_write(*vol, 40 * kPage, new_data));
        auto st = snapshot_volume(stores_, "vol", "s2", 10s);
        ASSERT_TRUE(st) << st.error().message;
    }
    auto snaps = list_snapshots(stores_, "vol");
    ASSERT_TRUE(snaps) << snaps.error().message;
    ASSERT_EQ(snaps->size(), 2u);
    EXPECT_EQ((*snaps)[0].sb.snapshot, "s1");
    EXPECT_EQ((*snaps)[0].mapped_bytes, 3 * kPage);
    EXPECT_EQ((*snaps)[1].sb.snapshot, "s2");
    EXPECT_EQ((*snaps)[1].mapped_bytes, 4 * kPage);
    EXPECT_GT((*snaps)[0].sb.snapshot_created_unix_s, 0u);

    auto clone = clone_snapshot(stores_, "vol", "s1", "old");
    ASSERT_TRUE(clone) << clone.error().message;
    EXPECT_EQ(clone->origin, "vol@s1");
    EXPECT_EQ(clone->generation, 0u);
    EXPECT_NE(clone->tag, (*snaps)[0].sb.tag);

    auto expected_new = old_data;
    std::copy(new_data.begin(), new_data.end(), expected_new.begin() + kPage);
    EXPECT_EQ(read_closed("old", 0, 3 * kPage), old_data);
    EXPECT_EQ(read_closed("vol", 0, 3 * kPage), expected_new);
    // The clone writes its own objects; the volume does not see them.
    write_closed("old", 2 * kPage, new_data);
    EXPECT_EQ(read_closed("vol", 2 * kPage, kPage),
              std::vector<std::uint8_t>(old_data.begin() + 2 * kPage, old_data.end()));

    // Nothing is garbage yet: what the overwrite replaced, s1 still names.
    auto stats = gc(stores_, 0s);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->swept_objects, 0u);
    const std::size_t before = object_count();

    // Deleting s2 frees nothing s1, vol or old still name; deleting the clone and s1 frees
    // the old page 1 and the old segments.
    ASSERT_TRUE(delete_snapshot(stores_, "vol", "s2"));
    ASSERT_TRUE(delete_volume(stores_, "old"));
    ASSERT_TRUE(delete_snapshot(stores_, "vol", "s1"));
    stats = gc(stores_, 0s);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_GT(stats->swept_objects, 0u);
    EXPECT_GT(stats->swept_bytes, 0u);
    EXPECT_EQ(object_count(), before - stats->swept_objects);
    auto list = list_volumes(stores_);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ(stats->marked_objects, (*list)[0].objects);
    EXPECT_EQ(object_count(), (*list)[0].objects) << "exactly what vol names is left";
    EXPECT_EQ(read_closed("vol", 0, 3 * kPage), expected_new);
    EXPECT_EQ(read_closed("vol", 40 * kPage, kPage), new_data);
}

TEST_P(CatalogTest, GcKeepsWhatSnapshotsAndClonesName) {
    create("vol");
    const auto a = pattern(2 * kPage, 20);
    const auto b = pattern(2 * kPage, 21);
    write_closed("vol", 0, a);
    ASSERT_TRUE(snapshot_volume(stores_, "vol", "s", 5s));
    ASSERT_TRUE(clone_snapshot(stores_, "vol", "s", "c"));
    write_closed("vol", 0, b);
    write_closed("c", 16 * kPage, b);
    auto stats = gc(stores_, 0s);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(read_closed("vol", 0, 2 * kPage), b);
    EXPECT_EQ(read_closed("c", 0, 2 * kPage), a);
    EXPECT_EQ(read_closed("c", 16 * kPage, 2 * kPage), b);
    VolumeRef ref{"vol", "s"};
    const std::string out = dir_ + "/s.img";
    ASSERT_TRUE(export_volume(stores_, ref, out, nullptr));
    auto image = read_file(out);
    ASSERT_EQ(image.size(), kSize);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), image.begin()));
}

TEST_P(CatalogTest, GcRefusesShortGraceWhileOpen) {
    create("vol");
    auto held = open("vol", "itd pid 9 on box");
    ASSERT_TRUE(held);
    auto stats = gc(stores_, 60s);
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code, Errc::failed_precondition);
    EXPECT_TRUE(contains(stats.error().message, "itd pid 9 on box")) << stats.error().message;
    EXPECT_TRUE(contains(stats.error().message, "--grace")) << stats.error().message;
    // A long grace is fine: nothing young is touched.
    stats = gc(stores_, 3600s);
    ASSERT_TRUE(stats) << stats.error().message;
}

TEST_P(CatalogTest, GcLeavesYoungGarbage) {
    create("vol");
    write_closed("vol", 0, pattern(kPage, 30));
    ASSERT_TRUE(stores_.objects->put(object_key(0x1234, 1), pattern(100, 31)));
    auto stats = gc(stores_, 3600s);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->swept_objects, 0u);
    EXPECT_EQ(stats->kept_young, 1u);
    stats = gc(stores_, 0s);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->swept_objects, 1u);
    EXPECT_EQ(stats->swept_bytes, 100u);
    EXPECT_EQ(read_closed("vol", 0, kPage), pattern(kPage, 30));
}

TEST_P(CatalogTest, GcStopsOnAMissingSegment) {
    create("vol");
    write_closed("vol", 0, pattern(kPage, 40));
    ASSERT_TRUE(stores_.objects->put(object_key(0x1234, 1), pattern(100, 31)));
    auto list = list_volumes(stores_);
    ASSERT_TRUE(list);
    const SegmentRef seg = (*list)[0].sb.segments[0];
    ASSERT_NE(seg.tag, 0u);
    ASSERT_TRUE(stores_.objects->remove(object_key(seg.tag, seg.id)));
    auto stats = gc(stores_, 0s);
    ASSERT_FALSE(stats);
    EXPECT_TRUE(contains(stats.error().message, "removes nothing")) << stats.error().message;
    auto objects = stores_.objects->list("objects/");
    ASSERT_TRUE(objects);
    EXPECT_EQ(objects->size(), 2u) << "the page and the stray object are still there";
}

TEST_P(CatalogTest, DeleteRefusals) {
    create("vol");
    {
        auto held = open("vol", "itd pid 11 on box");
        ASSERT_TRUE(held);
        auto st = delete_volume(stores_, "vol");
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, Errc::failed_precondition);
        EXPECT_TRUE(contains(st.error().message, "itd pid 11 on box")) << st.error().message;
    }
    ASSERT_TRUE(snapshot_volume(stores_, "vol", "mon", 5s));
    ASSERT_TRUE(snapshot_volume(stores_, "vol", "tue", 5s));
    auto st = delete_volume(stores_, "vol");
    ASSERT_FALSE(st);
    EXPECT_TRUE(contains(st.error().message, "mon, tue")) << st.error().message;
    EXPECT_TRUE(contains(st.error().message, "delete them first")) << st.error().message;

    ASSERT_TRUE(clone_snapshot(stores_, "vol", "mon", "c1"));
    ASSERT_TRUE(clone_snapshot(stores_, "vol", "mon", "c2"));
    st = delete_snapshot(stores_, "vol", "mon");
    ASSERT_FALSE(st);
    EXPECT_TRUE(contains(st.error().message, "c1, c2")) << st.error().message;

    st = delete_volume(stores_, "nope");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::not_found);
    EXPECT_TRUE(contains(st.error().message, "volume nope does not exist"));
    st = delete_snapshot(stores_, "vol", "wed");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::not_found);
    EXPECT_TRUE(contains(st.error().message, "vol@wed")) << st.error().message;

    // In order, everything goes.
    ASSERT_TRUE(delete_volume(stores_, "c1"));
    ASSERT_TRUE(delete_volume(stores_, "c2"));
    ASSERT_TRUE(delete_snapshot(stores_, "vol", "mon"));
    ASSERT_TRUE(delete_snapshot(stores_, "vol", "tue"));
    ASSERT_TRUE(delete_volume(stores_, "vol"));
    auto list = list_volumes(stores_);
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->empty());
    EXPECT_FALSE(ThinVolume::open(stores_, "vol", ThinOptions{}));
}

TEST_P(CatalogTest, SnapshotAndCloneErrors) {
    create("vol");
    auto st = snapshot_volume(stores_, "nope", "s", 1s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::not_found);
    st = snapshot_volume(stores_, "vol", "bad/name", 1s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::invalid_argument);
    ASSERT_TRUE(snapshot_volume(stores_, "vol", "s", 1s));
    st = snapshot_volume(stores_, "vol", "s", 1s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::failed_precondition);
    EXPECT_TRUE(contains(st.error().message, "vol@s already exists")) << st.error().message;

    auto c = clone_snapshot(stores_, "vol", "t", "c");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::not_found);
    c = clone_snapshot(stores_, "vol", "s", "vol");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::failed_precondition);
    EXPECT_TRUE(contains(c.error().message, "volume vol already exists")) << c.error().message;

    auto none = list_snapshots(stores_, "nope");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, Errc::not_found);
}

TEST_P(CatalogTest, GrowOfflineAndOnline) {
    create("vol");
    const auto data = pattern(kPage, 50);
    write_closed("vol", 63 * kPage, data);  // the last page
    ASSERT_TRUE(grow_volume(stores_, "vol", 2 * kSize, 1s));
    auto list = list_volumes(stores_);
    ASSERT_TRUE(list);
    EXPECT_EQ((*list)[0].sb.size_bytes, 2 * kSize);
    EXPECT_EQ((*list)[0].sb.segments.size(), 8u);
    {
        auto vol = open("vol");
        ASSERT_TRUE(vol);
        EXPECT_EQ(vol->geometry().size_bytes(), 2 * kSize);
        EXPECT_EQ(sync_read(*vol, 63 * kPage, kPage), data);
        EXPECT_EQ(sync_read(*vol, 64 * kPage, kPage), std::vector<std::uint8_t>(kPage, 0));
        // Online: the owner grows it.
        auto st = grow_volume(stores_, "vol", 3 * kSize, 10s);
        ASSERT_TRUE(st) << st.error().message;
        EXPECT_EQ(vol->geometry().size_bytes(), 3 * kSize);
        st = grow_volume(stores_, "vol", kSize, 10s);
        ASSERT_FALSE(st);
        EXPECT_TRUE(contains(st.error().message, "cannot shrink")) << st.error().message;
    }
    auto st = grow_volume(stores_, "vol", kSize, 1s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::invalid_argument);
    st = grow_volume(stores_, "vol", 3 * kSize + 100, 1s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::invalid_argument);
    ASSERT_TRUE(grow_volume(stores_, "vol", 3 * kSize, 1s)) << "the same size: nothing to do";
    st = grow_volume(stores_, "nope", 3 * kSize, 1s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::not_found);
}

TEST_P(CatalogTest, ImportExportRoundTripIsSparse) {
    // 40 pages and a half: random, with zero runs (whole pages and a partial one).
    std::vector<std::uint8_t> file = pattern(40 * kPage + kPage / 2, 60);
    std::fill_n(file.begin() + 5 * kPage, 10 * kPage, 0);  // pages 5..14: holes
    std::fill_n(file.begin() + 20 * kPage, kPage / 2, 0);  // half of page 20: data
    const std::string in = dir_ + "/in.img";
    write_file(in, file);
    CreateParams params;
    params.page_size_bytes = kPage;
    params.pages_per_segment = kPagesPerSegment;
    std::uint64_t last_done = 0, last_total = 0;
    auto st = import_volume(stores_, "imp", in, params, [&](std::uint64_t d, std::uint64_t t) {
        EXPECT_GE(d, last_done);
        last_done = d;
        last_total = t;
    });
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(last_done, file.size());
    EXPECT_EQ(last_total, file.size());

    auto list = list_volumes(stores_);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].sb.size_bytes, file.size());  // 512-byte blocks: already whole
    EXPECT_EQ((*list)[0].mapped_bytes, 31 * kPage) << "zero pages stay unmapped";
    EXPECT_FALSE((*list)[0].open_by) << "the import closed the volume";

    const std::string out = dir_ + "/out.img";
    last_done = 0;
    st = export_volume(stores_, VolumeRef{"imp", ""}, out, [&](std::uint64_t d, std::uint64_t t) {
        last_done = d;
        last_total = t;
    });
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(last_done, file.size());
    EXPECT_EQ(read_file(out), file);
    struct stat s {};
    ASSERT_EQ(stat(out.c_str(), &s), 0);
    EXPECT_LT(static_cast<std::uint64_t>(s.st_blocks) * 512, file.size() - 8 * kPage)
        << "the unmapped pages are holes";

    // Importing again over it (without --create) replaces the contents: zero pages unmapped.
    std::vector<std::uint8_t> second(file.size(), 0);
    std::fill_n(second.begin() + 7 * kPage, kPage, 0x5A);
    write_file(in, second);
    st = import_volume(stores_, "imp", in, std::nullopt, nullptr);
    ASSERT_TRUE(st) << st.error().message;
    ASSERT_TRUE(export_volume(stores_, VolumeRef{"imp", ""}, out, nullptr));
    EXPECT_EQ(read_file(out), second);
    list = list_volumes(stores_);
    ASSERT_TRUE(list);
    // Page 7, and the last page: it is partly beyond the volume's end, so it cannot be
    // unmapped, only zeroed.
    EXPECT_EQ((*list)[0].mapped_bytes, 2 * kPage);
}

TEST_P(CatalogTest, ImportRefusals) {
    create("vol");
    const std::string in = dir_ + "/in.img";
    write_file(in, pattern(kSize + 512, 70));
    auto st = import_volume(stores_, "vol", in, std::nullopt, nullptr);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::failed_precondition);
    EXPECT_TRUE(contains(st.error().message, "larger than volume vol")) << st.error().message;
    EXPECT_TRUE(contains(st.error().message, "grow")) << st.error().message;

    write_file(in, pattern(kPage, 71));
    {
        auto held = open("vol", "itd pid 12 on box");
        ASSERT_TRUE(held);
        st = import_volume(stores_, "vol", in, std::nullopt, nullptr);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, Errc::failed_precondition);
        EXPECT_TRUE(contains(st.error().message, "itd pid 12 on box")) << st.error().message;
    }
    CreateParams params;
    params.page_size_bytes = kPage;
    st = import_volume(stores_, "vol", in, params, nullptr);
    ASSERT_FALSE(st);
    EXPECT_TRUE(contains(st.error().message, "already exists")) << st.error().message;
    st = import_volume(stores_, "other", in, std::nullopt, nullptr);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::not_found);
    st = import_volume(stores_, "vol", dir_ + "/missing.img", std::nullopt, nullptr);
    ASSERT_FALSE(st);

    // A file that is not whole blocks: the volume is rounded up, the tail reads as zeros.
    auto odd = pattern(3 * kPage + 100, 72);
    write_file(in, odd);
    params.block_size_bytes = 4096;
    st = import_volume(stores_, "odd", in, params, nullptr);
    ASSERT_TRUE(st) << st.error().message;
    const std::string out = dir_ + "/odd.img";
    ASSERT_TRUE(export_volume(stores_, VolumeRef{"odd", ""}, out, nullptr));
    auto image = read_file(out);
    ASSERT_EQ(image.size(), 4u * kPage);
    odd.resize(4 * kPage, 0);
    EXPECT_EQ(image, odd);
}

TEST_P(CatalogTest, ExportErrors) {
    create("vol");
    const std::string out = dir_ + "/out.img";
    auto st = export_volume(stores_, VolumeRef{"vol", "nope"}, out, nullptr);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::not_found);
    st = export_volume(stores_, VolumeRef{"nope", ""}, out, nullptr);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::not_found);
    st = export_volume(stores_, VolumeRef{"vol", ""}, dir_ + "/no/such/dir/x.img", nullptr);
    ASSERT_FALSE(st);
    // An empty volume exports as one hole.
    ASSERT_TRUE(export_volume(stores_, VolumeRef{"vol", ""}, out, nullptr));
    EXPECT_EQ(read_file(out), std::vector<std::uint8_t>(kSize, 0));
}

TEST_P(CatalogTest, ExportDetectsDamagedPages) {
    create("vol");
    write_closed("vol", 3 * kPage, pattern(kPage, 80));
    auto list = list_volumes(stores_);
    ASSERT_TRUE(list);
    const SegmentRef seg = (*list)[0].sb.segments[0];
    auto bytes = stores_.objects->get_all(object_key(seg.tag, seg.id));
    ASSERT_TRUE(bytes);
    auto segment = decode_segment(*bytes, 0, kPagesPerSegment);
    ASSERT_TRUE(segment);
    const PageRef ref = segment->entries[3];
    ASSERT_TRUE(ref.mapped());
    auto damaged = pattern(kPage, 81);
    ASSERT_TRUE(stores_.objects->put(object_key(ref.tag, ref.id), damaged));
    auto st = export_volume(stores_, VolumeRef{"vol", ""}, dir_ + "/out.img", nullptr);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::io_error);
    EXPECT_TRUE(contains(st.error().message, "page 3")) << st.error().message;
    EXPECT_TRUE(contains(st.error().message, "CRC32C")) << st.error().message;
}

TEST(VolumeRefTest, Parses) {
    auto r = parse_volume_ref("vol");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->volume, "vol");
    EXPECT_TRUE(r->snapshot.empty());
    r = parse_volume_ref("vol@s1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->snapshot, "s1");
    EXPECT_EQ(r->text(), "vol@s1");
    EXPECT_FALSE(parse_volume_ref("vol@"));
    EXPECT_FALSE(parse_volume_ref("@s"));
    EXPECT_FALSE(parse_volume_ref("a@b@c"));
    EXPECT_FALSE(parse_volume_ref("a/b"));
}

// With the fakes' clock: an unreferenced object is swept exactly when it is older than grace.
TEST(CatalogGcClock, GraceBoundary) {
    auto objects = std::make_shared<MemoryObjectStore>();
    Stores stores{objects, std::make_shared<MemoryMetaStore>()};
    const auto now = std::chrono::system_clock::now();
    ASSERT_TRUE(objects->put(object_key(1, 1), pattern(10, 1)));
    ASSERT_TRUE(objects->put(object_key(1, 2), pattern(20, 2)));
    ASSERT_TRUE(objects->set_modified(object_key(1, 1), now - 2h));
    ASSERT_TRUE(objects->set_modified(object_key(1, 2), now - 30min));
    auto stats = gc(stores, 3600s);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->swept_objects, 1u);
    EXPECT_EQ(stats->swept_bytes, 10u);
    EXPECT_EQ(stats->kept_young, 1u);
    EXPECT_EQ(objects->keys(), std::vector<std::string>{object_key(1, 2)});
}

}  // namespace
}  // namespace itd::volume::thin
