#include "engines/fileperkey/lru_cache.h"

#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "core/hash.h"

namespace kvb::fileperkey {
namespace {

constexpr uint64_t kMinShardBytes = 1 << 20;
constexpr int kMaxShardBits = 4;
// Per shard; a write stales only 1/64 of the shard's outstanding fills.
constexpr size_t kTicketSlots = 64;
constexpr size_t kInitialBuckets = 16;

size_t SlotOf(uint64_t hash) { return (hash >> 32) % kTicketSlots; }
// The low bits pick the shard, so buckets use higher ones.
size_t BucketOf(uint64_t hash, size_t buckets) {
  return (hash >> 8) & (buckets - 1);
}

}  // namespace

// One cached key: hash-chain and LRU links, the value, and the key bytes
// right after the struct (one allocation, so a probe that matches touches one
// node, not a node and a separate key buffer).
struct LruCache::Entry {
  Entry* chain = nullptr;  // next entry in the same bucket
  Entry* prev = this;      // LRU ring through the shard's sentinel
  Entry* next = this;
  uint64_t hash = 0;
  uint64_t charge = 0;  // key + value bytes, fixed at insert
  std::shared_ptr<const std::string> value;
  size_t key_size = 0;

  std::string_view key() const {
    return {reinterpret_cast<const char*>(this + 1), key_size};
  }
  static Entry* New(std::string_view key, uint64_t hash,
                    std::shared_ptr<const std::string> value) {
    void* mem = ::operator new(sizeof(Entry) + key.size());
    Entry* e = new (mem) Entry;
    e->hash = hash;
    e->charge = key.size() + value->size();
    e->value = std::move(value);
    e->key_size = key.size();
    if (!key.empty())
      std::memcpy(reinterpret_cast<char*>(e + 1), key.data(), key.size());
    return e;
  }
  static void Delete(Entry* e) {
    e->~Entry();
    ::operator delete(e);
  }
};

struct LruCache::Shard {
  mutable std::mutex mu;
  std::vector<Entry*> buckets = std::vector<Entry*>(kInitialBuckets, nullptr);
  size_t count = 0;
  Entry lru;  // sentinel: lru.next is the most recently used entry
  uint64_t charge = 0;
  uint64_t tickets[kTicketSlots] = {};
  Stats stats;

  ~Shard() {
    for (Entry* e = lru.next; e != &lru;) {
      Entry* next = e->next;
      Entry::Delete(e);
      e = next;
    }
  }

  // REQUIRES: mu held (for all members below).
  Entry** Link(uint64_t hash, std::string_view key) {
    Entry** p = &buckets[BucketOf(hash, buckets.size())];
    while (*p != nullptr && ((*p)->hash != hash || (*p)->key() != key))
      p = &(*p)->chain;
    return p;
  }
  Entry* Find(uint64_t hash, std::string_view key) { return *Link(hash, key); }
  void Touch(Entry* e) {
    if (lru.next == e) return;
    e->prev->next = e->next;
    e->next->prev = e->prev;
    PushFront(e);
  }
  void PushFront(Entry* e) {
    e->next = lru.next;
    e->prev = &lru;
    lru.next->prev = e;
    lru.next = e;
  }
  Entry* Oldest() const { return lru.prev == &lru ? nullptr : lru.prev; }
  void Add(Entry* e) {
    if (count >= buckets.size()) Grow();
    Entry*& head = buckets[BucketOf(e->hash, buckets.size())];
    e->chain = head;
    head = e;
    PushFront(e);
    count++;
    charge += e->charge;
  }
  // Unlinks and frees `e`, giving its charge back to the shard and `used`.
  void Remove(Entry* e, std::atomic<uint64_t>* used) {
    *Link(e->hash, e->key()) = e->chain;
    e->prev->next = e->next;
    e->next->prev = e->prev;
    count--;
    charge -= e->charge;  // the charge recorded at insert: cannot drift
    used->fetch_sub(e->charge, std::memory_order_relaxed);
    Entry::Delete(e);
  }
  void Grow() {
    std::vector<Entry*> bigger(buckets.size() * 2, nullptr);
    for (Entry* head : buckets) {
      for (Entry* e = head; e != nullptr;) {
        Entry* next = e->chain;
        Entry*& slot = bigger[BucketOf(e->hash, bigger.size())];
        e->chain = slot;
        slot = e;
        e = next;
      }
    }
    buckets.swap(bigger);
  }
  template <typename Out>
  bool Lookup(std::string_view key, uint64_t hash, Out out, uint64_t* ticket) {
    std::lock_guard lock(mu);
    Entry* e = Find(hash, key);
    if (e == nullptr) {
      stats.misses++;
      *ticket = tickets[SlotOf(hash)];
      return false;
    }
    Touch(e);
    stats.hits++;
    out(e->value);
    return true;
  }
};

LruCache::LruCache(uint64_t capacity_bytes, int shard_bits)
    : capacity_(capacity_bytes) {
  if (shard_bits < 0) {
    shard_bits = 0;
    while (shard_bits < kMaxShardBits &&
           (capacity_bytes >> (shard_bits + 1)) >= kMinShardBytes) {
      shard_bits++;
    }
  }
  num_shards_ = size_t{1} << shard_bits;
  shards_ = std::make_unique<Shard[]>(num_shards_);
}

LruCache::~LruCache() = default;

LruCache::Shard& LruCache::ShardFor(uint64_t hash) const {
  return shards_[hash & (num_shards_ - 1)];
}

bool LruCache::Get(std::string_view key, std::string* value, uint64_t* ticket) {
  const uint64_t h = Hash64(key);
  return ShardFor(h).Lookup(
      key, h,
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
      key, h,
      [value](const std::shared_ptr<const std::string>& v) { *value = v; },
      ticket);
}

bool LruCache::TryReserve(uint64_t charge) {
  uint64_t used = used_.load(std::memory_order_relaxed);
  do {
    if (used + charge > capacity_) return false;
  } while (!used_.compare_exchange_weak(used, used + charge,
                                        std::memory_order_relaxed));
  return true;
}

bool LruCache::ReserveFromOthers(const Shard* skip, uint64_t charge) {
  // One shard locked at a time (never two: no lock order to get wrong),
  // starting where the last such insert stopped so no shard is always first.
  const size_t start = evict_cursor_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < num_shards_; i++) {
    Shard& s = shards_[(start + i) % num_shards_];
    if (&s == skip) continue;
    std::lock_guard lock(s.mu);
    for (Entry* e; (e = s.Oldest()) != nullptr;) {
      if (TryReserve(charge)) return true;
      s.Remove(e, &used_);
      s.stats.evictions++;
    }
  }
  return TryReserve(charge);
}

bool LruCache::Insert(std::string_view key,
                      std::shared_ptr<const std::string> value,
                      uint64_t ticket) {
  const uint64_t h = Hash64(key);
  Shard& shard = ShardFor(h);
  const uint64_t charge = key.size() + value->size();
  std::unique_lock lock(shard.mu);
  if (charge > capacity_ || shard.tickets[SlotOf(h)] != ticket) {
    shard.stats.rejected++;
    return false;
  }
  // Insert = replace: the old entry's charge leaves with it (issue #40).
  if (Entry* old = shard.Find(h, key)) shard.Remove(old, &used_);
  bool reserved = TryReserve(charge);
  for (Entry* e; !reserved && (e = shard.Oldest()) != nullptr;) {
    shard.Remove(e, &used_);
    shard.stats.evictions++;
    reserved = TryReserve(charge);
  }
  if (!reserved) {
    // This shard is empty and the budget is held by the others.
    lock.unlock();
    reserved = ReserveFromOthers(&shard, charge);
    lock.lock();
    // Unlocked meanwhile: a writer may have staled the ticket, another fill
    // may have inserted the key.
    if (!reserved || shard.tickets[SlotOf(h)] != ticket) {
      if (reserved) used_.fetch_sub(charge, std::memory_order_relaxed);
      shard.stats.rejected++;
      return false;
    }
    if (Entry* old = shard.Find(h, key)) shard.Remove(old, &used_);
  }
  shard.Add(Entry::New(key, h, std::move(value)));
  shard.stats.inserts++;
  return true;
}

void LruCache::Invalidate(std::string_view key) {
  const uint64_t h = Hash64(key);
  Shard& shard = ShardFor(h);
  std::lock_guard lock(shard.mu);
  shard.tickets[SlotOf(h)]++;
  if (Entry* e = shard.Find(h, key)) shard.Remove(e, &used_);
}

void LruCache::Clear() {
  for (size_t i = 0; i < num_shards_; i++) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    for (uint64_t& t : shard.tickets) t++;
    while (Entry* e = shard.Oldest()) shard.Remove(e, &used_);
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
    total.entries += shard.count;
  }
  return total;
}

bool LruCache::TEST_CheckInvariants() const {
  uint64_t held = 0;
  for (size_t i = 0; i < num_shards_; i++) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    uint64_t sum = 0;
    size_t n = 0;
    for (const Entry* e = shard.lru.next; e != &shard.lru; e = e->next, n++) {
      if (e->next->prev != e) return false;
      if (e->charge != e->key_size + e->value->size()) return false;
      if (e->hash != Hash64(e->key())) return false;
      if (&ShardFor(e->hash) != &shard) return false;
      if (shard.Find(e->hash, e->key()) != e) return false;
      sum += e->charge;
    }
    size_t chained = 0;
    for (const Entry* head : shard.buckets)
      for (const Entry* e = head; e != nullptr; e = e->chain) chained++;
    if (n != shard.count || chained != n || sum != shard.charge) return false;
    held += sum;
  }
  return held == used_.load() && held <= capacity_;
}

}  // namespace kvb::fileperkey
