// Change points along a history series (history/README.md, "Finding
// regressions"). The method, asv-style step detection checked on the
// repetitions:
//   1. each series point (a commit, or a run with --group run) is summarised
//      by the median of its repetitions, on a log scale;
//   2. binary segmentation: in a segment, the split that minimises the summed
//      absolute deviation of the point medians from their side's median (an
//      L1 step fit, robust to one odd point) is a candidate, each side holding
//      at least `min_points` points;
//   3. the candidate is a change point when all three hold:
//      - the step (median of the after side's point medians over the before
//        side's, minus 1) is at least `threshold_pct` in size;
//      - the step exceeds `noise_factor` times the points' own scatter (the
//        scaled median absolute deviation of every point median from its
//        side's median), so machine-load drift between runs is not a step;
//      - the two-sided Mann-Whitney U test (report/stats.h) of the pooled
//        repetitions before versus after gives p < alpha;
//      then both sides are searched again; otherwise the segment ends.
// Only one series at a time: one machine class, one parameter set.
// Thread safety: pure functions.
#ifndef KVB_HISTORY_CHANGEPOINTS_H_
#define KVB_HISTORY_CHANGEPOINTS_H_

#include <cstddef>
#include <vector>

namespace kvb::history {

struct StepOptions {
  double threshold_pct = 10;
  double alpha = 0.001;  // small: every series and split is a test
  double noise_factor = 3;
  size_t min_points = 2;
};

struct ChangePoint {
  size_t index = 0;  // first point after the change
  double before = 0, after = 0;  // medians of the point medians
  double change_pct = 0;         // (after / before - 1) * 100
  double p = 1;                  // U test over the repetitions
  size_t n_before = 0, n_after = 0;  // repetitions
};

// `points[i]`: the repetitions of point i (positive values, e.g. ops/s).
// Change points in increasing index order.
std::vector<ChangePoint> FindChangePoints(
    const std::vector<std::vector<double>>& points, const StepOptions& o);

}  // namespace kvb::history

#endif  // KVB_HISTORY_CHANGEPOINTS_H_
