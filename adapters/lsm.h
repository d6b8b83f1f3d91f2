// What the two LSM reference adapters (rocksdb_adapter.cc, leveldb_adapter.cc)
// share: their common options, their scan loop and their per-level file
// counts. Internal to adapters/.
#ifndef KVB_ADAPTERS_LSM_H_
#define KVB_ADAPTERS_LSM_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "adapters/adapter.h"
#include "adapters/options.h"

namespace kvb::adapters_internal {

// Options both LSM adapters take, with the same names, ranges and defaults.
struct LsmOptions {
  uint64_t cache_mb = 64;         // block cache in MiB
  int bloom_bits = 10;            // bloom filter bits per key; 0 = none
  uint64_t write_buffer_mb = 64;  // memtable size in MiB
  DurabilityClass durability;

  Status Read(const OptionMap& o) {
    KVB_RETURN_IF_ERROR(ReadOption(o, "cache_mb", &cache_mb, 0, 1 << 20));
    KVB_RETURN_IF_ERROR(ReadOption(o, "bloom_bits", &bloom_bits, 0, 64));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "write_buffer_mb", &write_buffer_mb, 1, 1 << 16));
    return ReadDurability(o, &durability);
  }
};

// RocksDB's and LevelDB's info logs: "LOG" and the rotated "LOG.old*".
inline bool IsLsmInfoLog(std::string_view name) {
  return name == "LOG" || name.rfind("LOG.old", 0) == 0;
}

// The status codes RocksDB and LevelDB share, keeping `msg`; nullopt for the
// rest, which each adapter maps itself.
template <typename EngineStatus>
std::optional<Status> SharedLsmCode(const EngineStatus& s,
                                    const std::string& msg) {
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return std::nullopt;
}

// Calls `cb` for up to `limit` entries from `start` of an engine iterator
// (Seek/Valid/Next/key/value, slices with data() and size()).
template <typename Iterator, typename Slice>
void ScanFrom(Iterator* it, const Slice& start, size_t limit,
              const ScanCallback& cb) {
  size_t n = 0;
  for (it->Seek(start); it->Valid() && n < limit; it->Next(), n++) {
    auto k = it->key();
    auto v = it->value();
    if (!cb(std::string_view(k.data(), k.size()),
            std::string_view(v.data(), v.size())))
      break;
  }
}

// Adds "files-at-levelN" for levels 0..6; `property(N, &text)` reads the
// engine's num-files-at-levelN property.
template <typename Property>
void AddLevelFileCounts(Property&& property,
                        std::map<std::string, double>* out) {
  for (int level = 0; level < 7; level++) {
    std::string v;
    if (property(std::to_string(level), &v))
      out->emplace("files-at-level" + std::to_string(level),
                   std::strtod(v.c_str(), nullptr));
  }
}

// "name=value, ..." of a figure map, for error messages.
inline std::string FiguresText(const std::map<std::string, double>& figures) {
  std::string text;
  for (const auto& [name, value] : figures) {
    if (!text.empty()) text += ", ";
    char number[32];
    std::snprintf(number, sizeof number, "%g", value);  // 0.75 stays 0.75
    text += name + "=" + number;
  }
  return text;
}

// Settle's wait for background work: polls `idle` every 10 ms until it holds.
// An engine still busy after `limit` (no writes run during Settle, so only a
// stuck engine gets there) is a Busy error naming it and `describe`'s figures.
inline Status WaitUntilIdle(const std::function<bool()>& idle,
                            const std::function<std::string()>& describe,
                            std::string_view engine,
                            std::chrono::seconds limit = std::chrono::minutes(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!idle()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Busy(std::string(engine) +
                              " settle: background work still running after " +
                              std::to_string(limit.count()) + " s (" + describe() +
                              ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::OK();
}

}  // namespace kvb::adapters_internal

#endif  // KVB_ADAPTERS_LSM_H_
