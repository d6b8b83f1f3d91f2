// The option parsers every adapter uses.
#include "adapters/options.h"

#include <catch2/catch.hpp>

#include "core/testing/test_util.h"

namespace kvb {
namespace {

TEST_CASE("ParseIntOption", "[options]") {
  CHECK(*ParseIntOption("n", "42") == 42);
  CHECK(*ParseIntOption("n", "-7") == -7);
  CHECK(*ParseIntOption("n", "+7") == 7);
  for (const char* bad : {"", "x", "1x", "1.5", " 1", "99999999999999999999"}) {
    INFO(bad);
    Result<int64_t> r = ParseIntOption("cache_mb", bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
  }
  CHECK(ParseIntOption("cache_mb", "x").status().message() ==
        "option cache_mb: expected an integer, got 'x'");
  Result<int64_t> r = ParseIntOption("n", "11", 0, 10);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "option n: 11 is out of range [0, 10]");
}

TEST_CASE("ParseSizeOption", "[options]") {
  CHECK(*ParseSizeOption("s", "4096") == 4096);
  CHECK(*ParseSizeOption("s", "64k") == 64 * 1024);
  CHECK(*ParseSizeOption("s", "2M") == 2u << 20);
  CHECK(*ParseSizeOption("s", "1g") == 1u << 30);
  for (const char* bad :
       {"", "k", "-1", "1t", "1.5m", "99999999999999999999g"}) {
    INFO(bad);
    CHECK(ParseSizeOption("s", bad).status().IsInvalidArgument());
  }
}

TEST_CASE("ParseBoolOption", "[options]") {
  for (const char* t : {"1", "true", "yes", "on"})
    CHECK(*ParseBoolOption("b", t));
  for (const char* f : {"0", "false", "no", "off"})
    CHECK_FALSE(*ParseBoolOption("b", f));
  CHECK(ParseBoolOption("b", "maybe").status().IsInvalidArgument());
  CHECK(ParseBoolOption("b", "").status().IsInvalidArgument());
}

TEST_CASE("ParseDoubleOption", "[options]") {
  CHECK(*ParseDoubleOption("d", "0.5") == 0.5);
  CHECK(*ParseDoubleOption("d", "1e-3") == 0.001);
  for (const char* bad : {"", "x", "1.5x", "inf", "nan", "1e999"}) {
    INFO(bad);
    CHECK(ParseDoubleOption("d", bad).status().IsInvalidArgument());
  }
}

TEST_CASE("Get*Option fall back when absent and parse when present",
          "[options]") {
  OptionMap o{{"a", "5"},
              {"b", "off"},
              {"c", "8k"},
              {"d", "0.25"},
              {"durability", "sync"}};
  CHECK(*GetIntOption(o, "a", 1) == 5);
  CHECK(*GetIntOption(o, "missing", 1) == 1);
  CHECK_FALSE(*GetBoolOption(o, "b", true));
  CHECK(*GetSizeOption(o, "c", 0) == 8192);
  CHECK(*GetDoubleOption(o, "d", 0) == 0.25);
  CHECK(GetStringOption(o, "e", "dflt") == "dflt");
  CHECK(*GetDurabilityOption(o) == Durability::kSync);
  CHECK(*GetDurabilityOption({}) == Durability::kNone);
  CHECK(GetIntOption(o, "b", 0).status().IsInvalidArgument());
}

TEST_CASE("Durability names round-trip", "[options]") {
  for (Durability d :
       {Durability::kNone, Durability::kAsync, Durability::kSync}) {
    CHECK(*ParseDurability(DurabilityName(d)) == d);
  }
  CHECK(ParseDurability("SYNC").status().IsInvalidArgument());
}

}  // namespace
}  // namespace kvb
