// READ DEFECT DATA (10) and (12): an empty list in the format asked for.
#include <gtest/gtest.h>

#include "common/endian.h"
#include "harness.h"

namespace itd::scsi::testing {
namespace {

TEST(ReadDefectData, Ten) {
    Harness h;
    // REQ_PLIST, REQ_GLIST, long block format (011b), allocation length 32.
    Reply r = h.run({0x37, 0, 0x18 | 0x03, 0, 0, 0, 0, 0, 32, 0}, 32);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 4u);
    EXPECT_EQ(r.data[1], 0x18 | 0x03);  // PLISTV, GLISTV, the format asked for
    EXPECT_EQ(load_be16(&r.data[2]), 0u);  // DEFECT LIST LENGTH
    EXPECT_EQ(r.result.transfer_bytes, 4u);
    // Only the grown list, physical sector format.
    r = h.run({0x37, 0, 0x08 | 0x05, 0, 0, 0, 0, 0, 32, 0}, 32);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data[1], 0x08 | 0x05);
    // The allocation length cuts the header; zero is not an error.
    r = h.run({0x37, 0, 0x10, 0, 0, 0, 0, 0, 2, 0}, 32);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data.size(), 2u);
    EXPECT_EQ(r.data[1], 0x10);
    r = h.run({0x37, 0, 0x10, 0, 0, 0, 0, 0, 0, 0}, 32);
    ASSERT_TRUE(r.good());
    EXPECT_TRUE(r.data.empty());
    // Format 111b is reserved; so is byte 1.
    r = h.run({0x37, 0, 0x07, 0, 0, 0, 0, 0, 32, 0}, 32);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 2);
    EXPECT_TRUE(h.run({0x37, 0x01, 0, 0, 0, 0, 0, 0, 32, 0}, 32).is(SenseReason::invalid_field_in_cdb));
}

TEST(ReadDefectData, Twelve) {
    Harness h;
    // REQ_PLIST, bytes from index format (100b), ADDRESS DESCRIPTOR INDEX 7, length 32.
    Reply r = h.run({0xb7, 0x10 | 0x04, 0, 0, 0, 7, 0, 0, 0, 32, 0, 0}, 32);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 8u);
    EXPECT_EQ(r.data[1], 0x10 | 0x04);
    EXPECT_EQ(load_be32(&r.data[4]), 0u);  // DEFECT LIST LENGTH
    r = h.run({0xb7, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0}, 32);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data.size(), 5u);
    EXPECT_TRUE(h.run({0xb7, 0x07, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}, 32)
                    .is(SenseReason::invalid_field_in_cdb));
}

}  // namespace
}  // namespace itd::scsi::testing
