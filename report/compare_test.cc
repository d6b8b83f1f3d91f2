#include "report/compare.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/testing/test_util.h"
#include "report/commands.h"
#include "report/fixtures.h"
#include "results/file.h"

namespace kvb::report {
namespace {

using testing::FixtureContext;
using testing::FixturePoint;
using testing::MakeResults;
using testing::WriteJson;

FixturePoint Pt(const std::string& engine, std::vector<double> ops) {
  FixturePoint p;
  p.engine = engine;
  p.ops_per_s = std::move(ops);
  return p;
}

const std::vector<double> kBase = {100, 102, 98, 101, 99};

struct GateRun {
  int rc;
  std::string out, err;
};

GateRun Gate(const std::vector<FixturePoint>& base,
             const std::vector<FixturePoint>& next,
             std::vector<std::string> flags = {},
             const FixtureContext& bctx = {}, const FixtureContext& nctx = {}) {
  kvb::testing::TempDir dir("kvb-report-gate");
  REQUIRE(WriteJson(dir.Sub("base.json"), MakeResults(base, bctx)));
  REQUIRE(WriteJson(dir.Sub("new.json"), MakeResults(next, nctx)));
  std::vector<std::string> args = {dir.Sub("base.json"), dir.Sub("new.json"),
                                   "--gate"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::ostringstream out, err;
  int rc = RunCompareCommand(args, out, err);
  return {rc, out.str(), err.str()};
}

TEST_CASE("gate passes an A/A pair", "[gate]") {
  GateRun r = Gate({Pt("lmdb", kBase)}, {Pt("lmdb", {101, 99, 100, 103, 97})});
  INFO(r.out);
  CHECK(r.rc == kExitOk);
  CHECK(r.out.find("threshold 30%") !=
        std::string::npos);  // the calibrated default
  CHECK(r.out.find("no significant change") != std::string::npos);
  CHECK(r.out.find("gate: pass") != std::string::npos);
}

TEST_CASE("gate fails a significant slowdown beyond the threshold with exit 1",
          "[gate]") {
  std::vector<double> slow = {80, 81, 79, 82, 78};  // -20 %
  GateRun r =
      Gate({Pt("lmdb", kBase)}, {Pt("lmdb", slow)}, {"--threshold", "10"});
  INFO(r.out);
  CHECK(r.rc == kExitRegression);
  CHECK(r.out.find("REGRESSION") != std::string::npos);
  // Significant but smaller than the threshold: reported as slower, not a
  // failure.
  GateRun lax =
      Gate({Pt("lmdb", kBase)}, {Pt("lmdb", slow)}, {"--threshold", "30"});
  CHECK(lax.rc == kExitOk);
  CHECK(lax.out.find("slower") != std::string::npos);
  // Faster is never a failure.
  GateRun fast =
      Gate({Pt("lmdb", kBase)}, {Pt("lmdb", {150, 151, 149, 152, 148})});
  CHECK(fast.rc == kExitOk);
  CHECK(fast.out.find("faster") != std::string::npos);
}

TEST_CASE("gate does not fail on a slowdown it cannot show to be significant",
          "[gate]") {
  // 3 vs 3 repetitions: the smallest possible two-sided p is 0.1.
  GateRun r = Gate({Pt("lmdb", {100, 101, 99})}, {Pt("lmdb", {50, 51, 49})});
  INFO(r.out);
  // Issue 16: this exited 0, so a suite run with too few repetitions passed
  // the gate unseen; it now has its own non-zero code.
  CHECK(r.rc == kExitTooFewReps);
  CHECK(r.out.find("too few repetitions") != std::string::npos);
  CHECK(r.out.find("gate: FAIL: too few repetitions") != std::string::npos);
}

TEST_CASE("gate: a benchmark missing from NEW is exit 3", "[gate]") {
  GateRun r =
      Gate({Pt("lmdb", kBase), Pt("sqlite", kBase)}, {Pt("lmdb", kBase)});
  INFO(r.out);
  CHECK(r.rc == kExitMissing);
  CHECK(r.out.find("MISSING in NEW: read-heavy/sqlite") != std::string::npos);
}

TEST_CASE("gate: mismatches or errors in NEW are exit 4", "[gate]") {
  FixturePoint bad = Pt("lmdb", kBase);
  bad.mismatches = 3;
  GateRun r = Gate({Pt("lmdb", kBase)}, {bad});
  INFO(r.out);
  CHECK(r.rc == kExitCorrectness);
  CHECK(r.out.find("CORRECTNESS") != std::string::npos);
  FixturePoint err = Pt("lmdb", kBase);
  err.errors = 1;
  CHECK(Gate({Pt("lmdb", kBase)}, {err}).rc == kExitCorrectness);
}

TEST_CASE("gate: a different machine or build type is exit 5", "[gate]") {
  FixtureContext other_cpu;
  other_cpu.cpu_model = "Intel Xeon";
  GateRun r = Gate({Pt("lmdb", kBase)}, {Pt("lmdb", kBase)}, {}, {}, other_cpu);
  INFO(r.out);
  CHECK(r.rc == kExitIncomparable);
  CHECK(r.out.find("different machine") != std::string::npos);
  FixtureContext debug;
  debug.build_type = "Debug";
  GateRun d = Gate({Pt("lmdb", kBase)}, {Pt("lmdb", kBase)}, {}, {}, debug);
  CHECK(d.rc == kExitIncomparable);
  CHECK(d.out.find("different build type") != std::string::npos);
  // Allowed explicitly: the remaining classes decide.
  CHECK(Gate({Pt("lmdb", kBase)}, {Pt("lmdb", kBase)}, {"--allow-incomparable"},
             {}, debug)
            .rc == kExitOk);
  // Another host name of the same hardware is only a note.
  FixtureContext host;
  host.host = "runner-7";
  GateRun h = Gate({Pt("lmdb", kBase)}, {Pt("lmdb", kBase)}, {}, {}, host);
  CHECK(h.rc == kExitOk);
  CHECK(h.out.find("note: context differs: host_name") != std::string::npos);
}

TEST_CASE("gate: failure classes have a fixed precedence", "[gate]") {
  FixtureContext debug;
  debug.build_type = "Debug";
  FixturePoint bad = Pt("lmdb", {50, 51, 49, 52, 48});
  bad.mismatches = 1;
  // incomparable > correctness > missing > regression
  CHECK(
      Gate({Pt("lmdb", kBase), Pt("sqlite", kBase)}, {bad}, {}, {}, debug).rc ==
      kExitIncomparable);
  CHECK(Gate({Pt("lmdb", kBase), Pt("sqlite", kBase)}, {bad}).rc ==
        kExitCorrectness);
  CHECK(Gate({Pt("lmdb", kBase), Pt("sqlite", kBase)},
             {Pt("lmdb", {50, 51, 49, 52, 48})})
            .rc == kExitMissing);
}

TEST_CASE("without --gate, compare reports but exits 0", "[gate]") {
  kvb::testing::TempDir dir("kvb-report-cmp");
  REQUIRE(WriteJson(dir.Sub("a.json"), MakeResults({Pt("lmdb", kBase)})));
  REQUIRE(WriteJson(dir.Sub("b.json"),
                    MakeResults({Pt("lmdb", {50, 51, 49, 52, 48})})));
  std::ostringstream out, err;
  CHECK(RunCompareCommand(
            {dir.Sub("a.json"), dir.Sub("b.json"), "--json", dir.Sub("c.json")},
            out, err) == kExitOk);
  CHECK(out.str().find("slower") != std::string::npos);
  std::ifstream f(dir.Sub("c.json"));
  nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["rows"][0]["verdict"] == "slower");
  CHECK(j["exit_code"] == kExitRegression);
}

TEST_CASE("compare: bad input is exit 2 with a one-line error", "[gate]") {
  kvb::testing::TempDir dir("kvb-report-bad");
  REQUIRE(WriteJson(dir.Sub("a.json"), MakeResults({Pt("lmdb", kBase)})));
  REQUIRE(WriteJson(dir.Sub("other.json"), nlohmann::json{{"hello", 1}}));
  {
    std::ofstream f(dir.Sub("garbage.json"));
    f << "{not json";
  }
  auto run = [&](std::vector<std::string> args) {
    std::ostringstream out, err;
    int rc = RunCompareCommand(args, out, err);
    std::string e = err.str();
    CHECK(std::count(e.begin(), e.end(), '\n') == 1);
    return rc;
  };
  CHECK(run({dir.Sub("a.json"), dir.Sub("missing.json")}) == kExitUsage);
  CHECK(run({dir.Sub("a.json"), dir.Sub("other.json")}) == kExitUsage);
  CHECK(run({dir.Sub("a.json"), dir.Sub("garbage.json"), "--gate"}) ==
        kExitUsage);
  CHECK(run({dir.Sub("a.json")}) == kExitUsage);
  CHECK(run({dir.Sub("a.json"), dir.Sub("a.json"), "--threshold", "x"}) ==
        kExitUsage);
  CHECK(run({dir.Sub("a.json"), dir.Sub("a.json"), "--alpha", "2"}) ==
        kExitUsage);
  CHECK(run({dir.Sub("a.json"), dir.Sub("a.json"), "--bogus"}) == kExitUsage);
  std::ostringstream out, err;
  CHECK(RunReportCommand({dir.Sub("nowhere")}, out, err) == kExitUsage);
  CHECK(RunMergeCommand({dir.Sub("m.json"), dir.Sub("other.json")}, out, err) ==
        kExitUsage);
  CHECK(RunAbCommand({"a", "b"}, out, err) == kExitUsage);
}

TEST_CASE("instruction counts switch compare to the exact mode", "[gate]") {
  FixturePoint a = Pt("memory", kBase), b = Pt("memory", kBase);
  a.instructions = {1000, 1000, 1000, 1000, 1000};
  b.instructions = {1050, 1050, 1050, 1050, 1050};  // +5 %
  GateRun r = Gate({a}, {b}, {"--threshold", "2"});
  INFO(r.out);
  CHECK(r.out.find("mode: instructions (exact)") != std::string::npos);
  CHECK(r.rc == kExitRegression);
  CHECK(Gate({a}, {b}, {"--threshold", "10"}).rc == kExitOk);
  // Without the field on both sides: the statistical mode.
  // (The default time mode is now wall and CPU together, issue 16.)
  GateRun w = Gate({a}, {Pt("memory", kBase)});
  CHECK(w.out.find("mode: wall-clock and CPU time per op (Mann-Whitney U") !=
        std::string::npos);
  CHECK(Gate({a}, {Pt("memory", kBase)}, {"--metric", "wall"})
            .out.find("mode: wall-clock") != std::string::npos);
}

TEST_CASE("instruction mode gates one repetition per side deterministically",
          "[gate]") {
  FixtureContext cg;
  cg.instruction_counter = "callgrind";
  FixturePoint a = Pt("null", {100}), b = Pt("null", {100}),
               c = Pt("null", {100});
  a.instructions = {1000};
  b.instructions = {1050};  // +5 %: above the 2 % instruction default
  c.instructions = {1010};  // +1 %: below it
  GateRun r = Gate({a}, {b}, {}, cg, cg);
  INFO(r.out);
  CHECK(r.rc == kExitRegression);
  CHECK(r.out.find("threshold 2%") != std::string::npos);
  CHECK(r.out.find("instruction counts on both sides (callgrind)") !=
        std::string::npos);
  CHECK(r.out.find("no U test, one repetition per side suffices") !=
        std::string::npos);
  CHECK(r.out.find("too few repetitions") == std::string::npos);
  CHECK(Gate({a}, {c}, {}, cg, cg).rc == kExitOk);
  CHECK(Gate({a}, {a}, {}, cg, cg).rc == kExitOk);
  // An explicit threshold still wins.
  CHECK(Gate({a}, {b}, {"--threshold", "6"}, cg, cg).rc == kExitOk);
  // Fewer instructions is an improvement, never a failure.
  CHECK(Gate({b}, {a}, {}, cg, cg).rc == kExitOk);
  // Counts from two different counters are not comparable.
  FixtureContext perf;
  perf.instruction_counter = "perf";
  GateRun x = Gate({a}, {c}, {}, cg, perf);
  CHECK(x.rc == kExitIncomparable);
  CHECK(x.out.find("different instruction counter: callgrind vs perf") !=
        std::string::npos);
  // Counts on one side only: the statistical mode, and the output says why.
  GateRun y = Gate({a}, {Pt("null", {100})}, {}, cg, {});
  CHECK(y.out.find("instruction counts only in BASE") != std::string::npos);
  CHECK(y.out.find("mode: wall-clock and CPU time per op") !=
        std::string::npos);  // the default time mode (issue 16)
}

TEST_CASE("the per-repetition peak RSS is used when the harness measured it",
          "[model]") {
  // Fixtures: peak_rss_bytes 60e6, phase ends at 50e6.
  nlohmann::json old_file = MakeResults({Pt("lmdb", kBase)});
  nlohmann::json new_file = old_file;
  new_file["context"]["peak_rss_method"] =
      "VmHWM per repetition (reset through /proc/self/clear_refs)";
  Dataset a, b;
  AddResults(old_file, "old", &a);
  AddResults(new_file, "new", &b);
  REQUIRE(a.points.size() == 1);
  REQUIRE(b.points.size() == 1);
  CHECK(a.points[0].peak_rss.front() == 50e6);  // process-wide: phase ends
  CHECK(b.points[0].peak_rss.front() == 60e6);  // per repetition: the peak
  CHECK_FALSE(a.points[0].rss_is_peak);
  CHECK(b.points[0].rss_is_peak);
}

TEST_CASE("compare estimates the change with an interval", "[gate]") {
  Dataset base, next;
  AddResults(MakeResults({Pt("lmdb", {100, 100.5, 99.5, 101, 99})}), "a",
             &base);
  AddResults(MakeResults({Pt("lmdb", {80, 80.4, 79.6, 80.8, 79.2})}), "b",
             &next);
  Comparison c = Compare(base, next, CompareOptions{});
  REQUIRE(c.rows.size() == 1);
  const MetricChange& m = c.rows[0].throughput;
  CHECK(m.change_pct == Approx(-20).margin(0.5));
  CHECK(m.ci_available);
  CHECK(m.lo_pct < m.change_pct);
  CHECK(m.hi_pct > m.change_pct);
  CHECK(m.hi_pct < 0);
  CHECK(m.p ==
        Approx(0.00793650793651).epsilon(1e-6));  // fully separated 5 vs 5
  CHECK(c.rows[0].verdict == Verdict::kSlower);
}

TEST_CASE("merge keys results by machine and pools repeated runs", "[merge]") {
  kvb::testing::TempDir dir("kvb-report-merge");
  FixtureContext m1, m2;
  m2.host = "node-2";
  REQUIRE(WriteJson(dir.Sub("s0.json"), MakeResults({Pt("lmdb", {1, 2})}, m1)));
  REQUIRE(WriteJson(dir.Sub("s1.json"), MakeResults({Pt("lmdb", {3, 4})}, m2)));
  REQUIRE(WriteJson(dir.Sub("s2.json"), MakeResults({Pt("lmdb", {5})}, m1)));
  std::ostringstream out, err;
  REQUIRE(RunMergeCommand({dir.Sub("all.json"), dir.Sub("s0.json"),
                           dir.Sub("s1.json"), dir.Sub("s2.json")},
                          out, err) == kExitOk);
  Result<nlohmann::json> j = ReadResultsFile(dir.Sub("all.json"));
  REQUIRE(j.ok());
  CHECK((*j)["context"]["machines"].size() == 2);
  CHECK((*j)["benchmarks"].size() == 5);  // aggregates dropped
  Result<Dataset> ds = LoadDataset({dir.Sub("all.json")});
  REQUIRE(ds.ok());
  REQUIRE(ds->machines.size() == 2);
  REQUIRE(ds->points.size() == 2);
  CHECK(ds->points[0].machine == "fixture-host");
  CHECK(ds->points[0].ops_per_s.size() == 3);  // shard 0 and the re-run pooled
  CHECK(ds->points[1].machine == "node-2");
  // --slim: a compact baseline that compare still reads, repetitions per
  // benchmark kept.
  REQUIRE(RunMergeCommand({"--slim", dir.Sub("slim.json"), dir.Sub("s0.json")},
                          out, err) == kExitOk);
  Result<nlohmann::json> slim = ReadResultsFile(dir.Sub("slim.json"));
  REQUIRE(slim.ok());
  CHECK((*slim)["benchmarks"][1]["repetitions"] == 2);
  CHECK((*slim)["benchmarks"][1]["repetition_index"] == 1);
  CHECK_FALSE((*slim)["benchmarks"][0].contains("phases"));
  Result<Dataset> sd = LoadDataset({dir.Sub("slim.json")});
  REQUIRE(sd.ok());
  CHECK(sd->points[0].ops_per_s.size() == 2);
  CHECK(sd->points[0].latency.count("read") == 1);
}

}  // namespace
}  // namespace kvb::report

namespace kvb::report {
namespace {

TEST_CASE("--ignore-engine-options compares one engine under two settings",
          "[gate]") {
  testing::FixturePoint a = Pt("null:delay_ns=1000", kBase);
  testing::FixturePoint b = Pt("null:delay_ns=1100", {80, 81, 79, 82, 78});
  a.engine = b.engine = "null";
  nlohmann::json ja = testing::MakeResults({a}), jb = testing::MakeResults({b});
  for (nlohmann::json* j : {&ja, &jb}) {
    for (auto& e : (*j)["benchmarks"]) {
      std::string spec = j == &ja ? "null:delay_ns=1000" : "null:delay_ns=1100";
      e["engine_spec"] = spec;
      e["name"] = e["run_name"] =
          "read-heavy/" + spec + "/keys:20000/threads:1";
    }
  }
  Dataset base, next;
  AddResults(ja, "a", &base);
  AddResults(jb, "b", &next);
  CompareOptions o;
  o.threshold_pct = 10;
  Comparison plain = Compare(base, next, o);
  CHECK(plain.rows.empty());
  CHECK(plain.GateExitCode() == kExitMissing);
  o.ignore_engine_options = true;
  Comparison c = Compare(base, next, o);
  REQUIRE(c.rows.size() == 1);
  CHECK(c.GateExitCode() == kExitRegression);
}

}  // namespace
}  // namespace kvb::report

namespace kvb::report {
namespace {

// A stand-in for a kvbench binary: `run ... --out DIR` copies a fixture to
// DIR/results.json and appends its side to a log, so the test sees the order of
// the runs.
std::string FakeKvbench(const kvb::testing::TempDir& dir,
                        const std::string& side, const std::string& fixture) {
  std::string path = dir.Sub("kvbench-" + side);
  std::ofstream f(path);
  f << "#!/bin/sh\n"
    << "out=\n"
    << "while [ $# -gt 0 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n"
    << "mkdir -p \"$out\" && cp '" << fixture << "' \"$out/results.json\"\n"
    << "echo " << side << " >> '" << dir.Sub("order.log") << "'\n";
  f.close();
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

TEST_CASE("ab alternates the two builds, merges each side and gates", "[ab]") {
  kvb::testing::TempDir dir("kvb-report-ab");
  REQUIRE(testing::WriteJson(dir.Sub("a.json"),
                             testing::MakeResults({Pt("lmdb", {100})})));
  REQUIRE(testing::WriteJson(dir.Sub("b.json"),
                             testing::MakeResults({Pt("lmdb", {80})})));
  std::string a = FakeKvbench(dir, "A", dir.Sub("a.json"));
  std::string b = FakeKvbench(dir, "B", dir.Sub("b.json"));
  std::ostringstream out, err;
  int rc =
      RunAbCommand({a, b, "--rounds", "6", "--out", dir.Sub("ab"), "--gate",
                    "--threshold", "10", "--", "--suite", "ci-gate"},
                   out, err);
  INFO(out.str() << err.str());
  CHECK(rc == kExitRegression);  // 6 x 100 vs 6 x 80: significant, -20 %
  std::ifstream log(dir.Sub("order.log"));
  std::string order, line;
  while (std::getline(log, line)) order += line;
  CHECK(order == "ABBAABBAABBA");
  Result<Dataset> merged = LoadDataset({dir.Sub("ab/A.json")});
  REQUIRE(merged.ok());
  REQUIRE(merged->points.size() == 1);
  CHECK(merged->points[0].ops_per_s.size() == 6);
  CHECK(std::filesystem::exists(dir.Sub("ab/compare.json")));
  // A/A through ab passes; ab pairs rounds, so 4 rounds cannot reach
  // p < 0.05 (smallest p 2 / 2^4) and say so.
  std::ostringstream out2, err2;
  CHECK(RunAbCommand(
            {a, a, "--rounds", "6", "--out", dir.Sub("aa"), "--gate", "--"},
            out2, err2) == kExitOk);
  CHECK(RunAbCommand(
            {a, b, "--rounds", "4", "--out", dir.Sub("ab4"), "--gate", "--"},
            out2, err2) == kExitTooFewReps);
  // A binary that does not exist is a usage error, not a crash.
  CHECK(RunAbCommand({dir.Sub("nope"), a, "--out", dir.Sub("x"), "--"}, out2,
                     err2) == kExitUsage);
  CHECK(RunAbCommand({a, b, "--out", dir.Sub("y"), "--", "--out", "z"}, out2,
                     err2) == kExitUsage);
}

}  // namespace
}  // namespace kvb::report

namespace kvb::report {
namespace {

TEST_CASE("--metric cpu gates on CPU time per op instead of wall time",
          "[gate]") {
  // NEW lost wall time to other jobs (-20 % ops/s) but spends the same CPU per
  // op.
  FixturePoint base = Pt("lmdb", kBase),
               next = Pt("lmdb", {80, 81, 79, 82, 78});
  base.cpu_ns = {5000, 5010, 4990, 5005, 4995};
  next.cpu_ns = {5003, 4992, 5008, 4997, 5001};
  CHECK(Gate({base}, {next}, {"--metric", "wall", "--threshold", "10"}).rc ==
        kExitRegression);
  // CPU alone is no longer the default (issue 16): ask for it.
  GateRun cpu = Gate({base}, {next}, {"--metric", "cpu", "--threshold", "10"});
  INFO(cpu.out);
  CHECK(cpu.rc == kExitOk);
  CHECK(cpu.out.find("mode: CPU time per op") != std::string::npos);
  // And a real CPU regression is caught.
  next.cpu_ns = {6000, 6010, 5990, 6005, 5995};  // -16.7 % ops per CPU-second
  CHECK(Gate({base}, {next}, {"--metric", "cpu", "--threshold", "10"}).rc ==
        kExitRegression);
  CHECK(Gate({base}, {next}, {"--metric", "cpu"}).rc ==
        kExitOk);  // default 30 %
  CHECK(Gate({base}, {next}, {"--metric", "bogus"}).rc == kExitUsage);
}

}  // namespace
}  // namespace kvb::report

namespace kvb::report {
namespace {

// Gate over two hand-made files; `edit` changes each NEW entry.
GateRun GateJson(const nlohmann::json& base, const nlohmann::json& next) {
  kvb::testing::TempDir dir("kvb-report-param");
  REQUIRE(testing::WriteJson(dir.Sub("base.json"), base));
  REQUIRE(testing::WriteJson(dir.Sub("new.json"), next));
  std::ostringstream out, err;
  int rc = RunCompareCommand(
      {dir.Sub("base.json"), dir.Sub("new.json"), "--gate"}, out, err);
  return {rc, out.str(), err.str()};
}

nlohmann::json WithParam(nlohmann::json j, const std::string& k,
                         const std::string& v) {
  for (auto& e : j["benchmarks"]) e["params"][k] = v;
  return j;
}

TEST_CASE("gate: a benchmark whose parameters differ is not comparable",
          "[gate]") {
  nlohmann::json base =
      WithParam(testing::MakeResults({Pt("lmdb", kBase)}), "value_size", "100");
  nlohmann::json slow =
      testing::MakeResults({Pt("lmdb", {50, 51, 49, 52, 48})});
  // Same name, value size 100 vs 4000: never compared (this was a
  // "regression", exit 1, before), exit 5 with the parameter named.
  GateRun r = GateJson(base, WithParam(slow, "value_size", "4000"));
  INFO(r.out);
  CHECK(r.rc == kExitIncomparable);
  CHECK(r.out.find("not comparable (not judged): "
                   "read-heavy/lmdb/keys:20000/threads:1: value_size: 100 vs "
                   "4000") != std::string::npos);
  CHECK(r.out.find("REGRESSION") == std::string::npos);
  // Same parameters: compared, and the slowdown is caught.
  GateRun same = GateJson(base, WithParam(slow, "value_size", "100"));
  INFO(same.out);
  CHECK(same.rc == kExitRegression);
  // The seed is a sample, not a condition: a different seed still compares.
  GateRun seed =
      GateJson(WithParam(base, "seed", "1"),
               WithParam(WithParam(testing::MakeResults({Pt("lmdb", kBase)}),
                                   "value_size", "100"),
                         "seed", "2"));
  CHECK(seed.rc == kExitOk);
}

TEST_CASE("gate: a differing harness setting (verify) is not comparable",
          "[gate]") {
  nlohmann::json base = testing::MakeResults({Pt("lmdb", kBase)});
  nlohmann::json next = base;
  base["config"]["settings"] = {{"verify", true}, {"warmup_ops", 0}};
  next["config"]["settings"] = {{"verify", false}, {"warmup_ops", 0}};
  GateRun r = GateJson(base, next);
  INFO(r.out);
  CHECK(r.rc == kExitIncomparable);
  CHECK(r.out.find("verify: true vs false") != std::string::npos);
  // A setting recorded on one side only is named, not blocking.
  next["config"]["settings"] = {{"verify", true}};
  GateRun u = GateJson(base, next);
  INFO(u.out);
  CHECK(u.rc == kExitOk);
  CHECK(u.out.find("warmup_ops (not recorded in NEW)") != std::string::npos);
}

TEST_CASE("entries of one name with different parameters are not pooled",
          "[model]") {
  Dataset ds;
  AddResults(WithParam(testing::MakeResults({Pt("memory", {100, 101, 99, 98})}),
                       "value_size", "100"),
             "g1", &ds);
  AddResults(WithParam(testing::MakeResults({Pt("memory", {50, 51, 49, 48})}),
                       "value_size", "4000"),
             "g2", &ds);
  // Before: one point "with 8 reps".
  REQUIRE(ds.points.size() == 2);
  CHECK(ds.points[0].ops_per_s.size() == 4);
  CHECK(ds.points[1].ops_per_s.size() == 4);
  CHECK(ds.points[1].name ==
        "read-heavy/memory/keys:20000/threads:1 [value_size=4000]");
  REQUIRE(ds.notes.size() == 1);
  CHECK(ds.notes[0].find("kept apart, not pooled (value_size: 100 vs 4000)") !=
        std::string::npos);
  // The same parameters still pool.
  AddResults(WithParam(testing::MakeResults({Pt("memory", {100})}),
                       "value_size", "100"),
             "g3", &ds);
  CHECK(ds.points.size() == 2);
  CHECK(ds.points[0].ops_per_s.size() == 5);
}

TEST_CASE("the default gate catches a wall-only and a CPU-only regression",
          "[gate]") {
  FixturePoint base = Pt("lmdb", kBase);
  base.cpu_ns = {5000, 5010, 4990, 5005, 4995};
  // Wall time -50 %, CPU per op unchanged (an added fsync, a sleeping lock):
  // the old default (CPU only) passed this.
  FixturePoint wall = Pt("lmdb", {50, 51, 49, 52, 48});
  wall.cpu_ns = base.cpu_ns;
  GateRun w = Gate({base}, {wall});
  INFO(w.out);
  CHECK(w.rc == kExitRegression);
  CHECK(w.out.find("(wall -50.") != std::string::npos);
  // CPU per op +100 %, wall unchanged.
  FixturePoint cpu = Pt("lmdb", kBase);
  cpu.cpu_ns = {10000, 10010, 9990, 10005, 9995};
  GateRun c = Gate({base}, {cpu});
  INFO(c.out);
  CHECK(c.rc == kExitRegression);
  CHECK(Gate({base}, {cpu}, {"--metric", "wall"}).rc == kExitOk);
}

TEST_CASE("the threshold applies to the interval, not the point estimate",
          "[gate]") {
  // Median change about -32 %, but the spread puts the interval's upper end
  // well inside 30 %: significant, slower, not a regression.
  FixturePoint base = Pt("lmdb", {100, 101, 99, 102, 98, 100, 101, 99});
  FixturePoint next = Pt("lmdb", {68, 95, 50, 69, 90, 67, 55, 70});
  GateRun r = Gate({base}, {next});
  INFO(r.out);
  CHECK(r.out.find("slower") != std::string::npos);
  CHECK(r.rc == kExitOk);
  // Tight repetitions: the whole interval lies beyond 30 %.
  GateRun t = Gate({base}, {Pt("lmdb", {60, 61, 59, 60, 61, 59, 60, 60})});
  CHECK(t.rc == kExitRegression);
}

TEST_CASE("--paired sees a steady change that drift between rounds hides",
          "[gate]") {
  // Six rounds on a machine whose speed drifts 3.5x over the run; in every
  // round NEW is 5 % slower than BASE. Pooled, the sides overlap (U test: no
  // change); paired by round, all six ratios agree (p = 2 / 2^6).
  FixturePoint base = Pt("lmdb", {100, 150, 200, 250, 300, 350});
  FixturePoint next = Pt("lmdb", {95, 142.5, 190, 237.5, 285, 332.5});
  base.cpu_ns = {5000, 5000, 5000, 5000, 5000, 5000};
  next.cpu_ns = base.cpu_ns;
  GateRun pooled = Gate({base}, {next}, {"--metric", "wall"});
  INFO(pooled.out);
  CHECK(pooled.out.find("no significant change") != std::string::npos);
  GateRun paired = Gate({base}, {next},
                        {"--metric", "wall", "--paired", "--threshold", "1"});
  INFO(paired.out);
  CHECK(paired.out.find("paired by round") != std::string::npos);
  CHECK(paired.out.find("0.031") != std::string::npos);
  CHECK(paired.rc == kExitRegression);
  // Unequal counts cannot be paired: the unpaired test judges them.
  FixturePoint five = Pt("lmdb", {95, 142.5, 190, 237.5, 285});
  CHECK(Gate({base}, {five}, {"--metric", "wall", "--paired"})
            .out.find("no significant change") != std::string::npos);
}

TEST_CASE("gate: nothing compared does not pass", "[gate]") {
  GateRun r = Gate({}, {Pt("lmdb", kBase)});
  INFO(r.out);
  CHECK(r.rc == kExitIncomparable);
  CHECK(r.out.find("no benchmark was compared") != std::string::npos);
}

}  // namespace
}  // namespace kvb::report
