#include "report/stats.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace kvb::report {
namespace {

// Largest n1 * n2 for which the exact U distribution is tabulated; beyond it
// the normal approximation is accurate to far better than any alpha we use.
constexpr size_t kMaxExactCells = 20000;

// Counts of U = 0..n1*n2 over all C(n1+n2, n1) arrangements: the coefficients
// of the Gaussian binomial [n1+n2 choose n1]_q, built as prod_i (1 - q^(n2+i))
// / (1 - q^i). Integer-valued doubles; exact while the counts stay below 2^53
// (n1 + n2 <= ~50).
std::vector<double> UCounts(size_t n1, size_t n2) {
  size_t deg = n1 * n2;
  std::vector<double> c(deg + 1, 0.0);
  c[0] = 1;
  for (size_t i = 1; i <= n1; ++i) {
    size_t up = n2 + i;
    for (size_t k = deg; k >= up && k <= deg; --k) c[k] -= c[k - up];
    for (size_t k = i; k <= deg; ++k) c[k] += c[k - i];
  }
  return c;
}

double Choose(size_t n, size_t k) {
  double r = 1;
  for (size_t i = 1; i <= k; ++i)
    r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
  return r;
}

bool HasTies(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> all(x);
  all.insert(all.end(), y.begin(), y.end());
  std::sort(all.begin(), all.end());
  return std::adjacent_find(all.begin(), all.end()) != all.end();
}

// U of x: pairs with x_i > y_j, ties counting one half.
double UStatistic(const std::vector<double>& x, const std::vector<double>& y) {
  double u = 0;
  for (double a : x) {
    for (double b : y) u += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
  }
  return u;
}

double AsymptoticP(const std::vector<double>& x, const std::vector<double>& y,
                   double u1) {
  double n1 = x.size(), n2 = y.size(), n = n1 + n2;
  std::map<double, int> counts;
  for (double v : x) ++counts[v];
  for (double v : y) ++counts[v];
  double tie = 0;
  for (const auto& [v, t] : counts) tie += static_cast<double>(t) * t * t - t;
  double var = n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1)));
  if (var <= 0) return 1.0;  // every value equal: no evidence of a difference
  double u = std::max(u1, n1 * n2 - u1);
  double z = (u - n1 * n2 / 2.0 - 0.5) / std::sqrt(var);
  return std::min(1.0, 2 * NormalSf(z));
}

// Largest c with P(U <= c) <= alpha / 2, or -1 when even U = 0 is more likely
// than that.
long CriticalLower(size_t n1, size_t n2, double alpha) {
  if (n1 * n2 <= kMaxExactCells) {
    std::vector<double> counts = UCounts(n1, n2);
    double total = Choose(n1 + n2, n1), cum = 0;
    long c = -1;
    for (size_t k = 0; k < counts.size(); ++k) {
      cum += counts[k];
      if (cum / total > alpha / 2) break;
      c = static_cast<long>(k);
    }
    return c;
  }
  // Normal approximation: c = mu - z * sigma - 1/2 (continuity), rounded down.
  double mu = n1 * n2 / 2.0, sd = std::sqrt(n1 * n2 * (n1 + n2 + 1) / 12.0);
  double lo = 0, hi = 10;  // bisection for the normal quantile z with
                           // NormalSf(z) = alpha/2
  for (int i = 0; i < 100; ++i) {
    double mid = (lo + hi) / 2;
    (NormalSf(mid) > alpha / 2 ? lo : hi) = mid;
  }
  return static_cast<long>(std::floor(mu - hi * sd - 0.5));
}

}  // namespace

double NormalSf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

MedianCi MedianWithCi(std::vector<double> v, double alpha) {
  MedianCi r;
  r.n = v.size();
  if (v.empty()) return r;
  std::sort(v.begin(), v.end());
  r.median = Median(v);
  size_t n = v.size();
  // P(Binom(n, 1/2) <= j) accumulated; interval [x_(k), x_(n-k+1)] (1-based)
  // has coverage 1 - 2 P(B <= k - 1).
  double total = std::pow(2.0, static_cast<double>(n)), cum = 0;
  size_t best_k = 0;
  for (size_t k = 1; k <= n / 2; ++k) {
    cum += Choose(n, k - 1);
    if (1 - 2 * cum / total < 1 - alpha) break;
    best_k = k;
  }
  if (best_k == 0) {
    r.lo = v.front();
    r.hi = v.back();
    r.coverage = n >= 2 ? 1 - 2 / total : 0;
    return r;
  }
  double tail = 0;
  for (size_t j = 0; j < best_k; ++j) tail += Choose(n, j);
  r.lo = v[best_k - 1];
  r.hi = v[n - best_k];
  r.coverage = 1 - 2 * tail / total;
  r.available = true;
  return r;
}

double UExactCdf(size_t n1, size_t n2, double u) {
  if (u < 0) return 0;
  std::vector<double> counts = UCounts(n1, n2);
  double cum = 0;
  for (size_t k = 0; k < counts.size() && static_cast<double>(k) <= u; ++k)
    cum += counts[k];
  return std::min(1.0, cum / Choose(n1 + n2, n1));
}

UTestResult MannWhitneyU(const std::vector<double>& x,
                         const std::vector<double>& y, UMethod method) {
  UTestResult r;
  if (x.empty() || y.empty()) return r;
  r.valid = true;
  r.u = UStatistic(x, y);
  size_t n1 = x.size(), n2 = y.size();
  bool ties = HasTies(x, y);
  bool exact = !ties && n1 * n2 <= kMaxExactCells &&
               (method == UMethod::kExact ||
                (method == UMethod::kAuto && n1 + n2 <= 40));
  if (exact) {
    // Two-sided: twice the smaller tail, the distribution being symmetric.
    double u_big = std::max(r.u, n1 * n2 - r.u);
    double sf = 1 - UExactCdf(n1, n2, u_big - 1);  // P(U >= u_big)
    r.p = std::min(1.0, 2 * sf);
    r.exact = true;
  } else {
    r.p = AsymptoticP(x, y, r.u);
  }
  return r;
}

ShiftCi HodgesLehmannShift(const std::vector<double>& x,
                           const std::vector<double>& y, double alpha) {
  ShiftCi r;
  if (x.empty() || y.empty()) return r;
  std::vector<double> d;
  d.reserve(x.size() * y.size());
  for (double a : x) {
    for (double b : y) d.push_back(b - a);
  }
  std::sort(d.begin(), d.end());
  r.estimate = Median(d);
  long c = CriticalLower(x.size(), y.size(), alpha);
  if (c < 0) {
    r.lo = d.front();
    r.hi = d.back();
    return r;
  }
  r.lo = d[static_cast<size_t>(c)];
  r.hi = d[d.size() - 1 - static_cast<size_t>(c)];
  r.available = true;
  return r;
}

namespace {

// counts[k]: sign patterns of ranks 1..n (doubled, so midranks are integers)
// whose positive ranks sum to k (doubled). 2^n patterns in all.
std::vector<double> SignedRankCounts(const std::vector<int>& doubled_ranks) {
  int total = 0;
  for (int r : doubled_ranks) total += r;
  std::vector<double> counts(static_cast<size_t>(total) + 1, 0.0);
  counts[0] = 1;
  int reach = 0;
  for (int r : doubled_ranks) {
    for (int k = reach; k >= 0; --k) counts[k + r] += counts[k];
    reach += r;
  }
  return counts;
}

// Doubled midranks of |d| (d without zeros).
std::vector<int> DoubledRanks(const std::vector<double>& d) {
  std::vector<size_t> idx(d.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    return std::fabs(d[a]) < std::fabs(d[b]);
  });
  std::vector<int> ranks(d.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() &&
           std::fabs(d[idx[j + 1]]) == std::fabs(d[idx[i]]))
      ++j;
    // Ranks i+1..j+1 share their mean; doubled: i + j + 2.
    for (size_t k = i; k <= j; ++k) ranks[idx[k]] = static_cast<int>(i + j + 2);
    i = j + 1;
  }
  return ranks;
}

constexpr size_t kMaxExactPairs = 60;

}  // namespace

double SmallestSignedRankP(size_t n) {
  return n == 0 ? 1.0
                : std::min(1.0, 2.0 / std::ldexp(1.0, static_cast<int>(n)));
}

SignedRankResult WilcoxonSignedRank(const std::vector<double>& d_in) {
  SignedRankResult r;
  std::vector<double> d;
  for (double v : d_in) {
    if (v != 0) d.push_back(v);
  }
  r.n = d.size();
  if (d.empty()) return r;
  std::vector<int> ranks = DoubledRanks(d);
  int w2 = 0;  // doubled W+
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] > 0) w2 += ranks[i];
  }
  r.w_plus = w2 / 2.0;
  if (d.size() <= kMaxExactPairs) {
    std::vector<double> counts = SignedRankCounts(ranks);
    double all = std::ldexp(1.0, static_cast<int>(d.size()));
    double le = 0, ge = 0;
    for (size_t k = 0; k < counts.size(); ++k) {
      if (static_cast<int>(k) <= w2) le += counts[k];
      if (static_cast<int>(k) >= w2) ge += counts[k];
    }
    r.p = std::min(1.0, 2 * std::min(le, ge) / all);
    r.exact = true;
    return r;
  }
  double n = static_cast<double>(d.size());
  double mean = n * (n + 1) / 4;
  double var = 0;
  for (int rk : ranks) var += (rk / 2.0) * (rk / 2.0);
  var /= 4;  // sum of squared ranks / 4: exact under ties
  double z = (std::fabs(r.w_plus - mean) - 0.5) / std::sqrt(var);
  r.p = std::min(1.0, 2 * NormalSf(std::max(0.0, z)));
  return r;
}

ShiftCi PairedShift(const std::vector<double>& d, double alpha) {
  ShiftCi r;
  if (d.empty()) return r;
  std::vector<double> walsh;
  for (size_t i = 0; i < d.size(); ++i) {
    for (size_t j = i; j < d.size(); ++j) walsh.push_back((d[i] + d[j]) / 2);
  }
  std::sort(walsh.begin(), walsh.end());
  r.estimate = Median(walsh);
  r.lo = walsh.front();
  r.hi = walsh.back();
  if (d.size() > kMaxExactPairs) return r;
  // The critical count c: the largest with P(W+ <= c - 1) <= alpha / 2 (no
  // ties: ranks 1..n, doubled 2..2n).
  std::vector<int> ranks(d.size());
  for (size_t i = 0; i < ranks.size(); ++i)
    ranks[i] = static_cast<int>(2 * (i + 1));
  std::vector<double> counts = SignedRankCounts(ranks);
  double all = std::ldexp(1.0, static_cast<int>(d.size())), cum = 0;
  size_t c = 0;
  for (size_t w = 0; w < counts.size(); w += 2) {  // W+ = w / 2
    cum += counts[w];
    if (cum / all > alpha / 2) break;
    c = w / 2 + 1;
  }
  if (c == 0) return r;
  r.lo = walsh[c - 1];
  r.hi = walsh[walsh.size() - c];
  r.available = true;
  return r;
}

}  // namespace kvb::report
