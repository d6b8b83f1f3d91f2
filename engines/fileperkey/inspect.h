// kvb::fileperkey::Inspect — an offline check of a store directory (`kvbench
// inspect fileperkey DIR`).
//
// Reads BASE/.fpk-meta to learn the layout, walks the tree without taking the
// store's lock and without changing anything, and checks that every file is
// where its key maps (the inverse transform applied to its path gives a key
// whose forward path is that same path, so the index a Store would rebuild from
// this tree is exactly the set of keys found), that no key appears twice, and
// (verify_values) that every compressed value decodes with a valid frame
// checksum and, in a store with value checksums, that every value file ends in
// a matching CRC-32C trailer. In such a store a file shorter than the trailer
// (e.g. zero-length) is a bad value even without verify_values. Plain stores
// (checksum none) have nothing to verify: their damage cannot be seen.
//
// Thread safety: a free function; run it while no store writes the directory
// for a consistent picture.
#ifndef KVB_ENGINES_FILEPERKEY_INSPECT_H_
#define KVB_ENGINES_FILEPERKEY_INSPECT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"

namespace kvb::fileperkey {

struct InspectReport {
  std::string transform;  // from .fpk-meta
  std::string encoding;
  std::string compression;
  std::string checksum;  // "crc32c" or "none" (value trailers, FORMAT.md 2.1)
  uint64_t keys = 0;
  uint64_t directories = 0;
  uint64_t value_bytes = 0;  // apparent size of the key files
  uint64_t allocated_bytes =
      0;  // st_blocks * 512 of every file (keys, temp, metadata)
  uint64_t temp_files = 0;  // leftovers in .fpk-tmp (removed at the next Open)
  uint64_t foreign_files = 0;  // files no key maps to
  uint64_t bad_values = 0;     // values failing their frame or trailer check
  std::vector<std::string> problems;  // the first few, one line each
  bool ok() const { return foreign_files == 0 && bad_values == 0; }
};

// `on_key` (may be null) is called with each key found. NotFound if `base` is
// missing; Corruption if .fpk-meta is missing or damaged. The report's ok()
// tells whether the tree passed its checks.
Result<InspectReport> Inspect(
    Env* env, const std::string& base, bool verify_values,
    const std::function<void(const std::string& key)>& on_key);

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_INSPECT_H_
