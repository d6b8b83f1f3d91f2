// Pogreb's semantics as linhash keeps them (issue 17, item 4): Has and the
// overwrite check of Put read only the key, a batch is visible all-or-nothing
// to concurrent readers, metrics count what the header says, periodic
// background sync and background compaction run without an explicit call, and
// a directory holding our database plus unrelated files opens while touching
// none of them.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
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

}  // namespace
}  // namespace kvb::linhash
