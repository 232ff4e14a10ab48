#include "volume/thin/superblock.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <string>

namespace itd::volume::thin {
namespace {

namespace json = boost::json;

// 11 pages of 4 KiB (the last one partial) in segments of 4 pages: 3 segments, the middle
// one stored.
Superblock sample() {
    Superblock sb;
    sb.name = "vol-1";
    sb.tag = 0x0123456789abcdefull;
    sb.size_bytes = 11 * 4096 - 512;
    sb.block_size_bytes = 512;
    sb.page_size_bytes = 4096;
    sb.pages_per_segment = 4;
    sb.generation = 7;
    sb.epoch = 2;
    sb.created_unix_s = 1764547200;
    sb.segments = {SegmentRef{}, SegmentRef{0xab, 1}, SegmentRef{}};
    return sb;
}

constexpr std::string_view kSampleJson =
    R"({"format":1,"name":"vol-1","tag":"0123456789abcdef","size_bytes":"44544",)"
    R"("block_size_bytes":512,"page_size_bytes":4096,"pages_per_segment":4,"generation":"7",)"
    R"("epoch":"2","created":"1764547200","origin":"","snapshot":"","snapshot_created":"0",)"
    R"("segments":[null,"00000000000000ab:0000000000000001",null]})";

void expect_same(const Superblock& a, const Superblock& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.tag, b.tag);
    EXPECT_EQ(a.size_bytes, b.size_bytes);
    EXPECT_EQ(a.block_size_bytes, b.block_size_bytes);
    EXPECT_EQ(a.page_size_bytes, b.page_size_bytes);
    EXPECT_EQ(a.pages_per_segment, b.pages_per_segment);
    EXPECT_EQ(a.generation, b.generation);
    EXPECT_EQ(a.epoch, b.epoch);
    EXPECT_EQ(a.created_unix_s, b.created_unix_s);
    EXPECT_EQ(a.origin, b.origin);
    EXPECT_EQ(a.snapshot, b.snapshot);
    EXPECT_EQ(a.snapshot_created_unix_s, b.snapshot_created_unix_s);
    EXPECT_EQ(a.segments, b.segments);
}

Superblock round_trip(const Superblock& sb) {
    auto d = decode_superblock(encode_superblock(sb));
    EXPECT_TRUE(d.has_value()) << d.error().message;
    return d.value_or(Superblock{});
}

// The sample's JSON changed by `mutate`, then decoded: fails with io_error mentioning `expect`.
void expect_damaged(const std::function<void(json::object&)>& mutate, const std::string& expect) {
    json::value v = json::parse(encode_superblock(sample()));
    mutate(v.as_object());
    auto d = decode_superblock(json::serialize(v));
    ASSERT_FALSE(d.has_value()) << expect;
    EXPECT_EQ(d.error().code, Errc::io_error);
    EXPECT_NE(d.error().message.find(expect), std::string::npos) << d.error().message;
}

void expect_damaged_text(std::string_view text, const std::string& expect) {
    auto d = decode_superblock(text);
    ASSERT_FALSE(d.has_value()) << text;
    EXPECT_EQ(d.error().code, Errc::io_error);
    EXPECT_NE(d.error().message.find(expect), std::string::npos) << d.error().message;
}

TEST(Superblock, KnownEncoding) {
    EXPECT_EQ(encode_superblock(sample()), kSampleJson);
    auto d = decode_superblock(kSampleJson);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    expect_same(*d, sample());
}

TEST(Superblock, Geometry) {
    const Superblock sb = sample();
    EXPECT_EQ(sb.page_count(), 11u);
    EXPECT_EQ(sb.segment_count(), 3u);
}

TEST(Superblock, RoundTripNullAndMappedSegments) {
    Superblock sb = sample();
    sb.segments = {SegmentRef{1, 0}, SegmentRef{~0ull, ~0ull}, SegmentRef{}};
    expect_same(round_trip(sb), sb);
    sb.segments = {SegmentRef{}, SegmentRef{}, SegmentRef{}};
    expect_same(round_trip(sb), sb);
}

TEST(Superblock, RoundTripCloneAndSnapshot) {
    Superblock clone = sample();
    clone.origin = "base.img@nightly_2026-12-01";
    expect_same(round_trip(clone), clone);

    Superblock snap = sample();
    snap.snapshot = "before-upgrade";
    snap.snapshot_created_unix_s = 1764550800;
    expect_same(round_trip(snap), snap);
}

TEST(Superblock, RoundTripExtremes) {
    Superblock sb;
    sb.name = std::string(64, 'z');
    sb.tag = ~0ull;
    sb.block_size_bytes = 65536;
    sb.page_size_bytes = kMaxPageSizeBytes;
    sb.pages_per_segment = 1u << 20;
    sb.size_bytes = 1ull << 42;  // 2^20 pages: one segment
    sb.generation = ~0ull;
    sb.epoch = ~0ull;
    sb.created_unix_s = ~0ull;
    sb.snapshot_created_unix_s = ~0ull;
    sb.segments = {SegmentRef{~0ull, 0}};
    expect_same(round_trip(sb), sb);

    Superblock smallest = sample();
    smallest.size_bytes = 512;
    smallest.pages_per_segment = 1;
    smallest.segments = {SegmentRef{2, 3}};
    expect_same(round_trip(smallest), smallest);
}

TEST(Superblock, DecodesHandWrittenJson) {
    // Whitespace, another field order, an unknown field, uppercase hex, and leading zeros.
    constexpr std::string_view text = R"(
        {
          "segments": [ "00000000000000AB:00000000000000FF" ],
          "comment": {"written by": "a later version"},
          "format": 1,
          "name": "db_2",
          "tag": "00000000DEADBEEF",
          "size_bytes": "1073741824",
          "block_size_bytes": 4096,
          "page_size_bytes": 262144,
          "pages_per_segment": 16384,
          "generation": "0",
          "epoch": "01",
          "created": "1700000000",
          "origin": "",
          "snapshot": "",
          "snapshot_created": "0"
        }
    )";
    auto d = decode_superblock(text);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_EQ(d->name, "db_2");
    EXPECT_EQ(d->tag, 0xdeadbeefu);
    EXPECT_EQ(d->size_bytes, 1u << 30);
    EXPECT_EQ(d->block_size_bytes, 4096u);
    EXPECT_EQ(d->page_size_bytes, 262144u);
    EXPECT_EQ(d->pages_per_segment, 16384u);
    EXPECT_EQ(d->page_count(), 4096u);
    EXPECT_EQ(d->epoch, 1u);
    EXPECT_EQ(d->created_unix_s, 1700000000u);
    ASSERT_EQ(d->segments.size(), 1u);
    EXPECT_EQ(d->segments[0], (SegmentRef{0xab, 0xff}));
    // Written back in the canonical form.
    EXPECT_NE(encode_superblock(*d).find(R"("segments":["00000000000000ab:00000000000000ff"])"),
              std::string::npos);
}

TEST(Superblock, RejectsMalformedJson) {
    expect_damaged_text("", "not valid JSON");
    expect_damaged_text("{", "not valid JSON");
    expect_damaged_text(std::string(kSampleJson) + "x", "not valid JSON");
    expect_damaged_text(R"({"format":1,})", "not valid JSON");
    expect_damaged_text("{\"format\":1,\"name\":\"\xff\"}", "not valid JSON");
    expect_damaged_text(std::string(100, '['), "not valid JSON");  // too deep
    expect_damaged_text("[]", "not a JSON object");
    expect_damaged_text("null", "not a JSON object");
    expect_damaged_text("{}", "missing field \"format\"");
}

TEST(Superblock, RejectsEveryMissingField) {
    for (std::string_view key :
         {"format", "name", "tag", "size_bytes", "block_size_bytes", "page_size_bytes",
          "pages_per_segment", "generation", "epoch", "created", "origin", "snapshot",
          "snapshot_created", "segments"}) {
        expect_damaged([&](json::object& o) { o.erase(key); },
                       "missing field \"" + std::string(key) + "\"");
    }
}

TEST(Superblock, RejectsOtherFormats) {
    expect_damaged([](json::object& o) { o["format"] = 2; }, "\"format\" is 2");
    expect_damaged([](json::object& o) { o["format"] = "1"; }, "\"format\" is \"1\"");
    expect_damaged([](json::object& o) { o["format"] = 1.0; }, "format 1 only");
}

TEST(Superblock, RejectsBadName) {
    expect_damaged([](json::object& o) { o["name"] = "a/b"; },
                   "superblock: volume name 'a/b' is not valid");
    expect_damaged([](json::object& o) { o["name"] = ""; }, "volume name '' is not valid");
    expect_damaged([](json::object& o) { o["name"] = 5; }, "\"name\" is not a string");
}

TEST(Superblock, RejectsBadTag) {
    expect_damaged([](json::object& o) { o["tag"] = "0000000000000000"; }, "\"tag\" is zero");
    expect_damaged([](json::object& o) { o["tag"] = "123"; }, "not a 16-digit hex number");
    expect_damaged([](json::object& o) { o["tag"] = "0123456789abcdeg"; }, "not a 16-digit hex");
    expect_damaged([](json::object& o) { o["tag"] = "00123456789abcdef"; }, "not a 16-digit hex");
    expect_damaged([](json::object& o) { o["tag"] = 1; }, "\"tag\" is not a string");
}

TEST(Superblock, RejectsBadBlockSize) {
    for (std::int64_t bs : {0, 256, 520, 131072}) {
        expect_damaged([&](json::object& o) { o["block_size_bytes"] = bs; },
                       "\"block_size_bytes\" " + std::to_string(bs) + " is not a power of two");
    }
    expect_damaged([](json::object& o) { o["block_size_bytes"] = -512; },
                   "\"block_size_bytes\" is not an integer");
    expect_damaged([](json::object& o) { o["block_size_bytes"] = 512.0; },
                   "\"block_size_bytes\" is not an integer");
    expect_damaged([](json::object& o) { o["block_size_bytes"] = "512"; },
                   "\"block_size_bytes\" is not an integer");
    expect_damaged([](json::object& o) { o["block_size_bytes"] = 4294967808ull; },
                   "\"block_size_bytes\" is not an integer");
}

TEST(Superblock, RejectsBadPageSize) {
    for (std::int64_t ps : {0, 2048, 12288, 8 << 20}) {
        expect_damaged([&](json::object& o) { o["page_size_bytes"] = ps; },
                       "\"page_size_bytes\" " + std::to_string(ps) + " is not a power of two");
    }
    expect_damaged(
        [](json::object& o) {
            o["block_size_bytes"] = 65536;
            o["page_size_bytes"] = 32768;
        },
        "\"page_size_bytes\" 32768 is smaller than the block size 65536");
}

TEST(Superblock, RejectsBadSize) {
    expect_damaged([](json::object& o) { o["size_bytes"] = "0"; },
                   "\"size_bytes\" 0 is not a non-zero multiple of the block size 512");
    expect_damaged([](json::object& o) { o["size_bytes"] = "44545"; },
                   "\"size_bytes\" 44545 is not a non-zero multiple");
    // 2^64 - 512 is a multiple of the block size, but its last page would end beyond 2^64.
    expect_damaged([](json::object& o) { o["size_bytes"] = "18446744073709551104"; },
                   "rounded up to whole pages does not fit in 64 bits");
    expect_damaged([](json::object& o) { o["size_bytes"] = "18446744073709548032"; },
                   "rounded up to whole pages does not fit in 64 bits");
    // 2^64 - 4096, the largest size with 4 KiB pages, passes that check (and fails on the
    // segment count: 2^52 - 1 pages need 2^50 segments of 4).
    expect_damaged([](json::object& o) { o["size_bytes"] = "18446744073709547520"; },
                   "need 1125899906842624");
    expect_damaged([](json::object& o) { o["size_bytes"] = "18446744073709551616"; },
                   "is not a decimal number below 2^64");
    for (const char* bad : {"", "-512", "+512", " 512", "512 ", "5e2", "0x200", "512.0"}) {
        expect_damaged([&](json::object& o) { o["size_bytes"] = bad; },
                       "\"size_bytes\" '" + std::string(bad) + "' is not a decimal number");
    }
    expect_damaged([](json::object& o) { o["size_bytes"] = 44544; },
                   "\"size_bytes\" is not a string");
}

TEST(Superblock, RejectsBadCounters) {
    for (std::string_view key : {"generation", "epoch", "created", "snapshot_created"}) {
        expect_damaged([&](json::object& o) { o[key] = "x"; },
                       "\"" + std::string(key) + "\" 'x' is not a decimal number");
        expect_damaged([&](json::object& o) { o[key] = 1; },
                       "\"" + std::string(key) + "\" is not a string");
    }
}

TEST(Superblock, RejectsBadPagesPerSegment) {
    for (std::int64_t pps : {0, 3, 1 << 21}) {
        expect_damaged([&](json::object& o) { o["pages_per_segment"] = pps; },
                       "\"pages_per_segment\" " + std::to_string(pps) + " is not a power of two");
    }
}

TEST(Superblock, RejectsSegmentCountMismatch) {
    expect_damaged([](json::object& o) { o["segments"].as_array().pop_back(); },
                   "\"segments\" has 2 elements, but 11 pages of 4 per segment need 3");
    expect_damaged([](json::object& o) { o["segments"].as_array().emplace_back(nullptr); },
                   "\"segments\" has 4 elements");
    expect_damaged([](json::object& o) { o["pages_per_segment"] = 8; },
                   "\"segments\" has 3 elements, but 11 pages of 8 per segment need 2");
    // A huge size with a short array: refused without building anything for it.
    expect_damaged([](json::object& o) { o["size_bytes"] = "9223372036854775808"; },
                   "need 562949953421312");
    expect_damaged([](json::object& o) { o["segments"] = "none"; },
                   "\"segments\" is not an array");
}

TEST(Superblock, RejectsBadSegmentRefs) {
    const auto set1 = [](json::value v) {
        return [v](json::object& o) { o["segments"].as_array()[1] = v; };
    };
    expect_damaged(set1(0), "\"segments\"[1] is neither null nor");
    expect_damaged(set1(json::array{}), "\"segments\"[1] is neither null nor");
    for (const char* bad : {"", "00000000000000ab", "00000000000000ab:", ":0000000000000001",
                            "00000000000000ab-0000000000000001", "ab:1",
                            "00000000000000ab:0000000000000001:", "00000000000000ab:000000000000000x",
                            " 0000000000000ab:0000000000000001"}) {
        expect_damaged(set1(bad), "\"segments\"[1] '" + std::string(bad) + "' is not TAG:ID");
    }
    expect_damaged(set1("0000000000000000:0000000000000001"), "\"segments\"[1] has tag 0");
}

TEST(Superblock, RejectsBadOriginAndSnapshot) {
    expect_damaged([](json::object& o) { o["origin"] = "base"; },
                   "\"origin\": origin 'base' is not VOLUME@SNAPSHOT");
    expect_damaged([](json::object& o) { o["origin"] = "base@"; },
                   "\"origin\": snapshot name '' is not valid");
    expect_damaged([](json::object& o) { o["origin"] = "@snap"; },
                   "\"origin\": volume name '' is not valid");
    expect_damaged([](json::object& o) { o["origin"] = "a@b@c"; },
                   "\"origin\": snapshot name 'b@c' is not valid");
    expect_damaged([](json::object& o) { o["snapshot"] = ".hidden"; },
                   "\"snapshot\": snapshot name '.hidden' is not valid");
    expect_damaged([](json::object& o) { o["origin"] = nullptr; }, "\"origin\" is not a string");
}

TEST(Superblock, HostileNamesAreShortenedInMessages) {
    auto d = decode_superblock(
        R"({"format":1,"name":")" + std::string(10000, 'n') + "\\u0001\"}");
    ASSERT_FALSE(d.has_value());
    EXPECT_LT(d.error().message.size(), 300u) << d.error().message;
}

TEST(Keys, MetaStoreKeys) {
    EXPECT_EQ(volume_key("vol-1"), "volumes/vol-1");
    EXPECT_EQ(snapshot_key("vol-1", "nightly"), "snapshots/vol-1/nightly");
    EXPECT_EQ(snapshot_prefix("vol-1"), "snapshots/vol-1/");
    EXPECT_EQ(snapshot_key("v", "s").rfind(snapshot_prefix("v"), 0), 0u);
}

TEST(CheckName, Accepts) {
    for (std::string_view name : {"a", "A", "0", "_", "vol-1", "a.b_c-D9", "x.", "x-"}) {
        EXPECT_TRUE(check_name("volume", name).has_value()) << name;
    }
    EXPECT_TRUE(check_name("volume", std::string(64, 'a')).has_value());
}

TEST(CheckName, Rejects) {
    for (std::string_view name : std::initializer_list<std::string_view>{"", ".", "..", ".a", "-a", "a/b", "a b", "a@b", "a:b", "a\\b",
                                  "caf\xc3\xa9", std::string_view("a\0b", 3)}) {
        auto ok = check_name("snapshot", name);
        ASSERT_FALSE(ok.has_value()) << name;
        EXPECT_EQ(ok.error().code, Errc::invalid_argument);
        EXPECT_EQ(ok.error().message.rfind("snapshot name '", 0), 0u) << ok.error().message;
    }
    EXPECT_FALSE(check_name("volume", std::string(65, 'a')).has_value());
}

TEST(CheckName, Message) {
    auto ok = check_name("volume", "x/y");
    ASSERT_FALSE(ok.has_value());
    EXPECT_EQ(ok.error().message,
              "volume name 'x/y' is not valid: use 1..64 characters of A-Z a-z 0-9 . _ -, not "
              "starting with . or -");
}

}  // namespace
}  // namespace itd::volume::thin
