#include "adapters/memory_adapter.h"

#include <mutex>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "core/hash.h"

namespace kvb {

MemoryAdapter::MemoryAdapter(size_t shards)
    : num_shards_(shards), shards_(new Shard[shards]) {}

Capabilities MemoryAdapter::Caps() {
  Capabilities c;
  c.persistent = false;
  c.ordered = false;
  c.thread_safe = true;
  c.batch = false;
  c.locks_directory = false;
  return c;
}

size_t MemoryAdapter::Hash::operator()(std::string_view s) const {
  return Hash64(s);
}

MemoryAdapter::Shard& MemoryAdapter::ShardFor(std::string_view key) {
  // A different seed from the maps' own hash, so a shard's keys still spread
  // over its buckets.
  return shards_[Hash64(key, 0x5eed) % num_shards_];
}

Status MemoryAdapter::Open(const std::string& dir) {
  KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
  dir_ = dir;
  return Status::OK();
}

Status MemoryAdapter::Close() {
  for (size_t i = 0; i < num_shards_; i++) {
    std::unique_lock lock(shards_[i].mu);
    shards_[i].map.clear();
  }
  return Status::OK();
}

Status MemoryAdapter::Put(std::string_view key, std::string_view value) {
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

Status MemoryAdapter::Get(std::string_view key, std::string* value) {
  Shard& shard = ShardFor(key);
  std::shared_lock lock(shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return Status::NotFound();
  value->assign(it->second);
  return Status::OK();
}

Status MemoryAdapter::Delete(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::unique_lock lock(shard.mu);
  auto it = shard.map.find(key);
  if (it != shard.map.end()) shard.map.erase(it);
  return Status::OK();
}

Status MemoryAdapter::Has(std::string_view key, bool* found) {
  Shard& shard = ShardFor(key);
  std::shared_lock lock(shard.mu);
  *found = shard.map.find(key) != shard.map.end();
  return Status::OK();
}

std::map<std::string, double> MemoryAdapter::Stats() {
  double keys = 0;
  for (size_t i = 0; i < num_shards_; i++) {
    std::shared_lock lock(shards_[i].mu);
    keys += static_cast<double>(shards_[i].map.size());
  }
  return {{"keys", keys}, {"shards", static_cast<double>(num_shards_)}};
}

namespace adapters_internal {

void AddMemoryAdapter(std::vector<AdapterInfo>* out) {
  AdapterInfo info;
  info.name = "memory";
  info.description =
      "sharded in-memory hash map (not persistent): the in-memory ceiling";
  info.built = true;
  info.capabilities = MemoryAdapter::Caps();
  info.options = {{"shards", "64", "number of independently locked hash maps"}};
  info.factory = [](const OptionMap& o) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(int64_t shards,
                         GetIntOption(o, "shards", 64, 1, 4096));
    return std::unique_ptr<Adapter>(
        new MemoryAdapter(static_cast<size_t>(shards)));
  };
  out->push_back(std::move(info));
}

}  // namespace adapters_internal
}  // namespace kvb
