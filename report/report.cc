#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "report/process.h"
#include "report/stats.h"

#ifndef KVB_SOURCE_DIR
#define KVB_SOURCE_DIR ""
#endif

namespace kvb::report {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string PText(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, p < 0.001 ? "p < 0.001" : "p = %.3f", p);
  return buf;
}

std::string Ctx(const json& c, const char* key) {
  if (!c.is_object() || !c.contains(key) || c[key].is_null()) return "";
  const json& v = c[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() || v.is_object()) {
    std::string s;
    if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        s += (s.empty() ? "" : ", ") + it.key() + " " +
             (it.value().is_string() ? it.value().get<std::string>()
                                     : it.value().dump());
      }
    } else {
      for (const json& e : v) {
        s += (s.empty() ? "" : " ") +
             (e.is_number() ? FormatFixed(e.get<double>(), 2) : e.dump());
      }
    }
    return s;
  }
  return v.dump();
}

std::string Keys(const Point& p) {
  auto it = p.params.find("keys");
  return it == p.params.end() ? "" : it->second;
}

double MedianOr(const std::vector<double>& v, double dflt) {
  return v.empty() ? dflt : Median(v);
}

double MainP99(const Point& p, const std::string& op) {
  auto it = p.latency.find(op);
  return it == p.latency.end() ? -1 : Median(it->second.p99);
}

// The op type that carries most operations across the group (so all rows use
// the same one).
std::string GroupMainOp(const Group& g) {
  std::map<std::string, double> counts;
  for (const Point* p : g.ranked) {
    for (const auto& [op, l] : p->latency) counts[op] += l.count;
  }
  std::string best;
  double n = -1;
  for (const auto& [op, c] : counts) {
    if (c > n) {
      n = c;
      best = op;
    }
  }
  return best;
}

// Whether samples of these sizes can reach p < alpha at all: the U test of two
// fully separated samples gives the smallest p they can.
bool CanSeparate(size_t n1, size_t n2, double alpha) {
  std::vector<double> lo(n1), hi(n2);
  for (size_t k = 0; k < n1; ++k) lo[k] = static_cast<double>(k);
  for (size_t k = 0; k < n2; ++k) hi[k] = static_cast<double>(k + n1);
  return MannWhitneyU(lo, hi).p < alpha;
}

// Splits an engine list into "significantly behind", "tied" and "untested"
// relative to the winner. Untested: too few repetitions for any test to
// separate them, so no p-value is printed (a p of 1.000 from one repetition
// each reads like evidence of a tie; it is the absence of a test).
std::string TieText(
    const Point* best, const std::vector<const Point*>& others,
    const std::function<const std::vector<double>&(const Point*)>& metric,
    double alpha) {
  std::vector<std::string> ties, behind, untested;
  const std::vector<double>& a = metric(best);
  for (const Point* o : others) {
    const std::vector<double>& b = metric(o);
    if (b.empty()) continue;
    double pct = (Median(b) / Median(a) - 1) * 100;
    if (!CanSeparate(a.size(), b.size(), alpha)) {
      untested.push_back(o->engine_spec + " " + FormatChange(pct, 0));
      continue;
    }
    UTestResult u = MannWhitneyU(a, b);
    (u.p >= alpha ? ties : behind)
        .push_back(o->engine_spec + " " + FormatChange(pct, 0) + " (" +
                   PText(u.p) + ")");
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  std::string s;
  if (!behind.empty()) s += "; significantly ahead of " + list(behind);
  if (!ties.empty())
    s += "; **not significantly different** from " + list(ties);
  if (!untested.empty())
    s += "; **not tested** against " + list(untested) +
         " — too few repetitions for any test at 95 %: ranked by the median "
         "only";
  return s;
}

const std::vector<double>& OpsOf(const Point* p) { return p->ops_per_s; }

void EnvironmentTable(std::ostream& out, const Machine& m) {
  const json& c = m.context;
  out << "| | |\n|---|---|\n";
  auto row = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) out << "| " << k << " | " << v << " |\n";
  };
  row("host", Ctx(c, "host_name"));
  row("CPU", Ctx(c, "cpu_model") + " × " + Ctx(c, "num_cpus"));
  if (c.value("memory_bytes", 0.0) > 0)
    row("memory", FormatBytes(c.value("memory_bytes", 0.0)));
  row("kernel", Ctx(c, "kernel"));
  std::string disk = Ctx(c, "file_system") + " on " + Ctx(c, "device");
  std::string rot = Ctx(c, "rotational");
  if (!rot.empty())
    disk += rot == "true" ? " (rotational)" : " (non-rotational)";
  row("data directory", Ctx(c, "data_dir") + ": " + disk);
  row("compiler", Ctx(c, "compiler") + " " + Ctx(c, "compiler_flags"));
  row("build type",
      Ctx(c, "build_type") +
          (Ctx(c, "ndebug") == "false" ? " (assertions on)" : ""));
  row("libraries", Ctx(c, "library_versions"));
  row("git revision", Ctx(c, "git_revision"));
  row("date", Ctx(c, "date"));
  row("load average (start / end)",
      Ctx(c, "load_avg_start") + " / " + Ctx(c, "load_avg_end"));
  row("seed, cache state", Ctx(c, "seed") + ", " + Ctx(c, "cache_state"));
  row("timer", Ctx(c, "timer"));
}

// Whether the point's engine ran on a reference library detected as built
// with assertions (context.libraries[].assertions): its row is marked ‡.
bool AssertionBuild(const Dataset& ds, const Point& p) {
  const Machine* m = ds.FindMachine(p.machine);
  if (m == nullptr || !m->context.contains("libraries") ||
      !m->context["libraries"].is_array())
    return false;
  for (const json& lib : m->context["libraries"]) {
    if (lib.is_object() && lib.value("name", "") == p.engine &&
        lib.value("assertions", json()) == true)
      return true;
  }
  return false;
}

// Returns whether a row was marked ‡ (AssertionBuild).
bool GroupTable(std::ostream& out, const Group& g, const Dataset& ds) {
  bool marked = false;
  std::string op = GroupMainOp(g);
  out << "| # | engine | ops/s (median) | 95% CI | reps | vs best | p50 " << op
      << " | p99 | p99.9 | p99.99"
      << " | on disk | space amp | RSS | reopen | bad reads | errors |\n"
      << "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|-"
         "--:|---:|\n";
  double best = g.ranked.empty() ? 0 : Median(g.ranked[0]->ops_per_s);
  int rank = 0;
  for (const Point* p : g.ranked) {
    MedianCi ci = MedianWithCi(p->ops_per_s);
    // Built step by step: GCC 12 warns (-Wrestrict, a false positive) on the
    // one-expression form.
    std::string ci_text = "n/a";
    if (ci.n >= 2) {
      ci_text = "[" + FormatCount(ci.lo) + ", " + FormatCount(ci.hi) + "]";
      if (!ci.available)
        ci_text += " †" + FormatFixed(ci.coverage * 100, 0) + "%";
    }
    auto lat = p->latency.find(op);
    auto pct = [&](const std::vector<double> LatencyReps::*f) {
      // Older results files have no p99.99 (0): a dash, not "0 ns".
      return lat == p->latency.end() || MedianOr(lat->second.*f, 0) <= 0
                 ? std::string("–")
                 : FormatNs(Median(lat->second.*f));
    };
    double disk = MedianOr(p->bytes_on_disk, -1);
    double amp = MedianOr(p->space_amp, 0);
    const bool asserts = AssertionBuild(ds, *p);
    marked = marked || asserts;
    out << "| " << ++rank << " | " << p->engine_spec << (asserts ? " ‡" : "")
        << " | " << FormatCount(ci.median) << " | " << ci_text << " | "
        << p->ops_per_s.size() << " | "
        << (rank == 1 ? "—" : FormatChange((ci.median / best - 1) * 100, 0))
        << " | " << pct(&LatencyReps::p50) << " | " << pct(&LatencyReps::p99)
        << " | " << pct(&LatencyReps::p999) << " | " << pct(&LatencyReps::p9999)
        << " | " << (disk > 0 ? FormatBytes(disk) : "–") << " | "
        << (amp > 0 ? FormatFixed(amp, 2) : "–") << " | "
        << (p->peak_rss.empty() ? "–" : FormatBytes(Median(p->peak_rss)))
        << " | "
        << (p->reopen_ms.empty() ? "–"
                                 : FormatFixed(Median(p->reopen_ms), 1) + " ms")
        << " | "
        << (p->mismatches + p->missing
                ? "**" + std::to_string(p->mismatches + p->missing) + "**"
                : "0")
        << " | " << (p->errors ? "**" + std::to_string(p->errors) + "**" : "0")
        << " |\n";
  }
  for (const Point* p : g.dead) {
    out << "| – | " << p->engine_spec << " | "
        << (p->skipped ? "skipped: " + p->skip_reason
                       : "no figures (set-up failed)")
        << " | | | | | | | | | | | | | " << p->errors << " |\n";
  }
  return marked;
}

// What each engine's durability class cost per op and whether kvbench crash
// checked it on that build (results schema 2; nothing for older files).
void DurabilityTable(std::ostream& out, const Group& g) {
  bool any = false;
  for (const Point* p : g.ranked) any = any || !p->durability.empty();
  if (!any) return;
  out << "\n| engine | durability | flushes/op | write calls/op | device "
         "bytes/op | kvbench crash on this build |\n"
         "|---|---|---:|---:|---:|---|\n";
  auto per_op = [](const std::vector<double>& v, int digits) {
    return v.empty() ? std::string("–") : FormatFixed(Median(v), digits);
  };
  for (const Point* p : g.ranked) {
    std::string crash = p->crash_checked.empty() ? "–" : p->crash_checked;
    if (!p->persistent) crash = "not persistent";
    out << "| " << p->engine_spec << " | "
        << (p->durability.empty() ? "–" : p->durability) << " | "
        << per_op(p->flushes_per_op, 3) << " | "
        << per_op(p->write_calls_per_op, 2) << " | "
        << per_op(p->device_bytes_per_op, 0) << " | " << crash << " |\n";
  }
}

// The engine state each point's measured phase started from, Settle()'s
// time and the engine's own figures then (results schema 2, engine_state):
// shown when any point of the group recorded figures or a settle.
void EngineStateTable(std::ostream& out, const Group& g) {
  bool any = false;
  for (const Point* p : g.ranked)
    any = any || !p->state_figures.empty() || !p->settle_ms.empty();
  if (!any) return;
  out << "\n| engine | state | settle (median) | engine's figures at the start "
         "of the measured phase |\n|---|---|---:|---|\n";
  for (const Point* p : g.ranked) {
    std::string figures;
    for (const auto& [name, v] : p->state_figures)
      figures += (figures.empty() ? "" : ", ") + name + " " +
                 (v == std::floor(v) ? FormatCount(v) : FormatFixed(v, 2));
    out << "| " << p->engine_spec << " | "
        << (p->engine_state.empty() ? "–" : p->engine_state) << " | "
        << (p->settle_ms.empty() ? "–"
                                 : FormatFixed(Median(p->settle_ms), 1) + " ms")
        << " | " << (figures.empty() ? "–" : figures) << " |\n";
  }
}

void OpLatencyTable(std::ostream& out, const Group& g) {
  bool multi = false;
  for (const Point* p : g.ranked) multi = multi || p->latency.size() > 1;
  if (!multi) return;
  out << "\nLatency by operation type (median over repetitions):\n\n"
      << "| engine | op | ops | p50 | p99 | p99.9 | p99.99 "
         "|\n|---|---|---:|---:|---:|---:|---:|\n";
  for (const Point* p : g.ranked) {
    for (const auto& [op, l] : p->latency) {
      out << "| " << p->engine_spec << " | " << op << " | "
          << FormatCount(l.count) << " | " << FormatNs(Median(l.p50)) << " | "
          << FormatNs(Median(l.p99)) << " | " << FormatNs(Median(l.p999))
          << " | "
          << (MedianOr(l.p9999, 0) > 0 ? FormatNs(Median(l.p9999)) : "–")
          << " |\n";
    }
  }
}

// The page cache as the measured phase started and, under --memory-limit,
// the cap: shown when any point of the group recorded them.
void CacheTable(std::ostream& out, const Group& g) {
  bool any = false;
  for (const Point* p : g.ranked)
    any = any || !p->resident.empty() || p->memory_limit > 0;
  if (!any) return;
  auto bytes = [](const std::vector<double>& v) {
    return v.empty() ? std::string("–") : FormatBytes(Median(v));
  };
  out << "\nPage cache and memory cap (median over repetitions; resident: "
         "fraction of the database files in the page cache as the measured "
         "phase started, mincore):\n\n"
      << "| engine | resident at start | memory limit | cgroup peak | page "
         "cache at end |\n|---|---:|---:|---:|---:|\n";
  for (const Point* p : g.ranked) {
    out << "| " << p->engine_spec << " | "
        << (p->resident.empty()
                ? "–"
                : FormatFixed(Median(p->resident) * 100, 1) + " %")
        << " | "
        << (p->memory_limit > 0 ? FormatBytes(p->memory_limit) : "none")
        << " | " << bytes(p->cgroup_peak) << " | " << bytes(p->cgroup_file_end)
        << " |\n";
  }
}

// Per role throughput (read-while-writing's readers and writer): shown when
// any point of the group has roles.
void RoleTable(std::ostream& out, const Group& g) {
  bool any = false;
  for (const Point* p : g.ranked) any = any || !p->roles.empty();
  if (!any) return;
  out << "\nPer role (median over repetitions; latency per op type above):\n\n"
      << "| engine | role | threads | ops/s | paced at |\n|---|---|---:|---:|---:|\n";
  for (const Point* p : g.ranked) {
    for (const auto& [name, r] : p->roles) {
      out << "| " << p->engine_spec << " | " << name << " | " << r.threads
          << " | " << FormatFixed(Median(r.ops_per_s), 0) << " | "
          << (r.target_rate > 0 ? FormatFixed(r.target_rate, 0) + " ops/s"
                                : std::string("closed loop"))
          << " |\n";
    }
  }
}

void ScalingTables(std::ostream& out, const Dataset& ds) {
  // machine/workload/keys -> engine -> threads -> median ops/s
  std::map<std::string, std::map<std::string, std::map<int, double>>> t;
  for (const Point& p : ds.points) {
    if (p.ops_per_s.empty()) continue;
    std::string title = p.workload +
                        (Keys(p).empty() ? "" : ", " + Keys(p) + " keys") +
                        (ds.machines.size() > 1 ? " — " + p.machine : "");
    t[title][p.engine_spec][p.threads] = Median(p.ops_per_s);
  }
  bool header = false;
  for (const auto& [key, engines] : t) {
    std::set<int> threads;
    for (const auto& [e, m] : engines) {
      for (const auto& [th, v] : m) threads.insert(th);
    }
    if (threads.size() < 2) continue;
    if (!header) out << "## Thread scaling\n\n";
    header = true;
    out << "**" << key << "** — median ops/s by thread count\n\n| engine |";
    for (int th : threads) out << " " << th << " |";
    out << "\n|---|";
    for (size_t i = 0; i < threads.size(); ++i) out << "---:|";
    out << "\n";
    for (const auto& [e, m] : engines) {
      out << "| " << e << " |";
      for (int th : threads)
        out << " " << (m.count(th) ? FormatCount(m.at(th)) : "–") << " |";
      out << "\n";
    }
    out << "\n";
  }
}

void PlotsSection(std::ostream& out, const PlotOutcome& plots) {
  out << "## Plots\n\n";
  if (!plots.ok) {
    out << "Plots were skipped: " << plots.message << "\n\n";
    return;
  }
  for (const std::string& f : plots.files) {
    if (fs::path(f).extension() != ".png") continue;
    std::string svg = fs::path(f).replace_extension(".svg").string();
    out << "![" << fs::path(f).stem().string() << "](" << f << ")  \n[SVG]("
        << svg << ")\n\n";
  }
}

// ---------------------------------------------------------------------------
// Caveats and recommendations: tables of rules, each a short function that
// reads the data and returns its sentence(s) ("" or nothing: the rule does not
// apply). The tables' order is the order the report prints.

// One machine's context -> one caveat, or "".
using MachineRule = std::string (*)(const json& context);

std::string RotationalCaveat(const json& c) {
  if (c.value("rotational", false) != true) return "";
  return "the data directory is on a rotational disk: latency and sync "
         "figures are not comparable with SSD results";
}

std::string AssertionsCaveat(const json& c) {
  if (!c.contains("ndebug") || c["ndebug"] != false) return "";
  return "kvbench itself was built with assertions (no NDEBUG)";
}

std::string LoadCaveat(const json& c) {
  double cpus = std::max(1.0, c.value("num_cpus", 1.0));
  double load = 0;
  for (const char* key : {"load_avg_start", "load_avg_end"}) {
    if (c.contains(key) && c[key].is_array() && !c[key].empty() &&
        c[key][0].is_number()) {
      load = std::max(load, c[key][0].get<double>());
    }
  }
  if (load <= 0.5 * cpus) return "";
  return "the machine was loaded (1-minute load average up to " +
         FormatFixed(load, 2) + " on " + FormatFixed(cpus, 0) +
         " CPUs): other processes competed for the cores; treat small "
         "differences as noise";
}

constexpr MachineRule kMachineRules[] = {RotationalCaveat, AssertionsCaveat,
                                         LoadCaveat};

// The harness's own context warnings, except those a machine rule says with
// its consequence (rotational disk, a machine that was not idle).
std::vector<std::string> ContextWarnings(const json& c) {
  std::vector<std::string> out;
  if (!c.contains("warnings") || !c["warnings"].is_array()) return out;
  for (const json& w : c["warnings"]) {
    if (!w.is_string()) continue;
    std::string text = w.get<std::string>();
    if (text.find("rotational") == std::string::npos &&
        text.find("not idle") == std::string::npos) {
      out.push_back(text);
    }
  }
  return out;
}

// The whole dataset -> caveats.
using DatasetRule = std::vector<std::string> (*)(const Dataset& ds);

std::vector<std::string> PointProblems(const Dataset& ds) {
  std::vector<std::string> out;
  for (const Point& p : ds.points) {
    if (p.failed()) {
      out.push_back(p.name + ": " + std::to_string(p.mismatches) +
                    " mismatched reads, " + std::to_string(p.missing) +
                    " missing keys, " + std::to_string(p.errors) +
                    " errors — its speed is not a result");
    }
    if (p.skipped) out.push_back(p.name + ": skipped (" + p.skip_reason + ")");
  }
  return out;
}

std::vector<std::string> ShortPoints(const Dataset& ds) {
  std::vector<std::string> names;
  for (const Point& p : ds.points) {
    if (!p.phase_s.empty() && Median(p.phase_s) < 0.1) names.push_back(p.name);
  }
  if (names.empty()) return {};
  std::string list;
  for (size_t i = 0; i < names.size() && i < 3; ++i)
    list += (i ? ", " : "") + names[i];
  if (names.size() > 3) list += ", ...";
  return {std::to_string(names.size()) +
          " points measured for less than 100 ms per repetition (" + list +
          "): scheduler and timer noise dominate them; raise keys or ops for "
          "firm numbers"};
}

std::vector<std::string> FewRepetitions(const Dataset& ds) {
  size_t min_reps = SIZE_MAX;
  for (const Point& p : ds.points) {
    if (!p.ops_per_s.empty()) min_reps = std::min(min_reps, p.ops_per_s.size());
  }
  if (min_reps == 1) {
    return {
        "some points have a single repetition: no confidence interval and "
        "no significance test is possible for them"};
  }
  if (min_reps == SIZE_MAX || min_reps >= 6) return {};
  return {"some points have only " + std::to_string(min_reps) +
          " repetitions: a distribution-free 95 % interval of the median "
          "needs at least 6, so their intervals (marked †) are the min–max "
          "range with the coverage shown"};
}

constexpr DatasetRule kDatasetRules[] = {PointProblems, ShortPoints,
                                         FewRepetitions};

// What the recommendation rules read: the group's rankable points.
struct Candidates {
  std::vector<const Point*> ok;  // correct, verified, persistent if any is
  std::vector<const Point*> in_memory;  // not ranked when `ok` is persistent
  // Recommendations compare engines under one durability class and one
  // engine state: `condition` is the one most of `ok` ran at ("" in files
  // that do not record them), `elsewhere` the candidates left out for
  // running at another.
  std::string condition;
  std::vector<const Point*> elsewhere;
  std::string op;                       // the group's main op type
  double alpha = 0.05;
  const Point* null_point = nullptr;  // the harness's own cost, when it ran
};

// "durability process, state settled": what a point's figure was measured
// under; "" when its file recorded neither.
std::string ConditionOf(const Point* p) {
  std::string text;
  if (!p->durability.empty()) text = "durability " + p->durability;
  if (!p->engine_state.empty())
    text += (text.empty() ? "" : ", ") + std::string("state ") + p->engine_state;
  return text;
}

// Keeps in c->ok the points of the condition most of them share (the fastest
// one's on a tie: c->ok is in throughput order) and moves the rest to
// c->elsewhere.
void KeepOneCondition(Candidates* c) {
  if (c->ok.empty()) return;
  std::map<std::string, int> count;
  for (const Point* p : c->ok) count[ConditionOf(p)]++;
  std::string keep = ConditionOf(c->ok[0]);
  for (const auto& [cond, n] : count)
    if (n > count[keep]) keep = cond;
  std::vector<const Point*> same;
  for (const Point* p : c->ok)
    (ConditionOf(p) == keep ? same : c->elsewhere).push_back(p);
  c->ok = std::move(same);
  c->condition = keep;
}

Candidates RankablePoints(const Group& g, double alpha) {
  Candidates c;
  c.alpha = alpha;
  c.op = GroupMainOp(g);
  std::vector<const Point*> durable, volatile_points;
  for (const Point* p : g.ranked) {
    // The null adapter stores nothing: the harness's own ceiling, not a choice.
    if (p->engine == "null" && !p->failed()) c.null_point = p;
    if (p->failed() || !p->verified || p->engine == "null") continue;
    (p->persistent ? durable : volatile_points).push_back(p);
  }
  // In-memory engines are a ceiling, not a storage choice: rank the persistent
  // ones when any ran, and show the ceiling on its own line.
  if (durable.empty()) {
    c.ok = volatile_points;
  } else {
    c.ok = durable;
    c.in_memory = volatile_points;
  }
  KeepOneCondition(&c);
  return c;
}

// The candidate with the smallest positive median of `field`, or null.
const Point* Smallest(const std::vector<const Point*>& points,
                      std::vector<double> Point::*field) {
  const Point* best = nullptr;
  for (const Point* p : points) {
    if (MedianOr(p->*field, 0) <= 0) continue;
    if (!best || Median(p->*field) < Median(best->*field)) best = p;
  }
  return best;
}

// Candidates (never empty) -> one recommendation line, or "".
using RecommendationRule = std::string (*)(const Candidates& c);

std::string BestThroughput(const Candidates& c) {
  const Point* best = c.ok[0];
  std::vector<const Point*> rest(c.ok.begin() + 1, c.ok.end());
  std::string among =
      c.condition.empty() ? "" : " (among engines at " + c.condition + ")";
  return "**Best throughput**" + among + ": " + best->engine_spec + " — " +
         FormatCount(Median(best->ops_per_s)) + " ops/s (median of " +
         std::to_string(best->ops_per_s.size()) + ")" +
         TieText(best, rest, &OpsOf, c.alpha);
}

// Engines whose latency samples are of another op type than the group's main
// one (a batching engine's "batch" beside per-key "insert"): one sample per
// batch of many keys is not comparable with one per key, so the tail is not
// ranked across them (issue 16). Returns "" when every candidate has `op`.
std::string OtherLatencyUnits(const Candidates& c) {
  std::string names;
  for (const Point* p : c.ok) {
    if (MainP99(*p, c.op) > 0 || p->latency.empty()) continue;
    names += (names.empty() ? "" : ", ") + p->engine_spec + " (per " +
             p->latency.begin()->first + ")";
  }
  return names;
}

std::string BestTailLatency(const Candidates& c) {
  const std::string& op = c.op;
  std::string other = OtherLatencyUnits(c);
  if (!other.empty())
    return "Tail latency is not ranked: the engines timed different units (" +
           other + " vs per " + op +
           "); compare throughput, or the latency tables per op type";
  std::vector<const Point*> by_tail;
  for (const Point* p : c.ok) {
    if (MainP99(*p, op) > 0) by_tail.push_back(p);
  }
  if (by_tail.empty()) return "";
  std::stable_sort(by_tail.begin(), by_tail.end(),
                   [&](const Point* a, const Point* b) {
                     return MainP99(*a, op) < MainP99(*b, op);
                   });
  auto p99s = [&op](const Point* p) -> const std::vector<double>& {
    return p->latency.at(op).p99;
  };
  std::vector<const Point*> others(by_tail.begin() + 1, by_tail.end());
  return "**Best tail latency** (p99 of " + op +
         "): " + by_tail[0]->engine_spec + " — " +
         FormatNs(MainP99(*by_tail[0], op)) +
         TieText(by_tail[0], others, p99s, c.alpha);
}

std::string SmallestFootprint(const Candidates& c) {
  const Point* small = Smallest(c.ok, &Point::bytes_on_disk);
  if (!small) return "";
  std::string amp =
      small->space_amp.empty()
          ? ""
          : ", space amplification " + FormatFixed(Median(small->space_amp), 2);
  return "**Smallest footprint on disk**: " + small->engine_spec + " — " +
         FormatBytes(Median(small->bytes_on_disk)) + amp;
}

std::string InMemoryCeiling(const Candidates& c) {
  if (c.in_memory.empty()) return "";
  std::string names;
  for (const Point* p : c.in_memory) {
    names += (names.empty() ? "" : ", ") + p->engine_spec + " " +
             FormatCount(Median(p->ops_per_s)) + " ops/s";
  }
  return "In-memory ceiling (not persistent, not ranked): " + names;
}

std::string OtherConditions(const Candidates& c) {
  if (c.elsewhere.empty()) return "";
  std::string names;
  for (const Point* p : c.elsewhere) {
    names += (names.empty() ? "" : "; ") + p->engine_spec + " at " +
             ConditionOf(p) + ", " + FormatCount(Median(p->ops_per_s)) +
             " ops/s";
  }
  return "Not ranked with them (another durability class or engine state): " +
         names;
}

std::string LowestMemory(const Candidates& c) {
  const Point* lean = Smallest(c.ok, &Point::peak_rss);
  if (!lean) return "";
  return "**Lowest memory**: " + lean->engine_spec + " — " +
         FormatBytes(Median(lean->peak_rss)) +
         (lean->rss_is_peak ? " peak RSS" : " RSS (largest at a phase end)");
}

// What the harness itself costs per op (the null adapter's time per op, with
// its generator, timing and loop, but no engine and nothing to verify), as a
// fraction of the fastest candidate's time per op: the share of that figure
// that is not the engine's.
std::string HarnessOverhead(const Candidates& c) {
  if (c.null_point == nullptr || c.null_point->ops_per_s.empty()) return "";
  const Point* fastest = c.ok[0];
  double null_ops = Median(c.null_point->ops_per_s);
  double best_ops = Median(fastest->ops_per_s);
  if (null_ops <= 0 || best_ops <= 0) return "";
  return "Harness overhead: the null adapter ran " + FormatCount(null_ops) +
         " ops/s, so the harness's own work is about " +
         FormatFixed(100 * best_ops / null_ops, 1) +
         " % of the time per op of " + fastest->engine_spec + " (" +
         FormatCount(best_ops) + " ops/s), the fastest ranked engine";
}

constexpr RecommendationRule kRecommendationRules[] = {
    BestThroughput,  BestTailLatency, SmallestFootprint, InMemoryCeiling,
    OtherConditions, LowestMemory,    HarnessOverhead};

}  // namespace

std::vector<Group> MakeGroups(const Dataset& ds) {
  std::vector<Group> groups;
  for (const Point& p : ds.points) {
    std::string title =
        p.workload + " — " + (Keys(p).empty() ? "" : Keys(p) + " keys, ") +
        std::to_string(p.threads) + (p.threads == 1 ? " thread" : " threads");
    if (ds.machines.size() > 1) title += " — " + p.machine;
    // A second parameter set of one run name: its own group, labelled.
    if (p.name.size() > p.run_name.size() && !p.run_name.empty())
      title += p.name.substr(p.run_name.size());
    Group* g = nullptr;
    for (Group& e : groups) {
      if (e.title == title) g = &e;
    }
    if (!g) {
      groups.push_back(Group{p.machine, p.workload, title, p.threads, {}, {}});
      g = &groups.back();
    }
    (p.ops_per_s.empty() ? g->dead : g->ranked).push_back(&p);
  }
  for (Group& g : groups) {
    std::stable_sort(g.ranked.begin(), g.ranked.end(),
                     [](const Point* a, const Point* b) {
                       return Median(a->ops_per_s) > Median(b->ops_per_s);
                     });
  }
  return groups;
}

std::vector<std::string> Caveats(const Dataset& ds) {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const Machine& m : ds.machines) {
    std::string who = ds.machines.size() > 1 ? m.key + ": " : "";
    for (const std::string& w : ContextWarnings(m.context)) add(who + w);
    for (MachineRule rule : kMachineRules) {
      std::string text = rule(m.context);
      if (!text.empty()) add(who + text);
    }
  }
  for (const std::string& n : ds.notes) add(n);
  for (DatasetRule rule : kDatasetRules) {
    for (const std::string& text : rule(ds)) add(text);
  }
  return out;
}

std::vector<std::string> Recommendations(const Group& g, double alpha) {
  std::vector<std::string> lines;
  for (const Point* p : g.ranked) {
    if (p->failed()) {
      lines.push_back("**Excluded**: " + p->engine_spec +
                      " returned wrong or missing data or errors (" +
                      std::to_string(p->mismatches + p->missing) +
                      " bad reads, " + std::to_string(p->errors) + " errors)");
    }
  }
  Candidates c = RankablePoints(g, alpha);
  if (c.ok.empty()) return lines;
  for (RecommendationRule rule : kRecommendationRules) {
    std::string line = rule(c);
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

void WriteReport(std::ostream& out, const Dataset& ds,
                 const PlotOutcome& plots) {
  out << "# kvbench report\n\nFrom " << ds.files.size() << " results file"
      << (ds.files.size() == 1 ? "" : "s") << ":";
  for (const std::string& f : ds.files)
    out << " `" << fs::path(f).filename().string() << "`";
  out << ". Throughput is the median over repetitions of the measured phase; "
         "the interval is a "
         "distribution-free 95 % confidence interval of that median. "
         "Comparisons use the "
         "Mann-Whitney U test at α = 0.05.\n\n";
  out << "## Environment\n\n";
  for (const Machine& m : ds.machines) {
    if (ds.machines.size() > 1) out << "### Machine " << m.key << "\n\n";
    EnvironmentTable(out, m);
    out << "\n";
  }
  std::vector<std::string> caveats = Caveats(ds);
  out << "## Caveats\n\n";
  if (caveats.empty()) out << "None found in the recorded context.\n";
  for (const std::string& c : caveats) out << "- " << c << "\n";
  out << "\n## Which engine for which workload\n\nDerived from the numbers "
         "below.\n\n";
  std::vector<Group> groups = MakeGroups(ds);
  for (const Group& g : groups) {
    out << "**" << g.title << "**\n\n";
    std::vector<std::string> recs = Recommendations(g);
    if (recs.empty()) out << "- no engine produced figures\n";
    for (const std::string& r : recs) out << "- " << r << "\n";
    out << "\n";
  }
  out << "## Results by workload\n\n";
  bool assertion_rows = false;
  for (const Group& g : groups) {
    out << "### " << g.title << "\n\n";
    assertion_rows = GroupTable(out, g, ds) || assertion_rows;
    DurabilityTable(out, g);
    EngineStateTable(out, g);
    OpLatencyTable(out, g);
    CacheTable(out, g);
    RoleTable(out, g);
    out << "\n";
  }
  out << "† fewer than 6 repetitions: min–max range with its actual coverage "
         "instead of a 95 % "
         "interval.\n\n";
  if (assertion_rows) {
    out << "‡ linked against a reference library built with assertions (it "
           "imports `__assert_fail`; context `libraries`): slower than its "
           "release build (scripts/build-release-refs.sh).\n\n";
  }
  ScalingTables(out, ds);
  PlotsSection(out, plots);
}

std::string PlotScriptPath() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("KVB_PLOTS_DIR")) dirs.push_back(env);
  if (std::string(KVB_SOURCE_DIR).size())
    dirs.push_back(std::string(KVB_SOURCE_DIR) + "/plots");
  for (const std::string& d : dirs) {
    std::error_code ec;
    std::string p = d + "/kvb_plots.py";
    if (fs::is_regular_file(p, ec)) return p;
  }
  return "";
}

PlotOutcome RunPlots(const std::vector<std::string>& files,
                     const std::string& out_dir) {
  PlotOutcome r;
  std::string script = PlotScriptPath();
  if (script.empty()) {
    r.message = "plot script kvb_plots.py not found (set KVB_PLOTS_DIR)";
    return r;
  }
  const char* py_env = std::getenv("KVB_PYTHON");
  std::string python = py_env && *py_env ? py_env : "/usr/bin/python3";
  std::error_code ec;
  std::string plot_dir = out_dir + "/plots";
  fs::create_directories(plot_dir, ec);
  if (ec) {
    r.message = "cannot create " + plot_dir + ": " + ec.message();
    return r;
  }
  std::string log = plot_dir + "/plot.log";
  fs::remove(log, ec);
  std::vector<std::string> argv = {python, script, "--out", plot_dir};
  argv.insert(argv.end(), files.begin(), files.end());
  r.attempted = true;
  ProcessResult pr = RunProcess(argv, log);
  if (!pr.started) {
    r.message = "cannot run " + python + " (" + pr.error + ")";
    return r;
  }
  if (pr.exit_code != 0) {
    std::ifstream in(log);
    std::string line, last;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;
    }
    r.message = python + " " + fs::path(script).filename().string() +
                " exited with " + std::to_string(pr.exit_code) +
                (last.empty() ? "" : ": " + last);
    return r;
  }
  std::ifstream manifest(plot_dir + "/manifest.json");
  json m = json::parse(manifest, nullptr, /*allow_exceptions=*/false);
  if (m.is_array()) {
    for (const json& f : m) {
      if (f.is_string()) r.files.push_back("plots/" + f.get<std::string>());
    }
  }
  r.ok = true;
  return r;
}

}  // namespace kvb::report
