// A 10-million-key run (opt-in: KVB_LONG_TESTS=1; skipped otherwise, it takes
// tens of seconds and ~3 GB of disk). Bulk insert, clean reopen, verify every
// 97th key, crash-free reopen timing printed for the record (not asserted).
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

void KeyFor(uint64_t i, char* out) {
  std::memcpy(out, "key:", 4);
  for (int b = 0; b < 12; ++b)
    out[4 + b] = static_cast<char>('a' + ((i >> (4 * b)) & 15));
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

TEST_CASE("10 million keys: insert, reopen, read back", "[linhash][long]") {
  const char* flag = std::getenv("KVB_LONG_TESTS");
  if (flag == nullptr || std::string(flag) != "1") {
    SUCCEED("skipped: set KVB_LONG_TESTS=1");
    return;
  }
  const uint64_t n = 10'000'000;
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("db");
  Options o;
  std::string value(128, 'v');
  char key[16];
  auto t0 = std::chrono::steady_clock::now();
  {
    auto db = DB::Open(dir, o);
    REQUIRE(db.ok());
    for (uint64_t i = 0; i < n; ++i) {
      KeyFor(i, key);
      std::memcpy(value.data(), &i, sizeof(i));
      REQUIRE_OK((*db)->Put(std::string_view(key, 16), value));
    }
    REQUIRE((*db)->Count() == n);
    std::cout << "linhash long: insert " << n << " keys: " << Seconds(t0)
              << " s\n";
    auto t1 = std::chrono::steady_clock::now();
    REQUIRE_OK((*db)->Close());
    std::cout << "linhash long: close " << Seconds(t1) << " s\n";
  }
  auto t2 = std::chrono::steady_clock::now();
  auto db = DB::Open(dir, o);
  REQUIRE(db.ok());
  std::cout << "linhash long: clean reopen " << Seconds(t2) * 1000 << " ms\n";
  REQUIRE((*db)->Count() == n);
  std::string got;
  for (uint64_t i = 0; i < n; i += 97) {
    KeyFor(i, key);
    REQUIRE_OK((*db)->Get(std::string_view(key, 16), &got));
    uint64_t stored = 0;
    std::memcpy(&stored, got.data(), sizeof(stored));
    REQUIRE(stored == i);
  }
  auto size = (*db)->FileSize();
  REQUIRE(size.ok());
  std::cout << "linhash long: " << *size << " bytes on disk, "
            << static_cast<double>(*size) / (n * 144.0) << " x logical\n";
}

}  // namespace
}  // namespace kvb::linhash
