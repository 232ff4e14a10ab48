// MODE SELECT (6) and (10) (SPC-4 6.9, 6.10): the parameter list decoder and the command.
#include <gtest/gtest.h>

#include <atomic>

#include "harness.h"
#include "scsi/spc_mode_select_params.h"

namespace itd::scsi::testing {
namespace {

// The caching page as MODE SENSE returns it, with WCE as given.
std::vector<std::uint8_t> caching_page(bool wce) {
    std::vector<std::uint8_t> p(20, 0);
    p[0] = 0x08;
    p[1] = 0x12;
    if (wce) p[2] = 0x04;
    return p;
}

std::vector<std::uint8_t> control_page() {
    std::vector<std::uint8_t> p(12, 0);
    p[0] = 0x0a;
    p[1] = 0x0a;
    p[3] = 0x10;
    p[8] = 0xff;
    p[9] = 0xff;
    return p;
}

// A MODE SELECT(6) parameter list: header, optional short block descriptor, pages.
std::vector<std::uint8_t> list6(std::vector<std::uint8_t> pages,
                                std::vector<std::uint8_t> descriptor = {}) {
    std::vector<std::uint8_t> l(4, 0);
    l[3] = static_cast<std::uint8_t>(descriptor.size());
    l.insert(l.end(), descriptor.begin(), descriptor.end());
    l.insert(l.end(), pages.begin(), pages.end());
    return l;
}

std::vector<std::uint8_t> list10(std::vector<std::uint8_t> pages,
                                 std::vector<std::uint8_t> descriptor = {}, bool long_lba = false) {
    std::vector<std::uint8_t> l(8, 0);
    l[4] = long_lba ? 1 : 0;
    store_be16(&l[6], static_cast<std::uint16_t>(descriptor.size()));
    l.insert(l.end(), descriptor.begin(), descriptor.end());
    l.insert(l.end(), pages.begin(), pages.end());
    return l;
}

std::vector<std::uint8_t> short_descriptor(std::uint32_t blocks, std::uint32_t block_size) {
    std::vector<std::uint8_t> d(8, 0);
    store_be32(&d[0], blocks);
    store_be24(&d[5], block_size);
    return d;
}

std::vector<std::uint8_t> long_descriptor(std::uint64_t blocks, std::uint32_t block_size) {
    std::vector<std::uint8_t> d(16, 0);
    store_be64(&d[0], blocks);
    store_be32(&d[12], block_size);
    return d;
}

Reply mode_select6(Harness& h, const std::vector<std::uint8_t>& list, std::uint8_t b1 = 0x10,
                   std::optional<NexusId> on = {}) {
    return h.run({0x15, b1, 0, 0, static_cast<std::uint8_t>(list.size()), 0}, 0, list, 0, on);
}

Reply mode_select10(Harness& h, const std::vector<std::uint8_t>& list, std::uint8_t b1 = 0x10) {
    return h.run({0x55, b1, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(list.size() >> 8),
                  static_cast<std::uint8_t>(list.size()), 0},
                 0, list);
}

// WCE in the caching page of MODE SENSE(6) with DBD, page control pc.
int sensed_wce(Harness& h, std::uint8_t pc = 0x00, std::optional<NexusId> on = {}) {
    Reply r = h.run({0x1a, 0x08, static_cast<std::uint8_t>(pc | 0x08), 0, 255, 0}, 255, {}, 0, on);
    if (!r.good() || r.data.size() < 4 + 20) return -1;
    return (r.data[4 + 2] & 0x04) != 0 ? 1 : 0;
}

// The parameter-list field pointer of a CHECK CONDITION: byte, and bit (-1: none).
std::pair<int, int> field(const Reply& r) {
    const std::uint8_t b15 = r.result.sense[15];
    EXPECT_EQ(b15 & 0x80, 0x80);  // SKSV
    EXPECT_EQ(b15 & 0x40, 0x00);  // C/D 0: the parameter list
    return {load_be16(&r.result.sense[16]), (b15 & 0x08) != 0 ? (b15 & 0x07) : -1};
}

// A volume with a volatile cache that records what it is asked.
class CachedVolume : public volume::Volume {
public:
    volume::Geometry geometry() const override { return {512, 64}; }
    void read(std::uint64_t, std::span<std::uint8_t> out, volume::Completion d) override {
        std::fill(out.begin(), out.end(), std::uint8_t{0});
        d({});
    }
    void write(std::uint64_t, std::span<const std::uint8_t>, volume::WriteFlags flags,
               volume::Completion d) override {
        ++writes;
        if (flags.fua) ++fua_writes;
        d({});
    }
    void flush(volume::Completion d) override {
        ++flushes;
        d({});
    }
    bool has_volatile_cache() const override { return true; }
    bool supports_unmap() const override { return true; }
    void unmap(std::uint64_t, std::uint64_t, volume::Completion d) override {
        ++unmaps;
        d({});
    }

    std::atomic<int> unmaps{0};
    std::atomic<int> writes{0};
    std::atomic<int> fua_writes{0};
    std::atomic<int> flushes{0};
};

TEST(ModeSelectParams, EmptyListChangesNothing) {
    ModeSelectContext ctx{.block_count = 64, .block_size_bytes = 512, .current = {.wce = true}};
    auto r = parse_mode_select({}, ctx);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->wce);
}

TEST(ModeSelectParams, TruncationIsAParameterListLengthError) {
    ModeSelectContext ctx{.block_count = 64, .block_size_bytes = 512, .current = {}};
    const auto full = list6(caching_page(true), short_descriptor(64, 512));
    // Every cut inside the header, the descriptor or the page.
    for (std::size_t n = 1; n < full.size(); ++n) {
        auto r = parse_mode_select(std::span(full).first(n), ctx);
        if (n == 12) {
            ASSERT_TRUE(r.has_value()) << n;  // header and descriptor, no page: fine
            continue;
        }
        ASSERT_FALSE(r.has_value()) << n;
        EXPECT_EQ(r.error().reason, SenseReason::parameter_list_length_error) << n;
    }
    auto r = parse_mode_select(full, ctx);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->wce);
}

TEST(ModeSelectParams, OnlyChangeableBitsMayDiffer) {
    ModeSelectContext ctx{.ten = true, .block_count = 64, .block_size_bytes = 512, .current = {}};
    auto page = caching_page(false);
    page[2] |= 0x01;  // RCD: not changeable
    auto r = parse_mode_select(list10(page), ctx);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().reason, SenseReason::invalid_field_in_parameter_list);
    ASSERT_TRUE(r.error().field.has_value());
    EXPECT_FALSE(r.error().field->in_cdb);
    EXPECT_EQ(r.error().field->byte, 8 + 2);
    EXPECT_EQ(r.error().field->bit, 0);
    // The control page as it is: accepted, nothing changes.
    auto same = parse_mode_select(list10(control_page()), ctx);
    ASSERT_TRUE(same.has_value());
    EXPECT_FALSE(same->wce);
    auto d_sense = control_page();
    d_sense[2] |= 0x04;  // D_SENSE: not changeable (we only send fixed format sense)
    auto bad = parse_mode_select(list10(d_sense), ctx);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().field->byte, 8 + 2);
    EXPECT_EQ(bad.error().field->bit, 2);
    auto swp = control_page();
    swp[4] |= 0x08;  // SWP: changeable
    auto set = parse_mode_select(list10(swp), ctx);
    ASSERT_TRUE(set.has_value());
    EXPECT_TRUE(set->swp);
}

// SPC-4 7.5.8 SWP: a software write protect makes the LU write protected until it is cleared
// (libiscsi's Sanitize.Readonly and ModeSense6.Control-SWP set it through MODE SELECT).
TEST(ModeSelect, SoftwareWriteProtect) {
    Harness h;
    const NexusId other = h.add_nexus("iqn.other,i,0x2");
    auto swp = control_page();
    swp[4] |= 0x08;
    ASSERT_TRUE(mode_select6(h, list6(swp)).good());
    std::vector<std::uint8_t> block(512, 0x5a);
    EXPECT_TRUE(h.run({0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block)
                    .is(SenseReason::write_protected));
    Reply sense = h.run({0x1a, 0x08, 0x0a, 0, 0xff, 0}, 0xff);  // MODE SENSE(6), control page
    ASSERT_TRUE(sense.good());
    EXPECT_EQ(sense.data[2] & 0x80, 0x80) << "WP in the device-specific parameter";
    EXPECT_EQ(sense.data[4 + 4] & 0x08, 0x08) << "SWP reads back";
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, other)
                    .is(SenseReason::ua_mode_parameters_changed));
    ASSERT_TRUE(mode_select6(h, list6(control_page())).good());
    EXPECT_TRUE(h.run({0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block).good());
}

TEST(ModeSelectParams, PageHeaderChecks) {
    ModeSelectContext ctx{.block_count = 64, .block_size_bytes = 512, .current = {}};
    auto ps = caching_page(true);
    ps[0] |= 0x80;
    auto spf = caching_page(true);
    spf[0] |= 0x40;
    std::vector<std::uint8_t> unknown{0x19, 0x06, 0, 0, 0, 0, 0, 0};
    auto wrong_length = caching_page(true);
    wrong_length[1] = 0x0a;
    wrong_length.resize(12);
    const std::vector<std::pair<std::vector<std::uint8_t>, std::pair<int, int>>> cases = {
        {list6(ps), {4, 7}},
        {list6(spf), {4, 6}},
        {list6(unknown), {4, 5}},
        {list6(wrong_length), {5, -1}},
    };
    for (const auto& [list, where] : cases) {
        auto r = parse_mode_select(list, ctx);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().reason, SenseReason::invalid_field_in_parameter_list);
        EXPECT_EQ(r.error().field->byte, where.first);
        EXPECT_EQ(r.error().field->bit ? int(*r.error().field->bit) : -1, where.second);
    }
}

TEST(ModeSelectParams, HeaderAndBlockDescriptors) {
    ModeSelectContext ctx{.block_count = 64, .block_size_bytes = 512, .current = {}};
    auto medium = list6(caching_page(true));
    medium[1] = 0x05;
    auto r = parse_mode_select(medium, ctx);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().field->byte, 1);
    // WP and DPOFUA in the device-specific parameter are ignored (SBC-4 6.5.1).
    auto dsp = list6(caching_page(true));
    dsp[2] = 0x90;
    EXPECT_TRUE(parse_mode_select(dsp, ctx).has_value());
    // Block descriptors: matching, or zero blocks ("no change").
    EXPECT_TRUE(parse_mode_select(list6({}, short_descriptor(64, 512)), ctx).has_value());
    EXPECT_TRUE(parse_mode_select(list6({}, short_descriptor(0, 512)), ctx).has_value());
    auto blocks = parse_mode_select(list6({}, short_descriptor(63, 512)), ctx);
    ASSERT_FALSE(blocks.has_value());
    EXPECT_EQ(blocks.error().field->byte, 4);
    auto size = parse_mode_select(list6({}, short_descriptor(64, 4096)), ctx);
    ASSERT_FALSE(size.has_value());
    EXPECT_EQ(size.error().field->byte, 4 + 5);
    // Not a whole number of descriptors.
    auto odd = list6({}, std::vector<std::uint8_t>(4, 0));
    auto o = parse_mode_select(odd, ctx);
    ASSERT_FALSE(o.has_value());
    EXPECT_EQ(o.error().reason, SenseReason::invalid_field_in_parameter_list);
    EXPECT_EQ(o.error().field->byte, 3);
    // MODE SELECT(10) with long descriptors.
    ModeSelectContext ten{
        .ten = true, .block_count = 1ull << 33, .block_size_bytes = 4096, .current = {}};
    EXPECT_TRUE(
        parse_mode_select(list10({}, long_descriptor(1ull << 33, 4096), true), ten).has_value());
    auto l = parse_mode_select(list10({}, long_descriptor(5, 4096), true), ten);
    ASSERT_FALSE(l.has_value());
    EXPECT_EQ(l.error().field->byte, 8);
    // A capacity past 32 bits reads FFFFFFFFh in a short descriptor, and is accepted so.
    EXPECT_TRUE(parse_mode_select(list10({}, short_descriptor(0xffffffffu, 4096)), ten)
                    .has_value());
    // A long descriptor length that is not a multiple of 16.
    auto half = parse_mode_select(list10({}, short_descriptor(0, 4096), true), ten);
    ASSERT_FALSE(half.has_value());
    EXPECT_EQ(half.error().field->byte, 6);
}

TEST(ModeSelectParams, PageFormatZeroRefusesPages) {
    ModeSelectContext ctx{
        .page_format = false, .block_count = 64, .block_size_bytes = 512, .current = {}};
    auto r = parse_mode_select(list6(caching_page(true)), ctx);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().reason, SenseReason::invalid_field_in_cdb);
    EXPECT_TRUE(r.error().field->in_cdb);
    EXPECT_EQ(r.error().field->byte, 1);
    EXPECT_EQ(r.error().field->bit, 4);
    // Header and block descriptor alone are fine without PF.
    EXPECT_TRUE(parse_mode_select(list6({}, short_descriptor(64, 512)), ctx).has_value());
}

TEST(ModeSelect, ChangesWceSix) {
    Harness h;
    EXPECT_EQ(sensed_wce(h), 0);       // memory volume: no cache, WCE 0 by default
    EXPECT_EQ(sensed_wce(h, 0x40), 1);  // but changeable
    ASSERT_TRUE(mode_select6(h, list6(caching_page(true))).good());
    EXPECT_EQ(sensed_wce(h), 1);
    EXPECT_EQ(sensed_wce(h, 0x80), 0);  // the default stays
    ASSERT_TRUE(mode_select6(h, list6(caching_page(false), short_descriptor(2048, 512))).good());
    EXPECT_EQ(sensed_wce(h), 0);
}

TEST(ModeSelect, ChangesWceTen) {
    Harness h;
    ASSERT_TRUE(mode_select10(h, list10(caching_page(true), long_descriptor(2048, 512), true))
                    .good());
    EXPECT_EQ(sensed_wce(h), 1);
    // Several pages in one list.
    auto pages = control_page();
    const auto caching = caching_page(false);
    pages.insert(pages.end(), caching.begin(), caching.end());
    ASSERT_TRUE(mode_select10(h, list10(pages)).good());
    EXPECT_EQ(sensed_wce(h), 0);
}

TEST(ModeSelect, CdbChecks) {
    Harness h;
    // SP=1: we save no pages (SPC-4 6.9.1).
    Reply sp = mode_select6(h, list6(caching_page(true)), 0x11);
    EXPECT_TRUE(sp.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(sp.result.sense[15], 0x80 | 0x40 | 0x08 | 0);
    EXPECT_EQ(load_be16(&sp.result.sense[16]), 1);
    EXPECT_EQ(sensed_wce(h), 0);
    // A zero PARAMETER LIST LENGTH is not an error.
    EXPECT_TRUE(h.run({0x15, 0x10, 0, 0, 0, 0}).good());
    EXPECT_TRUE(h.run({0x55, 0x10, 0, 0, 0, 0, 0, 0, 0, 0}).good());
    // PF=0 with a page.
    EXPECT_TRUE(
        mode_select6(h, list6(caching_page(true)), 0x00).is(SenseReason::invalid_field_in_cdb));
    // Reserved CDB bits.
    EXPECT_TRUE(h.run({0x15, 0x12, 0, 0, 0, 0}).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x55, 0x10, 1, 0, 0, 0, 0, 0, 0, 0}).is(SenseReason::invalid_field_in_cdb));
    // Less data than the PARAMETER LIST LENGTH: what arrived is a truncated list.
    Reply short_data = h.run({0x15, 0x10, 0, 0, 24, 0}, 0, list6(caching_page(true)));
    EXPECT_TRUE(short_data.good());
    auto cut = list6(caching_page(true));
    cut.resize(10);
    Reply truncated = h.run({0x15, 0x10, 0, 0, 24, 0}, 0, cut);
    EXPECT_TRUE(truncated.is(SenseReason::parameter_list_length_error));
}

TEST(ModeSelect, RefusedListChangesNothing) {
    Harness h;
    auto pages = caching_page(true);
    auto bad = control_page();
    bad[2] = 0x04;  // D_SENSE: not changeable
    pages.insert(pages.end(), bad.begin(), bad.end());
    Reply r = mode_select6(h, list6(pages));
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_parameter_list));
    EXPECT_EQ(field(r), (std::pair<int, int>{4 + 20 + 2, 2}));
    EXPECT_EQ(sensed_wce(h), 0);  // the caching page before it was not applied
}

TEST(ModeSelect, ModeParametersChangedForOtherNexuses) {
    Harness h;
    const NexusId other = h.add_nexus("iqn.other,i,0x2");
    ASSERT_TRUE(mode_select6(h, list6(caching_page(true))).good());
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}).good());  // not for the one that changed them
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, other)
                    .is(SenseReason::ua_mode_parameters_changed));
    EXPECT_EQ(sensed_wce(h, 0, other), 1);
    // Selecting the values already current changes nothing and establishes nothing.
    ASSERT_TRUE(mode_select6(h, list6(caching_page(true))).good());
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, other).good());
}

TEST(ModeSelect, LunResetRestoresTheDefaults) {
    Harness h;
    ASSERT_TRUE(mode_select6(h, list6(caching_page(true))).good());
    h.target.reset_lun(0, h.nexus);
    h.clear_ua();  // the reset unit attention, on every nexus
    EXPECT_EQ(sensed_wce(h), 0);
    ASSERT_TRUE(mode_select6(h, list6(caching_page(true))).good());
    h.target.reset_target(h.nexus);
    h.clear_ua();
    EXPECT_EQ(sensed_wce(h), 0);
}

TEST(ModeSelect, WriteThroughMakesEveryWriteFua) {
    auto vol = std::make_shared<CachedVolume>();
    LunConfig cfg;
    cfg.volume = vol;
    Harness h(std::move(cfg));
    EXPECT_EQ(sensed_wce(h), 1);
    const std::vector<std::uint8_t> block(512, 1);
    ASSERT_TRUE(h.run({0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block).good());
    EXPECT_EQ(vol->fua_writes, 0);
    // WCE 1 -> 0 writes the cache back before GOOD.
    const int flushes = vol->flushes;
    ASSERT_TRUE(mode_select6(h, list6(caching_page(false))).good());
    EXPECT_EQ(vol->flushes, flushes + 1);
    ASSERT_TRUE(h.run({0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block).good());
    ASSERT_TRUE(h.run({0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}, 0, block).good());
    ASSERT_TRUE(h.run({0x41, 0, 0, 0, 0, 1, 0, 0, 2, 0}, 0, block).good());  // WRITE SAME(10)
    EXPECT_EQ(vol->fua_writes, vol->writes - 1);
    // Back to write-back: no flush needed, writes are cached again.
    ASSERT_TRUE(mode_select6(h, list6(caching_page(true))).good());
    EXPECT_EQ(vol->flushes, flushes + 1);
    const int fua = vol->fua_writes;
    ASSERT_TRUE(h.run({0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, block).good());
    EXPECT_EQ(vol->fua_writes, fua);
}

// SBC-4 7.5.5: with WCE=0 a deallocation is as durable as a write before GOOD: UNMAP and WRITE
// SAME with UNMAP flush the volume; with WCE=1 they leave that to SYNCHRONIZE CACHE.
TEST(ModeSelect, WriteThroughMakesDeallocationDurable) {
    auto vol = std::make_shared<CachedVolume>();
    LunConfig cfg;
    cfg.volume = vol;
    cfg.thin = true;
    Harness h(std::move(cfg));
    const std::vector<std::uint8_t> unmap_list = {0, 22, 0, 16, 0, 0, 0, 0,  // header
                                                  0, 0, 0, 0, 0, 0, 0, 8,  // LBA 8
                                                  0, 0, 0, 8, 0, 0, 0, 0}; // 8 blocks
    const std::vector<std::uint8_t> block(512, 0);
    ASSERT_TRUE(h.run({0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}, 0, unmap_list).good());
    ASSERT_TRUE(h.run({0x41, 0x08, 0, 0, 0, 16, 0, 0, 8, 0}, 0, block).good());
    EXPECT_EQ(vol->unmaps, 2);
    EXPECT_EQ(vol->flushes, 0) << "write-back: no flush";
    ASSERT_TRUE(mode_select6(h, list6(caching_page(false))).good());
    const int flushes = vol->flushes;
    ASSERT_TRUE(h.run({0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}, 0, unmap_list).good());
    EXPECT_EQ(vol->flushes, flushes + 1) << "UNMAP with WCE=0";
    ASSERT_TRUE(h.run({0x41, 0x08, 0, 0, 0, 16, 0, 0, 8, 0}, 0, block).good());
    EXPECT_EQ(vol->flushes, flushes + 2) << "WRITE SAME with UNMAP and WCE=0";
}

}  // namespace
}  // namespace itd::scsi::testing
