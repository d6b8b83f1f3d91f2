#include "harness/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "core/strings.h"

namespace kvb {
namespace {

constexpr uint64_t kMinLimit = uint64_t{16} << 20;

// ---- Small file helpers ----------------------------------------------------

bool Exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// The whole file, or an error naming it.
Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::FromErrno(errno, path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` with one write(2), as cgroupfs wants; the errno on failure.
Status WriteText(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return Status::FromErrno(n < 0 ? err : EIO,
                             "write '" + text + "' to " + path);
  }
  return Status::OK();
}

int64_t ReadNumber(const std::string& path) {
  Result<std::string> t = ReadText(path);
  if (!t.ok()) return -1;
  // "max" (no limit) is not a figure.
  char* end = nullptr;
  long long v = std::strtoll(t->c_str(), &end, 10);
  return end == t->c_str() ? -1 : static_cast<int64_t>(v);
}

// The value of `key` in a "key value" per line file (memory.stat,
// memory.events, memory.oom_control), or -1.
int64_t ReadKeyed(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  long long v = 0;
  while (in >> k >> v) {
    if (k == key) return static_cast<int64_t>(v);
  }
  return -1;
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

// A file's words on one line ("cpu io\n" -> "cpu io"), for messages.
std::string OneLine(const std::string& text) {
  std::istringstream in(text);
  std::string w, out;
  while (in >> w) out += (out.empty() ? "" : " ") + w;
  return out;
}

// ---- Where the memory controller is ---------------------------------------

struct Mount {
  std::string root;   // the cgroup mounted there ("/" usually)
  std::string point;  // where ("/sys/fs/cgroup")
};

struct Hierarchies {
  bool has_v2 = false, has_v1_memory = false;
  Mount v2, v1_memory;
};

Hierarchies FindMounts() {
  Hierarchies h;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, dev, root, point, fstype, source, super;
    pre >> id >> parent >> dev >> root >> point;
    post >> fstype >> source >> super;
    if (fstype == "cgroup2" && !h.has_v2) {
      h.has_v2 = true;
      h.v2 = {root, point};
    } else if (fstype == "cgroup" && !h.has_v1_memory) {
      for (const std::string& opt : SplitList(super)) {
        if (opt == "memory") {
          h.has_v1_memory = true;
          h.v1_memory = {root, point};
        }
      }
    }
  }
  return h;
}

// This process's cgroup path in the v2 hierarchy ("0::/a/b") or in the v1
// hierarchy holding the memory controller ("4:memory:/a/b").
std::string OwnCgroupPath(bool v2) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    bool match = false;
    if (v2) {
      match = line.compare(0, a, "0") == 0 && controllers.empty();
    } else {
      for (const std::string& c : SplitList(controllers))
        match = match || c == "memory";
    }
    if (match) return line.substr(b + 1);
  }
  return "/";
}

// The directory of cgroup `path` under `m`.
std::string DirOf(const Mount& m, const std::string& path) {
  std::string rel = path;
  if (m.root != "/" && rel.rfind(m.root, 0) == 0) {
    rel = rel.substr(m.root.size());
  } else if (m.root != "/") {
    rel = "/";  // outside the mounted subtree: its top is all we see
  }
  if (rel.empty() || rel == "/") return m.point;
  return m.point + rel;
}

// Makes sure `dir`'s children get the memory controller.
Status EnableMemoryBelow(const std::string& dir) {
  Result<std::string> sub = ReadText(dir + "/cgroup.subtree_control");
  if (!sub.ok()) return sub.status();
  if (HasWord(*sub, "memory")) return Status::OK();
  return WriteText(dir + "/cgroup.subtree_control", "+memory");
}

// A person's reading of why a cgroup operation failed.
std::string Why(const Status& s) {
  switch (s.sys_errno()) {
    case EACCES:
    case EPERM:
      return std::string(s.message()) +
             " (memory cgroups need root, or a cgroup delegated to this user)";
    case EROFS:
      return std::string(s.message()) + " (the cgroup file system is read-only)";
    case EBUSY:
      return std::string(s.message()) +
             " (a cgroup holding processes cannot hand controllers to "
             "children)";
    default:
      return std::string(s.message());
  }
}

Status Refuse(const std::string& what) {
  return Status::NotSupported("--memory-limit: " + what);
}

// The v2 group's parent: kvbench's own cgroup where it already delegates the
// memory controller, else the hierarchy's root.
Result<std::string> V2Parent(const std::string& top, const std::string& own) {
  Result<std::string> ctl = ReadText(top + "/cgroup.controllers");
  if (!ctl.ok()) {
    return Refuse("not a cgroup v2 hierarchy: " + Why(ctl.status()));
  }
  if (!HasWord(*ctl, "memory")) {
    return Refuse("no memory controller in the cgroup v2 hierarchy at " + top +
                  " (cgroup.controllers: '" + OneLine(*ctl) + "')");
  }
  if (own != top) {
    Result<std::string> sub = ReadText(own + "/cgroup.subtree_control");
    if (sub.ok() && HasWord(*sub, "memory")) return own;
  }
  Status s = EnableMemoryBelow(top);
  if (!s.ok()) {
    return Refuse("cannot enable the memory controller below " + top + ": " +
                  Why(s));
  }
  return top;
}

// Removes groups left by a kvbench that died before removing them (killed
// while a point ran): kvbench-<pid>-<n> under `parent` whose pid is gone.
// rmdir fails, harmlessly, on a group that still holds processes.
void RemoveStaleGroups(const std::string& parent) {
  DIR* d = opendir(parent.c_str());
  if (d == nullptr) return;
  while (const dirent* e = readdir(d)) {
    unsigned long pid = 0;
    unsigned long n = 0;
    char tail = 0;
    if (std::sscanf(e->d_name, "kvbench-%lu-%lu%c", &pid, &n, &tail) != 2)
      continue;
    const pid_t p = static_cast<pid_t>(pid);
    if (p == getpid() || kill(p, 0) == 0 || errno != ESRCH) continue;
    (void)rmdir((parent + "/" + e->d_name).c_str());
  }
  closedir(d);
}

std::string GroupName() {
  static std::atomic<uint64_t> counter{0};
  return "kvbench-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

Result<uint64_t> ParseMemorySize(std::string_view text, std::string_view what) {
  std::string_view digits = text;
  unsigned shift = 0;
  for (std::string_view tail : {"iB", "B"}) {
    if (digits.size() > tail.size() + 1 &&
        digits.substr(digits.size() - tail.size()) == tail) {
      digits.remove_suffix(tail.size());
      break;
    }
  }
  if (!digits.empty()) {
    const char units[] = "KMGT";
    const char* u = std::strchr(units, std::toupper(
                                           static_cast<unsigned char>(digits.back())));
    if (u != nullptr && *u != '\0') {
      shift = 10 * static_cast<unsigned>(u - units + 1);
      digits.remove_suffix(1);
    }
  }
  Result<uint64_t> v = ParseUint(digits, what);
  if (!v.ok()) {
    return Status::InvalidArgument(std::string(what) +
                                   ": expected a size such as 512M or 2G, got '" +
                                   std::string(text) + "'");
  }
  if (*v > (UINT64_MAX >> 1 >> shift)) {
    return Status::InvalidArgument(std::string(what) + ": '" +
                                   std::string(text) + "' is too large");
  }
  uint64_t bytes = *v << shift;
  if (bytes < kMinLimit) {
    return Status::InvalidArgument(std::string(what) + ": '" +
                                   std::string(text) +
                                   "' is below the minimum of 16M");
  }
  return bytes;
}

std::string FormatMemorySize(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (v == static_cast<double>(static_cast<uint64_t>(v))) {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g %s", v, units[u]);
  }
  return buf;
}

CgroupMemoryFigures CgroupRef::Read() const {
  CgroupMemoryFigures f;
  if (dir.empty()) return f;
  const std::string d = dir + "/";
  if (version == 2) {
    f.current_bytes = ReadNumber(d + "memory.current");
    f.peak_bytes = ReadNumber(d + "memory.peak");
    f.file_bytes = ReadKeyed(d + "memory.stat", "file");
    f.anon_bytes = ReadKeyed(d + "memory.stat", "anon");
    f.oom_kills = ReadKeyed(d + "memory.events", "oom_kill");
  } else {
    f.current_bytes = ReadNumber(d + "memory.usage_in_bytes");
    f.peak_bytes = ReadNumber(d + "memory.max_usage_in_bytes");
    f.file_bytes = ReadKeyed(d + "memory.stat", "cache");
    f.anon_bytes = ReadKeyed(d + "memory.stat", "rss");
    f.oom_kills = ReadKeyed(d + "memory.oom_control", "oom_kill");
  }
  return f;
}

Result<MemoryCgroup> MemoryCgroup::Create(uint64_t limit_bytes) {
  MemoryCgroup g;
  g.limit_ = limit_bytes;
  std::string parent;
  const char* test_root = std::getenv("KVB_CGROUP_ROOT");
  Hierarchies h = FindMounts();
  if (test_root != nullptr && *test_root != '\0') {
    KVB_ASSIGN_OR_RETURN(parent, V2Parent(test_root, test_root));
    g.ref_.version = 2;
  } else if (h.has_v2 && Exists(h.v2.point + "/cgroup.controllers") &&
             HasWord(ReadText(h.v2.point + "/cgroup.controllers").value_or(""),
                     "memory")) {
    KVB_ASSIGN_OR_RETURN(parent,
                         V2Parent(h.v2.point, DirOf(h.v2, OwnCgroupPath(true))));
    g.ref_.version = 2;
  } else if (h.has_v1_memory) {
    parent = DirOf(h.v1_memory, OwnCgroupPath(false));
    g.ref_.version = 1;
  } else if (h.has_v2) {
    KVB_ASSIGN_OR_RETURN(parent, V2Parent(h.v2.point, h.v2.point));
  } else {
    return Refuse("no cgroup file system with a memory controller is mounted");
  }
  RemoveStaleGroups(parent);
  g.ref_.dir = parent + "/" + GroupName();
  if (mkdir(g.ref_.dir.c_str(), 0755) != 0) {
    Status s = Status::FromErrno(errno, "mkdir " + g.ref_.dir);
    g.ref_.dir.clear();
    return Refuse("cannot create a memory cgroup: " + Why(s));
  }
  const std::string d = g.ref_.dir + "/";
  const std::string limit = std::to_string(limit_bytes);
  Status s;
  if (g.ref_.version == 2) {
    s = Exists(d + "memory.max")
            ? WriteText(d + "memory.max", limit)
            : Status::NotSupported("memory controller not enabled for " +
                                   g.ref_.dir + " (no memory.max)");
    if (s.ok() && Exists(d + "memory.swap.max")) {
      s = WriteText(d + "memory.swap.max", "0");
      g.swap_capped_ = s.ok();
    }
    if (s.ok() && Exists(d + "memory.oom.group")) {
      (void)WriteText(d + "memory.oom.group", "1");
    }
  } else {
    s = WriteText(d + "memory.limit_in_bytes", limit);
    if (s.ok() && Exists(d + "memory.memsw.limit_in_bytes")) {
      s = WriteText(d + "memory.memsw.limit_in_bytes", limit);
      g.swap_capped_ = s.ok();
    }
  }
  if (!s.ok()) return Refuse("cannot set the memory limit: " + Why(s));
  return g;
}

MemoryCgroup::MemoryCgroup(MemoryCgroup&& o) noexcept
    : ref_(std::move(o.ref_)), limit_(o.limit_), swap_capped_(o.swap_capped_) {
  o.ref_.dir.clear();
}

MemoryCgroup& MemoryCgroup::operator=(MemoryCgroup&& o) noexcept {
  if (this != &o) {
    (void)Remove();
    ref_ = std::move(o.ref_);
    limit_ = o.limit_;
    swap_capped_ = o.swap_capped_;
    o.ref_.dir.clear();
  }
  return *this;
}

MemoryCgroup::~MemoryCgroup() { (void)Remove(); }

Status MemoryCgroup::AddProcess(pid_t pid) const {
  Status s = WriteText(ref_.dir + "/cgroup.procs", std::to_string(pid));
  if (!s.ok()) return Refuse("cannot move a process into the group: " + Why(s));
  return Status::OK();
}

Status MemoryCgroup::Remove() {
  if (ref_.dir.empty()) return Status::OK();
  // An exited process can stay counted for a moment after waitpid.
  for (int attempt = 0;; ++attempt) {
    if (rmdir(ref_.dir.c_str()) == 0 || errno == ENOENT) break;
    if (errno != EBUSY || attempt >= 100) {
      Status s = Status::FromErrno(errno, "rmdir " + ref_.dir);
      ref_.dir.clear();
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ref_.dir.clear();
  return Status::OK();
}

std::string MemoryCgroup::peak_source() const {
  return ref_.version == 2 ? "memory.peak" : "memory.max_usage_in_bytes";
}

}  // namespace kvb
