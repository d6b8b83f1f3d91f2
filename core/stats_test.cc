#include "core/stats.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace kvb {
namespace {

TEST_CASE("Median of odd, even, unsorted and empty samples") {
  CHECK(Median({}) == 0);
  CHECK(Median({7}) == 7);
  CHECK(Median({3, 1, 2}) == 2);
  CHECK(Median({4, 1, 3, 2}) == 2.5);
  CHECK(Median({-1, -1, 5}) == -1);
}

TEST_CASE("Mean and sample standard deviation") {
  CHECK(Mean({}) == 0);
  CHECK(Mean({1, 2, 3, 6}) == 3);
  CHECK(SampleStddev({}) == 0);
  CHECK(SampleStddev({5}) == 0);  // undefined for n = 1: 0, never NaN
  // Deviations -2, 0, 2 from 4: sum of squares 8, over n - 1 = 2.
  CHECK(SampleStddev({2, 4, 6}) == Approx(2.0));
  CHECK_FALSE(std::isnan(SampleStddev({1, 1})));
}

}  // namespace
}  // namespace kvb
