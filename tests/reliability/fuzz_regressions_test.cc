// Regression tests for defects the fuzz targets (fuzz/) found, so the ordinary
// and sanitizer builds keep checking them without clang/libFuzzer. The
// reproducers themselves are in fuzz/corpus/<target>/.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/typedmap/log_format.h"
#include "engines/typedmap/typedmap.h"
#include "engines/typedmap/value_codec.h"

namespace kvb {
namespace {

// fuzz/corpus/typedmap_log_fuzz/float-to-int-overflow: decoding a JSON float
// outside an integer type's range was a float-to-int conversion overflow
// (undefined behaviour, UBSan: "6.66667e+44 is outside the range of
// representable values of type 'int'"). Refused as a schema error
// (InvalidArgument: JSON that does not fit the type, value_codec.h).
TEST_CASE("typedmap refuses JSON numbers outside the value type's range",
          "[reliability]") {
  int i = 0;
  CHECK(typedmap::ValueCodec<int>::Decode("6.6e44", &i).IsInvalidArgument());
  CHECK(typedmap::ValueCodec<int>::Decode("-2147483649.5", &i)
            .IsInvalidArgument());
  CHECK(typedmap::ValueCodec<int>::Decode("2147483648.0", &i)
            .IsInvalidArgument());
  REQUIRE_OK(typedmap::ValueCodec<int>::Decode("2147483647.0", &i));
  CHECK(i == 2147483647);
  REQUIRE_OK(typedmap::ValueCodec<int>::Decode("-2147483648.9", &i));
  CHECK(i == -2147483647 - 1);
  uint8_t u = 0;
  CHECK(typedmap::ValueCodec<uint8_t>::Decode("256.0", &u).IsInvalidArgument());
  CHECK(typedmap::ValueCodec<uint8_t>::Decode("-1.0", &u).IsInvalidArgument());
  REQUIRE_OK(typedmap::ValueCodec<uint8_t>::Decode("255.5", &u));
  CHECK(u == 255);
  int64_t l = 0;
  CHECK(
      typedmap::ValueCodec<int64_t>::Decode("9.3e18", &l).IsInvalidArgument());
  REQUIRE_OK(typedmap::ValueCodec<int64_t>::Decode("9.2e18", &l));
  float f = 0;
  CHECK(typedmap::ValueCodec<float>::Decode("1e300", &f).IsInvalidArgument());
  REQUIRE_OK(typedmap::ValueCodec<float>::Decode("1.5", &f));
  CHECK(f == 1.5f);
  REQUIRE_OK(typedmap::ValueCodec<int>::Decode("42", &i));
  CHECK(i == 42);
}

// The same value through Open: a checksummed record whose number does not fit
// the map's type is refused (InvalidArgument per store.h: "a record does not
// decode as its map's type").
TEST_CASE("typedmap open refuses a record whose number does not fit the map",
          "[reliability]") {
  std::unique_ptr<Env> env = NewMemEnv();
  REQUIRE_OK(env->CreateDirs("/db"));
  {
    typedmap::Options o;
    o.env = env.get();
    o.background_flush = false;
    typedmap::Store store(o);
    auto m = store.Map<double>("n");
    REQUIRE_OK(m.status());
    REQUIRE_OK(store.Open("/db/log"));
    REQUIRE_OK((*m)->Set("big", 6.6e44));
    REQUIRE_OK(store.Close());
  }
  typedmap::Options o;
  o.env = env.get();
  o.background_flush = false;
  typedmap::Store store(o);
  auto m = store.Map<int>("n");
  REQUIRE_OK(m.status());
  Status s = store.Open("/db/log");
  INFO(s.ToString());
  CHECK(s.IsInvalidArgument());
}

}  // namespace
}  // namespace kvb
