// Runs one repetition of a point in a child process inside a memory cgroup
// (`kvbench run --memory-limit SIZE`), so that the engine's RSS and the page
// cache its files bring in are capped together, as on a machine with that
// much memory.
//
// Per repetition: a new group (harness/cgroup.h) with the limit; fork(); the
// parent moves the child into the group before the child does anything; the
// child runs Runner::RunOnce and writes its benchmarks[] entry (RepToJson) to
// a pipe, then _exit(0); the parent reads it back (RepFromJson), adds the
// group's figures (peak, OOM kills) and removes the group. A child that dies
// (OOM-killed, a signal, a non-zero exit, no result) becomes a failed
// repetition saying so, never a crash of kvbench.
//
// The caller must have no other threads running (fork copies only the calling
// thread); the runner joins its threads after every phase. Thread safety: one
// call at a time.
#ifndef KVB_HARNESS_ISOLATE_H_
#define KVB_HARNESS_ISOLATE_H_

#include "core/result.h"
#include "harness/runner.h"

namespace kvb {

// Checks once, before a run starts, that a group with the limit can be made
// (and removes it): the one-line error to refuse the run with otherwise.
[[nodiscard]] Status CheckMemoryLimit(uint64_t limit_bytes);

// One repetition in a capped child (settings.memory_limit > 0). Errors of the
// point's setup and deaths of the child come back as a failed RepResult; a
// non-OK Status means the cap itself could not be applied (nothing ran).
[[nodiscard]] Result<RepResult> RunInMemoryCgroup(const RunSettings& settings,
                                                  const PointSpec& point,
                                                  int repetition);

}  // namespace kvb

#endif  // KVB_HARNESS_ISOLATE_H_
