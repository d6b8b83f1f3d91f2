// kvb::MemoryCgroup — a memory cgroup that caps one child process's memory:
// its anonymous memory (RSS) and the page cache it brings in, together
// (`kvbench run --memory-limit`, harness/isolate.h).
//
// Where the memory controller lives decides the version (/proc/self/mountinfo):
//   v2: a cgroup2 mount whose cgroup.controllers lists `memory`. The group is
//       made under kvbench's own cgroup when that cgroup already hands the
//       controller to its children (its cgroup.subtree_control lists memory),
//       else under the hierarchy's root as kvbench-<pid>-<n> (enabling +memory
//       in the root's subtree_control if needed; a non-root cgroup that holds
//       processes may not, the "no internal processes" rule). Limits:
//       memory.max = limit, memory.swap.max = 0 (where swap accounting exists),
//       memory.oom.group = 1.
//   v1: otherwise, a v1 `cgroup` mount with the memory controller; the group is
//       made under kvbench's own memory cgroup. Limits: memory.limit_in_bytes,
//       and memory.memsw.limit_in_bytes = the same (RAM + swap) where present.
// Groups are named kvbench-<pid>-<n>; Create first removes such groups whose
// kvbench is gone (one killed while a point ran cannot remove its own).
// Failures are clear one-line errors (not root, no memory controller,
// read-only cgroupfs): the caller must never run uncapped instead.
//
// For tests, KVB_CGROUP_ROOT=DIR makes DIR the v2 hierarchy's root and
// kvbench's own cgroup (a plain temporary directory is refused as "not a
// cgroup v2 hierarchy").
//
// Thread safety: one object per group; not shared between threads.
#ifndef KVB_HARNESS_CGROUP_H_
#define KVB_HARNESS_CGROUP_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace kvb {

// "512M", "2G", "1536MiB", "4096" (bytes); binary units K, M, G, T (an
// optional "iB" or "B" after the letter). At least 16 MiB. Errors name
// `what` ("--memory-limit: ...").
[[nodiscard]] Result<uint64_t> ParseMemorySize(std::string_view text,
                                               std::string_view what);
// 536870912 -> "512 MiB", 1610612736 -> "1.5 GiB".
std::string FormatMemorySize(uint64_t bytes);

// What a group's files say (read at any time; -1 = the file is absent).
struct CgroupMemoryFigures {
  int64_t current_bytes = -1;  // memory.current | memory.usage_in_bytes
  // memory.peak | memory.max_usage_in_bytes: the high-water mark of the
  // group's charge since it was made.
  int64_t peak_bytes = -1;
  int64_t file_bytes = -1;  // page cache charged: memory.stat file | cache
  int64_t anon_bytes = -1;  // memory.stat anon | rss
  int64_t oom_kills = -1;   // memory.events oom_kill | memory.oom_control
};

// Enough to read a group's figures in another process (the child of a fork).
struct CgroupRef {
  std::string dir;  // empty: no group
  int version = 0;  // 1 or 2
  // Reads the figures above from dir.
  CgroupMemoryFigures Read() const;
};

class MemoryCgroup {
 public:
  // Makes a new group with `limit_bytes` as its memory limit (see above).
  [[nodiscard]] static Result<MemoryCgroup> Create(uint64_t limit_bytes);
  MemoryCgroup(MemoryCgroup&& other) noexcept;
  MemoryCgroup& operator=(MemoryCgroup&& other) noexcept;
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;
  ~MemoryCgroup();  // Remove(), errors ignored

  // Moves process `pid` into the group (cgroup.procs).
  [[nodiscard]] Status AddProcess(pid_t pid) const;
  CgroupMemoryFigures Read() const { return ref_.Read(); }
  // Removes the group (rmdir; its processes must have exited). Idempotent.
  [[nodiscard]] Status Remove();

  const CgroupRef& ref() const { return ref_; }
  uint64_t limit_bytes() const { return limit_; }
  // "v2" or "v1".
  std::string version_name() const { return "v" + std::to_string(ref_.version); }
  // Whether swap is capped too (memory.swap.max = 0 / memsw), or only RAM
  // because the kernel accounts no swap here.
  bool swap_capped() const { return swap_capped_; }
  // Which file the peak comes from ("memory.peak", "memory.max_usage_in_bytes").
  std::string peak_source() const;

 private:
  MemoryCgroup() = default;
  CgroupRef ref_;
  uint64_t limit_ = 0;
  bool swap_capped_ = false;
};

}  // namespace kvb

#endif  // KVB_HARNESS_CGROUP_H_
