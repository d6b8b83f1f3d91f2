// The results format as code (results/SCHEMA.md): the schema version and the
// check every reader applies before trusting a file. Writers (harness, crash)
// stamp kResultsSchemaVersion into context.schema_version; readers (report,
// rerun, merge) refuse what they cannot read. Thread safety: plain functions.
#ifndef KVB_RESULTS_SCHEMA_H_
#define KVB_RESULTS_SCHEMA_H_

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace kvb {

// Bumped when a field changes meaning or disappears (adding a field does not).
inline constexpr int kResultsSchemaVersion = 2;

// Checks that `j` is a kvbench results file: an object with
// context.schema_version (an integer) and a benchmarks array.
// InvalidArgument ("NAME is not a kvbench results file") if not;
// NotSupported if the schema is newer than kResultsSchemaVersion. `name`
// (usually the path) starts each message.
[[nodiscard]] Status ValidateResults(const nlohmann::json& j,
                                     const std::string& name);

}  // namespace kvb

#endif  // KVB_RESULTS_SCHEMA_H_
