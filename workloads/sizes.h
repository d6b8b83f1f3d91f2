// Size distributions for keys, values and scan lengths.
//
// Text forms (used by presets, suites and the CLI):
//   "100"            fixed
//   "16-64"          uniform in [16, 64]
//   "hist:100:0.5,1000:0.4,10000:0.1"   a histogram of sizes with weights
// A size is drawn from a 64-bit hash, so the size of a (key, version) can be
// recomputed at any time without storing it. Thread safety: immutable after
// parsing.
#ifndef KVB_WORKLOADS_SIZES_H_
#define KVB_WORKLOADS_SIZES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "workloads/random.h"

namespace kvb {

struct SizeDist {
  uint32_t min = 0;
  uint32_t max = 0;
  // Histogram form: sizes with cumulative thresholds in [0, 2^64); empty for
  // fixed/uniform.
  std::vector<uint32_t> hist_sizes;
  std::vector<uint64_t> hist_cum;

  static SizeDist Fixed(uint32_t n) { return SizeDist{n, n, {}, {}}; }
  static SizeDist Uniform(uint32_t lo, uint32_t hi) {
    return SizeDist{lo, hi, {}, {}};
  }

  // A size from a uniform 64-bit hash.
  uint32_t Pick(uint64_t h) const {
    if (!hist_sizes.empty()) {
      for (size_t i = 0; i + 1 < hist_cum.size(); ++i) {
        if (h < hist_cum[i]) return hist_sizes[i];
      }
      return hist_sizes.back();
    }
    if (min == max) return min;
    return min + static_cast<uint32_t>(ScaleBelow(h, uint64_t{max} - min + 1));
  }
  double Mean() const;
  std::string ToString() const;
};

Result<SizeDist> ParseSizeDist(std::string_view text);

}  // namespace kvb

#endif  // KVB_WORKLOADS_SIZES_H_
