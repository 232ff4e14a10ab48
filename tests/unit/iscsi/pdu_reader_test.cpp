#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "iscsi/digest.h"
#include "iscsi/pdu_reader.h"

namespace itd::iscsi {
namespace {

Pdu sample_pdu(std::size_t data_bytes, std::size_t ahs_words = 0) {
    Pdu pdu;
    pdu.bhs.set_opcode(Opcode::scsi_command);
    pdu.bhs.set_flags(flag::final_bit | flag::write);
    pdu.bhs.set_itt(0x12345678);
    pdu.bhs.set_cmd_sn(42);
    pdu.ahs.resize(ahs_words * 4);
    std::iota(pdu.ahs.begin(), pdu.ahs.end(), 100);
    pdu.data.resize(data_bytes);
    std::iota(pdu.data.begin(), pdu.data.end(), 1);
    return pdu;
}

// Feeds the whole stream in chunks of `chunk` bytes; returns the PDUs.
std::vector<Pdu> read_all(PduReader& reader, std::span<const std::uint8_t> stream,
                          std::size_t chunk) {
    std::vector<Pdu> out;
    while (!stream.empty()) {
        auto piece = stream.first(std::min(chunk, stream.size()));
        auto n = reader.feed(piece);
        EXPECT_TRUE(n.has_value());
        if (!n) return out;
        EXPECT_LE(*n, piece.size());
        stream = stream.subspan(*n);
        if (reader.has_pdu()) out.push_back(reader.take());
    }
    return out;
}

void expect_same(const Pdu& got, const Pdu& want) {
    EXPECT_EQ(got.bhs.opcode(), want.bhs.opcode());
    EXPECT_EQ(got.bhs.itt(), want.bhs.itt());
    EXPECT_EQ(got.bhs.data_segment_length(), want.data.size());
    EXPECT_EQ(got.bhs.total_ahs_words(), want.ahs.size() / 4);
    EXPECT_EQ(got.ahs, want.ahs);
    EXPECT_EQ(got.data, want.data);
}

TEST(Serialize, SetsLengthsAndPads) {
    auto pdu = sample_pdu(5, 1);
    auto wire = serialize(pdu, false, false);
    ASSERT_EQ(wire.size(), 48u + 4 + 8);
    EXPECT_EQ(wire[4], 1);  // TotalAHSLength
    EXPECT_EQ(wire[5], 0);
    EXPECT_EQ(wire[6], 0);
    EXPECT_EQ(wire[7], 5);  // DataSegmentLength
    EXPECT_EQ(wire[48 + 4 + 5], 0);
    EXPECT_EQ(wire[48 + 4 + 7], 0);
}

TEST(Serialize, DigestsCoverHeaderAndPaddedData) {
    auto pdu = sample_pdu(6, 2);
    auto wire = serialize(pdu, true, true);
    ASSERT_EQ(wire.size(), 48u + 8 + 4 + 8 + 4);
    EXPECT_EQ(load_digest(&wire[56]), crc32c(std::span(wire).first(56)));
    EXPECT_EQ(load_digest(&wire[68]), crc32c(std::span(wire).subspan(60, 8)));
}

TEST(Serialize, NoDataDigestWithoutData) {
    auto wire = serialize(sample_pdu(0), true, true);
    EXPECT_EQ(wire.size(), 48u + 4);
}

struct RoundTrip : ::testing::TestWithParam<std::tuple<bool, bool, std::size_t>> {};

TEST_P(RoundTrip, AnyChunking) {
    auto [hd, dd, chunk] = GetParam();
    std::vector<Pdu> pdus = {sample_pdu(0), sample_pdu(1), sample_pdu(7, 3), sample_pdu(8192),
                             sample_pdu(4, 255)};
    std::vector<std::uint8_t> stream;
    for (const auto& p : pdus) {
        auto w = serialize(p, hd, dd);
        stream.insert(stream.end(), w.begin(), w.end());
    }
    PduReader reader;
    reader.set_limits({8192, hd, dd});
    auto got = read_all(reader, stream, chunk);
    ASSERT_EQ(got.size(), pdus.size());
    for (std::size_t i = 0; i < pdus.size(); ++i) expect_same(got[i], pdus[i]);
    EXPECT_TRUE(reader.idle());
}

INSTANTIATE_TEST_SUITE_P(Digests, RoundTrip,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(),
                                            ::testing::Values(1, 3, 48, 49, 4096, 1 << 20)));

TEST(PduReader, StopsAfterOnePdu) {
    auto a = serialize(sample_pdu(3), false, false);
    auto b = serialize(sample_pdu(9), false, false);
    std::vector<std::uint8_t> stream = a;
    stream.insert(stream.end(), b.begin(), b.end());
    PduReader reader;
    auto n = reader.feed(stream);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, a.size());
    EXPECT_TRUE(reader.has_pdu());
}

TEST(PduReader, LimitsChangeBetweenPdus) {
    // The login response is read without digests, the next PDU with them.
    auto a = serialize(sample_pdu(3), false, false);
    auto b = serialize(sample_pdu(9), true, true);
    std::vector<std::uint8_t> stream = a;
    stream.insert(stream.end(), b.begin(), b.end());
    PduReader reader;
    auto n = reader.feed(stream);
    ASSERT_TRUE(n);
    reader.take();
    reader.set_limits({8192, true, true});
    auto m = reader.feed(std::span(stream).subspan(*n));
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, b.size());
    ASSERT_TRUE(reader.has_pdu());
    expect_same(reader.take(), sample_pdu(9));
}

TEST(PduReader, OversizedDataSegmentFailsBeforeReadingData) {
    auto wire = serialize(sample_pdu(8193), false, false);
    PduReader reader;
    auto n = reader.feed(std::span(wire).first(48));
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), FramingError::oversized_data_segment);
}

TEST(PduReader, LargerLimitAcceptsLargerSegment) {
    auto wire = serialize(sample_pdu(262144), false, false);
    PduReader reader;
    reader.set_limits({262144, false, false});
    auto n = reader.feed(wire);
    ASSERT_TRUE(n);
    EXPECT_TRUE(reader.has_pdu());
}

TEST(PduReader, HeaderDigestMismatch) {
    for (std::size_t corrupt : {std::size_t{0}, std::size_t{20}, std::size_t{47}, std::size_t{48},
                                std::size_t{51}}) {
        auto wire = serialize(sample_pdu(16, 1), true, false);
        wire[corrupt] ^= 0x01;
        PduReader reader;
        reader.set_limits({8192, true, false});
        auto n = reader.feed(wire);
        ASSERT_FALSE(n) << corrupt;
        EXPECT_EQ(n.error(), FramingError::header_digest_mismatch) << corrupt;
    }
}

TEST(PduReader, CorruptLengthUnderHeaderDigestIsADigestError) {
    // A flipped length bit must not be believed before the digest has been checked.
    auto wire = serialize(sample_pdu(16), true, false);
    wire[5] = 0xff;
    PduReader reader;
    reader.set_limits({8192, true, false});
    auto n = reader.feed(wire);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), FramingError::header_digest_mismatch);
}

TEST(PduReader, DataDigestMismatchDropsOnePduAndStaysInStep) {
    auto bad = serialize(sample_pdu(10), true, true);
    bad[48 + 4 + 11] ^= 0x80;  // a padding byte: the digest covers padding too
    auto good = serialize(sample_pdu(20), true, true);
    std::vector<std::uint8_t> stream = bad;
    stream.insert(stream.end(), good.begin(), good.end());
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, stream.size()}) {
        PduReader reader;
        reader.set_limits({8192, true, true});
        std::span<const std::uint8_t> rest = stream;
        bool saw_error = false;
        std::vector<Pdu> got;
        while (!rest.empty()) {
            auto piece = rest.first(std::min(chunk, rest.size()));
            auto n = reader.feed(piece);
            if (!n) {
                EXPECT_EQ(n.error(), FramingError::data_digest_mismatch);
                EXPECT_EQ(reader.last_header().itt(), 0x12345678u);
                EXPECT_EQ(reader.last_header().data_segment_length(), 10u);
                saw_error = true;
                rest = rest.subspan(reader.last_feed_bytes());
                continue;
            }
            rest = rest.subspan(*n);
            if (reader.has_pdu()) got.push_back(reader.take());
        }
        EXPECT_TRUE(saw_error);
        ASSERT_EQ(got.size(), 1u) << chunk;
        expect_same(got[0], sample_pdu(20));
    }
}

TEST(PduReader, RandomSplitsRoundTrip) {
    std::mt19937 rng(7);
    std::vector<Pdu> pdus;
    std::vector<std::uint8_t> stream;
    for (int i = 0; i < 50; ++i) {
        pdus.push_back(sample_pdu(rng() % 3000, rng() % 4));
        auto w = serialize(pdus.back(), true, true);
        stream.insert(stream.end(), w.begin(), w.end());
    }
    PduReader reader;
    reader.set_limits({8192, true, true});
    std::vector<Pdu> got;
    std::span<const std::uint8_t> rest = stream;
    while (!rest.empty()) {
        auto piece = rest.first(std::min<std::size_t>(1 + rng() % 200, rest.size()));
        auto n = reader.feed(piece);
        ASSERT_TRUE(n);
        rest = rest.subspan(*n);
        if (reader.has_pdu()) got.push_back(reader.take());
    }
    ASSERT_EQ(got.size(), pdus.size());
    for (std::size_t i = 0; i < pdus.size(); ++i) expect_same(got[i], pdus[i]);
}

}  // namespace
}  // namespace itd::iscsi

namespace itd::iscsi {
namespace {

std::vector<std::uint8_t> flatten(const OutputChunk& chunk) {
    std::vector<std::uint8_t> out;
    for (auto piece : chunk.pieces()) out.insert(out.end(), piece.begin(), piece.end());
    EXPECT_EQ(out.size(), chunk.size());
    return out;
}

TEST(SerializeBorrowed, SameBytesAsAnOwnedPdu) {
    // Every padding length, with and without each digest, with and without an AHS.
    for (std::size_t n : {0, 1, 2, 3, 4, 5, 7, 8, 4096, 4097}) {
        for (std::size_t ahs_words : {0, 2}) {
            for (bool hd : {false, true}) {
                for (bool dd : {false, true}) {
                    const Pdu owned = sample_pdu(n, ahs_words);
                    Pdu header = owned;
                    header.data.clear();
                    auto buffer = std::make_shared<std::vector<std::uint8_t>>(owned.data);
                    OutputChunk chunk = serialize_borrowed(
                        header, std::span<const std::uint8_t>(*buffer), buffer, hd, dd);
                    // The data digest waits for its sender; its room is counted already.
                    EXPECT_EQ(chunk.digest_pending, dd && n > 0);
                    EXPECT_EQ(chunk.size(), serialize(owned, hd, dd).size());
                    finish_data_digest(chunk);
                    EXPECT_FALSE(chunk.digest_pending);
                    EXPECT_EQ(flatten(chunk), serialize(owned, hd, dd))
                        << n << " bytes, " << ahs_words << " AHS words, hd " << hd << " dd " << dd;
                    EXPECT_EQ(chunk.data.data(), buffer->data());  // borrowed, not copied
                    EXPECT_EQ(flatten(serialize_chunk(owned, hd, dd)), serialize(owned, hd, dd));
                }
            }
        }
    }
}

TEST(SerializeBorrowed, KeepsItsBufferAlive) {
    auto buffer = std::make_shared<std::vector<std::uint8_t>>(100, 7);
    std::weak_ptr<std::vector<std::uint8_t>> weak = buffer;
    Pdu header = sample_pdu(0);
    OutputChunk chunk = serialize_borrowed(header, std::span<const std::uint8_t>(*buffer), buffer,
                                           false, false);
    buffer.reset();
    EXPECT_FALSE(weak.expired());
    EXPECT_EQ(flatten(chunk)[kBhsBytes + 99], 7);
    chunk = OutputChunk{};
    EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace itd::iscsi

namespace itd::iscsi {
namespace {

// A reader that places every data segment of opcode SCSI Command into `target`.
struct PlacingReader {
    PduReader reader;
    std::vector<std::uint8_t> target;
    int placements = 0;
    PlacingReader(bool hd, bool dd) {
        reader.set_limits({.max_data_segment_bytes = 1 << 20, .header_digest = hd, .data_digest = dd});
        reader.set_placement([this](const Bhs& bhs) -> std::span<std::uint8_t> {
            ++placements;
            target.assign(bhs.data_segment_length(), 0);
            return target;
        });
    }
};

TEST(PduReaderPlacement, DataGoesToThePlacementBuffer) {
    for (std::size_t n : {1, 2, 3, 4, 5, 4096, 4099}) {
        for (bool hd : {false, true}) {
            for (bool dd : {false, true}) {
                for (std::size_t chunk : {1, 3, 64, 100000}) {
                    PlacingReader p(hd, dd);
                    const Pdu want = sample_pdu(n);
                    auto wire = serialize(want, hd, dd);
                    auto next = serialize(sample_pdu(0), hd, dd);  // a PDU after it
                    wire.insert(wire.end(), next.begin(), next.end());
                    auto got = read_all(p.reader, wire, chunk);
                    ASSERT_EQ(got.size(), 2u) << n << " " << hd << dd << " chunk " << chunk;
                    EXPECT_TRUE(got[0].data.empty());
                    EXPECT_EQ(got[0].placed_bytes, n);
                    EXPECT_EQ(p.target, want.data);
                    EXPECT_EQ(got[1].placed_bytes, 0u);
                    EXPECT_EQ(p.placements, 1);  // the empty segment asks for no placement
                }
            }
        }
    }
}

TEST(PduReaderPlacement, DataDigestErrorDropsThePduAndKeepsTheStream) {
    PlacingReader p(false, true);
    auto wire = serialize(sample_pdu(10), false, true);
    wire.back() ^= 1;  // the data digest
    auto next = serialize(sample_pdu(0), false, true);
    wire.insert(wire.end(), next.begin(), next.end());
    auto n = p.reader.feed(wire);
    ASSERT_FALSE(n.has_value());
    EXPECT_EQ(n.error(), FramingError::data_digest_mismatch);
    const std::size_t used = p.reader.last_feed_bytes();
    EXPECT_EQ(used, wire.size() - next.size());
    auto rest = std::span<const std::uint8_t>(wire).subspan(used);
    auto got = read_all(p.reader, rest, 7);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].bhs.data_segment_length(), 0u);
}

TEST(PduReaderPlacement, TheCallerCanFillTheWindowItself) {
    for (bool dd : {false, true}) {
        PlacingReader p(false, dd);
        const Pdu want = sample_pdu(4099);  // one byte of padding
        const auto wire = serialize(want, false, dd);
        auto n = p.reader.feed(std::span(wire).first(kBhsBytes + 5));
        ASSERT_TRUE(n.has_value());
        EXPECT_EQ(*n, kBhsBytes + 5);
        auto window = p.reader.placement_window();
        ASSERT_EQ(window.size(), 4099u - 5);
        // The socket reads in two parts straight into the window.
        std::copy_n(wire.begin() + kBhsBytes + 5, 1000, window.begin());
        ASSERT_TRUE(p.reader.placed(1000).has_value());
        window = p.reader.placement_window();
        ASSERT_EQ(window.size(), 4099u - 1005);
        std::copy_n(wire.begin() + kBhsBytes + 1005, window.size(), window.begin());
        ASSERT_TRUE(p.reader.placed(window.size()).has_value());
        EXPECT_TRUE(p.reader.placement_window().empty());
        EXPECT_FALSE(p.reader.has_pdu());  // padding (and digest) still to come
        auto trailer = std::span(wire).subspan(kBhsBytes + 4099);
        auto used = p.reader.feed(trailer);
        ASSERT_TRUE(used.has_value());
        EXPECT_EQ(*used, trailer.size());
        ASSERT_TRUE(p.reader.has_pdu());
        EXPECT_EQ(p.reader.take().placed_bytes, 4099u);
        EXPECT_EQ(p.target, want.data);
    }
}

TEST(PduReaderPlacement, AWindowFilledToTheEndCompletesAPduWithoutTrailer) {
    PlacingReader p(false, false);
    const Pdu want = sample_pdu(4096);  // no padding, no digest
    const auto wire = serialize(want, false, false);
    ASSERT_TRUE(p.reader.feed(std::span(wire).first(kBhsBytes)).has_value());
    auto window = p.reader.placement_window();
    ASSERT_EQ(window.size(), 4096u);
    std::copy_n(wire.begin() + kBhsBytes, 4096, window.begin());
    ASSERT_TRUE(p.reader.placed(4096).has_value());
    ASSERT_TRUE(p.reader.has_pdu());
    EXPECT_EQ(p.target, want.data);
}

}  // namespace
}  // namespace itd::iscsi
