#include "history/commands.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "core/hash.h"
#include "core/stats.h"
#include "history/changepoints.h"
#include "history/dashboard.h"
#include "history/schema.h"
#include "history/store.h"
#include "report/compare.h"
#include "results/file.h"

namespace kvb::history {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kUsage =
    "usage: history add|runs|show|regressions|html [--db PATH] ... "
    "(see history/README.md)";

int Fail(std::ostream& err, const std::string& msg) {
  err << "kvbench history: error: " << msg << "\n";
  return 2;
}

struct Args {
  std::string sub, db = kDefaultDbPath, machine_class;
  std::vector<std::string> pos;
  SeriesQuery q;
  StepOptions steps;
};

bool Number(const std::string& s, double lo, double hi, double* out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

// One flag at args[*i]; "" or the error.
std::string TakeFlag(const std::vector<std::string>& a, size_t* i, Args* o) {
  const std::string& f = a[*i];
  auto value = [&]() -> const std::string* {
    return *i + 1 < a.size() ? &a[++*i] : nullptr;
  };
  double d = 0;
  const std::string* v = nullptr;
  if (f == "--ignore-engine-options") {
    o->q.ignore_engine_options = true;
  } else if (f == "--db" || f == "--machine-class") {
    if (!(v = value()) || v->empty()) return f + " expects a value";
    (f == "--db" ? o->db : o->machine_class) = *v;
  } else if (f == "--metric") {
    if (!(v = value()) || (*v != "wall" && *v != "cpu"))
      return "--metric expects wall or cpu";
    o->q.metric = *v == "cpu" ? Metric::kCpu : Metric::kWall;
  } else if (f == "--group") {
    if (!(v = value()) || (*v != "commit" && *v != "run"))
      return "--group expects commit or run";
    o->q.grouping = *v == "run" ? Grouping::kRun : Grouping::kCommit;
  } else if (f == "--threshold") {
    if (!(v = value()) || !Number(*v, 0, 1000, &o->steps.threshold_pct))
      return "--threshold expects a percentage 0..1000";
  } else if (f == "--alpha") {
    if (!(v = value()) || !Number(*v, 1e-12, 0.5, &o->steps.alpha))
      return "--alpha expects 0 < A <= 0.5";
  } else if (f == "--noise-factor") {
    if (!(v = value()) || !Number(*v, 0, 100, &o->steps.noise_factor))
      return "--noise-factor expects 0..100";
  } else if (f == "--min-points") {
    if (!(v = value()) || !Number(*v, 1, 1000, &d) || d != int(d))
      return "--min-points expects an integer 1..1000";
    o->steps.min_points = static_cast<size_t>(d);
  } else {
    return "unknown flag " + f + " (" + kUsage + ")";
  }
  return "";
}

std::string Parse(const std::vector<std::string>& args, Args* o) {
  if (args.empty()) return kUsage;
  o->sub = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      std::string e = TakeFlag(args, &i, o);
      if (!e.empty()) return e;
    } else {
      o->pos.push_back(args[i]);
    }
  }
  return "";
}

// Results files named by `paths` (a folder: its *.json results files).
std::vector<std::string> Expand(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(p, ec))
      if (e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

int Add(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.pos.empty())
    return Fail(err, "usage: history add [--db PATH] RESULTS...");
  // Read every file first: a bad one adds nothing.
  std::vector<std::pair<std::string, json>> files;
  for (const std::string& f : Expand(a.pos)) {
    Result<json> j = ReadResultsFile(f);
    if (!j.ok()) {
      std::error_code ec;
      if (fs::is_directory(fs::path(f).parent_path(), ec) &&
          std::find(a.pos.begin(), a.pos.end(), f) == a.pos.end())
        continue;  // a folder's other JSON files are not ours
      return Fail(err, std::string(j.status().message()));
    }
    files.emplace_back(f, std::move(*j));
  }
  if (files.empty()) return Fail(err, "no results file in the given paths");
  Result<std::unique_ptr<Db>> db = OpenHistory(a.db, {.create = true});
  if (!db.ok()) return Fail(err, std::string(db.status().message()));
  for (const auto& [path, j] : files) {
    Result<AddOutcome> r = AddResults(
        db->get(), j, {.source = path, .machine_class = a.machine_class});
    if (!r.ok()) return Fail(err, std::string(r.status().message()));
    if (r->already) {
      out << path << ": already in the history (run " << r->run_id << ")\n";
    } else {
      out << path << ": added as run " << r->run_id << " (" << r->entries
          << " entries"
          << (r->replaced ? ", replacing run " + std::to_string(r->replaced) +
                                ", an earlier version of this file"
                          : std::string())
          << ")\n";
    }
  }
  return 0;
}

int Runs(const Args& a, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<Db>> db = OpenHistory(a.db, {});
  if (!db.ok()) return Fail(err, std::string(db.status().message()));
  Result<std::vector<RunInfo>> runs = ListRuns(db->get());
  if (!runs.ok()) return Fail(err, std::string(runs.status().message()));
  for (const RunInfo& r : *runs)
    out << "run " << r.id << "  " << r.run_date << "  "
        << r.git_revision.substr(0, 12) << "  "
        << (r.git_date.empty() ? "-" : r.git_date) << "  " << r.machine_class
        << "  " << r.source << "\n";
  out << runs->size() << " runs in " << a.db << "\n";
  return 0;
}

std::string PText(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", p);
  return buf;
}

// Short tag of a parameter set (the full set: history show).
std::string Tag(const std::string& pset) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x",
                static_cast<unsigned>(Hash64(pset)));  // stable across builds
  return buf;
}

Result<std::vector<Series>> Load(const Args& a, std::unique_ptr<Db>* db) {
  Result<std::unique_ptr<Db>> d = OpenHistory(a.db, {});
  if (!d.ok()) return d.status();
  *db = std::move(*d);
  return LoadSeries(db->get(), a.q);
}

int Show(Args a, std::ostream& out, std::ostream& err) {
  if (a.pos.size() != 1)
    return Fail(err, "usage: history show BENCH [--db PATH]");
  a.q.name = a.pos[0];
  std::unique_ptr<Db> db;
  Result<std::vector<Series>> series = Load(a, &db);
  if (!series.ok()) return Fail(err, std::string(series.status().message()));
  if (series->empty())
    return Fail(err, "no benchmark named " + a.pos[0] + " in " + a.db);
  for (const Series& s : *series) {
    out << s.name << "\n  machine class: " << s.machine_class
        << "\n  parameters [" << Tag(s.param_set) << "]: " << s.param_set
        << "\n";
    if (!s.engine_options.empty())
      out << "  engine options: " << s.engine_options << "\n";
    std::vector<ChangePoint> cps;
    std::vector<std::vector<double>> pts;
    for (const SeriesPoint& p : s.points) pts.push_back(p.values);
    cps = FindChangePoints(pts, a.steps);
    char line[256];
    std::snprintf(line, sizeof line, "  %-14s %-26s %5s %12s %12s %12s\n",
                  "point", "date", "reps", "median", "min", "max");
    out << line;
    for (size_t i = 0; i < s.points.size(); ++i) {
      const SeriesPoint& p = s.points[i];
      bool cp = std::any_of(cps.begin(), cps.end(),
                            [&](const ChangePoint& c) { return c.index == i; });
      std::snprintf(line, sizeof line, "  %-14s %-26s %5zu %12s %12s %12s%s\n",
                    p.label.substr(0, 14).c_str(), p.date.c_str(),
                    p.values.size(),
                    report::FormatFixed(Median(p.values), 0).c_str(),
                    report::FormatFixed(
                        *std::min_element(p.values.begin(), p.values.end()), 0)
                        .c_str(),
                    report::FormatFixed(
                        *std::max_element(p.values.begin(), p.values.end()), 0)
                        .c_str(),
                    cp ? "  <- change point" : "");
      out << line;
    }
  }
  return 0;
}

void PrintStep(std::ostream& out, const Series& s, const ChangePoint& c) {
  const SeriesPoint& at = s.points[c.index];
  const SeriesPoint& prev = s.points[c.index - 1];
  out << (c.change_pct < 0 ? "REGRESSION " : "improvement ") << s.name << " ["
      << Tag(s.param_set) << "] on " << s.machine_class << ": "
      << report::ChangeText(c.change_pct) << " ("
      << report::FormatFixed(c.before, 0) << " -> "
      << report::FormatFixed(c.after, 0) << " median ops/s) between "
      << prev.label.substr(0, 12) << " and " << at.label.substr(0, 12) << " ("
      << at.date << "); U test p " << PText(c.p) << " over " << c.n_before
      << " vs " << c.n_after << " repetitions\n";
}

int Regressions(const Args& a, std::ostream& out, std::ostream& err) {
  std::unique_ptr<Db> db;
  Result<std::vector<Series>> series = Load(a, &db);
  if (!series.ok()) return Fail(err, std::string(series.status().message()));
  out << "method: binary segmentation of per-"
      << (a.q.grouping == Grouping::kRun ? "run" : "commit") << " medians of "
      << (a.q.metric == Metric::kCpu ? "ops per CPU-second" : "ops/s")
      << "; a step counts when |change| >= " << a.steps.threshold_pct << "%, > "
      << a.steps.noise_factor
      << " x the points' scatter (MAD), and the U test of the repetitions "
         "gives p < "
      << a.steps.alpha << "; each side >= " << a.steps.min_points
      << " points\n";
  size_t found = 0, regressions = 0, judged = 0;
  for (const Series& s : *series) {
    std::vector<std::vector<double>> pts;
    for (const SeriesPoint& p : s.points) pts.push_back(p.values);
    if (pts.size() >= 2 * a.steps.min_points) ++judged;
    for (const ChangePoint& c : FindChangePoints(pts, a.steps)) {
      PrintStep(out, s, c);
      ++found;
      regressions += c.change_pct < 0;
    }
  }
  out << series->size() << " series (" << judged << " long enough to judge), "
      << found << " change point" << (found == 1 ? "" : "s") << ", "
      << regressions << " regression" << (regressions == 1 ? "" : "s") << "\n";
  return 0;
}

int Html(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.pos.size() != 1)
    return Fail(err, "usage: history html FILE [--db PATH]");
  std::unique_ptr<Db> db;
  Result<std::vector<Series>> series = Load(a, &db);
  if (!series.ok()) return Fail(err, std::string(series.status().message()));
  std::vector<SeriesWithSteps> with;
  for (const Series& s : *series) {
    std::vector<std::vector<double>> pts;
    for (const SeriesPoint& p : s.points) pts.push_back(p.values);
    with.push_back({&s, FindChangePoints(pts, a.steps)});
  }
  std::string html = DashboardHtml(
      with, a.db, a.q.metric == Metric::kCpu ? "ops per CPU-second" : "ops/s");
  Status st = WriteTextFile(a.pos[0], html);
  if (!st.ok()) return Fail(err, st.ToString());
  out << "history dashboard: " << a.pos[0] << " (" << series->size()
      << " series, " << html.size() << " bytes)\n";
  return 0;
}

}  // namespace

int RunHistoryCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  try {
    Args a;
    std::string e = Parse(args, &a);
    if (!e.empty()) return Fail(err, e);
    if (a.sub == "add") return Add(a, out, err);
    if (a.sub == "runs") return Runs(a, out, err);
    if (a.sub == "show") return Show(a, out, err);
    if (a.sub == "regressions") return Regressions(a, out, err);
    if (a.sub == "html") return Html(a, out, err);
    return Fail(err,
                "unknown history command '" + a.sub + "' (" + kUsage + ")");
  } catch (const std::exception& ex) {
    return Fail(err, ex.what());
  }
}

Result<report::HistoryBaseline> BaselineForCompare(const std::string& db,
                                                   size_t n, const json& next,
                                                   bool ignore_engine_options) {
  const std::string path = db.empty() ? kDefaultDbPath : db;
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<Db> d, OpenHistory(path, {}));
  KVB_ASSIGN_OR_RETURN(
      HistoryBase hb, BaseFromHistory(d.get(), next, n, ignore_engine_options));
  report::HistoryBaseline out;
  out.results = std::move(hb.results);
  out.description =
      "the last " + std::to_string(n) + " matching runs of " + path;
  for (const RunInfo& r : hb.used)
    out.runs.push_back("run " + std::to_string(r.id) + " " + r.run_date + " " +
                       r.git_revision.substr(0, 12) + " " + r.source);
  return out;
}

int RunCompareCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  return report::RunCompareCommand(args, out, err, BaselineForCompare);
}

}  // namespace kvb::history
