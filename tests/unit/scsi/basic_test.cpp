// The first path the transport integrates against: INQUIRY, TEST UNIT READY, READ CAPACITY,
// READ/WRITE(10).
#include <gtest/gtest.h>

#include "common/endian.h"
#include "harness.h"

namespace itd::scsi::testing {
namespace {

TEST(Basic, TestUnitReadyReportsPowerOnOnceThenGood) {
    Harness h;
    const NexusId other = h.target.register_nexus("iqn.other,i,0x2", "iqn.target,t,0x1");
    Reply first = h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, other);
    EXPECT_TRUE(first.is(SenseReason::ua_power_on));
    EXPECT_EQ(first.result.sense_bytes, 18);
    EXPECT_EQ(first.result.sense[0], 0x70);
    EXPECT_EQ(first.result.sense[7], 10);
    Reply second = h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, other);
    EXPECT_TRUE(second.good());
    EXPECT_EQ(second.calls, 1);
}

TEST(Basic, InquiryStandard) {
    Harness h;
    Reply r = h.run({0x12, 0, 0, 0, 255, 0}, 255);
    ASSERT_TRUE(r.good());
    ASSERT_GE(r.data.size(), 36u);
    EXPECT_EQ(r.data[0], 0x00);
    EXPECT_EQ(r.data[2], 0x06);
    EXPECT_EQ(r.data[3] & 0x0f, 0x02);
    EXPECT_EQ(r.data[4] + 5u, r.data.size());
    EXPECT_EQ(std::string(r.data.begin() + 8, r.data.begin() + 16), "ITD     ");
    EXPECT_EQ(r.result.transfer_bytes, r.data.size());
}

TEST(Basic, ReadCapacity10) {
    Harness h(2048);
    Reply r = h.run({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 8u);
    EXPECT_EQ(load_be32(&r.data[0]), 2047u);
    EXPECT_EQ(load_be32(&r.data[4]), 512u);
}

TEST(Basic, WriteThenRead10) {
    Harness h(2048);
    std::vector<std::uint8_t> data(1024);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    Reply w = h.run({0x2a, 0, 0, 0, 0, 10, 0, 0, 2, 0}, 0, data);
    ASSERT_TRUE(w.good());
    EXPECT_EQ(w.result.transfer_bytes, 1024u);
    Reply r = h.run({0x28, 0, 0, 0, 0, 10, 0, 0, 2, 0}, 1024);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data, data);
    EXPECT_EQ(r.result.transfer_bytes, 1024u);
}

}  // namespace
}  // namespace itd::scsi::testing
