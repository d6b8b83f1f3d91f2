#include "history/changepoints.h"

#include <algorithm>
#include <cmath>

#include "core/stats.h"
#include "report/stats.h"

namespace kvb::history {
namespace {

double Mad(const std::vector<double>& dev) {
  std::vector<double> a;
  for (double d : dev) a.push_back(std::fabs(d));
  return 1.4826 * Median(a);
}

double L1Cost(const std::vector<double>& y, size_t a, size_t b) {
  std::vector<double> part(y.begin() + static_cast<long>(a),
                           y.begin() + static_cast<long>(b));
  double m = Median(part), cost = 0;
  for (double v : part) cost += std::fabs(v - m);
  return cost;
}

std::vector<double> Pool(const std::vector<std::vector<double>>& points,
                         size_t a, size_t b) {
  std::vector<double> out;
  for (size_t i = a; i < b; ++i)
    out.insert(out.end(), points[i].begin(), points[i].end());
  return out;
}

// Judges the best split of [a, b); true (and *cp) when it is a change point.
bool BestSplit(const std::vector<std::vector<double>>& points,
               const std::vector<double>& y, size_t a, size_t b,
               const StepOptions& o, ChangePoint* cp) {
  const size_t m = std::max<size_t>(o.min_points, 1);
  if (b - a < 2 * m) return false;
  size_t best = 0;
  double best_cost = INFINITY;
  for (size_t k = a + m; k + m <= b; ++k) {
    double cost = L1Cost(y, a, k) + L1Cost(y, k, b);
    if (cost < best_cost) best_cost = cost, best = k;
  }
  std::vector<double> left(y.begin() + static_cast<long>(a),
                           y.begin() + static_cast<long>(best));
  std::vector<double> right(y.begin() + static_cast<long>(best),
                            y.begin() + static_cast<long>(b));
  double ml = Median(left), mr = Median(right);
  std::vector<double> dev;
  for (double v : left) dev.push_back(v - ml);
  for (double v : right) dev.push_back(v - mr);
  double step = mr - ml;  // log ratio
  std::vector<double> before = Pool(points, a, best),
                      after = Pool(points, best, b);
  cp->index = best;
  cp->before = std::exp(ml);
  cp->after = std::exp(mr);
  cp->change_pct = (std::exp(step) - 1) * 100;
  cp->p = report::MannWhitneyU(before, after).p;
  cp->n_before = before.size();
  cp->n_after = after.size();
  return std::fabs(cp->change_pct) >= o.threshold_pct &&
         std::fabs(step) > o.noise_factor * Mad(dev) && cp->p < o.alpha;
}

void Segment(const std::vector<std::vector<double>>& points,
             const std::vector<double>& y, size_t a, size_t b,
             const StepOptions& o, std::vector<ChangePoint>* out) {
  ChangePoint cp;
  if (!BestSplit(points, y, a, b, o, &cp)) return;
  Segment(points, y, a, cp.index, o, out);
  out->push_back(cp);
  Segment(points, y, cp.index, b, o, out);
}

}  // namespace

std::vector<ChangePoint> FindChangePoints(
    const std::vector<std::vector<double>>& points, const StepOptions& o) {
  std::vector<double> y;
  for (const std::vector<double>& p : points) {
    std::vector<double> pos;
    for (double v : p)
      if (v > 0) pos.push_back(v);
    y.push_back(pos.empty() ? 0 : std::log(Median(pos)));
  }
  std::vector<ChangePoint> out;
  Segment(points, y, 0, points.size(), o, &out);
  return out;
}

}  // namespace kvb::history
