// Eight threads at once — writers, readers that verify every value, and a
// maintenance thread running compaction, checkpoints, syncs and iterators —
// then a reopen checked against each writer's own model. Labelled `sanitize`,
// so it also runs under TSan.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <thread>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

constexpr int kWriters = 3;
constexpr int kReaders = 4;
constexpr int kKeysPerWriter = 200;

std::string KeyOf(int w, int i) {
  std::string k(
      "w");  // appends, not operator+ (which trips GCC 12's -Wrestrict)
  k.append(std::to_string(w)).append("-").append(std::to_string(i));
  return k;
}
// Self-verifying: the value names its key.
std::string ValueOf(const std::string& key, int version) {
  return key + "|" + std::to_string(version) + "|" +
         std::string(version % 50, '#');
}
bool ValueMatches(const std::string& key, const std::string& v) {
  return v.compare(0, key.size() + 1, key + "|") == 0;
}

void RunConcurrent(Env* env, const std::string& dir, ReadBackend backend,
                   int64_t sync) {
  Options o;
  o.env = env;
  o.read_backend = backend;
  o.background_sync_interval_ms = sync;
  o.max_segment_size = 32 << 10;
  o.compaction_min_segment_size = 0;
  o.compaction_min_fragmentation = 0.3;
  o.checkpoint_interval_ms = 5;
  auto opened = DB::Open(dir, o);
  REQUIRE(opened.ok());
  DB* db = opened->get();
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0};
  std::atomic<int> errors{0};
  std::vector<std::map<std::string, std::string>> models(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int n = 0; n < 1500; ++n) {
        std::string k = KeyOf(w, static_cast<int>(rng() % kKeysPerWriter));
        if (rng() % 5 == 0) {
          if (!db->Delete(k).ok()) errors++;
          models[w].erase(k);
        } else {
          std::string v = ValueOf(k, n);
          if (!db->Put(k, v).ok()) errors++;
          models[w][k] = v;
        }
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(100 + r);
      std::string v;
      while (!stop.load()) {
        std::string k = KeyOf(static_cast<int>(rng() % kWriters),
                              static_cast<int>(rng() % kKeysPerWriter));
        Status s =
            (r % 2 == 0) ? db->Get(k, &v) : (v.clear(), db->GetAppend(k, &v));
        if (s.ok() && !ValueMatches(k, v)) bad_reads++;
        if (!s.ok() && !s.IsNotFound()) errors++;
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      auto c = db->Compact();
      if (!c.ok() && !c.status().IsBusy()) errors++;
      if (!db->Checkpoint().ok()) errors++;
      if (!db->Sync().ok()) errors++;
      auto it = db->NewIterator();
      while (it->Next()) {
        if (!ValueMatches(std::string(it->key()), std::string(it->value())))
          bad_reads++;
      }
      if (!it->status().ok()) errors++;
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  stop.store(true);
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  CHECK(bad_reads.load() == 0);
  CHECK(errors.load() == 0);
  REQUIRE_OK(db->Close());

  auto again = DB::Open(dir, o);
  REQUIRE(again.ok());
  size_t total = 0;
  for (int w = 0; w < kWriters; ++w) {
    total += models[w].size();
    for (int i = 0; i < kKeysPerWriter; ++i) {
      std::string k = KeyOf(w, i);
      std::string v;
      Status s = (*again)->Get(k, &v);
      auto it = models[w].find(k);
      if (it == models[w].end()) {
        REQUIRE(s.IsNotFound());
      } else {
        REQUIRE_OK(s);
        REQUIRE(v == it->second);
      }
    }
  }
  CHECK((*again)->Count() == total);
}

TEST_CASE("8 threads: writers, verifying readers, maintenance (mmap)",
          "[linhash][threads]") {
  testing::TempDir tmp;
  RunConcurrent(Env::Default(), tmp.Sub("db"), ReadBackend::kMmap, 0);
}

TEST_CASE("8 threads with group commit (in-memory Env, pread)",
          "[linhash][threads]") {
  auto env = NewMemEnv();
  RunConcurrent(env.get(), "/db", ReadBackend::kPread, -1);
}

TEST_CASE(
    "lazily attached index: first touches from readers, a writer and "
    "the checkpointer at once",
    "[linhash][threads]") {
  auto env = NewMemEnv();
  Options o;
  o.env = env.get();
  o.read_backend = ReadBackend::kPread;
  o.checkpoint_interval_ms = 0;
  // ~300 k keys: an index of several 2 MiB chunks.
  const int n = 300'000;
  {
    auto db = DB::Open("/db", o);
    REQUIRE(db.ok());
    for (int b = 0; b < n; b += 1000) {
      WriteBatch batch;
      for (int i = b; i < b + 1000; ++i) {
        std::string k = KeyOf(0, i);
        batch.Put(k, ValueOf(k, 0));
      }
      REQUIRE_OK((*db)->Write(batch));
    }
    REQUIRE_OK((*db)->Close());
  }
  o.index_preload_bytes = 0;
  o.checkpoint_interval_ms = 5;  // the checkpointer loads every chunk too
  auto opened = DB::Open("/db", o);
  REQUIRE(opened.ok());
  DB* db = opened->get();
  CHECK(db->GetMetrics().index_chunks_loaded == 0);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(7 + r);
      std::string v;
      for (int j = 0; j < 3000; ++j) {
        std::string k = KeyOf(0, static_cast<int>(rng() % n));
        if (!db->Get(k, &v).ok() || !ValueMatches(k, v)) bad++;
      }
    });
  }
  threads.emplace_back([&] {
    std::mt19937 rng(99);
    for (int j = 0; j < 2000; ++j) {
      std::string k = KeyOf(rng() % 2, static_cast<int>(rng() % n));
      if (!db->Put(k, ValueOf(k, 1)).ok()) bad++;
    }
  });
  for (auto& t : threads) t.join();
  CHECK(bad.load() == 0);
  REQUIRE_OK(db->Close());
  auto again = DB::Open("/db", o);
  REQUIRE(again.ok());
  CHECK((*again)->GetMetrics().replayed_records == 0);
  std::string v;
  for (int i = 0; i < n; i += 101) {
    std::string k = KeyOf(0, i);
    REQUIRE_OK((*again)->Get(k, &v));
    REQUIRE(ValueMatches(k, v));
  }
}

}  // namespace
}  // namespace kvb::linhash
