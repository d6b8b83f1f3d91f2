#include "report/report.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/testing/test_util.h"
#include "report/commands.h"
#include "report/compare.h"
#include "report/fixtures.h"
#include "report/process.h"

namespace kvb::report {
namespace {

using testing::FixtureContext;
using testing::FixturePoint;
using testing::MakeResults;
using testing::WriteJson;
namespace fs = std::filesystem;

FixturePoint Pt(const std::string& engine, double ops, double p99, double disk,
                int reps = 6, const std::string& workload = "read-heavy") {
  FixturePoint p;
  p.engine = engine;
  p.workload = workload;
  for (int i = 0; i < reps; ++i)
    p.ops_per_s.push_back(ops * (1 + 0.01 * (i % 3) - 0.01));
  p.p99_ns = p99;
  p.bytes_on_disk = disk;
  return p;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string ReportOf(const nlohmann::json& results,
                     kvb::testing::TempDir* dir) {
  REQUIRE(WriteJson(dir->Sub("results.json"), results));
  std::ostringstream out, err;
  REQUIRE(RunReportCommand({dir->path(), "--no-plots"}, out, err) == 0);
  return ReadFile(dir->Sub("report.md"));
}

// The recommendation line that starts with `label`, or "".
std::string Line(const std::string& md, const std::string& label) {
  size_t at = md.find(label);
  if (at == std::string::npos) return "";
  return md.substr(at, md.find('\n', at) - at);
}

TEST_CASE("recommendations rank only engines of one class and state",
          "[report]") {
  kvb::testing::TempDir dir("kvb-report-condition");
  auto at = [](FixturePoint p, const char* cls, const char* state) {
    p.durability = cls;
    p.engine_state = state;
    return p;
  };
  FixturePoint rocks = at(Pt("rocksdb", 150000, 3000, 8 << 20), "process",
                          "settled");
  rocks.settle_ms = 42;
  rocks.state_figures = {{"num-files-at-level0", 0},
                         {"cur-size-all-mem-tables", 2048}};
  std::string md = ReportOf(
      MakeResults({at(Pt("linhash", 900000, 2000, 8 << 20), "memory", "settled"),
                   rocks,
                   at(Pt("lmdb", 100000, 4000, 8 << 20), "process", "settled"),
                   at(Pt("sqlite", 50000, 9000, 4 << 20), "sync", "settled")}),
      &dir);
  // linhash is fastest but at `memory`: not ranked with the process engines.
  std::string best = Line(md, "**Best throughput**");
  CHECK(best.find("among engines at durability process, state settled") !=
        std::string::npos);
  CHECK(best.find("rocksdb") < best.find("lmdb"));
  CHECK(best.find("linhash") == std::string::npos);
  std::string other = Line(md, "Not ranked with them");
  CHECK(other.find("linhash at durability memory, state settled") !=
        std::string::npos);
  CHECK(other.find("sqlite at durability sync") != std::string::npos);
  // The state table: the settle time and the engine's figures.
  CHECK(md.find("| rocksdb | settled | 42.0 ms | cur-size-all-mem-tables "
                "2048, num-files-at-level0 0 |") != std::string::npos);
}

TEST_CASE("a group whose every engine failed gets no ranking and no crash",
          "[report]") {
  kvb::testing::TempDir dir("kvb-report-all-failed");
  FixturePoint bad = Pt("rocksdb", 150000, 3000, 8 << 20);
  bad.mismatches = 3;
  bad.durability = "process";
  bad.engine_state = "settled";
  std::string md = ReportOf(MakeResults({bad}), &dir);
  CHECK(Line(md, "**Excluded**").find("rocksdb") != std::string::npos);
  CHECK(md.find("**Best throughput**") == std::string::npos);
}

TEST_CASE("report names the clearly fastest engine and has every table",
          "[report]") {
  kvb::testing::TempDir dir("kvb-report-md");
  std::string md =
      ReportOf(MakeResults({Pt("lmdb", 200000, 3000, 8 << 20),
                            Pt("sqlite", 90000, 9000, 4 << 20),
                            Pt("linhash", 450000, 5000, 12 << 20)}),
               &dir);
  CHECK(md.find("## Environment") != std::string::npos);
  CHECK(md.find("| CPU | AMD EPYC 7713") != std::string::npos);
  CHECK(md.find("## Caveats") != std::string::npos);
  CHECK(md.find("## Which engine for which workload") != std::string::npos);
  CHECK(md.find("| # | engine | ops/s (median) | 95% CI |") !=
        std::string::npos);
  CHECK(md.find("| p99 | p99.9 | p99.99 |") != std::string::npos);
  // linhash: p99 5 µs in the fixture, p99.99 five times that (median rep).
  CHECK(Line(md, "| 1 | linhash").find("| 25.2 µs |") != std::string::npos);
  CHECK(Line(md, "**Best throughput**").find("linhash") != std::string::npos);
  CHECK(Line(md, "**Best throughput**").find("significantly ahead of lmdb") !=
        std::string::npos);
  CHECK(Line(md, "**Best tail latency**").find("lmdb") != std::string::npos);
  CHECK(Line(md, "**Smallest footprint on disk**").find("sqlite") !=
        std::string::npos);
  // The fixtures carry no per-repetition peak: say what the figure is.
  CHECK(Line(md, "**Lowest memory**").find("largest at a phase end") !=
        std::string::npos);
  // Ranked: linhash first, then lmdb, then sqlite.
  size_t l = md.find("| 1 | linhash"), m = md.find("| 2 | lmdb"),
         s = md.find("| 3 | sqlite");
  CHECK(l != std::string::npos);
  CHECK(m != std::string::npos);
  CHECK(s != std::string::npos);
  CHECK(md.find("Plots were skipped: --no-plots") != std::string::npos);
}

TEST_CASE("report shows the resident fraction and the memory cap",
          "[report]") {
  kvb::testing::TempDir dir("kvb-report-cache");
  nlohmann::json results = MakeResults(
      {Pt("lmdb", 200000, 3000, 8 << 20), Pt("linhash", 450000, 5000, 12 << 20)});
  for (auto& b : results["benchmarks"]) {
    if (b.value("run_type", "") != "iteration") continue;
    b["resident_at_run_start"] = b["engine"] == "linhash" ? 0.25 : 0.5;
    if (b["engine"] == "linhash") {
      b["memory_limit"] = {{"limit_bytes", 256 << 20}, {"cgroup", "v1"},
                           {"peak_bytes", 255 << 20}, {"oom_kills", 0},
                           {"run_end_file_bytes", 200 << 20}};
    }
  }
  std::string md = ReportOf(results, &dir);
  CHECK(md.find("Page cache and memory cap") != std::string::npos);
  INFO(md);
  CHECK(Line(md, "| linhash | 25.0 %").find("| 256") != std::string::npos);
  CHECK(Line(md, "| lmdb | 50.0 % | none |") != "");
  CHECK(md.find("Per role") == std::string::npos);  // no roles recorded
}

TEST_CASE("report shows read-while-writing's roles apart", "[report]") {
  kvb::testing::TempDir dir("kvb-report-roles");
  nlohmann::json results =
      MakeResults({Pt("lmdb", 200000, 3000, 8 << 20, 6, "read-while-writing")});
  for (auto& b : results["benchmarks"]) {
    if (b.value("run_type", "") != "iteration") continue;
    b["roles"] = {{"reader", {{"threads", 3}, {"ops_per_s", 190000.0},
                              {"target_rate", 0}}},
                  {"writer", {{"threads", 1}, {"ops_per_s", 17990.0},
                              {"target_rate", 18000}}}};
  }
  std::string md = ReportOf(results, &dir);
  INFO(md);
  CHECK(Line(md, "| lmdb | reader | 3 | 190000 | closed loop |") != "");
  CHECK(Line(md, "| lmdb | writer | 1 | 17990 | 18000 ops/s |") != "");
}

TEST_CASE("report recommendation follows the numbers, not the names",
          "[report]") {
  kvb::testing::TempDir dir("kvb-report-md2");
  std::string md = ReportOf(MakeResults({Pt("linhash", 100000, 3000, 8 << 20),
                                         Pt("lmdb", 700000, 9000, 4 << 20)}),
                            &dir);
  CHECK(Line(md, "**Best throughput**").find("lmdb") != std::string::npos);
  CHECK(Line(md, "**Best tail latency**").find("linhash") != std::string::npos);
}

TEST_CASE(
    "report ranks persistent engines and shows in-memory ones as a ceiling",
    "[report]") {
  kvb::testing::TempDir dir("kvb-report-mem");
  FixturePoint mem = Pt("memory", 900000, 1000, 0);
  // 0 bytes on disk marks it in-memory even without the harness note.
  std::string md =
      ReportOf(MakeResults({mem, Pt("lmdb", 200000, 3000, 8 << 20)}), &dir);
  CHECK(Line(md, "**Best throughput**").find("lmdb") != std::string::npos);
  CHECK(Line(md, "In-memory ceiling").find("memory") != std::string::npos);
  // Only in-memory engines: they are ranked after all.
  kvb::testing::TempDir dir2("kvb-report-mem2");
  std::string only = ReportOf(MakeResults({mem}), &dir2);
  CHECK(Line(only, "**Best throughput**").find("memory") != std::string::npos);
}

TEST_CASE("report shows each engine's class, its cost per op and its crash "
          "check", "[report]") {
  kvb::testing::TempDir dir("kvb-report-dur");
  nlohmann::json j = MakeResults({Pt("lmdb", 200000, 3000, 8 << 20),
                                  Pt("linhash", 450000, 5000, 12 << 20)});
  for (nlohmann::json& e : j["benchmarks"]) {
    bool lmdb = e["engine"] == "lmdb";
    e["durability"] = {{"class", lmdb ? "sync" : "process"}, {"settings", "x"}};
    e["io_per_op"] = {{"flushes", lmdb ? 1.0 : 0.0},
                      {"write_calls", lmdb ? 2.5 : 1.0},
                      {"device_bytes", lmdb ? 8192.0 : 160.0}};
    e["crash_checked"] =
        lmdb ? nlohmann::json{{"checked", false}, {"ledger", "l"}}
             : nlohmann::json{{"checked", true}, {"trials", 20},
                              {"violations", 0}, {"ledger", "l"}};
  }
  std::string md = ReportOf(j, &dir);
  INFO(md);
  CHECK(md.find("| engine | durability | flushes/op |") != std::string::npos);
  CHECK(Line(md, "| lmdb | sync |").find("| 1.000 | 2.50 | 8192 | not checked |") !=
        std::string::npos);
  CHECK(Line(md, "| linhash | process |")
            .find("| 0.000 | 1.00 | 160 | 20 trials, 0 violations |") !=
        std::string::npos);
  // Older files (no durability object) get no such table.
  kvb::testing::TempDir dir2("kvb-report-dur2");
  CHECK(ReportOf(MakeResults({Pt("lmdb", 200000, 3000, 8 << 20)}), &dir2)
            .find("| engine | durability |") == std::string::npos);
}

TEST_CASE("report gives the harness's overhead from the null adapter",
          "[report]") {
  kvb::testing::TempDir dir("kvb-report-null");
  // lmdb 400 k ops/s, null 8 M ops/s: the harness is 5 % of lmdb's op time.
  std::string md = ReportOf(MakeResults({Pt("null", 8000000, 100, 0),
                                         Pt("lmdb", 400000, 3000, 8 << 20)}),
                            &dir);
  std::string line = Line(md, "Harness overhead");
  CHECK(line.find("about 5.0 % of the time per op of lmdb") !=
        std::string::npos);
  // null is never the best engine.
  CHECK(Line(md, "**Best throughput**").find("lmdb") != std::string::npos);
  kvb::testing::TempDir dir2("kvb-report-nonull");
  std::string none =
      ReportOf(MakeResults({Pt("lmdb", 400000, 3000, 8 << 20)}), &dir2);
  CHECK(none.find("Harness overhead") == std::string::npos);
}

TEST_CASE("report says when the leaders are not significantly different",
          "[report]") {
  kvb::testing::TempDir dir("kvb-report-tie");
  FixturePoint a = Pt("lmdb", 0, 3000, 1 << 20),
               b = Pt("sqlite", 0, 3000, 1 << 20);
  a.ops_per_s = {100, 104, 98, 102, 97, 103};
  b.ops_per_s = {101, 99, 103, 96, 100, 102};
  std::string md = ReportOf(MakeResults({a, b}), &dir);
  CHECK(Line(md, "**Best throughput**").find("not significantly different") !=
        std::string::npos);
}

TEST_CASE("report prints no p-value where no test is possible", "[report]") {
  // One repetition each (the quick suite): a U test cannot reach p < 0.05,
  // so "not significantly different (p = 1.000)" would be a claim without a
  // test.
  kvb::testing::TempDir dir("kvb-report-onerep");
  std::string md =
      ReportOf(MakeResults({Pt("linhash", 900000, 3000, 1 << 20, 1),
                            Pt("fileperkey", 100000, 3000, 1 << 20, 1)}),
               &dir);
  std::string best = Line(md, "**Best throughput**");
  INFO(best);
  CHECK(best.find("linhash") != std::string::npos);
  CHECK(best.find("**not tested** against fileperkey -8") != std::string::npos);
  CHECK(best.find("p =") == std::string::npos);
  CHECK(best.find("not significantly different") == std::string::npos);
  // Enough repetitions: the test runs and its p is printed.
  kvb::testing::TempDir dir2("kvb-report-sixrep");
  std::string six =
      ReportOf(MakeResults({Pt("linhash", 900000, 3000, 1 << 20, 6),
                            Pt("fileperkey", 100000, 3000, 1 << 20, 6)}),
               &dir2);
  CHECK(Line(six, "**Best throughput**").find("significantly ahead of") !=
        std::string::npos);
}

TEST_CASE("report does not rank tail latency across batch and per-key samples",
          "[report]") {
  // bulk-insert: a batching engine records one sample per batch of keys, the
  // others one per key; the per-key p99 is small only because it is per key.
  kvb::testing::TempDir dir("kvb-report-units");
  FixturePoint batched =
                   Pt("rocksdb", 400000, 1400000, 1 << 20, 6, "bulk-insert"),
               per_key =
                   Pt("fileperkey", 4000, 29000, 1 << 20, 6, "bulk-insert");
  batched.op = "batch";
  batched.latency_count = 20;  // 20 batch samples vs 20,000 per-key samples
  per_key.op = "insert";
  std::string md = ReportOf(MakeResults({batched, per_key}), &dir);
  CHECK(md.find("**Best tail latency**") == std::string::npos);
  std::string line = Line(md, "Tail latency is not ranked");
  INFO(md);
  CHECK(line.find("rocksdb (per batch)") != std::string::npos);
  CHECK(line.find("per insert") != std::string::npos);
}

TEST_CASE("rows of engines on assertion builds are marked", "[report]") {
  kvb::testing::TempDir dir("kvb-report-asserts");
  FixtureContext ctx;
  ctx.libraries = nlohmann::json::array(
      {{{"name", "rocksdb"}, {"version", "7.8.3"},
        {"path", "/usr/lib/x86_64-linux-gnu/librocksdb.so.7.8"},
        {"assertions", true}},
       {{"name", "lmdb"}, {"version", "LMDB 0.9.24"},
        {"path", "/usr/lib/x86_64-linux-gnu/liblmdb.so.0"},
        {"assertions", false}}});
  std::string md = ReportOf(MakeResults({Pt("lmdb", 200000, 3000, 8 << 20, 6),
                                         Pt("rocksdb", 150000, 4000, 8 << 20, 6)},
                                        ctx),
                            &dir);
  INFO(md);
  CHECK(md.find("| rocksdb ‡ |") != std::string::npos);
  CHECK(md.find("| lmdb |") != std::string::npos);
  CHECK(md.find("lmdb ‡") == std::string::npos);
  CHECK(md.find("‡ linked against a reference library built with assertions") !=
        std::string::npos);

  // Release builds everywhere: no mark, no footnote.
  ctx.libraries[0]["assertions"] = false;
  md = ReportOf(MakeResults({Pt("rocksdb", 150000, 4000, 8 << 20, 6)}, ctx),
                &dir);
  CHECK(md.find("‡") == std::string::npos);
}

TEST_CASE("report caveats come from the context and the data", "[report]") {
  kvb::testing::TempDir dir("kvb-report-cav");
  FixtureContext ctx;
  ctx.rotational = true;
  ctx.load_avg = 3.5;
  ctx.warnings = {
      "reference library built with assertions: Debian's librocksdb"};
  FixturePoint bad = Pt("typedmap", 900000, 1000, 1 << 20, 3);
  bad.mismatches = 7;
  std::string md = ReportOf(
      MakeResults({Pt("lmdb", 200000, 3000, 8 << 20, 3), bad}, ctx), &dir);
  CHECK(md.find("rotational disk") != std::string::npos);
  CHECK(md.find("the machine was loaded") != std::string::npos);
  CHECK(md.find("reference library built with assertions") !=
        std::string::npos);
  CHECK(md.find("only 3 repetitions") != std::string::npos);
  CHECK(md.find("21 mismatched reads") !=
        std::string::npos);  // 7 in each of 3 repetitions
  // The fast but wrong engine is excluded from the recommendation.
  CHECK(Line(md, "**Best throughput**").find("lmdb") != std::string::npos);
  CHECK(md.find("**Excluded**: typedmap") != std::string::npos);
  CHECK(md.find("†75%") != std::string::npos);  // 3 reps: min-max covers 75 %
  // 20000 ops at 200 k/s = 0.1 s; typedmap's 900 k/s run lasts 22 ms.
  CHECK(md.find("points measured for less than 100 ms") != std::string::npos);
  CHECK(md.find("typedmap") != std::string::npos);
}

TEST_CASE("report groups merged results by machine", "[report]") {
  kvb::testing::TempDir dir("kvb-report-mm");
  FixtureContext m2;
  m2.host = "node-2";
  REQUIRE(WriteJson(dir.Sub("s0.json"),
                    MakeResults({Pt("lmdb", 200000, 3000, 1 << 20)})));
  REQUIRE(WriteJson(dir.Sub("s1.json"),
                    MakeResults({Pt("lmdb", 100000, 3000, 1 << 20)}, m2)));
  fs::create_directories(dir.Sub("out"));
  std::ostringstream out, err;
  REQUIRE(RunMergeCommand({dir.Sub("out/results.json"), dir.Sub("s0.json"),
                           dir.Sub("s1.json")},
                          out, err) == 0);
  REQUIRE(RunReportCommand({dir.Sub("out"), "--no-plots"}, out, err) == 0);
  std::string md = ReadFile(dir.Sub("out/report.md"));
  CHECK(md.find("### Machine fixture-host") != std::string::npos);
  CHECK(md.find("### Machine node-2") != std::string::npos);
  CHECK(md.find("read-heavy — 20000 keys, 1 thread — node-2") !=
        std::string::npos);
}

bool HaveMatplotlib() {
  ProcessResult r = RunProcess(
      {"/usr/bin/python3", "-c", "import matplotlib, numpy"}, "/dev/null");
  return r.started && r.exit_code == 0;
}

TEST_CASE("report draws the plots with matplotlib", "[report][plots]") {
  if (!HaveMatplotlib()) {
    WARN("SKIPPED: /usr/bin/python3 with matplotlib is not available");
    return;
  }
  setenv("KVB_PLOTS_DIR", KVB_SOURCE_DIR "/plots", 1);
  kvb::testing::TempDir dir("kvb-report-plots");
  std::vector<FixturePoint> pts = {Pt("lmdb", 200000, 3000, 8 << 20),
                                   Pt("sqlite", 90000, 9000, 4 << 20)};
  FixturePoint t2 = Pt("lmdb", 350000, 3500, 8 << 20);
  t2.threads = 2;
  pts.push_back(t2);
  REQUIRE(WriteJson(dir.Sub("results.json"), MakeResults(pts)));
  std::ostringstream out, err;
  REQUIRE(RunReportCommand({dir.path()}, out, err) == 0);
  INFO(err.str());
  // throughput, latency, disk, thread scaling, time series; PNG and SVG each.
  int png = 0, svg = 0;
  for (const auto& e : fs::directory_iterator(dir.Sub("plots"))) {
    if (e.path().extension() == ".png") ++png;
    if (e.path().extension() == ".svg") ++svg;
    if (e.path().extension() == ".png" || e.path().extension() == ".svg") {
      CHECK(fs::file_size(e.path()) > 1000);
    }
  }
  CHECK(png == 5);
  CHECK(svg == 5);
  std::string md = ReadFile(dir.Sub("report.md"));
  CHECK(md.find("![throughput](plots/throughput.png)") != std::string::npos);
  CHECK(md.find("Plots were skipped") == std::string::npos);
}

TEST_CASE("report is still written when the plot interpreter is missing",
          "[report][plots]") {
  setenv("KVB_PYTHON", "/nonexistent/python3", 1);
  kvb::testing::TempDir dir("kvb-report-nopy");
  REQUIRE(WriteJson(dir.Sub("results.json"),
                    MakeResults({Pt("lmdb", 1000, 3000, 1 << 20)})));
  std::ostringstream out, err;
  CHECK(RunReportCommand({dir.path()}, out, err) == 0);
  unsetenv("KVB_PYTHON");
  std::string md = ReadFile(dir.Sub("report.md"));
  CHECK(md.find("Plots were skipped: cannot run /nonexistent/python3") !=
        std::string::npos);
}

}  // namespace
}  // namespace kvb::report
