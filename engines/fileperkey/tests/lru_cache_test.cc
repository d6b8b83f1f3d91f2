// The byte-bounded LRU: exact accounting under random variable-sized traffic
// (diskv #40, #61, #78), LRU order, oversized values, and stale-fill tickets.
#include "engines/fileperkey/lru_cache.h"

#include <catch2/catch.hpp>
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

}  // namespace
}  // namespace kvb::fileperkey
