// go_compat.h: KVB_GO_STRUCT's reading and writing of Go's encoding/json
// idioms, and go::Time's RFC 3339.
#include "engines/typedmap/go_compat.h"

#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/testing/test_util.h"
#include "engines/typedmap/value_codec.h"

namespace kvb::typedmap {
namespace {

struct Inner {
  std::string street;
  std::string city;
  bool operator==(const Inner&) const = default;
};
KVB_GO_STRUCT(Inner, KVB_GO_FIELD(street, "street"),
              KVB_GO_FIELD(city, "city,omitempty"))

struct Outer {
  int64_t id = 0;
  uint8_t small = 0;
  double score = 0;
  bool active = false;
  std::string name;
  std::vector<std::string> tags;
  std::optional<std::vector<int>> maybe;
  std::map<std::string, int> limits;
  std::vector<uint8_t> blob;
  std::optional<Inner> home;
  Inner work;
  std::optional<std::string> nick;
  go::Time at;
  int omitted_zero = 0;
  bool operator==(const Outer&) const = default;
};
KVB_GO_STRUCT(Outer, KVB_GO_FIELD(id, "id"), KVB_GO_FIELD(small, "small"),
              KVB_GO_FIELD(score, "score"), KVB_GO_FIELD(active, "active"),
              KVB_GO_FIELD(name, "name,omitempty"), KVB_GO_FIELD(tags, "tags"),
              KVB_GO_FIELD(maybe, "maybe"), KVB_GO_FIELD(limits, "limits"),
              KVB_GO_FIELD(blob, "blob,omitempty"),
              KVB_GO_FIELD(home, "home,omitempty"), KVB_GO_FIELD(work, "work"),
              KVB_GO_FIELD(nick, "nick"), KVB_GO_FIELD(at, "at"),
              KVB_GO_FIELD(omitted_zero, "z,omitempty"))

nlohmann::json EncodeToJson(const Outer& v) {
  std::string text;
  REQUIRE_OK(ValueCodec<Outer>::Encode(v, &text));
  CHECK(text.find('\n') == std::string::npos);
  return nlohmann::json::parse(text);
}

TEST_CASE("go struct: the zero value is written as Go writes its zero value") {
  nlohmann::json j = EncodeToJson(Outer{});
  nlohmann::json want = nlohmann::json::parse(
      R"({"id":0,"small":0,"score":0,"active":false,"tags":null,"maybe":null,
          "limits":null,"work":{"street":""},"nick":null,
          "at":"0001-01-01T00:00:00Z"})");
  CHECK(j == want);
}

TEST_CASE("go struct: null, absent and unknown fields read as Go reads them") {
  Outer v;
  REQUIRE_OK(ValueCodec<Outer>::Decode(
      R"({"ID":7,"tags":null,"maybe":null,"limits":null,"blob":null,
          "home":null,"work":null,"nick":null,"unknown":[1,2],"at":null})",
      &v));
  Outer want;
  want.id = 7;  // matched case-insensitively
  CHECK(v == want);
  REQUIRE_OK(ValueCodec<Outer>::Decode("null", &v));
  CHECK(v == Outer{});
}

TEST_CASE("go struct: every idiom round-trips") {
  Outer v;
  v.id = -5;
  v.small = 255;
  v.score = 0.1;
  v.active = true;
  v.name = "n<&>";
  v.tags = {"a", "b"};
  v.maybe = std::vector<int>{};  // engaged and empty: [] not null
  v.limits = {{"daily", 10}};
  v.blob = {0, 1, 2, 0xff, 8};
  v.home = Inner{"1 Main St", ""};
  v.work = Inner{"2 Side St", "Town"};
  v.nick = "ace";
  REQUIRE(go::ParseRfc3339("2025-03-01T13:30:45.123456789+02:00", &v.at));
  v.omitted_zero = 3;
  nlohmann::json j = EncodeToJson(v);
  CHECK(j["maybe"] == nlohmann::json::array());
  CHECK(j["blob"] == "AAEC/wg=");
  CHECK(j["home"] == nlohmann::json::parse(R"({"street":"1 Main St"})"));
  CHECK(j["at"] == "2025-03-01T13:30:45.123456789+02:00");
  CHECK(j["z"] == 3);
  Outer back;
  REQUIRE_OK(ValueCodec<Outer>::Decode(j.dump(), &back));
  CHECK(back == v);
}

TEST_CASE("go struct: mismatches are schema errors naming the field") {
  Outer v;
  auto check = [&](const char* json, const char* path) {
    Status s = ValueCodec<Outer>::Decode(json, &v);
    INFO(json << " -> " << s.ToString());
    CHECK(s.IsInvalidArgument());
    CHECK(s.ToString().find(path) != std::string::npos);
  };
  check(R"({"id":"7"})", "id");
  check(R"({"id":1.5})", "id");
  check(R"({"id":1e3})", "id");
  check(R"({"small":256})", "small");
  check(R"({"small":-1})", "small");
  check(R"({"active":1})", "active");
  check(R"({"tags":"a"})", "tags");
  check(R"({"tags":["a",2]})", "tags.1");
  check(R"({"limits":{"x":"y"}})", "limits.x");
  check(R"({"blob":"!!"})", "blob");
  check(R"({"home":{"street":5}})", "home.street");
  check(R"({"at":"2025-02-30T00:00:00Z"})", "at");
  check(R"([1])", "value");
  // Not JSON at all: possible damage, so Corruption.
  CHECK(ValueCodec<Outer>::Decode("{\"id\":", &v).IsCorruption());
}

TEST_CASE("go time: RFC 3339 with nanoseconds and offsets") {
  go::Time t;
  REQUIRE(go::ParseRfc3339("2025-03-01T13:30:45.123456789Z", &t));
  CHECK(t.unix_seconds == 1740835845);
  CHECK(t.nanos == 123456789);
  CHECK(t.offset_minutes == 0);
  auto fmt = [](const go::Time& x) {
    std::string s;
    REQUIRE(go::FormatRfc3339(x, &s));
    return s;
  };
  CHECK(fmt(t) == "2025-03-01T13:30:45.123456789Z");
  REQUIRE(go::ParseRfc3339("2025-03-01T08:30:45.5-05:00", &t));
  CHECK(t.unix_seconds == 1740835845);
  CHECK(t.nanos == 500000000);
  CHECK(t.offset_minutes == -300);
  CHECK(fmt(t) == "2025-03-01T08:30:45.5-05:00");
  REQUIRE(go::ParseRfc3339("1970-01-01T00:00:00+00:00", &t));
  CHECK(fmt(t) == "1970-01-01T00:00:00Z");
  CHECK(fmt(go::Time{}) == "0001-01-01T00:00:00Z");
  CHECK(go::Time{}.IsZero());
  REQUIRE(go::ParseRfc3339("1969-12-31T23:59:59.999999999Z", &t));
  CHECK(t.unix_seconds == -1);
  CHECK(go::Time::FromSysTime(t.ToSysTime()) == t);
  for (const char* bad :
       {"2025-03-01", "2025-03-01T13:30:45", "2025-03-01 13:30:45Z",
        "2025-13-01T00:00:00Z", "2025-03-01T24:00:00Z", "2025-03-01T00:00:60Z",
        "2025-03-01T00:00:00.Z", "2025-03-01T00:00:00+2:00", "x"}) {
    INFO(bad);
    CHECK_FALSE(go::ParseRfc3339(bad, &t));
  }
  go::Time far;
  far.unix_seconds = 253402300800;  // 10000-01-01
  std::string s;
  CHECK_FALSE(go::FormatRfc3339(far, &s));
}

}  // namespace
}  // namespace kvb::typedmap
