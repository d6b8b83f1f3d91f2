// kvb::MemoryAdapter — a sharded in-memory hash map: the in-memory ceiling of
// the benchmark.
//
// Data lives in `shards` std::unordered_map<std::string, std::string>, each
// guarded by its own std::shared_mutex (readers share, writers exclude); the
// shard is chosen by XXH3 of the key. Nothing is written to disk: Close()
// drops every entry (persistent=false), Sync() is a no-op, and BytesOnDisk()
// is whatever the directory already held (normally 0). Registered as
// "memory".
//
// Options:
//   shards = 64    number of independently locked maps (1..4096).
//   durability     accepted and ignored (nothing is durable).
//
// Capabilities: persistent=false; ordered=false (Scan is NotSupported);
// batch=false (WriteBatch is a loop of Put); no limits beyond memory; no
// directory lock.
// Thread safety: every operation between Open and Close is safe from any
// number of threads. Get copies the value out under the shard's shared lock.
#ifndef KVB_ADAPTERS_MEMORY_ADAPTER_H_
#define KVB_ADAPTERS_MEMORY_ADAPTER_H_

#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "adapters/adapter.h"

namespace kvb {

class MemoryAdapter final : public Adapter {
 public:
  explicit MemoryAdapter(size_t shards);
  static Capabilities Caps();

  std::string_view name() const override { return "memory"; }
  Capabilities capabilities() const override { return Caps(); }
  Status Open(const std::string& dir) override;
  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status Sync() override { return Status::OK(); }
  std::map<std::string, double> Stats() override;

 private:
  // Transparent hashing so lookups by string_view do not allocate a
  // std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> map;
  };
  Shard& ShardFor(std::string_view key);

  const size_t num_shards_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_MEMORY_ADAPTER_H_
