#include "engines/fileperkey/lru_cache.h"

#include <algorithm>

#include "core/hash.h"

namespace kvb::fileperkey {
namespace {

constexpr uint64_t kMinShardBytes = 1 << 20;
constexpr int kMaxShardBits = 4;
constexpr size_t kTicketSlots =
    64;  // per shard; a write stales only 1/64 of its fills

struct ViewHash {
  size_t operator()(std::string_view s) const {
    return Hash64(s, 0x9e3779b97f4a7c15ull);
  }
};

}  // namespace

struct LruCache::Shard {
  struct Entry {
    std::string key;
    std::shared_ptr<const std::string> value;
    uint64_t charge;
  };
  using List = std::list<Entry>;

  mutable std::mutex mu;
  List lru;  // front = most recently used
  // Keys are views of Entry::key; list nodes never move, so the views stay
  // valid.
  std::unordered_map<std::string_view, List::iterator, ViewHash> map;
  uint64_t charge = 0;
  uint64_t capacity = 0;
  uint64_t tickets[kTicketSlots] = {};
  Stats stats;

  // REQUIRES: mu held.
  void Remove(List::iterator it) {
    charge -=
        it->charge;  // the charge recorded at insert: the total cannot drift
    map.erase(it->key);
    lru.erase(it);
  }
  void EvictFor(uint64_t need) {
    while (charge + need > capacity && !lru.empty()) {
      Remove(std::prev(lru.end()));
      stats.evictions++;
    }
  }
  template <typename Out>
  bool Lookup(std::string_view key, size_t slot, Out out, uint64_t* ticket) {
    std::lock_guard lock(mu);
    auto it = map.find(key);
    if (it == map.end()) {
      stats.misses++;
      *ticket = tickets[slot];
      return false;
    }
    lru.splice(lru.begin(), lru, it->second);
    stats.hits++;
    out(it->second->value);
    return true;
  }
};

LruCache::LruCache(uint64_t capacity_bytes, int shard_bits) {
  if (shard_bits < 0) {
    shard_bits = 0;
    while (shard_bits < kMaxShardBits &&
           (capacity_bytes >> (shard_bits + 1)) >= kMinShardBytes) {
      shard_bits++;
    }
  }
  num_shards_ = size_t{1} << shard_bits;
  shard_capacity_ = capacity_bytes / num_shards_;
  shards_ = std::make_unique<Shard[]>(num_shards_);
  for (size_t i = 0; i < num_shards_; i++)
    shards_[i].capacity = shard_capacity_;
}

LruCache::~LruCache() = default;

LruCache::Shard& LruCache::ShardFor(uint64_t hash) const {
  return shards_[hash & (num_shards_ - 1)];
}

namespace {
size_t SlotOf(uint64_t hash) { return (hash >> 32) % kTicketSlots; }
}  // namespace

bool LruCache::Get(std::string_view key, std::string* value, uint64_t* ticket) {
  const uint64_t h = Hash64(key);
  return ShardFor(h).Lookup(
      key, SlotOf(h),
      [value](const std::shared_ptr<const std::string>& v) {
        value->assign(*v);
      },
      ticket);
}

bool LruCache::GetShared(std::string_view key,
                         std::shared_ptr<const std::string>* value,
                         uint64_t* ticket) {
  const uint64_t h = Hash64(key);
  return ShardFor(h).Lookup(
      key, SlotOf(h),
      [value](const std::shared_ptr<const std::string>& v) { *value = v; },
      ticket);
}

bool LruCache::Insert(std::string_view key,
                      std::shared_ptr<const std::string> value,
                      uint64_t ticket) {
  const uint64_t h = Hash64(key);
  Shard& shard = ShardFor(h);
  const uint64_t charge = key.size() + value->size();
  std::lock_guard lock(shard.mu);
  if (charge > shard.capacity || shard.tickets[SlotOf(h)] != ticket) {
    shard.stats.rejected++;
    return false;
  }
  // Insert = replace: the old entry's charge leaves with it (issue #40).
  auto it = shard.map.find(key);
  if (it != shard.map.end()) shard.Remove(it->second);
  shard.EvictFor(charge);
  shard.lru.push_front(
      Shard::Entry{std::string(key), std::move(value), charge});
  shard.map.emplace(shard.lru.front().key, shard.lru.begin());
  shard.charge += charge;
  shard.stats.inserts++;
  return true;
}

void LruCache::Invalidate(std::string_view key) {
  const uint64_t h = Hash64(key);
  Shard& shard = ShardFor(h);
  std::lock_guard lock(shard.mu);
  shard.tickets[SlotOf(h)]++;
  auto it = shard.map.find(key);
  if (it != shard.map.end()) shard.Remove(it->second);
}

void LruCache::Clear() {
  for (size_t i = 0; i < num_shards_; i++) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    for (uint64_t& t : shard.tickets) t++;
    shard.map.clear();
    shard.lru.clear();
    shard.charge = 0;
  }
}

LruCache::Stats LruCache::stats() const {
  Stats total;
  for (size_t i = 0; i < num_shards_; i++) {
    const Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    total.hits += shard.stats.hits;
    total.misses += shard.stats.misses;
    total.inserts += shard.stats.inserts;
    total.evictions += shard.stats.evictions;
    total.rejected += shard.stats.rejected;
    total.charge += shard.charge;
    total.entries += shard.map.size();
  }
  return total;
}

bool LruCache::TEST_CheckInvariants() const {
  for (size_t i = 0; i < num_shards_; i++) {
    const Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    uint64_t sum = 0;
    for (const auto& e : shard.lru) {
      if (e.charge != e.key.size() + e.value->size()) return false;
      auto it = shard.map.find(e.key);
      if (it == shard.map.end() || &*it->second != &e) return false;
      sum += e.charge;
    }
    if (sum != shard.charge || shard.charge > shard.capacity) return false;
    if (shard.map.size() != shard.lru.size()) return false;
  }
  return true;
}

}  // namespace kvb::fileperkey
