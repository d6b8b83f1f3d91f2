// Schema errors (a value that does not decode into the map's type) versus
// damage, per-map Sync, and the options no other test exercises. Stores live
// on the heap: ThreadSanitizer would take the mutexes of two stores at one
// reused stack address for one mutex and report a false lock-order cycle.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

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

// A store with one map `name` of T, opened (the test fails if Open does not
// succeed).
template <typename T>
struct Db {
  std::unique_ptr<Store> store;
  TypedMap<T>* map = nullptr;
};
template <typename T>
Db<T> OpenDb(const Options& o, const std::string& path,
             const std::string& name) {
  Db<T> db;
  db.store = std::make_unique<Store>(o);
  auto m = db.store->template Map<T>(name);
  REQUIRE(m.ok());
  db.map = *m;
  REQUIRE_OK(db.store->Open(path));
  return db;
}

// Polls `done` for up to 10 s.
template <typename F>
bool WaitFor(F done) {
  for (int i = 0; i < 1000 && !done(); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

// A go-persist log whose second record holds a string where the map holds
// ints: intact data of the wrong type.
constexpr std::string_view kMismatch =
    "go-persist 1\nS m:a\n1\nS m:b\n\"text\"\nS m:c\n3\nD m:a\n\n";

TEST_CASE("a type mismatch is a schema error: recover does not cut the log") {
  // Regression: the legacy format reported an undecodable value as a corrupt
  // record, so recover truncated the log at it and moved the rest aside.
  auto env = NewMemEnv();
  WriteFile(env.get(), "/db", kMismatch);
  Options o = MemOptions(env.get());
  o.recover = true;
  auto store_owner = std::make_unique<Store>(o);
  Store& store = *store_owner;
  auto m = store.Map<int>("m");
  REQUIRE(m.ok());
  Status s = store.Open("/db");
  INFO(s.ToString());
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find("map 'm' key 'b'") != std::string::npos);
  CHECK(s.ToString().find("kKeepRaw") != std::string::npos);
  CHECK(ReadFile(env.get(), "/db") == kMismatch);
  CHECK_FALSE(env->FileExists("/db.corrupt"));
}

TEST_CASE("kKeepRaw opens with undecodable records kept raw in the log") {
  auto env = NewMemEnv();
  for (std::string_view text :
       {kMismatch, std::string_view("kvb-typedmap 1\n")}) {
    std::string path = text == kMismatch ? "/legacy" : "/native";
    if (text == kMismatch) {
      WriteFile(env.get(), path, text);
    } else {
      // The same records in the native format, written by a map of strings.
      Db<std::string> w_db =
          OpenDb<std::string>(MemOptions(env.get()), path, "m");
      Store& w = *w_db.store;
      TypedMap<std::string>** m = &w_db.map;
      REQUIRE_OK((*m)->Set("b", "text"));
      REQUIRE_OK(w.Close());
    }
    INFO(path);
    Options o = MemOptions(env.get());
    o.on_schema_error = SchemaErrorPolicy::kKeepRaw;
    {
      Db<int> store_db = OpenDb<int>(o, path, "m");
      Store& store = *store_db.store;
      TypedMap<int>** m = &store_db.map;
      std::string raw;
      REQUIRE_OK((*m)->GetRaw("b", &raw));
      CHECK(raw == "\"text\"");
      int v = 0;
      CHECK((*m)->Get("b", &v).IsNotFound());
      CHECK((*m)->GetRaw("c", &raw).IsNotFound());
      CHECK(store.GetStats().raw_keys == 1);
      // Shrink writes the raw record back unchanged.
      REQUIRE_OK(store.Shrink());
      CHECK(ReadFile(env.get(), path).find("m:b\n\"text\"\n") !=
            std::string::npos);
      REQUIRE_OK(store.Close());
    }
    {
      // Still there for the next open; a Set replaces it.
      Db<int> store_db = OpenDb<int>(o, path, "m");
      Store& store = *store_db.store;
      TypedMap<int>** m = &store_db.map;
      CHECK(store.GetStats().raw_keys == 1);
      REQUIRE_OK((*m)->Set("b", 2));
      std::string raw;
      CHECK((*m)->GetRaw("b", &raw).IsNotFound());
      CHECK(store.GetStats().raw_keys == 0);
      REQUIRE_OK(store.Close());
    }
    auto store_owner = std::make_unique<Store>(MemOptions(env.get()));
    Store& store = *store_owner;  // kFail: now every record decodes
    auto m = store.Map<int>("m");
    REQUIRE_OK(store.Open(path));
    int v = 0;
    REQUIRE_OK((*m)->Get("b", &v));
    CHECK(v == 2);
  }
}

TEST_CASE("deleting a key held raw deletes its record") {
  auto env = NewMemEnv();
  WriteFile(env.get(), "/db", kMismatch);
  Options o = MemOptions(env.get());
  o.on_schema_error = SchemaErrorPolicy::kKeepRaw;
  {
    Db<int> store_db = OpenDb<int>(o, "/db", "m");
    Store& store = *store_db.store;
    TypedMap<int>** m = &store_db.map;
    bool existed = true;
    REQUIRE_OK((*m)->Delete("b", Durability::kImmediate, &existed));
    CHECK_FALSE(existed);
    CHECK(store.GetStats().raw_keys == 0);
    REQUIRE_OK(store.Close());
  }
  CHECK(ReadFile(env.get(), "/db").ends_with("D m:b\n\n"));
  Db<int> db = OpenDb<int>(MemOptions(env.get()), "/db", "m");
  CHECK(db.map->Size() == 1);
}

TEST_CASE("Update, async writes and batches replace a raw value") {
  auto env = NewMemEnv();
  {
    Db<std::string> w_db =
        OpenDb<std::string>(MemOptions(env.get()), "/db", "m");
    Store& w = *w_db.store;
    TypedMap<std::string>** m = &w_db.map;
    for (const char* k : {"u", "a", "b", "d"}) REQUIRE_OK((*m)->Set(k, "text"));
    REQUIRE_OK(w.Close());
  }
  Options o = MemOptions(env.get());
  o.on_schema_error = SchemaErrorPolicy::kKeepRaw;
  {
    Db<int> store_db = OpenDb<int>(o, "/db", "m");
    Store& store = *store_db.store;
    TypedMap<int>** m = &store_db.map;
    CHECK(store.GetStats().raw_keys == 4);
    CHECK(store.GetStats().live_keys == 4);
    bool saw_exists = true;
    auto r = (*m)->Update("u", [&](Updater<int>& up) {
      saw_exists = up.exists;
      up.value = 7;
    });
    REQUIRE(r.ok());
    CHECK_FALSE(saw_exists);  // a raw value is not a T
    REQUIRE_OK((*m)->Set("a", 8, Durability::kAsync));
    REQUIRE_OK((*m)->Delete("d", Durability::kAsync));
    TypedMap<int>::Batch batch;
    batch.Set("b", 9);
    REQUIRE_OK((*m)->Write(std::move(batch)));
    CHECK(store.GetStats().raw_keys == 0);
    std::string raw;
    CHECK((*m)->GetRaw("a", &raw).IsNotFound());
    REQUIRE_OK(store.Close());  // flushes the async changes
  }
  auto store_owner = std::make_unique<Store>(MemOptions(env.get()));
  Store& store = *store_owner;  // kFail: nothing undecodable is live
  auto m = store.Map<int>("m");
  REQUIRE_OK(store.Open("/db"));
  int u = 0, a = 0, b = 0;
  REQUIRE_OK((*m)->Get("u", &u));
  REQUIRE_OK((*m)->Get("a", &a));
  REQUIRE_OK((*m)->Get("b", &b));
  CHECK(u + a + b == 24);
  CHECK((*m)->Size() == 3);
}

TEST_CASE("a map registered after Open applies the schema policy to adoption") {
  auto env = NewMemEnv();
  WriteFile(env.get(), "/db", kMismatch);
  {
    auto store_owner = std::make_unique<Store>(MemOptions(env.get()));
    Store& store = *store_owner;
    REQUIRE_OK(store.Open("/db"));
    auto m = store.Map<int>("m");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().IsInvalidArgument());
    CHECK(m.status().ToString().find("key 'b'") != std::string::npos);
  }
  Options o = MemOptions(env.get());
  o.on_schema_error = SchemaErrorPolicy::kKeepRaw;
  auto store_owner = std::make_unique<Store>(o);
  Store& store = *store_owner;
  REQUIRE_OK(store.Open("/db"));
  auto m = store.Map<int>("m");
  REQUIRE(m.ok());
  CHECK((*m)->Size() == 1);
  std::string raw;
  REQUIRE_OK((*m)->GetRaw("b", &raw));
}

TEST_CASE("text that is not JSON in a go-persist log is still damage") {
  auto env = NewMemEnv();
  WriteFile(env.get(), "/db",
            "go-persist 1\nS m:a\n1\nS m:b\n{\"x\nS m:c\n3\n");
  Options o = MemOptions(env.get());
  o.on_schema_error = SchemaErrorPolicy::kKeepRaw;
  {
    auto store_owner = std::make_unique<Store>(o);
    Store& store = *store_owner;
    auto m = store.Map<int>("m");
    CHECK(store.Open("/db").IsCorruption());
  }
  o.recover = true;
  Db<int> store_db = OpenDb<int>(o, "/db", "m");
  Store& store = *store_db.store;
  TypedMap<int>** m = &store_db.map;
  CHECK((*m)->Size() == 1);
  // What recover cut is kept, and a second recovery keeps the first's file.
  CHECK(ReadFile(env.get(), "/db.corrupt") == "S m:b\n{\"x\nS m:c\n3\n");
  REQUIRE_OK((*m)->Set("d", 4));
  REQUIRE_OK(store.Close());
  std::string text = ReadFile(env.get(), "/db");
  WriteFile(env.get(), "/db", text + "S m:e\n[\nS m:f\n6\n");
  Db<int> again = OpenDb<int>(o, "/db", "m");
  CHECK(again.map->Size() == 2);
  CHECK(ReadFile(env.get(), "/db.corrupt") == "S m:b\n{\"x\nS m:c\n3\n");
  CHECK(ReadFile(env.get(), "/db.corrupt.1") == "S m:e\n[\nS m:f\n6\n");
}

TEST_CASE("TypedMap::Sync appends this map's async changes without a sync") {
  auto env = NewMemEnv();
  auto store_owner = std::make_unique<Store>(MemOptions(env.get()));
  Store& store = *store_owner;
  auto a = store.Map<int>("a");
  auto b = store.Map<int>("b");
  REQUIRE_OK(store.Open("/db"));
  REQUIRE_OK((*a)->Set("k", 1, Durability::kAsync));
  REQUIRE_OK((*b)->Set("k", 2, Durability::kAsync));
  CHECK(store.GetStats().dirty_keys == 2);
  uint64_t syncs = store.GetStats().syncs;
  REQUIRE_OK((*a)->Sync());
  std::string text = ReadFile(env.get(), "/db");
  CHECK(text.find("a:k\n1\n") != std::string::npos);
  CHECK(text.find("b:k") == std::string::npos);
  CHECK(store.GetStats().dirty_keys == 1);
  CHECK(store.GetStats().syncs == syncs);
  REQUIRE_OK((*a)->Sync());  // nothing pending: no write
  CHECK(ReadFile(env.get(), "/db") == text);
  REQUIRE_OK(store.Close());
  CHECK(ReadFile(env.get(), "/db").find("b:k\n2\n") != std::string::npos);
}

TEST_CASE("Delete with kFSync of an absent key is OK and writes nothing") {
  auto env = NewMemEnv();
  Db<int> store_db = OpenDb<int>(MemOptions(env.get()), "/db", "m");
  Store& store = *store_db.store;
  TypedMap<int>** m = &store_db.map;
  REQUIRE_OK((*m)->Set("k", 1));
  uint64_t size = store.GetStats().log_bytes;
  bool existed = true;
  REQUIRE_OK((*m)->Delete("absent", Durability::kFSync, &existed));
  CHECK_FALSE(existed);
  CHECK(store.GetStats().log_bytes == size);
  REQUIRE_OK((*m)->Delete("k", Durability::kFSync, &existed));
  CHECK(existed);
  CHECK(store.GetStats().log_bytes > size);
}

TEST_CASE("Options::auto_shrink_ratio shrinks in the background") {
  auto env = NewMemEnv();
  Options o = MemOptions(env.get());
  o.auto_shrink_ratio = 1.5;
  o.auto_shrink_interval = std::chrono::milliseconds(10);
  Db<int> store_db = OpenDb<int>(o, "/db", "m");
  Store& store = *store_db.store;
  TypedMap<int>** m = &store_db.map;
  REQUIRE_OK((*m)->Set("other", 0));
  for (int i = 0; i < 20; i++) REQUIRE_OK((*m)->Set("k", i));
  CHECK(WaitFor([&] { return store.GetStats().shrinks >= 1; }));
  Stats st = store.GetStats();
  CHECK(st.records <= 3);  // the snapshot (2) plus what raced it
  CHECK(st.live_keys == 2);
  int v = 0;
  REQUIRE_OK((*m)->Get("k", &v));
  CHECK(v == 19);
}

TEST_CASE("Options::on_background_error receives the flusher's error") {
  auto base = NewMemEnv();
  FaultInjectionEnv env(base.get());
  Options o;
  o.env = &env;
  o.sync_interval = std::chrono::milliseconds(10);
  std::atomic<int> calls{0};
  std::mutex mu;
  Status seen;
  o.on_background_error = [&](const Status& s) {
    std::lock_guard lock(mu);
    seen = s;
    calls++;
  };
  Db<int> store_db = OpenDb<int>(o, "/db", "m");
  Store& store = *store_db.store;
  TypedMap<int>** m = &store_db.map;
  env.FailAlways(FaultInjectionEnv::Op::kDataSync,
                 Status::IOError("injected fdatasync failure"));
  REQUIRE_OK((*m)->Set("k", 1));
  REQUIRE(WaitFor([&] { return calls.load() > 0; }));
  {
    std::lock_guard lock(mu);
    CHECK(seen.IsIOError());
    CHECK(seen.ToString().find("injected") != std::string::npos);
  }
  CHECK(store.background_error().IsIOError());
  env.ClearFaults();
  CHECK_FALSE(store.Close().ok());  // the failed sync stays reported
}

TEST_CASE("Options::lock_file = false lets a second handle open the log") {
  auto env = NewMemEnv();
  auto first_owner = std::make_unique<Store>(MemOptions(env.get()));
  Store& first = *first_owner;
  REQUIRE_OK(first.Open("/db"));
  {
    auto locked_owner = std::make_unique<Store>(MemOptions(env.get()));
    Store& locked = *locked_owner;
    CHECK(locked.Open("/db").IsBusy());
  }
  Options o = MemOptions(env.get());
  o.lock_file = false;
  auto second_owner = std::make_unique<Store>(o);
  Store& second = *second_owner;
  REQUIRE_OK(second.Open("/db"));
  REQUIRE_OK(second.Close());
}

TEST_CASE("store-level Delete removes a key durably") {
  auto env = NewMemEnv();
  {
    auto store_owner = std::make_unique<Store>(MemOptions(env.get()));
    Store& store = *store_owner;
    REQUIRE_OK(store.Open("/db"));
    REQUIRE_OK(store.Set("cfg", 5));
    REQUIRE_OK(store.Set("keep", 6));
    REQUIRE_OK(store.Delete("cfg", Durability::kFSync));
    CHECK(store.Get<int>("cfg").status().IsNotFound());
    CHECK(store.GetStats().live_keys == 1);
    uint64_t size = store.GetStats().log_bytes;
    REQUIRE_OK(store.Delete("cfg"));  // absent: OK, nothing written
    CHECK(store.GetStats().log_bytes == size);
    REQUIRE_OK(store.Close());
  }
  auto store_owner = std::make_unique<Store>(MemOptions(env.get()));
  Store& store = *store_owner;
  REQUIRE_OK(store.Open("/db"));
  CHECK(store.Get<int>("cfg").status().IsNotFound());
  auto keep = store.Get<int>("keep");
  REQUIRE(keep.ok());
  CHECK(*keep == 6);
}

}  // namespace
}  // namespace kvb::typedmap
