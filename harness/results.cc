#include "harness/results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>
#include <utility>

#include "core/stats.h"

namespace kvb {
namespace {

using json = nlohmann::json;

// Nanoseconds to 0.1 ns: the histogram resolves 1/4096 relative, finer digits
// are noise.
double Ns(double v) { return std::round(v * 10) / 10; }

json LatencyJson(const LatencySummary& l) {
  // One line of text, not a JSON array: an indented array would put every
  // number on its own line (5x the bytes).
  std::string buckets;
  char cell[96];
  for (const LatencySummary::Bucket& b : l.buckets) {
    std::snprintf(cell, sizeof cell, "%s%.1f %.1f %llu",
                  buckets.empty() ? "" : ";", Ns(b.lo_ns), Ns(b.hi_ns),
                  static_cast<unsigned long long>(b.count));
    buckets += cell;
  }
  return json{
      {"count", l.count},
      {"mean_ns", Ns(l.mean_ns)},
      {"min_ns", Ns(l.min_ns)},
      {"p50_ns", Ns(l.p50_ns)},
      {"p90_ns", Ns(l.p90_ns)},
      {"p99_ns", Ns(l.p99_ns)},
      {"p99_9_ns", Ns(l.p999_ns)},
      {"p99_99_ns", Ns(l.p9999_ns)},
      {"max_ns", Ns(l.max_ns)},
      {"histogram", json{{"format", "kvbench-buckets-1: lo_ns hi_ns count;..."},
                         {"unit", "ns"},
                         {"buckets", buckets}}}};
}

// The counters' fields by their results names: one table for writing
// (IoJson) and reading (IoFromJson) them.
constexpr std::pair<const char*, uint64_t io::Counters::*> kIoFields[] = {
    {"write_calls", &io::Counters::write_calls},
    {"write_bytes", &io::Counters::write_bytes},
    {"device_bytes", &io::Counters::device_bytes},
    {"fsyncs", &io::Counters::fsyncs},
    {"fdatasyncs", &io::Counters::fdatasyncs},
    {"msyncs", &io::Counters::msyncs},
    {"range_syncs", &io::Counters::range_syncs}};

json IoJson(const io::Counters& c) {
  json j{{"source", c.proc_io ? "/proc/self/io + flush calls counted in process"
                              : "flush calls counted in process; /proc/self/io unreadable"}};
  for (const auto& [name, field] : kIoFields) j[name] = c.*field;
  return j;
}

// The primary phase's kernel requests per op: what the durability class costs.
json IoPerOpJson(const PhaseResult& p) {
  const double ops = static_cast<double>(p.ops);
  auto per = [ops](uint64_t n) { return ops > 0 ? n / ops : 0.0; };
  json j{{"flushes", per(p.io.flushes())},
         {"fsyncs", per(p.io.fsyncs)},
         {"fdatasyncs", per(p.io.fdatasyncs)},
         {"msyncs", per(p.io.msyncs)}};
  if (p.io.proc_io) {
    j["write_calls"] = per(p.io.write_calls);
    j["write_bytes"] = per(p.io.write_bytes);
    j["device_bytes"] = per(p.io.device_bytes);
  }
  return j;
}

json CrashCheckJson(const RepResult::CrashCheck& c) {
  json j{{"checked", c.checked}, {"ledger", c.ledger}};
  if (!c.checked) return j;
  j["runs"] = c.runs;
  j["trials"] = c.trials;
  j["failed_trials"] = c.failed_trials;
  j["violations"] = c.violations;
  j["last_date"] = c.last_date;
  return j;
}

json RoleJson(const RoleResult& r) {
  json lat = json::object();
  for (const auto& [op, l] : r.latency) lat[op] = LatencyJson(l);
  return json{{"threads", r.threads},     {"ops", r.ops},
              {"wall_s", r.wall_s},       {"ops_per_s", r.ops_per_s()},
              {"target_rate", r.target_rate}, {"latency", lat}};
}

// A phase's own figures, with `lat` its latency by op type.
json PhaseFigures(const PhaseResult& p, const json& lat) {
  return json{{"ops", p.ops},
              {"wall_s", p.wall_s},
              {"cpu_s", p.cpu_s},
              {"ops_per_s", p.ops_per_s()},
              {"rss_end_bytes", p.rss_end_bytes},
              {"errors", p.errors},
              {"latency", lat},
              {"io", IoJson(p.io)},
              {"ops_per_second_series", p.ops_per_second}};
}

json PhaseJson(const PhaseResult& p) {
  json lat = json::object();
  for (const auto& [op, l] : p.latency) lat[op] = LatencyJson(l);
  json out = PhaseFigures(p, lat);
  if (!p.roles.empty()) {
    json roles = json::object();
    for (const auto& [name, r] : p.roles) roles[name] = RoleJson(r);
    out["roles"] = roles;
  }
  return out;
}

// The verification counters by their results names (VerifyJson and
// VerifyFromJson); `mismatches` is written too, derived.
constexpr std::pair<const char*, uint64_t VerifyCounts::*> kVerifyFields[] = {
    {"verified", &VerifyCounts::verified},
    {"missing", &VerifyCounts::missing},
    {"stale", &VerifyCounts::stale},
    {"wrong_key", &VerifyCounts::wrong_key},
    {"corrupt", &VerifyCounts::corrupt},
    {"unknown_version", &VerifyCounts::unknown_version},
    {"absent_ok", &VerifyCounts::absent_ok}};

json VerifyJson(const VerifyCounts& v) {
  json j{{"enabled", v.enabled}, {"mismatches", v.mismatches()}};
  for (const auto& [name, field] : kVerifyFields) j[name] = v.*field;
  return j;
}

std::string RunName(const RepResult& r) { return r.name; }

// -1 (unknown) as null.
json Known(int64_t v) { return v < 0 ? json(nullptr) : json(v); }

json MemoryCapJson(const MemoryCapResult& m) {
  return json{{"limit_bytes", m.limit_bytes},
              {"cgroup", m.cgroup},
              {"swap_capped", m.swap_capped},
              {"peak_bytes", Known(m.peak_bytes)},
              {"peak_source", m.peak_source},
              {"oom_kills", Known(m.oom_kills)},
              {"run_end_bytes", Known(m.run_end_bytes)},
              {"run_end_file_bytes", Known(m.run_end_file_bytes)},
              {"run_end_anon_bytes", Known(m.run_end_anon_bytes)}};
}

// A skipped point: its reason and zero figures (Google Benchmark's fields).
void AddSkipped(const RepResult& r, json* b) {
  (*b)["skipped"] = r.skip_reason;
  (*b)["iterations"] = 0;
  (*b)["real_time"] = 0;
  (*b)["cpu_time"] = 0;
  (*b)["time_unit"] = "ns";
}

void AddInstructions(const RepResult& r, uint64_t ops, json* b) {
  (*b)["instructions"] = r.instructions;
  (*b)["instructions_per_op"] =
      ops ? static_cast<double>(r.instructions) / ops : 0.0;
  (*b)["instruction_counter"] = r.instruction_counter;
}

}  // namespace

json RepToJson(const RepResult& r, int repetitions) {
  json b;
  b["name"] = r.name;
  b["run_name"] = RunName(r);
  b["run_type"] = "iteration";
  b["repetitions"] = repetitions;
  b["repetition_index"] = r.repetition;
  b["run_order"] = r.run_order;
  b["threads"] = r.threads;
  b["engine"] = r.engine;
  b["engine_spec"] = r.engine_spec;
  b["workload"] = r.workload;
  b["params"] = r.params;
  if (!r.durability.empty()) {
    b["durability"] = {{"class", r.durability},
                       {"settings", r.durability_settings}};
    b["engine_options"] = r.engine_options;
  }
  if (r.crash_check.looked) b["crash_checked"] = CrashCheckJson(r.crash_check);
  json overrides = json::array();
  for (const auto& [k, v] : r.point.params)
    overrides.push_back(json::array({k, v}));
  b["overrides"] = overrides;
  if (r.skipped) {
    AddSkipped(r, &b);
    return b;
  }
  const PhaseResult* primary = r.Phase(r.primary_phase);
  uint64_t ops = primary ? primary->ops : 0;
  double wall = primary ? primary->wall_s : 0,
         cpu = primary ? primary->cpu_s : 0;
  b["iterations"] = ops;
  b["real_time"] = ops ? wall * 1e9 / ops : 0;
  b["cpu_time"] = ops ? cpu * 1e9 / ops : 0;
  b["time_unit"] = "ns";
  b["items_per_second"] = wall > 0 ? ops / wall : 0;
  b["primary_phase"] = r.primary_phase;
  json phases = json::object();
  for (const PhaseResult& p : r.phases) phases[p.name] = PhaseJson(p);
  b["phases"] = phases;
  // The primary phase's figures again, without the histograms (they are in
  // phases.<primary>.latency: written once).
  json top = primary ? phases[r.primary_phase]["latency"] : json::object();
  for (auto& [op, l] : top.items()) l.erase("histogram");
  b["latency"] = top;
  if (primary && !primary->roles.empty()) {
    json roles = phases[r.primary_phase]["roles"];
    for (auto& [name, role] : roles.items()) {
      for (auto& [op, l] : role["latency"].items()) l.erase("histogram");
    }
    b["roles"] = roles;
  }
  if (primary) b["io_per_op"] = IoPerOpJson(*primary);
  b["bytes_on_disk"] = r.bytes_on_disk;
  b["info_log_bytes"] = r.info_log_bytes;
  b["logical_bytes"] = r.logical_bytes;
  b["space_amp"] = r.space_amp;
  b["peak_rss_bytes"] = r.peak_rss_bytes;
  if (r.instructions >= 0) AddInstructions(r, ops, &b);
  b["total_s"] = r.total_s;
  b["reopen_ms"] = r.reopen_ms < 0 ? json(nullptr) : json(r.reopen_ms);
  b["verify_reopen_ms"] =
      r.verify_reopen_ms < 0 ? json(nullptr) : json(r.verify_reopen_ms);
  b["engine_state"] = {
      {"state", r.engine_state},
      {"settle_ms", r.settle_ms < 0 ? json(nullptr) : json(r.settle_ms)},
      {"figures", r.state_figures}};
  b["verify"] = VerifyJson(r.verify);
  b["errors"] = r.errors;
  b["error_messages"] = r.error_messages;
  b["notes"] = r.notes;
  b["engine_stats"] = r.engine_stats;
  if (!r.cache_eviction.empty()) {
    b["cache_eviction"] = r.cache_eviction;
    b["resident_after_evict"] = r.resident_after_evict;
  }
  if (r.resident_at_run_start >= 0)
    b["resident_at_run_start"] = r.resident_at_run_start;
  if (r.memory_cap.limit_bytes > 0) b["memory_limit"] = MemoryCapJson(r.memory_cap);
  b["throughput_series"] =
      primary ? json(primary->ops_per_second) : json::array();
  return b;
}

namespace {

// j[key] when it is an object, else an empty object (never a temporary:
// items() of a temporary would dangle in a range-for).
const json& Members(const json& j, const char* key) {
  static const json kEmpty = json::object();
  return j.contains(key) && j[key].is_object() ? j[key] : kEmpty;
}

int64_t KnownFrom(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<int64_t>() : -1;
}

double MsFrom(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : -1;
}

LatencySummary LatencyFromJson(const json& j) {
  LatencySummary l;
  l.count = j.value("count", uint64_t{0});
  l.mean_ns = j.value("mean_ns", 0.0);
  l.min_ns = j.value("min_ns", 0.0);
  l.p50_ns = j.value("p50_ns", 0.0);
  l.p90_ns = j.value("p90_ns", 0.0);
  l.p99_ns = j.value("p99_ns", 0.0);
  l.p999_ns = j.value("p99_9_ns", 0.0);
  l.p9999_ns = j.value("p99_99_ns", 0.0);
  l.max_ns = j.value("max_ns", 0.0);
  if (!j.contains("histogram")) return l;
  std::istringstream in(j["histogram"].value("buckets", ""));
  std::string cell;
  while (std::getline(in, cell, ';')) {
    LatencySummary::Bucket b{};
    unsigned long long n = 0;
    if (std::sscanf(cell.c_str(), "%lf %lf %llu", &b.lo_ns, &b.hi_ns, &n) == 3) {
      b.count = n;
      l.buckets.push_back(b);
    }
  }
  return l;
}

// The inverse of IoJson.
io::Counters IoFromJson(const json& j) {
  io::Counters c;
  c.proc_io = j.value("source", "").rfind("/proc/self/io", 0) == 0;
  for (const auto& [name, field] : kIoFields) c.*field = j.value(name, uint64_t{0});
  return c;
}

PhaseResult PhaseFromJson(const std::string& name, const json& j) {
  PhaseResult p;
  p.name = name;
  p.ops = j.value("ops", uint64_t{0});
  p.wall_s = j.value("wall_s", 0.0);
  p.cpu_s = j.value("cpu_s", 0.0);
  p.rss_end_bytes = j.value("rss_end_bytes", uint64_t{0});
  p.errors = j.value("errors", uint64_t{0});
  for (const auto& [op, l] : Members(j, "latency").items())
    p.latency[op] = LatencyFromJson(l);
  p.ops_per_second =
      j.value("ops_per_second_series", std::vector<uint64_t>{});
  p.io = IoFromJson(Members(j, "io"));
  for (const auto& [role, rj] : Members(j, "roles").items()) {
    RoleResult& r = p.roles[role];
    r.threads = rj.value("threads", 0u);
    r.ops = rj.value("ops", uint64_t{0});
    r.wall_s = rj.value("wall_s", 0.0);
    r.target_rate = rj.value("target_rate", 0.0);
    for (const auto& [op, l] : Members(rj, "latency").items())
      r.latency[op] = LatencyFromJson(l);
  }
  return p;
}

// The runner's phase order (a JSON object is sorted by name).
int PhaseRank(const std::string& name) {
  static const char* kOrder[] = {"load", "warmup", "run", "verify"};
  for (int i = 0; i < 4; ++i) {
    if (name == kOrder[i]) return i;
  }
  return 4;
}

VerifyCounts VerifyFromJson(const json& j) {
  VerifyCounts v;
  v.enabled = j.value("enabled", true);
  for (const auto& [name, field] : kVerifyFields)
    v.*field = j.value(name, uint64_t{0});
  return v;
}

MemoryCapResult MemoryCapFromJson(const json& j) {
  MemoryCapResult m;
  m.limit_bytes = j.value("limit_bytes", uint64_t{0});
  m.cgroup = j.value("cgroup", "");
  m.swap_capped = j.value("swap_capped", false);
  m.peak_bytes = KnownFrom(j, "peak_bytes");
  m.peak_source = j.value("peak_source", "");
  m.oom_kills = KnownFrom(j, "oom_kills");
  m.run_end_bytes = KnownFrom(j, "run_end_bytes");
  m.run_end_file_bytes = KnownFrom(j, "run_end_file_bytes");
  m.run_end_anon_bytes = KnownFrom(j, "run_end_anon_bytes");
  return m;
}

}  // namespace

Result<RepResult> RepFromJson(const json& b) {
  if (!b.is_object() || !b.contains("name") || !b.contains("engine_spec")) {
    return Status::InvalidArgument("not a benchmarks[] entry");
  }
  try {
    RepResult r;
    r.name = b["name"].get<std::string>();
    r.repetition = b.value("repetition_index", 0);
    r.run_order = b.value("run_order", uint64_t{0});
    r.threads = b.value("threads", 1u);
    r.engine = b.value("engine", "");
    r.engine_spec = b["engine_spec"].get<std::string>();
    r.workload = b.value("workload", "");
    r.params = b.value("params", std::map<std::string, std::string>{});
    if (b.contains("durability")) {
      r.durability = b["durability"].value("class", "");
      r.durability_settings = b["durability"].value("settings", "");
      r.engine_options = b.value("engine_options",
                                 std::map<std::string, std::string>{});
    }
    r.point.engine_spec = r.engine_spec;
    r.point.workload = r.workload;
    r.point.repetitions = b.value("repetitions", 1);
    for (const json& kv : b.value("overrides", json::array()))
      r.point.params.emplace_back(kv.at(0).get<std::string>(),
                                  kv.at(1).get<std::string>());
    if (b.contains("skipped")) {
      r.skipped = true;
      r.skip_reason = b["skipped"].get<std::string>();
      return r;
    }
    r.primary_phase = b.value("primary_phase", "run");
    for (const auto& [name, p] : Members(b, "phases").items())
      r.phases.push_back(PhaseFromJson(name, p));
    std::stable_sort(r.phases.begin(), r.phases.end(),
                     [](const PhaseResult& x, const PhaseResult& y) {
                       return PhaseRank(x.name) < PhaseRank(y.name);
                     });
    r.bytes_on_disk = b.value("bytes_on_disk", int64_t{-1});
    r.info_log_bytes = b.value("info_log_bytes", int64_t{-1});
    r.logical_bytes = b.value("logical_bytes", uint64_t{0});
    r.space_amp = b.value("space_amp", 0.0);
    r.peak_rss_bytes = b.value("peak_rss_bytes", uint64_t{0});
    r.instructions = b.value("instructions", int64_t{-1});
    r.instruction_counter = b.value("instruction_counter", "");
    r.total_s = b.value("total_s", 0.0);
    r.reopen_ms = MsFrom(b, "reopen_ms");
    r.verify_reopen_ms = MsFrom(b, "verify_reopen_ms");
    if (b.contains("engine_state") && b["engine_state"].is_object()) {
      const json& es = b["engine_state"];
      r.engine_state = es.value("state", "");
      r.settle_ms = MsFrom(es, "settle_ms");
      r.state_figures =
          es.value("figures", std::map<std::string, double>{});
    }
    r.verify = VerifyFromJson(b.value("verify", json::object()));
    r.errors = b.value("errors", uint64_t{0});
    r.error_messages = b.value("error_messages", std::vector<std::string>{});
    r.notes = b.value("notes", std::vector<std::string>{});
    r.engine_stats = b.value("engine_stats", std::map<std::string, double>{});
    r.cache_eviction = b.value("cache_eviction", "");
    r.resident_after_evict = b.value("resident_after_evict", -1.0);
    r.resident_at_run_start = b.value("resident_at_run_start", -1.0);
    if (b.contains("memory_limit"))
      r.memory_cap = MemoryCapFromJson(b["memory_limit"]);
    return r;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("benchmarks[] entry: ") +
                                   e.what());
  }
}

std::vector<json> AggregatesJson(const std::vector<const RepResult*>& reps) {
  std::vector<const RepResult*> live;
  for (const RepResult* r : reps) {
    if (!r->skipped && r->Phase(r->primary_phase)) live.push_back(r);
  }
  if (live.size() < 2) return {};
  std::vector<double> real, cpu, ips;
  for (const RepResult* r : live) {
    json j = RepToJson(*r, 0);
    real.push_back(j["real_time"]);
    cpu.push_back(j["cpu_time"]);
    ips.push_back(j["items_per_second"]);
  }
  const RepResult& first = *live.front();
  std::vector<json> out;
  auto add = [&](const std::string& agg, auto fn, bool percent) {
    json b;
    b["name"] = first.name + "_" + agg;
    b["run_name"] = first.name;
    b["run_type"] = "aggregate";
    b["repetitions"] = static_cast<int>(reps.size());
    b["threads"] = first.threads;
    b["aggregate_name"] = agg;
    b["aggregate_unit"] = percent ? "percentage" : "time";
    b["iterations"] = static_cast<int>(live.size());
    b["real_time"] = fn(real);
    b["cpu_time"] = fn(cpu);
    b["time_unit"] = "ns";
    b["items_per_second"] = fn(ips);
    b["engine"] = first.engine;
    b["engine_spec"] = first.engine_spec;
    b["workload"] = first.workload;
    out.push_back(b);
  };
  add("mean", Mean, false);
  add("median", Median, false);
  add("stddev", SampleStddev, false);
  add(
      "cv",
      [](const std::vector<double>& v) {
        return Mean(v) ? SampleStddev(v) / Mean(v) : 0;
      },
      true);
  return out;
}

json ResultsJson(const json& context, const json& config,
                 const std::vector<RepResult>& reps) {
  json out;
  out["context"] = context;
  out["config"] = config;
  json benchmarks = json::array();
  // Repetitions of one point are adjacent, followed by its aggregates (Google
  // Benchmark order).
  std::map<std::string, std::vector<const RepResult*>> by_name;
  std::vector<std::string> order;
  for (const RepResult& r : reps) {
    if (!by_name.count(r.name)) order.push_back(r.name);
    by_name[r.name].push_back(&r);
  }
  for (const std::string& name : order) {
    const auto& group = by_name[name];
    for (const RepResult* r : group)
      benchmarks.push_back(RepToJson(*r, group.size()));
    for (json& a : AggregatesJson(group)) benchmarks.push_back(std::move(a));
  }
  out["benchmarks"] = benchmarks;
  return out;
}

void PrintTable(std::ostream& out, const std::vector<RepResult>& reps) {
  char line[512];
  std::snprintf(
      line, sizeof line,
      "%-16s %-22s %3s %3s %6s %12s %10s %10s %10s %10s %7s %14s %6s\n",
      "workload", "engine", "thr", "rep", "phase", "ops/s", "p50 us", "p99 us",
      "p99.9 us", "disk MiB", "amp", "verify", "errors");
  out << line;
  for (const RepResult& r : reps) {
    if (r.skipped) {
      std::snprintf(line, sizeof line, "%-16s %-22s %3u %3d  skipped: %s\n",
                    r.workload.c_str(), r.engine_spec.c_str(), r.threads,
                    r.repetition, r.skip_reason.c_str());
      out << line;
      continue;
    }
    const PhaseResult* p = r.Phase(r.primary_phase);
    // The dominant op type of the primary phase for the latency columns.
    const LatencySummary* lat = nullptr;
    if (p) {
      for (const auto& [op, l] : p->latency) {
        if (!lat || l.count > lat->count) lat = &l;
      }
    }
    std::string verify =
        !r.verify.enabled
            ? "off"
            : std::to_string(r.verify.verified) + "/" +
                  std::to_string(r.verify.mismatches() + r.verify.missing) +
                  "bad";
    std::snprintf(line, sizeof line,
                  "%-16s %-22s %3u %3d %6s %12.0f %10.2f %10.2f %10.2f %10.2f "
                  "%7.2f %14s %6llu\n",
                  r.workload.c_str(), r.engine_spec.c_str(), r.threads,
                  r.repetition, r.primary_phase.c_str(),
                  p ? p->ops_per_s() : 0.0, lat ? lat->p50_ns / 1e3 : 0.0,
                  lat ? lat->p99_ns / 1e3 : 0.0, lat ? lat->p999_ns / 1e3 : 0.0,
                  r.bytes_on_disk > 0 ? r.bytes_on_disk / 1048576.0 : 0.0,
                  r.space_amp, verify.c_str(),
                  static_cast<unsigned long long>(r.errors));
    out << line;
  }
}

}  // namespace kvb
