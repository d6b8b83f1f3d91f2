// Test-only helpers (linked by tests, never by libraries).
#ifndef KVB_CORE_TESTING_TEST_UTIL_H_
#define KVB_CORE_TESTING_TEST_UTIL_H_

#include <string>

#include "core/status.h"

// KVB_SANITIZED is 1 in an ASan or TSan build, with GCC (__SANITIZE_*__) or
// Clang (__has_feature): tests use smaller sizes there (sanitizers slow large
// copies and many threads 5-20x) and leave out what a sanitizer breaks.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KVB_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define KVB_SANITIZED 1
#endif
#endif

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

// The exit code of a test executable in which some case skipped and none
// failed (CTest's SKIP_RETURN_CODE, set for every kvb_test).
inline constexpr int kSkipExitCode = 77;
// Counts a skipped case (defined in catch_main.cc); use KVB_SKIP.
void NoteSkipped();
int SkippedCount();

}  // namespace kvb::testing

// KVB_SKIP(reason << ...): prints "SKIPPED: reason", marks the executable as
// skipped (it exits 77 unless a case failed) and leaves the test case. Never
// skip silently: the reason says what is missing and how to get it.
#define KVB_SKIP(msg)              \
  do {                             \
    ::kvb::testing::NoteSkipped(); \
    WARN("SKIPPED: " << msg);      \
    return;                        \
  } while (0)

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
