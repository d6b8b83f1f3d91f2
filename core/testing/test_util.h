// Test-only helpers (linked by tests, never by libraries).
#ifndef KVB_CORE_TESTING_TEST_UTIL_H_
#define KVB_CORE_TESTING_TEST_UTIL_H_

#include <string>

#include "core/status.h"

namespace kvb::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "kvb-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace kvb::testing

// Catch2 helpers: REQUIRE_OK(status) prints the Status on failure.
#define REQUIRE_OK(expr)           \
  do {                             \
    ::kvb::Status kvb_s_ = (expr); \
    INFO(kvb_s_.ToString());       \
    REQUIRE(kvb_s_.ok());          \
  } while (0)
#define CHECK_OK(expr)             \
  do {                             \
    ::kvb::Status kvb_s_ = (expr); \
    INFO(kvb_s_.ToString());       \
    CHECK(kvb_s_.ok());            \
  } while (0)

#endif  // KVB_CORE_TESTING_TEST_UTIL_H_
