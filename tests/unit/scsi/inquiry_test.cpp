// INQUIRY checks modelled on libiscsi's Inquiry* tests.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness.h"

namespace itd::scsi::testing {
namespace {

Reply vpd(Harness& h, std::uint8_t page, std::uint16_t alloc = 255) {
    return h.run({0x12, 0x01, page, static_cast<std::uint8_t>(alloc >> 8),
                  static_cast<std::uint8_t>(alloc), 0},
                 alloc);
}

TEST(Inquiry, StandardData) {
    Harness h;
    Reply r = h.run({0x12, 0, 0, 1, 4, 0}, 260);
    ASSERT_TRUE(r.good());
    const auto& d = r.data;
    ASSERT_EQ(d.size(), 96u);
    EXPECT_EQ(d[0], 0x00);
    EXPECT_EQ(d[2], 0x06);
    EXPECT_EQ(d[3], 0x12);  // HISUP, format 2; AERC/TRMTSK clear
    EXPECT_EQ(d[4], 91);
    EXPECT_EQ(d[7] & 0x02, 0x02);  // CMDQUE
    for (std::size_t i = 8; i < 36; ++i) EXPECT_TRUE(d[i] >= 0x20 && d[i] <= 0x7e) << i;
    EXPECT_EQ(load_be16(&d[58]), 0x00a0);  // SAM-5
    EXPECT_EQ(load_be16(&d[60]), 0x0460);  // SPC-4
    EXPECT_EQ(load_be16(&d[62]), 0x04c0);  // SBC-3
    EXPECT_EQ(r.result.transfer_bytes, 96u);  // underflow against EDTL 260
}

TEST(Inquiry, AllocationLengths) {
    Harness h;
    for (int alloc = 5; alloc < 256; ++alloc) {
        Reply r = h.run({0x12, 0, 0, 0, static_cast<std::uint8_t>(alloc), 0},
                        static_cast<std::size_t>(alloc));
        ASSERT_TRUE(r.good());
        EXPECT_EQ(r.data.size(), std::min<std::size_t>(alloc, 96));
    }
    // 16-bit allocation length (SPC-3 and later): 511 and 512 give the same data.
    Reply a = h.run({0x12, 0, 0, 0x01, 0xff, 0}, 511);
    Reply b = h.run({0x12, 0, 0, 0x02, 0x00, 0}, 512);
    EXPECT_EQ(a.data, b.data);
}

TEST(Inquiry, PageCodeWithoutEvpdIsInvalid) {
    Harness h;
    Reply r = h.run({0x12, 0, 0x01, 1, 0, 0}, 256);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 2);
}

TEST(Inquiry, CmdDtIsInvalid) {
    Harness h;
    EXPECT_TRUE(h.run({0x12, 0x02, 0, 0, 36, 0}, 36).is(SenseReason::invalid_field_in_cdb));
}

TEST(Inquiry, SupportedPagesSortedAndReadable) {
    Harness h;
    Reply r = vpd(h, 0x00);
    ASSERT_TRUE(r.good());
    ASSERT_GE(r.data.size(), 4u);
    EXPECT_EQ(r.data[1], 0x00);
    const std::size_t n = load_be16(&r.data[2]);
    ASSERT_EQ(r.data.size(), 4 + n);
    std::vector<std::uint8_t> pages(r.data.begin() + 4, r.data.end());
    EXPECT_TRUE(std::is_sorted(pages.begin(), pages.end()));
    EXPECT_EQ(pages, (std::vector<std::uint8_t>{0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2}));
    for (std::uint8_t p : pages) {
        Reply page = vpd(h, p);
        ASSERT_TRUE(page.good()) << int(p);
        EXPECT_EQ(page.data[1], p);
        EXPECT_EQ(page.data.size(), 4u + load_be16(&page.data[2])) << int(p);
    }
    EXPECT_TRUE(vpd(h, 0x81).is(SenseReason::invalid_field_in_cdb));
}

TEST(Inquiry, UnitSerialIsStableAndDerived) {
    Harness h1, h2;
    Reply a = vpd(h1, 0x80), b = vpd(h2, 0x80);
    ASSERT_TRUE(a.good());
    EXPECT_EQ(a.data, b.data);  // same target name and LUN
    EXPECT_EQ(a.data[3], 16);
}

TEST(Inquiry, DeviceIdentificationDesignators) {
    Harness h;
    Reply r = vpd(h, 0x83, 512);
    ASSERT_TRUE(r.good());
    const auto& d = r.data;
    ASSERT_EQ(d.size(), 4u + load_be16(&d[2]));
    bool naa = false, t10 = false, port = false, name = false;
    for (std::size_t at = 4; at + 4 <= d.size();) {
        const std::uint8_t type = d[at + 1] & 0x0f;
        const std::uint8_t assoc = (d[at + 1] >> 4) & 0x03;
        const std::size_t len = d[at + 3];
        ASSERT_LE(at + 4 + len, d.size());
        if (type == 3) {
            naa = true;
            EXPECT_EQ(assoc, 0);
            EXPECT_EQ(len, 8u);
            EXPECT_EQ(d[at + 4] >> 4, 0x3);  // NAA 3h, locally assigned
        }
        if (type == 1) t10 = true;
        if (type == 4) {
            port = true;
            EXPECT_EQ(assoc, 1);
            EXPECT_EQ(load_be16(&d[at + 6]), 1);
        }
        if (type == 8) {
            name = true;
            EXPECT_EQ(len % 4, 0u);
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(&d[at + 4])),
                      "iqn.2026-11.org.example:test");
        }
        at += 4 + len;
    }
    EXPECT_TRUE(naa && t10 && port && name);
}

TEST(Inquiry, ConfiguredNaaAndSerial) {
    Target t("iqn.x");
    LunConfig cfg;
    cfg.volume = memory_volume(8);
    cfg.serial = "SERIAL42";
    cfg.naa_id = 0x0123456789abcdefull;
    t.add_lun(0, std::move(cfg));
    std::vector<std::uint8_t> cdb{0x12, 0x01, 0x80, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    std::vector<std::uint8_t> in(255);
    Command cmd;
    cmd.cdb = cdb;
    cmd.data_in = in;
    CommandResult got;
    t.execute(cmd, [&](CommandResult r) { got = r; });
    ASSERT_EQ(got.status, Status::good);
    EXPECT_EQ(std::string(in.begin() + 4, in.begin() + 12), "SERIAL42");
    cdb[2] = 0x83;
    t.execute(cmd, [&](CommandResult r) { got = r; });
    ASSERT_EQ(got.status, Status::good);
    EXPECT_EQ(load_be64(&in[8]), 0x3123456789abcdefull);
}

TEST(Inquiry, BlockLimits) {
    Harness h(2048, 512);
    Reply r = vpd(h, 0xb0);
    ASSERT_TRUE(r.good());
    const auto& d = r.data;
    ASSERT_EQ(d.size(), 64u);
    EXPECT_EQ(d[3], 0x3c);
    EXPECT_EQ(load_be16(&d[6]), 8);              // 4 KiB granularity in 512-byte blocks
    EXPECT_EQ(load_be32(&d[8]), (8u << 20) / 512);  // MAXIMUM TRANSFER LENGTH
    EXPECT_EQ(load_be32(&d[20]), 0u);            // no UNMAP
    EXPECT_EQ(load_be32(&d[24]), 0u);
}

TEST(Inquiry, CharacteristicsAndProvisioning) {
    Harness h;
    Reply b1 = vpd(h, 0xb1);
    ASSERT_TRUE(b1.good());
    EXPECT_EQ(load_be16(&b1.data[4]), 1);  // non-rotating
    Reply b2 = vpd(h, 0xb2);
    ASSERT_TRUE(b2.good());
    EXPECT_EQ(b2.data[5] & 0xe0, 0);  // LBPU, LBPWS, LBPWS10 clear
}

TEST(Inquiry, DoesNotClearUnitAttention) {
    Harness h;
    const NexusId n = h.target.register_nexus("iqn.new,i,0x9", "iqn.target,t,0x1");
    EXPECT_TRUE(h.run({0x12, 0, 0, 0, 36, 0}, 36, {}, 0, n).good());
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, n).is(SenseReason::ua_power_on));
}

}  // namespace
}  // namespace itd::scsi::testing
