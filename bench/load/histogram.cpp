#include "histogram.h"

#include <algorithm>
#include <cmath>

namespace itd::load {

void Histogram::merge(const Histogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
}

std::uint64_t Histogram::bucket_low(std::size_t i) {
    if (i < 2 * kSubBuckets) return i;
    const std::size_t shift = (i - 2 * kSubBuckets) / kSubBuckets + 1;
    const std::uint64_t mantissa = kSubBuckets + (i - 2 * kSubBuckets) % kSubBuckets;
    return mantissa << shift;
}

std::uint64_t Histogram::bucket_high(std::size_t i) {
    if (i < 2 * kSubBuckets) return i;
    const std::size_t shift = (i - 2 * kSubBuckets) / kSubBuckets + 1;
    // The top bucket ends at UINT64_MAX: low + (2^shift - 1) does not overflow.
    return bucket_low(i) + ((std::uint64_t{1} << shift) - 1);
}

std::uint64_t Histogram::percentile(double percent) const {
    if (count_ == 0) return 0;
    // Nearest rank: the ceil(p/100 * n)-th smallest value, counting from 1.
    auto rank =
        static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            const std::uint64_t low = bucket_low(i);
            const std::uint64_t mid = low + (bucket_high(i) - low) / 2;
            // The extremes are known exactly; no answer lies outside them.
            return std::clamp(mid, min_, max_);
        }
    }
    return max_;
}

}  // namespace itd::load
