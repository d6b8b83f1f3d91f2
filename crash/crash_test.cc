// Tests of `kvbench crash`: the oracle's judgements on hand-made histories,
// real kill -9 trials on persistent engines (no violation expected), and
// deliberately broken adapters that the checker must catch.
#include "crash/crash.h"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "adapters/registry.h"
#include "core/testing/test_util.h"
#include "workloads/keyset.h"

namespace kvb {
namespace {

// Feeds "issue" (and optionally "ack") of op `seq` on `key`.
struct Script {
  CrashOracle* oracle;
  void Issue(uint64_t seq, uint64_t key, uint32_t version, bool del = false) {
    REQUIRE_OK(oracle->Add(CrashEvent{CrashEventKind::kIssue,
                                      static_cast<uint8_t>(del), 0, version,
                                      key, seq}));
  }
  void Ack(uint64_t seq, uint64_t key) {
    REQUIRE_OK(
        oracle->Add(CrashEvent{CrashEventKind::kAck, 0, 0, 0, key, seq}));
  }
  void Apply(uint64_t seq, uint64_t key, uint32_t version, bool del = false) {
    Issue(seq, key, version, del);
    Ack(seq, key);
  }
  void Sync(uint64_t id, bool done = true) {
    REQUIRE_OK(
        oracle->Add(CrashEvent{CrashEventKind::kSyncStart, 0, 0, 0, 0, id}));
    if (done) {
      REQUIRE_OK(
          oracle->Add(CrashEvent{CrashEventKind::kSyncDone, 0, 0, 0, 0, id}));
    }
  }
};

RecoveredKey Absent() { return RecoveredKey{RecoveredKey::kAbsent, 0}; }
RecoveredKey Version(uint32_t v) {
  return RecoveredKey{RecoveredKey::kVersion, v};
}
RecoveredKey Foreign() { return RecoveredKey{RecoveredKey::kForeign, 0}; }

bool Lost(const CrashOracle::Verdict& v) {
  return !v.ok && v.violation == Violation::kLostDurable;
}
bool Invented(const CrashOracle::Verdict& v) {
  return !v.ok && v.violation == Violation::kInvented;
}

TEST_CASE("sync model: acked ops are durable, the in-flight one may land",
          "[crash][oracle]") {
  CrashOracle o(3, /*durable_acks=*/true);
  Script s{&o};
  s.Apply(0, 0, 1);
  s.Apply(1, 0, 2);
  s.Issue(2, 0, 3);  // in flight at the kill
  s.Apply(3, 1, 1);
  s.Apply(4, 1, 2, /*del=*/true);
  CHECK(o.issued() == 5);
  CHECK(o.acked() == 4);
  CHECK(o.durable_acks() == 4);

  CHECK(o.Check(0, Version(2)).ok);
  CHECK(o.Check(0, Version(3)).ok);  // the unacknowledged op landed
  CHECK(Lost(o.Check(0, Version(1))));
  CHECK(Lost(o.Check(0, Absent())));
  CHECK(Invented(o.Check(0, Version(4))));
  CHECK(Invented(o.Check(0, Foreign())));

  CHECK(o.Check(1, Absent()).ok);
  CHECK(Lost(o.Check(1, Version(1))));      // the durable delete was lost
  CHECK(Invented(o.Check(1, Version(2))));  // v2 was a delete, not a value

  CHECK(o.Check(2, Absent()).ok);  // never written
  CHECK(Invented(o.Check(2, Version(1))));
}

TEST_CASE("none model: only acks before a completed sync are durable",
          "[crash][oracle]") {
  CrashOracle o(2, /*durable_acks=*/false);
  Script s{&o};
  s.Apply(0, 0, 1);
  s.Sync(0);
  s.Apply(1, 0, 2);
  s.Apply(2, 1, 1);
  s.Sync(1, /*done=*/false);  // killed inside Sync: covers nothing
  s.Apply(3, 0, 3, /*del=*/true);
  CHECK(o.durable_acks() == 1);
  CHECK(o.syncs() == 1);

  CrashOracle::Verdict v = o.Check(0, Version(1));
  CHECK(v.ok);
  CHECK(v.lost_acked);  // allowed, but reported as information
  CHECK(o.Check(0, Version(2)).ok);
  CHECK(o.Check(0, Absent()).ok);  // the later delete landed
  CHECK_FALSE(o.Check(0, Absent()).lost_acked);
  CHECK(o.Check(1, Absent()).ok);  // unsynced
  CHECK(o.Check(1, Absent()).lost_acked);
  CHECK(o.Check(1, Version(1)).ok);

  CrashOracle o2(1, false);
  Script s2{&o2};
  s2.Apply(0, 0, 1);
  s2.Apply(1, 0, 2);
  s2.Sync(0);
  CHECK(Lost(o2.Check(0, Version(1))));
  CHECK(Lost(o2.Check(0, Absent())));
}

TEST_CASE("prefix consistency across keys", "[crash][oracle]") {
  CrashOracle o(3, /*durable_acks=*/false);
  Script s{&o};
  s.Apply(0, 0, 1);                // a = v1
  s.Apply(1, 1, 1);                // b = v1
  s.Apply(2, 0, 2);                // a = v2
  s.Apply(3, 1, 2, /*del=*/true);  // b deleted
  // Nothing synced: any prefix 0..4 is allowed.
  CHECK(o.PrefixConsistent({Absent(), Absent(), Absent()}));      // L = 0
  CHECK(o.PrefixConsistent({Version(1), Version(1), Absent()}));  // L = 2
  CHECK(o.PrefixConsistent({Version(2), Absent(), Absent()}));    // L = 4
  // b's first put without a's first put: op 1 applied but not op 0.
  CHECK_FALSE(o.PrefixConsistent({Absent(), Version(1), Absent()}));
  // a = v2 needs L >= 3; b absent then needs its delete (L = 4): fine.
  CHECK(o.PrefixConsistent({Version(2), Absent(), Absent()}));
  // a = v1 and b absent: L = 1 (b not yet written).
  CHECK(o.PrefixConsistent({Version(1), Absent(), Absent()}));
  // A key never written cannot hold anything.
  CHECK_FALSE(o.PrefixConsistent({Version(2), Version(1), Version(1)}));
  CHECK(o.PrefixConsistent({Version(2), Version(1), Absent()}));  // L = 3

  // A completed sync after op 1 forbids L < 2.
  CrashOracle p(2, false);
  Script t{&p};
  t.Apply(0, 0, 1);
  t.Apply(1, 1, 1);
  t.Sync(0);
  t.Apply(2, 0, 2);
  CHECK_FALSE(p.PrefixConsistent({Absent(), Absent()}));
  CHECK(p.PrefixConsistent({Version(1), Version(1)}));
  CHECK(p.PrefixConsistent({Version(2), Version(1)}));
}

TEST_CASE("settling a round makes the recovered state the new floor",
          "[crash][oracle]") {
  CrashOracle o(3, /*durable_acks=*/false);
  Script s{&o};
  s.Apply(0, 0, 1);
  s.Apply(1, 0, 2);  // unsynced: lost at the kill
  s.Apply(2, 1, 1);
  s.Apply(3, 1, 2, /*del=*/true);
  s.Issue(4, 2, 1);  // in flight, did not land
  o.Settle({Version(1), Absent(), Absent()});
  CHECK(o.next_version() == 3);
  CHECK(o.next_seq() == 5);
  // The next child writes key 2 only; key 0 must stay at v1 now.
  s.Apply(5, 2, 3);
  CHECK(o.Check(0, Version(1)).ok);
  CHECK(Invented(o.Check(0, Version(2))));  // dropped: never landed
  CHECK(Lost(o.Check(0, Absent())));
  CHECK(o.Check(1, Absent()).ok);
  CHECK(Lost(o.Check(1, Version(1))));  // resurrected before the delete
  CHECK(Invented(o.Check(2, Version(1))));
  CHECK(o.Check(2, Version(3)).ok);
  CHECK(o.Check(2, Absent()).ok);  // unsynced
  CHECK(o.PrefixConsistent({Version(1), Absent(), Absent()}));
  CHECK(o.PrefixConsistent({Version(1), Absent(), Version(3)}));
}

TEST_CASE("malformed child reports are refused", "[crash][oracle]") {
  CrashOracle o(2, true);
  CHECK(o.Add(CrashEvent{CrashEventKind::kAck, 0, 0, 1, 0, 7}).IsCorruption());
  CHECK(
      o.Add(CrashEvent{CrashEventKind::kIssue, 0, 0, 1, 5, 0}).IsCorruption());
  REQUIRE_OK(o.Add(CrashEvent{CrashEventKind::kIssue, 0, 0, 2, 0, 0}));
  CHECK(
      o.Add(CrashEvent{CrashEventKind::kIssue, 0, 0, 2, 0, 1}).IsCorruption());
  CHECK(o.Add(CrashEvent{CrashEventKind::kSyncDone, 0, 0, 0, 0, 3})
            .IsCorruption());
}

// Delegates everything to a real adapter; subclasses break Get.
class Wrapper : public Adapter {
 public:
  explicit Wrapper(std::unique_ptr<Adapter> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  Capabilities capabilities() const override { return inner_->capabilities(); }
  Status Close() override { return inner_->Close(); }
  Status Put(std::string_view k, std::string_view v) override {
    return inner_->Put(k, v);
  }
  Status Get(std::string_view k, std::string* v) override {
    return inner_->Get(k, v);
  }
  Status Delete(std::string_view k) override { return inner_->Delete(k); }
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override {
    return inner_->Scan(start, limit, cb);
  }
  Status Sync() override { return inner_->Sync(); }

 protected:
  std::unique_ptr<Adapter> inner_;
};

// Loses every other key after recovery, as an engine that drops acknowledged
// writes would.
class LosingAdapter : public Wrapper {
 public:
  using Wrapper::Wrapper;
  Status Get(std::string_view k, std::string* v) override {
    if (std::hash<std::string_view>()(k) % 2 == 0) return Status::NotFound();
    return inner_->Get(k, v);
  }
};

// Answers for every key with the value stored under another key.
class ForeignAdapter : public Wrapper {
 public:
  using Wrapper::Wrapper;
  Status Get(std::string_view k, std::string* v) override {
    Status s = inner_->Get(k, v);
    if (!s.ok()) return s;
    if (!last_.empty())
      std::swap(*v, last_);
    else
      last_ = *v;
    return s;
  }

 private:
  std::string last_;
};

CrashOptions SmallRun(const std::string& data_dir) {
  CrashOptions o;
  o.trials = 3;
  o.keys = 200;
  o.seed = 7;
  o.kill_min_ms = 20;
  o.kill_max_ms = 150;
  o.sync_every = 20;
  o.data_dir = data_dir;
  o.child_exe = KVB_KVBENCH_EXE;
  o.quiet = true;
  return o;
}

template <typename Broken>
std::function<Result<std::unique_ptr<Adapter>>(const std::string&,
                                               const std::string&)>
Make() {
  return [](const std::string& spec,
            const std::string& dir) -> Result<std::unique_ptr<Adapter>> {
    Result<std::unique_ptr<Adapter>> a = OpenAdapter(spec, dir);
    if (!a.ok()) return a.status();
    return std::unique_ptr<Adapter>(new Broken(std::move(*a)));
  };
}

TEST_CASE("real engines survive kill -9 without violations", "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.engines = {"linhash", "lmdb", "linhash:durability=memory", "memory"};
  o.durability = {Durability::kSync, 0};
  REQUIRE_OK(ResolveCrashOptions(&o));
  std::ostringstream log;
  Result<CrashReport> r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  INFO(log.str());
  REQUIRE(r->engines.size() == 4);
  for (int e = 0; e < 3; ++e) {
    const CrashEngineResult& res = r->engines[e];
    INFO(res.spec);
    CHECK(res.skipped.empty());
    REQUIRE(res.trials.size() == 3);
    CHECK_FALSE(res.failed());
    for (const CrashTrial& t : res.trials) {
      CHECK(t.child_error.empty());
      CHECK(t.recovery_ms >= 0);
      CHECK(t.acked > 0);
      CHECK(t.prefix_checked);
    }
  }
  CHECK(r->engines[0].model == "every-ack");
  CHECK(r->engines[2].model == "synced-only");
  CHECK(r->engines[3].skipped.find("not persistent") != std::string::npos);
  CHECK_FALSE(r->failed());
  nlohmann::json j = CrashReportJson(*r);
  CHECK(j["passed"] == true);
  CHECK(j["engines"][0]["engine"] == "linhash:durability=sync");
  CHECK(j["engines"][0]["violations"]["lost_durable"] == 0);
  // Trial databases of clean trials are removed.
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("class process: every acknowledged op survives kill -9",
          "[crash]") {
  // The class a suite runs at by default: a killed process may not lose an
  // acknowledged write, whatever the engine (core/durability.h).
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.durability = {Durability::kProcess, 0};
  o.engines = {"linhash", "typedmap", "lmdb", "fileperkey",
               "linhash:durability=periodic:20"};
  for (const char* ref : {"rocksdb", "leveldb", "sqlite"}) {
    const AdapterInfo* info = FindAdapter(ref);
    if (info != nullptr && info->built) o.engines.push_back(ref);
  }
  REQUIRE_OK(ResolveCrashOptions(&o));
  std::ostringstream log;
  Result<CrashReport> r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  INFO(log.str());
  for (const CrashEngineResult& res : r->engines) {
    INFO(res.spec);
    CHECK(res.skipped.empty());
    CHECK(res.model == "every-ack");
    CHECK(res.trials.size() == 3);
    CHECK_FALSE(res.failed());
  }
  // A user-space append buffer is not this class: refused before any trial.
  o.engines = {"linhash:write_buffer_kb=64"};
  CHECK(ResolveCrashOptions(&o).IsInvalidArgument());
}

TEST_CASE("several kills on one database (recovery after recovery)",
          "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 2;
  o.rounds = 3;
  o.kill_max_ms = 80;
  o.engines = {"linhash:durability=memory", "lmdb:durability=sync"};
  REQUIRE_OK(ResolveCrashOptions(&o));
  std::ostringstream log;
  Result<CrashReport> r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  INFO(log.str());
  for (const CrashEngineResult& res : r->engines) {
    CHECK_FALSE(res.failed());
    for (const CrashTrial& t : res.trials) CHECK(t.rounds == 3);
  }
  // A broken engine is still caught in a later round.
  o.engines = {"lmdb"};
  o.open_for_check =
      [](const std::string& spec,
         const std::string& dir) -> Result<std::unique_ptr<Adapter>> {
    static int opens = 0;
    Result<std::unique_ptr<Adapter>> a = OpenAdapter(spec, dir);
    if (!a.ok() || ++opens % 3 != 0) return a;
    return std::unique_ptr<Adapter>(new LosingAdapter(std::move(*a)));
  };
  REQUIRE_OK(ResolveCrashOptions(&o));
  r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  CHECK(r->engines[0].Violations(Violation::kLostDurable) > 0);
  CHECK(r->engines[0].trials[0].rounds == 3);
}

TEST_CASE("several child writer threads", "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 2;
  o.threads = 2;
  o.engines = {"linhash:durability=memory", "typedmap:durability=sync"};
  REQUIRE_OK(ResolveCrashOptions(&o));
  std::ostringstream log;
  Result<CrashReport> r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  INFO(log.str());
  for (const CrashEngineResult& res : r->engines) {
    CHECK_FALSE(res.failed());
    CHECK_FALSE(res.prefix_checked);  // no single order of ops to check
    for (const CrashTrial& t : res.trials) CHECK(t.acked > 0);
  }
}

TEST_CASE("an engine that loses acknowledged writes is caught", "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 2;
  o.engines = {"linhash"};
  o.open_for_check = Make<LosingAdapter>();
  REQUIRE_OK(ResolveCrashOptions(&o));
  std::ostringstream log;
  Result<CrashReport> r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  const CrashEngineResult& res = r->engines[0];
  CHECK(res.Violations(Violation::kLostDurable) > 0);
  CHECK(res.Violations(Violation::kInvented) == 0);
  CHECK(r->failed());
  CHECK(log.str().find("lost_durable") != std::string::npos);
  // The failed trial keeps its database for a post-mortem.
  CHECK_FALSE(res.trials[0].kept_dir.empty());
  CHECK(std::filesystem::exists(res.trials[0].kept_dir));
}

TEST_CASE("an engine that returns a foreign value is caught", "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 2;
  o.engines = {"lmdb"};
  o.open_for_check = Make<ForeignAdapter>();
  REQUIRE_OK(ResolveCrashOptions(&o));
  std::ostringstream log;
  Result<CrashReport> r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  CHECK(r->engines[0].Violations(Violation::kInvented) > 0);
  CHECK(r->failed());
}

TEST_CASE("a child that cannot start is a failed trial", "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 1;
  o.engines = {"lmdb"};
  o.child_exe = dir.Sub("no-such-kvbench");
  REQUIRE_OK(ResolveCrashOptions(&o));
  std::ostringstream log;
  Result<CrashReport> r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  REQUIRE(r->engines[0].trials.size() == 1);
  const CrashTrial& t = r->engines[0].trials[0];
  CHECK(t.child_error.find("cannot execute") != std::string::npos);
  CHECK(t.child_error.find("No such file") != std::string::npos);
  CHECK(r->failed());
}

// Issue 14 item 8: a run that tested nothing used to exit 0 with passed: true.
TEST_CASE("a run where every engine was skipped is untested, not passed",
          "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 1;
  o.engines = {"memory"};
  REQUIRE_OK(ResolveCrashOptions(&o));
  std::ostringstream log;
  Result<CrashReport> r = RunCrash(o, log);
  REQUIRE_OK(r.status());
  REQUIRE_FALSE(r->engines[0].skipped.empty());
  CHECK(r->Verdict() == CrashVerdict::kUntested);
  CHECK(r->failed());
  CHECK(r->VerdictReason().find("every engine was skipped") !=
        std::string::npos);
  nlohmann::json j = CrashReportJson(*r);
  CHECK(j["passed"] == false);
  CHECK(j["verdict"] == "untested");
  std::ostringstream table;
  PrintCrashTable(table, *r);
  CHECK(table.str().find("verdict: untested") != std::string::npos);

  // The CLI exits non-zero for it.
  std::string cmd = std::string(KVB_KVBENCH_EXE) +
                    " crash --engines memory --trials 1 --quiet --out " +
                    dir.Sub("cli") + " >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 1);
}

CrashReport OneEngine(std::vector<uint64_t> acked) {
  CrashReport r;
  CrashEngineResult e;
  e.spec = "linhash:durability=sync";
  for (uint64_t a : acked) {
    CrashTrial t;
    t.acked = a;
    e.trials.push_back(t);
  }
  r.engines.push_back(e);
  return r;
}

TEST_CASE("trials that acknowledged 0 or 1 ops are untested", "[crash]") {
  CHECK(OneEngine({5, 2}).Verdict() == CrashVerdict::kPassed);
  CHECK_FALSE(OneEngine({5, 2}).failed());
  for (uint64_t few : {0, 1}) {
    CrashReport r = OneEngine({50, few});
    CHECK(r.Verdict() == CrashVerdict::kUntested);
    CHECK(r.failed());
    CHECK(r.engines[0].UntestedTrials() == 1);
    CHECK(r.VerdictReason().find("1 trial(s)") != std::string::npos);
    nlohmann::json j = CrashReportJson(r);
    CHECK(j["passed"] == false);
    CHECK(j["engines"][0]["untested_trials"] == 1);
  }
  // No engine at all, and a violation (failed wins over untested).
  CHECK(CrashReport().Verdict() == CrashVerdict::kUntested);
  CrashReport bad = OneEngine({0, 9});
  bad.engines[0].trials[1].violations[int(Violation::kLostDurable)] = 3;
  CHECK(bad.Verdict() == CrashVerdict::kFailed);
  CHECK(CrashReportJson(bad)["verdict"] == "failed");
}

TEST_CASE("bad crash options get one-line errors", "[crash]") {
  CrashOptions o;
  o.engines = {"nosuchdb"};
  Status s = ResolveCrashOptions(&o);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("unknown adapter 'nosuchdb'") != std::string::npos);
  o.engines = {"linhash:bogus=1"};
  CHECK(ResolveCrashOptions(&o).IsInvalidArgument());
  o.engines = {};
  CHECK(ResolveCrashOptions(&o).IsInvalidArgument());
  o.engines = {"linhash:durability=memory"};
  REQUIRE_OK(ResolveCrashOptions(&o));
  CHECK(o.engines[0] == "linhash:durability=memory");  // the spec's own wins
  o.engines = {"lmdb"};
  o.durability = {Durability::kProcess, 0};
  REQUIRE_OK(ResolveCrashOptions(&o));
  CHECK(o.engines[0] == "lmdb:durability=process");
  o.engines = {"lmdb"};
  o.durability = {Durability::kMemory, 0};  // lmdb refuses memory
  CHECK(ResolveCrashOptions(&o).IsInvalidArgument());
}

TEST_CASE("bad --kill-at and --kill-phase values are refused", "[crash]") {
  CrashOptions o;
  for (const char* bad : {"ops:0-5", "ops:9-5", "ops:-3", "ops:", "ms:1-2",
                          "ops:1-", "ops:1-2x", "5"}) {
    INFO(bad);
    Status s = ParseKillAt(bad, &o);
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find('\n') == std::string::npos);
  }
  REQUIRE_OK(ParseKillAt("ops:10-20", &o));
  CHECK(o.kill_min_ops == 10);
  CHECK(o.kill_max_ops == 20);
  REQUIRE_OK(ParseKillAt("ops:7", &o));
  CHECK(o.kill_min_ops == 7);
  CHECK(o.kill_max_ops == 7);
  CHECK(ParseKillPhase("recovery").value() == KillPhase::kRecovery);
  CHECK(ParseKillPhase("reopen").status().IsInvalidArgument());
  // The CLI exits 2 with one line.
  std::string cmd = std::string(KVB_KVBENCH_EXE) +
                    " crash --engines linhash --kill-phase nope 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(cmd.c_str())) == 2);
  cmd = std::string(KVB_KVBENCH_EXE) +
        " crash --engines linhash --kill-at ops:9-5 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(cmd.c_str())) == 2);
}

// Resolves and runs `o` (progress into `log`); the run must not error.
CrashReport ResolveAndRun(CrashOptions* o, std::ostringstream* log) {
  REQUIRE_OK(ResolveCrashOptions(o));
  Result<CrashReport> r = RunCrash(*o, *log);
  REQUIRE_OK(r.status());
  return std::move(*r);
}

TEST_CASE("an op-count kill replays from the trial seed", "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 2;
  o.kill_min_ops = 5;
  o.kill_max_ops = 400;
  o.engines = {"linhash"};
  std::ostringstream log;
  CrashReport first = ResolveAndRun(&o, &log);
  INFO(log.str());
  const CrashTrial& t = first.engines[0].trials[1];
  CHECK_FALSE(first.failed());
  CHECK(t.kill_at_op >= 5);
  CHECK(t.kill_at_op <= 400);
  // The child died right after its kill_at_op-th ack.
  CHECK(t.acked == t.kill_at_op);
  // Trial 2 again, alone, from its printed seed: the same kill point.
  o.trial_seed = t.seed;
  o.trials = 1;
  CrashReport again = ResolveAndRun(&o, &log);
  const CrashTrial& r = again.engines[0].trials[0];
  CHECK(r.seed == t.seed);
  CHECK(r.kill_at_op == t.kill_at_op);
  CHECK(r.acked == t.acked);
  CHECK(r.issued == t.issued);
  CHECK(CrashReportJson(again)["engines"][0]["trial_results"][0]["kill_mode"] ==
        "ops");
}

TEST_CASE("kills during open, close and a second recovery pass", "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 2;
  o.kill_max_ms = 60;
  o.open_kill_max_ms = 15;
  o.engines = {"linhash", "typedmap:durability=process", "fileperkey"};
  for (KillPhase phase :
       {KillPhase::kOpen, KillPhase::kClose, KillPhase::kRecovery}) {
    o.phase = phase;
    std::ostringstream log;
    CrashReport r = ResolveAndRun(&o, &log);
    INFO(KillPhaseName(phase) << "\n" << log.str());
    CHECK_FALSE(r.failed());
    size_t reopens = phase == KillPhase::kRecovery ? 2 : 1;
    for (const CrashEngineResult& res : r.engines) {
      for (const CrashTrial& t : res.trials) {
        CHECK(t.phase == phase);
        CHECK(t.reopen_kill_ms.size() == reopens);
        CHECK(t.recovery_ms >= 0);
        // Only a closing child can be killed inside Close, at most once.
        CHECK(t.kills_in_close <= (phase == KillPhase::kClose ? 1u : 0u));
        CHECK(t.kills_in_open <= (phase == KillPhase::kClose ? 0u : reopens));
      }
    }
    nlohmann::json j = CrashReportJson(r);
    CHECK(j["engines"][0]["trial_results"][0].contains("kills_in_close"));
    std::ostringstream table;
    PrintCrashTable(table, r);
    CHECK(table.str().find("kills_in_close") != std::string::npos);
    CHECK(j["engines"][0]["trial_results"][0]["phase"] ==
          std::string(KillPhaseName(phase)));
  }
}

TEST_CASE("a losing engine is caught after a kill during recovery", "[crash]") {
  testing::TempDir dir;
  CrashOptions o = SmallRun(dir.path());
  o.trials = 1;
  o.kill_max_ms = 60;
  o.phase = KillPhase::kRecovery;
  o.engines = {"linhash"};
  o.open_for_check = Make<LosingAdapter>();
  std::ostringstream log;
  CrashReport r = ResolveAndRun(&o, &log);
  CHECK(r.failed());
  CHECK(r.engines[0].Violations(Violation::kLostDurable) > 0);
  // The failure prints its seed and a replay command.
  CHECK(log.str().find("replay: kvbench crash --engines") != std::string::npos);
  CHECK(log.str().find("--kill-phase recovery") != std::string::npos);
  CHECK(r.engines[0].trials[0].replay.find("--trial-seed") !=
        std::string::npos);
}

}  // namespace
}  // namespace kvb
