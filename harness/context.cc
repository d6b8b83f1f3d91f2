#include "harness/context.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include "harness/clock.h"
#include "harness/probes.h"

#ifdef KVB_HAVE_ROCKSDB
#include <rocksdb/version.h>
#endif
#ifdef KVB_HAVE_LEVELDB
#include <leveldb/db.h>
#endif
#ifdef KVB_HAVE_LMDB
#include <lmdb.h>
#endif
#ifdef KVB_HAVE_SQLITE
#include <sqlite3.h>
#endif

#ifndef KVB_SOURCE_DIR
#define KVB_SOURCE_DIR ""
#endif
#ifndef KVB_GIT_REVISION
#define KVB_GIT_REVISION "unknown"
#endif
#ifndef KVB_BUILD_TYPE
#define KVB_BUILD_TYPE "unknown"
#endif
#ifndef KVB_CXX_FLAGS
#define KVB_CXX_FLAGS ""
#endif

namespace kvb {
namespace {

using json = nlohmann::json;

std::string Trim(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::string ProcField(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return Trim(line.substr(colon + 1));
    }
  }
  return "";
}

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[256];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (pclose(p) != 0) return "";
  return Trim(out);
}

std::string GitRevision() {
  // Prefer the live tree (the binary may be older than the checkout); fall back
  // to the revision recorded at configure time.
  std::string src = KVB_SOURCE_DIR;
  if (!src.empty()) {
    std::string rev =
        RunCommand("git -C '" + src + "' rev-parse HEAD 2>/dev/null");
    if (!rev.empty()) {
      std::string dirty =
          RunCommand("git -C '" + src +
                     "' status --porcelain --untracked-files=no 2>/dev/null");
      return dirty.empty() ? rev : rev + "-dirty";
    }
  }
  return KVB_GIT_REVISION;
}

json LoadAvg() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return json::array();
  return json::array({l[0], l[1], l[2]});
}

std::string IsoDate() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

std::map<std::string, std::string> LibraryVersions() {
  std::map<std::string, std::string> v;
#ifdef KVB_HAVE_ROCKSDB
  v["rocksdb"] = std::to_string(ROCKSDB_MAJOR) + "." +
                 std::to_string(ROCKSDB_MINOR) + "." +
                 std::to_string(ROCKSDB_PATCH);
#endif
#ifdef KVB_HAVE_LEVELDB
  v["leveldb"] = std::to_string(leveldb::kMajorVersion) + "." +
                 std::to_string(leveldb::kMinorVersion);
#endif
#ifdef KVB_HAVE_LMDB
  v["lmdb"] = mdb_version(nullptr, nullptr, nullptr);
#endif
#ifdef KVB_HAVE_SQLITE
  v["sqlite"] = sqlite3_libversion();
#endif
  return v;
}

json CaptureContext(const ContextInputs& in) {
  clock::Init();
  json c;
  c["schema_version"] = kResultsSchemaVersion;
  c["date"] = IsoDate();
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  c["host_name"] = host;
  c["executable"] = "kvbench";
  c["cpu_model"] = ProcField("/proc/cpuinfo", "model name");
  c["num_cpus"] = std::thread::hardware_concurrency();
  std::string mhz = ProcField("/proc/cpuinfo", "cpu MHz");
  c["mhz_per_cpu"] = mhz.empty() ? 0 : static_cast<int>(std::atof(mhz.c_str()));
  std::string mem = ProcField("/proc/meminfo", "MemTotal");
  c["memory_bytes"] = mem.empty() ? 0 : std::stoull(mem) * 1024;
  utsname u{};
  if (uname(&u) == 0) c["kernel"] = std::string(u.sysname) + " " + u.release;
  probes::FsInfo fsi = probes::DescribeFileSystem(in.data_dir);
  c["data_dir"] = in.data_dir;
  c["file_system"] = fsi.fs_type;
  c["device"] = fsi.device;
  c["rotational"] =
      fsi.rotational < 0 ? json(nullptr) : json(fsi.rotational == 1);
#if defined(__clang__)
  c["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  c["compiler"] = std::string("g++ ") + __VERSION__;
#endif
  c["compiler_flags"] = KVB_CXX_FLAGS;
  c["build_type"] = KVB_BUILD_TYPE;
#ifdef NDEBUG
  c["ndebug"] = true;
  c["library_build_type"] = "release";
#else
  c["ndebug"] = false;
  c["library_build_type"] = "debug";
#endif
  c["library_versions"] = LibraryVersions();
  c["git_revision"] = GitRevision();
  c["command_line"] = in.argv;
  c["seed"] = in.seed;
  c["cache_state"] = in.cache_state;
  c["timer"] = clock::Describe();
  c["load_avg"] = LoadAvg();  // Google Benchmark's field name
  c["load_avg_start"] = LoadAvg();
  c["caches"] = json::array();
  std::string gov = Trim(RunCommand(
      "cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null"));
  c["cpu_scaling_enabled"] = !gov.empty() && gov != "performance";

  json warnings = json::array();
#ifndef NDEBUG
  warnings.push_back(
      "kvbench built without NDEBUG (assertions on): numbers not "
      "representative");
#endif
  auto versions = LibraryVersions();
  // Debian builds librocksdb and libleveldb without -DNDEBUG (see
  // /work/shared/specs/machine-limits.md): their assertions and sync points are
  // live.
  if (versions.count("rocksdb")) {
    warnings.push_back(
        "reference library built with assertions: Debian's librocksdb is "
        "compiled without "
        "NDEBUG; its numbers are slower than a release build");
  }
  if (versions.count("leveldb")) {
    warnings.push_back(
        "reference library built with assertions: Debian's libleveldb is "
        "compiled without "
        "NDEBUG");
  }
  if (fsi.rotational == 1)
    warnings.push_back("data directory is on a rotational device");
  double l[1];
  if (getloadavg(l, 1) == 1 && l[0] > 0.5) {
    warnings.push_back("machine was not idle at start: load average " +
                       std::to_string(l[0]));
  }
  c["warnings"] = warnings;
  return c;
}

void FinishContext(json* context) { (*context)["load_avg_end"] = LoadAvg(); }

}  // namespace kvb
