#include "common/endian.h"

#include <gtest/gtest.h>

namespace itd {
namespace {

TEST(Endian, RoundTripsEveryWidth) {
    std::uint8_t buf[8] = {};
    store_be16(buf, 0x1234);
    EXPECT_EQ(buf[0], 0x12);
    EXPECT_EQ(buf[1], 0x34);
    EXPECT_EQ(load_be16(buf), 0x1234);
    store_be24(buf, 0xabcdef);
    EXPECT_EQ(buf[0], 0xab);
    EXPECT_EQ(load_be24(buf), 0xabcdefu);
    store_be32(buf, 0xdeadbeef);
    EXPECT_EQ(buf[3], 0xef);
    EXPECT_EQ(load_be32(buf), 0xdeadbeefu);
    store_be64(buf, 0x0102030405060708ull);
    EXPECT_EQ(buf[0], 0x01);
    EXPECT_EQ(buf[7], 0x08);
    EXPECT_EQ(load_be64(buf), 0x0102030405060708ull);
}

TEST(Endian, LittleEndian) {
    std::uint8_t buf[8] = {};
    store_le32(buf, 0xdeadbeef);
    EXPECT_EQ(buf[0], 0xef);
    EXPECT_EQ(buf[3], 0xde);
    EXPECT_EQ(load_le32(buf), 0xdeadbeefu);
    store_le64(buf, 0x0102030405060708ull);
    EXPECT_EQ(buf[0], 0x08);
    EXPECT_EQ(buf[7], 0x01);
    EXPECT_EQ(load_le64(buf), 0x0102030405060708ull);
}

}  // namespace
}  // namespace itd
