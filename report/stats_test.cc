#include "report/stats.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

namespace kvb::report {
namespace {

// Expected p-values from scipy 1.10.1 (Debian bookworm), computed with
//   /usr/bin/python3 -c "from scipy.stats import mannwhitneyu as mw;
//   print(mw(x, y, method=M))"
struct UCase {
  std::vector<double> x, y;
  double u, p_exact, p_asym;
};

TEST_CASE("Mann-Whitney U matches scipy on small samples without ties",
          "[stats]") {
  std::vector<UCase> cases = {
      {{1.1, 2.2, 3.3, 4.4},
       {5.5, 6.6, 7.7},
       0,
       0.0571428571429,
       0.0518299272179},
      {{10, 12, 14, 16, 18},
       {11, 13, 15, 17, 19, 21},
       10,
       0.428571428571,
       0.411313791776},
      {{3.1, 2.9, 3.3, 3.0, 3.2},
       {2.1, 2.3, 2.0, 2.2, 2.4},
       25,
       0.00793650793651,
       0.0121857803553},
      {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
       {5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 14.5},
       15,
       0.00684145575786,
       0.00910849639803},
  };
  for (const UCase& c : cases) {
    UTestResult e = MannWhitneyU(c.x, c.y, UMethod::kExact);
    UTestResult a = MannWhitneyU(c.x, c.y, UMethod::kAsymptotic);
    CHECK(e.valid);
    CHECK(e.exact);
    CHECK_FALSE(a.exact);
    CHECK(e.u == Approx(c.u));
    CHECK(e.p == Approx(c.p_exact).epsilon(1e-9));
    CHECK(a.p == Approx(c.p_asym).epsilon(1e-9));
    // kAuto picks exact for these sizes (no ties, n1 + n2 <= 40).
    CHECK(MannWhitneyU(c.x, c.y).p == Approx(c.p_exact).epsilon(1e-9));
  }
}

TEST_CASE(
    "Mann-Whitney U with ties uses the tie-corrected normal approximation",
    "[stats]") {
  UTestResult r = MannWhitneyU({1, 2, 2, 3, 4, 4, 5}, {3, 4, 4, 5, 6, 6, 7, 8});
  CHECK_FALSE(r.exact);
  CHECK(r.u == Approx(8.0));
  CHECK(r.p == Approx(0.0222873190146).epsilon(1e-9));
  r = MannWhitneyU({100, 100, 100, 101, 102}, {100, 103, 104, 104, 105, 106},
                   UMethod::kExact);
  CHECK_FALSE(
      r.exact);  // exact was asked for, but ties force the approximation
  CHECK(r.u == Approx(3.5));
  CHECK(r.p == Approx(0.0393518368613).epsilon(1e-9));
}

TEST_CASE("Mann-Whitney U on larger samples with a tie (normal approximation)",
          "[stats]") {
  std::vector<double> x = {0.346,  0.822,  0.33,   -1.303, 0.905, 0.446,
                           -0.537, 0.581,  0.365,  0.294,  0.028, 0.547,
                           -0.736, -0.163, -0.482, 0.599,  0.04,  -0.292,
                           -0.782, -0.257, 0.008,  -0.276, 1.294, 1.007,
                           -2.711, -1.889, -0.175, -0.422, 0.214, 0.217};
  std::vector<double> y = {2.818,  -0.412, 0.322, 2.743,  1.347, 1.363, 0.186,
                           -0.948, 0.867,  0.809, -0.527, 0.017, 0.628, -0.245,
                           0.602,  0.795,  0.736, 0.194,  1.294, 1.591, 1.021,
                           -0.118, 1.432,  0.199, 1.579};
  UTestResult r = MannWhitneyU(x, y);
  CHECK_FALSE(r.exact);
  CHECK(r.u == Approx(202.5));
  CHECK(r.p == Approx(0.00364466564371).epsilon(1e-9));
}

TEST_CASE("Exact U distribution: known table values", "[stats]") {
  // n1 = n2 = 5: C(10,5) = 252 arrangements; U <= 2 has 1 + 1 + 2 = 4 of them.
  CHECK(UExactCdf(5, 5, 2) == Approx(4.0 / 252));
  CHECK(UExactCdf(5, 5, 25) == Approx(1.0));
  CHECK(UExactCdf(3, 3, 0) == Approx(1.0 / 20));
  // Symmetry: P(U <= k) = P(U >= n1 n2 - k).
  CHECK(UExactCdf(4, 7, 9) == Approx(1 - UExactCdf(4, 7, 28 - 9 - 1)));
}

TEST_CASE("Degenerate inputs do not crash", "[stats]") {
  CHECK_FALSE(MannWhitneyU({}, {1, 2}).valid);
  UTestResult same = MannWhitneyU({5, 5, 5}, {5, 5, 5});
  CHECK(same.p == Approx(1.0));
  CHECK(Median({}) == 0);
  MedianCi ci = MedianWithCi({});
  CHECK_FALSE(ci.available);
  ShiftCi s = HodgesLehmannShift({}, {1});
  CHECK_FALSE(s.available);
}

TEST_CASE("Median confidence interval: order statistics and coverage",
          "[stats]") {
  MedianCi five = MedianWithCi({5, 1, 4, 2, 3});
  CHECK(five.median == 3);
  CHECK_FALSE(five.available);  // n = 5 cannot reach 95 %
  CHECK(five.lo == 1);
  CHECK(five.hi == 5);
  CHECK(five.coverage == Approx(1 - 2.0 / 32));
  MedianCi six = MedianWithCi({6, 5, 4, 3, 2, 1});
  CHECK(six.available);
  CHECK(six.lo == 1);
  CHECK(six.hi == 6);
  CHECK(six.coverage == Approx(1 - 2.0 / 64));
  // n = 20: k = 6 (P(B <= 5) = 0.0207), interval [x_(6), x_(15)].
  std::vector<double> v;
  for (int i = 1; i <= 20; ++i) v.push_back(i);
  MedianCi twenty = MedianWithCi(v);
  CHECK(twenty.available);
  CHECK(twenty.lo == 6);
  CHECK(twenty.hi == 15);
  CHECK(twenty.coverage == Approx(0.9586).epsilon(1e-3));
}

TEST_CASE("Median 95% CI covers the true median about 95% of the time",
          "[stats]") {
  // Lognormal(0, 0.5) has median exactly 1. 1000 synthetic samples of 20
  // repetitions each; the exact coverage of the order-statistic interval for n
  // = 20 is 95.86 %, so 1000 trials land within [93 %, 98 %] with probability >
  // 0.999.
  std::mt19937_64 rng(20261121);
  std::lognormal_distribution<double> dist(0.0, 0.5);
  int covered = 0;
  for (int t = 0; t < 1000; ++t) {
    std::vector<double> s;
    for (int i = 0; i < 20; ++i) s.push_back(dist(rng));
    MedianCi ci = MedianWithCi(s);
    REQUIRE(ci.available);
    if (ci.lo <= 1.0 && 1.0 <= ci.hi) ++covered;
  }
  CHECK(covered >= 930);
  CHECK(covered <= 980);
}

TEST_CASE("Hodges-Lehmann shift and Moses interval", "[stats]") {
  // Differences y_j - x_i of {1,2,3,4} and {11,...,14} run 7..13, median 10;
  // with 4 vs 4 the critical value is U = 0 (P = 1/70 < 0.025), so the interval
  // spans all differences.
  ShiftCi s = HodgesLehmannShift({1, 2, 3, 4}, {11, 12, 13, 14});
  CHECK(s.available);
  CHECK(s.estimate == Approx(10));
  CHECK(s.lo == Approx(7));
  CHECK(s.hi == Approx(13));
  // 3 vs 3 cannot reach 95 % (P(U = 0) = 1/20).
  CHECK_FALSE(HodgesLehmannShift({1, 2, 3}, {4, 5, 6}).available);
  // 5 vs 5: the tabled critical value is 2, so the interval is [d_(3), d_(23)].
  std::vector<double> x = {0, 10, 20, 30, 40}, y = {1, 2, 3, 4, 5};
  ShiftCi f = HodgesLehmannShift(x, y);
  std::vector<double> d;
  for (double a : x) {
    for (double b : y) d.push_back(b - a);
  }
  std::sort(d.begin(), d.end());
  CHECK(f.available);
  CHECK(f.lo == d[2]);
  CHECK(f.hi == d[22]);
}

TEST_CASE("Moses interval covers a known shift about 95% of the time",
          "[stats]") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  int covered = 0;
  for (int t = 0; t < 400; ++t) {
    std::vector<double> x, y;
    for (int i = 0; i < 10; ++i) {
      x.push_back(noise(rng));
      y.push_back(noise(rng) + 0.5);
    }
    ShiftCi s = HodgesLehmannShift(x, y);
    REQUIRE(s.available);
    if (s.lo <= 0.5 && 0.5 <= s.hi) ++covered;
  }
  // Nominal >= 95 % (exact 95.7 % for 10 vs 10); 400 trials: within [91 %, 99
  // %].
  CHECK(covered >= 364);
  CHECK(covered <= 396);
}

TEST_CASE("Wilcoxon signed-rank matches scipy.stats.wilcoxon", "[stats]") {
  // Reference values: scipy 1.10 wilcoxon(d, method='exact') (no ties), and
  // method='approx', correction=True for 70 pairs.
  SignedRankResult a =
      WilcoxonSignedRank({0.05, 0.07, -0.01, 0.04, 0.09, 0.03, 0.06, 0.02});
  CHECK(a.exact);
  CHECK(a.p == Approx(0.015625).epsilon(1e-12));
  CHECK(WilcoxonSignedRank({1, 2, 3, 4, 5, 6}).p ==
        Approx(0.03125).epsilon(1e-12));
  std::vector<double> d = {0.12, -0.03, 0.07, 0.21,  -0.09,
                           0.15, 0.04,  0.18, -0.01, 0.11};
  CHECK(WilcoxonSignedRank(d).p == Approx(0.048828125).epsilon(1e-12));
  std::vector<double> big;
  for (int k = 0; k < 70; ++k) big.push_back(d[k % 10] + k * 1e-4);
  SignedRankResult b = WilcoxonSignedRank(big);
  CHECK_FALSE(b.exact);
  CHECK(b.p == Approx(9.139920494396762e-08).epsilon(1e-6));
  // Zero differences are dropped; all zeros: no evidence at all.
  CHECK(WilcoxonSignedRank({0, 0, 1, 2, 3, 4, 5, 6}).n == 6);
  CHECK(WilcoxonSignedRank({0, 0, 0}).p == 1);
  CHECK(SmallestSignedRankP(5) == Approx(0.0625));
  CHECK(SmallestSignedRankP(6) == Approx(0.03125));
}

TEST_CASE("paired shift: Walsh-average estimate, interval from 6 pairs",
          "[stats]") {
  // 1..5: Walsh averages 1, 1.5, 2, ..., 5; median 3; n = 5 cannot reach 95 %.
  ShiftCi five = PairedShift({1, 2, 3, 4, 5});
  CHECK(five.estimate == Approx(3));
  CHECK_FALSE(five.available);
  // n = 6: P(W+ <= 0) = 1/64 <= 0.025 < P(W+ <= 1): the interval is
  // [smallest, largest] Walsh average.
  ShiftCi six = PairedShift({1, 2, 3, 4, 5, 6});
  CHECK(six.available);
  CHECK(six.estimate == Approx(3.5));
  CHECK(six.lo == Approx(1));
  CHECK(six.hi == Approx(6));
  // n = 10: c = 9 (P(W+ <= 8) = 0.0244, P(W+ <= 9) = 0.0322), so the interval
  // is the 9th smallest and 9th largest of the 55 Walsh averages.
  ShiftCi ten = PairedShift({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(ten.available);
  CHECK(ten.lo == Approx(3));
  CHECK(ten.hi == Approx(8));
}

}  // namespace
}  // namespace kvb::report
