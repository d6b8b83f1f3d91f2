#include "results/schema.h"

namespace kvb {

Status ValidateResults(const nlohmann::json& j, const std::string& name) {
  if (!j.is_object() || !j.contains("context") || !j["context"].is_object() ||
      !j["context"].contains("schema_version") ||
      !j["context"]["schema_version"].is_number_integer() ||
      !j.contains("benchmarks") || !j["benchmarks"].is_array()) {
    return Status::InvalidArgument(name + " is not a kvbench results file");
  }
  if (j["context"]["schema_version"].get<int>() > kResultsSchemaVersion) {
    return Status::NotSupported(
        name + " has a newer results schema than this kvbench");
  }
  return Status::OK();
}

}  // namespace kvb
