// Atomic batches (TypedMap::Write): round trip, the version-2 header and its
// in-place upgrade, every cut point of a batch record, simulated power loss,
// async batches and Shrink.
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/typedmap/tests/test_helpers.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {
namespace {

using testutil::MemOptions;
using testutil::ReadFile;
using testutil::WriteFile;

struct Db {
  std::unique_ptr<Store> store;
  TypedMap<std::string>* map = nullptr;
};

Db OpenDb(Env* env, const std::string& path = "/db/log") {
  Db db;
  db.store = std::make_unique<Store>(MemOptions(env));
  auto m = db.store->Map<std::string>("m");
  REQUIRE(m.ok());
  db.map = *m;
  REQUIRE_OK(db.store->Open(path));
  return db;
}

std::string Key(int i) {
  std::string k = "k";
  k += std::to_string(i);
  return k;
}
std::string Val(int i, int version) {
  std::string v = "v";
  v += std::to_string(i);
  v += '.';
  v += std::to_string(version);
  return v;
}

// A batch setting keys [0, n) to version `version`.
TypedMap<std::string>::Batch SetBatch(int n, int version) {
  TypedMap<std::string>::Batch b;
  for (int i = 0; i < n; i++) b.Set(Key(i), Val(i, version));
  return b;
}

// Counts the keys [0, n) holding version `version`; the others must be absent.
int CountAtVersion(TypedMap<std::string>* map, int n, int version) {
  int found = 0;
  std::string v;
  for (int i = 0; i < n; i++) {
    Status s = map->Get(Key(i), &v);
    if (s.ok()) {
      CHECK(v == Val(i, version));
      found++;
    } else {
      CHECK(s.IsNotFound());
    }
  }
  return found;
}

TEST_CASE("a batch round-trips: sets, deletes and repeats apply in order") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/db"));
  {
    Db db = OpenDb(env.get());
    REQUIRE_OK(db.map->Set("gone", "x"));
    TypedMap<std::string>::Batch b;
    b.Set("a", "1");
    b.Set("b", "2");
    b.Set("a", "3");  // the later change of a key wins
    b.Delete("gone");
    b.Delete("never");  // logged, harmless
    CHECK(b.size() == 5);
    REQUIRE_OK(db.map->Write(std::move(b)));
    std::string v;
    REQUIRE_OK(db.map->Get("a", &v));
    CHECK(v == "3");
    CHECK(db.map->Get("gone", &v).IsNotFound());
    CHECK(db.map->Size() == 2);
    REQUIRE_OK(db.map->Write(TypedMap<std::string>::Batch{}));  // empty: no-op
    REQUIRE_OK(db.store->Close());
  }
  std::string text = ReadFile(env.get(), "/db/log");
  INFO(text);
  CHECK(text.starts_with("kvb-typedmap 2\n"));
  // The batch record: its header line, then its five records.
  size_t b = text.find("\nB ");
  REQUIRE(b != std::string::npos);
  CHECK(text.find(" 5 ", b) == b + 11);
  Db again = OpenDb(env.get());
  std::string v;
  REQUIRE_OK(again.map->Get("a", &v));
  CHECK(v == "3");
  REQUIRE_OK(again.map->Get("b", &v));
  CHECK(v == "2");
  CHECK(again.map->Get("gone", &v).IsNotFound());
  CHECK(again.map->Size() == 2);
  CHECK(again.store->GetStats().loaded_records == 6);
}

TEST_CASE("a bad key or value in a batch changes nothing") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/db"));
  Db db = OpenDb(env.get());
  uint64_t before = db.store->GetStats().log_bytes;
  TypedMap<std::string>::Batch bad_key;
  bad_key.Set("fine", "1");
  bad_key.Set(std::string("li\nne"), "2");
  CHECK(db.map->Write(std::move(bad_key)).IsInvalidArgument());
  TypedMap<std::string>::Batch bad_value;
  bad_value.Set("fine", "1");
  bad_value.Set("other", "\xff not utf-8");
  CHECK(db.map->Write(std::move(bad_value)).IsInvalidArgument());
  CHECK(db.map->Size() == 0);
  CHECK(db.store->GetStats().log_bytes == before);
}

TEST_CASE("a version-1 log is upgraded in place before its first batch") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/db"));
  {
    Db db = OpenDb(env.get());
    REQUIRE_OK(db.map->Set("old", "1"));
    REQUIRE_OK(db.store->Close());
  }
  std::string v1 = ReadFile(env.get(), "/db/log");
  REQUIRE(v1.starts_with("kvb-typedmap 1\n"));
  {
    Db db = OpenDb(env.get());
    REQUIRE_OK(db.map->Write(SetBatch(3, 1)));
    REQUIRE_OK(db.store->Close());
  }
  std::string v2 = ReadFile(env.get(), "/db/log");
  CHECK(v2.starts_with("kvb-typedmap 2\n"));
  // Only the digit changed in what was there before.
  CHECK(v2.substr(15, v1.size() - 15) == v1.substr(15));
  Db again = OpenDb(env.get());
  CHECK(again.map->Size() == 4);
  CHECK(CountAtVersion(again.map, 3, 1) == 3);
}

TEST_CASE("a go-persist log refuses batches") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/db"));
  WriteFile(env.get(), "/db/log", "go-persist 1\nS m:a\n\"1\"\n");
  Db db = OpenDb(env.get());
  CHECK(db.map->Write(SetBatch(2, 1)).IsNotSupported());
  CHECK(db.map->Size() == 1);
}

TEST_CASE("every cut point of a batch record replays all of it or none") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/db"));
  const int n = 12;
  uint64_t batch_start = 0;
  {
    Db db = OpenDb(env.get());
    REQUIRE_OK(db.map->Write(SetBatch(n, 1)));  // a complete earlier batch
    batch_start = db.store->GetStats().log_bytes;
    REQUIRE_OK(db.map->Write(SetBatch(n, 2)));
    REQUIRE_OK(db.store->Close());
  }
  const std::string full = ReadFile(env.get(), "/db/log");
  REQUIRE(full.size() > batch_start);
  REQUIRE(full[batch_start] == 'B');
  for (size_t cut = batch_start; cut <= full.size(); cut++) {
    INFO("cut at " << cut << " of " << full.size());
    WriteFile(env.get(), "/db/log", std::string_view(full).substr(0, cut));
    Db db = OpenDb(env.get());
    int version = cut == full.size() ? 2 : 1;
    CHECK(CountAtVersion(db.map, n, version) == n);
    // The torn batch was cut off: the log ends where the first batch ended.
    CHECK(db.store->GetStats().log_bytes ==
          (cut == full.size() ? full.size() : batch_start));
    REQUIRE_OK(db.store->Close());
  }
}

TEST_CASE("a damaged byte inside a complete batch is corruption, not a tail") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/db"));
  {
    Db db = OpenDb(env.get());
    REQUIRE_OK(db.map->Write(SetBatch(4, 1)));
    REQUIRE_OK(db.map->Set("after", "x"));
    REQUIRE_OK(db.store->Close());
  }
  std::string text = ReadFile(env.get(), "/db/log");
  size_t at = text.find("\"v2.1\"");
  REQUIRE(at != std::string::npos);
  text[at + 2] = '9';
  WriteFile(env.get(), "/db/log", text);
  Store store(MemOptions(env.get()));
  REQUIRE(store.Map<std::string>("m").ok());
  Status s = store.Open("/db/log");
  CHECK(s.IsCorruption());
}

TEST_CASE("power loss keeps an unsynced batch whole or drops it whole") {
  for (auto mode : {FaultInjectionEnv::PowerLossMode::kDropUnsynced,
                    FaultInjectionEnv::PowerLossMode::kTornTail}) {
    for (uint64_t seed = 1; seed <= 24; seed++) {
      auto mem = NewMemEnv();
      FaultInjectionEnv fault(mem.get());
      REQUIRE_OK(mem->CreateDir("/db"));
      Db db = OpenDb(&fault);
      const int n = 40;
      REQUIRE_OK(db.map->Write(SetBatch(n, 1), Durability::kFSync));
      REQUIRE_OK(db.map->Write(SetBatch(n, 2), Durability::kImmediate));
      // The power goes with the store open: the dead process's handle must not
      // touch the disk when it is destroyed.
      fault.CrashAfterSyncs(0);
      db.store.reset();
      REQUIRE_OK(fault.SimulatePowerLoss(mode, seed));
      Db again = OpenDb(&fault);
      // Either version 2 everywhere or version 1 everywhere, never a mix.
      std::string v;
      REQUIRE_OK(again.map->Get(Key(0), &v));
      int version = v == Val(0, 2) ? 2 : 1;
      INFO("seed " << seed << " version " << version);
      CHECK(CountAtVersion(again.map, n, version) == n);
      REQUIRE_OK(again.map->Set("after", "crash", Durability::kFSync));
      REQUIRE_OK(again.store->Close());
    }
  }
}

TEST_CASE("async batches are flushed as one batch record") {
  for (auto mode : {FaultInjectionEnv::PowerLossMode::kDropUnsynced,
                    FaultInjectionEnv::PowerLossMode::kTornTail}) {
    for (uint64_t seed = 1; seed <= 8; seed++) {
      auto mem = NewMemEnv();
      FaultInjectionEnv fault(mem.get());
      REQUIRE_OK(mem->CreateDir("/db"));
      Db db = OpenDb(&fault);
      const int n = 30;
      REQUIRE_OK(db.map->Write(SetBatch(n, 1), Durability::kAsync));
      CHECK(db.store->GetStats().dirty_keys == n);
      REQUIRE_OK(db.store->FSyncAll());
      REQUIRE_OK(db.map->Write(SetBatch(n, 2), Durability::kAsync));
      // Flushed (one write) but its fdatasync fails: the power loss may tear
      // the flush anywhere.
      fault.FailOnce(FaultInjectionEnv::Op::kDataSync, 0,
                     Status::IOError("injected"));
      CHECK_FALSE(db.store->FSyncAll().ok());
      // The power goes with the store open: the dead process's handle must not
      // touch the disk when it is destroyed.
      fault.CrashAfterSyncs(0);
      db.store.reset();
      REQUIRE_OK(fault.SimulatePowerLoss(mode, seed));
      Db again = OpenDb(&fault);
      std::string v;
      REQUIRE_OK(again.map->Get(Key(0), &v));
      int version = v == Val(0, 2) ? 2 : 1;
      INFO("seed " << seed << " version " << version);
      CHECK(CountAtVersion(again.map, n, version) == n);
    }
  }
}

TEST_CASE("Shrink keeps batches and the version-2 header") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/db"));
  {
    Db db = OpenDb(env.get());
    for (int v = 1; v <= 3; v++) REQUIRE_OK(db.map->Write(SetBatch(10, v)));
    REQUIRE_OK(db.store->Shrink());
    REQUIRE_OK(db.map->Write(SetBatch(10, 4)));
    REQUIRE_OK(db.store->Close());
  }
  CHECK(ReadFile(env.get(), "/db/log").starts_with("kvb-typedmap 2\n"));
  Db again = OpenDb(env.get());
  CHECK(CountAtVersion(again.map, 10, 4) == 10);
  CHECK(again.store->GetStats().loaded_records == 20);
}

TEST_CASE("concurrent readers never see half a batch; Shrink runs alongside") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/db"));
  Db db = OpenDb(env.get());
  const int n = 16, rounds = 300;
  REQUIRE_OK(db.map->Write(SetBatch(n, 0)));
  // Catch2 assertions are not thread-safe: threads only count problems.
  std::atomic<int> violations{0};
  auto version_of = [&](int i) {
    std::string v;
    if (!db.map->Get(Key(i), &v).ok()) {
      violations++;
      return -1;
    }
    return std::stoi(v.substr(v.find('.') + 1));
  };
  std::atomic<bool> done{false};
  std::atomic<int> shrink_errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; t++) {
    readers.emplace_back([&, t] {
      int i = t;
      while (!done.load()) {
        // Every batch sets all keys to one version, so a key read after
        // another can never hold an older version.
        int first = version_of(i % n);
        int second = version_of((i * 7 + 3) % n);
        if (second < first) violations++;
        i++;
      }
    });
  }
  std::thread shrinker([&] {
    while (!done.load()) {
      Status s = db.store->Shrink();
      if (!s.ok() && !s.IsBusy()) shrink_errors++;
      std::this_thread::yield();
    }
  });
  const Durability levels[] = {Durability::kImmediate, Durability::kAsync,
                               Durability::kFSync};
  for (int v = 1; v <= rounds; v++) {
    REQUIRE_OK(db.map->Write(SetBatch(n, v), levels[v % 3]));
    if (v % 50 == 0) REQUIRE_OK(db.store->FSyncAll());
  }
  done = true;
  for (auto& r : readers) r.join();
  shrinker.join();
  CHECK(violations.load() == 0);
  CHECK(shrink_errors.load() == 0);
  REQUIRE_OK(db.store->Close());
  Db again = OpenDb(env.get());
  CHECK(CountAtVersion(again.map, n, rounds) == n);
}

}  // namespace
}  // namespace kvb::typedmap
