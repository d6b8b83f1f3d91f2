#include "harness/io_counters.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace kvb::io {
namespace {

std::atomic<uint64_t> g_fsyncs{0}, g_fdatasyncs{0}, g_msyncs{0}, g_range_syncs{0};

// Reads "name: value" lines of /proc/self/io; false if unreadable.
bool ReadProcIo(Counters* c) {
  std::FILE* f = std::fopen("/proc/self/io", "r");
  if (f == nullptr) return false;
  char name[64];
  unsigned long long value;
  while (std::fscanf(f, "%63[^:]: %llu\n", name, &value) == 2) {
    if (std::strcmp(name, "syscw") == 0) c->write_calls = value;
    if (std::strcmp(name, "wchar") == 0) c->write_bytes = value;
    if (std::strcmp(name, "write_bytes") == 0) c->device_bytes = value;
  }
  std::fclose(f);
  return true;
}

}  // namespace

Counters Read() {
  Counters c;
  c.proc_io = ReadProcIo(&c);
  c.fsyncs = g_fsyncs.load(std::memory_order_relaxed);
  c.fdatasyncs = g_fdatasyncs.load(std::memory_order_relaxed);
  c.msyncs = g_msyncs.load(std::memory_order_relaxed);
  c.range_syncs = g_range_syncs.load(std::memory_order_relaxed);
  return c;
}

Counters Delta(const Counters& a, const Counters& b) {
  auto d = [](uint64_t x, uint64_t y) { return y > x ? y - x : 0; };
  Counters c;
  c.proc_io = a.proc_io && b.proc_io;
  c.write_calls = d(a.write_calls, b.write_calls);
  c.write_bytes = d(a.write_bytes, b.write_bytes);
  c.device_bytes = d(a.device_bytes, b.device_bytes);
  c.fsyncs = d(a.fsyncs, b.fsyncs);
  c.fdatasyncs = d(a.fdatasyncs, b.fdatasyncs);
  c.msyncs = d(a.msyncs, b.msyncs);
  c.range_syncs = d(a.range_syncs, b.range_syncs);
  return c;
}

}  // namespace kvb::io

// The counting definitions. Each is the system call itself (syscall(2) sets
// errno the same way), so behaviour is unchanged apart from the count.
extern "C" {
int fsync(int fd) {
  kvb::io::g_fsyncs.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(syscall(SYS_fsync, fd));
}
int fdatasync(int fd) {
  kvb::io::g_fdatasyncs.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(syscall(SYS_fdatasync, fd));
}
int syncfs(int fd) {
  kvb::io::g_fsyncs.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(syscall(SYS_syncfs, fd));
}
int msync(void* addr, size_t length, int flags) {
  kvb::io::g_msyncs.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(syscall(SYS_msync, addr, length, flags));
}
int sync_file_range(int fd, off64_t offset, off64_t nbytes,
                    unsigned int flags) {
  kvb::io::g_range_syncs.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(syscall(SYS_sync_file_range, fd, offset, nbytes, flags));
}
}
