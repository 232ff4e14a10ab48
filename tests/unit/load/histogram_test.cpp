#include "histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "workload.h"

namespace itd::load {
namespace {

// The nearest-rank percentile of a sorted sample: what Histogram::percentile approximates.
std::uint64_t reference(const std::vector<std::uint64_t>& sorted, double percent) {
    auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * sorted.size()));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

void expect_close(const Histogram& h, std::vector<std::uint64_t> values) {
    std::sort(values.begin(), values.end());
    for (double p : {0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        const double want = static_cast<double>(reference(values, p));
        const double got = static_cast<double>(h.percentile(p));
        EXPECT_LE(std::abs(got - want), want * 0.01) << "p" << p << ": " << got << " vs " << want;
    }
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.min(), values.front());
    EXPECT_EQ(h.count(), values.size());
}

TEST(Histogram, EmptyAnswersZero) {
    Histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.percentile(50), 0u);
    EXPECT_EQ(h.max(), 0u);
}

TEST(Histogram, SmallValuesAreExact) {
    Histogram h;
    std::vector<std::uint64_t> values;
    for (std::uint64_t v = 0; v < 256; ++v) {
        h.record(v);
        values.push_back(v);
    }
    EXPECT_EQ(h.percentile(50), 127u);
    EXPECT_EQ(h.percentile(100), 255u);
    expect_close(h, values);
}

// Every bucket's bounds meet the next one's, and each value falls inside its own bucket, with
// a width of at most 1/128 of the bucket's lowest value.
TEST(Histogram, BucketsTileTheRange) {
    for (std::size_t i = 0; i + 1 < Histogram::kBuckets; ++i) {
        ASSERT_EQ(Histogram::bucket_high(i) + 1, Histogram::bucket_low(i + 1)) << i;
        ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_low(i)), i);
        ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_high(i)), i);
        const auto width = Histogram::bucket_high(i) - Histogram::bucket_low(i) + 1;
        ASSERT_LE(width * 128, std::max<std::uint64_t>(Histogram::bucket_low(i), 128)) << i;
    }
    EXPECT_EQ(Histogram::bucket_of(UINT64_MAX), Histogram::kBuckets - 1);
    EXPECT_EQ(Histogram::bucket_high(Histogram::kBuckets - 1), UINT64_MAX);
}

// Latency-like values: log-uniform from 1 us to 100 ms in nanoseconds, plus a tail.
TEST(Histogram, PercentilesMatchASortedReference) {
    Rng rng(42);
    Histogram h;
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 200000; ++i) {
        const double exponent = 3.0 + 5.0 * static_cast<double>(rng.below(1u << 30)) / (1u << 30);
        auto v = static_cast<std::uint64_t>(std::pow(10.0, exponent));
        if (i % 1000 == 0) v *= 50;  // outliers
        h.record(v);
        values.push_back(v);
    }
    expect_close(h, values);
}

TEST(Histogram, MergeEqualsRecordingIntoOne) {
    Rng rng(7);
    Histogram a, b, all;
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 50000; ++i) {
        const std::uint64_t v = 1000 + rng.below(5'000'000);
        (i % 3 ? a : b).record(v);
        all.record(v);
        values.push_back(v);
    }
    a.merge(b);
    for (double p : {50.0, 99.0, 99.9}) EXPECT_EQ(a.percentile(p), all.percentile(p));
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.max(), all.max());
    expect_close(a, values);
}

TEST(Histogram, OneValueIsItsOwnPercentiles) {
    Histogram h;
    h.record(123456789);
    EXPECT_EQ(h.percentile(0.1), 123456789u);
    EXPECT_EQ(h.percentile(50), 123456789u);
    EXPECT_EQ(h.percentile(100), 123456789u);
}

}  // namespace
}  // namespace itd::load
