#include "report/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "core/names.h"
#include "report/stats.h"

namespace kvb::report {
namespace {

using json = nlohmann::json;

std::vector<double> Logs(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) {
    if (x > 0) out.push_back(std::log(x));
  }
  return out;
}

double SmallestP(size_t n1, size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  double c = 1;  // C(n1 + n2, n1)
  for (size_t i = 1; i <= n1; ++i)
    c = c * static_cast<double>(n2 + i) / static_cast<double>(i);
  return std::min(1.0, 2 / c);
}

// Change of a positive metric from BASE to NEW: ratio estimate on a log scale,
// so +10 % and -9.1 % are the same distance, and the interval stays on the
// right side of -100 %.
MetricChange Change(const std::vector<double>& base,
                    const std::vector<double>& next, double alpha) {
  MetricChange m;
  m.base = Median(base);
  m.next = Median(next);
  m.n_base = base.size();
  m.n_new = next.size();
  std::vector<double> lb = Logs(base), ln = Logs(next);
  if (lb.empty() || ln.empty()) return m;
  ShiftCi s = HodgesLehmannShift(lb, ln, alpha);
  m.change_pct = (std::exp(s.estimate) - 1) * 100;
  m.lo_pct = (std::exp(s.lo) - 1) * 100;
  m.hi_pct = (std::exp(s.hi) - 1) * 100;
  m.ci_available = s.available;
  UTestResult u = MannWhitneyU(lb, ln);
  m.p = u.p;
  m.exact = u.exact;
  return m;
}

// As Change, for repetitions measured in pairs (base[i] beside next[i]): the
// signed-rank test and the paired Hodges-Lehmann interval of the log ratios.
// Unequal counts: the unpaired Change.
MetricChange PairedChange(const std::vector<double>& base,
                          const std::vector<double>& next, double alpha) {
  std::vector<double> lb = Logs(base), ln = Logs(next);
  if (lb.size() != ln.size() || lb.size() != base.size() ||
      ln.size() != next.size())
    return Change(base, next, alpha);
  MetricChange m;
  m.base = Median(base);
  m.next = Median(next);
  m.n_base = base.size();
  m.n_new = next.size();
  m.paired = true;
  if (lb.empty()) return m;
  std::vector<double> d(lb.size());
  for (size_t i = 0; i < d.size(); ++i) d[i] = ln[i] - lb[i];
  ShiftCi s = PairedShift(d, alpha);
  m.change_pct = (std::exp(s.estimate) - 1) * 100;
  m.lo_pct = (std::exp(s.lo) - 1) * 100;
  m.hi_pct = (std::exp(s.hi) - 1) * 100;
  m.ci_available = s.available;
  SignedRankResult w = WilcoxonSignedRank(d);
  m.p = w.p;
  m.exact = w.exact;
  return m;
}

Verdict Decide(const MetricChange& m, double alpha, bool higher_is_better) {
  const double smallest =
      m.paired ? SmallestSignedRankP(m.n_base) : SmallestP(m.n_base, m.n_new);
  if (m.n_base < 2 || m.n_new < 2 || smallest >= alpha) {
    return Verdict::kTooFewReps;
  }
  if (m.p >= alpha) return Verdict::kNoChange;
  bool up = m.change_pct > 0;
  return up == higher_is_better ? Verdict::kFaster : Verdict::kSlower;
}

MetricChange InstructionChange(const std::vector<double>& base,
                               const std::vector<double>& next) {
  MetricChange m;
  m.base = Median(base);
  m.next = Median(next);
  m.n_base = base.size();
  m.n_new = next.size();
  m.change_pct = m.base > 0 ? (m.next / m.base - 1) * 100 : 0;
  m.lo_pct = m.hi_pct = m.change_pct;
  m.ci_available = true;
  m.p = 0;
  m.exact = true;
  return m;
}

std::string Text(const json& c, const char* key) {
  if (!c.is_object() || !c.contains(key)) return "";
  return c[key].is_string() ? c[key].get<std::string>() : c[key].dump();
}

void CompareContexts(const json& a, const json& b, const std::string& label,
                     Comparison* out) {
  auto differ = [&](const char* key) { return Text(a, key) != Text(b, key); };
  auto describe = [&](const char* key) {
    return label + std::string(key) + ": " + Text(a, key) + " vs " +
           Text(b, key);
  };
  for (const char* key : {"cpu_model", "num_cpus"}) {
    if (differ(key))
      out->incomparable.push_back("different machine: " + describe(key));
  }
  double ma = a.value("memory_bytes", 0.0), mb = b.value("memory_bytes", 0.0);
  if (ma > 0 && mb > 0 && std::fabs(ma - mb) > 0.05 * std::max(ma, mb)) {
    out->incomparable.push_back("different machine: " +
                                describe("memory_bytes"));
  }
  for (const char* key : {"build_type", "ndebug"}) {
    if (differ(key))
      out->incomparable.push_back("different build type: " + describe(key));
  }
  for (const char* key :
       {"host_name", "kernel", "compiler", "compiler_flags", "library_versions",
        "libraries", "file_system", "rotational", "cache_state"}) {
    if (differ(key)) out->notes.push_back(describe(key));
  }
}

// The name a point is matched by: its run name, or with the engine's options
// removed.
std::string MatchName(const Point& p, bool strip) {
  if (!strip || p.engine_spec == p.engine || p.engine.empty()) return p.name;
  std::string spec = "/" + p.engine_spec + "/";
  size_t at = p.name.find(spec);
  if (at == std::string::npos) return p.name;
  return p.name.substr(0, at) + "/" + p.engine + "/" +
         p.name.substr(at + spec.size());
}

const Point* FindPoint(const Dataset& ds, const Point& like, bool by_machine,
                       bool strip) {
  std::string want = MatchName(like, strip);
  for (const Point& p : ds.points) {
    if (MatchName(p, strip) == want &&
        (!by_machine || p.machine == like.machine))
      return &p;
  }
  return nullptr;
}

bool AllHaveInstructions(const Dataset& ds) {
  bool any = false;
  for (const Point& p : ds.points) {
    if (p.ops_per_s.empty()) continue;
    if (p.instructions.size() != p.ops_per_s.size()) return false;
    any = true;
  }
  return any;
}

std::string CounterOf(const Dataset& ds) {
  if (ds.machines.empty()) return "";
  return Text(ds.machines[0].context, "instruction_counter");
}

// Instruction counts make the comparison deterministic; say so, use the
// tighter default threshold, and refuse counts from two different counters.
void DescribeMode(const Dataset& base, const Dataset& next, bool base_instr,
                  bool next_instr, Comparison* c) {
  if (base_instr && next_instr) {
    if (!c->options.threshold_set)
      c->options.threshold_pct = kDefaultInstructionThresholdPct;
    std::string bc = CounterOf(base), nc = CounterOf(next);
    c->counter = bc;
    c->mode_detail =
        "instruction counts on both sides" +
        (bc.empty() ? std::string() : " (" + bc + ")") +
        ": deterministic, so the threshold applies to the change in median "
        "instructions per op; no U test, one repetition per side suffices";
    if (!bc.empty() && !nc.empty() && bc != nc) {
      c->incomparable.push_back("different instruction counter: " + bc +
                                " vs " + nc);
    }
  } else if (base_instr || next_instr) {
    c->mode_detail = std::string("instruction counts only in ") +
                     (base_instr ? "BASE" : "NEW") +
                     ": compared by time instead";
  }
}

void CheckCorrectness(const Point& p, CompareRow* row) {
  if (!p.failed()) return;
  row->correctness_failure = true;
  row->correctness_detail = std::to_string(p.mismatches) + " mismatches, " +
                            std::to_string(p.missing) + " missing, " +
                            std::to_string(p.errors) + " errors";
  if (!p.error_messages.empty())
    row->correctness_detail += " (" + p.error_messages[0] + ")";
}

std::string PValue(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, p < 0.001 ? "%.1e" : "%.3f", p);
  return buf;
}

}  // namespace

constexpr NameTable<Verdict, 4> kVerdictNames{{{
    {Verdict::kFaster, "faster"},
    {Verdict::kSlower, "slower"},
    {Verdict::kNoChange, "no significant change"},
    {Verdict::kTooFewReps, "too few repetitions"},
}}};

const char* VerdictName(Verdict v) { return kVerdictNames.Name(v, "?").data(); }

const char* GateText(int rc) {
  switch (rc) {
    case kExitOk:
      return "pass";
    case kExitRegression:
      return "FAIL: regression";
    case kExitMissing:
      return "FAIL: benchmark missing from NEW";
    case kExitCorrectness:
      return "FAIL: correctness (mismatches or errors)";
    case kExitTooFewReps:
      return "FAIL: too few repetitions to judge";
    default:
      return "FAIL: results not comparable";
  }
}

int Comparison::GateExitCode() const {
  if (!incomparable.empty() && !options.allow_incomparable)
    return kExitIncomparable;
  // A benchmark that could not be compared, or nothing compared at all, must
  // not pass (--allow-incomparable covers only the context).
  if (!not_comparable.empty()) return kExitIncomparable;
  for (const CompareRow& r : rows) {
    if (r.correctness_failure) return kExitCorrectness;
  }
  if (!missing.empty()) return kExitMissing;
  if (rows.empty()) return kExitIncomparable;
  for (const CompareRow& r : rows) {
    if (r.regression) return kExitRegression;
  }
  for (const CompareRow& r : rows) {
    if (r.verdict == Verdict::kTooFewReps) return kExitTooFewReps;
  }
  return kExitOk;
}

namespace {

// The contexts of matching machines (all of them when both sides hold
// several, else the first of each).
void CompareMachines(const Dataset& base, const Dataset& next, bool by_machine,
                     Comparison* c) {
  if (base.machines.empty() || next.machines.empty()) return;
  if (!by_machine) {
    CompareContexts(base.machines[0].context, next.machines[0].context, "", c);
    return;
  }
  for (const Machine& m : base.machines) {
    if (const Machine* n = next.FindMachine(m.key))
      CompareContexts(m.context, n->context, m.key + ": ", c);
  }
}

// Wall and/or CPU time (o.metric). A metric regresses when it is
// significantly slower and its whole 95 % interval lies beyond the threshold;
// the row shows the worse judged metric and regresses if either does.
void JudgeTime(const Point& b, const Point& n, const CompareOptions& o,
               CompareRow* row) {
  using M = CompareOptions::Metric;
  auto change = o.paired ? PairedChange : Change;
  row->wall = change(b.ops_per_s, n.ops_per_s, o.alpha);
  row->cpu = change(b.cpu_ops_per_s, n.cpu_ops_per_s, o.alpha);
  std::vector<const MetricChange*> judged;
  if (o.metric != M::kCpu) judged.push_back(&row->wall);
  if (o.metric != M::kWall) judged.push_back(&row->cpu);
  const MetricChange* worst = judged[0];
  bool too_few = false;
  for (const MetricChange* m : judged) {
    Verdict v = Decide(*m, o.alpha, /*higher_is_better=*/true);
    too_few = too_few || v == Verdict::kTooFewReps;
    if (v == Verdict::kSlower && m->ci_available &&
        -m->hi_pct > o.threshold_pct)
      row->regression = true;
    if (m->change_pct < worst->change_pct) worst = m;
  }
  row->throughput = *worst;
  row->verdict = too_few ? Verdict::kTooFewReps
                         : Decide(*worst, o.alpha, /*higher_is_better=*/true);
  if (row->regression) row->verdict = Verdict::kSlower;
}

// One row: throughput (instructions, CPU or wall time) and p99 of the main op.
// `instr_threshold`: the instruction-mode threshold (the comparison's, which
// DescribeMode may have set; `o` holds the caller's).
CompareRow ComparePoint(const Point& b, const Point& n,
                        const std::string& label, bool instr,
                        double instr_threshold, const CompareOptions& o) {
  CompareRow row;
  row.name = label;
  CheckCorrectness(n, &row);
  if (instr) {
    row.throughput = InstructionChange(b.instructions, n.instructions);
    const double t = instr_threshold;
    row.verdict = row.throughput.change_pct > t    ? Verdict::kSlower
                  : row.throughput.change_pct < -t ? Verdict::kFaster
                                                   : Verdict::kNoChange;
    row.regression = row.verdict == Verdict::kSlower;
  } else {
    JudgeTime(b, n, o, &row);
  }
  row.p99_op = b.MainOp();
  auto bl = b.latency.find(row.p99_op);
  auto nl = n.latency.find(row.p99_op);
  if (bl != b.latency.end() && nl != n.latency.end()) {
    row.p99 = Change(bl->second.p99, nl->second.p99, o.alpha);
    row.p99_verdict = Decide(row.p99, o.alpha, /*higher_is_better=*/false);
  }
  return row;
}

// The comparability fields (Point::identity) that differ, as "name: old vs
// new"; fields recorded on one side only go to `unchecked`.
std::vector<std::string> Differences(const Point& b, const Point& n,
                                     bool ignore_engine_options,
                                     std::vector<std::string>* unchecked) {
  std::vector<std::string> out;
  for (const auto& [key, value] : b.identity) {
    if (ignore_engine_options && key == "engine_spec") continue;
    auto it = n.identity.find(key);
    if (it == n.identity.end()) {
      unchecked->push_back(key + " (not recorded in NEW)");
    } else if (it->second != value) {
      out.push_back(key + ": " + value + " vs " + it->second);
    }
  }
  for (const auto& [key, value] : n.identity) {
    if (!b.identity.count(key))
      unchecked->push_back(key + " (not recorded in BASE)");
  }
  return out;
}

void AddUnique(const std::vector<std::string>& from,
               std::vector<std::string>* to) {
  for (const std::string& s : from) {
    if (std::find(to->begin(), to->end(), s) == to->end()) to->push_back(s);
  }
}

}  // namespace

Comparison Compare(const Dataset& base, const Dataset& next,
                   const CompareOptions& o) {
  Comparison c;
  c.options = o;
  bool by_machine = base.machines.size() > 1 && next.machines.size() > 1;
  CompareMachines(base, next, by_machine, &c);
  bool base_instr = AllHaveInstructions(base),
       next_instr = AllHaveInstructions(next);
  bool instr = base_instr && next_instr;
  using M = CompareOptions::Metric;
  c.mode = instr      ? "instructions (exact)"
           : o.paired ? "wall-clock and/or CPU time, paired by round (Wilcoxon "
                        "signed-rank)"
           : o.metric == M::kCpu ? "CPU time per op (Mann-Whitney U)"
           : o.metric == M::kWall
               ? "wall-clock (Mann-Whitney U)"
               : "wall-clock and CPU time per op (Mann-Whitney U; either "
                 "regressing fails)";
  DescribeMode(base, next, base_instr, next_instr, &c);
  for (const Point& b : base.points) {
    if (b.ops_per_s.empty()) continue;  // nothing to compare against
    std::string label = by_machine ? b.machine + " " + b.name : b.name;
    const Point* n = FindPoint(next, b, by_machine, o.ignore_engine_options);
    if (n == nullptr || (n->ops_per_s.empty() && !n->failed())) {
      c.missing.push_back(label + (n ? " (skipped or no result in NEW)" : ""));
      continue;
    }
    std::vector<std::string> unchecked;
    std::vector<std::string> diffs =
        Differences(b, *n, o.ignore_engine_options, &unchecked);
    AddUnique(unchecked, &c.unchecked);
    if (!diffs.empty()) {
      std::string text = label;
      for (const std::string& d : diffs) text += ": " + d;
      c.not_comparable.push_back(text);
      continue;
    }
    c.rows.push_back(
        ComparePoint(b, *n, label, instr, c.options.threshold_pct, o));
  }
  for (const Point& n : next.points) {
    if (!FindPoint(base, n, by_machine, o.ignore_engine_options))
      c.only_in_new.push_back(n.name);
  }
  return c;
}

namespace {

void PrintHeader(std::ostream& out, const Comparison& c) {
  out << "mode: " << c.mode << "; alpha " << c.options.alpha << "; threshold "
      << c.options.threshold_pct << "%\n";
  if (!c.mode_detail.empty()) out << c.mode_detail << "\n";
  char line[640];
  std::snprintf(line, sizeof line, "%-58s %12s %12s %8s %18s %9s %8s  %s\n",
                "benchmark",
                c.mode[0] == 'i'   ? "base instr"
                : c.mode[0] == 'C' ? "base ops/cpus"
                                   : "base ops/s",
                c.mode[0] == 'i'   ? "new instr"
                : c.mode[0] == 'C' ? "new ops/cpus"
                                   : "new ops/s",
                "change", "95% CI", "p", "p99", "verdict");
  out << line;
}

void PrintRow(std::ostream& out, const Comparison& c, const CompareRow& r) {
  const bool instr = c.mode[0] == 'i';
  std::string verdict = instr && r.verdict == Verdict::kNoChange
                            ? "within threshold"
                            : VerdictName(r.verdict);
  if (r.regression) verdict += " REGRESSION";
  if (!instr && c.options.metric == CompareOptions::Metric::kBoth)
    verdict += " (wall " + ChangeText(r.wall.change_pct) + " " +
               CiText(r.wall) + ", cpu " + ChangeText(r.cpu.change_pct) + " " +
               CiText(r.cpu) + ")";
  if (r.correctness_failure) verdict += " CORRECTNESS: " + r.correctness_detail;
  std::string p99 = r.p99.n_base ? ChangeText(r.p99.change_pct) : "n/a";
  // Under callgrind every time figure is valgrind's: no p99 change to show.
  if (instr && c.counter == "callgrind") p99 = "-";
  char line[640];
  if (instr) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%+.3f%%", r.throughput.change_pct);
    std::snprintf(line, sizeof line,
                  "%-58s %12.1f %12.1f %8s %18s %9s %8s  %s\n", r.name.c_str(),
                  r.throughput.base, r.throughput.next, pct, "exact", "-",
                  p99.c_str(), verdict.c_str());
  } else {
    std::snprintf(line, sizeof line,
                  "%-58s %12.0f %12.0f %8s %18s %9s %8s  %s\n", r.name.c_str(),
                  r.throughput.base, r.throughput.next,
                  ChangeText(r.throughput.change_pct).c_str(),
                  CiText(r.throughput).c_str(), PValue(r.throughput.p).c_str(),
                  p99.c_str(), verdict.c_str());
  }
  out << line;
}

void PrintNotes(std::ostream& out, const Comparison& c) {
  for (const std::string& m : c.missing) out << "MISSING in NEW: " << m << "\n";
  for (const std::string& m : c.only_in_new)
    out << "only in NEW (not compared): " << m << "\n";
  for (const std::string& m : c.incomparable) {
    out << (c.options.allow_incomparable ? "context differs (allowed): "
                                         : "NOT COMPARABLE: ")
        << m << "\n";
  }
  for (const std::string& m : c.not_comparable)
    out << "not comparable (not judged): " << m << "\n";
  if (c.rows.empty()) out << "NOT COMPARABLE: no benchmark was compared\n";
  if (!c.unchecked.empty()) {
    out << "note: parameters not checked:";
    for (const std::string& u : c.unchecked) out << " " << u << ";";
    out << "\n";
  }
  for (const std::string& m : c.notes)
    out << "note: context differs: " << m << "\n";
  for (const CompareRow& r : c.rows) {
    if (r.verdict == Verdict::kTooFewReps) {
      out << "note: " << r.throughput.n_base << " vs " << r.throughput.n_new
          << " repetitions cannot reach p < " << c.options.alpha
          << "; use at least 4 per side (5+ recommended)\n";
      break;
    }
  }
}

}  // namespace

void PrintComparison(std::ostream& out, const Comparison& c, bool gate) {
  PrintHeader(out, c);
  for (const CompareRow& r : c.rows) PrintRow(out, c, r);
  PrintNotes(out, c);
  if (gate) {
    int rc = c.GateExitCode();
    out << "gate: " << GateText(rc) << " (exit " << rc << ")\n";
  }
}

json ComparisonJson(const Comparison& c) {
  auto metric = [](const MetricChange& m) {
    return json{{"base", m.base},
                {"new", m.next},
                {"change_pct", m.change_pct},
                {"ci_low_pct", m.lo_pct},
                {"ci_high_pct", m.hi_pct},
                {"ci_available", m.ci_available},
                {"p_value", m.p},
                {"exact", m.exact},
                {"n_base", m.n_base},
                {"n_new", m.n_new}};
  };
  json rows = json::array();
  for (const CompareRow& r : c.rows) {
    rows.push_back(json{{"name", r.name},
                        {"throughput", metric(r.throughput)},
                        {"wall", metric(r.wall)},
                        {"cpu", metric(r.cpu)},
                        {"verdict", VerdictName(r.verdict)},
                        {"p99_op", r.p99_op},
                        {"p99", metric(r.p99)},
                        {"p99_verdict", VerdictName(r.p99_verdict)},
                        {"regression", r.regression},
                        {"correctness_failure", r.correctness_failure},
                        {"correctness_detail", r.correctness_detail}});
  }
  return json{{"mode", c.mode},
              {"mode_detail", c.mode_detail},
              {"alpha", c.options.alpha},
              {"threshold_pct", c.options.threshold_pct},
              {"rows", rows},
              {"missing", c.missing},
              {"only_in_new", c.only_in_new},
              {"incomparable", c.incomparable},
              {"not_comparable", c.not_comparable},
              {"unchecked", c.unchecked},
              {"notes", c.notes},
              {"exit_code", c.GateExitCode()}};
}

std::string ChangeText(double pct) { return FormatChange(pct, 1); }

std::string CiText(const MetricChange& m) {
  if (!m.ci_available) return "n/a";
  return "[" + ChangeText(m.lo_pct) + ", " + ChangeText(m.hi_pct) + "]";
}

}  // namespace kvb::report
