// Store and TypedMap behaviour: API semantics, reopen, Shrink, a model test,
// corruption.
#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/typedmap/tests/test_helpers.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {
namespace {

using testutil::MemOptions;
using testutil::ReadFile;
using testutil::WriteFile;

// prefix + decimal n, written out because g++ 12 warns falsely (-Wrestrict, GCC
// bug 105651) on "literal" + std::to_string(n).
std::string Cat(std::string_view prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

struct User {
  std::string name;
  int age = 0;
  bool operator==(const User&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, name, age)

// Opens a store with one map of T named `name` over `env`.
template <typename T>
struct Opened {
  std::unique_ptr<Store> store;
  TypedMap<T>* map = nullptr;
};
template <typename T>
Opened<T> OpenMap(Env* env, const std::string& path,
                  const std::string& name = "m", Options o = {}) {
  if (o.env == nullptr) o = MemOptions(env);
  Opened<T> r;
  r.store = std::make_unique<Store>(o);
  Store* store = r.store.get();
  auto m = store->Map<T>(name);
  REQUIRE(m.ok());
  r.map = *m;
  REQUIRE_OK(r.store->Open(path));
  return r;
}

TEST_CASE("set, get, delete, size and range across maps and reopen") {
  auto env = NewMemEnv();
  {
    Store store(MemOptions(env.get()));
    auto users = store.Map<User>("users");
    auto counts = store.Map<int64_t>("counts");
    REQUIRE(users.ok());
    REQUIRE(counts.ok());
    CHECK(store.Map<int>("users").status().IsInvalidArgument());
    CHECK(store.Map<int>("a:b").status().IsInvalidArgument());
    CHECK((*users)->Get("x", nullptr).IsFailedPrecondition());  // not open yet
    REQUIRE_OK(store.Open("/db"));
    REQUIRE_OK((*users)->Set("alice", User{"Alice", 28}));
    REQUIRE_OK((*users)->Set("bob", User{"Bob", 40}, Durability::kFSync));
    REQUIRE_OK((*users)->Set("carol", User{"Carol", 33}, Durability::kAsync));
    REQUIRE_OK((*counts)->Set("alice", 7));
    REQUIRE_OK((*users)->Set("", User{"Empty key", 1}));
    bool existed = true;
    REQUIRE_OK((*users)->Delete("nobody", Durability::kImmediate, &existed));
    CHECK_FALSE(existed);
    REQUIRE_OK((*users)->Delete("bob", Durability::kFSync, &existed));
    CHECK(existed);
    User u;
    REQUIRE_OK((*users)->Get("alice", &u));
    CHECK(u == User{"Alice", 28});
    CHECK((*users)->Get("bob", &u).IsNotFound());
    CHECK((*users)->Size() == 3);
    int visited = 0;
    REQUIRE_OK((*users)->Range(
        [&](std::string_view, const User&) { return ++visited < 2; }));
    CHECK(visited == 2);
    REQUIRE_OK(store.Close());
  }
  Store store(MemOptions(env.get()));
  auto users = store.Map<User>("users");
  auto counts = store.Map<int64_t>("counts");
  REQUIRE_OK(store.Open("/db"));
  std::map<std::string, User> all;
  REQUIRE_OK((*users)->Range([&](std::string_view k, const User& v) {
    all[std::string(k)] = v;
    return true;
  }));
  CHECK(all == std::map<std::string, User>{{"", {"Empty key", 1}},
                                           {"alice", {"Alice", 28}},
                                           {"carol", {"Carol", 33}}});
  int64_t c = 0;
  REQUIRE_OK((*counts)->Get("alice", &c));
  CHECK(c == 7);
  Stats st = store.GetStats();
  CHECK(st.live_keys == 4);
  // Records: 5 sets and one delete (the delete of an absent key wrote nothing).
  CHECK(st.loaded_records == 6);
}

TEST_CASE("the log is human-readable text in the documented shape") {
  auto env = NewMemEnv();
  {
    auto db = OpenMap<std::string>(env.get(), "/db", "users");
    REQUIRE_OK(db.map->Set("alice", "hi \"there\"\n"));
    REQUIRE_OK(db.map->Delete("alice"));
    REQUIRE_OK(db.store->Close());
  }
  std::string text = ReadFile(env.get(), "/db");
  INFO(text);
  REQUIRE(text.size() == 15 + 40 + 24);
  CHECK(text.starts_with("kvb-typedmap 1\nS "));
  CHECK(text.find(" users:alice\n\"hi \\\"there\\\"\\n\"\nD ") == 25);
  CHECK(text.ends_with(" users:alice\n\n"));
}

TEST_CASE("every path validates keys and leaves memory unchanged on error") {
  auto env = NewMemEnv();
  auto db = OpenMap<std::string>(env.get(), "/db");
  const std::string bad = "line\nbreak";
  CHECK(db.map->Set(bad, "v").IsInvalidArgument());
  CHECK(db.map->Set(bad, "v", Durability::kAsync).IsInvalidArgument());
  CHECK(db.map->Delete(bad).IsInvalidArgument());
  CHECK(db.map->Delete(bad, Durability::kAsync).IsInvalidArgument());
  CHECK(db.map->SetInMemory(bad, "v").IsInvalidArgument());
  CHECK(db.map->Update(bad, [](Updater<std::string>&) {})
            .status()
            .IsInvalidArgument());
  CHECK(db.map->Set("k", "\xff not utf8").IsInvalidArgument());
  CHECK(db.map->Set("k", "\xff", Durability::kAsync).IsInvalidArgument());
  CHECK(db.map->SetInMemory("k", "\xff").IsInvalidArgument());
  CHECK(db.map->Size() == 0);
  CHECK(db.store->Set("", 1).IsInvalidArgument());
  CHECK(db.store->Set("a\tb", 1).IsInvalidArgument());
  CHECK(db.store->Delete("x\ny").IsInvalidArgument());
  CHECK(db.store->Set("m:owned", 1).IsInvalidArgument());  // belongs to map "m"
  REQUIRE_OK(db.store->FSyncAll());
  CHECK(db.store->GetStats().records == 0);
}

struct Reading {
  std::string sensor;
  double celsius = 0;
  std::vector<double> history;
  bool operator==(const Reading&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Reading, sensor, celsius, history)

// Issue 14 defect 6: NaN and ±Inf were written as `null`, after which the log
// could not be reopened (not even with recover).
TEST_CASE("non-finite doubles are refused; the log still reopens") {
  const double kBad[] = {std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity()};
  auto env = NewMemEnv();
  {
    auto db = OpenMap<double>(env.get(), "/nan");
    REQUIRE_OK(db.map->Set("ok", 1.5));
    for (double bad : kBad) {
      INFO(bad);
      for (Durability d :
           {Durability::kAsync, Durability::kImmediate, Durability::kFSync}) {
        Status s = db.map->Set("k", bad, d);
        CHECK(s.IsInvalidArgument());
        CHECK(s.ToString().find("non-finite") != std::string::npos);
      }
      CHECK(db.map->SetInMemory("k", bad).IsInvalidArgument());
      auto up =
          db.map->Update("ok", [&](Updater<double>& u) { u.value = bad; });
      CHECK(up.status().IsInvalidArgument());
      TypedMap<double>::Batch batch;
      batch.Set("b", 2.0);
      batch.Set("k", bad);
      CHECK(db.map->Write(std::move(batch)).IsInvalidArgument());
      CHECK(db.store->Set("top", bad).IsInvalidArgument());
    }
    CHECK(db.map->Size() == 1);
    double v = 0;
    REQUIRE_OK(db.map->Get("ok", &v));
    CHECK(v == 1.5);
    REQUIRE_OK(db.store->Close());
  }
  auto db = OpenMap<double>(env.get(), "/nan");
  CHECK(db.map->Size() == 1);
  double v = 0;
  REQUIRE_OK(db.map->Get("ok", &v));
  CHECK(v == 1.5);
}

TEST_CASE(
    "a struct with a non-finite field is refused; the log still reopens") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  auto env = NewMemEnv();
  const Reading good{"s1", 21.5, {20.0, 21.0}};
  {
    auto db = OpenMap<Reading>(env.get(), "/struct");
    REQUIRE_OK(db.map->Set("good", good));
    Status field = db.map->Set("a", Reading{"s2", nan, {}});
    CHECK(field.IsInvalidArgument());
    CHECK(field.ToString().find("'/celsius'") != std::string::npos);
    Status nested = db.map->Set("b", Reading{"s3", 1.0, {1.0, -inf}});
    CHECK(nested.IsInvalidArgument());
    CHECK(nested.ToString().find("'/history/1'") != std::string::npos);
    auto up = db.map->Update(
        "good", [&](Updater<Reading>& u) { u.value.history.push_back(inf); });
    CHECK(up.status().IsInvalidArgument());
    REQUIRE_OK(db.store->Shrink());  // memory holds only encodable values
    REQUIRE_OK(db.store->Close());
  }
  auto db = OpenMap<Reading>(env.get(), "/struct");
  CHECK(db.map->Size() == 1);
  Reading r;
  REQUIRE_OK(db.map->Get("good", &r));
  CHECK(r == good);
}

TEST_CASE(
    "Update: default set, cancel, delete, and the documented zero-value "
    "creation") {
  auto env = NewMemEnv();
  auto db = OpenMap<int>(env.get(), "/db");
  // Doing nothing on an absent key creates it with T{} (go-persist's default
  // action).
  auto r =
      db.map->Update("zero", [](Updater<int>& u) { CHECK_FALSE(u.exists); });
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK(**r == 0);
  r = db.map->Update("absent", [](Updater<int>& u) { u.Cancel(); });
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
  CHECK(db.map->Size() == 1);
  r = db.map->Update("n", [](Updater<int>& u) { u.value += 5; });
  r = db.map->Update("n", [](Updater<int>& u) {
    CHECK(u.exists);
    u.value *= 3;
  });
  CHECK(**r == 15);
  r = db.map->Update("n", [](Updater<int>& u) {
    u.value = 99;
    u.Cancel();
  });
  CHECK(**r == 15);
  r = db.map->Update(
      "n", [](Updater<int>& u) { u.Set(42); }, Durability::kFSync);
  CHECK(**r == 42);
  r = db.map->Update(
      "n", [](Updater<int>& u) { u.Delete(); }, Durability::kAsync);
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
  int v = 0;
  CHECK(db.map->Get("n", &v).IsNotFound());
  // UpdateInMemory allows only Set.
  auto m = db.map->UpdateInMemory("zero", [](Updater<int>& u) { u.value = 8; });
  REQUIRE(m.ok());
  CHECK(*m == 8);
  CHECK(db.map->UpdateInMemory("zero", [](Updater<int>& u) { u.Delete(); })
            .status()
            .IsInvalidArgument());
  REQUIRE_OK(db.map->Get("zero", &v));
  CHECK(v == 8);
}

TEST_CASE(
    "a throwing Update callback changes nothing and releases the key's lock") {
  auto env = NewMemEnv();
  auto db = OpenMap<int>(env.get(), "/db");
  REQUIRE_OK(db.map->Set("k", 1));
  uint64_t records = db.store->GetStats().records;
  CHECK_THROWS_AS(db.map->Update("k",
                                 [](Updater<int>& u) {
                                   u.value = 2;
                                   throw std::runtime_error("boom");
                                 }),
                  std::runtime_error);
  int v = 0;
  REQUIRE_OK(db.map->Get("k", &v));
  CHECK(v == 1);
  // Another thread can write the same key (it would hang if the lock were still
  // held).
  Status s;
  std::thread t([&] { s = db.map->Set("k", 3); });
  t.join();
  CHECK_OK(s);
  REQUIRE_OK(db.map->Get("k", &v));
  CHECK(v == 3);
  CHECK(db.store->GetStats().records == records + 1);
}

TEST_CASE("in-memory values are not logged but a Shrink snapshots them") {
  auto env = NewMemEnv();
  {
    auto db = OpenMap<int>(env.get(), "/db");
    REQUIRE_OK(db.map->SetInMemory("mem", 1));
    REQUIRE_OK(db.map->Set("disk", 2));
    REQUIRE_OK(db.store->Close());
  }
  {
    auto db = OpenMap<int>(env.get(), "/db");
    int v;
    CHECK(db.map->Get("mem", &v).IsNotFound());
    REQUIRE_OK(db.map->SetInMemory("mem", 1));
    REQUIRE_OK(db.store->Shrink());
    REQUIRE_OK(db.store->Close());
  }
  auto db = OpenMap<int>(env.get(), "/db");
  int v = 0;
  REQUIRE_OK(db.map->Get("mem", &v));
  CHECK(v == 1);
}

TEST_CASE("async writes coalesce and a flush never re-appends clean keys") {
  auto env = NewMemEnv();
  auto db = OpenMap<int>(env.get(), "/db");
  for (int i = 0; i < 100; i++)
    REQUIRE_OK(db.map->Set("hot", i, Durability::kAsync));
  REQUIRE_OK(db.map->Set("gone", 1, Durability::kAsync));
  REQUIRE_OK(db.map->Delete("gone", Durability::kAsync));
  CHECK(db.store->GetStats().records == 0);
  CHECK(db.store->GetStats().dirty_keys == 2);
  REQUIRE_OK(db.store->FSyncAll());
  Stats st = db.store->GetStats();
  CHECK(st.records == 2);  // one S for "hot", one D for "gone"
  CHECK(st.appends == 1);  // in one write
  CHECK(st.dirty_keys == 0);
  REQUIRE_OK(db.store->FSyncAll());
  CHECK(db.store->GetStats().records == 2);
  // A persisting write supersedes a pending async record of the same key.
  REQUIRE_OK(db.map->Set("hot", 1000, Durability::kAsync));
  REQUIRE_OK(db.map->Set("hot", 2000));
  REQUIRE_OK(db.store->FSyncAll());
  CHECK(db.store->GetStats().records == 3);
  REQUIRE_OK(db.store->Close());
  auto again = OpenMap<int>(env.get(), "/db");
  int v = 0;
  REQUIRE_OK(again.map->Get("hot", &v));
  CHECK(v == 2000);
  CHECK(again.map->Get("gone", &v).IsNotFound());
}

TEST_CASE("the background flusher writes async changes within the interval") {
  auto env = NewMemEnv();
  Options o = MemOptions(env.get());
  o.background_flush = true;
  o.sync_interval = std::chrono::milliseconds(5);
  auto db = OpenMap<int>(env.get(), "/db", "m", o);
  db.store->SetSyncInterval(std::chrono::milliseconds(2));
  CHECK(db.store->sync_interval() == std::chrono::milliseconds(2));
  REQUIRE_OK(db.map->Set("a", 1, Durability::kAsync));
  for (int i = 0; i < 2000 && db.store->GetStats().records == 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(db.store->GetStats().records == 1);
  CHECK(db.store->GetStats().syncs >= 1);
  CHECK_OK(db.store->background_error());
}

TEST_CASE("a closed store refuses every call") {
  auto env = NewMemEnv();
  auto db = OpenMap<int>(env.get(), "/db");
  REQUIRE_OK(db.map->Set("k", 1));
  REQUIRE_OK(db.store->Close());
  REQUIRE_OK(db.store->Close());  // idempotent
  int v;
  CHECK(db.map->Get("k", &v).IsFailedPrecondition());
  CHECK(db.map->Set("k", 2).IsFailedPrecondition());
  CHECK(db.map->Delete("k").IsFailedPrecondition());
  CHECK(db.map->Update("k", [](Updater<int>&) {})
            .status()
            .IsFailedPrecondition());
  CHECK(db.map->Range([](std::string_view, int) { return true; })
            .IsFailedPrecondition());
  CHECK(db.store->FSyncAll().IsFailedPrecondition());
  CHECK(db.store->Shrink().IsFailedPrecondition());
  CHECK(db.store->Open("/db").IsFailedPrecondition());
  CHECK(db.store->Map<int>("new").status().IsFailedPrecondition());
  CHECK(db.store->Get<int>("x").status().IsFailedPrecondition());
}

TEST_CASE("a second handle on the same log is refused") {
  auto env = NewMemEnv();
  auto db = OpenMap<int>(env.get(), "/db");
  Store second(MemOptions(env.get()));
  CHECK(second.Open("/db").IsBusy());
}

TEST_CASE("Shrink compacts the log to one record per live key") {
  auto env = NewMemEnv();
  auto db = OpenMap<std::string>(env.get(), "/db");
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < 200; i++) {
      REQUIRE_OK(db.map->Set("key" + std::to_string(i),
                             "value " + std::to_string(round)));
    }
  }
  for (int i = 0; i < 100; i++)
    REQUIRE_OK(db.map->Delete("key" + std::to_string(i)));
  REQUIRE_OK(db.store->Set("global", 5));
  uint64_t before = ReadFile(env.get(), "/db").size();
  CHECK(db.store->GetStats().records == 1101);
  REQUIRE_OK(db.store->Shrink());
  Stats st = db.store->GetStats();
  CHECK(st.records == 101);
  CHECK(st.shrinks == 1);
  uint64_t after = ReadFile(env.get(), "/db").size();
  CHECK(after == st.log_bytes);
  CHECK(after * 8 < before);
  CHECK_FALSE(env->FileExists("/db.tmp"));
  // The store keeps working on the new file.
  REQUIRE_OK(db.map->Set("key0", "back"));
  REQUIRE_OK(db.store->Close());
  auto again = OpenMap<std::string>(env.get(), "/db");
  CHECK(again.map->Size() == 101);
  std::string v;
  REQUIRE_OK(again.map->Get("key0", &v));
  CHECK(v == "back");
  REQUIRE_OK(again.map->Get("key150", &v));
  CHECK(v == "value 4");
  auto g = again.store->Get<int>("global");
  REQUIRE(g.ok());
  CHECK(*g == 5);
}

TEST_CASE("auto-shrink runs when records / live keys reaches the ratio") {
  auto env = NewMemEnv();
  auto db = OpenMap<int>(env.get(), "/db");
  CHECK(db.store->StartAutoShrink(std::chrono::milliseconds(1), 1.0)
            .IsInvalidArgument());
  for (int i = 0; i < 10; i++) REQUIRE_OK(db.map->Set("k", i));
  REQUIRE_OK(db.store->StartAutoShrink(std::chrono::milliseconds(1), 2.0));
  CHECK(db.store->StartAutoShrink(std::chrono::milliseconds(1), 2.0)
            .IsFailedPrecondition());
  for (int i = 0; i < 5000 && db.store->GetStats().shrinks == 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(db.store->GetStats().shrinks >= 1);
  CHECK(db.store->GetStats().records == 1);
}

TEST_CASE("OpenSingleMap writes keys as ':key'") {
  auto env = NewMemEnv();
  Options o = SingleMapOptions();
  o.env = env.get();
  o.background_flush = false;
  {
    auto single = OpenSingleMap<double>("/single", o);
    REQUIRE(single.ok());
    REQUIRE_OK((**single)->Set("pi", 3.5));
    REQUIRE_OK((*single)->store().Close());
  }
  CHECK(ReadFile(env.get(), "/single").find(" :pi\n3.5\n") !=
        std::string::npos);
  auto single = OpenSingleMap<double>("/single", o);
  REQUIRE(single.ok());
  double v = 0;
  REQUIRE_OK((*single)->map().Get("pi", &v));
  CHECK(v == 3.5);
}

TEST_CASE("values of many megabytes round-trip") {
  auto env = NewMemEnv();
  std::string text(6 << 20, 'x');
  for (size_t i = 0; i < text.size(); i += 4099) text[i] = '"';
  std::string binary(16 << 20, '\0');
  std::mt19937_64 rng(7);
  for (auto& c : binary) c = static_cast<char>(rng());
  {
    Store store(MemOptions(env.get()));
    auto s = store.Map<std::string>("s");
    auto b = store.Map<Bytes>("b");
    REQUIRE_OK(store.Open("/big"));
    REQUIRE_OK((*s)->Set("text", text));
    REQUIRE_OK((*b)->Set("bin", Bytes{binary}, Durability::kFSync));
    REQUIRE_OK(store.Close());
  }
  Store store(MemOptions(env.get()));
  auto s = store.Map<std::string>("s");
  auto b = store.Map<Bytes>("b");
  REQUIRE_OK(store.Open("/big"));
  std::string got;
  REQUIRE_OK((*s)->Get("text", &got));
  CHECK(got == text);
  Bytes bin;
  REQUIRE_OK((*b)->Get("bin", &bin));
  CHECK(bin.data == binary);
}

TEST_CASE(
    "a torn last record is cut at open so later writes cannot glue onto it") {
  auto env = NewMemEnv();
  {
    auto db = OpenMap<std::string>(env.get(), "/db");
    REQUIRE_OK(db.map->Set("a", "1"));
    REQUIRE_OK(db.map->Set("b", "2"));
    REQUIRE_OK(db.store->Close());
  }
  std::string good = ReadFile(env.get(), "/db");
  // The first half of a third record, as a crash mid-append leaves it.
  WriteFile(env.get(), "/db", good + "S 0123abcd m:c\n\"3");
  {
    auto db = OpenMap<std::string>(env.get(), "/db");
    CHECK(db.store->GetStats().truncated_bytes == 17);
    CHECK(ReadFile(env.get(), "/db") == good);
    REQUIRE_OK(db.map->Set("d", "4"));
    REQUIRE_OK(db.store->Close());
  }
  auto db = OpenMap<std::string>(env.get(), "/db");
  CHECK(db.map->Size() == 3);
}

TEST_CASE(
    "corruption in the middle is found; recover keeps the records before it") {
  auto env = NewMemEnv();
  {
    auto db = OpenMap<std::string>(env.get(), "/db");
    for (int i = 0; i < 10; i++) REQUIRE_OK(db.map->Set(Cat("k", i), "value"));
    REQUIRE_OK(db.store->Close());
  }
  std::string text = ReadFile(env.get(), "/db");
  size_t at = text.find("m:k5");
  REQUIRE(at != std::string::npos);
  std::string damaged = text;
  damaged[at + 6] =
      'V';  // inside the value line of k5: still valid JSON, wrong checksum
  WriteFile(env.get(), "/db", damaged);
  {
    Store store(MemOptions(env.get()));
    auto m = store.Map<std::string>("m");
    Status s = store.Open("/db");
    CHECK(s.IsCorruption());
    CHECK(s.ToString().find("checksum") != std::string::npos);
    CHECK((*m)->Size() == 0);  // a failed open leaves nothing behind
  }
  Options o = MemOptions(env.get());
  o.recover = true;
  auto db = OpenMap<std::string>(env.get(), "/db", "m", o);
  CHECK(db.map->Size() == 5);
  std::string v;
  CHECK(db.map->Get("k5", &v).IsNotFound());
  REQUIRE_OK(db.map->Get("k4", &v));
  CHECK(env->FileExists("/db.corrupt"));
  CHECK(db.store->GetStats().truncated_bytes == text.size() - (at - 11));
}

TEST_CASE(
    "a value that does not decode as the map's type fails the open clearly") {
  auto env = NewMemEnv();
  {
    auto db = OpenMap<std::string>(env.get(), "/db");
    REQUIRE_OK(db.map->Set("k", "not a number"));
    REQUIRE_OK(db.store->Close());
  }
  Options o = MemOptions(env.get());
  o.recover =
      true;  // must not truncate well-formed data because of a wrong type
  Store store(o);
  auto m = store.Map<int>("m");
  Status s = store.Open("/db");
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find("wrong value type") != std::string::npos);
  CHECK_FALSE(env->FileExists("/db.corrupt"));
}

TEST_CASE("a file that is not a log is refused") {
  auto env = NewMemEnv();
  WriteFile(env.get(), "/db", "SQLite format 3\n...");
  Store store(MemOptions(env.get()));
  CHECK(store.Open("/db").IsCorruption());
  CHECK(ReadFile(env.get(), "/db") == "SQLite format 3\n...");
}

// Random operations in every durability level against std::map, with
// Close/reopen and Shrink in the sequence. After each reopen the store must
// equal the model exactly (Close flushes).
TEST_CASE("model test against std::map with reopen and Shrink") {
  auto env = NewMemEnv();
  std::mt19937 rng(12345);
  std::map<std::string, std::string> model;
  auto db = OpenMap<std::string>(env.get(), "/model");
  auto check_equal = [&] {
    std::map<std::string, std::string> got;
    REQUIRE_OK(db.map->Range([&](std::string_view k, const std::string& v) {
      got[std::string(k)] = v;
      return true;
    }));
    REQUIRE(got == model);
  };
  const Durability levels[] = {Durability::kAsync, Durability::kImmediate,
                               Durability::kFSync};
  for (int step = 0; step < 6000; step++) {
    std::string key = Cat("k", rng() % 150);
    Durability d = levels[rng() % 3];
    int op = rng() % 100;
    if (op < 45) {
      std::string value(rng() % 40, 'a' + rng() % 26);
      REQUIRE_OK(db.map->Set(key, value, d));
      model[key] = value;
    } else if (op < 65) {
      REQUIRE_OK(db.map->Delete(key, d));
      model.erase(key);
    } else if (op < 85) {
      auto r = db.map->Update(
          key,
          [&](Updater<std::string>& u) {
            if (u.value.size() > 30) {
              u.Delete();
            } else if (!u.exists && rng() % 2) {
              u.Cancel();
            } else {
              u.value += "+";
            }
          },
          d);
      REQUIRE(r.ok());
      if (r->has_value()) {
        model[key] = **r;
      } else {
        model.erase(key);
      }
    } else if (op < 95) {
      std::string v;
      Status s = db.map->Get(key, &v);
      auto it = model.find(key);
      REQUIRE(s.ok() == (it != model.end()));
      if (s.ok()) REQUIRE(v == it->second);
    } else if (op < 97) {
      REQUIRE_OK(db.store->Shrink());
    } else if (op < 98) {
      REQUIRE_OK(db.store->FSyncAll());
    } else {
      REQUIRE_OK(db.store->Close());
      db = OpenMap<std::string>(env.get(), "/model");
      check_equal();
    }
  }
  check_equal();
  REQUIRE_OK(db.store->Close());
  db = OpenMap<std::string>(env.get(), "/model");
  check_equal();
  CHECK(db.map->Size() == model.size());
}

}  // namespace
}  // namespace kvb::typedmap
