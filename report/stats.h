// Small-sample statistics for benchmark repetitions: medians with
// distribution-free confidence intervals, the Mann-Whitney U test, and the
// Hodges-Lehmann shift with its Moses confidence interval (the interval that
// matches the U test). Everything is rank based, so one outlier repetition
// cannot move a verdict by itself. Thread safety: pure functions.
#ifndef KVB_REPORT_STATS_H_
#define KVB_REPORT_STATS_H_

#include <cstddef>
#include <vector>

#include "core/stats.h"

namespace kvb::report {

// Median, Mean: core/stats.h.

// A distribution-free interval for the median from order statistics: [x_(k),
// x_(n-k+1)] with the largest k whose coverage 1 - 2 P(Binom(n, 1/2) < k) is at
// least 1 - alpha. With n < 6 no interval reaches 95 %: then `available` is
// false and lo/hi are min/max with their actual coverage (75 % for n = 3, 94 %
// for n = 5), so a reader sees how weak it is.
struct MedianCi {
  double median = 0;
  double lo = 0, hi = 0;
  double coverage = 0;  // actual coverage of [lo, hi]
  bool available = false;
  size_t n = 0;
};
MedianCi MedianWithCi(std::vector<double> v, double alpha = 0.05);

enum class UMethod { kAuto, kExact, kAsymptotic };

struct UTestResult {
  double u =
      0;  // U of the first sample (number of pairs x > y, ties count 1/2)
  double p = 1;        // two-sided p-value
  bool exact = false;  // exact permutation distribution (no ties) or normal
                       // approximation
  bool valid = false;  // false when a sample is empty
};
// Two-sided Mann-Whitney U test. kAuto: exact when there are no ties and n1 +
// n2 <= 40, else the normal approximation with tie and continuity correction
// (scipy's mannwhitneyu(method='asymptotic', use_continuity=True)). kExact with
// ties falls back to the approximation (the exact table assumes distinct
// values).
UTestResult MannWhitneyU(const std::vector<double>& x,
                         const std::vector<double>& y,
                         UMethod method = UMethod::kAuto);

// P(U <= u) under H0 for sample sizes n1, n2 without ties (exact count /
// C(n1+n2, n1)).
double UExactCdf(size_t n1, size_t n2, double u);

// Hodges-Lehmann estimate of the shift y - x (median of all pairwise
// differences y_j - x_i) and its Moses interval at level 1 - alpha (order
// statistics of the differences, the critical value from the U distribution).
// `available` is false when the samples are too small for that level (3 vs 3
// cannot reach 95 %); lo/hi then span all differences.
struct ShiftCi {
  double estimate = 0;
  double lo = 0, hi = 0;
  bool available = false;
};
ShiftCi HodgesLehmannShift(const std::vector<double>& x,
                           const std::vector<double>& y, double alpha = 0.05);

// Wilcoxon signed-rank test of paired differences `d` (BASE and NEW measured
// side by side, e.g. the rounds of `kvbench ab`): zero differences are dropped
// (Wilcoxon's convention), tied |d| get midranks, and the two-sided p is exact
// from the distribution of W+ over the 2^n sign patterns (n <= 60; above, the
// normal approximation with tie correction). With n pairs the smallest p is
// 2 / 2^n, so 6 pairs are needed for p < 0.05.
struct SignedRankResult {
  double w_plus = 0;  // sum of the ranks of the positive differences
  double p = 1;
  size_t n = 0;  // nonzero differences used
  bool exact = false;
};
SignedRankResult WilcoxonSignedRank(const std::vector<double>& d);
// Smallest two-sided p that n pairs can give: min(1, 2 / 2^n).
double SmallestSignedRankP(size_t n);
// Hodges-Lehmann estimate of the median of paired differences (the median of
// the Walsh averages (d_i + d_j) / 2, i <= j) with its interval at level
// 1 - alpha from the signed-rank distribution (Tukey). `available` is false
// below 6 pairs at 95 %; lo/hi then span all Walsh averages.
ShiftCi PairedShift(const std::vector<double>& d, double alpha = 0.05);
// Standard normal survival function P(Z > z).
double NormalSf(double z);

}  // namespace kvb::report

#endif  // KVB_REPORT_STATS_H_
