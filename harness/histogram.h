// kvb::Histogram — an HDR-style log-linear latency histogram.
//
// Values below 4096 are counted exactly; above, each power-of-two range is
// split into 2048 equal buckets, so a bucket's width is at most 1/2048 of its
// lower bound and a reported percentile (the bucket midpoint, clamped to the
// observed min/max) is within 1/4096 ≈ 0.025 % of a recorded value — better
// than HdrHistogram's 3 significant digits. Values up to 2^38 units are
// resolved; larger ones fall in the last bucket (max is still exact). The unit
// is whatever the caller records (CPU timestamp ticks in the harness, converted
// to ns when reported), so Record is an index computation and an increment: no
// conversion, no branch beyond min/max. Histograms merge by adding counts
// (threads record privately, the runner merges). Thread safety: none; one
// writer at a time.
#ifndef KVB_HARNESS_HISTOGRAM_H_
#define KVB_HARNESS_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvb {

class Histogram {
 public:
  static constexpr int kSubBits = 11;
  static constexpr int kMaxShift = 27;
  static constexpr size_t kBuckets = size_t{kMaxShift + 2} << kSubBits;
  static constexpr uint64_t kMaxTracked =
      (uint64_t{1} << (kSubBits + 1 + kMaxShift)) - 1;

  Histogram() : counts_(kBuckets, 0) {}

  static size_t Index(uint64_t v) {
    if (v > kMaxTracked) v = kMaxTracked;
    int msb = 63 - __builtin_clzll(v | 1);
    int shift = msb - kSubBits;
    if (shift < 0) shift = 0;
    return (static_cast<size_t>(shift) << kSubBits) + (v >> shift);
  }
  // The smallest value and the width of bucket `index`.
  static uint64_t BucketLow(size_t index);
  static uint64_t BucketWidth(size_t index);

  void Record(uint64_t v) {
    ++counts_[Index(v)];
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
  }
  void Merge(const Histogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const {
    return count_ ? static_cast<double>(sum_) / count_ : 0;
  }
  // The value at percentile p in [0, 100] (nearest rank); 0 when empty.
  uint64_t Percentile(double p) const;

  // The counts on a coarser log-linear grid for export: values below
  // 2^sub_bits one unit wide, above, each power-of-two range in 2^sub_bits
  // equal buckets (so a bucket is at most 1/2^sub_bits of its lower bound
  // wide). Only non-empty buckets, in increasing order; the counts sum to
  // count(). REQUIRES 1 <= sub_bits <= kSubBits (each fine bucket lies inside
  // one coarse bucket).
  struct Range {
    uint64_t lo, hi;  // [lo, hi) in recorded units
    uint64_t count;
  };
  std::vector<Range> Export(int sub_bits) const;

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace kvb

#endif  // KVB_HARNESS_HISTOGRAM_H_
