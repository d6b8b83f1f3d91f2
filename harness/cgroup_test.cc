// --memory-limit's refusals (none of these cases needs root or a cgroup): bad
// sizes, and a cgroup root that is not one (KVB_CGROUP_ROOT, the test seam of
// harness/cgroup.h) are one-line errors with a non-zero exit and no run.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/testing/test_util.h"
#include "harness/cgroup.h"
#include "harness/cli.h"
#include "harness/testing/cli_runner.h"

namespace kvb {
namespace {

using testing::Cli;
using testing::CliCapture;

namespace fs = std::filesystem;

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST_CASE("memory sizes parse with binary units; bad ones name the flag") {
  CHECK(*ParseMemorySize("512M", "--memory-limit") == uint64_t{512} << 20);
  CHECK(*ParseMemorySize("2G", "--memory-limit") == uint64_t{2} << 30);
  CHECK(*ParseMemorySize("2g", "--memory-limit") == uint64_t{2} << 30);
  CHECK(*ParseMemorySize("1536MiB", "--memory-limit") == uint64_t{1536} << 20);
  CHECK(*ParseMemorySize("64MB", "--memory-limit") == uint64_t{64} << 20);
  CHECK(*ParseMemorySize("1T", "--memory-limit") == uint64_t{1} << 40);
  CHECK(*ParseMemorySize("33554432", "--memory-limit") == uint64_t{32} << 20);
  for (const char* bad :
       {"", "M", "-1", "12X", "1.5G", "512 M", "abc", "0", "4096", "15M"}) {
    Result<uint64_t> r = ParseMemorySize(bad, "--memory-limit");
    INFO("'" << bad << "'");
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.status().message()).starts_with("--memory-limit: "));
  }
  CHECK_FALSE(ParseMemorySize("99999999999999999999G", "x").ok());
  CHECK_FALSE(ParseMemorySize("9999999999T", "x").ok());
  CHECK(FormatMemorySize(uint64_t{512} << 20) == "512 MiB");
  CHECK(FormatMemorySize(uint64_t{3} << 29) == "1.5 GiB");
}

// `kvbench run --memory-limit ...` with `env` set: the exit code and stderr.
int RunCapped(const testing::TempDir& dir, const std::string& limit,
              std::string* err) {
  return CliCapture({"run", "--engines", "memory", "--workloads", "ycsb-c",
                     "--keys", "100", "--ops", "100", "--memory-limit", limit,
                     "--out", dir.Sub("out"), "--quiet"},
                    err);
}

void ExpectRefusal(int rc, const std::string& err, const std::string& why,
                   const testing::TempDir& dir) {
  INFO(err);
  CHECK(rc == 2);
  CHECK(err.starts_with("kvbench: error: --memory-limit: "));
  CHECK(err.find(why) != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  // Nothing ran: no results, and the output folder it made is gone again.
  CHECK_FALSE(fs::exists(dir.Sub("out/results.json")));
  CHECK_FALSE(fs::exists(dir.Sub("out")));
}

TEST_CASE("a bad --memory-limit is a one-line usage error") {
  testing::TempDir dir;
  for (const char* bad : {"12X", "-5", "1M", "lots"}) {
    std::string err;
    int rc = RunCapped(dir, bad, &err);
    INFO(err);
    CHECK(rc == 2);
    CHECK(err.starts_with("kvbench: error: --memory-limit: "));
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(dir.Sub("out")));
  }
}

TEST_CASE("a directory that is not a cgroup v2 hierarchy is refused") {
  testing::TempDir dir, root;
  ScopedEnv env("KVB_CGROUP_ROOT", root.path());
  std::string err;
  ExpectRefusal(RunCapped(dir, "512M", &err), err, "not a cgroup v2 hierarchy",
                dir);
}

TEST_CASE("a hierarchy without the memory controller is refused") {
  testing::TempDir dir, root;
  Write(root.Sub("cgroup.controllers"), "cpuset cpu io pids\n");
  Write(root.Sub("cgroup.subtree_control"), "cpu\n");
  ScopedEnv env("KVB_CGROUP_ROOT", root.path());
  std::string err;
  ExpectRefusal(RunCapped(dir, "512M", &err), err, "no memory controller",
                dir);
}

TEST_CASE("a group that does not get the memory controller is refused") {
  // Looks like a v2 root handing out memory, but a new directory in it is a
  // plain directory without memory.max: the limit cannot be set.
  testing::TempDir dir, root;
  Write(root.Sub("cgroup.controllers"), "cpu memory pids\n");
  Write(root.Sub("cgroup.subtree_control"), "memory\n");
  ScopedEnv env("KVB_CGROUP_ROOT", root.path());
  std::string err;
  ExpectRefusal(RunCapped(dir, "512M", &err), err,
                "memory controller not enabled", dir);
  // The group it made was removed again.
  for (const auto& e : fs::directory_iterator(root.path()))
    CHECK_FALSE(e.is_directory());
}

TEST_CASE("groups left by a kvbench that is gone are removed") {
  testing::TempDir dir, root;
  Write(root.Sub("cgroup.controllers"), "cpu memory pids\n");
  Write(root.Sub("cgroup.subtree_control"), "memory\n");
  // A pid that has just exited (not reaped by anyone else: not reused yet).
  pid_t dead = fork();
  REQUIRE(dead >= 0);
  if (dead == 0) _exit(0);
  int status = 0;
  REQUIRE(waitpid(dead, &status, 0) == dead);
  const std::string stale = root.Sub("kvbench-" + std::to_string(dead) + "-0");
  const std::string live = root.Sub("kvbench-" + std::to_string(getppid()) + "-3");
  const std::string other = root.Sub("kvbench-other");
  for (const std::string& d : {stale, live, other}) fs::create_directory(d);
  ScopedEnv env("KVB_CGROUP_ROOT", root.path());
  std::string err;
  // Still refused (a fake root's groups have no memory.max), but only after
  // the stale group is gone.
  ExpectRefusal(RunCapped(dir, "512M", &err), err,
                "memory controller not enabled", dir);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
  CHECK(fs::exists(other));
}

}  // namespace
}  // namespace kvb
