// Results files (results/SCHEMA.md): a `context` block, the `config` that
// produced the run (so `kvbench rerun` can repeat it), and a `benchmarks` array
// in Google Benchmark's JSON shape with kvbench's figures as extra fields.
// Google Benchmark's compare.py reads them: real_time and cpu_time are per
// operation (wall and process CPU time of the primary phase divided by its
// ops), in ns, so "Time" and "CPU" columns compare like-for-like. Thread
// safety: plain functions.
#ifndef KVB_HARNESS_RESULTS_H_
#define KVB_HARNESS_RESULTS_H_

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "harness/runner.h"
#include "results/file.h"  // ReadResultsFile, WriteJsonFile (the one reader/writer)

namespace kvb {

// One benchmarks[] entry (run_type "iteration").
nlohmann::json RepToJson(const RepResult& rep, int repetitions);
// The inverse of RepToJson: a RepResult whose RepToJson is the same entry
// (histograms to their exported 0.1 ns resolution). Used to bring a point
// run in a child process (--memory-limit) back into the run's results.
[[nodiscard]] Result<RepResult> RepFromJson(const nlohmann::json& entry);
// mean / median / stddev / cv aggregates over the repetitions of one point
// (Google Benchmark's names and shape); empty when fewer than 2 non-skipped
// repetitions.
std::vector<nlohmann::json> AggregatesJson(
    const std::vector<const RepResult*>& reps);
// The whole file.
nlohmann::json ResultsJson(const nlohmann::json& context,
                           const nlohmann::json& config,
                           const std::vector<RepResult>& reps);

// The human-readable table printed after a run.
void PrintTable(std::ostream& out, const std::vector<RepResult>& reps);

}  // namespace kvb

#endif  // KVB_HARNESS_RESULTS_H_
