#include "core/names.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "core/status.h"

namespace kvb {
namespace {

enum class Color { kRed, kGreen, kBlue };
constexpr NameTable<Color, 2> kColorNames{{{
    {Color::kRed, "red"},
    {Color::kGreen, "green"},
}}};

TEST_CASE("NameTable: both directions, unknowns, list", "[names]") {
  STATIC_REQUIRE(kColorNames.Name(Color::kGreen) == "green");
  CHECK(kColorNames.Name(Color::kBlue) == "?");
  CHECK(kColorNames.Name(Color::kBlue, "unknown") == "unknown");
  CHECK(kColorNames.Find("red") == Color::kRed);
  CHECK_FALSE(kColorNames.Find("blue").has_value());
  CHECK_FALSE(kColorNames.Find("").has_value());
  CHECK(kColorNames.List() == "red, green");
  CHECK(kColorNames.List("|") == "red|green");
}

TEST_CASE("NameTable: every status code has its own name", "[names]") {
  const StatusCode codes[] = {
      StatusCode::kOk,           StatusCode::kNotFound,
      StatusCode::kCorruption,   StatusCode::kInvalidArgument,
      StatusCode::kIOError,      StatusCode::kBusy,
      StatusCode::kNotSupported, StatusCode::kNoSpace,
      StatusCode::kAborted,      StatusCode::kFailedPrecondition};
  std::vector<std::string_view> seen;
  for (StatusCode c : codes) {
    std::string_view name = StatusCodeName(c);
    CHECK(name != "unknown");
    CHECK(std::find(seen.begin(), seen.end(), name) == seen.end());
    seen.push_back(name);
  }
}

}  // namespace
}  // namespace kvb
