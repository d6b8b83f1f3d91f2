// --memory-limit on this machine's real cgroups: a capped run records its
// limit and a peak within it; a point that outgrows its limit is OOM-killed
// and recorded as a failed point (kvbench itself carries on); a user without
// rights to cgroups gets a one-line refusal. Each case reports SKIPPED where
// the machine cannot show it (not root, no memory controller, no setpriv):
// CI runs as root.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/testing/test_util.h"
#include "harness/cli.h"
#include "harness/isolate.h"
#include "harness/testing/cli_runner.h"
#include "results/file.h"

#ifndef KVB_KVBENCH_BIN
#error "KVB_KVBENCH_BIN must name the kvbench binary"
#endif

namespace kvb {
namespace {

using testing::Cli;

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// Why a real capped run cannot happen here, or "".
std::string CannotCap() {
  if (geteuid() != 0) return "not root (memory cgroups need root; CI runs as root)";
  Status s = CheckMemoryLimit(256 * kMiB);
  return s.ok() ? "" : std::string(s.message());
}

json ReadResults(const std::string& path) {
  Result<json> j = ReadResultsFile(path);
  INFO(j.status().ToString());
  REQUIRE(j.ok());
  return *j;
}

TEST_CASE("a capped run records its limit and a peak within it") {
  const std::string why = CannotCap();
  if (!why.empty()) KVB_SKIP("no memory cgroup: " << why);
  testing::TempDir dir;
  const uint64_t limit = 256 * kMiB;
  int rc = Cli({"run", "--engines", "linhash,memory", "--workloads",
                "read-heavy", "--keys", "20000", "--memory-limit", "256M",
                "--out", dir.Sub("out"), "--quiet"});
  REQUIRE(rc == 0);
  json j = ReadResults(dir.Sub("out/results.json"));
  CHECK(j["config"]["settings"]["memory_limit_bytes"] == limit);
  CHECK(j["context"]["memory_limit"]["bytes"] == limit);
  int entries = 0;
  for (const json& b : j["benchmarks"]) {
    if (b["run_type"] != "iteration") continue;
    ++entries;
    INFO(b.dump(1).substr(0, 2000));
    CHECK(b["errors"] == 0);
    CHECK(b["verify"]["verified"] == 20000);
    const json& m = b["memory_limit"];
    CHECK(m["limit_bytes"] == limit);
    CHECK((m["cgroup"] == "v1" || m["cgroup"] == "v2"));
    REQUIRE(m["peak_bytes"].is_number());
    CHECK(m["peak_bytes"].get<uint64_t>() > 0);
    CHECK(m["peak_bytes"].get<uint64_t>() <= limit);
    CHECK(m["oom_kills"] == 0);
    REQUIRE(m["run_end_bytes"].is_number());
    CHECK(m["run_end_bytes"].get<uint64_t>() <= limit);
    CHECK(m["run_end_file_bytes"].is_number());
    if (b["engine"] == "linhash") {
      REQUIRE(b.contains("resident_at_run_start"));
      CHECK(b["resident_at_run_start"].get<double>() >= 0);
      CHECK(b["resident_at_run_start"].get<double>() <= 1);
    }
  }
  CHECK(entries == 2);
}

TEST_CASE("a point that outgrows its limit is a recorded failure, not a crash") {
  const std::string why = CannotCap();
  if (!why.empty()) KVB_SKIP("no memory cgroup: " << why);
  testing::TempDir dir;
  // 200 K values of 1000 bytes in the memory engine: ~200 MB against 48 MiB.
  int rc = Cli({"run", "--engines", "memory", "--workloads", "ycsb-c",
                "--keys", "200000", "--ops", "1000", "--memory-limit", "48M",
                "--out", dir.Sub("out"), "--quiet"});
  CHECK(rc == 1);
  json j = ReadResults(dir.Sub("out/results.json"));
  REQUIRE(j["benchmarks"].size() == 1);
  const json& b = j["benchmarks"][0];
  INFO(b.dump(1));
  CHECK(b["errors"] == 1);
  const std::string msg = b["error_messages"][0].get<std::string>();
  CHECK(msg.find("killed by signal 9") != std::string::npos);
  CHECK(msg.find("out of memory under --memory-limit 48 MiB") !=
        std::string::npos);
  CHECK(b["memory_limit"]["oom_kills"].get<int>() >= 1);
  CHECK(b["memory_limit"]["peak_bytes"].get<uint64_t>() <= 48 * kMiB);
}

TEST_CASE("a user without rights to cgroups is refused in one line") {
  if (geteuid() != 0) KVB_SKIP("not root: cannot switch to another user");
  if (access("/usr/bin/setpriv", X_OK) != 0)
    KVB_SKIP("no /usr/bin/setpriv (util-linux)");
  testing::TempDir dir;
  chmod(dir.path().c_str(), 0777);
  const std::string err = dir.Sub("err.txt");
  const std::string cmd =
      "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " +
      std::string(KVB_KVBENCH_BIN) +
      " run --engines memory --workloads ycsb-c --keys 100 --ops 100 "
      "--memory-limit 512M --quiet --out " +
      dir.Sub("out") + " 2>" + err;
  int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  std::string text;
  {
    FILE* f = std::fopen(err.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[4096];
    size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    text.assign(buf, n);
  }
  INFO(text);
  if (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)
    KVB_SKIP("user nobody cannot execute " << KVB_KVBENCH_BIN);
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(text.starts_with("kvbench: error: --memory-limit: "));
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(dir.Sub("out/results.json")));
}

}  // namespace
}  // namespace kvb
