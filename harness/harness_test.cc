// Tests of the histogram, the results writer/reader and small end-to-end runs
// of every preset on the memory and null adapters.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/registry.h"
#include "core/testing/test_util.h"
#include "harness/cli.h"
#include "harness/clock.h"
#include "harness/histogram.h"
#include "harness/results.h"
#include "harness/runner.h"
#include "harness/suite.h"
#include "results/schema.h"
#include "workloads/keyset.h"
#include "workloads/workload.h"

namespace kvb {
namespace {

TEST_CASE("histogram buckets are contiguous and tight") {
  for (size_t i = 1; i < Histogram::kBuckets; ++i) {
    REQUIRE(Histogram::BucketLow(i) ==
            Histogram::BucketLow(i - 1) + Histogram::BucketWidth(i - 1));
  }
  for (uint64_t v : {0ull, 1ull, 4095ull, 4096ull, 123456789ull, 1ull << 37}) {
    size_t i = Histogram::Index(v);
    REQUIRE(Histogram::BucketLow(i) <= v);
    REQUIRE(v < Histogram::BucketLow(i) + Histogram::BucketWidth(i));
  }
}

TEST_CASE("histogram percentiles are within the stated relative error") {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> dist(8.0,
                                           2.0);  // ~3 us median, long tail
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<uint64_t>(dist(rng)) + 1;
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    size_t rank = static_cast<size_t>(std::ceil(p / 100 * values.size()));
    uint64_t exact = values[std::max<size_t>(rank, 1) - 1];
    uint64_t got = h.Percentile(p);
    INFO("p" << p << " exact " << exact << " got " << got);
    CHECK(std::abs(double(got) - double(exact)) <= exact / 4096.0 + 0.5);
  }
  CHECK(h.max() == values.back());
  CHECK(h.min() == values.front());
  CHECK(h.count() == values.size());
}

TEST_CASE("exported histograms keep every count and recompute percentiles") {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> dist(8.0, 2.0);
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<uint64_t>(dist(rng)) + 1;
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  std::vector<Histogram::Range> r = h.Export(7);
  uint64_t total = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    total += r[i].count;
    REQUIRE(r[i].count > 0);
    REQUIRE(r[i].lo < r[i].hi);
    if (i > 0) REQUIRE(r[i - 1].hi <= r[i].lo);  // increasing, no overlap
    // At most 1/128 of the lower bound wide (one unit below 128).
    REQUIRE(r[i].hi - r[i].lo <= std::max<uint64_t>(1, r[i].lo / 128));
  }
  CHECK(total == h.count());
  // Someone holding only the export finds any percentile within one bucket.
  for (double p : {50.0, 99.0, 99.99, 99.999}) {
    uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100 * values.size()));
    uint64_t exact = values[rank - 1], seen = 0;
    for (const Histogram::Range& b : r) {
      seen += b.count;
      if (seen < rank) continue;
      INFO("p" << p << " exact " << exact << " bucket [" << b.lo << ", " << b.hi
               << ")");
      CHECK(b.lo <= exact);
      CHECK(exact < b.hi);
      break;
    }
  }
}

TEST_CASE("histograms merge exactly") {
  Histogram a, b, all;
  for (uint64_t v = 1; v < 100000; v += 7) {
    (v % 2 ? a : b).Record(v * 13);
    all.Record(v * 13);
  }
  a.Merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.max() == all.max());
  CHECK(a.min() == all.min());
  CHECK(a.mean() == Approx(all.mean()));
  for (double p : {10.0, 50.0, 99.0, 99.9})
    CHECK(a.Percentile(p) == all.Percentile(p));
  Histogram empty;
  CHECK(empty.Percentile(50) == 0);
}

RepResult RunPreset(const std::string& engine, const std::string& workload,
                    std::vector<std::pair<std::string, std::string>> params,
                    const std::string& data_dir, bool verify = true,
                    double target_rate = 0) {
  RunSettings settings;
  settings.data_dir = data_dir;
  settings.verify = verify;
  settings.target_rate = target_rate;
  Runner runner(settings);
  PointSpec p;
  p.engine_spec = engine;
  p.workload = workload;
  p.params = std::move(params);
  REQUIRE_OK(runner.Check(p));
  Result<RepResult> r = runner.RunOnce(p, 0);
  INFO(workload << " on " << engine << ": " << r.status().ToString());
  REQUIRE(r.ok());
  return std::move(*r);
}

TEST_CASE("every preset runs end to end on memory and null") {
  testing::TempDir dir;
  for (const std::string& engine :
       {std::string("memory"), std::string("null")}) {
    for (const std::string& w : PresetNames()) {
      std::vector<std::pair<std::string, std::string>> params = {
          {"keys", "300"}, {"ops", "2000"}};
      if (w == "concurrent-fuzz") params = {{"keys", "64"}, {"ops", "3000"}};
      RepResult r = RunPreset(engine, w, params, dir.path());
      INFO(w << " on " << engine);
      if (r.skipped) {
        // memory has no ordered scan: ycsb-e is skipped, nothing else may be.
        CHECK(engine == "memory");
        CHECK(w == "ycsb-e");
        continue;
      }
      CHECK(r.errors == 0);
      for (const std::string& m : r.error_messages) WARN(m);
      const PhaseResult* primary = r.Phase(r.primary_phase);
      REQUIRE(primary != nullptr);
      CHECK(primary->ops > 0);
      CHECK(primary->wall_s > 0);
      CHECK(!primary->latency.empty());
      if (engine == "memory") {
        CHECK(r.verify.enabled);
        CHECK(r.verify.mismatches() == 0);
        CHECK(r.verify.missing == 0);
        // The fuzz deleter may legitimately leave nothing to read or keep.
        if (w != "concurrent-fuzz") {
          CHECK(r.verify.verified > 0);
          CHECK(r.logical_bytes > 0);
        }
      } else {
        CHECK_FALSE(r.verify.enabled);
      }
    }
  }
  // Data directories are removed after each point.
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("read-heavy reads every key exactly once and checks it") {
  testing::TempDir dir;
  RepResult r = RunPreset("memory", "read-heavy",
                          {{"keys", "1000"}, {"threads", "2"}}, dir.path());
  CHECK(r.Phase("run")->ops == 1000);
  CHECK(r.verify.verified == 1000);
  CHECK(r.Phase("load")->ops == 1000);
}

TEST_CASE("a run longer than the drawn requests says they replay") {
  // Each thread draws its share of request keys ahead (outside the timed
  // phase) within a memory budget; past it the drawn keys replay cyclically,
  // which the results must say rather than pass off as fresh requests.
  testing::TempDir dir;
  auto replay_note = [](const RepResult& r) {
    for (const std::string& n : r.notes) {
      if (n.find("request keys replay cyclically") != std::string::npos)
        return true;
    }
    return false;
  };
  RepResult small = RunPreset(
      "null", "ycsb-c", {{"keys", "1000"}, {"ops", "100000"}}, dir.path());
  CHECK_FALSE(replay_note(small));
  RepResult big = RunPreset("null", "ycsb-c",
                            {{"keys", "1000"}, {"ops", "4000000"}}, dir.path());
  CHECK(replay_note(big));
}

TEST_CASE("open loop keeps the target rate with Poisson arrivals") {
  // 4,000 arrivals at 20,000/s over two threads: about 0.2 s. A Poisson
  // process of that mean finishes within a few percent of it; the harness
  // can be late (a loaded machine), never early by much.
  testing::TempDir dir;
  RepResult r = RunPreset("null", "ycsb-c",
                          {{"keys", "1000"}, {"ops", "4000"}, {"threads", "2"}},
                          dir.path(), true, 20000);
  const PhaseResult* run = r.Phase("run");
  REQUIRE(run != nullptr);
  CHECK(run->ops == 4000);
  INFO("achieved " << run->ops_per_s() << " ops/s");
  CHECK(run->ops_per_s() < 20000 * 1.1);
  CHECK(run->ops_per_s() > 20000 * 0.5);
  bool noted = false;
  for (const std::string& n : r.notes)
    noted = noted || n.find("Poisson arrivals") != std::string::npos;
  CHECK(noted);
}

TEST_CASE("--verify off runs the same keys and values, unchecked") {
  testing::TempDir dir;
  for (const char* w : {"read-heavy", "ycsb-a", "bulk-insert"}) {
    INFO(w);
    const std::vector<std::pair<std::string, std::string>> params = {
        {"keys", "2000"}, {"ops", "5000"}, {"key_size", "8-40"}};
    RepResult on = RunPreset("memory", w, params, dir.path(), true);
    RepResult off = RunPreset("memory", w, params, dir.path(), false);
    CHECK(on.verify.enabled);
    CHECK_FALSE(off.verify.enabled);
    CHECK(off.verify.verified == 0);
    CHECK(off.errors == 0);
    CHECK(off.Phase(off.primary_phase)->ops == on.Phase(on.primary_phase)->ops);
    // One thread, one seed: the same keys and versions were written, so the
    // live logical bytes agree to the byte.
    CHECK(off.logical_bytes == on.logical_bytes);
  }
}

TEST_CASE("key sets too big for the cache are spelled per op and verify") {
  const uint64_t keys = 200000;
  REQUIRE(KeySet::StorageFor(keys, SizeDist::Fixed(16)) ==
          KeyStorage::kComputed);
  testing::TempDir dir;
  for (const char* w : {"read-heavy", "ycsb-a"}) {
    INFO(w);
    RepResult r = RunPreset("memory", w,
                            {{"keys", std::to_string(keys)}, {"threads", "2"}},
                            dir.path());
    CHECK(r.errors == 0);
    CHECK(r.verify.mismatches() == 0);
    CHECK(r.verify.missing == 0);
    if (std::string(w) == "read-heavy") {
      CHECK(r.verify.verified == keys);
    } else {
      CHECK(r.verify.verified > 0);
    }
  }
}

TEST_CASE("concurrent fuzz with several threads has no mismatches on memory") {
  testing::TempDir dir;
  RepResult r = RunPreset("memory", "concurrent-fuzz",
                          {{"keys", "32"}, {"ops", "20000"}, {"threads", "6"}},
                          dir.path());
  CHECK(r.errors == 0);
  CHECK(r.verify.mismatches() == 0);
  CHECK(r.verify.missing == 0);
  REQUIRE(r.Phase("verify") != nullptr);
  CHECK(r.Phase("verify")->ops == 32);
  CHECK(r.Phase("run")->latency.count("delete") == 1);
}

TEST_CASE("results round-trip through the file format") {
  testing::TempDir dir;
  std::vector<RepResult> reps;
  reps.push_back(RunPreset("memory", "ycsb-b",
                           {{"keys", "200"}, {"ops", "500"}}, dir.path()));
  reps.push_back(RunPreset("memory", "ycsb-b",
                           {{"keys", "200"}, {"ops", "500"}}, dir.path()));
  reps[1].repetition = 1;
  nlohmann::json context = {{"schema_version", 1}, {"date", "x"}};
  nlohmann::json config = {{"points", nlohmann::json::array()}};
  nlohmann::json j = ResultsJson(context, config, reps);
  std::string path = dir.Sub("results.json");
  REQUIRE_OK(WriteJsonFile(path, j));
  Result<nlohmann::json> back = ReadResultsFile(path);
  REQUIRE(back.ok());
  CHECK(*back == j);
  const auto& b = (*back)["benchmarks"];
  REQUIRE(b.size() == 2 + 4);  // two iterations, mean/median/stddev/cv
  CHECK(b[0]["run_type"] == "iteration");
  CHECK(b[0]["name"] == "ycsb-b/memory/keys:200/threads:1");
  CHECK(b[0]["iterations"] == 500);
  CHECK(b[0]["time_unit"] == "ns");
  CHECK(b[0]["real_time"].get<double>() > 0);
  CHECK(b[0]["phases"]["run"]["latency"].contains("read"));
  CHECK(b[2]["run_type"] == "aggregate");
  CHECK(b[2]["aggregate_name"] == "mean");
  CHECK(b[2]["name"] == "ycsb-b/memory/keys:200/threads:1_mean");

  std::ofstream(dir.Sub("bad.json")) << "{\"not\": 1}";
  CHECK_FALSE(ReadResultsFile(dir.Sub("bad.json")).ok());
  std::ofstream(dir.Sub("garbage.json")) << "{{{";
  CHECK_FALSE(ReadResultsFile(dir.Sub("garbage.json")).ok());
}

TEST_CASE("suites parse and expand") {
  Result<Suite> s = ParseSuite(
      R"({"name": "t", "engines": ["memory", "null"], "threads": [1, 2],
          "params": {"keys": 100}, "workloads": ["ycsb-a", {"workload": "read-heavy",
          "params": {"keys": "50"}}]})",
      "t.json");
  REQUIRE(s.ok());
  Overrides o;
  Result<std::vector<PointSpec>> pts = ExpandPoints(*s, o);
  REQUIRE(pts.ok());
  CHECK(pts->size() == 2 * 2 * 2);
  Result<WorkloadSpec> w = ResolveWorkload((*pts)[4]);
  REQUIRE(w.ok());
  CHECK(w->name == "read-heavy");
  CHECK(w->keys == 50);
  o.workloads = {"ycsb-a"};
  o.threads = {3};
  o.params = {{"keys", "7"}};
  pts = ExpandPoints(*s, o);
  REQUIRE(pts->size() == 2);
  CHECK(ResolveWorkload((*pts)[0])->keys == 7);
  CHECK(ResolveWorkload((*pts)[0])->threads == 3);
  Result<PointSpec> back = PointFromJson(PointToJson((*pts)[0]));
  REQUIRE(back.ok());
  CHECK(back->params == (*pts)[0].params);
  CHECK_FALSE(ParseSuite("{\"workloads\": 3}", "x").ok());
  CHECK_FALSE(ParseSuite("nope", "x").ok());
}

int Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "kvbench");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return KvbenchMain(static_cast<int>(argv.size()), argv.data());
}

TEST_CASE("results carry p99.99 and each phase's histogram") {
  testing::TempDir dir;
  std::string out = dir.Sub("hist");
  REQUIRE(Cli({"run", "--engines", "memory", "--workloads", "ycsb-a", "--keys",
               "500", "--ops", "5000", "--out", out, "--quiet"}) == 0);
  Result<nlohmann::json> j = ReadResultsFile(out + "/results.json");
  REQUIRE(j.ok());
  const nlohmann::json& b = (*j)["benchmarks"][0];
  for (const char* op : {"read", "update"}) {
    INFO(op);
    const nlohmann::json& top = b["latency"][op];
    CHECK(top["p99_99_ns"].get<double>() >= top["p99_9_ns"].get<double>());
    CHECK_FALSE(top.contains("histogram"));  // written once, in phases
    const nlohmann::json& h = b["phases"]["run"]["latency"][op]["histogram"];
    CHECK(h["format"].get<std::string>().rfind("kvbench-buckets-1", 0) == 0);
    CHECK(h["unit"] == "ns");
    uint64_t total = 0;
    std::istringstream cells(h["buckets"].get<std::string>());
    std::string cell;
    double last_hi = 0;
    while (std::getline(cells, cell, ';')) {
      std::istringstream f(cell);
      double lo = 0, hi = 0;
      uint64_t count = 0;
      REQUIRE(f >> lo >> hi >> count);
      CHECK(lo < hi);
      CHECK(lo >= last_hi);
      last_hi = hi;
      total += count;
    }
    CHECK(total == top["count"].get<uint64_t>());
  }
}

TEST_CASE("repetitions run interleaved in a recorded order with own seeds") {
  testing::TempDir dir;
  std::string out = dir.Sub("inter");
  REQUIRE(Cli({"run", "--engines", "memory,null", "--workloads", "ycsb-c",
               "--keys", "200", "--ops", "400", "--repetitions", "3",
               "--order-seed", "7", "--out", out, "--quiet"}) == 0);
  Result<nlohmann::json> j = ReadResultsFile(out + "/results.json");
  REQUIRE(j.ok());
  const nlohmann::json& sched = (*j)["config"]["schedule"];
  CHECK(sched["order"] == "interleaved");
  CHECK(sched["order_seed"] == 7);
  REQUIRE(sched["slots"].size() == 6);
  // Round r holds repetition r of both points: engines alternate.
  for (size_t k = 0; k < 6; ++k) {
    CHECK(sched["slots"][k][1] == static_cast<int>(k / 2));
    if (k % 2 == 1) CHECK(sched["slots"][k][0] != sched["slots"][k - 1][0]);
  }
  // Every repetition records its place in the run and its seed: one seed per
  // repetition, the same for both engines within a round.
  std::map<int, std::set<std::string>> seeds;  // repetition -> seeds
  std::set<uint64_t> orders;
  for (const nlohmann::json& b : (*j)["benchmarks"]) {
    if (b["run_type"] != "iteration") continue;
    orders.insert(b["run_order"].get<uint64_t>());
    seeds[b["repetition_index"].get<int>()].insert(
        b["params"]["seed"].get<std::string>());
  }
  CHECK(orders.size() == 6);
  REQUIRE(seeds.size() == 3);
  CHECK(*seeds[0].begin() == "42");  // rep 0 keeps the workload's seed
  for (auto& [rep, set] : seeds) CHECK(set.size() == 1);
  CHECK(*seeds[1].begin() != *seeds[2].begin());
  // The same order seed gives the same schedule; sequential keeps points
  // together.
  std::string again = dir.Sub("again"), seq = dir.Sub("seq");
  REQUIRE(Cli({"run", "--engines", "memory,null", "--workloads", "ycsb-c",
               "--keys", "200", "--ops", "400", "--repetitions", "3",
               "--order-seed", "7", "--out", again, "--quiet"}) == 0);
  CHECK((*ReadResultsFile(again +
                          "/results.json"))["config"]["schedule"]["slots"] ==
        sched["slots"]);
  REQUIRE(Cli({"run", "--engines", "memory,null", "--workloads", "ycsb-c",
               "--keys", "200", "--ops", "400", "--repetitions", "2", "--order",
               "sequential", "--out", seq, "--quiet"}) == 0);
  const nlohmann::json s2 =
      (*ReadResultsFile(seq + "/results.json"))["config"]["schedule"]["slots"];
  CHECK(s2 == nlohmann::json::parse("[[0,0],[0,1],[1,0],[1,1]]"));
  CHECK(Cli({"run", "--order", "random", "--out", dir.Sub("bad")}) == 2);
  CHECK(Cli({"run", "--order-seed", "-1", "--out", dir.Sub("bad2")}) == 2);
}

TEST_CASE(
    "the CLI runs, writes results and rejects bad input with exit code 2") {
  testing::TempDir dir;
  std::string out = dir.Sub("out");
  CHECK(Cli({"run", "--engines", "memory,null", "--workloads",
             "ycsb-c,bulk-insert", "--keys", "200", "--ops", "400", "--out",
             out, "--quiet"}) == 0);
  Result<nlohmann::json> j = ReadResultsFile(out + "/results.json");
  REQUIRE(j.ok());
  CHECK((*j)["benchmarks"].size() == 4);
  CHECK((*j)["context"]["schema_version"] == kResultsSchemaVersion);
  CHECK((*j)["config"]["points"].size() == 4);
  // The baselines keep nothing: they ran at memory whatever the workload's
  // class (process), and say so.
  for (const nlohmann::json& e : (*j)["benchmarks"]) {
    CHECK(e["params"]["durability"] == "process");
    CHECK(e["durability"]["class"] == "memory");
    CHECK(e["engine_options"]["durability"] == "memory");
    CHECK_FALSE(e["durability"]["settings"].get<std::string>().empty());
  }

  // A persistent engine records the class it ran at and the exact settings;
  // one that refuses the class is skipped with the reason, not run weaker.
  std::string classes = dir.Sub("classes");
  CHECK(Cli({"run", "--engines", "lmdb,linhash", "--workloads", "ycsb-c",
             "--keys", "200", "--ops", "400", "--durability", "periodic:500",
             "--out", classes, "--quiet"}) == 0);
  Result<nlohmann::json> c = ReadResultsFile(classes + "/results.json");
  REQUIRE(c.ok());
  REQUIRE((*c)["benchmarks"].size() == 2);
  for (const nlohmann::json& e : (*c)["benchmarks"]) {
    INFO(e.dump());
    CHECK(e["durability"]["class"] == "periodic:500");
    std::string settings = e["durability"]["settings"];
    CHECK(settings.find("500") != std::string::npos);  // MS filled in
    CHECK(settings.find("MS") == std::string::npos);
  }
  std::string refused = dir.Sub("refused");
  CHECK(Cli({"run", "--engines", "lmdb", "--workloads", "ycsb-c", "--keys",
             "200", "--ops", "400", "--durability", "memory", "--out",
             refused, "--quiet"}) == 0);
  Result<nlohmann::json> r = ReadResultsFile(refused + "/results.json");
  REQUIRE(r.ok());
  REQUIRE((*r)["benchmarks"].size() == 1);
  CHECK((*r)["benchmarks"][0]["skipped"].dump().find("refuses") !=
        std::string::npos);
  CHECK(Cli({"run", "--engines", "lmdb", "--durability", "none"}) == 2);
  CHECK(Cli({"run", "--engines", "lmdb", "--durability", "periodic:0"}) == 2);
  CHECK(Cli({"rerun", out + "/results.json", "--quiet"}) == 0);

  // --verify off is recorded, shown per benchmark, and repeated by rerun.
  std::string unchecked = dir.Sub("unchecked");
  CHECK(
      Cli({"run", "--engines", "memory", "--workloads", "read-heavy", "--keys",
           "300", "--verify", "off", "--out", unchecked, "--quiet"}) == 0);
  CHECK(Cli({"rerun", unchecked + "/results.json", "--quiet"}) == 0);
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(unchecked)) {
    if (f.path().extension() != ".json") continue;
    ++files;
    Result<nlohmann::json> u = ReadResultsFile(f.path().string());
    REQUIRE(u.ok());
    CHECK((*u)["config"]["settings"]["verify"] == false);
    CHECK((*u)["benchmarks"][0]["verify"]["enabled"] == false);
  }
  CHECK(files == 2);
  CHECK(Cli({"run", "--verify", "maybe"}) == 2);

  CHECK(Cli({"run", "--bogus"}) == 2);
  CHECK(Cli({"run", "--engines", "nosuchdb", "--workloads", "ycsb-a", "--out",
             out}) == 2);
  CHECK(Cli({"run", "--engines", "memory", "--workloads", "nosuch", "--out",
             out}) == 2);
  std::ofstream(dir.Sub("file")) << "x";
  CHECK(Cli({"run", "--engines", "memory", "--workloads", "ycsb-a", "--out",
             dir.Sub("file")}) == 2);
  CHECK(Cli({"run", "--engines", "memory", "--workloads", "ycsb-a", "--out",
             dir.Sub("file") + "/sub"}) == 2);
  CHECK(Cli({"inspect", "nosuchdb", dir.path()}) == 2);
  CHECK(Cli({"rerun", dir.Sub("file")}) == 2);
  CHECK(Cli({"list"}) == 0);
}

// Runs the CLI with std::cerr captured; returns the exit code.
int CliCapture(std::vector<std::string> args, std::string* err) {
  std::ostringstream captured;
  std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
  int rc = Cli(std::move(args));
  std::cerr.rdbuf(old);
  *err = captured.str();
  return rc;
}

TEST_CASE("bad numbers are one-line usage errors and leave no output folder") {
  testing::TempDir dir;
  // Each was accepted and wrapped to ~2^64 (a run that never ends), or was
  // undefined behaviour (a double out of the integer range), before.
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--ops", "-5"}, "--ops: expected a non-negative integer, got '-5'"},
      {{"--warmup-ops", "-1"},
       "--warmup-ops: expected a non-negative integer, got '-1'"},
      {{"--keys", "-1"}, "--keys: expected a positive integer, got '-1'"},
      {{"--keys", "0"}, "--keys: 0 is out of range"},
      {{"--keys", "12abc"}, "--keys: expected a positive integer, got '12abc'"},
      {{"--seed", "-3"}, "--seed: expected a non-negative integer, got '-3'"},
      {{"--warmup-seconds", "1e300"},
       "--warmup-seconds: 1e300 is out of range"},
      {{"--warmup-seconds", "nan"},
       "--warmup-seconds: expected a non-negative number, got 'nan'"},
      {{"--target-rate", "1e-300"}, "--target-rate: 1e-300 is below"},
      {{"--target-rate", "-1"},
       "--target-rate: expected a non-negative number, got '-1'"},
      {{"--target-rate", "1e300"}, "--target-rate: 1e300 is out of range"},
      {{"--latency-sample", "3"}, "--latency-sample: must be a power of two"},
      {{"--latency-sample", "-4"},
       "--latency-sample: expected a positive integer, got '-4'"},
      {{"--repetitions", "0"}, "--repetitions: 0 is out of range"},
      {{"--threads", "-1"}, "--threads: expected a positive integer, got '-1'"},
      {{"--engines", "nosuchdb"}, "unknown engine 'nosuchdb'"},
      {{"--set", "zipf_theta=2"}, "zipf_theta must be in (0, 1)"},
  };
  int n = 0;
  for (const auto& [flags, expected] : cases) {
    std::string out = dir.Sub("rejected-" + std::to_string(n++));
    std::vector<std::string> args = {"run",   "--workloads", "ycsb-c",
                                     "--out", out,           "--quiet"};
    if (flags[0] != "--engines")
      args.insert(args.end(), {"--engines", "memory"});
    args.insert(args.end(), flags.begin(), flags.end());
    std::string err;
    int rc = CliCapture(args, &err);
    INFO(flags[0] << " " << flags[1] << " -> " << err);
    CHECK(rc == 2);
    CHECK(err.starts_with("kvbench: error: "));
    CHECK(err.find(expected) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(err.find("InvalidArgument") == std::string::npos);
    CHECK(err.find("NotSupported") == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out));
  }
  // A directory given by the user is never removed, even when empty.
  std::string mine = dir.Sub("mine");
  std::filesystem::create_directory(mine);
  std::string err;
  CHECK(CliCapture({"run", "--engines", "memory", "--workloads", "ycsb-c",
                    "--out", mine, "--ops", "-5"},
                   &err) == 2);
  CHECK(std::filesystem::is_directory(mine));
}

TEST_CASE("tick conversion saturates instead of overflowing") {
  clock::Init();
  CHECK(clock::NsToTicks(1e300) == UINT64_MAX);
  CHECK(clock::NsToTicks(std::numeric_limits<double>::infinity()) ==
        UINT64_MAX);
  CHECK(clock::NsToTicks(std::nan("")) == 0);
  CHECK(clock::NsToTicks(-5) == 0);
  CHECK(clock::NsToTicks(0) == 0);
  CHECK(clock::NsToTicks(1e9) > 0);
}

// --reuse keeps the loaded database and the harness's record of it; the
// record must live outside the engine's directory (linhash refuses a directory
// with files it did not write).
TEST_CASE("run --reuse twice on the same loaded database, end to end") {
  std::vector<std::string> engines;
  for (const char* e : {"linhash", "typedmap", "sqlite"}) {
    const AdapterInfo* info = FindAdapter(e);
    if (info != nullptr && info->built) engines.push_back(e);
  }
  if (engines.size() < 2) {
    WARN(
        "SKIPPED: --reuse end to end needs linhash and one other built engine");
    return;
  }
  REQUIRE(engines[0] == "linhash");
  engines.resize(2);
  testing::TempDir dir;
  for (const std::string& engine : engines) {
    INFO(engine);
    std::string data = dir.Sub("data-" + engine);
    for (int round = 0; round < 2; ++round) {
      std::string out = dir.Sub(engine + "-" + std::to_string(round));
      std::string err;
      int rc = CliCapture({"run", "--engines", engine, "--workloads", "ycsb-a",
                           "--keys", "500", "--ops", "1000", "--reuse",
                           "--data-dir", data, "--out", out, "--quiet"},
                          &err);
      INFO("round " << round << ": " << err);
      REQUIRE(rc == 0);
      Result<nlohmann::json> j = ReadResultsFile(out + "/results.json");
      REQUIRE(j.ok());
      const nlohmann::json& b = (*j)["benchmarks"][0];
      CHECK(b["errors"] == 0);
      CHECK(b["verify"]["missing"] == 0);
      bool reused = false;
      for (const auto& note : b["notes"]) {
        reused =
            reused || note.get<std::string>().starts_with("reused the loaded");
      }
      CHECK(reused == (round == 1));
      // Round 1 reads what round 0 loaded (and updated): no load phase ran.
      CHECK(b["phases"].contains("load") == (round == 0));
    }
    // The engine's directory holds only the engine's files.
    for (const auto& d : std::filesystem::directory_iterator(data)) {
      if (!d.is_directory()) continue;
      for (const auto& f : std::filesystem::recursive_directory_iterator(d)) {
        CHECK(f.path().filename().string().find("kvbench") ==
              std::string::npos);
      }
    }
  }
}

TEST_CASE("struct values run end to end on the JSON and the native path") {
  testing::TempDir dir;
  std::vector<std::string> engines = {"memory"};
  // KVB_HAVE_TYPEDMAP is private to the adapters library, so an #ifdef here
  // silently left the native path untested: ask the registry instead.
  const AdapterInfo* typedmap = FindAdapter("typedmap");
  if (typedmap != nullptr && typedmap->built) {
    engines.push_back("typedmap:durability=memory");
    engines.push_back("typedmap:durability=process");
    engines.push_back("typedmap:durability=periodic:50");
    engines.push_back("typedmap:durability=sync");
  } else {
    WARN("SKIPPED: typedmap not built, the native struct path is not tested");
  }
  // typed-struct itself, and the other record shapes: read-all, batch load
  // with final verify, deletes (fuzz) and read-modify-write.
  const std::vector<
      std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      points = {
          {"typed-struct", {{"keys", "500"}, {"ops", "4000"}}},
          {"read-heavy", {{"keys", "300"}, {"value_kind", "struct"}}},
          {"bulk-insert", {{"keys", "300"}, {"value_kind", "struct"}}},
          {"concurrent-fuzz",
           {{"keys", "32"}, {"ops", "3000"}, {"value_kind", "struct"}}},
          {"ycsb-f",
           {{"keys", "300"}, {"ops", "2000"}, {"value_kind", "struct"}}},
      };
  for (const std::string& engine : engines) {
    for (const auto& [w, params] : points) {
      // The other shapes once per path: the durability levels only matter for
      // typed-struct (and fsyncs are slow).
      if (w != "typed-struct" && engine.find("=none") == std::string::npos &&
          engine != "memory") {
        continue;
      }
      RepResult r = RunPreset(engine, w, params, dir.path());
      INFO(w << " on " << engine);
      for (const std::string& m : r.error_messages) WARN(m);
      REQUIRE_FALSE(r.skipped);
      CHECK(r.errors == 0);
      CHECK(r.params.at("value_kind") == "struct");
      bool native = engine.starts_with("typedmap");
      CHECK(r.params.at("struct_path") == (native ? "native" : "json"));
      CHECK(r.verify.mismatches() == 0);
      CHECK(r.verify.missing == 0);
      // The fuzz deleter may legitimately leave nothing to read or keep.
      if (w != "concurrent-fuzz") {
        CHECK(r.verify.verified > 0);
        CHECK(r.logical_bytes > 0);
      }
    }
  }
  RepResult null = RunPreset("null", "typed-struct",
                             {{"keys", "200"}, {"ops", "1000"}}, dir.path());
  CHECK(null.errors == 0);
  CHECK_FALSE(null.verify.enabled);
  CHECK(null.params.at("struct_path") == "json");
}

}  // namespace
}  // namespace kvb
