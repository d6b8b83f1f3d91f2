#include "harness/histogram.h"

#include <algorithm>
#include <cmath>

namespace kvb {

uint64_t Histogram::BucketLow(size_t index) {
  size_t row = index >> kSubBits;
  int shift = row > 0 ? static_cast<int>(row) - 1 : 0;
  uint64_t top = index - (static_cast<uint64_t>(shift) << kSubBits);
  return top << shift;
}

uint64_t Histogram::BucketWidth(size_t index) {
  size_t row = index >> kSubBits;
  return uint64_t{1} << (row > 0 ? row - 1 : 0);
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

void Histogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  auto rank =
      static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      uint64_t mid = BucketLow(i) + BucketWidth(i) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

std::vector<Histogram::Range> Histogram::Export(int sub_bits) const {
  std::vector<Range> out;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (counts_[i] == 0) continue;
    const uint64_t v = BucketLow(i);
    const int msb = 63 - __builtin_clzll(v | 1);
    const int shift = msb < sub_bits ? 0 : msb - sub_bits;
    const uint64_t lo = (v >> shift) << shift;
    if (!out.empty() && out.back().lo == lo) {
      out.back().count += counts_[i];
    } else {
      out.push_back({lo, lo + (uint64_t{1} << shift), counts_[i]});
    }
  }
  return out;
}

}  // namespace kvb
