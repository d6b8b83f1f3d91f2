#include "harness/shard.h"

#include <catch2/catch.hpp>
#include <cstdlib>

namespace kvb {
namespace {

// Clears every variable ShardFromEnv reads, so tests do not see the CI's own.
void ClearShardEnv() {
  for (const char* v :
       {"KVB_SHARD", "CI_NODE_INDEX", "CI_NODE_TOTAL", "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "PBS_ARRAY_INDEX",
        "KVB_SHARD_COUNT"}) {
    unsetenv(v);
  }
}

TEST_CASE(
    "ShardSelect splits points round robin, every point in exactly one shard",
    "[shard]") {
  for (size_t n = 1; n <= 5; ++n) {
    for (size_t index = 0; index < 23; ++index) {
      int owners = 0;
      for (size_t i = 0; i < n; ++i) owners += ShardSelect(index, i, n) ? 1 : 0;
      CHECK(owners == 1);
    }
  }
  CHECK_FALSE(ShardSelect(0, 0, 0));
  CHECK_FALSE(ShardSelect(0, 3, 3));
}

TEST_CASE("ParseShardSpec accepts i/n and refuses the rest", "[shard]") {
  Result<ShardSpec> s = ParseShardSpec("2/4");
  REQUIRE(s.ok());
  CHECK(s->index == 2);
  CHECK(s->count == 4);
  for (const char* bad :
       {"4/4", "1/0", "x/2", "1/", "/2", "12", "-1/3", "1/3/4", "", "1 /3"}) {
    INFO(bad);
    CHECK_FALSE(ParseShardSpec(bad).ok());
  }
}

TEST_CASE("ShardFromEnv reads KVB_SHARD, GitLab, SLURM and PBS variables",
          "[shard]") {
  ClearShardEnv();
  Result<std::optional<ShardSpec>> none = ShardFromEnv();
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  setenv("CI_NODE_INDEX", "3", 1);  // GitLab is 1-based
  setenv("CI_NODE_TOTAL", "3", 1);
  Result<std::optional<ShardSpec>> gl = ShardFromEnv();
  REQUIRE(gl.ok());
  REQUIRE(gl->has_value());
  CHECK((*gl)->index == 2);
  CHECK((*gl)->count == 3);
  setenv("CI_NODE_INDEX", "0", 1);  // out of range for a 1-based index
  CHECK_FALSE(ShardFromEnv().ok());
  ClearShardEnv();

  setenv("SLURM_ARRAY_TASK_ID", "5", 1);
  setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
  setenv("SLURM_ARRAY_TASK_MIN", "4", 1);
  Result<std::optional<ShardSpec>> sl = ShardFromEnv();
  REQUIRE(sl.ok());
  CHECK((*sl)->index == 1);
  CHECK((*sl)->count == 4);
  ClearShardEnv();

  setenv("PBS_ARRAY_INDEX", "1", 1);
  CHECK_FALSE(ShardFromEnv().ok());  // PBS gives no count
  setenv("KVB_SHARD_COUNT", "2", 1);
  Result<std::optional<ShardSpec>> pbs = ShardFromEnv();
  REQUIRE(pbs.ok());
  CHECK((*pbs)->index == 1);

  setenv("KVB_SHARD", "0/2", 1);  // ours wins over the scheduler's
  Result<std::optional<ShardSpec>> own = ShardFromEnv();
  REQUIRE(own.ok());
  CHECK((*own)->index == 0);
  CHECK((*own)->source == "KVB_SHARD");
  setenv("KVB_SHARD", "bad", 1);
  CHECK_FALSE(ShardFromEnv().ok());
  ClearShardEnv();
}

}  // namespace
}  // namespace kvb
