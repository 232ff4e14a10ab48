#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <vector>

#include "iscsi/digest.h"

namespace itd::iscsi {
namespace {

// RFC 3720 Appendix B.4 test vectors; the RFC lists the CRC in wire byte order.
TEST(Crc32c, Rfc3720ZeroBytes) {
    std::array<std::uint8_t, 32> zeros{};
    EXPECT_EQ(crc32c(zeros), 0x8a9136aau);
    std::array<std::uint8_t, 4> wire{};
    store_digest(wire.data(), crc32c(zeros));
    EXPECT_EQ(wire, (std::array<std::uint8_t, 4>{0xaa, 0x36, 0x91, 0x8a}));
}

TEST(Crc32c, Rfc3720OnesBytes) {
    std::array<std::uint8_t, 32> ones;
    ones.fill(0xff);
    EXPECT_EQ(crc32c(ones), 0x62a8ab43u);  // wire: 43 ab a8 62
}

TEST(Crc32c, Rfc3720IncrementingBytes) {
    std::array<std::uint8_t, 32> inc;
    std::iota(inc.begin(), inc.end(), 0);
    EXPECT_EQ(crc32c(inc), 0x46dd794eu);  // wire: 4e 79 dd 46
}

TEST(Crc32c, Rfc3720DecrementingBytes) {
    std::array<std::uint8_t, 32> dec;
    for (std::size_t i = 0; i < dec.size(); ++i) dec[i] = static_cast<std::uint8_t>(31 - i);
    EXPECT_EQ(crc32c(dec), 0x113fdb5cu);  // wire: 5c db 3f 11
}

TEST(Crc32c, CheckValue) {
    const std::string s = "123456789";
    EXPECT_EQ(crc32c(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())),
              0xe3069283u);
}

TEST(Crc32c, IncrementalEqualsOneShot) {
    std::vector<std::uint8_t> bytes(1000);
    std::iota(bytes.begin(), bytes.end(), 7);
    Crc32c c;
    c.update(std::span(bytes).first(333));
    c.update(std::span(bytes).subspan(333));
    EXPECT_EQ(c.value(), crc32c(bytes));
}

TEST(Crc32c, DigestIsLittleEndianOnTheWire) {
    std::array<std::uint8_t, 4> p{};
    store_digest(p.data(), 0x11223344);
    EXPECT_EQ(p, (std::array<std::uint8_t, 4>{0x44, 0x33, 0x22, 0x11}));
    EXPECT_EQ(load_digest(p.data()), 0x11223344u);
}

}  // namespace
}  // namespace itd::iscsi
