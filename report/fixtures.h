// Test fixtures: results files in the shape harness/results.cc writes
// (results/SCHEMA.md), with chosen figures, so report and gate tests do not
// need to run engines.
#ifndef KVB_REPORT_FIXTURES_H_
#define KVB_REPORT_FIXTURES_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kvb::report::testing {

struct FixturePoint {
  std::string workload = "read-heavy";
  std::string engine = "memory";
  int threads = 1;
  uint64_t keys = 20000;
  std::vector<double> ops_per_s;  // one repetition each
  double p99_ns = 2000;           // of `op` (per repetition, scaled slightly)
  std::string op = "read";   // the latency op type ("batch" for batched loads)
  double latency_count = 0;  // samples of `op` per repetition; 0: `keys`
  double bytes_on_disk = 1 << 20;
  uint64_t mismatches = 0;
  uint64_t errors = 0;
  std::vector<double> instructions;  // when set, per repetition
  std::vector<double>
      cpu_ns;  // cpu_time per op of each repetition; default 1e9 / ops_per_s
  bool persistent = true;  // false: the harness's "not persistent" note
  // When set: the entry's durability {class} and engine_state {state,
  // settle_ms, figures} (results schema 2).
  std::string durability;
  std::string engine_state;
  double settle_ms = -1;
  std::map<std::string, double> state_figures;
};

struct FixtureContext {
  std::string host = "fixture-host";
  std::string cpu_model = "AMD EPYC 7713 64-Core Processor";
  int num_cpus = 2;
  std::string build_type = "Release";
  bool rotational = false;
  double load_avg = 0.2;
  std::vector<std::string> warnings;
  std::string instruction_counter;  // context field when non-empty
  nlohmann::json libraries;         // context field `libraries` when set
};

nlohmann::json MakeResults(const std::vector<FixturePoint>& points,
                           const FixtureContext& ctx = {});
// Writes j to path (test helper; aborts the test on failure through the return
// value).
bool WriteJson(const std::string& path, const nlohmann::json& j);

}  // namespace kvb::report::testing

#endif  // KVB_REPORT_FIXTURES_H_
