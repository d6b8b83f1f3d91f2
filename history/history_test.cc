// history_test: the database (creation, idempotent add, refusal of foreign,
// damaged and newer files without writing them, migration), series, the
// change-point method, the against-history baseline, the dashboard page and
// the command's errors.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/testing/test_util.h"
#include "history/changepoints.h"
#include "history/commands.h"
#include "history/dashboard.h"
#include "report/page.h"
#include "history/schema.h"
#include "history/store.h"
#include "results/file.h"

namespace kvb::history {
namespace {

using json = nlohmann::json;

struct Bench {
  std::string workload = "read-heavy", engine = "memory", spec = "memory";
  std::vector<double> ops;  // one repetition each
  std::string keys = "10000";
  std::string durability = "process";  // the class the adapter ran at
  std::string cache_mb = "64";         // an engine option (defaults filled in)
};

json Context(const std::string& rev, const std::string& date) {
  return json{{"schema_version", 2},
              {"date", date},
              {"host_name", "h"},
              {"cpu_model", "Test CPU"},
              {"num_cpus", 2},
              {"memory_bytes", 4.0 * (1 << 30)},
              {"build_type", "Release"},
              {"git_revision", rev},
              {"library_versions", {{"sqlite", "3.40.1"}}}};
}

json Run(const std::string& rev, const std::string& date,
         const std::vector<Bench>& benches) {
  json b = json::array();
  for (const Bench& x : benches) {
    std::string name = x.workload + "/" + x.spec + "/keys:" + x.keys + "/threads:1";
    for (size_t r = 0; r < x.ops.size(); ++r)
      b.push_back(json{{"name", name},
                       {"run_name", name},
                       {"run_type", "iteration"},
                       {"repetitions", x.ops.size()},
                       {"repetition_index", r},
                       {"threads", 1},
                       {"engine", x.engine},
                       {"engine_spec", x.spec},
                       {"workload", x.workload},
                       {"iterations", 1000},
                       {"items_per_second", x.ops[r]},
                       {"real_time", 1e9 / x.ops[r]},
                       {"cpu_time", 1e9 / x.ops[r]},
                       {"params",
                        {{"keys", x.keys}, {"seed", std::to_string(r)},
                         {"durability", "process"}}},
                       {"durability",
                        {{"class", x.durability},
                         {"settings", "settings of " + x.durability}}},
                       {"engine_options",
                        {{"durability", x.durability}, {"cache_mb", x.cache_mb}}},
                       {"engine_stats", {{"files", 3}}},
                       {"latency", {{"read", {{"count", 1000}, {"p99_ns", 900}}}}}});
  }
  return json{{"context", Context(rev, date)},
              {"config", {{"suite", "ci-gate"}, {"settings", {{"verify", true}}}}},
              {"benchmarks", b}};
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::unique_ptr<Db> Create(const std::string& path) {
  Result<std::unique_ptr<Db>> db = OpenHistory(path, {.create = true});
  REQUIRE(db.ok());
  return std::move(*db);
}

TEST_CASE("history: a missing file is created only by add") {
  testing::TempDir dir;
  Result<std::unique_ptr<Db>> r = OpenHistory(dir.Sub("h.sqlite"), {});
  REQUIRE(!r.ok());
  CHECK(r.status().IsNotFound());
  std::unique_ptr<Db> db = Create(dir.Sub("sub/h.sqlite"));
  Result<int> v = SchemaVersionOf(db.get());
  REQUIRE(v.ok());
  CHECK(*v == kSchemaVersion);
}

TEST_CASE("history: add is idempotent and records the context") {
  testing::TempDir dir;
  std::unique_ptr<Db> db = Create(dir.Sub("h.sqlite"));
  json run = Run("abc1234", "2026-01-01T00:00:00Z", {{.ops = {100, 101, 99}}});
  Result<AddOutcome> a = AddResults(db.get(), run, {.source = "a.json"});
  REQUIRE(a.ok());
  CHECK(!a->already);
  CHECK(a->entries == 3);
  Result<AddOutcome> again = AddResults(db.get(), run, {.source = "a.json"});
  REQUIRE(again.ok());
  CHECK(again->already);
  CHECK(again->run_id == a->run_id);
  Result<std::vector<RunInfo>> runs = ListRuns(db.get());
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 1);
  CHECK((*runs)[0].git_revision == "abc1234");
  CHECK((*runs)[0].machine_class == "Test CPU x2, 4 GiB");
  auto s = db->Prepare(
      "SELECT durability_class, durability_settings, engine_options, "
      "engine_state, param_set FROM entries");
  REQUIRE(s.ok());
  REQUIRE(*(*s)->Step());
  CHECK((*s)->Text(0) == "process");
  CHECK((*s)->Text(1) == "settings of process");
  CHECK((*s)->Text(2) == R"({"cache_mb":"64","durability":"process"})");
  CHECK((*s)->Text(3) == R"({"files":3})");
  const std::string pset = (*s)->Text(4);
  CHECK(pset.find("seed") == std::string::npos);
  CHECK(pset.find(R"("keys":"10000")") != std::string::npos);
  CHECK(pset.find(R"("durability.class":"process")") != std::string::npos);
}

TEST_CASE("history: foreign and damaged files are refused and left unchanged") {
  testing::TempDir dir;
  SECTION("a results file") {
    std::string p = dir.Sub("results.json");
    std::ofstream(p) << "{\"context\":{}}";
    std::string before = ReadAll(p);
    Result<std::unique_ptr<Db>> r = OpenHistory(p, {.create = true});
    REQUIRE(!r.ok());
    CHECK(std::string(r.status().message()).find("not an SQLite database") !=
          std::string::npos);
    CHECK(ReadAll(p) == before);
  }
  SECTION("an empty file") {
    std::string p = dir.Sub("empty");
    std::ofstream(p).flush();
    REQUIRE(!OpenHistory(p, {.create = true}).ok());
    CHECK(ReadAll(p).empty());
  }
  SECTION("another program's SQLite database") {
    std::string p = dir.Sub("other.sqlite");
    {
      auto db = Db::Open(p, true);
      REQUIRE(db.ok());
      REQUIRE((*db)->Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)").ok());
    }
    std::string before = ReadAll(p);
    Result<std::unique_ptr<Db>> r = OpenHistory(p, {.create = true});
    REQUIRE(!r.ok());
    CHECK(std::string(r.status().message()).find("not a kvbench history (tables: t)") !=
          std::string::npos);
    CHECK(ReadAll(p) == before);
  }
  SECTION("a damaged history") {
    std::string p = dir.Sub("h.sqlite");
    {
      std::unique_ptr<Db> db = Create(p);
      REQUIRE(AddResults(db.get(), Run("a", "d", {{.ops = {1, 2, 3}}}), {}).ok());
    }
    std::string bytes = ReadAll(p);
    REQUIRE(bytes.size() > 4096 * 2);
    for (size_t i = 4096 + 8; i < 4096 + 200; ++i) bytes[i] = '\xA5';
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    Result<std::unique_ptr<Db>> r = OpenHistory(p, {.create = true});
    REQUIRE(!r.ok());
    CHECK(std::string(r.status().message()).find("damaged") != std::string::npos);
    CHECK(std::string(r.status().message()).find('\n') == std::string::npos);
    std::ostringstream out, err;
    CHECK(RunHistoryCommand({"runs", "--db", p}, out, err) == 2);
    const std::string e = err.str();
    CHECK(e.find("damaged") != std::string::npos);
    CHECK(std::count(e.begin(), e.end(), '\n') == 1);
    CHECK(ReadAll(p) == bytes);
  }
  SECTION("a newer schema") {
    std::string p = dir.Sub("h.sqlite");
    {
      std::unique_ptr<Db> db = Create(p);
      REQUIRE(db->Exec("UPDATE schema_version SET version = 99").ok());
    }
    std::string before = ReadAll(p);
    Result<std::unique_ptr<Db>> r = OpenHistory(p, {});
    REQUIRE(!r.ok());
    CHECK(r.status().IsNotSupported());
    CHECK(ReadAll(p) == before);
  }
}

TEST_CASE("history: a version 1 file is migrated to the current schema") {
  testing::TempDir dir;
  std::string p = dir.Sub("h.sqlite");
  {
    Result<std::unique_ptr<Db>> v1 =
        OpenHistory(p, {.create = true, .target_version = 1});
    REQUIRE(v1.ok());
    CHECK(*SchemaVersionOf(v1->get()) == 1);
    // Version 1 has no durability column: the current writer cannot add.
    CHECK(!AddResults(v1->get(), Run("a", "d", {{.ops = {1}}}), {}).ok());
    // A run as a version-1 writer stored it.
    REQUIRE((*v1)->Exec(
                   "INSERT INTO runs VALUES (1, 'd1', 'old.json', '2025-12-01T00:00:00Z', "
                   "'0123abc', '', 'Test CPU x2, 4 GiB', 'h', 'Release', '', '', '{}', "
                   "'ci-gate', '{}', '{}', '2025-12-01T00:00:00Z');"
                   "INSERT INTO entries VALUES (1, 1, '', 'Test CPU x2, 4 GiB', "
                   "'read-heavy/memory/keys:10000/threads:1', "
                   "'read-heavy/memory/keys:10000/threads:1', 0, 'memory', 'memory', "
                   "'read-heavy', 1, '{}', 123.0, 123.0, NULL, NULL, NULL, '{}')")
                .ok());
  }
  std::unique_ptr<Db> db = Create(p);
  CHECK(*SchemaVersionOf(db.get()) == 2);
  // The old rows survive with the new columns at their defaults.
  auto s = db->Prepare(
      "SELECT r.git_revision, r.results_schema, e.ops_per_s, e.durability_class, "
      "e.engine_options FROM entries e JOIN runs r ON e.run_id = r.id");
  REQUIRE(s.ok());
  REQUIRE(*(*s)->Step());
  CHECK((*s)->Text(0) == "0123abc");
  CHECK((*s)->Int(1) == 1);
  CHECK((*s)->Double(2) == 123.0);
  CHECK((*s)->Text(3).empty());
  CHECK((*s)->Text(4).empty());
  CHECK(AddResults(db.get(), Run("a", "d", {{.ops = {1}}}), {}).ok());
  // A version-1 point and a version-2 point are different series.
  Result<std::vector<Series>> series = LoadSeries(db.get(), {});
  REQUIRE(series.ok());
  CHECK(series->size() == 2);
}

std::vector<double> Reps(double centre, double spread) {
  return {centre * (1 - spread), centre, centre * (1 + spread),
          centre * (1 - spread / 2), centre * (1 + spread / 2)};
}

TEST_CASE("history: change points find one step and nothing in noise") {
  std::vector<std::vector<double>> pts;
  const double drift[] = {1.0, 1.03, 0.98, 1.01, 0.97, 1.02, 0.99, 1.0, 1.02, 0.98};
  for (int i = 0; i < 10; ++i)
    pts.push_back(Reps((i < 6 ? 1000 : 700) * drift[i], 0.02));
  std::vector<ChangePoint> cps = FindChangePoints(pts, {});
  REQUIRE(cps.size() == 1);
  CHECK(cps[0].index == 6);
  CHECK(cps[0].change_pct == Approx(-30).margin(3));
  CHECK(cps[0].p < 1e-6);

  std::vector<std::vector<double>> flat;
  for (int i = 0; i < 10; ++i) flat.push_back(Reps(1000 * drift[i], 0.02));
  CHECK(FindChangePoints(flat, {}).empty());
  // One odd point is not a step (each side needs two points).
  flat[4] = Reps(700, 0.02);
  CHECK(FindChangePoints(flat, {}).empty());
  // A step below the threshold is not reported.
  std::vector<std::vector<double>> small;
  for (int i = 0; i < 10; ++i) small.push_back(Reps(i < 5 ? 1000 : 950, 0.001));
  CHECK(FindChangePoints(small, {}).empty());
}

TEST_CASE("history: series group by commit or run, and by engine name") {
  testing::TempDir dir;
  std::unique_ptr<Db> db = Create(dir.Sub("h.sqlite"));
  const char* dates[] = {"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z",
                         "2026-01-01T00:00:03Z"};
  for (int i = 0; i < 3; ++i) {
    Bench b{.engine = "null", .spec = "null:delay_ns=" + std::to_string(i < 2 ? 100 : 200),
            .ops = {1000.0 - i, 1001.0 - i}};
    REQUIRE(AddResults(db.get(), Run(i ? "bbb" : "aaa", dates[i], {b, {.ops = {5, 6}}}),
                       {.source = std::to_string(i)})
                .ok());
  }
  Result<std::vector<Series>> by_commit = LoadSeries(db.get(), {});
  REQUIRE(by_commit.ok());
  CHECK(by_commit->size() == 3);  // memory, null:delay_ns=100, =200
  for (const Series& s : *by_commit)
    if (s.name.find("memory") != std::string::npos) CHECK(s.points.size() == 2);
  Result<std::vector<Series>> joined = LoadSeries(
      db.get(), {.grouping = Grouping::kRun, .ignore_engine_options = true});
  REQUIRE(joined.ok());
  REQUIRE(joined->size() == 2);
  for (const Series& s : *joined) CHECK(s.points.size() == 3);
  Result<std::vector<Series>> one =
      LoadSeries(db.get(), {.name = "read-heavy/memory/keys:10000/threads:1"});
  REQUIRE(one.ok());
  CHECK(one->size() == 1);
}

TEST_CASE("history: the baseline of --against-history takes the last N matching runs") {
  testing::TempDir dir;
  std::unique_ptr<Db> db = Create(dir.Sub("h.sqlite"));
  for (int i = 0; i < 4; ++i) {
    std::string date = "2026-01-0" + std::to_string(i + 1) + "T00:00:00Z";
    REQUIRE(AddResults(db.get(), Run("r" + std::to_string(i), date, {{.ops = {100.0 + i}}}), {})
                .ok());
  }
  // Other parameters: never part of the baseline.
  REQUIRE(AddResults(db.get(), Run("x", "2026-02-01T00:00:00Z", {{.ops = {1}, .keys = "5"}}), {})
              .ok());
  json next = Run("new", "2026-03-01T00:00:00Z", {{.ops = {100}}});
  Result<HistoryBase> base = BaseFromHistory(db.get(), next, 2);
  REQUIRE(base.ok());
  REQUIRE(base->used.size() == 2);
  CHECK(base->used[0].git_revision == "r3");
  CHECK(base->used[1].git_revision == "r2");
  CHECK(base->results["benchmarks"].size() == 2);
  CHECK(base->results["benchmarks"][0]["items_per_second"] == 102.0);
  // The new run itself, once added, is not its own baseline.
  REQUIRE(AddResults(db.get(), next, {}).ok());
  Result<HistoryBase> again = BaseFromHistory(db.get(), next, 2);
  REQUIRE(again.ok());
  CHECK(again->used[0].git_revision == "r3");
}

TEST_CASE("history: other durability or engine options are never one series") {
  testing::TempDir dir;
  std::unique_ptr<Db> db = Create(dir.Sub("h.sqlite"));
  const char* dates[] = {"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z",
                         "2026-01-01T00:00:03Z", "2026-01-01T00:00:04Z"};
  // Same name and params.durability; the adapter ran at another class (run
  // 2), or with another default option (run 3).
  const Bench variants[] = {{.ops = {100}},
                            {.ops = {101}},
                            {.ops = {50}, .durability = "sync"},
                            {.ops = {99}, .cache_mb = "128"}};
  for (int i = 0; i < 4; ++i)
    REQUIRE(AddResults(db.get(), Run("r" + std::to_string(i), dates[i], {variants[i]}),
                       {.source = std::to_string(i)})
                .ok());
  Result<std::vector<Series>> all = LoadSeries(db.get(), {.grouping = Grouping::kRun});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  size_t two = 0;
  for (const Series& s : *all) two += s.points.size() == 2;
  CHECK(two == 1);
  // Ignoring engine options joins run 3, never the other durability class.
  Result<std::vector<Series>> joined = LoadSeries(
      db.get(), {.grouping = Grouping::kRun, .ignore_engine_options = true});
  REQUIRE(joined.ok());
  REQUIRE(joined->size() == 2);
  for (const Series& s : *joined)
    CHECK(s.points.size() == (s.param_set.find("sync") != std::string::npos ? 1u : 3u));
  // The against-history baseline of a process-class run takes runs 0 and 1.
  Result<HistoryBase> base =
      BaseFromHistory(db.get(), Run("new", "2026-02-01T00:00:00Z", {{.ops = {100}}}), 10);
  REQUIRE(base.ok());
  REQUIRE(base->used.size() == 2);
  CHECK(base->used[0].git_revision == "r1");
  CHECK(base->used[1].git_revision == "r0");
  // --ignore-engine-options: run 3 joins, the sync run still does not.
  Result<HistoryBase> joined_base = BaseFromHistory(
      db.get(), Run("new", "2026-02-01T00:00:00Z", {{.ops = {100}, .cache_mb = "256"}}), 10,
      true);
  REQUIRE(joined_base.ok());
  REQUIRE(joined_base->used.size() == 3);
  CHECK(joined_base->used[0].git_revision == "r3");
}

TEST_CASE("history: a planted step in ten real-shaped runs is the one change point") {
  testing::TempDir dir;
  std::unique_ptr<Db> db = Create(dir.Sub("h.sqlite"));
  const double drift[] = {1.0, 1.03, 0.98, 1.01, 0.97, 1.02, 0.99, 1.0, 1.02, 0.98};
  for (int i = 0; i < 10; ++i) {
    std::vector<double> slow = Reps((i < 6 ? 1000 : 750) * drift[i], 0.02);
    std::vector<double> flat = Reps(500 * drift[9 - i], 0.02);
    std::string date = "2026-01-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1) +
                       "T00:00:00Z";
    REQUIRE(AddResults(db.get(),
                       Run("rev" + std::to_string(i), date,
                           {{.engine = "lmdb", .spec = "lmdb", .ops = slow},
                            {.engine = "linhash", .spec = "linhash", .ops = flat}}),
                       {.source = std::to_string(i)})
                .ok());
  }
  std::ostringstream out, err;
  REQUIRE(RunHistoryCommand({"regressions", "--db", dir.Sub("h.sqlite")}, out, err) == 0);
  INFO(out.str());
  const std::string o = out.str();
  CHECK(o.find("2 series (2 long enough to judge), 1 change point, 1 regression") !=
        std::string::npos);
  CHECK(o.find("REGRESSION read-heavy/lmdb/") != std::string::npos);
  CHECK(o.find("between rev5 and rev6") != std::string::npos);
  CHECK(o.find("linhash") == std::string::npos);
}

TEST_CASE("history: compare --against-history gates a run on the last N runs") {
  testing::TempDir dir;
  std::string db = dir.Sub("h.sqlite");
  for (int i = 0; i < 4; ++i) {
    std::string f = dir.Sub("r" + std::to_string(i) + ".json");
    REQUIRE(WriteJsonFile(f, Run("rev" + std::to_string(i),
                                 "2026-01-0" + std::to_string(i + 1) + "T00:00:00Z",
                                 {{.ops = Reps(1000, 0.01)}}))
                .ok());
    std::ostringstream out, err;
    REQUIRE(RunHistoryCommand({"add", "--db", db, f}, out, err) == 0);
  }
  std::string slow = dir.Sub("slow.json");
  REQUIRE(WriteJsonFile(slow, Run("new", "2026-02-01T00:00:00Z", {{.ops = Reps(600, 0.01)}}))
              .ok());
  std::ostringstream out, err;
  int rc = RunCompareCommand({"--against-history", "3", "--db", db, slow, "--gate",
                              "--threshold", "10", "--junit", dir.Sub("gate.xml")},
                             out, err);
  INFO(out.str() + err.str());
  CHECK(rc == 1);
  CHECK(out.str().find("the last 3 matching runs of " + db + ": 3 run(s) used") !=
        std::string::npos);
  CHECK(out.str().find("rev3") != std::string::npos);
  CHECK(out.str().find("rev0") == std::string::npos);
  CHECK(ReadAll(dir.Sub("gate.xml")).find("<failure type=\"regression\"") !=
        std::string::npos);
  // A damaged or missing history: a one-line error, exit 2.
  std::ostringstream out2, err2;
  CHECK(RunCompareCommand({"--against-history", "3", "--db", dir.Sub("none.sqlite"), slow},
                          out2, err2) == 2);
  const std::string e = err2.str();
  CHECK(std::count(e.begin(), e.end(), '\n') == 1);
}

TEST_CASE("history: the dashboard page holds every series and its change points") {
  Series s{.machine_class = "m", .name = "read-heavy/linhash/keys:1/threads:1"};
  for (int i = 0; i < 6; ++i)
    s.points.push_back({.label = "rev" + std::to_string(i), .values = {i < 3 ? 10.0 : 5.0}});
  std::string html = DashboardHtml({{&s, {ChangePoint{.index = 3, .change_pct = -50}}}}, "h",
                                   "ops/s");
  CHECK(html.find("id=\"series-0\"") != std::string::npos);
  CHECK(html.find("\"index\":3") != std::string::npos);
  CHECK(html.find(report::EngineColour("linhash")) != std::string::npos);
  // Self-contained: nothing the browser would fetch (Chart.js is inlined;
  // its source mentions https:// in comments and messages only).
  for (const char* fetch : {"src=\"http", "src='http", "href=\"http", "<link",
                            "@import", "url(http", "<script src"})
    CHECK(html.find(fetch) == std::string::npos);
  CHECK(report::EngineColour("linhash:x=1") == report::EngineColour("linhash"));
}

TEST_CASE("history: the command's errors are one line, exit 2") {
  testing::TempDir dir;
  std::ostringstream out, err;
  CHECK(RunHistoryCommand({}, out, err) == 2);
  CHECK(RunHistoryCommand({"frobnicate"}, out, err) == 2);
  CHECK(RunHistoryCommand({"regressions", "--db", dir.Sub("none.sqlite")}, out, err) == 2);
  CHECK(RunHistoryCommand({"add", "--db", dir.Sub("h.sqlite"), dir.Sub("missing.json")}, out,
                          err) == 2);
  std::string p = dir.Sub("notdb");
  std::ofstream(p) << "hello";
  err.str("");
  CHECK(RunHistoryCommand({"runs", "--db", p}, out, err) == 2);
  CHECK(err.str().find("not an SQLite database") != std::string::npos);
  const std::string e = err.str();
  CHECK(std::count(e.begin(), e.end(), '\n') == 1);
  CHECK(ReadAll(p) == "hello");
}

TEST_CASE("history: add twice through the command") {
  testing::TempDir dir;
  std::string f = dir.Sub("results.json");
  REQUIRE(WriteJsonFile(f, Run("abc", "2026-01-01T00:00:00Z", {{.ops = {1, 2}}})).ok());
  std::ostringstream out, err;
  std::string db = dir.Sub("h.sqlite");
  REQUIRE(RunHistoryCommand({"add", "--db", db, f}, out, err) == 0);
  REQUIRE(RunHistoryCommand({"add", "--db", db, dir.path()}, out, err) == 0);
  CHECK(out.str().find("added as run 1 (2 entries)") != std::string::npos);
  CHECK(out.str().find("already in the history (run 1)") != std::string::npos);
  out.str("");
  REQUIRE(RunHistoryCommand({"show", "read-heavy/memory/keys:10000/threads:1", "--db", db},
                            out, err) == 0);
  CHECK(out.str().find("abc") != std::string::npos);
  // The run went on and rewrote its file: the new version replaces run 1.
  REQUIRE(WriteJsonFile(f, Run("abc", "2026-01-01T00:00:00Z", {{.ops = {1, 2, 3}}})).ok());
  out.str("");
  REQUIRE(RunHistoryCommand({"add", "--db", db, f}, out, err) == 0);
  CHECK(out.str().find("added as run 2 (3 entries, replacing run 1") != std::string::npos);
  Result<std::unique_ptr<Db>> d = OpenHistory(db, {});
  REQUIRE(d.ok());
  Result<std::vector<RunInfo>> runs = ListRuns(d->get());
  REQUIRE(runs.ok());
  CHECK(runs->size() == 1);
}

}  // namespace
}  // namespace kvb::history
