// kvb::Runner — runs one engine × workload × parameter point × repetition and
// measures it.
//
// Per repetition (see results/SCHEMA.md for the recorded fields):
//   1. a fresh directory under the data dir (or, with reuse, a loaded one kept
//      from before; the harness's record of it lies beside it, DIR.kvbench-reuse);
//   2. open, load phase (all threads, each loading its share of ids once), sync;
//   3. for workloads that ask: close, reopen (timed: reopen_ms);
//   4. warm-up (same op mix, not recorded), then for cache_state=cold: close,
//      evict every file of the database from the page cache, reopen;
//   5. the measured phase: closed loop, or open loop at target_rate (latency
//      then counts from each op's intended start, correcting coordinated
//      omission);
//   6. sync, close, bytes on disk (allocated blocks), logical bytes, space
//      amplification;
//   7. for workloads that ask: reopen and check every key (verify phase);
//   8. remove the directory unless keep_data / reuse.
// Every read is checked (value codec + version tracker) except on the null
// adapter, which stores nothing. Errors never abort a run: they are counted and
// the first messages kept. Thread safety: one Runner runs one point at a time.
#ifndef KVB_HARNESS_RUNNER_H_
#define KVB_HARNESS_RUNNER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adapters/adapter.h"
#include "core/result.h"
#include "harness/cgroup.h"
#include "harness/icount.h"
#include "harness/io_counters.h"
#include "workloads/workload.h"

namespace kvb {

struct RunSettings {
  std::string data_dir;
  bool keep_data = false;
  bool reuse = false;
  bool cold_cache = false;
  double target_rate = 0;  // total ops/s over all threads; 0 = closed loop
  uint64_t warmup_ops = 0;
  double warmup_seconds = 0;
  bool progress = false;  // draw a progress line on stderr for long phases
  // Time 1 op in this many (a power of two; 1 = every op). Timestamps cost ~30
  // ns each on this VM, so the harness's own ceiling rises from ~13 M to ~40 M
  // ops/s per thread with 16; throughput counts every op either way.
  uint32_t latency_sample = 1;
  // Check every read (values self-verify against the version tracker). Off is
  // db_bench's mode: reads are not checked and read paths touch no per-key
  // harness state (writes still record versions, for the logical-bytes
  // figure). Key sets bigger than a few MB are spelled per op either way
  // (KeySet::StorageFor). For comparisons with harnesses that do not verify.
  bool verify = true;
  // Count the instructions of the primary phase's worker threads
  // (harness/icount.h); kCallgrind needs the process to run under callgrind.
  icount::Mode count_instructions = icount::Mode::kOff;
  std::string count_instructions_note;  // how auto decided (for the context)
  // Repetition r > 0 runs with its own seed, StreamSeed(seed, r), recorded in
  // its params (rep 0 keeps the workload's seed, so `--seed S --repetitions 1`
  // reproduces any repetition). Off with `reuse`: the reused database was
  // loaded with one seed.
  bool seed_per_repetition = true;
  // The run's schedule (harness/cli.cc MakeSchedule): interleaved rounds in an
  // order shuffled with order_seed, or each point's repetitions back to back.
  bool interleave = true;
  uint64_t order_seed = 0;
  // --memory-limit: each point runs in a child process inside a memory cgroup
  // of this many bytes (harness/isolate.h); 0 = in this process, uncapped.
  uint64_t memory_limit = 0;
  // Set in that child: its group, read at the end of the measured phase.
  CgroupRef memory_cgroup;
  // Test seam: opens each repetition's adapter (default: OpenAdapter), so the
  // harness's tests can observe what the runner hands an engine.
  std::function<Result<std::unique_ptr<Adapter>>(const std::string& spec,
                                                 const std::string& dir)>
      open_adapter;
};

struct PointSpec {
  std::string engine_spec;  // "rocksdb:cache_mb=256"
  std::string workload;     // preset name
  // Parameter overrides applied in order (suite first, then command line);
  // "threads" is one.
  std::vector<std::pair<std::string, std::string>> params;
  int repetitions = 1;
};

struct LatencySummary {
  uint64_t count = 0;
  double mean_ns = 0, min_ns = 0, p50_ns = 0, p90_ns = 0, p99_ns = 0,
         p999_ns = 0, p9999_ns = 0, max_ns = 0;
  // The whole histogram for later percentiles: [lo_ns, hi_ns) and a count per
  // non-empty bucket, each at most 1/128 of its lower bound wide (results/
  // SCHEMA.md "histogram").
  struct Bucket {
    double lo_ns, hi_ns;
    uint64_t count;
  };
  std::vector<Bucket> buckets;
};

// The threads of one role in a phase (per-thread roles: a workload's roles,
// or read-while-writing's reader and writer).
struct RoleResult {
  uint32_t threads = 0;
  uint64_t ops = 0;
  // From the phase's start to the role's last thread's end.
  double wall_s = 0;
  double target_rate = 0;  // ops/s the role was paced at; 0 = closed loop
  std::map<std::string, LatencySummary> latency;  // by op type
  double ops_per_s() const { return wall_s > 0 ? ops / wall_s : 0; }
};

struct PhaseResult {
  std::string name;  // load, warmup, run, verify
  uint64_t ops = 0;
  double wall_s = 0;
  double cpu_s = 0;
  uint64_t rss_end_bytes = 0;
  uint64_t errors = 0;
  std::map<std::string, LatencySummary> latency;  // by op type
  std::vector<uint64_t> ops_per_second;  // throughput time series, 1 s buckets
  std::map<std::string, RoleResult> roles;  // by role, when threads have roles
  // What the process asked of the kernel during the phase (harness/
  // io_counters.h): write calls, bytes, device bytes, flushes.
  io::Counters io;
  double ops_per_s() const { return wall_s > 0 ? ops / wall_s : 0; }
};

struct VerifyCounts {
  bool enabled = true;
  uint64_t verified = 0;  // reads checked and correct
  // Absent although a write of it had returned and none followed.
  uint64_t missing = 0;
  uint64_t stale = 0;      // an older version than the newest returned write
  uint64_t wrong_key = 0;  // a well-formed value of another key
  uint64_t corrupt = 0;    // torn, truncated or flipped value
  uint64_t unknown_version = 0;  // a version never written
  // Absent, and legitimately so (deleted, never written, in flight).
  uint64_t absent_ok = 0;
  uint64_t mismatches() const {
    return stale + wrong_key + corrupt + unknown_version;
  }
  void Add(const VerifyCounts& o);
};

// --memory-limit: what the point's memory cgroup recorded (-1 = unknown).
struct MemoryCapResult {
  uint64_t limit_bytes = 0;  // 0: the point was not capped
  std::string cgroup;        // "v2" or "v1"
  bool swap_capped = false;  // swap limited to 0 too (else RAM only)
  int64_t peak_bytes = -1;   // the group's high-water mark over the point
  std::string peak_source;   // "memory.peak" | "memory.max_usage_in_bytes"
  int64_t oom_kills = -1;
  // Read by the child at the end of the measured phase: the whole charge, its
  // page cache share and its anonymous (RSS) share.
  int64_t run_end_bytes = -1, run_end_file_bytes = -1, run_end_anon_bytes = -1;
};

struct RepResult {
  PointSpec point;
  std::string name;  // workload/engine/keys:N/threads:T
  int repetition = 0;
  uint64_t run_order = 0;  // position in the run's schedule (0 = first)
  std::string engine;      // registry name
  std::string engine_spec;
  std::string workload;
  std::map<std::string, std::string> params;  // every parameter, resolved
  // The durability class the adapter ran at (core/durability.h text) and the
  // engine settings its table gives for it; every adapter option, defaults
  // filled in (what the engine was opened with).
  std::string durability;
  std::string durability_settings;
  std::map<std::string, std::string> engine_options;
  // Whether `kvbench crash` checked exactly these engine options on this
  // build (harness/crash_ledger.h); filled in by the CLI. `looked` false: no
  // ledger was consulted.
  struct CrashCheck {
    bool looked = false, checked = false;
    uint64_t runs = 0, trials = 0, failed_trials = 0, violations = 0;
    std::string last_date, ledger;
  } crash_check;
  uint32_t threads = 1;
  std::vector<PhaseResult> phases;
  std::string primary_phase;  // which phase real_time/items_per_second describe
  int64_t bytes_on_disk = -1;   // engine data after close (info logs excluded)
  int64_t info_log_bytes = -1;  // the engine's info logs (Adapter::IsInfoLog)
  uint64_t logical_bytes = 0;
  double space_amp = 0;
  uint64_t peak_rss_bytes = 0;      // VmHWM of this repetition (or ru_maxrss)
  int64_t instructions = -1;        // of the primary phase; -1 = not counted
  std::string instruction_counter;  // "perf" or "callgrind" when counted
  // The whole repetition: generation, phases, closes, cleanup.
  double total_s = 0;
  double reopen_ms = -1;
  double verify_reopen_ms = -1;
  // The engine state the measured phase started from (params.state), the
  // time Settle() took for `settled` (-1: not settled), and the adapter's
  // StateFigures() as the measured phase started.
  std::string engine_state;
  double settle_ms = -1;
  std::map<std::string, double> state_figures;
  VerifyCounts verify;
  uint64_t errors = 0;
  std::vector<std::string> error_messages;  // the first few
  std::vector<std::string> notes;
  std::map<std::string, double> engine_stats;
  std::string cache_eviction;  // how cold cache was made, if it was
  double resident_after_evict = -1;
  // Fraction of the database files' bytes in the page cache (mincore) as the
  // measured phase starts; -1 = not measured (not persistent, no run phase).
  double resident_at_run_start = -1;
  MemoryCapResult memory_cap;
  bool skipped = false;
  std::string skip_reason;

  const PhaseResult* Phase(const std::string& n) const;
  bool failed() const {
    return errors > 0 || verify.mismatches() > 0 || verify.missing > 0;
  }
};

// The benchmark name of a point:
// "ycsb-b/rocksdb:cache_mb=64/keys:100000/threads:2".
std::string BenchmarkName(const std::string& workload,
                          const std::string& engine_spec, uint64_t keys,
                          uint32_t threads);

class Runner {
 public:
  explicit Runner(RunSettings settings);
  // Resolves the workload (preset + params) and checks the engine spec, without
  // running.
  Status Check(const PointSpec& point) const;
  // Runs one repetition. Errors of the engine are recorded in the result; a
  // non-OK Status means the point could not be set up (bad spec, unwritable
  // directory).
  Result<RepResult> RunOnce(const PointSpec& point, int repetition);

 private:
  RunSettings settings_;
};

// A repetition whose point could not be set up or whose process died: named
// like the point, with `why` as its one error.
RepResult FailedRepetition(const PointSpec& point, int repetition,
                           const Status& why);

// Resolves a point's workload: the preset with the params applied, validated.
Result<WorkloadSpec> ResolveWorkload(const PointSpec& point);

}  // namespace kvb

#endif  // KVB_HARNESS_RUNNER_H_
