// The option parsers every adapter uses.
#include "adapters/options.h"

#include <catch2/catch.hpp>

#include "adapters/registry.h"
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
  CHECK(GetDurabilityOption(o)->level == Durability::kSync);
  CHECK(GetDurabilityOption({})->level == Durability::kProcess);
  CHECK(GetIntOption(o, "b", 0).status().IsInvalidArgument());
}

TEST_CASE("durability classes parse, print and refuse bad spellings",
          "[options]") {
  for (const char* text : {"memory", "process", "periodic:1", "periodic:250",
                           "periodic:86400000", "sync"}) {
    INFO(text);
    Result<DurabilityClass> c = ParseDurabilityClass(text);
    REQUIRE_OK(c.status());
    CHECK(c->ToString() == text);
  }
  CHECK(ParseDurabilityClass("periodic:250")->period_ms == 250);
  CHECK(ParseDurabilityClass("periodic:250")->level == Durability::kPeriodic);
  for (const char* bad :
       {"SYNC", "", "periodic", "periodic:", "periodic:0", "periodic:-5",
        "periodic:86400001", "periodic:1x", "sync:5", "process:1", "fast",
        "periodic:99999999999999999999999"}) {
    INFO(bad);
    CHECK(ParseDurabilityClass(bad).status().IsInvalidArgument());
  }
  // The retired words meant different guarantees on different engines: the
  // message says so and names the classes.
  for (const char* old : {"none", "async"}) {
    Status s = ParseDurabilityClass(old).status();
    CHECK(s.IsInvalidArgument());
    CHECK(std::string(s.message()).find("retired") != std::string::npos);
    CHECK(std::string(s.message()).find("periodic:MS") != std::string::npos);
  }
}

TEST_CASE("every adapter states every class; refused ones are refused",
          "[options]") {
  for (const AdapterInfo& a : AllAdapters()) {
    if (!a.built) continue;
    INFO(a.name);
    for (size_t i = 0; i < a.durability.size(); ++i) {
      const DurabilityWay& w = a.durability[i];
      CHECK(static_cast<size_t>(w.level) == i);  // rows in class order
      // Exactly one of settings and refused.
      CHECK(w.settings.empty() != w.refused.empty());
      DurabilityClass c{w.level, w.level == Durability::kPeriodic ? 100u : 0u};
      Status s = CheckAdapterSpec(a.name + ":durability=" + c.ToString());
      if (w.refused.empty()) {
        CHECK_OK(s);
      } else {
        CHECK(s.IsInvalidArgument());
        CHECK(std::string(s.message()).find(std::string(w.refused)) !=
              std::string::npos);
      }
    }
    // Persistent adapters give process (the suites' default); baselines
    // that keep nothing give only memory.
    CHECK(WayOf(a.durability, Durability::kProcess).refused.empty() ==
          a.capabilities.persistent);
    CHECK(WayOf(a.durability, Durability::kMemory).refused.empty() ==
          (!a.capabilities.persistent || a.name == "linhash" ||
           a.name == "typedmap" || a.name == "rocksdb"));
  }
  CHECK(CheckAdapterSpec("lmdb:durability=memory").IsInvalidArgument());
  CHECK(CheckAdapterSpec("memory:durability=sync").IsInvalidArgument());
  CHECK(CheckAdapterSpec("linhash:write_buffer_kb=64").IsInvalidArgument());
  CHECK(CheckAdapterSpec("linhash:write_buffer_kb=64,durability=process")
            .IsInvalidArgument());
  CHECK_OK(CheckAdapterSpec("linhash:write_buffer_kb=64,durability=memory"));
}

}  // namespace
}  // namespace kvb
