// Helpers shared by the fuzz targets and the seed generator
// (fuzz/make_seeds.cc).
//
// Container format of the multi-file targets (linhash_open_fuzz,
// fileperkey_open_fuzz): one flags byte, then up to `max_parts` parts, each a
// u32 little-endian length followed by that many bytes. A length past the end
// is clamped to what is left, so every byte string is a valid input (the fuzzer
// never wastes runs on "bad container" rejections); missing parts are empty.
#ifndef KVB_FUZZ_FUZZ_UTIL_H_
#define KVB_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace kvb::fuzz {

struct Parts {
  uint8_t flags = 0;
  std::vector<std::string_view> parts;  // exactly max_parts entries
};

// Splits a fuzz input (see the file comment). Views point into `data`.
Parts SplitParts(const uint8_t* data, size_t size, size_t max_parts);
// The inverse, for seeds.
std::string JoinParts(uint8_t flags, const std::vector<std::string>& parts);

// Writes `data` to `path` in `env` (creating parent directories). Aborts on
// error: the in-memory Env never fails, so an error is a bug in the harness.
void MustWriteFile(Env* env, const std::string& path, std::string_view data);

// Reports a violated property and aborts, so libFuzzer saves the input as a
// crash.
[[noreturn]] void Fail(const char* what, const Status& s = Status::OK());

}  // namespace kvb::fuzz

// A property every input must satisfy; aborts with the condition's text
// otherwise.
#define KVB_FUZZ_CHECK(cond)                                \
  do {                                                      \
    if (!(cond)) ::kvb::fuzz::Fail("check failed: " #cond); \
  } while (0)

#endif  // KVB_FUZZ_FUZZ_UTIL_H_
