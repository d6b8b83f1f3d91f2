// Suites: named lists of engines × workloads × parameters (format in
// suites/README.md), and the expansion of a suite plus command-line overrides
// into run points. Thread safety: plain functions.
#ifndef KVB_HARNESS_SUITE_H_
#define KVB_HARNESS_SUITE_H_

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "harness/runner.h"

namespace kvb {

struct SuiteEntry {
  std::string workload;
  std::vector<std::pair<std::string, std::string>> params;
};

struct Suite {
  std::string name;
  std::string description;
  std::vector<std::string> engines;  // specs or @persistent / @all
  std::vector<uint32_t> threads;     // sweep; empty = each workload's default
  int repetitions = 1;
  std::vector<std::pair<std::string, std::string>> params;  // for every entry
  std::vector<SuiteEntry> entries;
};

// Parses a suite from JSON text; InvalidArgument with the offending field on
// errors.
Result<Suite> ParseSuite(const std::string& text, const std::string& origin);
// Finds NAME|FILE: an existing file path, else NAME.json in $KVB_SUITES_DIR,
// ./suites and the source tree's suites/ folder.
Result<Suite> LoadSuite(const std::string& name_or_file);

// Expands "@persistent" (every built persistent adapter) and "@all" (every
// built adapter).
std::vector<std::string> ExpandEngines(const std::vector<std::string>& engines);

struct Overrides {
  std::vector<std::string> engines;  // replaces the suite's when non-empty
  // Filters the suite's entries (or makes entries).
  std::vector<std::string> workloads;
  std::vector<uint32_t> threads;  // replaces the sweep when non-empty
  std::vector<std::pair<std::string, std::string>> params;  // appended last
  int repetitions = 0;                                      // 0 = suite's
};

// The points of a run, in execution order (engine-major within each workload
// entry).
Result<std::vector<PointSpec>> ExpandPoints(const Suite& suite,
                                            const Overrides& o);

nlohmann::json PointToJson(const PointSpec& p);
Result<PointSpec> PointFromJson(const nlohmann::json& j);

}  // namespace kvb

#endif  // KVB_HARNESS_SUITE_H_
