// Crash and fault tests through FaultInjectionEnv: what each durability level
// promises holds after a simulated power loss, and failed writes leave memory
// and log consistent.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <thread>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/typedmap/typedmap.h"

namespace kvb::typedmap {
namespace {

using Op = FaultInjectionEnv::Op;

struct Db {
  std::unique_ptr<Store> store;
  TypedMap<std::string>* map = nullptr;
};

Options FaultOptions(Env* env) {
  Options o;
  o.env = env;
  o.background_flush = false;
  return o;
}

Db OpenDb(Env* env, Options o = {}) {
  if (o.env == nullptr) o = FaultOptions(env);
  Db db;
  db.store = std::make_unique<Store>(o);
  Store* store = db.store.get();
  auto m = store->Map<std::string>("m");
  REQUIRE(m.ok());
  db.map = *m;
  REQUIRE_OK(store->Open("/db/log"));
  return db;
}

std::string Key(int i) { return "key" + std::to_string(i); }
std::string Value(int i, int version) {
  return "value-" + std::to_string(i) + "-" + std::to_string(version);
}

struct Fixture {
  std::unique_ptr<Env> mem = NewMemEnv();
  FaultInjectionEnv fault{mem.get()};
  Fixture() { REQUIRE_OK(mem->CreateDir("/db")); }
};

// After a power loss, every key present must hold a value that was written for
// it.
void CheckOnlyWrittenValues(TypedMap<std::string>* map, int n) {
  REQUIRE_OK(map->Range([&](std::string_view k, const std::string& v) {
    bool known = false;
    for (int i = 0; i < n; i++) {
      if (k == Key(i))
        known = v.starts_with("value-" + std::to_string(i) + "-");
    }
    CHECK(known);
    return true;
  }));
}

TEST_CASE(
    "power loss: kFSync writes survive; the rest is only ever a clean prefix") {
  const Durability levels[] = {Durability::kFSync, Durability::kImmediate,
                               Durability::kAsync};
  for (auto mode : {FaultInjectionEnv::PowerLossMode::kDropUnsynced,
                    FaultInjectionEnv::PowerLossMode::kTornTail}) {
    for (Durability level : levels) {
      for (uint64_t seed = 1; seed <= 4; seed++) {
        Fixture fx;
        Db db = OpenDb(&fx.fault);
        // 20 keys durable for sure, then 30 writes at the level under test.
        for (int i = 0; i < 20; i++)
          REQUIRE_OK(db.map->Set(Key(i), Value(i, 0), Durability::kFSync));
        for (int i = 20; i < 50; i++)
          REQUIRE_OK(db.map->Set(Key(i), Value(i, 1), level));
        for (int i = 0; i < 10; i++) REQUIRE_OK(db.map->Delete(Key(i), level));
        // The power goes with the store open: the dead process's handle must not
        // touch the disk when it is destroyed.
        fx.fault.CrashAfterSyncs(0);
        db.store.reset();
        REQUIRE_OK(fx.fault.SimulatePowerLoss(mode, seed));
        Db again = OpenDb(&fx.fault);
        std::string v;
        for (int i = 10; i < 20; i++) {
          REQUIRE_OK(again.map->Get(Key(i), &v));
          CHECK(v == Value(i, 0));
        }
        if (level == Durability::kFSync) {
          CHECK(again.map->Size() == 40);
          for (int i = 0; i < 10; i++)
            CHECK(again.map->Get(Key(i), &v).IsNotFound());
        }
        if (level == Durability::kAsync)
          CHECK(again.map->Size() == 20);  // never flushed
        CheckOnlyWrittenValues(again.map, 50);
        // The store is fully usable: new writes land after the cut tail and
        // read back.
        REQUIRE_OK(again.map->Set("after", "crash", Durability::kFSync));
        REQUIRE_OK(again.store->Close());
        Db third = OpenDb(&fx.fault);
        REQUIRE_OK(third.map->Get("after", &v));
      }
    }
  }
}

TEST_CASE("power loss: FSyncAll makes kImmediate and kAsync writes durable") {
  for (Durability level : {Durability::kImmediate, Durability::kAsync}) {
    Fixture fx;
    Db db = OpenDb(&fx.fault);
    for (int i = 0; i < 30; i++)
      REQUIRE_OK(db.map->Set(Key(i), Value(i, 1), level));
    REQUIRE_OK(db.map->Delete(Key(3), level));
    REQUIRE_OK(db.store->FSyncAll());
    REQUIRE_OK(db.map->Set("late", "lost", level));
    // The power goes with the store open: the dead process's handle must not
    // touch the disk when it is destroyed.
    fx.fault.CrashAfterSyncs(0);
    db.store.reset();
    REQUIRE_OK(fx.fault.SimulatePowerLoss());
    Db again = OpenDb(&fx.fault);
    CHECK(again.map->Size() == 29);
    std::string v;
    CHECK(again.map->Get(Key(3), &v).IsNotFound());
    CHECK(again.map->Get("late", &v).IsNotFound());
  }
}

TEST_CASE(
    "power loss: the background flusher bounds kImmediate loss to its "
    "interval") {
  Fixture fx;
  Options o = FaultOptions(&fx.fault);
  o.background_flush = true;
  o.sync_interval = std::chrono::milliseconds(1);
  Db db = OpenDb(&fx.fault, o);
  REQUIRE_OK(db.map->Set("a", "1"));
  REQUIRE_OK(db.map->Set("b", "2", Durability::kAsync));
  // sync_requests counts flusher rounds as they reach their fdatasync. Once it
  // has grown by 3, the round counted second (flush and fdatasync) ran entirely
  // after the writes.
  uint64_t before = db.store->GetStats().sync_requests;
  for (int i = 0; i < 5000 && db.store->GetStats().sync_requests < before + 3;
       i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(db.store->GetStats().sync_requests >= before + 3);
  // The power goes with the store open: the dead process's handle must not
  // touch the disk when it is destroyed.
  fx.fault.CrashAfterSyncs(0);
  db.store.reset();
  REQUIRE_OK(fx.fault.SimulatePowerLoss());
  Db again = OpenDb(&fx.fault);
  CHECK(again.map->Size() == 2);
}

// Ten kFSync writes after Open, with a crash armed after `crash_at` sync
// points (none if negative). Returns the writes acknowledged; *points gets the
// sync points the writes made.
int RunFsyncWrites(Fixture* fx, Db* db, int64_t crash_at, uint64_t* points) {
  const uint64_t before = fx->fault.sync_points();
  if (crash_at >= 0) fx->fault.CrashAfterSyncs(static_cast<uint64_t>(crash_at));
  int acked = 0;
  for (int i = 0; i < 10; i++) {
    if (!db->map->Set(Key(i), Value(i, 0), Durability::kFSync).ok()) break;
    acked++;
  }
  *points = fx->fault.sync_points() - before;
  return acked;
}

// The loops below count their sync points in a dry run instead of hard-coding
// them (issue 14), and check that the last point was reached.
TEST_CASE("crash at every sync point of a run of kFSync writes") {
  uint64_t total = 0;
  {
    Fixture fx;
    Db db = OpenDb(&fx.fault);
    REQUIRE(RunFsyncWrites(&fx, &db, -1, &total) == 10);
  }
  REQUIRE(total >= 10);  // one fdatasync per kFSync write, at least
  WARN("sync points of the kFSync writes: " << total);
  for (uint64_t k = 0; k <= total; k++) {
    INFO("crash after " << k << " of " << total << " sync points");
    Fixture fx;
    Db db = OpenDb(&fx.fault);
    uint64_t points = 0;
    const int acked =
        RunFsyncWrites(&fx, &db, static_cast<int64_t>(k), &points);
    CHECK(acked == std::min<int>(static_cast<int>(k), 10));
    if (k == total) CHECK(points == total);  // the last point was reached
    // The power goes with the store open: the dead process's handle must not
    // touch the disk when it is destroyed.
    fx.fault.CrashAfterSyncs(0);
    db.store.reset();
    REQUIRE_OK(fx.fault.SimulatePowerLoss(
        FaultInjectionEnv::PowerLossMode::kTornTail, k));
    Db again = OpenDb(&fx.fault);
    std::string v;
    for (int i = 0; i < acked; i++) {
      REQUIRE_OK(again.map->Get(Key(i), &v));
      CHECK(v == Value(i, 0));
    }
    CheckOnlyWrittenValues(again.map, 10);
  }
}

// Three versions of 20 keys, made durable, then a Shrink with a crash armed
// after `crash_at` sync points (none if negative); *points gets the Shrink's.
Status RunShrink(Fixture* fx, Db* db, int64_t crash_at, uint64_t* points) {
  for (int v = 0; v < 3; v++) {
    for (int i = 0; i < 20; i++) REQUIRE_OK(db->map->Set(Key(i), Value(i, v)));
  }
  REQUIRE_OK(db->store->FSyncAll());
  const uint64_t before = fx->fault.sync_points();
  if (crash_at >= 0) fx->fault.CrashAfterSyncs(static_cast<uint64_t>(crash_at));
  Status s = db->store->Shrink();
  *points = fx->fault.sync_points() - before;
  return s;
}

TEST_CASE("crash at every sync point of a Shrink keeps the data") {
  uint64_t total = 0;
  {
    Fixture fx;
    Db db = OpenDb(&fx.fault);
    REQUIRE_OK(RunShrink(&fx, &db, -1, &total));
  }
  REQUIRE(total >= 2);  // the new log's fsync and the directory's
  WARN("sync points of the Shrink: " << total);
  for (uint64_t k = 0; k <= total; k++) {
    Fixture fx;
    Db db = OpenDb(&fx.fault);
    uint64_t points = 0;
    Status s = RunShrink(&fx, &db, static_cast<int64_t>(k), &points);
    INFO("crash after " << k << " of " << total
                        << " sync points; shrink: " << s.ToString());
    // Every point short of the last interrupts the Shrink; the last one is
    // reached and the Shrink completes.
    CHECK(s.ok() == (k == total));
    if (k == total) CHECK(points == total);
    // The power goes with the store open: the dead process's handle must not
    // touch the disk when it is destroyed.
    fx.fault.CrashAfterSyncs(0);
    db.store.reset();
    REQUIRE_OK(fx.fault.SimulatePowerLoss());
    Db again = OpenDb(&fx.fault);
    REQUIRE(again.map->Size() == 20);
    std::string v;
    for (int i = 0; i < 20; i++) {
      REQUIRE_OK(again.map->Get(Key(i), &v));
      CHECK(v == Value(i, 2));
    }
    CHECK_FALSE(fx.fault.FileExists("/db/log.tmp"));
  }
}

TEST_CASE("a failed append changes nothing in memory or on disk") {
  Fixture fx;
  Db db = OpenDb(&fx.fault);
  REQUIRE_OK(db.map->Set("k", "old"));
  auto before = fx.mem->ReadFileToString("/db/log");
  REQUIRE(before.ok());

  fx.fault.FailOnce(Op::kAppend, 0, Status::NoSpace("disk full"), "/db/log");
  CHECK(db.map->Set("k", "new").IsNoSpace());
  CHECK(db.map->Delete("k").IsNoSpace() == false);  // the fault fired once only
  REQUIRE_OK(db.map->Set("k", "old"));
  std::string v;
  REQUIRE_OK(db.map->Get("k", &v));
  CHECK(v == "old");

  // A torn write: half a record reaches the file, then the call fails; the tail
  // is cut.
  auto size_before = fx.mem->ReadFileToString("/db/log");
  fx.fault.TearNextWrite(7, "/db/log");
  CHECK_FALSE(db.map->Set("torn", "value").ok());
  CHECK(db.map->Get("torn", &v).IsNotFound());
  CHECK(*fx.mem->ReadFileToString("/db/log") == *size_before);
  auto r = db.map->Update("k", [](Updater<std::string>& u) { u.value += "!"; });
  REQUIRE(r.ok());
  REQUIRE_OK(db.store->Close());
  Db again = OpenDb(&fx.fault);
  REQUIRE_OK(again.map->Get("k", &v));
  CHECK(v == "old!");
  CHECK(again.map->Size() == 1);
  CHECK(again.store->GetStats().truncated_bytes == 0);
}

TEST_CASE("a write that cannot be undone stops further writes until reopen") {
  Fixture fx;
  Db db = OpenDb(&fx.fault);
  REQUIRE_OK(db.map->Set("a", "1"));
  fx.fault.TearNextWrite(5, "/db/log");
  fx.fault.FailOnce(Op::kTruncate, 0, Status::IOError("eio"));
  CHECK_FALSE(db.map->Set("b", "2").ok());
  CHECK(db.map->Set("c", "3").IsIOError());
  // A crash: Close, which would rewrite the log from memory, never runs.
  fx.fault.CrashAfterSyncs(0);
  db.store.reset();
  fx.fault.ClearFaults();
  Db again = OpenDb(&fx.fault);  // the torn fragment is cut at open
  CHECK(again.map->Size() == 1);
  CHECK(again.store->GetStats().truncated_bytes == 5);
  REQUIRE_OK(again.map->Set("c", "3"));
}

TEST_CASE("a failed fdatasync is reported and poisons the log until reopen") {
  Fixture fx;
  Db db = OpenDb(&fx.fault);
  fx.fault.FailOnce(Op::kDataSync, 0, Status::IOError("eio"));
  CHECK(db.map->Set("a", "1", Durability::kFSync).IsIOError());
  CHECK(db.map->Set("b", "2").IsIOError());
  CHECK(db.store->FSyncAll().IsIOError());
  std::string v;
  REQUIRE_OK(db.map->Get("a", &v));  // it is in memory and was handed to the OS
  db.store.reset();
  Db again = OpenDb(&fx.fault);
  REQUIRE_OK(again.map->Set("b", "2", Durability::kFSync));
}

// The fsync-gate (Linux): a failed fdatasync drops the dirty pages, a later one
// "succeeds" without them, and reads still see them until the power goes. At
// every durability level the error must stay (every later write and sync fails)
// and a reopen in the same boot, which reads those pages, must not build on a
// log whose middle a power loss turns into zeros.
TEST_CASE("a failed fdatasync is sticky at every level and survives a reopen") {
  for (Durability d :
       {Durability::kAsync, Durability::kImmediate, Durability::kFSync}) {
    INFO("durability " << static_cast<int>(d));
    Fixture fx;
    {
      Db db = OpenDb(&fx.fault);
      REQUIRE_OK(db.map->Set("kept", "1", d));
      REQUIRE_OK(db.store->FSyncAll());
      fx.fault.FailOnce(Op::kDataSync, 0, Status::IOError("eio"));
      // kFSync: the Set's own fdatasync fails; else FSyncAll's.
      Status set = db.map->Set("a", "1", d);
      CHECK(set.ok() == (d != Durability::kFSync));
      CHECK_FALSE(db.store->FSyncAll().ok());
      CHECK_FALSE(db.map->Set("b", "2", d).ok());
      CHECK_FALSE(db.map->Delete("kept", d).ok());
      CHECK_FALSE(db.map->Delete("never-there", d).ok());
      CHECK_FALSE(db.store->FSyncAll().ok());
      CHECK_FALSE(db.store->Shrink().ok());  // no way around the error
      std::string none;
      CHECK(db.map->Get("b", &none).IsNotFound());
      // Close rewrites the log from memory, so the reopen below does not build
      // on the dropped pages, and still reports the error.
      CHECK(db.store->Close().IsIOError());
    }
    {
      Db db = OpenDb(&fx.fault);  // same boot: reads the page cache
      REQUIRE_OK(db.map->Set("c", "3", d));
      REQUIRE_OK(db.store->Close());
    }
    REQUIRE_OK(fx.fault.SimulatePowerLoss());
    Db again = OpenDb(&fx.fault);
    std::string v;
    REQUIRE_OK(again.map->Get("kept", &v));
    CHECK(v == "1");
    REQUIRE_OK(again.map->Get("a", &v));  // in memory when the sync failed
    CHECK(again.map->Get("b", &v).IsNotFound());
    REQUIRE_OK(again.map->Get("c", &v));
    CHECK(again.map->Size() == 3);
  }
}

TEST_CASE("a failed fdatasync of the background flusher is sticky") {
  Fixture fx;
  Options o = FaultOptions(&fx.fault);
  o.background_flush = true;
  o.sync_interval = std::chrono::milliseconds(5);
  Db db = OpenDb(&fx.fault, o);
  fx.fault.FailOnce(Op::kDataSync, 0, Status::IOError("eio"));
  REQUIRE_OK(db.map->Set("a", "1", Durability::kAsync));
  for (int i = 0; i < 400 && db.store->background_error().ok(); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE_FALSE(db.store->background_error().ok());
  CHECK_FALSE(db.map->Set("b", "2", Durability::kAsync).ok());
  CHECK_FALSE(db.store->FSyncAll().ok());
  CHECK(db.store->Close().IsIOError());
  REQUIRE_OK(fx.fault.SimulatePowerLoss());
  Db again = OpenDb(&fx.fault);
  std::string v;
  REQUIRE_OK(again.map->Get("a", &v));
  CHECK(again.map->Size() == 1);
}

TEST_CASE("Shrink failures leave the old log in use and no temp file") {
  for (Op op :
       {Op::kOpen, Op::kAppend, Op::kSync, Op::kDataSync, Op::kRename}) {
    Fixture fx;
    Db db = OpenDb(&fx.fault);
    for (int i = 0; i < 50; i++)
      REQUIRE_OK(db.map->Set(Key(i % 10), Value(i % 10, i)));
    std::string filter = op == Op::kRename ? "" : ".tmp";
    fx.fault.FailOnce(op, 0, Status::IOError("injected"), filter);
    CHECK_FALSE(db.store->Shrink().ok());
    CHECK_FALSE(fx.fault.FileExists("/db/log.tmp"));
    // A failed sync is sticky even when it was the new log's.
    const bool sticky = op == Op::kSync || op == Op::kDataSync;
    if (sticky) {
      CHECK(db.map->Set("after", "x").IsIOError());
      CHECK(db.store->Shrink().IsIOError());
    } else {
      REQUIRE_OK(db.map->Set("after", "x"));
      REQUIRE_OK(db.store->Shrink());  // not stuck "in progress"
    }
    CHECK(db.store->Close().ok() == !sticky);
    Db again = OpenDb(&fx.fault);
    CHECK(again.map->Size() == (sticky ? 10u : 11u));
    std::string v;
    REQUIRE_OK(again.map->Get(Key(9), &v));
    CHECK(v == Value(9, 49));
  }
}

TEST_CASE("a failed open can be retried") {
  Fixture fx;
  {
    Db db = OpenDb(&fx.fault);
    REQUIRE_OK(db.map->Set("a", "1"));
  }
  Store store(FaultOptions(&fx.fault));
  auto m = store.Map<std::string>("m");
  fx.fault.FailOnce(Op::kRead, 0, Status::IOError("eio"));
  CHECK(store.Open("/db/log").IsIOError());
  REQUIRE_OK(store.Open("/db/log"));
  std::string v;
  REQUIRE_OK((*m)->Get("a", &v));
}

}  // namespace
}  // namespace kvb::typedmap
