// kvb::MemoryAdapter — a sharded in-memory hash map: the in-memory ceiling of
// the benchmark.
//
// Data lives in `shards` std::unordered_map<std::string, std::string>, each
// guarded by its own std::shared_mutex (readers share, writers exclude); the
// shard is chosen by XXH3 of the key. Nothing is written to disk: Close()
// drops every entry (persistent=false; Stats() still answers after it, with
// zero keys), Sync() is a no-op, and BytesOnDisk() is whatever the directory
// already held (normally 0). Registered as "memory".
//
// Options:
//   shards = 64    number of independently locked maps (1..4096).
//   durability     accepted and ignored (nothing is durable).
//
// Capabilities: persistent=false; ordered=false (Scan is NotSupported);
// batch=false (WriteBatch is a loop of Put); no limits beyond memory; no
// directory lock.
// Thread safety: every operation before Close is safe from any number of
// threads. Get copies the value out under the shard's shared lock.
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "core/hash.h"

namespace kvb {
namespace {

struct MemoryConfig {
  size_t shards = 64;

  static Result<MemoryConfig> Parse(const OptionMap& o) {
    MemoryConfig c;
    KVB_RETURN_IF_ERROR(ReadOption(o, "shards", &c.shards, 1, 4096));
    return c;
  }
};

constexpr Capabilities kMemoryCaps{.persistent = false};

class MemoryAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const MemoryConfig& c,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    return std::unique_ptr<Adapter>(new MemoryAdapter(c.shards, dir));
  }

  Status Close() override {
    for (size_t i = 0; i < num_shards_; i++) {
      std::unique_lock lock(shards_[i].mu);
      shards_[i].map.clear();
    }
    return Status::OK();
  }

  Status Put(std::string_view key, std::string_view value) override {
    Shard& shard = ShardFor(key);
    std::unique_lock lock(shard.mu);
    auto it = shard.map.find(key);
    if (it != shard.map.end()) {
      it->second.assign(value);
    } else {
      shard.map.emplace(std::string(key), std::string(value));
    }
    return Status::OK();
  }

  Status Get(std::string_view key, std::string* value) override {
    Shard& shard = ShardFor(key);
    std::shared_lock lock(shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return Status::NotFound();
    value->assign(it->second);
    return Status::OK();
  }

  Status Delete(std::string_view key) override {
    Shard& shard = ShardFor(key);
    std::unique_lock lock(shard.mu);
    auto it = shard.map.find(key);
    if (it != shard.map.end()) shard.map.erase(it);
    return Status::OK();
  }

  Status Has(std::string_view key, bool* found) override {
    Shard& shard = ShardFor(key);
    std::shared_lock lock(shard.mu);
    *found = shard.map.find(key) != shard.map.end();
    return Status::OK();
  }

  Status Sync() override { return Status::OK(); }

  std::map<std::string, double> Stats() override {
    double keys = 0;
    for (size_t i = 0; i < num_shards_; i++) {
      std::shared_lock lock(shards_[i].mu);
      keys += static_cast<double>(shards_[i].map.size());
    }
    return {{"keys", keys}, {"shards", static_cast<double>(num_shards_)}};
  }

 private:
  // Transparent hashing so lookups by string_view do not allocate a
  // std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return Hash64(s); }
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> map;
  };

  MemoryAdapter(size_t shards, const std::string& dir)
      : BuiltinAdapter("memory", kMemoryCaps, dir),
        num_shards_(shards),
        shards_(new Shard[shards]) {}

  Shard& ShardFor(std::string_view key) {
    // A different seed from the maps' own hash, so a shard's keys still
    // spread over its buckets.
    return shards_[Hash64(key, 0x5eed) % num_shards_];
  }

  const size_t num_shards_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace

namespace adapters_internal {

void AddMemoryAdapter(std::vector<AdapterInfo>* out) {
  Register<MemoryConfig>(
      out,
      {"memory",
       "sharded in-memory hash map (not persistent): the in-memory ceiling",
       kMemoryCaps,
       {{"shards", "64", "number of independently locked hash maps"}},
       kNotPersistent},
      &MemoryConfig::Parse, &MemoryAdapter::Open);
}

}  // namespace adapters_internal
}  // namespace kvb
