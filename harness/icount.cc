#include "harness/icount.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/names.h"
#include "core/strings.h"

namespace kvb::icount {
namespace {

namespace fs = std::filesystem;

// User-space instructions only: the kernel part varies with page faults and
// scheduling, and perf_event_paranoid=2 (the usual default) forbids it anyway.
Result<int> OpenInstructionCounter() {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = PERF_COUNT_HW_INSTRUCTIONS;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  // pid 0, cpu -1: this thread, on whichever CPU it runs.
  long fd =
      syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    return Status::FromErrno(errno,
                             "perf_event_open(PERF_COUNT_HW_INSTRUCTIONS)");
  }
  return static_cast<int>(fd);
}

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string f;
  while (in >> f) out.push_back(f);
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// The dump number of "<prefix>.<N>", or 0 when `name` is not one.
uint64_t DumpNumber(const std::string& name, const std::string& base) {
  if (!StartsWith(name, base + ".")) return 0;
  std::string rest = name.substr(base.size() + 1);
  if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::strtoull(rest.c_str(), nullptr, 10);
}

}  // namespace

constexpr NameTable<Mode, 3> kModeNames{{{
    {Mode::kPerf, "perf"},
    {Mode::kCallgrind, "callgrind"},
    {Mode::kOff, "off"},
}}};

const char* ModeName(Mode m) { return kModeNames.Name(m, "off").data(); }

Status ProbePerf() {
  Result<int> fd = OpenInstructionCounter();
  if (!fd.ok()) return fd.status();
  close(*fd);
  return Status::OK();
}

bool RunningOnValgrind() { return RUNNING_ON_VALGRIND != 0; }

bool ValgrindOnPath() {
  const char* path = std::getenv("PATH");
  for (const std::string& dir : SplitList(path ? path : "/usr/bin:/bin", ':')) {
    if (access((dir + "/valgrind").c_str(), X_OK) == 0) return true;
  }
  return false;
}

Probes SystemProbes() {
  return Probes{ProbePerf, RunningOnValgrind, ValgrindOnPath};
}

Result<Decision> Decide(const std::string& flag, const Probes& probes) {
  Decision d;
  if (flag == "off") return d;
  if (flag == "perf") {
    Status s = probes.perf();
    if (!s.ok()) {
      return Status::InvalidArgument(
          "--count-instructions perf: " + s.ToString() +
          " (try callgrind, or auto)");
    }
    d.mode = Mode::kPerf;
    return d;
  }
  if (flag == "callgrind") {
    if (!probes.under_valgrind() && !probes.valgrind_on_path()) {
      return Status::InvalidArgument(
          "--count-instructions callgrind: valgrind is not on PATH");
    }
    d.mode = Mode::kCallgrind;
    return d;
  }
  if (flag != "auto") {
    return Status::InvalidArgument(
        "--count-instructions: expected "
        "auto|perf|callgrind|off, got '" +
        flag + "'");
  }
  // Already under valgrind (our own re-execution, or a user's): perf counters
  // would count valgrind's JIT, not the program.
  if (probes.under_valgrind()) {
    d.mode = Mode::kCallgrind;
    d.note = "auto: running under valgrind, so callgrind";
    return d;
  }
  Status perf = probes.perf();
  if (perf.ok()) {
    d.mode = Mode::kPerf;
    d.note = "auto: hardware counter available";
  } else if (probes.valgrind_on_path()) {
    d.mode = Mode::kCallgrind;
    d.note = "auto: " + perf.ToString() + "; valgrind found, so callgrind";
  } else {
    d.note = "auto: " + perf.ToString() +
             " and no valgrind on PATH: instructions not counted";
  }
  return d;
}

Result<uint64_t> ParseCallgrindTotals(std::string_view dump) {
  std::istringstream in{std::string(dump)};
  std::string line;
  size_t column = 0;  // Ir is the first event unless events: says otherwise
  std::string totals, summary;
  while (std::getline(in, line)) {
    if (StartsWith(line, "events:")) {
      std::vector<std::string> ev = Fields(line.substr(7));
      column = ev.size();
      for (size_t i = 0; i < ev.size(); ++i) {
        if (ev[i] == "Ir") column = i;
      }
      if (column == ev.size())
        return Status::InvalidArgument("callgrind dump counts no Ir event");
    } else if (StartsWith(line, "totals:")) {
      totals = line.substr(7);
    } else if (StartsWith(line, "summary:")) {
      summary = line.substr(8);
    }
  }
  const std::string& use = totals.empty() ? summary : totals;
  if (use.empty())
    return Status::InvalidArgument("callgrind dump has no totals: line");
  std::vector<std::string> f = Fields(use);
  if (column >= f.size()) return uint64_t{0};  // trailing zero costs omitted
  const std::string& v = f[column];
  return ParseUint(v, "callgrind totals");
}

std::string DumpPrefix() {
  const char* dir = std::getenv("KVB_CALLGRIND_DIR");
  std::string pid = std::to_string(getpid());
  if (dir && *dir) return std::string(dir) + "/cg." + pid;
  return "callgrind.out." + pid;
}

Result<uint64_t> ReadDump(const std::string& prefix, const std::string& label) {
  fs::path p(prefix);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::string base = p.filename().string();
  std::error_code ec;
  // Dumps are numbered in order; take the newest with our trigger.
  std::vector<std::pair<uint64_t, fs::path>> found;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    uint64_t n = DumpNumber(it->path().filename().string(), base);
    if (n > 0) found.emplace_back(n, it->path());
  }
  if (ec)
    return Status::IOError("cannot list " + dir.string() + ": " + ec.message());
  std::sort(found.rbegin(), found.rend());
  const std::string trigger = "desc: Trigger: Client Request: " + label;
  for (const auto& [n, path] : found) {
    std::ifstream f(path);
    std::stringstream text;
    text << f.rdbuf();
    std::string s = text.str();
    if (s.find(trigger + "\n") == std::string::npos) continue;
    return ParseCallgrindTotals(s);
  }
  return Status::NotFound("no callgrind dump '" + label + "' at " + prefix +
                          ".N (is this process running under "
                          "valgrind --tool=callgrind?)");
}

std::vector<std::string> CallgrindCommand(const std::string& self_exe,
                                          const std::vector<std::string>& args,
                                          const std::string& dump_dir) {
  std::vector<std::string> cmd = {"valgrind",
                                  "--tool=callgrind",
                                  "--collect-atstart=no",
                                  "--callgrind-out-file=" + dump_dir + "/cg.%p",
                                  "--quiet",
                                  self_exe};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return cmd;
}

Status ExecUnderCallgrind(const std::vector<std::string>& args,
                          const std::string& dump_dir) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return Status::IOError("cannot find /proc/self/exe: " + ec.message());
  fs::path dir = fs::absolute(dump_dir, ec);
  fs::create_directories(dir, ec);
  if (ec)
    return Status::IOError("cannot create " + dir.string() + ": " +
                           ec.message());
  if (setenv("KVB_CALLGRIND_DIR", dir.c_str(), 1) != 0)
    return Status::FromErrno(errno, "setenv");
  std::vector<std::string> cmd =
      CallgrindCommand(self.string(), args, dir.string());
  std::vector<char*> argv;
  for (std::string& a : cmd) argv.push_back(a.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  return Status::FromErrno(errno, "exec valgrind");
}

PhaseCounter::PhaseCounter(Mode mode, size_t threads)
    : mode_(mode), slots_(threads) {
  // Dumps hold the costs since the previous dump or zeroing: start clean.
  if (mode_ == Mode::kCallgrind) CALLGRIND_ZERO_STATS;
}

PhaseCounter::~PhaseCounter() {
  for (Slot& s : slots_) {
    if (s.fd >= 0) close(s.fd);
  }
}

void PhaseCounter::ThreadBegin(size_t t) {
  if (mode_ == Mode::kCallgrind) {
    CALLGRIND_TOGGLE_COLLECT;  // per thread: on for this worker only
  } else if (mode_ == Mode::kPerf) {
    Slot& s = slots_[t];
    Result<int> fd = OpenInstructionCounter();
    if (!fd.ok()) {
      s.status = fd.status();
      return;
    }
    s.fd = *fd;
    ioctl(s.fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(s.fd, PERF_EVENT_IOC_ENABLE, 0);
  }
}

void PhaseCounter::ThreadEnd(size_t t) {
  if (mode_ == Mode::kCallgrind) {
    CALLGRIND_TOGGLE_COLLECT;
  } else if (mode_ == Mode::kPerf) {
    Slot& s = slots_[t];
    if (s.fd < 0) return;
    ioctl(s.fd, PERF_EVENT_IOC_DISABLE, 0);
    uint64_t v = 0;
    if (read(s.fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) {
      s.status = Status::FromErrno(errno, "read instruction counter");
    }
    s.count = v;
    close(s.fd);
    s.fd = -1;
  }
}

Result<uint64_t> PhaseCounter::Finish(const std::string& label) {
  if (mode_ == Mode::kCallgrind) {
    CALLGRIND_DUMP_STATS_AT(label.c_str());
    return ReadDump(DumpPrefix(), label);
  }
  uint64_t total = 0;
  for (const Slot& s : slots_) {
    if (!s.status.ok()) return s.status;
    total += s.count;
  }
  return total;
}

}  // namespace kvb::icount
