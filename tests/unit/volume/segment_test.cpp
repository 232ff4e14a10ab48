#include "volume/thin/segment.h"

#include <gtest/gtest.h>

#include <string>

#include "common/endian.h"
#include "volume/thin/page_ref.h"

namespace itd::volume::thin {
namespace {

// Bitwise CRC32C (Castagnoli, reflected polynomial 0x82f63b78), independent of ISA-L.
std::uint32_t reference_crc32c(std::span<const std::uint8_t> bytes) {
    std::uint32_t crc = 0xffffffff;
    for (std::uint8_t b : bytes) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0);
    }
    return ~crc;
}

// Rewrites the trailing checksum after a test has changed the bytes before it, so that a
// decode gets past the checksum to the check under test.
void reseal(std::vector<std::uint8_t>& bytes) {
    ASSERT_GE(bytes.size(), 4u);
    const std::size_t body = bytes.size() - 4;
    store_le32(&bytes[body], reference_crc32c(std::span(bytes).first(body)));
}

PageRef ref(std::uint64_t tag, std::uint64_t id, std::uint32_t crc = 0) {
    return PageRef{tag, id, 0, 262144, crc};
}

Segment segment(std::uint64_t first_page, std::uint32_t pages) {
    Segment s;
    s.first_page = first_page;
    s.entries.resize(pages);
    return s;
}

void expect_same(const Segment& a, const Segment& b) {
    EXPECT_EQ(a.first_page, b.first_page);
    ASSERT_EQ(a.entries.size(), b.entries.size());
    for (std::size_t i = 0; i < a.entries.size(); ++i) EXPECT_EQ(a.entries[i], b.entries[i]) << i;
}

// The decode fails with io_error and a message containing `expect`.
void expect_damaged(const std::vector<std::uint8_t>& bytes, std::uint64_t first_page,
                    std::uint32_t pages, const std::string& expect) {
    auto d = decode_segment(bytes, first_page, pages);
    ASSERT_FALSE(d.has_value()) << expect;
    EXPECT_EQ(d.error().code, Errc::io_error);
    EXPECT_NE(d.error().message.find(expect), std::string::npos) << d.error().message;
}

TEST(ObjectKey, SixteenLowercaseHexDigits) {
    EXPECT_EQ(object_key(0xab, 0x1234), "objects/00000000000000ab/0000000000001234");
    EXPECT_EQ(object_key(0xfedcba9876543210ull, ~0ull),
              "objects/fedcba9876543210/ffffffffffffffff");
    EXPECT_EQ(object_prefix(0xab), "objects/00000000000000ab/");
    EXPECT_EQ(object_key(1, 0).rfind(object_prefix(1), 0), 0u);
}

TEST(Segment, KnownEncoding) {
    // Pinned bytes: the stored format must not drift silently. Four pages from page 8, page 2
    // mapped; the checksum was computed independently (Python, bitwise CRC32C).
    Segment s = segment(8, 4);
    s.entries[2] = PageRef{0x0102030405060708ull, 0x1112131415161718ull, 0x21222324, 0x31323334,
                           0x41424344};
    const std::vector<std::uint8_t> expected = {
        0x49, 0x54, 0x44, 0x53, 0x45, 0x47, 0x30, 0x31,  // "ITDSEG01"
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // first_page 8
        0x04, 0x00, 0x00, 0x00,                          // pages_per_segment 4
        0x01, 0x00, 0x00, 0x00,                          // mapped_count 1
        0x02, 0x00, 0x00, 0x00,                          // index 2
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // tag
        0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,  // id
        0x24, 0x23, 0x22, 0x21,                          // offset_bytes
        0x34, 0x33, 0x32, 0x31,                          // length_bytes
        0x44, 0x43, 0x42, 0x41,                          // crc32c of the page
        0x90, 0x49, 0xe8, 0x2b,                          // crc32c of the 56 bytes above
    };
    EXPECT_EQ(encode_segment(s), expected);
    auto d = decode_segment(expected, 8, 4);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    expect_same(*d, s);
}

TEST(Segment, ChecksumIsCrc32c) {
    std::vector<std::uint8_t> bytes = encode_segment(segment(0, 1));
    ASSERT_EQ(bytes.size(), 28u);
    EXPECT_EQ(load_le32(&bytes[24]), 0x017bab29u);  // computed with Python
    EXPECT_EQ(reference_crc32c(std::span(bytes).first(24)), 0x017bab29u);
}

TEST(Segment, RoundTripEmpty) {
    const Segment s = segment(16384, 16384);
    const auto bytes = encode_segment(s);
    EXPECT_EQ(bytes.size(), 28u);  // all unmapped: header and checksum only
    auto d = decode_segment(bytes, 16384, 16384);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    expect_same(*d, s);
}

TEST(Segment, RoundTripSparse) {
    Segment s = segment(3 * 16384, 16384);
    s.entries[0] = ref(7, 1, 0xdeadbeef);
    s.entries[5000] = PageRef{7, 2, 4096, 8192, 1};
    s.entries[16383] = ref(9, ~0ull, 0);
    const auto bytes = encode_segment(s);
    EXPECT_EQ(bytes.size(), 28u + 3 * 32);
    auto d = decode_segment(bytes, 3 * 16384, 16384);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    expect_same(*d, s);
    EXPECT_FALSE(d->entries[1].mapped());
    EXPECT_EQ(d->entries[5000].offset_bytes, 4096u);
}

TEST(Segment, RoundTripFull) {
    Segment s = segment(~0ull - 7, 8);
    for (std::uint32_t i = 0; i < 8; ++i) s.entries[i] = PageRef{i + 1, i * 3ull, i, 4096, i * 7};
    const auto bytes = encode_segment(s);
    EXPECT_EQ(bytes.size(), 28u + 8 * 32);
    auto d = decode_segment(bytes, ~0ull - 7, 8);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    expect_same(*d, s);
}

TEST(Segment, RoundTripLargestSegment) {
    Segment s = segment(0, 1u << 20);
    s.entries[(1u << 20) - 1] = ref(1, 1);
    auto d = decode_segment(encode_segment(s), 0, 1u << 20);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    expect_same(*d, s);
}

// A two-entry segment (pages 1 and 3 of 4, starting at page 4) that the failure tests damage.
std::vector<std::uint8_t> two_entries() {
    Segment s = segment(4, 4);
    s.entries[1] = ref(5, 6);
    s.entries[3] = ref(5, 7);
    return encode_segment(s);
}
constexpr std::size_t kEntry0 = 24;  // offset of the first entry
constexpr std::size_t kEntry1 = 24 + 32;

TEST(Segment, RejectsBadGeometryArguments) {
    expect_damaged(two_entries(), 4, 0, "pages per segment 0");
    expect_damaged(two_entries(), 4, (1u << 20) + 1, "pages per segment 1048577");
    expect_damaged(two_entries(), 4, ~0u, "not between 1 and 2^20");
}

TEST(Segment, RejectsShortInput) {
    expect_damaged({}, 4, 4, "0 bytes is shorter");
    auto bytes = two_entries();
    bytes.resize(27);
    expect_damaged(bytes, 4, 4, "27 bytes is shorter");
}

TEST(Segment, RejectsBadMagic) {
    auto bytes = two_entries();
    bytes[7] = '2';
    expect_damaged(bytes, 4, 4, "bad magic");
}

TEST(Segment, RejectsWrongFirstPage) {
    expect_damaged(two_entries(), 8, 4, "starts at page 4");
}

TEST(Segment, RejectsWrongPagesPerSegment) {
    expect_damaged(two_entries(), 4, 8, "covers 4 pages, the volume 8");
}

TEST(Segment, RejectsTooManyMapped) {
    auto bytes = two_entries();
    store_le32(&bytes[20], 5);
    reseal(bytes);
    expect_damaged(bytes, 4, 4, "mapped count 5 exceeds");
    // A huge count is refused before anything is reserved for it.
    store_le32(&bytes[20], ~0u);
    expect_damaged(bytes, 4, 4, "mapped count 4294967295");
}

TEST(Segment, RejectsWrongLength) {
    auto longer = two_entries();
    longer.push_back(0);  // a trailing byte
    expect_damaged(longer, 4, 4, "93 bytes, but 2 mapped entries need exactly 92");
    auto shorter = two_entries();
    shorter.pop_back();
    expect_damaged(shorter, 4, 4, "91 bytes");
    auto count = two_entries();
    store_le32(&count[20], 1);  // says one entry, holds two
    expect_damaged(count, 4, 4, "1 mapped entries need exactly 60");
}

TEST(Segment, RejectsChecksumMismatch) {
    auto bytes = two_entries();
    bytes[kEntry1 + 20] ^= 1;  // one bit of the second entry's offset
    expect_damaged(bytes, 4, 4, "checksum mismatch");
    auto trailer = two_entries();
    trailer.back() ^= 0x80;
    expect_damaged(trailer, 4, 4, "checksum mismatch");
}

TEST(Segment, RejectsIndexBeyondSegment) {
    auto bytes = two_entries();
    store_le32(&bytes[kEntry1], 4);
    reseal(bytes);
    expect_damaged(bytes, 4, 4, "entry 1: index 4 is beyond the 4 pages");
}

TEST(Segment, RejectsIndicesNotAscending) {
    auto equal = two_entries();
    store_le32(&equal[kEntry1], 1);
    reseal(equal);
    expect_damaged(equal, 4, 4, "entry 1: index 1 is not above");
    auto descending = two_entries();
    store_le32(&descending[kEntry0], 3);
    store_le32(&descending[kEntry1], 1);
    reseal(descending);
    expect_damaged(descending, 4, 4, "entry 1: index 1 is not above");
}

TEST(Segment, RejectsTagZero) {
    auto bytes = two_entries();
    store_le64(&bytes[kEntry0 + 4], 0);
    reseal(bytes);
    expect_damaged(bytes, 4, 4, "entry 0 (index 1) has tag 0");
}

TEST(Segment, MessageNamesTheSegment) {
    auto d = decode_segment(two_entries(), 8, 4);
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error().message.rfind("page map segment at page 8: ", 0), 0u) << d.error().message;
}

}  // namespace
}  // namespace itd::volume::thin
