// Splitting a suite across machines: `kvbench run --shard i/n` (or the CI /
// batch-scheduler environment) runs only the points whose index falls in shard
// i of n, and `kvbench merge` joins the shards' results afterwards. The runner
// calls these; they hold no state. Shards are 0-based: "0/4" .. "3/4". Point k
// goes to shard k mod n (round robin), so the engines and workloads of a suite,
// which are expanded in nested order, spread evenly. Thread safety: pure
// functions (ShardFromEnv reads the environment).
#ifndef KVB_HARNESS_SHARD_H_
#define KVB_HARNESS_SHARD_H_

#include <cstddef>
#include <optional>
#include <string>

#include "core/result.h"

namespace kvb {

struct ShardSpec {
  size_t index = 0;  // 0-based
  size_t count = 1;
  std::string source;  // "--shard", "KVB_SHARD", "SLURM_ARRAY_TASK_ID", ...
};

// True when point `index` (0-based position in the expanded suite) belongs to
// shard i of n. Requires n >= 1 and i < n (false otherwise).
bool ShardSelect(size_t index, size_t i, size_t n);

// Parses "i/n" (0-based i, 0 <= i < n, 1 <= n <= 100000). InvalidArgument
// otherwise.
Result<ShardSpec> ParseShardSpec(const std::string& text);

// The shard from the environment, first match wins:
//   KVB_SHARD=i/n                                 (0-based, our own)
//   CI_NODE_INDEX + CI_NODE_TOTAL                 (GitLab parallel: 1-based index)
//   SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT  (made relative to SLURM_ARRAY_TASK_MIN,
//                                                  so 0-based when that is 0)
//   PBS_ARRAY_INDEX + KVB_SHARD_COUNT             (PBS gives no count: KVB_SHARD_COUNT)
// nullopt when none is set; InvalidArgument when one is set but malformed or
// out of range.
Result<std::optional<ShardSpec>> ShardFromEnv();

}  // namespace kvb

#endif  // KVB_HARNESS_SHARD_H_
