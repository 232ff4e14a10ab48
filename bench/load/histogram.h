// A latency histogram in fixed memory with a bounded relative error, in the manner of
// HdrHistogram: log-linear buckets. Values below 2 * kSubBuckets get one bucket each (exact);
// above that, every power of two [2^k, 2^(k+1)) is split into kSubBuckets equal buckets, so a
// bucket is at most 1/kSubBuckets of its lowest value wide. A percentile answers with the
// middle of its bucket, within half a bucket (0.4 %) of the true value.
//
//   value:  0 1 2 … 255 | 256 258 … 510 | 512 516 … 1020 | …   (bucket lower bounds)
//   index:  0 1 2 … 255 | 256 257 … 383 | 384 385 … 511  | …
//
// One histogram per thread, merged at the end; no locks, no allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace itd::load {

class Histogram {
  public:
    static constexpr unsigned kSubBucketBits = 7;
    static constexpr std::uint64_t kSubBuckets = 1u << kSubBucketBits;  // 128: error < 1 %
    // The whole uint64_t range: the exact part, then kSubBuckets per power of two from 2^8 up.
    static constexpr std::size_t kBuckets = 2 * kSubBuckets + (63 - kSubBucketBits) * kSubBuckets;

    Histogram() : counts_(kBuckets, 0) {}

    void record(std::uint64_t value) {
        ++counts_[bucket_of(value)];
        ++count_;
        if (value > max_) max_ = value;
        if (value < min_) min_ = value;
    }
    void merge(const Histogram& other);

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return count_ ? max_ : 0; }
    std::uint64_t min() const { return count_ ? min_ : 0; }

    // The nearest-rank percentile (0 < percent <= 100): the value v such that at least
    // percent % of the recorded values are <= v, give or take half its bucket. 0 when empty.
    std::uint64_t percentile(double percent) const;

    static std::size_t bucket_of(std::uint64_t value) {
        if (value < 2 * kSubBuckets) return static_cast<std::size_t>(value);
        const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(value));
        const unsigned shift = msb - kSubBucketBits;    // >= 1
        const std::uint64_t mantissa = value >> shift;  // in [kSubBuckets, 2 * kSubBuckets)
        return static_cast<std::size_t>(2 * kSubBuckets + (shift - 1) * kSubBuckets +
                                        (mantissa - kSubBuckets));
    }
    // The smallest and largest value that fall into bucket i.
    static std::uint64_t bucket_low(std::size_t i);
    static std::uint64_t bucket_high(std::size_t i);

  private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = UINT64_MAX;
};

}  // namespace itd::load
