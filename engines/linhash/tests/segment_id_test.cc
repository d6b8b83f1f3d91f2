// Segment id lifecycle (issue 14, defect 2): a compaction source's id is not
// reused until its file is durably gone, whatever fails in between; a failed
// unlink of a source leaves a database that opens; repair opens a directory
// where an id was already reused (made by older versions).
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/format.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

using FOp = FaultInjectionEnv::Op;

std::string Key(int i) { return "key-" + std::to_string(i); }
std::string Val(int i, int ver) {
  return "value-" + std::to_string(i) + "-" + std::to_string(ver) +
         std::string(200, 'x');
}

std::vector<std::string> Segments(Env* env, const std::string& dir) {
  auto n = env->ListDir(dir);
  REQUIRE(n.ok());
  std::vector<std::string> out;
  for (const std::string& s : *n) {
    if (ParseSegmentFileName(s)) out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IdsUnique(Env* env, const std::string& dir) {
  std::vector<uint32_t> ids;
  for (const std::string& s : Segments(env, dir)) {
    ids.push_back(ParseSegmentFileName(s)->id);
  }
  std::sort(ids.begin(), ids.end());
  return std::adjacent_find(ids.begin(), ids.end()) == ids.end();
}

struct Fixture {
  std::unique_ptr<Env> mem = NewMemEnv();
  FaultInjectionEnv env{mem.get()};
  std::string dir = "/db";
  Options opts;
  std::unique_ptr<DB> db;

  Fixture() {
    opts.env = &env;
    opts.max_segment_size = 16 << 10;
    opts.compaction_min_segment_size = 0;
    opts.compaction_min_fragmentation = 0.1;
    opts.checkpoint_interval_ms = 0;
  }
  void Open(const Options& o) {
    auto r = DB::Open(dir, o);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    db = std::move(r).value();
  }
  // Several segments, all of them fragmented (every key written twice).
  void Fill(int keys) {
    for (int ver = 0; ver < 2; ++ver) {
      for (int i = 0; i < keys; ++i) REQUIRE_OK(db->Put(Key(i), Val(i, ver)));
    }
  }
  void ExpectAll(int keys, int ver) {
    std::string v;
    for (int i = 0; i < keys; ++i) {
      REQUIRE_OK(db->Get(Key(i), &v));
      REQUIRE(v == Val(i, ver));
    }
  }
};

TEST_CASE("a failed unlink of a compaction source keeps its id reserved") {
  Fixture fx;
  fx.Open(fx.opts);
  fx.Fill(200);
  fx.env.FailOnce(FOp::kRemove, 0, Status::IOError("injected unlink failure"),
                  ".lhlog");
  auto r = fx.db->Compact();
  CHECK(!r.ok());
  // Writes go on and rotate into new segments.
  for (int i = 0; i < 200; ++i) REQUIRE_OK(fx.db->Put(Key(i), Val(i, 2)));
  CHECK(IdsUnique(&fx.env, fx.dir));
  REQUIRE_OK(fx.db->Close());
  fx.db.reset();

  fx.Open(fx.opts);
  fx.ExpectAll(200, 2);
  REQUIRE_OK(fx.db->Close());
  CHECK(IdsUnique(&fx.env, fx.dir));
}

TEST_CASE("a compaction whose checkpoint failed does not free its ids") {
  Fixture fx;
  fx.Open(fx.opts);
  fx.Fill(200);
  fx.env.FailOnce(FOp::kRename, 0, Status::IOError("injected rename failure"),
                  "index");
  CHECK(!fx.db->Compact().ok());
  for (int i = 0; i < 200; ++i) REQUIRE_OK(fx.db->Put(Key(i), Val(i, 2)));
  CHECK(IdsUnique(&fx.env, fx.dir));
  // Power loss now: the Env fails everything, so the handle's Close does
  // nothing.
  fx.env.CrashAfterSyncs(0);
  fx.db.reset();
  REQUIRE_OK(fx.env.SimulatePowerLoss());

  fx.Open(fx.opts);
  // The compaction synced the log; later writes are durable only as far as
  // rotations synced them.
  std::string v;
  for (int i = 0; i < 200; ++i) {
    REQUIRE_OK(fx.db->Get(Key(i), &v));
    REQUIRE((v == Val(i, 1) || v == Val(i, 2)));
  }
  REQUIRE_OK(fx.db->Close());
}

TEST_CASE("a crash at every step of a compaction leaves unique ids") {
  for (uint64_t k = 0;; ++k) {
    Fixture fx;
    fx.opts.background_sync_interval_ms = -1;
    fx.Open(fx.opts);
    fx.Fill(150);
    fx.env.CrashAfterSyncs(k);
    Status s = fx.db->Compact().status();
    // A write after the crash point rotates into a new segment if it can.
    for (int i = 0; i < 100 && s.ok(); ++i) s = fx.db->Put(Key(i), Val(i, 2));
    const bool crashed = fx.env.crashed();
    fx.env.CrashAfterSyncs(0);  // the process dies here: Close does nothing
    fx.db.reset();
    REQUIRE_OK(fx.env.SimulatePowerLoss());
    INFO("crash after sync point " << k);
    CHECK(IdsUnique(&fx.env, fx.dir));
    fx.Open(fx.opts);
    std::string v;
    for (int i = 100; i < 150; ++i) {
      REQUIRE_OK(fx.db->Get(Key(i), &v));
      REQUIRE(v == Val(i, 1));
    }
    REQUIRE_OK(fx.db->Close());
    if (!crashed) break;  // the whole compaction ran: every point was tried
    REQUIRE(k < 1000);
  }
}

TEST_CASE("repair renumbers a segment whose id an older version reused") {
  std::unique_ptr<Env> env = NewMemEnv();
  const std::string dir = "/db";
  Options o;
  o.env = env.get();
  o.max_segment_size = 16 << 10;
  {
    auto db = DB::Open(dir, o);
    REQUIRE(db.ok());
    for (int i = 0; i < 300; ++i) REQUIRE_OK((*db)->Put(Key(i), Val(i, 0)));
    REQUIRE_OK((*db)->Close());
  }
  // Give the newest segment the id of the oldest one (as a rotation during a
  // crashed compaction did), and drop the checkpoint.
  auto segs = Segments(env.get(), dir);
  REQUIRE(segs.size() >= 3);
  const SegmentName oldest = *ParseSegmentFileName(segs.front());
  const SegmentName newest = *ParseSegmentFileName(segs.back());
  const std::string from = dir + "/" + segs.back();
  const std::string to = dir + "/" + SegmentFileName(oldest.id, newest.seq);
  {
    auto f = env->OpenFile(from, OpenMode::kReadWrite);
    REQUIRE(f.ok());
    REQUIRE_OK((*f)->WriteAt(0, EncodeSegmentHeader(oldest.id, newest.seq)));
    REQUIRE_OK((*f)->Close());
  }
  REQUIRE_OK(env->RenameFile(from, to));
  REQUIRE_OK(env->RemoveFile(dir + "/index.lhx"));

  auto refused = DB::Open(dir, o);
  INFO(refused.status().ToString());
  REQUIRE(refused.status().IsCorruption());
  CHECK(refused.status().ToString().find("repair") != std::string::npos);

  Options r = o;
  r.repair = true;
  auto db = DB::Open(dir, r);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  std::string v;
  for (int i = 0; i < 300; ++i) {
    REQUIRE_OK((*db)->Get(Key(i), &v));
    REQUIRE(v == Val(i, 0));
  }
  REQUIRE_OK((*db)->Close());
  CHECK(IdsUnique(env.get(), dir));
  auto again = DB::Open(dir, o);
  INFO(again.status().ToString());
  CHECK(again.ok());
}

}  // namespace
}  // namespace kvb::linhash
