#include "history/store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "core/hash.h"
#include "report/model.h"

namespace kvb::history {
namespace {

using json = nlohmann::json;

std::string Str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string NowUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The committer date of `rev` from git in the current directory, or "".
std::string GitDate(std::string rev) {
  if (size_t d = rev.find("-dirty"); d != std::string::npos) rev.resize(d);
  if (rev.size() < 7 || rev.size() > 40 ||
      rev.find_first_not_of("0123456789abcdef") != std::string::npos)
    return "";
  std::string cmd = "git log -1 --format=%cI " + rev + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "";
  char buf[64] = {};
  std::string out = fgets(buf, sizeof buf, p) ? buf : "";
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

// The op type with the most operations, and its p99.
double MainP99(const json& b) {
  if (!b.contains("latency") || !b["latency"].is_object()) return NAN;
  double best = -1, p99 = NAN;
  for (auto it = b["latency"].begin(); it != b["latency"].end(); ++it) {
    double count = it.value().value("count", 0.0);
    if (count > best && it.value().contains("p99_ns")) {
      best = count;
      p99 = it.value()["p99_ns"].get<double>();
    }
  }
  return p99;
}

double Number(const json& b, const char* key) {
  return b.contains(key) && b[key].is_number() ? b[key].get<double>() : NAN;
}

void BindNumber(Stmt* s, int i, double v) {
  if (std::isfinite(v)) {
    s->Bind(i, v);
  } else {
    s->BindNull(i);
  }
}

const json& SettingsOf(const json& results) {
  static const json kNone = json::object();
  if (results.contains("config") && results["config"].is_object() &&
      results["config"].contains("settings"))
    return results["config"]["settings"];
  return kNone;
}

// The context of entry `b`'s machine (merged files: context.machines).
const json& ContextOf(const json& results, const json& b) {
  const json& ctx = results["context"];
  std::string m = Str(b, "machine");
  if (!m.empty() && ctx.contains("machines") && ctx["machines"].contains(m))
    return ctx["machines"][m];
  return ctx;
}

Status InsertRun(Db* db, const json& results, const std::string& digest,
                 const AddOptions& o, int64_t* id) {
  const json& ctx = results["context"];
  const json config = results.value("config", json::object());
  KVB_ASSIGN_OR_RETURN(
      std::unique_ptr<Stmt> s,
      db->Prepare("INSERT INTO runs (digest, source, run_date, git_revision, "
                  "git_date, machine_class, host, build_type, compiler, "
                  "compiler_flags, library_versions, suite, context, config, "
                  "added_at, results_schema) VALUES "
                  "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  std::string mclass =
      o.machine_class.empty() ? MachineClassOf(ctx) : o.machine_class;
  const std::string fields[] = {
      digest,
      o.source,
      Str(ctx, "date"),
      Str(ctx, "git_revision"),
      GitDate(Str(ctx, "git_revision")),
      mclass,
      Str(ctx, "host_name"),
      Str(ctx, "build_type"),
      Str(ctx, "compiler"),
      Str(ctx, "compiler_flags"),
      ctx.contains("library_versions") ? ctx["library_versions"].dump() : "{}",
      Str(config, "suite"),
      ctx.dump(),
      config.dump(),
      NowUtc()};
  for (size_t i = 0; i < std::size(fields); ++i)
    s->Bind(static_cast<int>(i + 1), fields[i]);
  s->BindInt(static_cast<int>(std::size(fields) + 1),
             ctx.value("schema_version", 1));
  if (Status st = s->Run(); !st.ok()) return st;
  *id = db->LastInsertId();
  return Status::OK();
}

Status InsertEntry(Stmt* s, int64_t run, const json& results, const json& b,
                   const std::string& forced_class) {
  json e = b;
  if (!e.contains("settings")) e["settings"] = SettingsOf(results);
  const json& params = b.value("params", json::object());
  std::string engine = Str(b, "engine"), spec = Str(b, "engine_spec");
  std::string name = Str(b, "name");
  s->Reset();
  s->BindInt(1, run);
  s->Bind(2, Str(b, "machine"));
  s->Bind(3, forced_class.empty() ? MachineClassOf(ContextOf(results, b))
                                  : forced_class);
  s->Bind(4, name);
  s->Bind(5, StripEngineOptions(name, engine, spec));
  s->BindInt(6, b.value("repetition_index", 0));
  s->Bind(7, engine);
  s->Bind(8, spec);
  s->Bind(9, Str(b, "workload"));
  s->BindInt(10, b.value("threads", 1));
  s->Bind(11, ParamSet(b, e["settings"]));
  double cpu = Number(b, "cpu_time");
  BindNumber(s, 12, Number(b, "items_per_second"));
  BindNumber(s, 13, cpu > 0 ? 1e9 / cpu : NAN);
  BindNumber(s, 14, MainP99(b));
  BindNumber(s, 15, Number(b, "bytes_on_disk"));
  BindNumber(s, 16, Number(b, "instructions_per_op"));
  s->Bind(17, e.dump());
  const json& d = b.value("durability", json::object());
  s->Bind(18, d.is_object() ? Str(d, "class") : Str(params, "durability"));
  s->Bind(19, d.is_object() ? Str(d, "settings") : "");
  s->Bind(20, EngineOptionsOf(b));
  s->Bind(21, b.contains("engine_state")   ? b["engine_state"].dump()
              : b.contains("engine_stats") ? b["engine_stats"].dump()
                                           : "");
  return s->Run();
}

Status InsertEntries(Db* db, int64_t run, const json& results,
                     const AddOptions& o, size_t* count) {
  KVB_ASSIGN_OR_RETURN(
      std::unique_ptr<Stmt> s,
      db->Prepare("INSERT INTO entries (run_id, machine, machine_class, name, "
                  "series_name, repetition_index, engine, engine_spec, "
                  "workload, threads, param_set, ops_per_s, cpu_ops_per_s, "
                  "p99_ns, bytes_on_disk, instructions_per_op, entry, "
                  "durability_class, durability_settings, engine_options, "
                  "engine_state) VALUES "
                  "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  for (const json& b : results["benchmarks"]) {
    if (!b.is_object() || b.value("run_type", "iteration") != "iteration")
      continue;
    if (Status st = InsertEntry(s.get(), run, results, b, o.machine_class);
        !st.ok())
      return st;
    ++*count;
  }
  return Status::OK();
}

Result<int64_t> FindDigest(Db* db, const std::string& digest) {
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<Stmt> s,
                       db->Prepare("SELECT id FROM runs WHERE digest = ?"));
  s->Bind(1, digest);
  KVB_ASSIGN_OR_RETURN(bool row, s->Step());
  return row ? s->Int(0) : int64_t{0};
}

// A run added before from the same path with the same start time and host:
// the file was rewritten since (a run adds a repetition at a time), 0 if none.
Result<int64_t> FindEarlierVersion(Db* db, const json& ctx,
                                   const std::string& source) {
  if (source.empty()) return int64_t{0};
  KVB_ASSIGN_OR_RETURN(
      std::unique_ptr<Stmt> s,
      db->Prepare("SELECT id FROM runs WHERE source = ? AND run_date = ? AND "
                  "host = ?"));
  s->Bind(1, source);
  s->Bind(2, Str(ctx, "date"));
  s->Bind(3, Str(ctx, "host_name"));
  KVB_ASSIGN_OR_RETURN(bool row, s->Step());
  return row ? s->Int(0) : int64_t{0};
}

Status DeleteRun(Db* db, int64_t id) {
  for (const char* sql : {"DELETE FROM entries WHERE run_id = ?",
                          "DELETE FROM runs WHERE id = ?"}) {
    KVB_ASSIGN_OR_RETURN(std::unique_ptr<Stmt> s, db->Prepare(sql));
    s->BindInt(1, id);
    KVB_RETURN_IF_ERROR(s->Run());
  }
  return Status::OK();
}

std::string Digest(const json& results) {
  return Hex(Hash64(results.dump()));
}

}  // namespace

std::string MachineClassOf(const json& context) {
  double gib = context.value("memory_bytes", 0.0) / (1024.0 * 1024 * 1024);
  char mem[32];
  std::snprintf(mem, sizeof mem, "%.0f GiB", std::round(gib));
  return Str(context, "cpu_model") + " x" + Str(context, "num_cpus") + ", " +
         mem;
}

std::string ParamSet(const json& entry, const json& settings) {
  json out(report::ComparabilityFields(entry, settings));  // sorted: canonical
  if (entry.contains("durability") && entry["durability"].is_object()) {
    out["durability.class"] = Str(entry["durability"], "class");
    out["durability.settings"] = Str(entry["durability"], "settings");
  }
  return out.dump();
}

std::string EngineOptionsOf(const json& entry) {
  return entry.contains("engine_options") ? entry["engine_options"].dump() : "";
}

std::string StripEngineOptions(const std::string& name,
                               const std::string& engine,
                               const std::string& spec) {
  if (spec == engine || engine.empty()) return name;
  size_t at = name.find("/" + spec + "/");
  if (at == std::string::npos) return name;
  return name.substr(0, at) + "/" + engine + "/" +
         name.substr(at + spec.size() + 2);
}

Result<AddOutcome> AddResults(Db* db, const json& results,
                              const AddOptions& o) {
  if (!results.is_object() || !results.contains("context") ||
      !results.contains("benchmarks") || !results["benchmarks"].is_array())
    return Status::InvalidArgument(o.source + ": not a kvbench results file");
  AddOutcome out;
  std::string digest = Digest(results);
  KVB_ASSIGN_OR_RETURN(out.run_id, FindDigest(db, digest));
  if (out.run_id != 0) {
    out.already = true;
    return out;
  }
  KVB_ASSIGN_OR_RETURN(out.replaced,
                       FindEarlierVersion(db, results["context"], o.source));
  if (Status s = db->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  // Inserted before the old version goes, so run ids are never reused.
  Status s = InsertRun(db, results, digest, o, &out.run_id);
  if (s.ok()) s = InsertEntries(db, out.run_id, results, o, &out.entries);
  if (s.ok() && out.replaced) s = DeleteRun(db, out.replaced);
  if (s.ok()) s = db->Exec("COMMIT");
  if (!s.ok()) {
    (void)db->Exec("ROLLBACK");
    return s;
  }
  return out;
}

std::string RunInfo::OrderKey() const {
  return (git_date.empty() ? run_date : git_date) + " " + run_date;
}

namespace {

constexpr const char* kRunColumns =
    "r.id, r.run_date, r.git_revision, r.git_date, r.machine_class, r.source";

RunInfo ReadRun(const Stmt& s, int col) {
  RunInfo r;
  r.id = s.Int(col);
  r.run_date = s.Text(col + 1);
  r.git_revision = s.Text(col + 2);
  r.git_date = s.Text(col + 3);
  r.machine_class = s.Text(col + 4);
  r.source = s.Text(col + 5);
  return r;
}

}  // namespace

Result<std::vector<RunInfo>> ListRuns(Db* db) {
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<Stmt> s,
                       db->Prepare(std::string("SELECT ") + kRunColumns +
                                   " FROM runs r ORDER BY r.id"));
  std::vector<RunInfo> out;
  for (;;) {
    KVB_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back(ReadRun(*s, 0));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RunInfo& a, const RunInfo& b) {
                     return a.OrderKey() < b.OrderKey();
                   });
  return out;
}

namespace {

struct Group {
  SeriesPoint point;
  std::string order;
};

// Fills series from one row of the series query.
void AddRow(const Stmt& s, const SeriesQuery& q,
            std::map<std::string, Series>* series,
            std::map<std::string, std::map<std::string, Group>>* groups) {
  RunInfo run = ReadRun(s, 4);
  std::string name = q.ignore_engine_options ? s.Text(2) : s.Text(1);
  // Other engine options (defaults filled in) are another series unless
  // the engine's options are ignored.
  std::string key = s.Text(0) + "\n" + name + "\n" + s.Text(3) +
                    (q.ignore_engine_options ? "" : "\n" + s.Text(11));
  Series& se = (*series)[key];
  se.machine_class = s.Text(0);
  se.name = name;
  se.param_set = s.Text(3);
  if (!q.ignore_engine_options) se.engine_options = s.Text(11);
  std::string label = q.grouping == Grouping::kCommit
                          ? run.git_revision
                          : "run " + std::to_string(run.id);
  Group& g = (*groups)[key][label];
  if (g.point.label.empty()) {
    g.point.label = label;
    g.point.revision = run.git_revision;
    g.point.date = run.git_date.empty() ? run.run_date : run.git_date;
    g.order = run.OrderKey();
  }
  g.order = std::min(g.order, run.OrderKey());
  if (std::find(g.point.runs.begin(), g.point.runs.end(), run.id) ==
      g.point.runs.end())
    g.point.runs.push_back(run.id);
  g.point.values.push_back(s.Double(10));
}

}  // namespace

Result<std::vector<Series>> LoadSeries(Db* db, const SeriesQuery& q) {
  const char* col = q.metric == Metric::kCpu ? "e.cpu_ops_per_s" : "e.ops_per_s";
  std::string sql = std::string("SELECT e.machine_class, e.name, e.series_name, "
                                "e.param_set, ") +
                    kRunColumns + ", " + col + ", e.engine_options" +
                    " FROM entries e JOIN runs r ON e.run_id = r.id WHERE " +
                    col + " IS NOT NULL" +
                    (q.name.empty() ? "" : " AND (e.name = ?1 OR e.series_name = ?1)") +
                    " ORDER BY e.id";
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<Stmt> s, db->Prepare(sql));
  if (!q.name.empty()) s->Bind(1, q.name);
  std::map<std::string, Series> series;
  std::map<std::string, std::map<std::string, Group>> groups;
  for (;;) {
    KVB_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    AddRow(*s, q, &series, &groups);
  }
  std::vector<Series> out;
  for (auto& [key, se] : series) {
    std::vector<Group*> gs;
    for (auto& [label, g] : groups[key]) gs.push_back(&g);
    std::stable_sort(gs.begin(), gs.end(), [](const Group* a, const Group* b) {
      return a->order < b->order;
    });
    for (Group* g : gs) se.points.push_back(std::move(g->point));
    out.push_back(std::move(se));
  }
  return out;
}

namespace {

// What a baseline entry must share with NEW's: the gate's comparability
// fields and durability (Key::pset), and the exact engine options; with
// `joined` (--ignore-engine-options) the name without the engine's options.
struct Key {
  std::string name, pset, options;
  bool joined = false;
  auto operator<=>(const Key&) const = default;
  // The WHERE terms on entries `e` for this key.
  std::string Where() const {
    return joined ? "e.series_name = ? AND e.param_set = ?"
                  : "e.name = ? AND e.param_set = ? AND e.engine_options = ?";
  }
  // Binds Where's values from index `at`; the next free index.
  int Bind(Stmt* s, int at) const {
    s->Bind(at++, name);
    s->Bind(at++, pset);
    if (!joined) s->Bind(at++, options);
    return at;
  }
};

// The newest `n` runs (by run date) of `mclass` holding `k`, other than the
// run with digest `skip`.
Result<std::vector<RunInfo>> RunsHolding(Db* db, const std::string& mclass,
                                         const Key& k, const std::string& skip,
                                         size_t n) {
  KVB_ASSIGN_OR_RETURN(
      std::unique_ptr<Stmt> s,
      db->Prepare(std::string("SELECT DISTINCT ") + kRunColumns +
                  " FROM entries e JOIN runs r ON e.run_id = r.id WHERE "
                  "e.machine_class = ? AND " + k.Where() +
                  " AND e.ops_per_s IS NOT NULL AND r.digest != ? "
                  "ORDER BY r.run_date DESC, r.id DESC LIMIT ?"));
  s->Bind(1, mclass);
  int at = k.Bind(s.get(), 2);
  s->Bind(at, skip);
  s->BindInt(at + 1, static_cast<int64_t>(n));
  std::vector<RunInfo> out;
  for (;;) {
    KVB_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return out;
    out.push_back(ReadRun(*s, 0));
  }
}

Status AppendEntries(Db* db, int64_t run, const Key& k, json* benchmarks) {
  KVB_ASSIGN_OR_RETURN(
      std::unique_ptr<Stmt> s,
      db->Prepare("SELECT entry FROM entries e WHERE e.run_id = ? AND " +
                  k.Where() + " ORDER BY e.repetition_index"));
  s->BindInt(1, run);
  (void)k.Bind(s.get(), 2);
  for (;;) {
    KVB_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Status::OK();
    json e = json::parse(s->Text(0), nullptr, false);
    if (e.is_discarded()) continue;
    e.erase("machine");
    benchmarks->push_back(std::move(e));
  }
}

Result<json> RunContext(Db* db, int64_t run) {
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<Stmt> s,
                       db->Prepare("SELECT context FROM runs WHERE id = ?"));
  s->BindInt(1, run);
  KVB_ASSIGN_OR_RETURN(bool row, s->Step());
  json ctx = row ? json::parse(s->Text(0), nullptr, false) : json();
  if (!ctx.is_object()) return Status::Corruption(db->path() + ": run " +
                                                  std::to_string(run) +
                                                  " has no readable context");
  ctx.erase("machines");
  ctx.erase("merged");
  return ctx;
}

}  // namespace

Result<HistoryBase> BaseFromHistory(Db* db, const json& next, size_t n,
                                    bool ignore_engine_options) {
  HistoryBase out;
  json benchmarks = json::array();
  std::set<Key> done;
  std::map<int64_t, RunInfo> used;
  const std::string skip = Digest(next);
  for (const json& b : next["benchmarks"]) {
    if (!b.is_object() || b.value("run_type", "iteration") != "iteration")
      continue;
    const json& settings =
        b.contains("settings") ? b["settings"] : SettingsOf(next);
    Key k{Str(b, "name"), ParamSet(b, settings), EngineOptionsOf(b),
          ignore_engine_options};
    if (k.joined)
      k.name = StripEngineOptions(k.name, Str(b, "engine"), Str(b, "engine_spec"));
    if (!done.insert(k).second) continue;
    std::string mclass = MachineClassOf(ContextOf(next, b));
    KVB_ASSIGN_OR_RETURN(std::vector<RunInfo> runs,
                         RunsHolding(db, mclass, k, skip, n));
    // Oldest first, like the repetitions of one file in time order.
    for (auto r = runs.rbegin(); r != runs.rend(); ++r) {
      if (Status s = AppendEntries(db, r->id, k, &benchmarks); !s.ok())
        return s;
      used[r->id] = *r;
    }
  }
  for (auto it = used.rbegin(); it != used.rend(); ++it)
    out.used.push_back(it->second);
  std::sort(out.used.begin(), out.used.end(),
            [](const RunInfo& a, const RunInfo& b) {
              return a.run_date != b.run_date ? a.run_date > b.run_date
                                              : a.id > b.id;
            });
  json ctx = json::object();
  if (!out.used.empty()) {
    KVB_ASSIGN_OR_RETURN(ctx, RunContext(db, out.used[0].id));
  }
  out.results = json{{"context", ctx},
                     {"config", json{{"settings", json::object()}}},
                     {"benchmarks", benchmarks}};
  return out;
}

}  // namespace kvb::history
