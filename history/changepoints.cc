#include "history/changepoints.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/stats.h"

namespace kvb::history {
namespace {

struct Ranked {
  double u = 0;          // U of x
  double tie_term = 0;   // sum of t^3 - t over tie groups
  bool ties = false;
};

Ranked RankU(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<std::pair<double, int>> all;
  for (double v : x) all.push_back({v, 0});
  for (double v : y) all.push_back({v, 1});
  std::sort(all.begin(), all.end());
  Ranked r;
  double rank_sum_x = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    double mid = (static_cast<double>(i + j) + 1) / 2;  // 1-based midrank
    double t = static_cast<double>(j - i);
    if (t > 1) {
      r.ties = true;
      r.tie_term += t * t * t - t;
    }
    for (size_t k = i; k < j; ++k)
      if (all[k].second == 0) rank_sum_x += mid;
    i = j;
  }
  double n1 = static_cast<double>(x.size());
  r.u = rank_sum_x - n1 * (n1 + 1) / 2;
  return r;
}

// P(U <= u) for sizes n1, n2 without ties: counts by the recurrence
// c(n1, n2, u) = c(n1 - 1, n2, u - n2) + c(n1, n2 - 1, u).
double ExactCdf(size_t n1, size_t n2, double u) {
  size_t max_u = n1 * n2;
  // table[a][b] = counts over U for sizes (a, b), built row by row.
  std::vector<std::vector<std::vector<double>>> c(
      n1 + 1, std::vector<std::vector<double>>(n2 + 1));
  for (size_t a = 0; a <= n1; ++a) {
    for (size_t b = 0; b <= n2; ++b) {
      c[a][b].assign(a * b + 1, 0);
      if (a == 0 || b == 0) {
        c[a][b][0] = 1;
        continue;
      }
      for (size_t k = 0; k <= a * b; ++k) {
        double v = k >= b && k - b < c[a - 1][b].size() ? c[a - 1][b][k - b] : 0;
        if (k < c[a][b - 1].size()) v += c[a][b - 1][k];
        c[a][b][k] = v;
      }
    }
  }
  double total = 0, below = 0;
  for (size_t k = 0; k <= max_u; ++k) {
    total += c[n1][n2][k];
    if (static_cast<double>(k) <= u + 1e-9) below += c[n1][n2][k];
  }
  return below / total;
}

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
  cp->p = RankSumP(before, after);
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

double RankSumP(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || y.empty()) return 1;
  Ranked r = RankU(x, y);
  const double n1 = static_cast<double>(x.size()),
               n2 = static_cast<double>(y.size());
  if (!r.ties && x.size() + y.size() <= 30) {
    double lo = std::min(r.u, n1 * n2 - r.u);
    return std::min(1.0, 2 * ExactCdf(x.size(), y.size(), lo));
  }
  const double n = n1 + n2;
  double var = n1 * n2 / 12 * ((n + 1) - r.tie_term / (n * (n - 1)));
  if (var <= 0) return 1;
  double z = (std::fabs(r.u - n1 * n2 / 2) - 0.5) / std::sqrt(var);
  if (z < 0) z = 0;
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

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
