// Behaviour of the linhash DB: the API, persistence, checkpoints and recovery,
// compaction, backup, damaged files, and a model test against std::map.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <sstream>

#include "core/checksum.h"
#include "core/coding.h"
#include "core/env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/format.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

using testing::TempDir;

// Sanitizer builds run the exhaustive loops with a coarser stride to stay
// within the suite's time budget.
#if defined(KVB_SANITIZED)
constexpr uint64_t kFlipStride = 7;
#else
constexpr uint64_t kFlipStride = 3;
#endif

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

uint64_t ConstantHash(std::string_view) { return 0x42; }

std::string Key(int i) { return "key-" + std::to_string(i); }
std::string Val(int i, int ver) {
  return "value-" + std::to_string(i) + "-" + std::to_string(ver);
}

std::vector<std::string> Names(Env* env, const std::string& dir) {
  auto n = env->ListDir(dir);
  REQUIRE(n.ok());
  std::sort(n->begin(), n->end());
  return *n;
}

struct MemFixture {
  std::unique_ptr<Env> env = NewMemEnv();
  std::string dir = "/db";
  Options opts;
  MemFixture() { opts.env = env.get(); }
};

TEST_CASE("put get delete has count, across reopen", "[linhash]") {
  MemFixture f;
  auto db = MustOpen(f.dir, f.opts);
  REQUIRE_OK(db->Put("a", "1"));
  REQUIRE_OK(db->Put("b", ""));
  REQUIRE_OK(db->Put("", "empty key"));
  REQUIRE_OK(db->Put("a", "2"));
  CHECK(Get(db.get(), "a") == "2");
  CHECK(Get(db.get(), "b").empty());
  CHECK(Get(db.get(), "") == "empty key");
  CHECK(Get(db.get(), "zz") == "<none>");
  bool found = false;
  REQUIRE_OK(db->Has("b", &found));
  CHECK(found);
  REQUIRE_OK(db->Delete("b"));
  REQUIRE_OK(db->Delete("never"));
  REQUIRE_OK(db->Has("b", &found));
  CHECK_FALSE(found);
  CHECK(db->Count() == 2);
  std::string out = "prefix:";
  REQUIRE_OK(db->GetAppend("a", &out));
  CHECK(out == "prefix:2");
  REQUIRE_OK(db->Close());
  CHECK(db->Put("x", "y").IsFailedPrecondition());

  db = MustOpen(f.dir, f.opts);
  CHECK(db->GetMetrics().replayed_records ==
        0);  // clean close: nothing to replay
  CHECK(db->Count() == 2);
  CHECK(Get(db.get(), "a") == "2");
  CHECK(Get(db.get(), "b") == "<none>");
  CHECK(Get(db.get(), "") == "empty key");
}

TEST_CASE("limits and bad options are InvalidArgument", "[linhash]") {
  MemFixture f;
  auto db = MustOpen(f.dir, f.opts);
  CHECK(db->Put(std::string(kMaxKeySize + 1, 'k'), "v").IsInvalidArgument());
  REQUIRE_OK(db->Put(std::string(kMaxKeySize, 'k'), "v"));
  CHECK(Get(db.get(), std::string(kMaxKeySize, 'k')) == "v");
  REQUIRE_OK(db->Close());
  Options bad = f.opts;
  bad.max_segment_size = 10;
  CHECK(DB::Open("/db2", bad).status().IsInvalidArgument());
  bad = f.opts;
  bad.load_factor = 0;
  CHECK(DB::Open("/db2", bad).status().IsInvalidArgument());
}

TEST_CASE("a second open of the same directory is Busy", "[linhash]") {
  MemFixture f;
  auto db = MustOpen(f.dir, f.opts);
  CHECK(DB::Open(f.dir, f.opts).status().IsBusy());
}

TEST_CASE("D1: no duplicate key after a hole in a collision chain",
          "[linhash]") {
  MemFixture f;
  f.opts.TEST_hash = &ConstantHash;  // every key in one chain, same fingerprint
  auto db = MustOpen(f.dir, f.opts);
  for (int i = 0; i < 40; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
  REQUIRE_OK(db->Delete(Key(1)));       // a hole in the primary bucket
  REQUIRE_OK(db->Put(Key(35), "new"));  // the key lives in an overflow bucket
  CHECK(db->Count() == 39);
  CHECK(Get(db.get(), Key(35)) == "new");
  REQUIRE_OK(db->Delete(Key(35)));
  CHECK(Get(db.get(), Key(35)) == "<none>");
  CHECK(db->Count() == 38);
  CHECK(db->GetMetrics().hash_collisions > 0);
  REQUIRE_OK(db->Close());
  db = MustOpen(f.dir, f.opts);
  CHECK(db->Count() == 38);
  CHECK(Get(db.get(), Key(35)) == "<none>");
  CHECK(Get(db.get(), Key(34)) == Val(34, 0));
}

TEST_CASE("put-if-absent and atomic batches", "[linhash]") {
  MemFixture f;
  auto db = MustOpen(f.dir, f.opts);
  bool inserted = false;
  REQUIRE_OK(db->PutIfAbsent("k", "1", &inserted));
  CHECK(inserted);
  REQUIRE_OK(db->PutIfAbsent("k", "2", &inserted));
  CHECK_FALSE(inserted);
  CHECK(Get(db.get(), "k") == "1");
  WriteBatch b;
  b.Put("x", "1");
  b.Put("y", "2");
  b.Delete("k");
  b.Put("x", "3");
  REQUIRE_OK(db->Write(b));
  CHECK(Get(db.get(), "x") == "3");
  CHECK(Get(db.get(), "y") == "2");
  CHECK(Get(db.get(), "k") == "<none>");
  CHECK(db->Count() == 2);
  // Without a clean close the batch comes back from the log.
  REQUIRE_OK(db->Sync());
  auto* fenv = f.env.get();
  (void)fenv;
}

TEST_CASE("iterator is a snapshot", "[linhash]") {
  MemFixture f;
  auto db = MustOpen(f.dir, f.opts);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 300; ++i) {
    REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
    model[Key(i)] = Val(i, 0);
  }
  auto it = db->NewIterator();
  for (int i = 0; i < 300; ++i)
    REQUIRE_OK(db->Put(Key(1000 + i), "later"));  // splits
  REQUIRE_OK(db->Delete(Key(5)));
  std::map<std::string, std::string> seen;
  while (it->Next()) {
    CHECK(seen.count(std::string(it->key())) == 0);
    seen[std::string(it->key())] = std::string(it->value());
  }
  REQUIRE_OK(it->status());
  CHECK(seen == model);
}

TEST_CASE("compaction reclaims space, keeps data, leaks no file", "[linhash]") {
  TempDir tmp;
  Options o;
  o.max_segment_size = 64 << 10;
  o.compaction_min_segment_size = 0;
  o.compaction_min_fragmentation = 0.3;
  const std::string dir = tmp.Sub("db");
  auto db = MustOpen(dir, o);
  std::map<std::string, std::string> model;
  for (int ver = 0; ver < 5; ++ver) {
    for (int i = 0; i < 400; ++i) {
      REQUIRE_OK(db->Put(Key(i), Val(i, ver) + std::string(100, 'x')));
      model[Key(i)] = Val(i, ver) + std::string(100, 'x');
    }
  }
  for (int i = 0; i < 400; i += 3) {
    REQUIRE_OK(db->Delete(Key(i)));
    model.erase(Key(i));
  }
  auto before = db->FileSize();
  REQUIRE(before.ok());
  auto r = db->Compact();
  REQUIRE_OK(r.status());
  CHECK(r->compacted_segments > 0);
  CHECK(r->reclaimed_records > 0);
  auto after = db->FileSize();
  REQUIRE(after.ok());
  CHECK(*after < *before);
  for (const auto& [k, v] : model) REQUIRE(Get(db.get(), k) == v);
  CHECK(Get(db.get(), Key(0)) == "<none>");
  CHECK(db->Count() == model.size());
  REQUIRE_OK(db->Close());
  // Only LOCK, the index and live segments remain (no per-segment metadata
  // files, D2).
  for (const auto& n : Names(Env::Default(), dir)) {
    bool ok =
        n == "LOCK" || n == "index.lhx" || ParseSegmentFileName(n).has_value();
    CHECK(ok);
  }
  db = MustOpen(dir, o);
  for (const auto& [k, v] : model) REQUIRE(Get(db.get(), k) == v);
  CHECK(Get(db.get(), Key(3)) == "<none>");
  CHECK(db->Count() == model.size());
}

TEST_CASE("backup opens without replay", "[linhash]") {
  MemFixture f;
  auto db = MustOpen(f.dir, f.opts);
  for (int i = 0; i < 500; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 1)));
  REQUIRE_OK(db->Backup("/backup"));
  REQUIRE_OK(db->Put(Key(0), "after backup"));
  CHECK(db->Backup("/backup").IsInvalidArgument());  // not empty
  auto b = MustOpen("/backup", f.opts);
  CHECK(b->GetMetrics().replayed_records == 0);
  CHECK(b->Count() == 500);
  CHECK(Get(b.get(), Key(0)) == Val(0, 1));
  CHECK(Get(b.get(), Key(499)) == Val(499, 1));
}

TEST_CASE("a directory that is not a database is refused and left untouched",
          "[linhash]") {
  MemFixture f;
  REQUIRE_OK(f.env->CreateDir("/other"));
  REQUIRE_OK(f.env->WriteFileAtomically("/other/notes.txt", "hello"));
  auto before = Names(f.env.get(), "/other");
  CHECK(DB::Open("/other", f.opts).status().IsInvalidArgument());
  CHECK(Names(f.env.get(), "/other") == before);
  // A file named like ours but with foreign contents: Corruption, nothing
  // written.
  REQUIRE_OK(f.env->CreateDir("/fake"));
  REQUIRE_OK(f.env->WriteFileAtomically("/fake/00000-0000000001.lhlog",
                                        std::string(200, 'z')));
  REQUIRE_OK(f.env->WriteFileAtomically("/fake/00001-0000000002.lhlog",
                                        std::string(200, 'z')));
  Options ro = f.opts;
  ro.read_only = true;
  CHECK(DB::Open("/fake", ro).status().IsCorruption());
  CHECK(Names(f.env.get(), "/fake").size() == 2);
  // Read-only open of a missing directory creates nothing.
  CHECK(DB::Open("/missing", ro).status().IsNotFound());
  CHECK_FALSE(f.env->FileExists("/missing"));
}

TEST_CASE("read-only open serves reads and refuses writes", "[linhash]") {
  MemFixture f;
  {
    auto db = MustOpen(f.dir, f.opts);
    REQUIRE_OK(db->Put("a", "1"));
    REQUIRE_OK(db->Close());
  }
  auto before = Names(f.env.get(), f.dir);
  Options ro = f.opts;
  ro.read_only = true;
  auto db = MustOpen(f.dir, ro);
  CHECK(Get(db.get(), "a") == "1");
  CHECK(db->Put("b", "2").IsFailedPrecondition());
  REQUIRE_OK(db->Close());
  CHECK(Names(f.env.get(), f.dir) == before);
}

// Rewrites one byte of a file in the in-memory Env.
void FlipByte(Env* env, const std::string& path, uint64_t pos, uint8_t mask) {
  auto data = env->ReadFileToString(path);
  REQUIRE(data.ok());
  REQUIRE(pos < data->size());
  (*data)[pos] = static_cast<char>((*data)[pos] ^ mask);
  auto f = env->OpenFile(path, OpenMode::kTruncate);
  REQUIRE(f.ok());
  REQUIRE_OK((*f)->Append(*data));
}

std::string OnlySegment(Env* env, const std::string& dir, int which = 0) {
  std::vector<std::string> segs;
  for (const auto& n : Names(env, dir)) {
    if (ParseSegmentFileName(n)) segs.push_back(n);
  }
  REQUIRE(static_cast<int>(segs.size()) > which);
  return dir + "/" + segs[which];
}

TEST_CASE("damaged checkpoint: rebuild from the whole log (D4)", "[linhash]") {
  MemFixture f;
  {
    auto db = MustOpen(f.dir, f.opts);
    for (int i = 0; i < 200; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
    REQUIRE_OK(db->Delete(Key(7)));
    REQUIRE_OK(db->Close());
  }
  auto size = f.env->Stat("/db/index.lhx");
  REQUIRE(size.ok());
  FlipByte(f.env.get(), "/db/index.lhx", size->size - 50, 0x01);
  auto db = MustOpen(f.dir, f.opts);
  CHECK(db->GetMetrics().full_rebuilds == 1);
  CHECK(db->Count() == 199);
  CHECK(Get(db.get(), Key(7)) == "<none>");
  CHECK(Get(db.get(), Key(8)) == Val(8, 0));
}

// Copies every file of `from` into `to` (a crash image of an open database:
// what a killed process leaves behind after its last Sync).
void CopyDir(Env* env, const std::string& from, const std::string& to) {
  REQUIRE_OK(env->CreateDirs(to));
  for (const auto& n : Names(env, from)) {
    auto data = env->ReadFileToString(from + "/" + n);
    REQUIRE(data.ok());
    REQUIRE_OK(env->WriteFileAtomically(to + "/" + n, *data));
  }
}

// Offset of the first bucket in a checkpoint file (buckets fill its end).
uint64_t BucketsStart(Env* env, const std::string& path, const Stats& s) {
  auto st = env->Stat(path);
  REQUIRE(st.ok());
  return st->size - 128 * (s.primary_buckets + s.overflow_buckets);
}

TEST_CASE(
    "lazy index: clean reopen reads no chunk; a damaged chunk is "
    "Corruption, then a rebuild",
    "[linhash]") {
  MemFixture f;
  f.opts.index_preload_bytes = 0;  // attach lazily whatever the size
  Stats at_close;
  {
    auto db = MustOpen(f.dir, f.opts);
    for (int i = 0; i < 3000; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
    at_close = db->GetStats();
    REQUIRE_OK(db->Close());
  }
  {
    auto db = MustOpen(f.dir, f.opts);
    Metrics m = db->GetMetrics();
    CHECK(m.index_chunks_loaded == 0);
    CHECK(m.replayed_records == 0);
    CHECK(m.full_rebuilds == 0);
    CHECK(db->Count() == 3000);
    CHECK(Get(db.get(), Key(17)) == Val(17, 0));
    CHECK(db->GetMetrics().index_chunks_loaded >= 1);
    REQUIRE_OK(db->Close());  // nothing written: the checkpoint stays as is
  }
  const std::string ix = f.dir + "/index.lhx";
  FlipByte(f.env.get(), ix, BucketsStart(f.env.get(), ix, at_close) + 3, 0x20);
  {
    auto db = MustOpen(f.dir, f.opts);  // the damage is not read yet
    auto it = db->NewIterator();        // needs every chunk
    CHECK_FALSE(it->Next());
    CHECK(it->status().IsCorruption());
    // Sticky: every later operation says Corruption (never a wrong NotFound).
    std::string v;
    CHECK(db->Get(Key(1), &v).IsCorruption());
    CHECK(db->Put("new", "x").IsCorruption());
    CHECK_FALSE(f.env->FileExists(ix));  // marked: the next Open rebuilds
    db->Close().IgnoreError();
    CHECK_FALSE(f.env->FileExists(ix));  // no checkpoint from a bad index
  }
  auto db = MustOpen(f.dir, f.opts);
  CHECK(db->GetMetrics().full_rebuilds == 1);
  CHECK(db->Count() == 3000);
  for (int i = 0; i < 3000; ++i) REQUIRE(Get(db.get(), Key(i)) == Val(i, 0));
}

TEST_CASE("lazy index: tail replay that meets a damaged chunk rebuilds at Open",
          "[linhash]") {
  MemFixture f;
  f.opts.index_preload_bytes = 0;
  f.opts.checkpoint_interval_ms = 0;
  auto db = MustOpen(f.dir, f.opts);
  for (int i = 0; i < 2000; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
  REQUIRE_OK(db->Checkpoint());
  const Stats at_ckpt = db->GetStats();
  for (int i = 0; i < 2500; i += 5) REQUIRE_OK(db->Put(Key(i), Val(i, 1)));
  REQUIRE_OK(db->Sync());
  CopyDir(f.env.get(), f.dir, "/crash");
  SECTION("intact: only the tail is replayed") {
    auto c = MustOpen("/crash", f.opts);
    CHECK(c->GetMetrics().replayed_records == 500);
    CHECK(c->GetMetrics().full_rebuilds == 0);
    CHECK(c->Count() == 2100);
    for (int i = 0; i < 2500; ++i) {
      REQUIRE(Get(c.get(), Key(i)) == (i % 5 == 0 ? Val(i, 1)
                                       : i < 2000 ? Val(i, 0)
                                                  : "<none>"));
    }
    // Open wrote nothing; Close checkpoints, and the next Open replays nothing.
    REQUIRE_OK(c->Close());
    c = MustOpen("/crash", f.opts);
    CHECK(c->GetMetrics().replayed_records == 0);
    CHECK(c->Count() == 2100);
  }
  SECTION("damaged primary chunk") {
    const std::string ix = "/crash/index.lhx";
    FlipByte(f.env.get(), ix, BucketsStart(f.env.get(), ix, at_ckpt) + 9, 0x02);
    auto c = MustOpen("/crash", f.opts);
    CHECK(c->GetMetrics().full_rebuilds == 1);
    CHECK(c->Count() == 2100);
    for (int i = 0; i < 2500; ++i) {
      REQUIRE(Get(c.get(), Key(i)) == (i % 5 == 0 ? Val(i, 1)
                                       : i < 2000 ? Val(i, 0)
                                                  : "<none>"));
    }
  }
}

TEST_CASE("a version-1 checkpoint is not read: the index is rebuilt",
          "[linhash]") {
  MemFixture f;
  {
    auto db = MustOpen(f.dir, f.opts);
    for (int i = 0; i < 100; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
    REQUIRE_OK(db->Close());
  }
  const std::string ix = f.dir + "/index.lhx";
  auto data = f.env->ReadFileToString(ix);
  REQUIRE(data.ok());
  EncodeFixed32(data->data() + 8, 1);
  EncodeFixed32(data->data() + 252, MaskCrc(Crc32c(data->data(), 252)));
  REQUIRE_OK(f.env->WriteFileAtomically(ix, *data));
  auto db = MustOpen(f.dir, f.opts);
  CHECK(db->GetMetrics().full_rebuilds == 1);
  CHECK(db->Count() == 100);
  CHECK(Get(db.get(), Key(99)) == Val(99, 0));
}

TEST_CASE(
    "damaged log: newest segment cut at the damage, older is an error (D6)",
    "[linhash]") {
  MemFixture f;
  f.opts.max_segment_size = 4096;
  f.opts.checkpoint_interval_ms = 0;
  {
    auto db = MustOpen(f.dir, f.opts);
    for (int i = 0; i < 300; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
    CHECK(db->GetStats().segments >= 2);
    REQUIRE_OK(db->Close());
  }
  // Without the checkpoint, Open replays (and so checks) the whole log.
  REQUIRE_OK(f.env->RemoveFile("/db/index.lhx"));
  SECTION("newest segment") {
    std::vector<std::string> segs;
    for (const auto& n : Names(f.env.get(), f.dir)) {
      if (ParseSegmentFileName(n)) segs.push_back(n);
    }
    std::string newest = f.dir + "/" + segs.back();
    auto st = f.env->Stat(newest);
    FlipByte(f.env.get(), newest, st->size - 5, 0x80);
    auto db = MustOpen(f.dir, f.opts);
    CHECK(db->Count() == 299);  // the last record is cut
    CHECK(Get(db.get(), Key(299)) == "<none>");
    CHECK(Get(db.get(), Key(298)) == Val(298, 0));
    CHECK(Get(db.get(), Key(0)) == Val(0, 0));
  }
  SECTION("older segment") {
    std::string oldest = OnlySegment(f.env.get(), f.dir, 0);
    FlipByte(f.env.get(), oldest, 200, 0x04);
    CHECK(DB::Open(f.dir, f.opts).status().IsCorruption());
    Options repair = f.opts;
    repair.repair = true;
    auto db = MustOpen(f.dir, repair);
    CHECK(db->Count() < 300);
    CHECK(Get(db.get(), Key(299)) == Val(299, 0));
  }
}

TEST_CASE("bit flips anywhere: an error or a clean open, never a crash",
          "[linhash]") {
  MemFixture f;
  f.opts.checkpoint_interval_ms = 0;
  {
    auto db = MustOpen(f.dir, f.opts);
    for (int i = 0; i < 20; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
    REQUIRE_OK(db->Close());
  }
  std::map<std::string, std::string> pristine;
  for (const auto& n : Names(f.env.get(), f.dir)) {
    pristine[n] = *f.env->ReadFileToString(f.dir + "/" + n);
  }
  int opened = 0;
  int refused = 0;
  for (const auto& [name, data] : pristine) {
    for (uint64_t pos = 0; pos < data.size(); pos += kFlipStride) {
      for (const auto& [n2, d2] : pristine) {
        REQUIRE_OK(f.env->WriteFileAtomically(f.dir + "/" + n2, d2));
      }
      FlipByte(f.env.get(), f.dir + "/" + name, pos,
               static_cast<uint8_t>(1u << (pos % 8)));
      auto db = DB::Open(f.dir, f.opts);
      if (!db.ok()) {
        ++refused;
        continue;
      }
      ++opened;
      // Whatever opened serves only values that were written.
      for (int i = 0; i < 20; ++i) {
        std::string v;
        Status s = (*db)->Get(Key(i), &v);
        if (s.ok()) CHECK(v == Val(i, 0));
      }
    }
  }
  CHECK(opened > 0);
  CHECK(refused > 0);
}

TEST_CASE("inspect verifies a database and dumps keys", "[linhash]") {
  MemFixture f;
  {
    auto db = MustOpen(f.dir, f.opts);
    for (int i = 0; i < 50; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, 0)));
    REQUIRE_OK(db->Close());
  }
  std::ostringstream out;
  REQUIRE_OK(Inspect(f.dir, true, out, f.env.get()));
  CHECK(out.str().find("key-49") != std::string::npos);
  FlipByte(f.env.get(), OnlySegment(f.env.get(), f.dir), 300, 0x01);
  std::ostringstream out2;
  CHECK(Inspect(f.dir, false, out2, f.env.get()).IsCorruption());
}

// Random operations checked against std::map, with reopen, crash-free close,
// compaction and segment rotation; on the real file system with mmap reads and
// in memory with pread.
void RunModel(Env* env, const std::string& dir, ReadBackend backend,
              uint64_t seed) {
  Options o;
  o.env = env;
  o.read_backend = backend;
  o.max_segment_size = 16 << 10;
  o.compaction_min_segment_size = 0;
  o.compaction_min_fragmentation = 0.2;
  o.write_buffer_size = (seed & 1) ? 0 : 4096;
  auto db = MustOpen(dir, o);
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(seed);
  for (int step = 0; step < 4000; ++step) {
    int op = static_cast<int>(rng() % 100);
    std::string k = Key(static_cast<int>(rng() % 300));
    if (op < 45) {
      std::string v = std::string(rng() % 60, 'v') + std::to_string(step);
      REQUIRE_OK(db->Put(k, v));
      model[k] = v;
    } else if (op < 60) {
      REQUIRE_OK(db->Delete(k));
      model.erase(k);
    } else if (op < 90) {
      auto it = model.find(k);
      REQUIRE(Get(db.get(), k) == (it == model.end() ? "<none>" : it->second));
    } else if (op < 93) {
      WriteBatch b;
      for (int j = 0; j < 5; ++j) {
        std::string bk = Key(static_cast<int>(rng() % 300));
        if (rng() % 4 == 0) {
          b.Delete(bk);
          model.erase(bk);
        } else {
          b.Put(bk, "batch" + std::to_string(step));
          model[bk] = "batch" + std::to_string(step);
        }
      }
      REQUIRE_OK(db->Write(b));
    } else if (op < 95) {
      REQUIRE_OK(db->Close());
      db = MustOpen(dir, o);
    } else if (op < 97) {
      REQUIRE_OK(db->Compact().status());
    } else if (op < 98) {
      REQUIRE_OK(db->Checkpoint());
    } else {
      REQUIRE_OK(db->Sync());
    }
    REQUIRE(db->Count() == model.size());
  }
  REQUIRE_OK(db->Close());
  db = MustOpen(dir, o);
  for (const auto& [k, v] : model) REQUIRE(Get(db.get(), k) == v);
  std::map<std::string, std::string> seen;
  auto it = db->NewIterator();
  while (it->Next()) seen[std::string(it->key())] = std::string(it->value());
  REQUIRE_OK(it->status());
  CHECK(seen == model);
}

TEST_CASE("model test: in-memory Env, pread", "[linhash][model]") {
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    auto env = NewMemEnv();
    RunModel(env.get(), "/db", ReadBackend::kPread, seed);
  }
}

TEST_CASE("model test: POSIX Env, mmap", "[linhash][model]") {
  for (uint64_t seed = 3; seed <= 3; ++seed) {
    TempDir tmp;
    RunModel(Env::Default(), tmp.Sub("db"), ReadBackend::kMmap, seed);
  }
}

}  // namespace
}  // namespace kvb::linhash
