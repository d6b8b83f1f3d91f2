// linhash under the fault model's file-system states (FaultInjectionEnv::Model)
// through the public API: regressions for what the reliability power-states
// test found (tests/reliability/power_states_test.cc).
//   - A directory Open (or Backup) creates is durable only once its parent is
//     synced: before the fix the whole database vanished at a power loss, with
//     data an OK Sync had acknowledged.
//   - A failed fdatasync drops the dirty pages (fsync-gate) while reads still
//     see them: before the fix Close returned OK after a failed Sync, and a
//     reopen before any reboot read the dropped records, appended after them
//     and synced, so after the power loss the log held a damaged range in its
//     middle ("bad record").
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

using FOp = FaultInjectionEnv::Op;
using Model = FaultInjectionEnv::Model;

Options SmallOptions(Env* env, int64_t sync_interval) {
  Options o;
  o.env = env;
  o.background_sync_interval_ms = sync_interval;
  o.checkpoint_interval_ms = 0;
  o.read_backend = ReadBackend::kPread;
  o.max_segment_size = 4096;  // a few rotations below
  o.write_buffer_size = 1024;
  return o;
}

std::unique_ptr<DB> MustOpen(const std::string& dir, const Options& o) {
  auto r = DB::Open(dir, o);
  INFO("Open(" << dir << "): " << r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string Val(int k, int version) {
  return "v" + std::to_string(version) +
         std::string(static_cast<size_t>(40 + (k * 37 + version * 11) % 200),
                     static_cast<char>('a' + k % 26));
}

Model DirsModel(bool random_prefix) {
  Model m;
  m.dirs_need_parent_sync = true;
  if (random_prefix) m.unsynced_names = Model::Names::kRandomPrefix;
  return m;
}

TEST_CASE("a database whose directories Open created survives a power loss",
          "[power]") {
  for (bool prefix : {false, true}) {
    for (int64_t interval : {int64_t{0}, int64_t{-1}}) {
      INFO((prefix ? "random prefix + directories" : "directories")
           << ", sync interval " << interval);
      std::unique_ptr<Env> mem = NewMemEnv();
      FaultInjectionEnv env(mem.get());
      env.SetModel(DirsModel(prefix));
      const std::string dir = "/data/a/db";  // three levels to create
      {
        std::unique_ptr<DB> db = MustOpen(dir, SmallOptions(&env, interval));
        for (int k = 0; k < 20; ++k)
          REQUIRE_OK(db->Put(std::to_string(k), Val(k, 1)));
        // With sync-every-write each Put is durable already.
        if (interval == 0) REQUIRE_OK(db->Sync());
        // No Close: the power goes now.
        REQUIRE_OK(env.SimulatePowerLoss(
            FaultInjectionEnv::PowerLossMode::kDropUnsynced, 7));
        env.ClearFaults();
      }
      std::unique_ptr<DB> db = MustOpen(dir, SmallOptions(&env, interval));
      std::string v;
      for (int k = 0; k < 20; ++k) {
        INFO("key " << k);
        REQUIRE_OK(db->Get(std::to_string(k), &v));
        CHECK(v == Val(k, 1));
      }
      REQUIRE_OK(db->Close());
    }
  }
}

TEST_CASE("a backup into a new directory survives a power loss", "[power]") {
  std::unique_ptr<Env> mem = NewMemEnv();
  FaultInjectionEnv env(mem.get());
  env.SetModel(DirsModel(false));
  {
    std::unique_ptr<DB> db = MustOpen("/db", SmallOptions(&env, 0));
    for (int k = 0; k < 30; ++k)
      REQUIRE_OK(db->Put(std::to_string(k), Val(k, 2)));
    REQUIRE_OK(db->Backup("/backups/monday"));
    REQUIRE_OK(env.SimulatePowerLoss());
  }
  std::unique_ptr<DB> copy = MustOpen("/backups/monday", SmallOptions(&env, 0));
  CHECK(copy->Count() == 30);
  std::string v;
  REQUIRE_OK(copy->Get("29", &v));
  CHECK(v == Val(29, 2));
  REQUIRE_OK(copy->Close());
}

// One run of the workload with an EIO at the `k`-th fdatasync. The application
// keeps using the handle (every later call must fail), closes it (Close must
// fail too: nothing was made durable there), reopens without a reboot, writes
// and syncs more, then the power goes. Returns false once `k` is past the last
// fdatasync.
bool RunWithFailedDataSync(uint64_t k, int64_t interval) {
  std::unique_ptr<Env> mem = NewMemEnv();
  FaultInjectionEnv env(mem.get());  // fsync-gate is on by default
  const Options o = SmallOptions(&env, interval);
  env.FailOnce(FOp::kDataSync, k, Status::IOError("injected fdatasync EIO"));
  std::set<int> durable;  // keys acknowledged durable with version 1
  bool failed = false;
  auto opened = DB::Open("/db", o);
  if (!opened.ok()) {
    // The fdatasync of Open's first checkpoint: Open reports it.
    INFO("EIO at fdatasync #" << k << ": " << opened.status().ToString());
    REQUIRE(env.injected_failures() == 1);
  } else {
    std::unique_ptr<DB> db = std::move(opened).value();
    std::set<int> pending;
    auto step = [&](Status s) {
      if (failed) {
        CHECK_FALSE(s.ok());  // sticky: every call after the failed one fails
      } else if (!s.ok()) {
        failed = true;
      }
      return s.ok();
    };
    for (int i = 0; i < 40; ++i) {
      const bool ok = step(db->Put(std::to_string(i), Val(i, 1)));
      if (ok && interval == -1) durable.insert(i);
      if (ok && interval != -1) pending.insert(i);
      if (i % 10 == 9 && step(db->Sync())) {
        durable.insert(pending.begin(), pending.end());
        pending.clear();
      }
    }
    Status closed = db->Close();
    if (env.injected_failures() == 0) {
      REQUIRE_OK(closed);
      return false;
    }
    INFO("EIO at fdatasync #" << k);
    CHECK_FALSE(closed.ok());
  }
  // Reopen before any reboot: the page cache still shows what the disk lost.
  {
    std::unique_ptr<DB> db = MustOpen("/db", o);
    for (int i = 100; i < 120; ++i)
      REQUIRE_OK(db->Put(std::to_string(i), Val(i, 3)));
    REQUIRE_OK(db->Sync());
    REQUIRE_OK(db->Close());
  }
  REQUIRE_OK(env.SimulatePowerLoss());
  std::unique_ptr<DB> db = MustOpen("/db", o);
  std::string v;
  for (int i = 0; i < 40; ++i) {
    INFO("EIO at fdatasync #" << k << ", key " << i);
    Status s = db->Get(std::to_string(i), &v);
    if (durable.count(i) == 1) {
      REQUIRE_OK(s);
      CHECK(v == Val(i, 1));
    } else if (s.ok()) {
      CHECK(v == Val(i, 1));
    } else {
      CHECK(s.IsNotFound());
    }
  }
  for (int i = 100; i < 120; ++i) {
    INFO("EIO at fdatasync #" << k << ", key " << i);
    REQUIRE_OK(db->Get(std::to_string(i), &v));
    CHECK(v == Val(i, 3));
  }
  uint64_t walked = 0;
  auto it = db->NewIterator();
  while (it->Next()) ++walked;
  INFO("EIO at fdatasync #" << k);
  CHECK_OK(it->status());
  CHECK(walked == db->Count());
  it.reset();
  CHECK_OK(db->Close());
  return true;
}

TEST_CASE(
    "after a failed fdatasync every later call and Close fail, and a reopen "
    "before a reboot loses nothing acknowledged",
    "[power]") {
  for (int64_t interval : {int64_t{0}, int64_t{-1}}) {
    INFO("sync interval " << interval);
    uint64_t points = 0;
    while (RunWithFailedDataSync(points, interval)) {
      ++points;
      REQUIRE(points < 1000);
    }
    WARN("sync interval " << interval << ": " << points << " fdatasync points");
    CHECK(points > 3);
  }
}

}  // namespace
}  // namespace kvb::linhash
