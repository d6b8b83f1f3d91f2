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
#include "harness/loaded_library.h"
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

namespace {

// Each reference library and a C symbol it exports: the loaded object that
// defines the symbol is the library this process runs.
constexpr std::pair<const char*, const char*> kLibrarySymbols[] = {
    {"rocksdb", "rocksdb_open"},
    {"leveldb", "leveldb_open"},
    {"lmdb", "mdb_env_create"},
    {"sqlite", "sqlite3_open_v2"},
};

}  // namespace

json LinkedLibraries() {
  const auto versions = LibraryVersions();
  json out = json::array();
  for (const auto& [name, symbol] : kLibrarySymbols) {
    auto version = versions.find(name);
    if (version == versions.end()) continue;
    json e = {{"name", name}, {"version", version->second}};
    Result<LoadedLibrary> lib = FindLoadedLibrary(symbol);
    if (lib.ok()) {
      e["path"] = lib->path;
      e["assertions"] = lib->assertions;
      e["sync_points"] = lib->sync_points;
    } else {
      e["path"] = nullptr;
      e["assertions"] = nullptr;
      e["sync_points"] = nullptr;
      e["error"] = lib.status().ToString();
    }
    out.push_back(std::move(e));
  }
  return out;
}

namespace {

// What CaptureContext looks up once for several fields.
struct Facts {
  const ContextInputs& in;
  probes::FsInfo fs;
  json libraries;  // LinkedLibraries()
};

// A getter's way of saying "leave this field out".
const json kAbsent = json(json::value_t::discarded);

std::string HostName() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return host;
}

json Kernel() {
  utsname u{};
  if (uname(&u) != 0) return kAbsent;
  return std::string(u.sysname) + " " + u.release;
}

json Compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return kAbsent;
#endif
}

#ifdef NDEBUG
constexpr bool kNdebug = true;
#else
constexpr bool kNdebug = false;
#endif

uint64_t MemoryBytes() {
  std::string mem = ProcField("/proc/meminfo", "MemTotal");
  return mem.empty() ? 0 : std::stoull(mem) * 1024;
}

int MhzPerCpu() {
  std::string mhz = ProcField("/proc/cpuinfo", "cpu MHz");
  return mhz.empty() ? 0 : static_cast<int>(std::atof(mhz.c_str()));
}

bool CpuScalingEnabled() {
  std::string gov = Trim(RunCommand(
      "cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null"));
  return !gov.empty() && gov != "performance";
}

// Why the numbers of this run may not be representative.
json Warnings(const Facts& f) {
  json warnings = json::array();
  if (!kNdebug) {
    warnings.push_back(
        "kvbench built without NDEBUG (assertions on): numbers not "
        "representative");
  }
  for (const json& lib : f.libraries) {
    if (lib["assertions"] != true) continue;
    warnings.push_back("reference library built with assertions: " +
                       lib["name"].get<std::string>() + " (" +
                       lib["path"].get<std::string>() +
                       " imports __assert_fail); a release build is faster "
                       "(scripts/build-release-refs.sh)");
  }
  if (f.fs.rotational == 1)
    warnings.push_back("data directory is on a rotational device");
  double l[1];
  if (getloadavg(l, 1) == 1 && l[0] > 0.5) {
    warnings.push_back("machine was not idle at start: load average " +
                       std::to_string(l[0]));
  }
  return warnings;
}

using Getter = json (*)(const Facts&);

// Every context field and where it comes from (results/SCHEMA.md documents
// them); a getter returning kAbsent leaves its field out.
// clang-format off
const std::vector<std::pair<const char*, Getter>>& ContextFields() {
  static const std::vector<std::pair<const char*, Getter>> kFields = {
      {"schema_version", [](const Facts&) -> json { return kResultsSchemaVersion; }},
      {"date", [](const Facts&) -> json { return IsoDate(); }},
      {"host_name", [](const Facts&) -> json { return HostName(); }},
      {"executable", [](const Facts&) -> json { return "kvbench"; }},
      {"cpu_model", [](const Facts&) -> json { return ProcField("/proc/cpuinfo", "model name"); }},
      {"num_cpus", [](const Facts&) -> json { return std::thread::hardware_concurrency(); }},
      {"mhz_per_cpu", [](const Facts&) -> json { return MhzPerCpu(); }},
      {"memory_bytes", [](const Facts&) -> json { return MemoryBytes(); }},
      {"kernel", [](const Facts&) -> json { return Kernel(); }},
      {"data_dir", [](const Facts& f) -> json { return f.in.data_dir; }},
      {"file_system", [](const Facts& f) -> json { return f.fs.fs_type; }},
      {"device", [](const Facts& f) -> json { return f.fs.device; }},
      {"rotational", [](const Facts& f) -> json {
         return f.fs.rotational < 0 ? json(nullptr) : json(f.fs.rotational == 1); }},
      {"compiler", [](const Facts&) -> json { return Compiler(); }},
      {"compiler_flags", [](const Facts&) -> json { return KVB_CXX_FLAGS; }},
      {"build_type", [](const Facts&) -> json { return KVB_BUILD_TYPE; }},
      {"ndebug", [](const Facts&) -> json { return kNdebug; }},
      {"library_build_type", [](const Facts&) -> json { return kNdebug ? "release" : "debug"; }},
      {"library_versions", [](const Facts&) -> json { return LibraryVersions(); }},
      {"libraries", [](const Facts& f) -> json { return f.libraries; }},
      {"git_revision", [](const Facts&) -> json { return GitRevision(); }},
      {"command_line", [](const Facts& f) -> json { return f.in.argv; }},
      {"seed", [](const Facts& f) -> json { return f.in.seed; }},
      {"cache_state", [](const Facts& f) -> json { return f.in.cache_state; }},
      {"timer", [](const Facts&) -> json { return clock::Describe(); }},
      {"load_avg", [](const Facts&) -> json { return LoadAvg(); }},  // Google Benchmark's name
      {"load_avg_start", [](const Facts&) -> json { return LoadAvg(); }},
      {"caches", [](const Facts&) -> json { return json::array(); }},
      {"cpu_scaling_enabled", [](const Facts&) -> json { return CpuScalingEnabled(); }},
      {"warnings", Warnings},
  };
  return kFields;
}
// clang-format on

}  // namespace

json CaptureContext(const ContextInputs& in) {
  clock::Init();
  const Facts facts{in, probes::DescribeFileSystem(in.data_dir),
                    LinkedLibraries()};
  json c = json::object();
  for (const auto& [field, get] : ContextFields()) {
    json v = get(facts);
    if (!v.is_discarded()) c[field] = std::move(v);
  }
  return c;
}

void FinishContext(json* context) { (*context)["load_avg_end"] = LoadAvg(); }

}  // namespace kvb
