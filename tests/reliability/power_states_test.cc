// Every engine's power-loss contract against the states real file systems
// produce (FaultInjectionEnv::Model), through the engines' public APIs:
//   names outrun data   creates, renames and removes that became durable
//                       before the data (all of them, or a random prefix in
//                       order): zero-length or old-content files;
//   directories         a directory is durable only once its parent is synced
//                       (the engines create their own directory here, except
//                       typedmap, whose directory is the application's);
//   fsync-gate          a failed sync drops the dirty data; the application
//                       keeps going, and a later OK must still mean durable.
// For each engine configuration and model, the workload (drivers.h) runs with a
// crash after the k-th sync point for every k the dry run reaches (counted, not
// hard-coded) and once to the end; then power is lost and the database must
// reopen with, for every key, its value as of the last point the engine's
// contract calls durable (an OK Sync or Close, or a write in a sync-every-write
// mode) or one written after it, and no other key.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "tests/reliability/drivers.h"

namespace kvb::reliability {
namespace {

using Op = FaultInjectionEnv::Op;
using Model = FaultInjectionEnv::Model;
using Names = Model::Names;

struct Variant {
  std::string name;
  Model model;
  uint64_t seeds;  // power losses per crash point (kRandomPrefix draws)
};

std::vector<Variant> Variants() {
  Model all_names;
  all_names.unsynced_names = Names::kAll;
  Model prefix;
  prefix.unsynced_names = Names::kRandomPrefix;
  Model dirs;
  dirs.dirs_need_parent_sync = true;
  Model everything = prefix;
  everything.dirs_need_parent_sync = true;
  return {{"names outrun data (all)", all_names, 1},
          {"names outrun data (random prefix)", prefix, 3},
          {"directories need the parent's sync", dirs, 1},
          {"random prefix + directories", everything, 2}};
}

struct Outcome {
  std::string failure;   // "" = the contract held
  bool crashed = false;  // the crash point was reached
  uint64_t sync_points = 0;
};

// Runs the workload on `env` until its first error (or through errors up to the
// next Close if `keep_going`: a failed step is then only "maybe"),
// setting the last durably acknowledged and last attempted steps. Returns the
// number of steps that returned OK after a failed one.
int Run(Driver* d, Env* env, const std::vector<Step>& w, bool keep_going,
        int* acked, int* last, std::vector<bool>* failed) {
  bool open = false;
  int ok_after_error = 0;  // steps that returned OK after a failed one
  failed->assign(w.size(), false);
  for (int i = 0; i < static_cast<int>(w.size()); ++i) {
    *last = i;
    const Step& step = w[i];
    Status s = (open || step.kind == Step::kOpen)
                   ? RunStep(d, env, "/db", step)
                   : Status::FailedPrecondition("not open");
    if (step.kind == Step::kOpen) open = s.ok();
    if (step.kind == Step::kClose) open = false;
    const bool after_error =
        std::find(failed->begin(), failed->end(), true) != failed->end();
    if (!s.ok()) {
      (*failed)[i] = true;
      if (!keep_going) return ok_after_error;
      continue;
    }
    if (after_error) ++ok_after_error;
    // The application keeps using the handle that failed, up to its Close. A
    // reopen without a reboot is out of scope: it reads the page cache, which
    // still holds the dropped bytes, and no engine can tell (docs/reliability.md).
    if (step.kind == Step::kClose && after_error) return ok_after_error;
    const bool is_write = step.kind == Step::kPut || step.kind == Step::kDelete;
    if (step.kind == Step::kSync || step.kind == Step::kClose ||
        (is_write && d->WriteDurable()))
      *acked = i;
  }
  return ok_after_error;
}

// " name=size ..." of the files under `dir`, for failure messages.
std::string ListFiles(Env* env, const std::string& dir) {
  std::string out;
  Result<std::vector<std::string>> names = env->ListDir(dir);
  if (!names.ok()) return " " + names.status().ToString();
  for (const std::string& n : *names) {
    Result<FileStat> st = env->Stat(JoinPath(dir, n));
    out += " " + n + "=" + (st.ok() ? std::to_string(st->size) : "?");
  }
  return out;
}

// fileperkey sync=off: a new key's name can reach the disk before its data
// (the journal committed the rename, or a later directory fsync made it
// durable, while the data was never synced). With the value checksum (the
// default for new stores) that file reads as Corruption: the damage is an
// error the application sees, never a value it did not write. So Corruption
// on read is accepted for a key whose latest write was not durably
// acknowledged (that write may be lost anyway), and only for it: a durably
// acknowledged key must still read its value exactly.
bool DamageIsAnError(const Config& config) {
  return config.name == "fileperkey sync=off";
}

// What Verify sees for a key whose Get returned Corruption.
const char kDamaged[] = "\x01(Corruption on read)";

// Forwards to the driver under test; a Get that returns Corruption reads as
// the value kDamaged, which Allowed never produces.
class DamageAsValue final : public Driver {
 public:
  explicit DamageAsValue(Driver* d) : d_(d) {}
  Status Open(Env* env, const std::string& dir) override {
    return d_->Open(env, dir);
  }
  Status Put(const std::string& k, const std::string& v) override {
    return d_->Put(k, v);
  }
  Status Delete(const std::string& k) override { return d_->Delete(k); }
  Status Sync() override { return d_->Sync(); }
  Status Close() override { return d_->Close(); }
  Status Get(const std::string& k, std::string* v) override {
    Status s = d_->Get(k, v);
    if (!s.IsCorruption()) return s;
    *v = kDamaged;
    return Status::OK();
  }
  Status Keys(std::set<std::string>* keys) override { return d_->Keys(keys); }
  bool WriteAcknowledges() const override { return d_->WriteAcknowledges(); }
  bool WriteDurable() const override { return d_->WriteDurable(); }
  bool CreatesDir() const override { return d_->CreatesDir(); }

 private:
  Driver* d_;
};

// Adds kDamaged to the allowed values of every key whose latest attempted
// write (step <= last) is after `acked` or failed.
void AllowDamageInDoubt(const std::vector<Step>& w, int acked, int last,
                        const std::vector<bool>& failed,
                        AllowedValues* allowed) {
  std::map<std::string, int> latest;
  for (int i = 0; i <= last && i < static_cast<int>(w.size()); ++i) {
    if (w[i].kind == Step::kPut || w[i].kind == Step::kDelete)
      latest[w[i].key] = i;
  }
  for (const auto& [key, i] : latest) {
    const bool failed_step = i < static_cast<int>(failed.size()) && failed[i];
    if (i > acked || failed_step) (*allowed)[key].insert(Value(kDamaged));
  }
}

// One power loss: a crash after `crash_after` sync points (0: none), or an
// EIO at the `fail_sync`-th fdatasync with the workload going on (-1: none).
Outcome PowerLoss(const Config& config, const Model& model,
                  uint64_t crash_after, int64_t fail_sync, uint64_t seed) {
  std::unique_ptr<Env> mem = NewMemEnv();
  std::unique_ptr<Driver> d = config.make();
  // The engine creates its own directory where the model makes that matter.
  if (!model.dirs_need_parent_sync || !d->CreatesDir())
    REQUIRE(mem->CreateDirs("/db").ok());
  FaultInjectionEnv env(mem.get());
  env.SetModel(model);
  if (crash_after > 0) env.CrashAfterSyncs(crash_after);
  if (fail_sync >= 0)
    env.FailOnce(Op::kDataSync, static_cast<uint64_t>(fail_sync),
                 Status::IOError("injected: fdatasync EIO"));
  const std::vector<Step> w = Workload();
  int acked = -1;
  int last = -1;
  std::vector<bool> failed;
  const int ok_after_error =
      Run(d.get(), &env, w, fail_sync >= 0, &acked, &last, &failed);
  Outcome out;
  out.crashed = crash_after > 0 ? env.crashed() : env.injected_failures() > 0;
  out.sync_points = env.sync_points();
  d->Close().IgnoreError();
  Status s = env.SimulatePowerLoss(
      FaultInjectionEnv::PowerLossMode::kDropUnsynced, seed);
  if (!s.ok()) return {"power loss: " + s.ToString()};
  std::unique_ptr<Driver> again = config.make();
  s = again->Open(&env);
  if (!s.ok()) {
    out.failure = "reopen failed: " + s.ToString() +
                  " (files:" + ListFiles(mem.get(), "/db") + "; " +
                  std::to_string(ok_after_error) +
                  " steps returned OK after the injected error)";
    return out;
  }
  AllowedValues allowed = Allowed(w, acked, last, failed);
  DamageAsValue checked(again.get());
  if (DamageIsAnError(config))
    AllowDamageInDoubt(w, acked, last, failed, &allowed);
  out.failure = Verify(&checked, allowed);
  if (!out.failure.empty() && fail_sync >= 0)
    out.failure += " (" + std::to_string(ok_after_error) +
                   " steps returned OK after the failed fdatasync)";
  s = again->Close();
  if (out.failure.empty() && !s.ok()) out.failure = "close: " + s.ToString();
  return out;
}

// Cases that fail today for a reason reported to the lead: printed loudly
// instead of failing, and printed once they pass. `variant` is a Variant name
// or "fsync-gate".
const char* KnownFailure(const Config& config, const std::string& variant) {
  (void)config;
  (void)variant;
  return nullptr;
}

// Prints a known failure's tally (nothing if `known` is null).
void ReportKnown(const char* known, const std::string& what, uint64_t failures,
                 uint64_t points, const std::string& first) {
  if (known == nullptr) return;
  if (failures == 0) {
    WARN("KNOWN FAILURE NOW PASSES (remove it from KnownFailure): " << what);
    return;
  }
  WARN("*** KNOWN FAILURE *** " << what << ": " << failures << " of " << points
                                << " power losses break the contract. Cause: "
                                << known << ". First: " << first);
}

// Every crash point of one configuration under one model; returns the points.
uint64_t CheckCrashPoints(const Config& config, const Variant& v) {
  const char* known = KnownFailure(config, v.name);
  const Outcome dry = PowerLoss(config, v.model, 0, -1, 0);
  {
    INFO(config.name << ", " << v.name << ", no crash");
    if (known == nullptr) CHECK(dry.failure == "");
    REQUIRE(dry.sync_points > 0);
  }
  uint64_t points = 0;
  uint64_t failures = dry.failure.empty() ? 0 : 1;
  std::string first = dry.failure.empty() ? "" : "no crash: " + dry.failure;
  for (uint64_t k = 1; k <= dry.sync_points; ++k) {
    for (uint64_t seed = 0; seed < v.seeds; ++seed) {
      const Outcome o = PowerLoss(config, v.model, k, -1, seed);
      INFO(config.name << ", " << v.name << ": crash after sync point " << k
                       << " of " << dry.sync_points << ", seed " << seed);
      CHECK(o.crashed);  // every counted point is reached
      ++points;
      if (known == nullptr) {
        CHECK(o.failure == "");
      } else if (!o.failure.empty() && failures++ == 0) {
        first = "sync point " + std::to_string(k) + ": " + o.failure;
      }
    }
  }
  ReportKnown(known, config.name + ", " + v.name, failures, points + 1, first);
  return points;
}

// The fsync-gate: an EIO at each fdatasync in turn, the workload going on.
uint64_t CheckFsyncGate(const Config& config) {
  const char* known = KnownFailure(config, "fsync-gate");
  uint64_t points = 0;
  uint64_t failures = 0;
  std::string first;
  for (int64_t k = 0;; ++k) {
    const Outcome o = PowerLoss(config, Model{}, 0, k, 0);
    if (!o.crashed) break;  // past the last fdatasync
    ++points;
    REQUIRE(k < 10000);
    if (known != nullptr) {
      if (!o.failure.empty() && failures++ == 0)
        first = "#" + std::to_string(k) + ": " + o.failure;
      continue;
    }
    INFO(config.name << ": fsync-gate, EIO at fdatasync #" << k);
    CHECK(o.failure == "");
  }
  ReportKnown(known, config.name + ", fsync-gate", failures, points, first);
  return points;
}

void CheckEngine(const std::string& engine) {
  int configs = 0;
  for (const Config& c : AllConfigs()) {
    if (c.name.rfind(engine + " ", 0) != 0) continue;
    ++configs;
    uint64_t points = 0;
    for (const Variant& v : Variants()) points += CheckCrashPoints(c, v);
    const uint64_t gate = CheckFsyncGate(c);
    WARN(c.name << ": " << points << " power losses under the file-system "
                << "models, " << gate << " fsync-gate points");
  }
  CHECK(configs > 0);
}

TEST_CASE("linhash keeps what it made durable in every power state",
          "[reliability][power]") {
  CheckEngine("linhash");
}

TEST_CASE("typedmap keeps what it made durable in every power state",
          "[reliability][power]") {
  CheckEngine("typedmap");
}

TEST_CASE("fileperkey keeps what it made durable in every power state",
          "[reliability][power]") {
  CheckEngine("fileperkey");
}

}  // namespace
}  // namespace kvb::reliability
