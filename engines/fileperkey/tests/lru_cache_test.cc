// The byte-bounded LRU: exact accounting under random variable-sized traffic
// (diskv #40, #61, #78), LRU order, oversized values, and stale-fill tickets.
#include "engines/fileperkey/lru_cache.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>
#include <vector>

namespace kvb::fileperkey {
namespace {

std::shared_ptr<const std::string> Val(size_t n, char c = 'v') {
  return std::make_shared<const std::string>(n, c);
}

TEST_CASE("accounting stays exact under random variable-sized traffic",
          "[cache]") {
  for (int shard_bits : {0, 2}) {
    const uint64_t capacity = 64 << 10;
    LruCache cache(capacity, shard_bits);
    std::mt19937_64 rng(shard_bits + 1);
    std::map<std::string, size_t>
        model_present;  // not the content, just keys we expect maybe
    for (int i = 0; i < 20000; i++) {
      const std::string key =
          std::string("k").append(std::to_string(rng() % 300)) +
          std::string(rng() % 40, 'x');
      const int op = static_cast<int>(rng() % 10);
      uint64_t ticket = 0;
      std::string out;
      if (op < 5) {
        if (!cache.Get(key, &out, &ticket)) {
          // Sizes from tiny to larger than a shard (never cached).
          const size_t size =
              rng() % 4 == 0 ? rng() % (capacity / 2) : rng() % 2000;
          cache.Insert(key, Val(size), ticket);
        }
      } else if (op < 8) {
        cache.Get(key, &out, &ticket);
        cache.Invalidate(key);
        cache.Insert(key, Val(rng() % 3000), ticket);  // stale ticket: refused
      } else if (op < 9) {
        cache.Invalidate(key);
      } else if (i % 1000 == 0) {
        cache.Clear();
      }
      const LruCache::Stats st = cache.stats();
      REQUIRE(st.charge <= cache.capacity());
      REQUIRE(cache.TEST_CheckInvariants());
    }
  }
}

TEST_CASE("a value larger than the cache is not cached", "[cache]") {
  LruCache cache(1000, 0);
  uint64_t t = 0;
  std::string out;
  CHECK_FALSE(cache.Get("big", &out, &t));
  CHECK_FALSE(cache.Insert("big", Val(1000), t));  // 3 + 1000 > 1000
  CHECK(cache.stats().charge == 0);
  CHECK(cache.Insert("ok", Val(998), t));
  CHECK(cache.stats().charge == 1000);
  CHECK(cache.TEST_CheckInvariants());
}

TEST_CASE("insert replaces and evicts least recently used first", "[cache]") {
  LruCache cache(300, 0);
  uint64_t t = 0;
  std::string out;
  cache.Get("a", &out, &t);
  REQUIRE(cache.Insert("a", Val(99), t));
  REQUIRE(cache.Insert("b", Val(99), t));
  REQUIRE(cache.Insert("c", Val(99), t));
  CHECK(cache.stats().charge == 300);
  REQUIRE(cache.Get("a", &out, &t));  // a is now most recent
  REQUIRE(cache.Insert("d", Val(99), t));
  CHECK_FALSE(cache.Get("b", &out, &t));  // b was the least recent
  CHECK(cache.Get("a", &out, &t));
  // Replacing with a smaller value gives its bytes back (the #40 reporter's
  // second bug).
  REQUIRE(cache.Insert("a", Val(10, 'n'), t));
  REQUIRE(cache.Get("a", &out, &t));
  CHECK(out == std::string(10, 'n'));
  CHECK(cache.stats().charge == 100 + 100 + 11);
  CHECK(cache.TEST_CheckInvariants());
}

TEST_CASE("double invalidation never underflows (diskv D2)", "[cache]") {
  LruCache cache(100, 0);
  uint64_t t = 0;
  std::string out;
  cache.Get("k", &out, &t);
  REQUIRE(cache.Insert("k", Val(9), t));
  cache.Invalidate("k");
  cache.Invalidate("k");
  CHECK(cache.stats().charge == 0);
  cache.Get("k", &out, &t);
  CHECK(cache.Insert("k", Val(9), t));
  CHECK(cache.stats().charge == 10);
}

TEST_CASE("a fill that raced with a write is refused", "[cache]") {
  LruCache cache(1000, 0);
  uint64_t ticket = 0;
  std::string out;
  REQUIRE_FALSE(
      cache.Get("k", &out, &ticket));  // reader misses, reads the old file...
  cache.Invalidate("k");               // ...a writer renames and invalidates...
  CHECK_FALSE(cache.Insert("k", Val(5, 'o'),
                           ticket));  // ...the old value is not cached.
  CHECK_FALSE(cache.Get("k", &out, &ticket));
}

TEST_CASE("concurrent traffic keeps the invariants", "[cache][threads]") {
  LruCache cache(32 << 10, 2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&cache, t] {
      std::mt19937_64 rng(t);
      for (int i = 0; i < 5000; i++) {
        const std::string key =
            std::string("k").append(std::to_string(rng() % 200));
        uint64_t ticket = 0;
        std::string out;
        if (rng() % 5 == 0) {
          cache.Invalidate(key);
        } else if (!cache.Get(key, &out, &ticket)) {
          cache.Insert(key, Val(rng() % 1500), ticket);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(cache.TEST_CheckInvariants());
  CHECK(cache.stats().charge <= cache.capacity());
}

TEST_CASE("any value up to the whole capacity is cached (diskv CacheSizeMax)",
          "[cache][policy]") {
  // 32 MiB = 16 shards of 2 MiB. The old cache refused anything over a
  // shard's share (cache/16); diskv caches anything up to CacheSizeMax.
  const uint64_t capacity = 32 << 20;
  LruCache cache(capacity);
  uint64_t t = 0;
  std::string out;
  // Fill every shard with small entries first.
  for (int i = 0; i < 4000; i++) {
    const std::string key = "small" + std::to_string(i);
    REQUIRE_FALSE(cache.Get(key, &out, &t));
    REQUIRE(cache.Insert(key, Val(4000), t));
  }
  const uint64_t small_entries = cache.stats().entries;
  REQUIRE(small_entries == 4000);
  // 20 MiB: far over a shard's share; evicts across shards to fit.
  REQUIRE_FALSE(cache.Get("huge", &out, &t));
  REQUIRE(cache.Insert("huge", Val(20 << 20, 'h'), t));
  REQUIRE(cache.Get("huge", &out, &t));
  CHECK(out.size() == size_t{20} << 20);
  CHECK(cache.stats().charge <= capacity);
  CHECK(cache.stats().entries < small_entries + 1);
  CHECK(cache.TEST_CheckInvariants());
  // Exactly the capacity fits (everything else goes); one byte more does not.
  REQUIRE_FALSE(cache.Get("all", &out, &t));
  REQUIRE(cache.Insert("all", Val(capacity - 3), t));
  CHECK(cache.stats().entries == 1);
  CHECK(cache.stats().charge == capacity);
  REQUIRE_FALSE(cache.Get("over", &out, &t));
  CHECK_FALSE(cache.Insert("over", Val(capacity - 3), t));
  CHECK(cache.Get("all", &out, &t));  // a refused insert evicts nothing
  CHECK(cache.TEST_CheckInvariants());
}

TEST_CASE("a hit copies the value and leaves the entry most recent",
          "[cache]") {
  LruCache cache(1 << 20, 0);
  uint64_t t = 0;
  std::string out = "old contents of the caller's buffer";
  REQUIRE(cache.Insert("k", std::make_shared<const std::string>("value"), t));
  REQUIRE(cache.Get("k", &out, &t));
  CHECK(out == "value");
  std::shared_ptr<const std::string> shared;
  REQUIRE(cache.GetShared("k", &shared, &t));
  CHECK(*shared == "value");
  CHECK(cache.stats().hits == 2);
}

TEST_CASE("many keys in one shard: the table grows and every key is found",
          "[cache]") {
  LruCache cache(64 << 20, 0);
  uint64_t t = 0;
  std::string out;
  for (int i = 0; i < 50000; i++)
    REQUIRE(cache.Insert("key" + std::to_string(i), Val(i % 50), t));
  for (int i = 0; i < 50000; i++) {
    REQUIRE(cache.Get("key" + std::to_string(i), &out, &t));
    REQUIRE(out.size() == static_cast<size_t>(i % 50));
  }
  for (int i = 0; i < 50000; i += 2)
    cache.Invalidate("key" + std::to_string(i));
  CHECK(cache.stats().entries == 25000);
  CHECK_FALSE(cache.Get("key0", &out, &t));
  CHECK(cache.Get("key1", &out, &t));
  CHECK(cache.TEST_CheckInvariants());
}

TEST_CASE("concurrent inserts of values larger than a shard keep the budget",
          "[cache][threads]") {
  // Shards of 8 KiB, values up to 20 KiB: most inserts evict across shards
  // while other threads insert, hit and invalidate there.
  LruCache cache(32 << 10, 2);
  std::vector<std::thread> threads;
  std::atomic<int> big_cached{0};
  for (int t = 0; t < 6; t++) {
    threads.emplace_back([&cache, &big_cached, t] {
      std::mt19937_64 rng(100 + t);
      for (int i = 0; i < 4000; i++) {
        const std::string key =
            std::string("k").append(std::to_string(rng() % 100));
        uint64_t ticket = 0;
        std::string out;
        if (rng() % 7 == 0) {
          cache.Invalidate(key);
        } else if (!cache.Get(key, &out, &ticket)) {
          const size_t size = rng() % 3 == 0 ? rng() % (20 << 10) : rng() % 500;
          if (cache.Insert(key, Val(size), ticket) && size > (8 << 10))
            big_cached++;
        }
        if (cache.TEST_BudgetInUse() > cache.capacity()) std::abort();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(cache.TEST_CheckInvariants());
  CHECK(cache.stats().charge <= cache.capacity());
  CHECK(big_cached.load() > 0);
}

}  // namespace
}  // namespace kvb::fileperkey
