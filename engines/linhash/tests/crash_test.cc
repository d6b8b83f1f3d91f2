// Simulated power loss at every sync point of small workloads
// (FaultInjectionEnv): the database always opens afterwards, every acknowledged
// durable write survives, and nothing that was never written appears. Covers
// rotation (D3), compaction (D5), batches and checkpoints.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <thread>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/linhash/linhash.h"

namespace kvb::linhash {
namespace {

using Model = std::map<std::string, std::string>;

// Release builds cut power at every sync point; sanitizer builds (several times
// slower) at every third, to stay within the suite's time budget.
#if defined(KVB_SANITIZED)
constexpr uint64_t kCrashStride = 3;
#else
constexpr uint64_t kCrashStride = 1;
#endif

struct Op {
  enum Kind { kPut, kDelete, kBatch, kCompact, kSync, kCheckpoint } kind;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::optional<std::string>>> batch;
};

// Builds prefix + number (a function, not operator+, which trips GCC 12's
// -Wrestrict).
std::string Named(const char* prefix, int n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

std::vector<Op> Workload() {
  std::vector<Op> ops;
  for (int i = 0; i < 70; ++i) {
    std::string k = Named("k", i % 13);
    std::string v = Named("v", i);
    v.append(40 + i % 17, '.');
    if (i % 11 == 5) {
      ops.push_back({Op::kDelete, k, "", {}});
    } else if (i % 17 == 8) {
      Op b{Op::kBatch, "", "", {}};
      b.batch.push_back({Named("b", i), v});
      b.batch.push_back({k, std::nullopt});
      b.batch.push_back({Named("k", (i + 1) % 13), v});
      ops.push_back(b);
    } else {
      ops.push_back({Op::kPut, k, v, {}});
    }
    if (i % 23 == 22) ops.push_back({Op::kCompact, "", "", {}});
    if (i % 9 == 4) ops.push_back({Op::kSync, "", "", {}});
    if (i == 40) ops.push_back({Op::kCheckpoint, "", "", {}});
  }
  return ops;
}

void ApplyToModel(const Op& op, Model* m) {
  switch (op.kind) {
    case Op::kPut:
      (*m)[op.key] = op.value;
      break;
    case Op::kDelete:
      m->erase(op.key);
      break;
    case Op::kBatch:
      for (const auto& [k, v] : op.batch) {
        if (v) {
          (*m)[k] = *v;
        } else {
          m->erase(k);
        }
      }
      break;
    default:
      break;
  }
}

Status Run(DB* db, const Op& op) {
  switch (op.kind) {
    case Op::kPut:
      return db->Put(op.key, op.value);
    case Op::kDelete:
      return db->Delete(op.key);
    case Op::kBatch: {
      WriteBatch b;
      for (const auto& [k, v] : op.batch) {
        if (v) {
          b.Put(k, *v);
        } else {
          b.Delete(k);
        }
      }
      return db->Write(b);
    }
    case Op::kCompact:
      return db->Compact().status();
    case Op::kSync:
      return db->Sync();
    case Op::kCheckpoint:
      return db->Checkpoint();
  }
  return Status::OK();
}

Model ReadAll(DB* db) {
  Model m;
  auto it = db->NewIterator();
  while (it->Next()) m[std::string(it->key())] = std::string(it->value());
  REQUIRE_OK(it->status());
  REQUIRE(db->Count() == m.size());
  // Point reads agree with the iterator.
  for (const auto& [k, v] : m) {
    std::string got;
    REQUIRE_OK(db->Get(k, &got));
    REQUIRE(got == v);
  }
  return m;
}

Options CrashOptions(Env* env, int64_t sync_interval) {
  Options o;
  o.env = env;
  o.background_sync_interval_ms = sync_interval;
  o.checkpoint_interval_ms = 0;
  o.max_segment_size = 4096;  // several rotations per run
  o.compaction_min_segment_size = 0;
  o.compaction_min_fragmentation = 0.2;
  o.write_buffer_size = 1024;
  return o;
}

struct Outcome {
  size_t attempted = 0;  // ops started (the last one may have failed)
  size_t durable =
      0;  // ops known durable (acked under sync, or before a good Sync)
  bool crashed = false;
};

// Runs the workload until the Env "crashes"; reports what the model may be.
Outcome RunUntilCrash(FaultInjectionEnv* env, int64_t sync_interval,
                      const std::vector<Op>& ops) {
  Outcome out;
  auto db = DB::Open("/db", CrashOptions(env, sync_interval));
  if (!db.ok()) {
    out.crashed = true;
    return out;
  }
  for (const Op& op : ops) {
    ++out.attempted;
    Status s = Run(db->get(), op);
    if (!s.ok()) {
      out.crashed = true;
      break;
    }
    bool write =
        op.kind == Op::kPut || op.kind == Op::kDelete || op.kind == Op::kBatch;
    if ((sync_interval == -1 && write) || op.kind == Op::kSync ||
        op.kind == Op::kCheckpoint || op.kind == Op::kCompact) {
      out.durable = out.attempted;
    }
  }
  if (!out.crashed) {
    if ((*db)->Close().ok()) out.durable = out.attempted;
  }
  return out;
}

void CheckAfterPowerLoss(int64_t sync_interval,
                         FaultInjectionEnv::PowerLossMode mode) {
  const std::vector<Op> ops = Workload();
  // Models after each prefix of the workload.
  std::vector<Model> prefix(1);
  for (const Op& op : ops) {
    prefix.push_back(prefix.back());
    ApplyToModel(op, &prefix.back());
  }
  uint64_t total_syncs = 0;
  {
    auto mem = NewMemEnv();
    FaultInjectionEnv env(mem.get());
    Outcome o = RunUntilCrash(&env, sync_interval, ops);
    REQUIRE_FALSE(o.crashed);
    total_syncs = env.sync_points();
  }
  REQUIRE(total_syncs > 20);
  WARN("sync points in the workload: " << total_syncs);
  for (uint64_t k = 0; k <= total_syncs; k += kCrashStride) {
    INFO("crash after sync point " << k << " of " << total_syncs);
    auto mem = NewMemEnv();
    FaultInjectionEnv env(mem.get());
    env.CrashAfterSyncs(k);
    Outcome o = RunUntilCrash(&env, sync_interval, ops);
    REQUIRE_OK(env.SimulatePowerLoss(mode, k));
    auto db = DB::Open("/db", CrashOptions(&env, sync_interval));
    INFO(db.status().ToString());
    REQUIRE(db.ok());
    Model got = ReadAll(db->get());
    // The state is the model after some prefix that contains every durable op
    // and no op that was not attempted.
    bool matched = false;
    for (size_t i = o.durable; i <= o.attempted && !matched; ++i)
      matched = got == prefix[i];
    INFO("durable " << o.durable << ", attempted " << o.attempted);
    REQUIRE(matched);
    // And it keeps working.
    REQUIRE_OK((*db)->Put("after", "crash"));
    REQUIRE_OK((*db)->Close());
  }
}

TEST_CASE("power loss at every sync point, sync on every write",
          "[linhash][crash]") {
  CheckAfterPowerLoss(-1, FaultInjectionEnv::PowerLossMode::kDropUnsynced);
}

TEST_CASE("power loss at every sync point, explicit Sync only",
          "[linhash][crash]") {
  CheckAfterPowerLoss(0, FaultInjectionEnv::PowerLossMode::kDropUnsynced);
}

TEST_CASE("power loss with torn tails", "[linhash][crash]") {
  CheckAfterPowerLoss(-1, FaultInjectionEnv::PowerLossMode::kTornTail);
  CheckAfterPowerLoss(0, FaultInjectionEnv::PowerLossMode::kTornTail);
}

TEST_CASE("a failed log write is not resurrected and blocks later writes (D10)",
          "[linhash][crash]") {
  auto mem = NewMemEnv();
  FaultInjectionEnv env(mem.get());
  Options o = CrashOptions(&env, 0);
  o.write_buffer_size = 0;  // each record is its own write
  auto db = DB::Open("/db", o);
  REQUIRE(db.ok());
  REQUIRE_OK((*db)->Put("a", "1"));
  env.FailOnce(FaultInjectionEnv::Op::kWriteAt, 0, Status::IOError("injected"),
               ".lhlog");
  CHECK_FALSE((*db)->Put("b", "2").ok());
  std::string v;
  CHECK((*db)->Get("b", &v).IsNotFound());
  CHECK_FALSE((*db)->Put("c", "3").ok());  // sticky until reopen
  db->reset();
  REQUIRE_OK(env.SimulatePowerLoss());
  auto again = DB::Open("/db", o);
  REQUIRE(again.ok());
  CHECK((*again)->Get("b", &v).IsNotFound());
  REQUIRE_OK((*again)->Put("c", "3"));
}

TEST_CASE("group commit: one fdatasync covers many writers",
          "[linhash][crash]") {
  testing::TempDir tmp;
  Options o;
  o.background_sync_interval_ms = -1;
  auto db = DB::Open(tmp.Sub("db"), o);
  REQUIRE(db.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};  // Catch2 assertions are not thread-safe
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string key = Named("t", t);
        key.append(Named("-", i));
        if (!(*db)->Put(key, "v").ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  Metrics m = (*db)->GetMetrics();
  CHECK(m.puts == 400);
  CHECK(m.syncs < 400);  // 8 writers share fsyncs
  CHECK(m.syncs > 0);
}

}  // namespace
}  // namespace kvb::linhash
