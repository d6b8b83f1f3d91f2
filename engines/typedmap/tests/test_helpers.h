// Helpers shared by the typedmap tests (test-only).
#ifndef KVB_ENGINES_TYPEDMAP_TESTS_TEST_HELPERS_H_
#define KVB_ENGINES_TYPEDMAP_TESTS_TEST_HELPERS_H_

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap::testutil {

// Options over `env` without the background flusher, so a test controls every
// write.
inline Options MemOptions(Env* env) {
  Options o;
  o.env = env;
  o.background_flush = false;
  return o;
}

inline std::string ReadFile(Env* env, const std::string& path) {
  auto r = env->ReadFileToString(path);
  REQUIRE(r.ok());
  return *r;
}

// Replaces the file's contents (durably, for the fault-injecting Env).
inline void WriteFile(Env* env, const std::string& path,
                      std::string_view data) {
  auto f = env->OpenFile(path, OpenMode::kTruncate);
  REQUIRE(f.ok());
  REQUIRE_OK((*f)->Append(data));
  REQUIRE_OK((*f)->Sync());
}

}  // namespace kvb::typedmap::testutil

#endif  // KVB_ENGINES_TYPEDMAP_TESTS_TEST_HELPERS_H_
