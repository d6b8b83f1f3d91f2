#include "harness/probes.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

namespace kvb::probes {

namespace fs = std::filesystem;

double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

uint64_t PeakRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

uint64_t CurrentRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

static uint64_t StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0)
      return std::strtoull(line.c_str() + n, nullptr, 10);
  }
  return 0;
}

static std::atomic<bool> g_peak_reset{false};

bool ResetPeakRss() {
#ifdef __GLIBC__
  // Without this, heap freed by the previous repetition stays resident and
  // counts towards the next one's peak.
  malloc_trim(0);
#endif
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && write(fd, "5", 1) == 1;
  if (fd >= 0) close(fd);
  ok = ok && StatusKb("VmHWM:") > 0;
  g_peak_reset.store(ok);
  return ok;
}

uint64_t RepetitionPeakRssBytes() {
  if (g_peak_reset.load()) {
    uint64_t kb = StatusKb("VmHWM:");
    if (kb > 0) return kb * 1024;
  }
  return PeakRssBytes();
}

std::string PeakRssMethod() {
  if (ResetPeakRss()) {
    return "VmHWM per repetition (reset through /proc/self/clear_refs)";
  }
  return "ru_maxrss (process-wide peak, never decreasing: "
         "/proc/self/clear_refs "
         "not writable)";
}

template <typename Fn>
static Status ForEachFile(const std::string& dir, Fn fn) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return Status::IOError("cannot list " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::IOError("cannot list " + dir + ": " + ec.message());
    if (it->is_regular_file(ec)) fn(it->path().string());
  }
  return Status::OK();
}

Status EvictFromPageCache(const std::string& dir, EvictResult* out) {
  out->method = "posix_fadvise(DONTNEED) per file after fsync";
  Status first_error;
  Status s = ForEachFile(dir, [&](const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    fstat(fd, &st);
    fsync(fd);  // dirty pages cannot be dropped
    int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (rc != 0 && first_error.ok())
      first_error = Status::FromErrno(rc, "posix_fadvise " + path);
    close(fd);
    ++out->files;
    out->bytes += static_cast<uint64_t>(st.st_size);
  });
  KVB_RETURN_IF_ERROR(s);
  return first_error;
}

double ResidentFraction(const std::string& dir) {
  uint64_t pages = 0, resident = 0;
  long page = sysconf(_SC_PAGESIZE);
  Status s = ForEachFile(dir, [&](const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = mmap(nullptr, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
      if (p != MAP_FAILED) {
        size_t n = (st.st_size + page - 1) / page;
        std::vector<unsigned char> vec(n);
        if (mincore(p, st.st_size, vec.data()) == 0) {
          for (unsigned char c : vec) resident += c & 1;
          pages += n;
        }
        munmap(p, st.st_size);
      }
    }
    close(fd);
  });
  if (!s.ok()) return -1;
  return pages ? static_cast<double>(resident) / pages : 0.0;
}

static std::string FsTypeName(long type) {
  switch (static_cast<unsigned long>(type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794c7630:
      return "overlayfs";
    case 0x858458f6:
      return "ramfs";
    case 0x2fc12fc1:
      return "zfs";
    case 0x6969:
      return "nfs";
    case 0x65735546:
      return "fuse";
    case 0xF2F52010:
      return "f2fs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(type));
      return buf;
    }
  }
}

static std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

FsInfo DescribeFileSystem(const std::string& path) {
  FsInfo info;
  // The path may not exist yet: describe its nearest existing ancestor.
  fs::path p = fs::absolute(path);
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec) && p != p.root_path())
    p = p.parent_path();
  struct statfs sfs {};
  if (statfs(p.c_str(), &sfs) == 0) info.fs_type = FsTypeName(sfs.f_type);
  struct stat st {};
  if (stat(p.c_str(), &st) != 0) return info;
  std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
                    std::to_string(minor(st.st_dev));
  fs::path real = fs::canonical(sys, ec);
  if (ec) return info;
  info.device = real.filename().string();
  // A partition has no queue/; its parent disk does.
  std::string rot = ReadLine((real / "queue/rotational").string());
  if (rot.empty())
    rot = ReadLine((real.parent_path() / "queue/rotational").string());
  if (!rot.empty()) info.rotational = rot == "1" ? 1 : 0;
  return info;
}

std::string ColdCacheCaveat(const std::string& path) {
  const std::string type = DescribeFileSystem(path).fs_type;
  if (type == "tmpfs" || type == "ramfs") {
    return "--cache-state cold: " + path + " is on " + type +
           ", whose files live in the page cache: dropping caches cannot "
           "make reads cold there (see resident_at_run_start)";
  }
  if (type == "overlayfs") {
    return "--cache-state cold: " + path +
           " is on overlayfs: eviction may not reach the lower file system's "
           "pages, reads may stay warm (see resident_at_run_start)";
  }
  return "";
}

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::IOError("cannot remove " + path + ": " + ec.message());
  return Status::OK();
}

}  // namespace kvb::probes
