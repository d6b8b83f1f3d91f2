// kvb::powerloss driver — records one workload run per engine under the shim
// and judges the state a power cut would leave at many points of it.
//
// Per engine spec: a fresh directory WORK/<n>/db is created (empty: the
// initial snapshot, durable by definition), the workload (workload.h) runs in
// a child process (this executable with --child, LD_PRELOAD=shim,
// KVB_POWERLOSS_DIR=db, KVB_POWERLOSS_LOG=WORK/<n>/log), and the log is read.
// Cut points: the end of the log; up to a third of the budget just before
// directory fsyncs (spread evenly; the most directory changes are pending
// then); the rest drawn with the seed, half right after an ack record (where
// an unsynced acknowledged op is most exposed), half uniform over the log. The model (model.h) replays the log once; at
// each point it materialises WORK/<n>/point, the adapter is opened there and
// CheckState (workload.h) judges every key. A point whose adapter does not
// open is `open_failed` (`open_failed_during_create` when the cut is before
// the child's first Open returned).
#ifndef KVB_CRASH_POWERLOSS_DRIVER_H_
#define KVB_CRASH_POWERLOSS_DRIVER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "crash/powerloss/model.h"
#include "crash/powerloss/workload.h"

namespace kvb::powerloss {

struct DriverOptions {
  WorkloadOptions workload;
  uint32_t points = 50;
  ModelOptions model;
  std::string work_dir;   // scratch; one subdirectory per engine
  std::string shim_path;  // libkvb_powerloss_shim.so
  std::string child_exe;  // an executable that accepts --child (main.cc)
  int child_timeout_s = 120;
};

struct EngineResult {
  std::string spec;
  uint64_t log_records = 0;
  uint64_t acks = 0;  // workload acks in the log
  uint64_t points = 0;
  uint64_t violating_points = 0;
  std::map<std::string, uint64_t> violations;  // class -> count (keys)
  std::vector<std::string> examples;   // "point P (record R, A acked): ..."
  std::vector<std::string> anomalies;  // from the model
  std::vector<std::string> shared_mappings;       // writable MAP_SHARED files
  std::map<std::string, uint64_t> record_counts;  // by record type
  std::string kept_point_dir;  // the first violating point's directory
  double seconds = 0;
};

// Runs one engine. Errors (not violations): the child failed or timed out,
// the log is unreadable, a scratch directory cannot be made.
Result<EngineResult> RunEngine(const DriverOptions& options,
                               const std::string& spec);

// The JSON summary of a run: options, and per engine its result.
std::string SummaryJson(const DriverOptions& options,
                        const std::vector<EngineResult>& results,
                        const std::vector<std::string>& errors);

// Runs `command` (argv; [0] is an executable path) with the shim preloaded,
// watching `root` and logging to `log`, and waits up to `timeout_s`.
// IOError if it cannot start, times out (then it is killed) or exits non-zero.
Status RunUnderShim(const std::string& shim,
                    const std::vector<std::string>& command,
                    const std::string& root, const std::string& log,
                    int timeout_s);

// Indices of the fsync records of directory descriptors (the root, or a path
// the log mkdir'ed).
std::vector<uint64_t> DirectorySyncPoints(const Log& log);

// Sorted distinct cut points in [1, records] (see above).
std::vector<uint64_t> ChooseCutPoints(const Log& log, uint32_t count,
                                      uint64_t seed);

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_DRIVER_H_
