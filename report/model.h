// The reading side of results files (results/SCHEMA.md): loads one or more
// files and groups the per-repetition entries (run_type "iteration") into
// points — one machine × benchmark name — with the figures the report and the
// comparison need. Aggregate entries (mean, median, ...) are ignored:
// statistics are recomputed from the repetitions. Only the results schema is
// known here, not the harness code, so kvbench and the report can evolve
// separately. Thread safety: plain data and functions.
#ifndef KVB_REPORT_MODEL_H_
#define KVB_REPORT_MODEL_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace kvb::report {

struct LatencyReps {  // one op type, one value per repetition, in ns
  std::vector<double> p50, p99, p999, p9999;  // p9999: 0 in older files
  double count = 0;                           // ops over all repetitions
};

struct Point {
  std::string machine;  // machine key (see MachineKey)
  // run_name (workload/engine_spec/keys:N/threads:T), plus " [k=v, ...]" (the
  // fields that differ) when an earlier point of the same run_name has other
  // parameters: such entries are never pooled (Dataset::notes says so).
  std::string name;
  std::string run_name;
  std::string engine, engine_spec, workload;
  int threads = 1;
  std::map<std::string, std::string> params;
  // What must be equal for two points to be compared (results/SCHEMA.md,
  // "Comparability"): every params member but `seed`, engine_spec, and the
  // run's config.settings that change what is measured. Name -> value text.
  std::map<std::string, std::string> identity;
  std::vector<double> ops_per_s;  // items_per_second of each live repetition
  std::vector<double>
      phase_s;  // wall seconds of the measured phase (iterations / ops/s)
  std::vector<double>
      cpu_ops_per_s;  // ops per process-CPU second (1e9 / cpu_time), same reps
  // Instructions per operation of the primary phase, per repetition, when the
  // harness counted them (instructions_per_op, else instructions /
  // iterations).
  std::vector<double> instructions;
  std::map<std::string, LatencyReps> latency;  // by op type
  std::vector<double> bytes_on_disk, space_amp, reopen_ms;
  // Page cache and memory cap, per repetition where recorded: the fraction of
  // the database files resident as the measured phase started
  // (resident_at_run_start), and under --memory-limit the limit, the cgroup's
  // peak and its page cache at the end of the measured phase.
  std::vector<double> resident, cgroup_peak, cgroup_file_end;
  double memory_limit = 0;
  // Workloads with per-thread roles (read-while-writing's reader and writer):
  // each role's threads, ops/s per repetition and the rate it was paced at.
  struct Role {
    int threads = 0;
    double target_rate = 0;
    std::vector<double> ops_per_s;
  };
  std::map<std::string, Role> roles;
  // peak_rss_bytes when the harness measured it per repetition
  // (context.peak_rss_method "VmHWM ..."); else the largest VmRSS at the end
  // of any phase (ru_maxrss never decreases across the engines run before this
  // one), and peak_rss_bytes only when phases are absent.
  std::vector<double> peak_rss;
  // True when every peak_rss figure is a per-repetition peak (VmHWM), not a
  // phase-end stand-in.
  bool rss_is_peak = true;
  bool persistent = true;  // false: noted "not persistent" or 0 bytes on disk
  bool verified = true;    // false when verification was off (the null adapter)
  // The durability class the entries ran at (results schema 2; "" before),
  // what it cost per op of the measured phase (io_per_op, per repetition) and
  // whether kvbench crash checked these settings on that build: "" (no
  // record), "not checked", "N trials, 0 violations" or "N trials, V
  // violations".
  std::string durability;
  // The engine state the measured phase started from ("fresh", "settled",
  // "reopened"; "" before results recorded it), Settle()'s time per
  // repetition, and the engine's state figures of the last repetition.
  std::string engine_state;
  std::vector<double> settle_ms;
  std::map<std::string, double> state_figures;
  std::vector<double> flushes_per_op, write_calls_per_op, device_bytes_per_op;
  std::string crash_checked;
  uint64_t mismatches = 0, missing = 0, errors = 0;
  int skipped = 0;
  std::string skip_reason;
  std::vector<std::string> error_messages;
  std::vector<double>
      series;  // ops/s per second of the repetition with the median throughput
  // The op type with the most operations (the one the tables headline).
  std::string MainOp() const;
  bool failed() const { return mismatches > 0 || missing > 0 || errors > 0; }
};

struct Machine {
  std::string key;
  nlohmann::json context;
};

struct Dataset {
  std::vector<Machine> machines;  // in first-seen order
  std::vector<Point> points;      // in first-seen order
  std::vector<std::string> files;
  // e.g. "read-heavy/memory/keys:10000/threads:1: entries with different
  // parameters kept apart (value_size: 100 vs 4000)".
  std::vector<std::string> notes;
  const Machine* FindMachine(const std::string& key) const;
};

// Human key of a machine: host name, or "host#2" style when two different
// contexts share a host name. A merged file's entries carry their key in a
// "machine" field.
std::string MachineKey(const nlohmann::json& context);

// The comparability fields of one benchmark entry (results/SCHEMA.md,
// "Comparability"), engine_spec aside: every params member but `seed`, and
// the compared harness settings of `settings` (the entry's own, else the
// file's config.settings). Name -> value text. Point::identity is this plus
// engine_spec; history/ keys its series on it.
std::map<std::string, std::string> ComparabilityFields(
    const nlohmann::json& entry, const nlohmann::json& settings);

// One results file is read and checked by ReadResultsFile (results/file.h).
// Adds a parsed results file to the dataset (repetitions of one machine × name
// are pooled).
void AddResults(const nlohmann::json& j, const std::string& origin,
                Dataset* ds);
// Loads PATHs; a directory contributes every *.json in it (not recursive) that
// is a kvbench results file, and its results.json first.
Result<Dataset> LoadDataset(const std::vector<std::string>& paths);

// Number formatting for tables: 1234567 -> "1.23 M", bytes -> "12.3 MiB", ns ->
// "1.2 µs".
std::string FormatCount(double v);
std::string FormatBytes(double v);
std::string FormatNs(double ns);
// `v` with `digits` decimals ("%.*f"); a change in per cent with its sign
// ("+12.5%" for digits 1).
std::string FormatFixed(double v, int digits);
std::string FormatChange(double pct, int digits);

}  // namespace kvb::report

#endif  // KVB_REPORT_MODEL_H_
