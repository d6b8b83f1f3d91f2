// kvb-powerloss: syscall-level power-loss testing of kvbench adapters
// (README.md in this folder). Usage: kvb-powerloss --help.
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "adapters/registry.h"
#include "crash/powerloss/driver.h"
#include "crash/powerloss/engine_open.h"
#include "crash/powerloss/shim_selftest.h"
#include "crash/powerloss/workload.h"

namespace {

namespace fs = std::filesystem;
using namespace kvb::powerloss;

constexpr char kUsage[] =
    "usage: kvb-powerloss --engines SPEC[,SPEC...] [--ops 200] [--keys 32]\n"
    "         [--points 50] [--seed 1] [--data-model pessimistic|prefix]\n"
    "         [--dir-model posix|ext4] [--out DIR] [--work-dir DIR]\n"
    "         [--shim PATH] [--timeout-s 120] [--keep]\n"
    "       kvb-powerloss --dump-log LOG   (one line per record)\n"
    "  SPEC: an adapter spec (durability=sync is added unless given) or\n"
    "  toy:mode=nosync|correct|rename-nodirsync. Exit 0: no violation;\n"
    "  1: a violation or an engine error; 2: bad usage.\n";

struct Args {
  std::vector<std::string> engines;
  DriverOptions driver;
  std::string out;
  bool keep = false;
  bool child = false;
  std::string child_spec, child_dir;
};

bool ParseU64(const char* s, uint64_t* v) {
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, *v);
  return ec == std::errc() && p == end;
}

std::string SelfDir() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path().string();
}

// Applies one "--flag value" pair; false with a message on bad input.
bool ApplyFlag(const std::string& f, const char* v, Args* a, std::string* err) {
  uint64_t n = 0;
  bool numeric = ParseU64(v, &n);
  DriverOptions& d = a->driver;
  if (f == "--engines") {
    a->engines = kvb::SplitSpecList(v);
  } else if (f == "--spec") {
    a->child_spec = v;
  } else if (f == "--dir") {
    a->child_dir = v;
  } else if (f == "--out") {
    a->out = v;
  } else if (f == "--work-dir") {
    d.work_dir = v;
  } else if (f == "--shim") {
    d.shim_path = v;
  } else if (f == "--data-model" &&
             (!std::strcmp(v, "pessimistic") || !std::strcmp(v, "prefix"))) {
    d.model.data = !std::strcmp(v, "prefix") ? DataModel::kPrefix
                                             : DataModel::kPessimistic;
  } else if (f == "--dir-model" &&
             (!std::strcmp(v, "posix") || !std::strcmp(v, "ext4"))) {
    d.model.dir = !std::strcmp(v, "ext4") ? DirModel::kExt4 : DirModel::kPosix;
  } else if (numeric && f == "--ops" && n > 0 && n < 10000000) {
    d.workload.ops = n;
  } else if (numeric && f == "--keys" && n > 0 && n < 1000000) {
    d.workload.keys = static_cast<uint32_t>(n);
  } else if (numeric && f == "--points" && n > 0 && n < 1000000) {
    d.points = static_cast<uint32_t>(n);
  } else if (numeric && f == "--seed") {
    d.workload.seed = n;
  } else if (numeric && f == "--timeout-s" && n > 0 && n < 86400) {
    d.child_timeout_s = static_cast<int>(n);
  } else {
    *err = "bad option or value: " + f + " " + v;
    return false;
  }
  return true;
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "--child") {
      a->child = true;
    } else if (f == "--keep") {
      a->keep = true;
    } else if (i + 1 < argc) {
      if (!ApplyFlag(f, argv[++i], a, err)) return false;
    } else {
      *err = "missing value for " + f;
      return false;
    }
  }
  if (a->child) return true;
  if (a->engines.empty()) *err = "--engines is required";
  return err->empty();
}

void PrintResult(const EngineResult& r) {
  std::printf("%-40s records %7llu  acks %5llu  points %4llu  violating %4llu",
              r.spec.c_str(), static_cast<unsigned long long>(r.log_records),
              static_cast<unsigned long long>(r.acks),
              static_cast<unsigned long long>(r.points),
              static_cast<unsigned long long>(r.violating_points));
  for (const auto& [cls, n] : r.violations) {
    std::printf("  %s=%llu", cls.c_str(), static_cast<unsigned long long>(n));
  }
  std::printf("  (%.1f s)\n", r.seconds);
  for (const std::string& e : r.examples) std::printf("    %s\n", e.c_str());
  for (const std::string& m : r.shared_mappings) {
    std::printf("    writable shared mapping: %s\n", m.c_str());
  }
  for (const std::string& n : r.anomalies) {
    std::printf("    model note: %s\n", n.c_str());
  }
  if (!r.kept_point_dir.empty()) {
    std::printf("    first violating state kept in %s\n",
                r.kept_point_dir.c_str());
  }
}

// Prints one line per record of a log (for reading what an engine did).
int DumpLog(const std::string& path) {
  kvb::Result<Log> log = ReadLog(path);
  if (!log.ok()) {
    std::fprintf(stderr, "kvb-powerloss: %s\n",
                 log.status().ToString().c_str());
    return 2;
  }
  for (size_t i = 0; i < log->entries.size(); ++i) {
    const Entry& e = log->entries[i];
    std::printf("%6zu %-16s fd=%-3d fd2=%-3d a=%lld b=%lld c=%lld %s%s%s", i,
                RecordTypeName(e.type), e.fd, e.fd2,
                static_cast<long long>(e.a), static_cast<long long>(e.b),
                static_cast<long long>(e.c), e.path1.c_str(),
                e.path2.empty() ? "" : " -> ", e.path2.c_str());
    if (!e.data.empty()) std::printf(" [%zu bytes]", e.data.size());
    std::printf("%s\n", log->torn_tail && i + 1 == log->entries.size()
                            ? " (log tail torn after this)"
                            : "");
  }
  return 0;
}

// Resolves every spec before anything runs (bad input loses nothing): a bad
// one is a one-line error; a non-persistent adapter is skipped, visibly.
bool CheckSpecs(const std::vector<std::string>& engines,
                std::vector<std::string>* specs) {
  for (const std::string& raw : engines) {
    kvb::Result<std::string> spec = WithSyncDurability(raw);
    kvb::Status s = spec.ok() ? CheckEngineSpec(*spec) : spec.status();
    if (s.code() == kvb::StatusCode::kFailedPrecondition) {
      std::printf("%-40s SKIPPED (%s)\n", raw.c_str(),
                  std::string(s.message()).c_str());
      continue;
    }
    if (!s.ok()) {
      std::fprintf(stderr, "kvb-powerloss: %s: %s\n", raw.c_str(),
                   std::string(s.message()).c_str());
      return false;
    }
    specs->push_back(*spec);
  }
  if (specs->empty()) {
    std::fprintf(stderr, "kvb-powerloss: no persistent engine to test\n");
    return false;
  }
  return true;
}

int RunAll(Args& a) {
  DriverOptions& d = a.driver;
  if (d.shim_path.empty())
    d.shim_path = SelfDir() + "/libkvb_powerloss_shim.so";
  d.child_exe = fs::read_symlink("/proc/self/exe").string();
  bool temp_work = d.work_dir.empty();
  if (temp_work) {
    d.work_dir = (fs::temp_directory_path() /
                  ("kvb-powerloss-" + std::to_string(getpid())))
                     .string();
  }
  if (!fs::exists(d.shim_path)) {
    std::fprintf(stderr, "kvb-powerloss: shim not found: %s (use --shim)\n",
                 d.shim_path.c_str());
    return 2;
  }
  std::vector<std::string> specs;
  if (!CheckSpecs(a.engines, &specs)) return 2;
  std::vector<EngineResult> results;
  std::vector<std::string> errors;
  bool violated = false;
  for (const std::string& raw : specs) {
    kvb::Result<EngineResult> r = RunEngine(d, raw);
    if (!r.ok()) {
      errors.push_back(raw + ": " + r.status().ToString());
      std::printf("%-40s ERROR %s\n", raw.c_str(),
                  r.status().ToString().c_str());
      continue;
    }
    PrintResult(*r);
    violated = violated || r->violating_points > 0;
    results.push_back(std::move(*r));
  }
  std::string json = SummaryJson(d, results, errors);
  if (!a.out.empty()) {
    fs::create_directories(a.out);
    std::ofstream(a.out + "/powerloss.json") << json;
    std::printf("summary: %s/powerloss.json\n", a.out.c_str());
  }
  if (temp_work && !a.keep && !violated) fs::remove_all(d.work_dir);
  return violated || !errors.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && !std::strcmp(argv[1], "--shim-selftest")) {
    return ShimSelfTest(argv[2]);
  }
  if (argc == 3 && !std::strcmp(argv[1], "--dump-log")) {
    return DumpLog(argv[2]);
  }
  if (argc > 1 &&
      (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Args a;
  std::string err;
  if (!ParseArgs(argc, argv, &a, &err)) {
    std::fprintf(stderr, "kvb-powerloss: %s\n%s", err.c_str(), kUsage);
    return 2;
  }
  if (a.child) {
    return RunWorkload(a.child_spec, a.child_dir, a.driver.workload);
  }
  return RunAll(a);
}
