// What the history holds and how it is read back (history/README.md):
// one `runs` row per results file added (its context: git revision and date,
// machine class, build, library versions) and one `entries` row per
// benchmark repetition (name, parameter set, durability, engine state, the
// headline figures and the whole entry as JSON). Adding is idempotent: a file
// whose JSON was added before (same XXH3 digest) adds nothing; a newer version
// of a run added before (AddOutcome::replaced) replaces it.
//
// A series is one benchmark on one machine class with one parameter set
// (ParamSet: the comparability fields of results/SCHEMA.md and durability)
// and one set of engine options (EngineOptionsOf), its
// repetitions grouped per run or per commit, in commit order.
// Thread safety: plain functions over a caller's Db.
#ifndef KVB_HISTORY_STORE_H_
#define KVB_HISTORY_STORE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "history/sqlite.h"

namespace kvb::history {

// "<cpu_model> x<num_cpus>, <memory GiB> GiB" of a results context: runs of
// one class are comparable (the gate's machine check, docs/gating.md).
std::string MachineClassOf(const nlohmann::json& context);
// The fields two entries must share to be one series: the gate's
// comparability fields (report::ComparabilityFields: every params member but
// seed, the compared harness settings) and, from results schema 2, the class
// the adapter ran at and its engine settings ("durability.class",
// "durability.settings"). Canonical JSON text. The engine spec is part of the
// name; the exact engine options are EngineOptionsOf.
std::string ParamSet(const nlohmann::json& entry,
                     const nlohmann::json& settings);
// The entry's engine_options (defaults filled in) as canonical JSON, "" when
// absent (results schema 1). Part of a series' identity unless
// SeriesQuery::ignore_engine_options.
std::string EngineOptionsOf(const nlohmann::json& entry);
// `name` with "/<engine_spec>/" replaced by "/<engine>/".
std::string StripEngineOptions(const std::string& name,
                               const std::string& engine,
                               const std::string& spec);

struct AddOptions {
  std::string source = {};         // recorded path
  std::string machine_class = {};  // "" = MachineClassOf(context)
};
struct AddOutcome {
  int64_t run_id = 0;
  size_t entries = 0;
  bool already = false;  // the same file was added before: nothing written
  // A run added earlier from the same source path with the same start time
  // and host (a results file is rewritten after every repetition, so an add
  // during a run takes part of it): that run, now replaced by this one.
  int64_t replaced = 0;
};
[[nodiscard]] Result<AddOutcome> AddResults(Db* db,
                                            const nlohmann::json& results,
                                            const AddOptions& o);

struct RunInfo {
  int64_t id = 0;
  std::string run_date, git_revision, git_date, machine_class, source;
  std::string OrderKey() const;  // commit date (else run date), run date
};
[[nodiscard]] Result<std::vector<RunInfo>> ListRuns(Db* db);

enum class Metric { kWall, kCpu };  // items_per_second or 1e9 / cpu_time
enum class Grouping { kCommit, kRun };

struct SeriesPoint {
  std::string label = {};  // the git revision (kCommit) or "run N" (kRun)
  std::string revision = {}, date = {};  // revision, commit (else run) date
  std::vector<int64_t> runs = {};         // the runs pooled here
  std::vector<double> values = {};        // every repetition
};
struct Series {
  std::string machine_class = {}, name = {}, param_set = {};
  std::string engine_options = {};  // "" with ignore_engine_options
  std::vector<SeriesPoint> points = {};  // in commit order
};

struct SeriesQuery {
  std::string name = {};  // exact benchmark name; "" = every benchmark
  Metric metric = Metric::kWall;
  Grouping grouping = Grouping::kCommit;
  // Series by engine name without options ("null:delay_ns=900" and
  // "null:delay_ns=1200" are one series), like compare --ignore-engine-options.
  bool ignore_engine_options = false;
};
[[nodiscard]] Result<std::vector<Series>> LoadSeries(Db* db,
                                                     const SeriesQuery& q);

// The baseline of `compare --against-history N`: for every entry name of
// `next` (with its parameter set and engine options, on next's machine
// class), the entries of the last `n` runs in the history that hold it
// (oldest first), as one results document
// (the newest such run's context, per-entry settings) that report/model.h
// reads like a file. `used`: the runs taken, newest first.
struct HistoryBase {
  nlohmann::json results;
  std::vector<RunInfo> used;
};
// With ignore_engine_options, entries match by the name without the engine's
// options and any engine options (like compare --ignore-engine-options).
[[nodiscard]] Result<HistoryBase> BaseFromHistory(
    Db* db, const nlohmann::json& next, size_t n,
    bool ignore_engine_options = false);

}  // namespace kvb::history

#endif  // KVB_HISTORY_STORE_H_
