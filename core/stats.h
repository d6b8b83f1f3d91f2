// Summary statistics of small samples (benchmark repetitions, trial times),
// defined once so every table, aggregate and verdict agrees on them. Richer,
// rank-based tests (confidence intervals, Mann-Whitney) live in report/stats.h.
// Thread safety: pure functions.
#ifndef KVB_CORE_STATS_H_
#define KVB_CORE_STATS_H_

#include <vector>

namespace kvb {

// The middle value, or the mean of the two middle values; 0 for an empty
// sample. Takes a copy because it sorts.
[[nodiscard]] double Median(std::vector<double> v);
// Arithmetic mean; 0 for an empty sample.
[[nodiscard]] double Mean(const std::vector<double>& v);
// Sample standard deviation (divides by n - 1, like Google Benchmark's
// stddev aggregate); 0 for fewer than two values.
[[nodiscard]] double SampleStddev(const std::vector<double>& v);

}  // namespace kvb

#endif  // KVB_CORE_STATS_H_
