// kvb::fileperkey::LruCache — the store's byte-bounded, sharded LRU read cache.
//
// Fixes diskv's cache defects by construction:
//   - the charge of an entry is key bytes + value bytes, taken from the entry
//     itself when it leaves, so the running total always equals the sum over
//     entries and cannot drift or underflow (issues #40, #61, #78, defect D2);
//   - insert replaces an existing entry; nothing ever panics or aborts;
//   - eviction is least-recently-used, O(1) per evicted entry.
//
// Policy (as diskv's CacheSizeMax): any entry whose key + value fits the whole
// capacity is cached; a larger one is not. The shards share one byte budget:
// an insert evicts the least recently used entries of its own shard first and,
// if that is not enough, those of the other shards in turn, so the order is
// LRU within each shard and approximately LRU overall (keys spread evenly over
// the shards). The budget is never exceeded, even transiently.
//
// Sharding: 2^k shards (k chosen so each holds at least 1 MiB of the budget,
// at most 16 shards), each with its own mutex and hash table, so lookups on
// different keys rarely meet. A lookup hashes the key once (XXH3) and touches
// one shard: hash-table probe, LRU splice, copy.
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
#include <memory>
#include <string>
#include <string_view>

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
  // Inserts or replaces unless key + value exceed capacity() or the key was
  // invalidated since `ticket` was issued, evicting least recently used
  // entries to make room. Returns whether the entry was stored.
  bool Insert(std::string_view key, std::shared_ptr<const std::string> value,
              uint64_t ticket);
  // Removes the key (if present) and makes outstanding tickets for it stale.
  void Invalidate(std::string_view key);
  // Removes everything and makes every outstanding ticket stale.
  void Clear();

  // Largest key + value that can be cached: the whole capacity.
  uint64_t max_charge() const { return capacity_; }
  uint64_t capacity() const { return capacity_; }
  Stats stats() const;

  // Test hook: true when every shard's total equals the sum of its entries,
  // the shards' totals add up to the budget in use and stay within the
  // capacity, and each shard's hash table and LRU list agree. Call it only
  // while no other thread uses the cache.
  bool TEST_CheckInvariants() const;
  // Test hook: the shared budget in use now (entries + reservations), which
  // never exceeds capacity(). (stats().charge sums the shards one at a time,
  // so under concurrent traffic it is not a snapshot.)
  uint64_t TEST_BudgetInUse() const { return used_.load(); }

 private:
  struct Entry;
  struct Shard;

  Shard& ShardFor(uint64_t hash) const;
  // Takes `charge` bytes of the shared budget if they are free.
  bool TryReserve(uint64_t charge);
  // Evicts from shards other than `skip` until `charge` bytes are reserved;
  // false if everything is gone and they still are not free.
  bool ReserveFromOthers(const Shard* skip, uint64_t charge);

  const uint64_t capacity_;
  size_t num_shards_ = 1;
  std::unique_ptr<Shard[]> shards_;
  // Bytes held by all shards plus reservations of inserts in progress.
  std::atomic<uint64_t> used_{0};
  std::atomic<size_t> evict_cursor_{0};
};

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_LRU_CACHE_H_
