#include "results/file.h"

#include <filesystem>
#include <fstream>

#include "results/schema.h"

namespace kvb {

Result<nlohmann::json> ReadResultsFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Status::InvalidArgument(path + " is a directory");
  std::ifstream f(path);
  if (!f) return Status::NotFound("cannot read " + path);
  nlohmann::json j =
      nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument(path + " is not a JSON object");
  KVB_RETURN_IF_ERROR(ValidateResults(j, path));
  return j;
}

Status WriteTextFile(const std::string& path, std::string_view text, Env* env) {
  Status s = env->WriteFileAtomically(path, text);
  if (s.ok()) return s;
  return Status::IOError("cannot write " + path + ": " +
                         std::string(s.message()));
}

Status WriteJsonFile(const std::string& path, const nlohmann::json& j,
                     int indent) {
  return WriteTextFile(path, j.dump(indent) + "\n");
}

}  // namespace kvb
