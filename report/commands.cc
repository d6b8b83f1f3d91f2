#include "report/commands.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>

#include "report/compare.h"
#include "report/gate_output.h"
#include "report/html.h"
#include "report/model.h"
#include "report/process.h"
#include "report/report.h"
#include "results/file.h"

namespace kvb::report {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

int Fail(std::ostream& err, const std::string& cmd, const std::string& msg,
         int code = kExitUsage) {
  err << "kvbench " << cmd << ": error: " << msg << "\n";
  return code;
}

bool ParseDouble(const std::string& s, double lo, double hi, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (*end == '%') ++end;
  if (*end != '\0' || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

// Flags shared by compare and ab. Returns "" or the error.
std::string TakeCompareFlag(const std::vector<std::string>& a, size_t* i,
                            CompareOptions* o, bool* gate,
                            std::string* json_out, bool* taken) {
  *taken = true;
  const std::string& f = a[*i];
  auto value = [&](std::string* v) {
    if (*i + 1 >= a.size()) return false;
    *v = a[++*i];
    return true;
  };
  std::string v;
  if (f == "--gate") {
    *gate = true;
  } else if (f == "--allow-incomparable") {
    o->allow_incomparable = true;
  } else if (f == "--paired") {
    o->paired = true;
  } else if (f == "--metric") {
    if (!value(&v) || (v != "wall" && v != "cpu" && v != "both"))
      return "--metric expects wall, cpu or both";
    o->metric = v == "cpu"    ? CompareOptions::Metric::kCpu
                : v == "wall" ? CompareOptions::Metric::kWall
                              : CompareOptions::Metric::kBoth;
  } else if (f == "--ignore-engine-options") {
    o->ignore_engine_options = true;
  } else if (f == "--threshold") {
    if (!value(&v) || !ParseDouble(v, 0, 1000, &o->threshold_pct)) {
      return "--threshold expects a percentage 0..1000";
    }
    o->threshold_set = true;
  } else if (f == "--alpha") {
    if (!value(&v) || !ParseDouble(v, 1e-9, 0.5, &o->alpha))
      return "--alpha expects 0 < A <= 0.5";
  } else if (f == "--json" && json_out) {
    if (!value(json_out) || json_out->empty())
      return "--json expects a file name";
  } else {
    *taken = false;
  }
  return "";
}

// Where compare writes its verdicts besides the text table (all optional).
struct Outputs {
  std::string json, markdown, junit;  // markdown "-": stdout, for the table
};

Status WriteOutputs(const Comparison& c, const BaselineNote& note,
                    const Outputs& o, std::ostream& out) {
  if (!o.json.empty()) {
    json j = ComparisonJson(c);
    if (!note.runs.empty()) j["baseline_runs"] = note.runs;
    KVB_RETURN_IF_ERROR(WriteJsonFile(o.json, j));
  }
  if (o.markdown == "-") {
    out << ComparisonMarkdown(c, note);
  } else if (!o.markdown.empty()) {
    KVB_RETURN_IF_ERROR(WriteTextFile(o.markdown, ComparisonMarkdown(c, note)));
  }
  if (!o.junit.empty())
    KVB_RETURN_IF_ERROR(WriteTextFile(o.junit, ComparisonJUnit(c, note)));
  return Status::OK();
}

int Judge(const std::string& cmd, const Dataset& base, const Dataset& next,
          const CompareOptions& o, bool gate, const BaselineNote& note,
          const Outputs& outputs, std::ostream& out, std::ostream& err) {
  Comparison c = Compare(base, next, o);
  if (outputs.markdown != "-") PrintComparison(out, c, gate);
  Status s = WriteOutputs(c, note, outputs, out);
  if (!s.ok()) return Fail(err, cmd, s.ToString());
  return gate ? c.GateExitCode() : kExitOk;
}

int CompareAndPrint(const std::string& cmd, const std::string& base_path,
                    const std::string& new_path, const CompareOptions& o,
                    bool gate, const Outputs& outputs, std::ostream& out,
                    std::ostream& err) {
  Result<Dataset> base = LoadDataset({base_path});
  if (!base.ok()) return Fail(err, cmd, std::string(base.status().message()));
  Result<Dataset> next = LoadDataset({new_path});
  if (!next.ok()) return Fail(err, cmd, std::string(next.status().message()));
  return Judge(cmd, *base, *next, o, gate, BaselineNote{base_path, {}},
               outputs, out, err);
}

// NEW: a results file, or a folder holding results.json.
Result<json> ReadNew(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return ReadResultsFile(path + "/results.json");
  return ReadResultsFile(path);
}

// compare --against-history N NEW: BASE is what `history` returns.
int CompareAgainstHistory(const HistoryBaselineFn& history,
                          const std::string& db_path, size_t n,
                          const std::string& new_path, const CompareOptions& o,
                          bool gate, const Outputs& outputs, std::ostream& out,
                          std::ostream& err) {
  const std::string cmd = "compare";
  if (!history)
    return Fail(err, cmd, "--against-history needs a results history, which "
                          "this build of the command does not have");
  Result<json> next_json = ReadNew(new_path);
  if (!next_json.ok())
    return Fail(err, cmd, std::string(next_json.status().message()));
  Result<HistoryBaseline> hb =
      history(db_path, n, *next_json, o.ignore_engine_options);
  if (!hb.ok()) return Fail(err, cmd, std::string(hb.status().message()));
  BaselineNote note{hb->description, hb->runs};
  if (outputs.markdown != "-") {
    out << "baseline: " << note.base << ": " << note.runs.size()
        << " run(s) used\n";
    for (const std::string& r : note.runs) out << "  " << r << "\n";
  }
  Dataset base, next;
  AddResults(hb->results, "history:" + note.base, &base);
  AddResults(*next_json, new_path, &next);
  return Judge(cmd, base, next, o, gate, note, outputs, out, err);
}

std::string UniqueKey(const std::string& want, const json& ctx,
                      json* machines) {
  std::string key = want;
  for (int n = 2; machines->contains(key); ++n) {
    const json& have = (*machines)[key];
    // Same host and same hardware (two shards on one machine, A/B rounds): one
    // machine.
    if (have.value("cpu_model", "") == ctx.value("cpu_model", "") &&
        have.value("num_cpus", 0) == ctx.value("num_cpus", 0)) {
      return key;
    }
    key = want + "#" + std::to_string(n);
  }
  (*machines)[key] = ctx;
  return key;
}

// 5 significant digits: far below run-to-run noise, and half the size of full
// doubles.
json Round(const json& v) {
  if (!v.is_number_float()) return v;
  double d = v.get<double>();
  if (d == 0 || !std::isfinite(d)) return v;
  double scale = std::pow(10.0, 4 - std::floor(std::log10(std::fabs(d))));
  return std::round(d * scale) / scale;
}

json Slim(const json& b) {
  json e;
  for (const char* key : {"name",
                          "run_type",
                          "repetitions",
                          "repetition_index",
                          "threads",
                          "engine",
                          "engine_spec",
                          "workload",
                          "iterations",
                          "real_time",
                          "cpu_time",
                          "time_unit",
                          "items_per_second",
                          "instructions",
                          "instructions_per_op",
                          "instruction_counter",
                          "bytes_on_disk",
                          "space_amp",
                          "reopen_ms",
                          "errors",
                          "skipped",
                          "machine"}) {
    if (b.contains(key)) e[key] = Round(b[key]);
  }
  // Every parameter and setting: compare refuses to judge entries whose
  // parameters differ (report/README.md, "Comparability").
  for (const char* key : {"params", "settings", "primary_phase"}) {
    if (b.contains(key)) e[key] = b[key];
  }
  if (b.contains("verify") && b["verify"].is_object()) {
    e["verify"] = json{{"enabled", b["verify"].value("enabled", true)},
                       {"mismatches", b["verify"].value("mismatches", 0)},
                       {"missing", b["verify"].value("missing", 0)}};
  }
  if (b.contains("latency") && b["latency"].is_object()) {
    for (auto it = b["latency"].begin(); it != b["latency"].end(); ++it) {
      for (const char* k : {"count", "p50_ns", "p99_ns", "p99_9_ns"}) {
        if (it.value().contains(k))
          e["latency"][it.key()][k] = Round(it.value()[k]);
      }
    }
  }
  if (b.contains("notes") && b["notes"].is_array()) {
    for (const json& n : b["notes"]) {
      if (n.is_string() &&
          n.get<std::string>().find("not persistent") != std::string::npos) {
        e["notes"] = json::array({n});
      }
    }
  }
  return e;
}

}  // namespace

Result<json> MergeResults(const std::vector<json>& inputs, bool slim) {
  if (inputs.empty()) return Status::InvalidArgument("nothing to merge");
  json out;
  out["context"] = inputs[0]["context"];
  out["context"].erase("machines");
  json machines = json::object();
  json benchmarks = json::array();
  std::map<std::string, int>
      next_rep;  // machine + name -> next repetition_index
  std::vector<std::pair<size_t, std::string>> counted;
  for (const json& in : inputs) {
    const json& ctx = in["context"];
    std::map<std::string, std::string>
        remap;  // key inside this input -> merged key
    if (ctx.contains("machines") && ctx["machines"].is_object()) {
      for (auto it = ctx["machines"].begin(); it != ctx["machines"].end();
           ++it) {
        remap[it.key()] = UniqueKey(it.key(), it.value(), &machines);
      }
    }
    std::string own = UniqueKey(MachineKey(ctx), ctx, &machines);
    for (const json& b : in["benchmarks"]) {
      if (!b.is_object() || b.value("run_type", "iteration") != "iteration")
        continue;
      json with = b;
      // The input's settings travel with its entries (a merged file has one
      // config); an entry's own settings win.
      if (!with.contains("settings") && in.contains("config") &&
          in["config"].is_object() && in["config"].contains("settings"))
        with["settings"] = in["config"]["settings"];
      json e = slim ? Slim(with) : with;
      std::string m = b.contains("machine") && b["machine"].is_string()
                          ? b["machine"].get<std::string>()
                          : std::string();
      e["machine"] = remap.count(m) ? remap[m] : own;
      std::string run = b.contains("run_name") && b["run_name"].is_string()
                            ? b["run_name"].get<std::string>()
                            : b.value("name", "");
      std::string key = e["machine"].get<std::string>() + "\n" + run;
      e["repetition_index"] = next_rep[key]++;
      counted.emplace_back(benchmarks.size(), key);
      benchmarks.push_back(std::move(e));
    }
  }
  for (const auto& [idx, key] : counted)
    benchmarks[idx]["repetitions"] = next_rep[key];
  out["context"]["machines"] = machines;
  out["context"]["merged"] = true;
  if (slim) out["context"]["slim"] = true;
  out["benchmarks"] = benchmarks;
  return out;
}

int RunReportCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  try {
    std::vector<std::string> inputs;
    bool plots = true;
    std::string html;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--no-plots") {
        plots = false;
      } else if (a == "--html") {
        if (i + 1 >= args.size() || args[i + 1].empty())
          return Fail(err, "report", "--html expects a file name");
        html = args[++i];
      } else if (a.rfind("--", 0) == 0) {
        return Fail(err, "report",
                    "unknown flag " + a +
                        " (usage: report DIR [--no-plots] [--html FILE])");
      } else {
        inputs.push_back(a);
      }
    }
    if (inputs.empty())
      return Fail(err, "report", "usage: report DIR [--no-plots]");
    std::error_code ec;
    std::string dir = fs::is_directory(inputs[0], ec)
                          ? inputs[0]
                          : fs::path(inputs[0]).parent_path().string();
    if (dir.empty()) dir = ".";
    Result<Dataset> ds = LoadDataset(inputs);
    if (!ds.ok())
      return Fail(err, "report", std::string(ds.status().message()));
    PlotOutcome po;
    if (plots) {
      po = RunPlots(ds->files, dir);
      if (!po.ok)
        err << "kvbench report: plots skipped: " << po.message << "\n";
    } else {
      po.message = "--no-plots was given";
    }
    std::ostringstream md;
    WriteReport(md, *ds, po);
    std::string path = dir + "/report.md";
    Status s = WriteTextFile(path, md.str());
    if (!s.ok()) return Fail(err, "report", s.ToString());
    out << "report: " << path << "\n";
    if (!html.empty()) {
      std::string page = ReportHtml(*ds);
      s = WriteTextFile(html, page);
      if (!s.ok()) return Fail(err, "report", s.ToString());
      out << "html: " << html << " (" << page.size() << " bytes)\n";
    }
    if (po.ok)
      out << "plots: " << po.files.size() << " files in " << dir << "/plots\n";
    return kExitOk;
  } catch (const std::exception& e) {
    return Fail(err, "report", e.what());
  }
}

// compare's own flags (not ab's); "" or the error.
std::string TakeOutputFlag(const std::vector<std::string>& a, size_t* i,
                           Outputs* outputs, std::string* db, double* against,
                           bool* taken) {
  *taken = true;
  const std::string& f = a[*i];
  const std::string* v = *i + 1 < a.size() ? &a[*i + 1] : nullptr;
  if (f == "--markdown" || f == "--junit" || f == "--db") {
    if (!v || v->empty()) return f + " expects a file name";
    (f == "--markdown" ? outputs->markdown
     : f == "--junit"  ? outputs->junit
                       : *db) = *v;
  } else if (f == "--against-history") {
    if (!v || !ParseDouble(*v, 1, 100000, against) || *against != int(*against))
      return "--against-history expects a run count 1..100000";
  } else {
    *taken = false;
    return "";
  }
  ++*i;
  return "";
}

int RunCompareCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  return RunCompareCommand(args, out, err, nullptr);
}

int RunCompareCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err, const HistoryBaselineFn& history) {
  try {
    CompareOptions o;
    o.threshold_pct = kDefaultThresholdPct;
    o.alpha = kDefaultAlpha;
    bool gate = false;
    Outputs outputs;
    std::string db;
    double against = 0;
    std::vector<std::string> pos;
    for (size_t i = 0; i < args.size(); ++i) {
      bool taken = false;
      std::string e =
          TakeCompareFlag(args, &i, &o, &gate, &outputs.json, &taken);
      if (e.empty() && !taken)
        e = TakeOutputFlag(args, &i, &outputs, &db, &against, &taken);
      if (!e.empty()) return Fail(err, "compare", e);
      if (taken) continue;
      if (args[i].rfind("--", 0) == 0)
        return Fail(err, "compare", "unknown flag " + args[i]);
      pos.push_back(args[i]);
    }
    if (against > 0) {
      if (pos.size() != 1)
        return Fail(err, "compare",
                    "usage: compare --against-history N [--db PATH] NEW "
                    "[--gate] ...");
      return CompareAgainstHistory(history, db, static_cast<size_t>(against), pos[0],
                                   o, gate, outputs, out, err);
    }
    if (pos.size() != 2) {
      return Fail(err, "compare",
                  "usage: compare BASE NEW [--gate] [--threshold P] [--alpha "
                  "A] [--json FILE] [--markdown FILE|-] [--junit FILE] (or "
                  "--against-history N NEW)");
    }
    return CompareAndPrint("compare", pos[0], pos[1], o, gate, outputs, out,
                           err);
  } catch (const std::exception& e) {
    return Fail(err, "compare", e.what());
  }
}

int RunMergeCommand(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  try {
    bool slim = false;
    std::vector<std::string> files;
    for (const std::string& a : args) {
      if (a == "--slim") {
        slim = true;
      } else if (a.rfind("--", 0) == 0) {
        return Fail(err, "merge", "unknown flag " + a);
      } else {
        files.push_back(a);
      }
    }
    if (files.size() < 2)
      return Fail(err, "merge", "usage: merge [--slim] OUT IN1 [IN2 ...]");
    std::vector<json> inputs;
    for (size_t i = 1; i < files.size(); ++i) {
      Result<json> j = ReadResultsFile(files[i]);
      if (!j.ok()) return Fail(err, "merge", std::string(j.status().message()));
      inputs.push_back(std::move(*j));
    }
    Result<json> merged = MergeResults(inputs, slim);
    if (!merged.ok())
      return Fail(err, "merge", std::string(merged.status().message()));
    if (slim) (*merged)["context"].erase("command_line");
    Status s = WriteJsonFile(files[0], *merged, slim ? -1 : 2);
    if (!s.ok()) return Fail(err, "merge", s.ToString());
    out << "merged " << inputs.size() << " files ("
        << (*merged)["context"]["machines"].size() << " machine"
        << ((*merged)["context"]["machines"].size() == 1 ? "" : "s") << ", "
        << (*merged)["benchmarks"].size() << " entries) into " << files[0]
        << "\n";
    return kExitOk;
  } catch (const std::exception& e) {
    return Fail(err, "merge", e.what());
  }
}

namespace {

constexpr const char* kAbUsage =
    "usage: ab BIN_A BIN_B --out DIR [--rounds N] [--gate] [--threshold P] "
    "[--alpha A] -- RUN FLAGS";
constexpr const char* kAbSides[2] = {"A", "B"};

struct AbArgs {
  CompareOptions o;
  bool gate = false;
  std::string dir;
  int rounds = 6;  // 6 pairs: the fewest that can reach p < 0.05 paired
  std::vector<std::string> bins, run_flags;  // bins: BIN_A, BIN_B
};

// ab's own flags (before "--"); returns "" or the error.
std::string TakeAbFlag(const std::vector<std::string>& args, size_t* i,
                       AbArgs* a) {
  const std::string& f = args[*i];
  if (f == "--out") {
    if (*i + 1 >= args.size()) return "--out expects a directory";
    a->dir = args[++*i];
  } else if (f == "--rounds") {
    double r = 0;
    if (*i + 1 >= args.size() || !ParseDouble(args[++*i], 1, 1000, &r) ||
        r != int(r)) {
      return "--rounds expects an integer 1..1000";
    }
    a->rounds = static_cast<int>(r);
  } else if (f.rfind("--", 0) == 0) {
    return "unknown flag " + f + " (" + kAbUsage + ")";
  } else {
    a->bins.push_back(f);
  }
  return "";
}

// Returns "" or the error.
std::string ParseAbArgs(const std::vector<std::string>& args, AbArgs* a) {
  a->o.threshold_pct = kDefaultThresholdPct;
  a->o.alpha = kDefaultAlpha;
  a->o.paired = true;  // round r of A ran beside round r of B
  size_t i = 0;
  for (; i < args.size() && args[i] != "--"; ++i) {
    bool taken = false;
    std::string e = TakeCompareFlag(args, &i, &a->o, &a->gate, nullptr, &taken);
    if (e.empty() && !taken) e = TakeAbFlag(args, &i, a);
    if (!e.empty()) return e;
  }
  if (i < args.size()) a->run_flags.assign(args.begin() + i + 1, args.end());
  if (a->bins.size() != 2 || a->dir.empty()) return kAbUsage;
  for (const std::string& f : a->run_flags) {
    if (f == "--out" || f.rfind("--out=", 0) == 0)
      return "do not pass --out in the run flags; ab chooses each run's folder";
  }
  return "";
}

// One run of one side in round r; returns "" or the error.
std::string RunAbSide(const AbArgs& a, int r, int side, std::ostream& out,
                      json* results) {
  std::string run_dir =
      a.dir + "/round-" + std::to_string(r) + "/" + kAbSides[side];
  std::vector<std::string> argv = {a.bins[side], "run"};
  argv.insert(argv.end(), a.run_flags.begin(), a.run_flags.end());
  argv.push_back("--out");
  argv.push_back(run_dir);
  out << "ab: round " << r + 1 << "/" << a.rounds << ": " << kAbSides[side]
      << "\n"
      << std::flush;
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  ProcessResult pr = RunProcess(argv, run_dir + "/run.log");
  if (!pr.started) return "cannot run " + a.bins[side] + ": " + pr.error;
  if (pr.exit_code != 0 && pr.exit_code != 1) {
    return kAbSides[side] + std::string(" run failed with exit code ") +
           std::to_string(pr.exit_code) + "; see " + run_dir + "/run.log";
  }
  Result<json> j = ReadResultsFile(run_dir + "/results.json");
  if (!j.ok()) return std::string(j.status().message());
  *results = std::move(*j);
  return "";
}

}  // namespace

int RunAbCommand(const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err) {
  try {
    AbArgs a;
    std::string e = ParseAbArgs(args, &a);
    if (!e.empty()) return Fail(err, "ab", e);
    std::error_code ec;
    fs::create_directories(a.dir, ec);
    if (ec)
      return Fail(err, "ab", "cannot create " + a.dir + ": " + ec.message());
    std::vector<json> sides[2];
    for (int r = 0; r < a.rounds; ++r) {
      // Alternate the order so a trend (thermal, other jobs ramping up) hits
      // both sides alike.
      for (int side : {r % 2, 1 - r % 2}) {
        json j;
        e = RunAbSide(a, r, side, out, &j);
        if (!e.empty()) return Fail(err, "ab", e);
        sides[side].push_back(std::move(j));
      }
    }
    for (int side = 0; side < 2; ++side) {
      Result<json> merged = MergeResults(sides[side]);
      if (!merged.ok())
        return Fail(err, "ab", std::string(merged.status().message()));
      Status s = WriteJsonFile(a.dir + "/" + kAbSides[side] + ".json", *merged);
      if (!s.ok()) return Fail(err, "ab", s.ToString());
    }
    out << "ab: " << a.dir << "/A.json vs " << a.dir << "/B.json\n";
    return CompareAndPrint("ab", a.dir + "/A.json", a.dir + "/B.json", a.o,
                           a.gate, Outputs{a.dir + "/compare.json", "", ""},
                           out, err);
  } catch (const std::exception& e) {
    return Fail(err, "ab", e.what());
  }
}

}  // namespace kvb::report
