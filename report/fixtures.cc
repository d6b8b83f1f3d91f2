#include "report/fixtures.h"

#include <fstream>

namespace kvb::report::testing {

using json = nlohmann::json;

namespace {

json Context(const FixtureContext& c) {
  json j = json{
      {"schema_version", 1},
      {"date", "2026-11-21T14:00:00Z"},
      {"host_name", c.host},
      {"executable", "kvbench"},
      {"cpu_model", c.cpu_model},
      {"num_cpus", c.num_cpus},
      {"mhz_per_cpu", 2000},
      {"memory_bytes", 25232932864.0},
      {"kernel", "Linux 6.18.44"},
      {"data_dir", "/tmp/x/data"},
      {"file_system", "ext4"},
      {"device", "vda"},
      {"rotational", c.rotational},
      {"compiler", "g++ 12.2.0"},
      {"compiler_flags", " -O3 -DNDEBUG"},
      {"build_type", c.build_type},
      {"ndebug", c.build_type != "Debug"},
      {"library_build_type", c.build_type != "Debug" ? "release" : "debug"},
      {"library_versions", {{"lmdb", "LMDB 0.9.24"}}},
      {"git_revision", "abc123"},
      {"command_line", {"kvbench", "run"}},
      {"seed", 42},
      {"cache_state", "warm"},
      {"timer", "rdtsc"},
      {"load_avg", {c.load_avg, 0.1, 0.1}},
      {"load_avg_start", {c.load_avg, 0.1, 0.1}},
      {"load_avg_end", {c.load_avg, 0.1, 0.1}},
      {"caches", json::array()},
      {"cpu_scaling_enabled", false},
      {"warnings", c.warnings}};
  if (!c.instruction_counter.empty())
    j["instruction_counter"] = c.instruction_counter;
  if (!c.libraries.is_null()) j["libraries"] = c.libraries;
  return j;
}

// The latency block of repetition i (p99 varies a little between reps).
json LatencyOf(const FixturePoint& p, size_t i) {
  double ips = p.ops_per_s[i];
  double scale = 1 + 0.01 * static_cast<double>(i % 3);
  return {{p.op,
           {{"count", p.latency_count > 0 ? p.latency_count
                                          : static_cast<double>(p.keys)},
            {"mean_ns", 1e9 / ips},
            {"min_ns", 100},
            {"p50_ns", 1e9 / ips},
            {"p90_ns", 2e9 / ips},
            {"p99_ns", p.p99_ns * scale},
            {"p99_9_ns", p.p99_ns * 3 * scale},
            {"p99_99_ns", p.p99_ns * 5 * scale},
            {"max_ns", p.p99_ns * 10}}}};
}

json VerifyOf(const FixturePoint& p) {
  return {{"enabled", true},
          {"verified", p.keys},
          {"mismatches", p.mismatches},
          {"missing", 0},
          {"stale", 0},
          {"wrong_key", 0},
          {"corrupt", p.mismatches},
          {"unknown_version", 0},
          {"absent_ok", 0}};
}

json PhasesOf(const FixturePoint& p, double ips, const json& lat,
              const json& series) {
  double ops = static_cast<double>(p.keys);
  return {{"run",
           {{"ops", p.keys},
            {"wall_s", ops / ips},
            {"cpu_s", ops / ips},
            {"ops_per_s", ips},
            {"rss_end_bytes", 50e6},
            {"errors", p.errors},
            {"latency", lat},
            {"ops_per_second_series", series}}}};
}

json Rep(const FixturePoint& p, size_t i) {
  std::string spec = p.engine;
  std::string name = p.workload + "/" + spec +
                     "/keys:" + std::to_string(p.keys) +
                     "/threads:" + std::to_string(p.threads);
  double ips = p.ops_per_s[i];
  json lat = LatencyOf(p, i);
  json series = json::array();
  for (int s = 0; s < 5; ++s) series.push_back(ips * (0.9 + 0.05 * s));
  json b = {
      {"name", name},
      {"run_name", name},
      {"run_type", "iteration"},
      {"repetitions", p.ops_per_s.size()},
      {"repetition_index", i},
      {"threads", p.threads},
      {"engine", p.engine},
      {"engine_spec", spec},
      {"workload", p.workload},
      {"params",
       {{"keys", std::to_string(p.keys)},
        {"threads", std::to_string(p.threads)}}},
      {"iterations", p.keys},
      {"real_time", 1e9 / ips},
      {"cpu_time", i < p.cpu_ns.size() ? p.cpu_ns[i] : 1e9 / ips},
      {"time_unit", "ns"},
      {"items_per_second", ips},
      {"primary_phase", "run"},
      {"phases", PhasesOf(p, ips, lat, series)},
      {"latency", lat},
      {"bytes_on_disk", p.bytes_on_disk},
      {"logical_bytes", p.keys * 150},
      {"space_amp", p.bytes_on_disk / (p.keys * 150.0)},
      {"peak_rss_bytes", 60e6},
      {"reopen_ms", 1.5},
      {"verify_reopen_ms", nullptr},
      {"verify", VerifyOf(p)},
      {"errors", p.errors},
      {"error_messages", json::array()},
      {"notes", p.persistent
                    ? json::array()
                    : json::array({"not persistent: close/reopen skipped"})},
      {"engine_stats", json::object()},
      {"throughput_series", series}};
  if (!p.durability.empty())
    b["durability"] = {{"class", p.durability}, {"settings", "fixture"}};
  if (!p.engine_state.empty()) {
    b["engine_state"] = {
        {"state", p.engine_state},
        {"settle_ms", p.settle_ms < 0 ? json(nullptr) : json(p.settle_ms)},
        {"figures", p.state_figures}};
  }
  // The fixture's figures are per op; the harness writes both fields.
  if (i < p.instructions.size()) {
    b["instructions_per_op"] = p.instructions[i];
    b["instructions"] = p.instructions[i] * b["iterations"].get<double>();
  }
  return b;
}

}  // namespace

json MakeResults(const std::vector<FixturePoint>& points,
                 const FixtureContext& ctx) {
  json benchmarks = json::array();
  for (const FixturePoint& p : points) {
    for (size_t i = 0; i < p.ops_per_s.size(); ++i)
      benchmarks.push_back(Rep(p, i));
    if (p.ops_per_s.size() >= 2) {
      // An aggregate entry, as the harness writes: readers must skip it.
      json a = Rep(p, 0);
      a["name"] = a["run_name"].get<std::string>() + "_mean";
      a["run_type"] = "aggregate";
      a["aggregate_name"] = "mean";
      a["items_per_second"] = 1.0;
      benchmarks.push_back(a);
    }
  }
  return json{{"context", Context(ctx)},
              {"config", {{"suite", "fixture"}, {"points", json::array()}}},
              {"benchmarks", benchmarks}};
}

bool WriteJson(const std::string& path, const json& j) {
  std::ofstream f(path, std::ios::trunc);
  f << j.dump(2) << "\n";
  return static_cast<bool>(f);
}

}  // namespace kvb::report::testing
