// Resource probes: CPU time, memory, page-cache eviction, file-system facts.
// Thread safety: every function may be called from any thread.
#ifndef KVB_HARNESS_PROBES_H_
#define KVB_HARNESS_PROBES_H_

#include <cstdint>
#include <string>

#include "core/status.h"

namespace kvb::probes {

// User + system CPU seconds of the whole process (getrusage RUSAGE_SELF):
// includes engine background threads (compaction), which client-side latency
// does not show.
double ProcessCpuSeconds();
// Peak resident set of the process so far (ru_maxrss). Process-wide and never
// decreasing.
uint64_t PeakRssBytes();
// Current VmRSS from /proc/self/status (0 if unreadable).
uint64_t CurrentRssBytes();

// Per-repetition peak RSS. ResetPeakRss returns freed heap memory to the
// kernel (malloc_trim) and writes "5" to /proc/self/clear_refs, which resets
// VmHWM to the current RSS (Linux >= 4.0); false if that file is not writable.
// RepetitionPeakRssBytes is VmHWM when the last reset worked, else ru_maxrss
// (process-wide, never decreasing). PeakRssMethod says which applies here (it
// tries one reset).
bool ResetPeakRss();
uint64_t RepetitionPeakRssBytes();
std::string PeakRssMethod();

struct EvictResult {
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::string method;  // "posix_fadvise(DONTNEED)"
};
// Syncs each regular file under `dir` and asks the kernel to drop its cached
// pages (posix_fadvise DONTNEED works on clean pages only, hence the fsync
// first). Per file, so it does not disturb other processes the way
// /proc/sys/vm/drop_caches would.
Status EvictFromPageCache(const std::string& dir, EvictResult* out);
// Fraction of the bytes of files under `dir` resident in the page cache
// (mincore), or -1.
double ResidentFraction(const std::string& dir);

struct FsInfo {
  std::string fs_type;  // "ext4", "tmpfs", ... or "0x..." if unknown
  std::string device;   // "vda1" or "" if unknown
  int rotational = -1;  // 1, 0, or -1 unknown
};
FsInfo DescribeFileSystem(const std::string& path);

// Empty, or a one-line warning that --cache-state cold cannot make reads of
// files under `path` cold: tmpfs and ramfs keep files in the page cache, and
// on overlayfs eviction may not reach the lower layer's pages.
std::string ColdCacheCaveat(const std::string& path);

// Recursively removes `path` (file or directory); OK if absent.
Status RemoveTree(const std::string& path);

}  // namespace kvb::probes

#endif  // KVB_HARNESS_PROBES_H_
