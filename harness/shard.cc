#include "harness/shard.h"

#include <cstdlib>

namespace kvb {
namespace {

constexpr size_t kMaxShards = 100000;

// A whole non-negative decimal number, nothing else.
bool ParseCount(const std::string& s, size_t* out) {
  if (s.empty() || s.size() > 9) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *out = v;
  return true;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Result<std::optional<ShardSpec>> FromPair(const char* idx_name,
                                          const char* count_name, size_t base) {
  std::string idx = Env(idx_name), count = Env(count_name);
  size_t i = 0, n = 0;
  if (!ParseCount(idx, &i) || !ParseCount(count, &n) || n == 0 ||
      n > kMaxShards || i < base || i - base >= n) {
    return Status::InvalidArgument(std::string(idx_name) + "=" + idx + " / " +
                                   count_name + "=" + count +
                                   " is not a valid shard");
  }
  return std::optional<ShardSpec>(ShardSpec{i - base, n, idx_name});
}

}  // namespace

bool ShardSelect(size_t index, size_t i, size_t n) {
  return n >= 1 && i < n && index % n == i;
}

Result<ShardSpec> ParseShardSpec(const std::string& text) {
  size_t slash = text.find('/');
  size_t i = 0, n = 0;
  if (slash == std::string::npos || !ParseCount(text.substr(0, slash), &i) ||
      !ParseCount(text.substr(slash + 1), &n) || n == 0 || n > kMaxShards ||
      i >= n) {
    return Status::InvalidArgument(
        "shard must be i/n with 0 <= i < n (0-based), got '" + text + "'");
  }
  return ShardSpec{i, n, "--shard"};
}

Result<std::optional<ShardSpec>> ShardFromEnv() {
  if (!Env("KVB_SHARD").empty()) {
    Result<ShardSpec> s = ParseShardSpec(Env("KVB_SHARD"));
    if (!s.ok())
      return Status::InvalidArgument("KVB_SHARD: " +
                                     std::string(s.status().message()));
    ShardSpec spec = *s;
    spec.source = "KVB_SHARD";
    return std::optional<ShardSpec>(spec);
  }
  if (!Env("CI_NODE_INDEX").empty() || !Env("CI_NODE_TOTAL").empty()) {
    return FromPair("CI_NODE_INDEX", "CI_NODE_TOTAL", 1);
  }
  if (!Env("SLURM_ARRAY_TASK_ID").empty()) {
    size_t min = 0;
    std::string m = Env("SLURM_ARRAY_TASK_MIN");
    if (!m.empty() && !ParseCount(m, &min)) {
      return Status::InvalidArgument("SLURM_ARRAY_TASK_MIN=" + m +
                                     " is not a number");
    }
    return FromPair("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", min);
  }
  if (!Env("PBS_ARRAY_INDEX").empty())
    return FromPair("PBS_ARRAY_INDEX", "KVB_SHARD_COUNT", 0);
  return std::optional<ShardSpec>();
}

}  // namespace kvb
