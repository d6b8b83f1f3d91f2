#include "core/strings.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace kvb {
namespace {

using Items = std::vector<std::string>;

std::string Message(const Status& s) { return std::string(s.message()); }

TEST_CASE("SplitList drops empty items", "[strings]") {
  CHECK(SplitList("") == Items{});
  CHECK(SplitList(",,") == Items{});
  CHECK(SplitList("a") == Items{"a"});
  CHECK(SplitList("a,,b,") == Items{"a", "b"});
  CHECK(SplitList(",x,y") == Items{"x", "y"});
  CHECK(SplitList("/usr/bin::/bin", ':') == Items{"/usr/bin", "/bin"});
}

TEST_CASE("SplitOnce splits at the first separator only", "[strings]") {
  std::string_view head = "h", tail = "t";
  CHECK_FALSE(SplitOnce("novalue", '=', &head, &tail));
  CHECK(head == "h");
  CHECK(tail == "t");
  REQUIRE(SplitOnce("a=b=c", '=', &head, &tail));
  CHECK(head == "a");
  CHECK(tail == "b=c");
  REQUIRE(SplitOnce("=x", '=', &head, &tail));
  CHECK(head.empty());
}

TEST_CASE("ParseUint takes whole decimal integers in range", "[strings]") {
  CHECK(*ParseUint("0", "n") == 0);
  CHECK(*ParseUint("18446744073709551615", "n") == UINT64_MAX);
  CHECK(*ParseUint("4096", "n", 1, 4096) == 4096);
  for (const char* bad :
       {"", "-5", "+5", " 5", "5 ", "5x", "0x10", "1e3", "1.5", "abc"}) {
    INFO(bad);
    Result<uint64_t> r = ParseUint(bad, "--ops");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
    CHECK(Message(r.status()) ==
          "--ops: expected a non-negative integer, got '" + std::string(bad) +
              "'");
  }
  // A count that must be positive says so.
  CHECK(Message(ParseUint("-1", "--keys", 1).status()) ==
        "--keys: expected a positive integer, got '-1'");
  CHECK(Message(ParseUint("0", "--threads", 1, 4096).status()) ==
        "--threads: 0 is out of range [1, 4096]");
  CHECK(Message(ParseUint("4097", "--threads", 1, 4096).status()) ==
        "--threads: 4097 is out of range [1, 4096]");
  // Too big for 64 bits is out of range, not garbage, and never wraps.
  CHECK(Message(ParseUint("18446744073709551616", "n").status()) ==
        "n: 18446744073709551616 is out of range [0, 18446744073709551615]");
}

TEST_CASE("ParseDouble takes finite numbers in range", "[strings]") {
  CHECK(*ParseDouble("0", "x") == 0);
  CHECK(*ParseDouble("0.25", "x") == 0.25);
  CHECK(*ParseDouble("1e3", "x") == 1000);
  CHECK(*ParseDouble("-0", "x") == 0);
  CHECK(*ParseDouble("-2.5", "x", -10, 10) == -2.5);
  for (const char* bad :
       {"", "-1", "abc", " 1", "1 ", "1,5", "inf", "nan", "0x1p3", "1e", "."}) {
    INFO(bad);
    Result<double> r = ParseDouble(bad, "--warmup-seconds");
    REQUIRE_FALSE(r.ok());
    CHECK(Message(r.status()) ==
          "--warmup-seconds: expected a non-negative number, got '" +
              std::string(bad) + "'");
  }
  CHECK(Message(ParseDouble("1e300", "--warmup-seconds", 0, 1e6).status()) ==
        "--warmup-seconds: 1e300 is out of range [0, 1e+06]");
  CHECK(Message(ParseDouble("1e-300", "--target-rate", 0.001, 1e10).status()) ==
        "--target-rate: 1e-300 is out of range [0.001, 1e+10]");
  // Overflow and underflow of a double itself.
  CHECK_FALSE(ParseDouble("1e999", "x").ok());
  CHECK_FALSE(ParseDouble("1e-999", "x").ok());
  CHECK(Message(ParseDouble("x", "mix", -1, 1).status()) ==
        "mix: expected a number, got 'x'");
}

}  // namespace
}  // namespace kvb
