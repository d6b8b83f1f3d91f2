// The one Catch2 main of the project's test executables.
//
// Skips: a case that cannot run here calls KVB_SKIP (test_util.h), which prints
// "SKIPPED: <reason>". If any case skipped and none failed, the executable
// exits with kSkipExitCode (77) so that CTest counts it as skipped, not passed
// (SKIP_RETURN_CODE; see tests/CMakeLists.txt).
#define CATCH_CONFIG_RUNNER
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>

#include "core/testing/test_util.h"

namespace kvb::testing {
namespace {
std::atomic<int> skipped_cases{0};
}  // namespace

void NoteSkipped() { skipped_cases.fetch_add(1); }
int SkippedCount() { return skipped_cases.load(); }

}  // namespace kvb::testing

int main(int argc, char* argv[]) {
  const int failed = Catch::Session().run(argc, argv);
  const int skipped = kvb::testing::SkippedCount();
  if (failed == 0 && skipped > 0) {
    std::printf("SKIPPED: %d test case(s) could not run here (reasons above)\n",
                skipped);
    return kvb::testing::kSkipExitCode;
  }
  return failed;
}
