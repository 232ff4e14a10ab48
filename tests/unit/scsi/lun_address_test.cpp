#include "scsi/lun_address.h"

#include <gtest/gtest.h>

namespace itd::scsi {
namespace {

TEST(LunAddress, PeripheralAndFlat) {
    EXPECT_EQ(decode_lun(0), 0u);
    EXPECT_EQ(decode_lun(0x0005000000000000ull), 5u);
    EXPECT_EQ(decode_lun(0x4005000000000000ull), 5u);         // flat, LUN 5
    EXPECT_EQ(decode_lun(0x412c000000000000ull), 300u);       // flat, LUN 300
    EXPECT_EQ(decode_lun(0x7fff000000000000ull), kMaxLun);
}

TEST(LunAddress, RejectsOtherMethodsAndLevels) {
    EXPECT_FALSE(decode_lun(0x0100000000000000ull));  // peripheral with bus id 1
    EXPECT_FALSE(decode_lun(0x8000000000000000ull));  // logical unit addressing
    EXPECT_FALSE(decode_lun(0xc000000000000000ull));  // extended addressing
    EXPECT_FALSE(decode_lun(0x0000000100000000ull));  // second level
}

TEST(LunAddress, EncodeRoundTrips) {
    EXPECT_EQ(encode_lun(0), 0u);
    EXPECT_EQ(encode_lun(255), 0x00ff000000000000ull);
    EXPECT_EQ(encode_lun(256), 0x4100000000000000ull);
    for (std::uint32_t lun : {0u, 1u, 255u, 256u, 1000u, kMaxLun}) {
        EXPECT_EQ(decode_lun(encode_lun(lun)), lun);
    }
}

}  // namespace
}  // namespace itd::scsi
