#include <gtest/gtest.h>

#include "harness.h"

namespace itd::scsi::testing {
namespace {

Reply mode_sense6(Harness& h, std::uint8_t pc_page, std::uint8_t alloc = 255, bool dbd = false,
                  std::uint8_t subpage = 0) {
    return h.run({0x1a, static_cast<std::uint8_t>(dbd ? 0x08 : 0), pc_page, subpage, alloc, 0},
                 alloc);
}

Reply mode_sense10(Harness& h, std::uint8_t pc_page, bool llbaa, bool dbd = false) {
    std::uint8_t b1 = static_cast<std::uint8_t>((llbaa ? 0x10 : 0) | (dbd ? 0x08 : 0));
    return h.run({0x5a, b1, pc_page, 0, 0, 0, 0, 0x01, 0x00, 0}, 256);
}

// Walks the pages after header and block descriptor; returns page codes in order.
std::vector<std::uint8_t> page_codes(const std::vector<std::uint8_t>& d, std::size_t start) {
    std::vector<std::uint8_t> codes;
    for (std::size_t at = start; at + 2 <= d.size(); at += 2 + d[at + 1]) codes.push_back(d[at] & 0x3f);
    return codes;
}

TEST(ModeSense, AllPagesSix) {
    Harness h(2048);
    Reply r = mode_sense6(h, 0x3f);
    ASSERT_TRUE(r.good());
    const auto& d = r.data;
    EXPECT_EQ(d[0] + 1u, d.size());
    EXPECT_EQ(d[2], 0x10);  // DPOFUA, not WP
    ASSERT_EQ(d[3], 8);     // short block descriptor
    EXPECT_EQ(load_be32(&d[4]), 2048u);
    EXPECT_EQ(load_be24(&d[9]), 512u);
    EXPECT_EQ(page_codes(d, 12), (std::vector<std::uint8_t>{0x08, 0x0a, 0x1c}));
    // Memory volume: no volatile cache, WCE 0.
    EXPECT_EQ(d[12 + 2] & 0x04, 0);
    // Control page: busy timeout specified, QAM 1.
    EXPECT_EQ(d[32], 0x0a);
    EXPECT_EQ(d[32 + 3] >> 4, 1);
    EXPECT_EQ(load_be16(&d[32 + 8]), 0xffff);
    // All pages with subpage FFh too.
    EXPECT_TRUE(mode_sense6(h, 0x3f, 255, false, 0xff).good());
}

TEST(ModeSense, SinglePagesAndDbd) {
    Harness h;
    Reply r = mode_sense6(h, 0x0a, 255, true);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data[3], 0);
    EXPECT_EQ(page_codes(r.data, 4), (std::vector<std::uint8_t>{0x0a}));
    EXPECT_EQ(r.data.size(), 4u + 12);
    Reply ie = mode_sense6(h, 0x1c, 255, true);
    ASSERT_TRUE(ie.good());
    EXPECT_EQ(page_codes(ie.data, 4), (std::vector<std::uint8_t>{0x1c}));
}

TEST(ModeSense, PageControl) {
    Harness h;
    Reply changeable = mode_sense6(h, 0x40 | 0x08, 255, true);
    ASSERT_TRUE(changeable.good());
    EXPECT_EQ(changeable.data[4 + 2], 0x04);  // WCE is changeable (MODE SELECT), nothing else
    EXPECT_TRUE(mode_sense6(h, 0x80 | 0x08).good());  // default
    EXPECT_TRUE(mode_sense6(h, 0xc0 | 0x08).is(SenseReason::saving_parameters_not_supported));
}

TEST(ModeSense, BadPageOrSubpage) {
    Harness h;
    EXPECT_TRUE(mode_sense6(h, 0x19).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(mode_sense6(h, 0x08, 255, false, 0x01).is(SenseReason::invalid_field_in_cdb));
}

TEST(ModeSense, TenWithLongLba) {
    Harness h(4096);
    Reply r = mode_sense10(h, 0x08, true);
    ASSERT_TRUE(r.good());
    const auto& d = r.data;
    EXPECT_EQ(load_be16(&d[0]) + 2u, d.size());
    EXPECT_EQ(d[3], 0x10);
    EXPECT_EQ(d[4] & 0x01, 1);  // LONGLBA
    ASSERT_EQ(load_be16(&d[6]), 16);
    EXPECT_EQ(load_be64(&d[8]), 4096u);
    EXPECT_EQ(load_be32(&d[8 + 12]), 512u);
    EXPECT_EQ(page_codes(d, 24), (std::vector<std::uint8_t>{0x08}));
    Reply short_bd = mode_sense10(h, 0x08, false);
    ASSERT_TRUE(short_bd.good());
    EXPECT_EQ(load_be16(&short_bd.data[6]), 8);
    EXPECT_EQ(short_bd.data[4], 0);
}

TEST(ModeSense, WriteProtectAndResiduals) {
    Harness h(64, 512, /*read_only=*/true);
    Reply r = mode_sense6(h, 0x3f, 4);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data.size(), 4u);
    EXPECT_EQ(r.result.transfer_bytes, 4u);  // no overflow (libiscsi ModeSense6.Residuals)
    EXPECT_EQ(r.data[2] & 0x80, 0x80);
    Reply full = mode_sense6(h, 0x3f, 255);
    EXPECT_LT(full.result.transfer_bytes, 255u);  // shows as underflow
    EXPECT_EQ(full.result.transfer_bytes, full.data.size());
}

TEST(ModeSense, WceFollowsVolumeCache) {
    // A volume with a volatile cache reports WCE=1.
    class CachedVolume : public volume::Volume {
    public:
        volume::Geometry geometry() const override { return {512, 64}; }
        void read(std::uint64_t, std::span<std::uint8_t>, volume::Completion d) override {
            d({});
        }
        void write(std::uint64_t, std::span<const std::uint8_t>, volume::WriteFlags,
                   volume::Completion d) override {
            d({});
        }
        void flush(volume::Completion d) override { d({}); }
        bool has_volatile_cache() const override { return true; }
    };
    Target t("iqn.x");
    LunConfig cfg;
    cfg.volume = std::make_shared<CachedVolume>();
    t.add_lun(0, std::move(cfg));
    std::vector<std::uint8_t> cdb{0x1a, 0x08, 0x08, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    std::vector<std::uint8_t> in(255);
    Command cmd;
    cmd.cdb = cdb;
    cmd.data_in = in;
    CommandResult got;
    t.execute(cmd, [&](CommandResult r) { got = r; });
    ASSERT_EQ(got.status, Status::good);
    EXPECT_EQ(in[4 + 2] & 0x04, 0x04);
}

}  // namespace
}  // namespace itd::scsi::testing
