#include "harness/results.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>

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

json PhaseJson(const PhaseResult& p) {
  json lat = json::object();
  for (const auto& [op, l] : p.latency) lat[op] = LatencyJson(l);
  return json{{"ops", p.ops},
              {"wall_s", p.wall_s},
              {"cpu_s", p.cpu_s},
              {"ops_per_s", p.ops_per_s()},
              {"rss_end_bytes", p.rss_end_bytes},
              {"errors", p.errors},
              {"latency", lat},
              {"ops_per_second_series", p.ops_per_second}};
}

json VerifyJson(const VerifyCounts& v) {
  return json{{"enabled", v.enabled},
              {"verified", v.verified},
              {"mismatches", v.mismatches()},
              {"missing", v.missing},
              {"stale", v.stale},
              {"wrong_key", v.wrong_key},
              {"corrupt", v.corrupt},
              {"unknown_version", v.unknown_version},
              {"absent_ok", v.absent_ok}};
}

std::string RunName(const RepResult& r) { return r.name; }

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
  b["bytes_on_disk"] = r.bytes_on_disk;
  b["logical_bytes"] = r.logical_bytes;
  b["space_amp"] = r.space_amp;
  b["peak_rss_bytes"] = r.peak_rss_bytes;
  if (r.instructions >= 0) AddInstructions(r, ops, &b);
  b["total_s"] = r.total_s;
  b["reopen_ms"] = r.reopen_ms < 0 ? json(nullptr) : json(r.reopen_ms);
  b["verify_reopen_ms"] =
      r.verify_reopen_ms < 0 ? json(nullptr) : json(r.verify_reopen_ms);
  b["verify"] = VerifyJson(r.verify);
  b["errors"] = r.errors;
  b["error_messages"] = r.error_messages;
  b["notes"] = r.notes;
  b["engine_stats"] = r.engine_stats;
  if (!r.cache_eviction.empty()) {
    b["cache_eviction"] = r.cache_eviction;
    b["resident_after_evict"] = r.resident_after_evict;
  }
  b["throughput_series"] =
      primary ? json(primary->ops_per_second) : json::array();
  return b;
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
