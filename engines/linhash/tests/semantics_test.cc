// Pogreb's semantics as linhash keeps them (issue 17, item 4): Has and the
// overwrite check of Put read only the key, a batch is visible all-or-nothing
// to concurrent readers, metrics count what the header says, periodic
// background sync and background compaction run without an explicit call, and
// a directory holding our database plus unrelated files opens while touching
// none of them.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/format.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<DB> MustOpen(const std::string& dir, const Options& o) {
  auto db = DB::Open(dir, o);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  return std::move(db).value();
}

std::string Get(DB* db, std::string_view k) {
  std::string v;
  Status s = db->Get(k, &v);
  if (s.IsNotFound()) return "<none>";
  REQUIRE_OK(s);
  return v;
}

std::string Key(int i) { return "key-" + std::to_string(i); }

std::vector<std::string> SortedNames(Env* env, const std::string& dir) {
  auto n = env->ListDir(dir);
  REQUIRE(n.ok());
  std::sort(n->begin(), n->end());
  return *n;
}

std::string OnlySegment(Env* env, const std::string& dir) {
  std::string seg;
  for (const auto& n : SortedNames(env, dir)) {
    if (ParseSegmentFileName(n)) seg = dir + "/" + n;
  }
  REQUIRE_FALSE(seg.empty());
  return seg;
}

// Flips the last byte of a file (the last value byte of the last record).
void FlipLastByte(Env* env, const std::string& path) {
  auto f = env->OpenFile(path, OpenMode::kReadWrite);
  REQUIRE(f.ok());
  auto size = (*f)->Size();
  REQUIRE(size.ok());
  char c = 0;
  size_t got = 0;
  REQUIRE_OK((*f)->ReadAt(*size - 1, 1, &c, &got));
  c = static_cast<char>(c ^ 0x5a);
  REQUIRE_OK((*f)->WriteAt(*size - 1, std::string_view(&c, 1)));
  REQUIRE_OK((*f)->Close());
}

struct MemFixture {
  std::unique_ptr<Env> env = NewMemEnv();
  std::string dir = "/db";
  Options opts;
  MemFixture() { opts.env = env.get(); }
};

TEST_CASE("Has and the overwrite check read only the key; Get verifies",
          "[linhash]") {
  MemFixture f;
  f.opts.read_backend = ReadBackend::kPread;
  {
    auto db = MustOpen(f.dir, f.opts);
    REQUIRE_OK(db->Put("k", std::string(4096, 'v')));
    REQUIRE_OK(db->Close());
  }
  FlipLastByte(f.env.get(), OnlySegment(f.env.get(), f.dir));
  auto db = MustOpen(f.dir, f.opts);
  std::string v;
  CHECK(db->Get("k", &v).IsCorruption());  // the value CRC is still checked
  bool found = false;
  REQUIRE_OK(db->Has("k", &found));  // the key is intact: no value read
  CHECK(found);
  REQUIRE_OK(db->Has("absent", &found));
  CHECK_FALSE(found);
  bool inserted = true;
  REQUIRE_OK(db->PutIfAbsent("k", "x", &inserted));
  CHECK_FALSE(inserted);
  REQUIRE_OK(db->Put("k", "new"));  // overwrites the damaged record
  CHECK(Get(db.get(), "k") == "new");
  CHECK(db->Count() == 1);
}

TEST_CASE("a batch is visible all-or-nothing to concurrent readers",
          "[linhash]") {
  MemFixture f;
  f.opts.read_backend = ReadBackend::kPread;
  auto db = MustOpen(f.dir, f.opts);
  constexpr int kKeys = 64;
  auto write_version = [&](int ver) {
    WriteBatch b;
    for (int i = 0; i < kKeys; ++i) b.Put(Key(i), std::to_string(ver));
    return db->Write(b);
  };
  REQUIRE_OK(write_version(0));
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int64_t> checks{0};
  // The batch applies key 0 first and the last key last, and versions only
  // grow: a read of key 0 followed by one of the last key sees an older
  // version only if a batch was visible half-applied in between.
  auto reader = [&] {
    std::string a;
    std::string z;
    while (!stop.load(std::memory_order_relaxed)) {
      if (!db->Get(Key(0), &a).ok() || !db->Get(Key(kKeys - 1), &z).ok()) {
        torn.fetch_add(1);
        continue;
      }
      if (std::stoi(z) < std::stoi(a)) torn.fetch_add(1);
      checks.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread r1(reader);
  std::thread r2(reader);
  const auto until = Clock::now() + std::chrono::milliseconds(1500);
  int ver = 1;
  Status ws;
  while (Clock::now() < until && ws.ok()) ws = write_version(ver++);
  stop.store(true);
  r1.join();
  r2.join();
  REQUIRE_OK(ws);
  INFO("batches " << ver << ", reader checks " << checks.load());
  CHECK(checks.load() > 0);
  CHECK(torn.load() == 0);
}

TEST_CASE("metrics: batch deletes are deletes, absent deletes are counted",
          "[linhash]") {
  MemFixture f;
  auto db = MustOpen(f.dir, f.opts);
  REQUIRE_OK(db->Put("a", "1"));
  WriteBatch b;
  b.Put("b", "2");
  b.Put("c", "3");
  b.Delete("a");
  b.Delete("never-there");
  REQUIRE_OK(db->Write(b));
  REQUIRE_OK(db->Delete("b"));
  REQUIRE_OK(db->Delete("also-never"));
  Metrics m = db->GetMetrics();
  CHECK(m.puts == 3);     // "a", and the batch's two puts
  CHECK(m.deletes == 4);  // every delete asked for, as Pogreb's Dels
  CHECK(m.deletes_absent == 2);
  CHECK(db->Count() == 1);
  CHECK(Get(db.get(), "c") == "3");
}

TEST_CASE("our database plus unrelated files opens; nothing foreign touched",
          "[linhash]") {
  MemFixture f;
  {
    auto db = MustOpen(f.dir, f.opts);
    REQUIRE_OK(db->Put("k", "v"));
    REQUIRE_OK(db->Close());
  }
  REQUIRE_OK(f.env->CreateDir(f.dir + "/lost+found"));
  REQUIRE_OK(f.env->WriteFileAtomically(f.dir + "/README", "notes"));
  REQUIRE_OK(f.env->WriteFileAtomically(f.dir + "/lost+found/#1234", "x"));
  uint64_t ours = 0;
  {
    auto db = MustOpen(f.dir, f.opts);
    CHECK(Get(db.get(), "k") == "v");
    REQUIRE_OK(db->Put("k2", "v2"));
    auto size = db->FileSize();
    REQUIRE_OK(size.status());
    ours = *size;
    REQUIRE_OK(db->Compact().status());
    REQUIRE_OK(db->Close());
  }
  auto readme = f.env->ReadFileToString(f.dir + "/README");
  REQUIRE(readme.ok());
  CHECK(*readme == "notes");
  CHECK(f.env->FileExists(f.dir + "/lost+found/#1234"));
  // FileSize counts only the database's own files.
  uint64_t own = 0;
  for (const auto& n : SortedNames(f.env.get(), f.dir)) {
    if (n == "README" || n == "lost+found") continue;
    auto st = f.env->Stat(f.dir + "/" + n);
    REQUIRE(st.ok());
    own += st->size;
  }
  CHECK(ours > 0);
  CHECK(ours <= own + 4096);  // the open handle's files, before Close
  auto db = MustOpen(f.dir, f.opts);
  CHECK(Get(db.get(), "k2") == "v2");
}

TEST_CASE(
    "a mount root (only lost+found) becomes a database; a foreign "
    "directory is refused untouched",
    "[linhash]") {
  MemFixture f;
  REQUIRE_OK(f.env->CreateDir("/mnt"));
  REQUIRE_OK(f.env->CreateDir("/mnt/lost+found"));
  {
    auto db = MustOpen("/mnt", f.opts);
    REQUIRE_OK(db->Put("k", "v"));
  }
  CHECK(f.env->FileExists("/mnt/lost+found"));
  REQUIRE_OK(f.env->CreateDir("/foreign"));
  REQUIRE_OK(f.env->CreateDir("/foreign/lost+found"));
  REQUIRE_OK(f.env->WriteFileAtomically("/foreign/README", "mine"));
  const auto before = SortedNames(f.env.get(), "/foreign");
  Status s = DB::Open("/foreign", f.opts).status();
  INFO(s.ToString());
  CHECK(s.IsInvalidArgument());
  CHECK(SortedNames(f.env.get(), "/foreign") == before);
}

// Collects Options::logger lines from any thread.
struct LogSink {
  std::mutex mu;
  std::vector<std::string> errors;
  std::vector<std::string> infos;
  std::function<void(Options::LogLevel, std::string_view)> Fn() {
    return [this](Options::LogLevel level, std::string_view line) {
      std::lock_guard lock(mu);
      (level == Options::LogLevel::kError ? errors : infos).emplace_back(line);
    };
  }
  bool Has(const std::vector<std::string>& lines, std::string_view word) {
    std::lock_guard lock(mu);
    for (const auto& l : lines) {
      if (l.find(word) != std::string::npos) return true;
    }
    return false;
  }
};

// Waits up to 10 s for pred().
template <typename Pred>
bool WaitFor(Pred pred) {
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Writes, waits `wait_ms`, cuts power; returns what a reopen finds of "k".
std::string PutThenPowerLoss(int64_t sync_ms, int wait_ms, LogSink* sink) {
  auto mem = NewMemEnv();
  FaultInjectionEnv fenv(mem.get());
  Options o;
  o.env = &fenv;
  o.checkpoint_interval_ms = 0;  // only the periodic sync may sync the log
  o.background_sync_interval_ms = sync_ms;
  {
    auto db = MustOpen("/db", o);
    const uint64_t syncs_before = db->GetMetrics().syncs;
    REQUIRE_OK(db->Put("k", "v"));
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    if (sync_ms > 0) {
      CHECK(WaitFor([&] { return db->GetMetrics().syncs > syncs_before; }));
      // One more period, so a sync that started after the Put has ended.
      const uint64_t seen = db->GetMetrics().syncs;
      CHECK(WaitFor([&] { return db->GetMetrics().syncs > seen; }));
    }
    REQUIRE_OK(fenv.SimulatePowerLoss());
    // The handle's files are dead now: Close fails, as a crashed process.
  }
  Options r = o;
  r.background_sync_interval_ms = 0;
  r.logger = sink->Fn();
  auto db = MustOpen("/db", r);
  return Get(db.get(), "k");
}

TEST_CASE("periodic background sync makes writes durable without a call",
          "[linhash]") {
  LogSink sink;
  CHECK(PutThenPowerLoss(/*sync_ms=*/20, 100, &sink) == "v");
  // Open reported the tail it replayed.
  CHECK(sink.Has(sink.infos, "replayed 1 records"));
  // The control: without the periodic sync the same write is lost.
  LogSink none;
  CHECK(PutThenPowerLoss(/*sync_ms=*/0, 100, &none) == "<none>");
}

Options FragmentingOptions(Env* env) {
  Options o;
  o.env = env;
  o.max_segment_size = 4096;
  o.compaction_min_segment_size = 0;
  o.compaction_min_fragmentation = 0.3;
  o.background_compaction_interval_ms = 20;
  return o;
}

std::map<std::string, std::string> Fragment(DB* db) {
  std::map<std::string, std::string> model;
  for (int ver = 0; ver < 4; ++ver) {
    for (int i = 0; i < 200; ++i) {
      std::string v = std::to_string(ver) + std::string(60, 'x');
      REQUIRE_OK(db->Put(Key(i), v));
      model[Key(i)] = v;
    }
  }
  return model;
}

TEST_CASE("background compaction runs by itself and keeps the data",
          "[linhash]") {
  auto env = NewMemEnv();
  auto db = MustOpen("/db", FragmentingOptions(env.get()));
  auto model = Fragment(db.get());
  CHECK(WaitFor([&] { return db->GetMetrics().compactions > 0; }));
  CHECK(WaitFor([&] {
    Stats st = db->GetStats();
    return static_cast<double>(st.dead_bytes) < 0.3 * st.log_bytes;
  }));
  for (const auto& [k, v] : model) REQUIRE(Get(db.get(), k) == v);
  CHECK(db->GetMetrics().background_errors == 0);
  REQUIRE_OK(db->Close());
  db = MustOpen("/db", FragmentingOptions(env.get()));
  for (const auto& [k, v] : model) REQUIRE(Get(db.get(), k) == v);
}

TEST_CASE("a background compaction error reaches the logger and metrics",
          "[linhash]") {
  auto mem = NewMemEnv();
  FaultInjectionEnv fenv(mem.get());
  // Compaction cannot delete its sources: it fails after its copies and
  // checkpoint, and every later run retries the removal.
  fenv.FailAlways(FaultInjectionEnv::Op::kRemove, Status::IOError("injected"));
  LogSink sink;
  Options o = FragmentingOptions(&fenv);
  o.logger = sink.Fn();
  auto db = MustOpen("/db", o);
  auto model = Fragment(db.get());
  CHECK(WaitFor([&] { return db->GetMetrics().background_errors >= 2; }));
  CHECK(sink.Has(sink.errors, "background compaction failed"));
  CHECK(sink.Has(sink.errors, "injected"));
  CHECK(db->GetMetrics().compactions == 0);
  for (const auto& [k, v] : model) REQUIRE(Get(db.get(), k) == v);
  // The disk recovers: the next run removes the sources.
  fenv.ClearFaults();
  CHECK(WaitFor([&] { return db->GetMetrics().compactions > 0; }));
  REQUIRE_OK(db->Put("after", "ok"));
  for (const auto& [k, v] : model) REQUIRE(Get(db.get(), k) == v);
}

TEST_CASE("a sticky background sync error is reported once", "[linhash]") {
  auto mem = NewMemEnv();
  FaultInjectionEnv fenv(mem.get());
  LogSink sink;
  Options o;
  o.env = &fenv;
  o.background_sync_interval_ms = 10;
  o.logger = sink.Fn();
  auto db = MustOpen("/db", o);
  REQUIRE_OK(db->Put("k", "v"));
  fenv.FailAlways(FaultInjectionEnv::Op::kDataSync, Status::IOError("eio"));
  CHECK(WaitFor([&] { return db->GetMetrics().background_errors > 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(db->GetMetrics().background_errors == 1);
  CHECK(sink.Has(sink.errors, "background sync failed"));
  CHECK(db->Put("k2", "v").IsFailedPrecondition());
  fenv.ClearFaults();
}

uint64_t ConstantHash(std::string_view) { return 0x42; }

// MultiGet against single Gets over `keys` (present, absent, repeated).
void CheckMultiGet(DB* db, const std::vector<std::string>& keys) {
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::string> values(keys.size(), "unchanged");
  std::vector<Status> statuses(keys.size());
  REQUIRE_OK(db->MultiGet(views, values.data(), statuses.data()));
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string want = Get(db, keys[i]);
    INFO("key " << keys[i]);
    if (want == "<none>") {
      CHECK(statuses[i].IsNotFound());
      CHECK(values[i] == "unchanged");
    } else {
      CHECK_OK(statuses[i]);
      CHECK(values[i] == want);
    }
  }
}

std::vector<std::string> MixedKeys(int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    keys.push_back(Key(i * 7 % (n + 50)));   // some beyond n: absent
    if (i % 5 == 0) keys.push_back(Key(i));  // repeats
  }
  return keys;
}

TEST_CASE("MultiGet answers as Get, over mmap and pread, with collisions",
          "[linhash]") {
  testing::TempDir tmp;
  for (ReadBackend backend : {ReadBackend::kMmap, ReadBackend::kPread}) {
    for (bool collide : {false, true}) {
      Options o;
      o.read_backend = backend;
      if (collide) o.TEST_hash = &ConstantHash;
      const std::string dir = tmp.Sub(
          std::to_string(static_cast<int>(backend)) + (collide ? "c" : "n"));
      auto db = MustOpen(dir, o);
      const int n = collide ? 60 : 3000;
      for (int i = 0; i < n; ++i)
        REQUIRE_OK(db->Put(Key(i), std::string(i % 300, 'a' + i % 26)));
      REQUIRE_OK(db->Delete(Key(3)));
      CheckMultiGet(db.get(), MixedKeys(n));
      REQUIRE_OK(db->Close());
      db = MustOpen(dir, o);  // sealed, mapped segments after reopen
      CheckMultiGet(db.get(), MixedKeys(n));
      std::vector<std::string_view> none;
      REQUIRE_OK(db->MultiGet(none, nullptr, nullptr));
    }
  }
}

TEST_CASE("MultiGet reports a damaged record for its key only", "[linhash]") {
  MemFixture f;
  {
    auto db = MustOpen(f.dir, f.opts);
    REQUIRE_OK(db->Put("a", "1"));
    REQUIRE_OK(db->Put("z", std::string(100, 'z')));  // the last record
    REQUIRE_OK(db->Close());
  }
  FlipLastByte(f.env.get(), OnlySegment(f.env.get(), f.dir));
  auto db = MustOpen(f.dir, f.opts);
  std::vector<std::string_view> keys = {"a", "z", "none"};
  std::vector<std::string> values(3);
  std::vector<Status> st(3);
  Status s = db->MultiGet(keys, values.data(), st.data());
  CHECK(s.IsCorruption());
  CHECK_OK(st[0]);
  CHECK(values[0] == "1");
  CHECK(st[1].IsCorruption());
  CHECK(st[2].IsNotFound());
  CHECK(db->GetMetrics().gets == 3);
}

TEST_CASE("MultiGet with a concurrent writer sees whole values", "[linhash]") {
  testing::TempDir tmp;
  Options o;
  o.max_segment_size = 64 << 10;  // rotations and new mappings meanwhile
  auto db = MustOpen(tmp.Sub("db"), o);
  constexpr int kKeys = 200;
  auto value_of = [](int i, int ver) {
    return Key(i) + "|" + std::string(ver % 90, 'a' + ver % 26);
  };
  for (int i = 0; i < kKeys; ++i) REQUIRE_OK(db->Put(Key(i), value_of(i, 0)));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int ver = 1; !stop.load(std::memory_order_relaxed); ++ver) {
      if (!db->Put(Key(ver % kKeys), value_of(ver % kKeys, ver)).ok()) return;
    }
  });
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(Key(i));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::string> values(kKeys);
  std::vector<Status> st(kKeys);
  int bad = 0;
  const auto until = Clock::now() + std::chrono::milliseconds(500);
  while (Clock::now() < until) {
    if (!db->MultiGet(views, values.data(), st.data()).ok()) ++bad;
    for (int i = 0; i < kKeys; ++i) {
      const std::string& v = values[i];
      const std::string prefix = keys[i] + "|";
      if (!st[i].ok() || v.compare(0, prefix.size(), prefix) != 0) ++bad;
    }
  }
  stop.store(true);
  writer.join();
  CHECK(bad == 0);
}

}  // namespace
}  // namespace kvb::linhash
