// kvb::fileperkey::LruCache — the store's byte-bounded, sharded LRU read cache.
//
// Fixes diskv's cache defects by construction:
//   - the charge of an entry is key bytes + value bytes, taken from the entry
//   itself when it
//     leaves, so the running total always equals the sum over entries and
//     cannot drift or underflow (issues #40, #61, #78, defect D2);
//   - insert replaces an existing entry; a value larger than a shard's share of
//   the capacity
//     is simply not cached; nothing ever panics or aborts;
//   - eviction is least-recently-used, O(1) per evicted entry.
// The capacity is split evenly over 2^k shards (k chosen so each shard holds at
// least 1 MiB, at most 16 shards); each shard has its own mutex, so lookups on
// different keys rarely meet.
//
// Stale fills: a reader that missed, read the file, and inserts afterwards
// could race with a writer that replaced the file meanwhile. Get() hands out a
// ticket on a miss; Invalidate() (called by writers after their rename) moves
// the ticket of the key's slot on; Insert() with an old ticket is refused. So
// the cache never holds a value older than the file.
//
// Thread safety: all methods are thread-safe.
#ifndef KVB_ENGINES_FILEPERKEY_LRU_CACHE_H_
#define KVB_ENGINES_FILEPERKEY_LRU_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kvb::fileperkey {

class LruCache {
 public:
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t inserts = 0;
    uint64_t evictions = 0;
    uint64_t rejected = 0;  // too large, or a stale ticket
    uint64_t charge = 0;    // bytes held (keys + values)
    uint64_t entries = 0;
  };

  // `capacity_bytes` > 0. `shard_bits` < 0 picks the default described above.
  explicit LruCache(uint64_t capacity_bytes, int shard_bits = -1);
  ~LruCache();
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // On a hit copies the value into *value and returns true. On a miss returns
  // false and sets *ticket for a later Insert of this key.
  bool Get(std::string_view key, std::string* value, uint64_t* ticket);
  // Like Get, but shares the cached bytes instead of copying them.
  bool GetShared(std::string_view key,
                 std::shared_ptr<const std::string>* value, uint64_t* ticket);
  // Inserts or replaces unless the value is too large or the key was
  // invalidated since `ticket` was issued. Returns whether the entry was
  // stored.
  bool Insert(std::string_view key, std::shared_ptr<const std::string> value,
              uint64_t ticket);
  // Removes the key (if present) and makes outstanding tickets for it stale.
  void Invalidate(std::string_view key);
  // Removes everything and makes every outstanding ticket stale.
  void Clear();

  // Largest key + value that can be cached.
  uint64_t max_charge() const { return shard_capacity_; }
  uint64_t capacity() const { return shard_capacity_ * num_shards_; }
  Stats stats() const;

  // Test hook: true when every shard's total equals the sum of its entries and
  // is within its capacity, and the LRU list and the map agree.
  bool TEST_CheckInvariants() const;

 private:
  struct Shard;

  Shard& ShardFor(uint64_t hash) const;

  size_t num_shards_;
  uint64_t shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_LRU_CACHE_H_
