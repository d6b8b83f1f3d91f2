// Tests of the results library: the one validation every reader applies, the
// one reader, and the atomic, durable writer.
#include <catch2/catch.hpp>
#include <fstream>

#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "results/file.h"
#include "results/schema.h"

namespace kvb {
namespace {

using json = nlohmann::json;

json Minimal(int version = kResultsSchemaVersion) {
  return json{{"context", {{"schema_version", version}}},
              {"benchmarks", json::array()}};
}

TEST_CASE("ValidateResults accepts the minimal file and refuses the rest") {
  CHECK_OK(ValidateResults(Minimal(), "f"));
  CHECK(ValidateResults(json::array(), "f").IsInvalidArgument());
  CHECK(ValidateResults(json{{"benchmarks", json::array()}}, "f")
            .IsInvalidArgument());
  json no_list = Minimal();
  no_list["benchmarks"] = json::object();
  CHECK(ValidateResults(no_list, "f").IsInvalidArgument());
  json text_version = Minimal();
  text_version["context"]["schema_version"] = "1";
  CHECK(ValidateResults(text_version, "f").IsInvalidArgument());
  Status newer = ValidateResults(Minimal(kResultsSchemaVersion + 1), "f");
  CHECK(newer.IsNotSupported());
  CHECK(std::string(newer.message()).rfind("f has a newer", 0) == 0);
}

TEST_CASE("ReadResultsFile reads what WriteJsonFile wrote, and nothing else") {
  testing::TempDir dir;
  json j = Minimal();
  j["benchmarks"].push_back(json{{"name", "x"}, {"iterations", 3}});
  REQUIRE_OK(WriteJsonFile(dir.Sub("r.json"), j));
  Result<json> back = ReadResultsFile(dir.Sub("r.json"));
  REQUIRE_OK(back.status());
  CHECK(*back == j);
  std::ifstream tmp(dir.Sub("r.json.tmp"));
  CHECK_FALSE(tmp.good());  // renamed away

  CHECK(ReadResultsFile(dir.Sub("missing.json")).status().IsNotFound());
  CHECK(ReadResultsFile(dir.path()).status().IsInvalidArgument());
  REQUIRE_OK(WriteTextFile(dir.Sub("garbage.json"), "{not json"));
  CHECK(ReadResultsFile(dir.Sub("garbage.json")).status().IsInvalidArgument());
  REQUIRE_OK(WriteJsonFile(dir.Sub("other.json"), json{{"a", 1}}));
  CHECK(ReadResultsFile(dir.Sub("other.json")).status().IsInvalidArgument());
}

TEST_CASE("WriteTextFile fails with the path in a one-line message") {
  testing::TempDir dir;
  Status s = WriteTextFile(dir.Sub("no/such/dir/r.json"), "x");
  CHECK(s.IsIOError());
  CHECK(std::string(s.message()).find(dir.Sub("no/such/dir/r.json")) !=
        std::string::npos);
  CHECK(std::string(s.message()).find('\n') == std::string::npos);
}

// The writers this replaced renamed an unsynced temp file: a power cut could
// leave an empty or missing results.json although the run had reported it.
TEST_CASE("WriteTextFile is durable when it returns, and all-or-nothing") {
  std::unique_ptr<Env> mem = NewMemEnv();
  FaultInjectionEnv env(mem.get());
  REQUIRE_OK(env.CreateDir("/out"));
  REQUIRE_OK(env.SyncDir("/"));
  REQUIRE_OK(WriteTextFile("/out/results.json", "first\n", &env));
  REQUIRE_OK(env.SimulatePowerLoss());
  Result<std::string> got = env.ReadFileToString("/out/results.json");
  REQUIRE_OK(got.status());
  CHECK(*got == "first\n");

  // A failed sync leaves the old contents in place and reports the path.
  env.FailOnce(FaultInjectionEnv::Op::kSync, 0, Status::IOError("disk"));
  Status s = WriteTextFile("/out/results.json", "second\n", &env);
  CHECK(s.IsIOError());
  CHECK(std::string(s.message()).find("/out/results.json") !=
        std::string::npos);
  got = env.ReadFileToString("/out/results.json");
  REQUIRE_OK(got.status());
  CHECK(*got == "first\n");
}

}  // namespace
}  // namespace kvb
