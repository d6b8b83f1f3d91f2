#include "harness/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <tuple>

#include "adapters/registry.h"
#include "core/strings.h"
#include "crash/crash.h"
#include "harness/context.h"
#include "harness/crash_ledger.h"
#include "harness/cgroup.h"
#include "harness/icount.h"
#include "harness/isolate.h"
#include "harness/probes.h"
#include "harness/progress.h"
#include "harness/results.h"
#include "harness/runner.h"
#include "harness/shard.h"
#include "harness/suite.h"
#include "history/commands.h"
#include "report/commands.h"
#include "workloads/random.h"

namespace kvb {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// A status as a person reads it: its message, without the code's name.
std::string Text(const Status& s) {
  return s.message().empty() ? s.ToString() : std::string(s.message());
}

int UsageError(const std::string& msg) {
  std::cerr << "kvbench: error: " << msg << "\n";
  return kExitUsage;
}
int UsageError(const Status& s) { return UsageError(Text(s)); }

std::string Timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&t));
  return buf;
}

// `run`'s options. Numbers are kept as text and parsed by core/strings.h, so a
// sign, garbage or an out-of-range value is a one-line usage error (CLI11
// would wrap "-5" into a uint64_t). Empty text: not given.
struct RunArgs {
  std::string suite;
  std::string engines, workloads, threads;
  std::string keys, ops, seed, warmup_ops, repetitions;
  std::string value_size, key_size, durability;
  std::string out, data_dir;
  bool keep_data = false, reuse = false, quiet = false;
  std::string cache_state = "warm";
  std::string verify = "on";
  std::vector<std::string> sets;
  std::string target_rate, warmup_seconds, latency_sample;
  std::string shard;  // "i/n"; empty: from the environment (harness/shard.h)
  std::string count_instructions = "off";  // auto | perf | callgrind | off
  std::string order = "interleaved";       // interleaved | sequential
  std::string order_seed;                  // empty: random, recorded
  std::string memory_limit;                // empty: uncapped
};

// One text option of `run`: flag, field, help, and the accepted words (empty:
// any text, checked when parsed).
struct TextOption {
  const char* flag;
  std::string RunArgs::*field;
  const char* help;
  std::vector<std::string> choices;
  const char* type = "TEXT";  // shown in --help
};

// clang-format off
const std::vector<TextOption>& RunOptions() {
  static const std::vector<TextOption> kOptions = {
      {"--suite", &RunArgs::suite,
       "suite name (suites/NAME.json) or file; default quick", {}},
      {"--engines", &RunArgs::engines,
       "engines with options, e.g. rocksdb:cache_mb=256,lmdb; @persistent = every "
       "built persistent engine, @all = every built engine", {}},
      {"--workloads", &RunArgs::workloads,
       "comma list of workloads (filters the suite)", {}},
      {"--keys", &RunArgs::keys, "keys loaded (overrides the workload)", {}, "UINT"},
      {"--ops", &RunArgs::ops, "run-phase operations over all threads", {}, "UINT"},
      {"--threads", &RunArgs::threads,
       "thread counts, a comma list sweeps: 1,2,4", {}, "UINT,..."},
      {"--value-size", &RunArgs::value_size,
       "value bytes: N, A-B (uniform) or hist:S:W,...", {}},
      {"--key-size", &RunArgs::key_size, "key bytes: N or A-B", {}},
      {"--durability", &RunArgs::durability,
       "memory | process | periodic:MS | sync (what an acknowledged write "
       "survives; `kvbench list --durability` shows each engine's settings)",
       {}, "CLASS"},
      {"--repetitions", &RunArgs::repetitions,
       "repetitions of every point (fresh data each; 1 to 1000)", {}, "UINT"},
      {"--shard", &RunArgs::shard,
       "run only shard i of n (0-based \"i/n\"); default: from "
       "KVB_SHARD, CI_NODE_INDEX/CI_NODE_TOTAL or SLURM array vars", {}},
      {"--seed", &RunArgs::seed,
       "workload seed (default 42); repetition r > 0 uses its own seed derived "
       "from it, recorded in its params", {}, "UINT"},
      {"--order", &RunArgs::order,
       "interleaved (default): round r runs repetition r of every point in a "
       "shuffled order, so engines alternate and drift hits all; sequential: "
       "each point's repetitions back to back", {"interleaved", "sequential"}},
      {"--order-seed", &RunArgs::order_seed,
       "seed of the interleaved order (default: random; recorded in "
       "config.schedule)", {}, "UINT"},
      {"--out", &RunArgs::out, "output directory (default kvbench-out/<UTC time>)", {}},
      {"--data-dir", &RunArgs::data_dir,
       "where databases are created (default OUT/data)", {}},
      {"--cache-state", &RunArgs::cache_state,
       "warm, or cold: evict the database's files from the page cache before the "
       "measured phase", {"warm", "cold"}},
      {"--memory-limit", &RunArgs::memory_limit,
       "run each point in a child process inside a memory cgroup of SIZE (e.g. "
       "512M, 2G): the engine's memory and its page cache are capped together, "
       "as on a machine with that much memory (needs root and a memory "
       "controller; harness/README.md)", {}, "SIZE"},
      {"--target-rate", &RunArgs::target_rate,
       "open loop at this many ops/s in total; latency counts from each op's "
       "intended start", {}, "FLOAT"},
      {"--warmup-ops", &RunArgs::warmup_ops, "warm-up operations (not recorded)", {}, "UINT"},
      {"--warmup-seconds", &RunArgs::warmup_seconds,
       "warm-up seconds (not recorded)", {}, "FLOAT"},
      {"--latency-sample", &RunArgs::latency_sample,
       "time 1 op in N (power of two; default 1 = every op); for sub-100 ns engines "
       "where two timestamps (~10 ns each here) would dominate", {}, "UINT"},
      {"--verify", &RunArgs::verify,
       "on (default): check every value read; off: db_bench's mode for comparing "
       "with other harnesses: reads unchecked, no per-key harness memory touched "
       "by reads", {"on", "off"}},
      {"--count-instructions", &RunArgs::count_instructions,
       "count the instructions of each measured phase (deterministic gates for "
       "CPU-bound points): perf (hardware counter), callgrind (re-runs kvbench "
       "under valgrind, ~50x slower: keep suites small), auto (perf, else "
       "callgrind, else off), off (default); results get instructions and "
       "instructions_per_op", {"auto", "perf", "callgrind", "off"}},
  };
  return kOptions;
}
// clang-format on

// The limits of the settings, chosen so every derived integer fits: a warm-up
// of 1e6 s is 1e15 ns, a rate of 0.001 ops/s on 4096 threads is a 4e15 ns
// interval.
constexpr uint64_t kMaxWarmupOps = uint64_t{1} << 62;
constexpr double kMaxWarmupSeconds = 1e6;
constexpr double kMinTargetRate = 1e-3, kMaxTargetRate = 1e12;
constexpr uint64_t kMaxLatencySample = uint64_t{1} << 20;

// Range checks of settings that may come from a results file (rerun) as well
// as from flags; messages name the flag.
Status CheckSettings(const RunSettings& s) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument(m); };
  if (!(s.target_rate == 0 ||
        (s.target_rate >= kMinTargetRate && s.target_rate <= kMaxTargetRate))) {
    std::ostringstream m;
    m << "--target-rate: " << s.target_rate << " is out of range (0 = closed "
      << "loop, else " << kMinTargetRate << " to " << kMaxTargetRate
      << " ops/s)";
    return bad(m.str());
  }
  if (!(s.warmup_seconds >= 0 && s.warmup_seconds <= kMaxWarmupSeconds)) {
    return bad("--warmup-seconds: out of range [0, 1e+06]");
  }
  if (s.warmup_ops > kMaxWarmupOps) return bad("--warmup-ops: out of range");
  if (s.warmup_ops > 0 && s.warmup_seconds > 0) {
    return bad("--warmup-ops and --warmup-seconds exclude each other");
  }
  const uint32_t n = s.latency_sample;
  if (n == 0 || n > kMaxLatencySample || (n & (n - 1)) != 0) {
    return bad("--latency-sample: must be a power of two, got " +
               std::to_string(n));
  }
  return Status::OK();
}

// The numeric settings of `run` from their text, then CheckSettings.
Status ParseSettings(const RunArgs& a, RunSettings* s) {
  if (!a.warmup_ops.empty()) {
    KVB_ASSIGN_OR_RETURN(s->warmup_ops, ParseUint(a.warmup_ops, "--warmup-ops",
                                                  0, kMaxWarmupOps));
  }
  if (!a.warmup_seconds.empty()) {
    KVB_ASSIGN_OR_RETURN(s->warmup_seconds,
                         ParseDouble(a.warmup_seconds, "--warmup-seconds", 0,
                                     kMaxWarmupSeconds));
  }
  if (!a.target_rate.empty()) {
    KVB_ASSIGN_OR_RETURN(
        s->target_rate,
        ParseDouble(a.target_rate, "--target-rate", 0, kMaxTargetRate));
    if (s->target_rate > 0 && s->target_rate < kMinTargetRate) {
      return Status::InvalidArgument("--target-rate: " + a.target_rate +
                                     " is below 0.001 ops/s (0 = "
                                     "closed loop)");
    }
  }
  if (!a.latency_sample.empty()) {
    KVB_ASSIGN_OR_RETURN(
        uint64_t n,
        ParseUint(a.latency_sample, "--latency-sample", 1, kMaxLatencySample));
    s->latency_sample = static_cast<uint32_t>(n);
  }
  if (!a.memory_limit.empty()) {
    KVB_ASSIGN_OR_RETURN(s->memory_limit,
                         ParseMemorySize(a.memory_limit, "--memory-limit"));
  }
  s->interleave = a.order != "sequential";
  if (a.order_seed.empty()) {
    // Below 2^32 so that every JSON reader keeps it exactly.
    s->order_seed = std::random_device{}();
  } else {
    KVB_ASSIGN_OR_RETURN(s->order_seed, ParseUint(a.order_seed, "--order-seed",
                                                  0, uint64_t{1} << 53));
  }
  s->keep_data = a.keep_data;
  s->reuse = a.reuse;
  s->cold_cache = a.cache_state == "cold";
  s->verify = a.verify == "on";
  s->progress = !a.quiet && StderrIsTerminal();
  return CheckSettings(*s);
}

// The workload overrides of `run`: counts parsed and range-checked, sizes and
// --set passed on as text (ApplyParam checks them per point).
Status ParseOverrides(const RunArgs& a, Overrides* o) {
  o->engines = SplitSpecList(a.engines);
  o->workloads = SplitList(a.workloads);
  for (const std::string& t : SplitList(a.threads)) {
    KVB_ASSIGN_OR_RETURN(uint64_t v, ParseUint(t, "--threads", 1, 4096));
    o->threads.push_back(static_cast<uint32_t>(v));
  }
  struct Count {
    const std::string& text;
    const char* flag;
    const char* param;
    uint64_t min, max;
  };
  const Count counts[] = {
      {a.keys, "--keys", "keys", 1, uint64_t{1} << 32},
      {a.ops, "--ops", "ops", 0, uint64_t{1} << 48},
      {a.seed, "--seed", "seed", 0, UINT64_MAX},
  };
  for (const Count& c : counts) {
    if (c.text.empty()) continue;
    KVB_ASSIGN_OR_RETURN(uint64_t v, ParseUint(c.text, c.flag, c.min, c.max));
    o->params.emplace_back(c.param, std::to_string(v));
  }
  if (!a.value_size.empty()) o->params.emplace_back("value_size", a.value_size);
  if (!a.key_size.empty()) o->params.emplace_back("key_size", a.key_size);
  if (!a.durability.empty()) o->params.emplace_back("durability", a.durability);
  for (const std::string& kv : a.sets) {
    std::string_view name, value;
    if (!SplitOnce(kv, '=', &name, &value) || name.empty()) {
      return Status::InvalidArgument("--set: expected NAME=VALUE, got '" + kv +
                                     "'");
    }
    o->params.emplace_back(std::string(name), std::string(value));
  }
  if (!a.repetitions.empty()) {
    KVB_ASSIGN_OR_RETURN(uint64_t r,
                         ParseUint(a.repetitions, "--repetitions", 1, 1000));
    o->repetitions = static_cast<int>(r);
  }
  return Status::OK();
}

// Directories a run creates, removed again when the run is rejected before
// writing into them: a rejected run leaves no empty folder behind. Only what
// did not exist before is removed, and only while empty.
class OutputDirs {
 public:
  OutputDirs() = default;
  OutputDirs(const OutputDirs&) = delete;
  OutputDirs& operator=(const OutputDirs&) = delete;
  ~OutputDirs() {
    std::error_code ec;
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      if (!fs::is_directory(*it, ec) || !fs::is_empty(*it, ec)) continue;
      fs::remove(*it, ec);
    }
  }

  // Creates `dir` and its missing parents (refusing a file in the way).
  Status Prepare(const std::string& dir) {
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
      return Status::InvalidArgument("not a directory: " + dir);
    }
    std::vector<fs::path> missing;
    for (fs::path p = fs::path(dir).lexically_normal(); !p.empty();
         p = p.parent_path()) {
      if (fs::exists(p, ec)) break;
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    created_.insert(created_.end(), missing.rbegin(), missing.rend());
    return Status::OK();
  }

 private:
  std::vector<fs::path> created_;  // outermost first
};

// Keeps the points of one shard of the suite: --shard i/n, else the CI or batch
// scheduler's environment (KVB_SHARD, CI_NODE_INDEX, SLURM_ARRAY_TASK_ID, ...).
Status SelectShard(const std::string& flag, std::vector<PointSpec>* points) {
  std::optional<ShardSpec> spec;
  if (!flag.empty()) {
    Result<ShardSpec> parsed = ParseShardSpec(flag);
    if (!parsed.ok()) return parsed.status().WithContext("--shard");
    spec = *parsed;
  } else {
    Result<std::optional<ShardSpec>> env = ShardFromEnv();
    if (!env.ok()) return env.status();
    spec = *env;
  }
  if (!spec) return Status::OK();
  std::vector<PointSpec> mine;
  for (size_t k = 0; k < points->size(); ++k) {
    if (ShardSelect(k, spec->index, spec->count)) {
      mine.push_back((*points)[k]);
    }
  }
  std::cerr << "kvbench: shard " << spec->index << "/" << spec->count << " ("
            << spec->source << "): " << mine.size() << " of " << points->size()
            << " points\n";
  *points = std::move(mine);
  return Status::OK();
}

json SettingsToJson(const RunSettings& s, bool explicit_data_dir) {
  return json{
      {"data_dir", explicit_data_dir ? json(s.data_dir) : json(nullptr)},
      {"keep_data", s.keep_data},
      {"reuse", s.reuse},
      {"cache_state", s.cold_cache ? "cold" : "warm"},
      {"target_rate", s.target_rate},
      {"warmup_ops", s.warmup_ops},
      {"warmup_seconds", s.warmup_seconds},
      {"latency_sample", s.latency_sample},
      {"verify", s.verify},
      {"count_instructions", icount::ModeName(s.count_instructions)},
      {"order", s.interleave ? "interleaved" : "sequential"},
      {"order_seed", s.order_seed},
      {"memory_limit_bytes", s.memory_limit},
      {"seed_per_repetition", s.seed_per_repetition && !s.reuse}};
}

// Decides the instruction counter (harness/icount.h). Callgrind mode outside
// valgrind replaces this process with `valgrind --tool=callgrind kvbench ...`
// (same arguments plus `extra`), dumps under `dump_dir`; returns only on error.
Status ResolveInstructionCounter(const std::string& flag,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& extra,
                                 const std::string& dump_dir, bool quiet,
                                 RunSettings* settings) {
  KVB_ASSIGN_OR_RETURN(icount::Decision d,
                       icount::Decide(flag, icount::SystemProbes()));
  settings->count_instructions = d.mode;
  settings->count_instructions_note = d.note;
  if (d.mode != icount::Mode::kCallgrind) return Status::OK();
  if (icount::RunningOnValgrind()) {
    // Re-executed by the branch below: keep the parent's reason.
    const char* why = std::getenv("KVB_COUNT_NOTE");
    if (why && *why) settings->count_instructions_note = why;
    return Status::OK();
  }
  if (!d.note.empty()) setenv("KVB_COUNT_NOTE", d.note.c_str(), 1);
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  args.insert(args.end(), extra.begin(), extra.end());
  if (!quiet) {
    std::cerr << "kvbench: counting instructions: re-running under valgrind "
                 "--tool=callgrind (about 50x slower); dumps in "
              << dump_dir << "\n";
  }
  return icount::ExecUnderCallgrind(args, dump_dir);
}

// What must hold before points run with these settings: --memory-limit can
// make its group (else the run is refused: never uncapped); a cold cache on a
// file system where it cannot be made cold is warned about.
Status CheckRunEnvironment(const RunSettings& s, bool quiet) {
  if (s.memory_limit > 0) {
    if (s.count_instructions == icount::Mode::kCallgrind) {
      return Status::InvalidArgument(
          "--memory-limit cannot be combined with callgrind instruction "
          "counting (valgrind's own memory would count against the limit)");
    }
    KVB_RETURN_IF_ERROR(CheckMemoryLimit(s.memory_limit));
  }
  const std::string caveat =
      s.cold_cache ? probes::ColdCacheCaveat(s.data_dir) : "";
  if (!caveat.empty() && !quiet) std::cerr << "kvbench: warning: " << caveat << "\n";
  return Status::OK();
}

// Context fields describing how memory and instructions were measured.
void AddMeasurementContext(const RunSettings& s, json* c) {
  if (s.memory_limit > 0) {
    (*c)["memory_limit"] = {
        {"bytes", s.memory_limit},
        {"how", "each point in a child process inside a memory cgroup "
                "(RSS and page cache capped together); per entry: "
                "memory_limit"}};
  }
  const std::string caveat =
      s.cold_cache ? probes::ColdCacheCaveat(s.data_dir) : "";
  if (!caveat.empty()) (*c)["warnings"].push_back(caveat);
  (*c)["peak_rss_method"] = probes::PeakRssMethod();
  (*c)["instruction_counter"] = icount::ModeName(s.count_instructions);
  if (!s.count_instructions_note.empty())
    (*c)["instruction_counter_note"] = s.count_instructions_note;
  if (s.count_instructions == icount::Mode::kCallgrind) {
    (*c)["warnings"].push_back(
        "run under callgrind (about 50x slower): compare instructions, not "
        "times");
  }
}

// The results' context: the machine, the build and how things were measured.
json RunContext(const std::vector<PointSpec>& points, const RunSettings& s,
                const std::vector<std::string>& argv) {
  ContextInputs in;
  in.data_dir = s.data_dir;
  in.argv = argv;
  in.cache_state = s.cold_cache ? "cold" : "warm";
  in.seed = 0;
  for (const PointSpec& p : points) {
    Result<WorkloadSpec> w = ResolveWorkload(p);
    if (w.ok()) in.seed = w->seed;
  }
  json context = CaptureContext(in);
  AddMeasurementContext(s, &context);
  return context;
}

// A repetition whose point could not be set up (open failed, bad directory):
// recorded as one error so the results show it.
RepResult FailedRep(const PointSpec& p, int r, const Status& why) {
  RepResult bad = FailedRepetition(p, r, why);
  std::cerr << "kvbench: error: " << p.workload << " on " << p.engine_spec
            << ": " << Text(why) << "\n";
  return bad;
}

void ReportFailures(const RepResult& rep) {
  if (!rep.failed()) return;
  std::cerr << "kvbench: " << rep.name << ": " << rep.errors << " errors, "
            << rep.verify.mismatches() << " mismatches, " << rep.verify.missing
            << " missing";
  if (!rep.error_messages.empty())
    std::cerr << " (first: " << rep.error_messages[0] << ")";
  std::cerr << "\n";
}

// One entry of a run's schedule.
struct Slot {
  size_t point;    // index into the points
  int repetition;  // 0-based
};

// The order a run executes: sequential (each point's repetitions back to
// back), or interleaved: round r runs repetition r of every point that has
// one, in an order shuffled per round (Fisher-Yates on StreamSeed(seed, r)),
// so engines alternate and the machine's drift is spread over all of them
// instead of landing on one engine's block.
std::vector<Slot> MakeSchedule(const std::vector<PointSpec>& points,
                               bool interleave, uint64_t seed) {
  std::vector<Slot> out;
  int rounds = 0;
  for (const PointSpec& p : points) rounds = std::max(rounds, p.repetitions);
  if (!interleave) {
    for (size_t i = 0; i < points.size(); ++i) {
      for (int r = 0; r < points[i].repetitions; ++r) out.push_back({i, r});
    }
    return out;
  }
  for (int r = 0; r < rounds; ++r) {
    std::vector<Slot> round;
    for (size_t i = 0; i < points.size(); ++i) {
      if (points[i].repetitions > r) round.push_back({i, r});
    }
    Rng rng(StreamSeed(seed, static_cast<uint64_t>(r)));
    for (size_t k = round.size(); k > 1; --k)
      std::swap(round[k - 1], round[rng.Below(k)]);
    out.insert(out.end(), round.begin(), round.end());
  }
  return out;
}

json ScheduleJson(const std::vector<Slot>& slots, const RunSettings& s) {
  json order = json::array();
  for (const Slot& slot : slots) order.push_back({slot.point, slot.repetition});
  return json{{"order", s.interleave ? "interleaved" : "sequential"},
              {"order_seed", s.order_seed},
              {"slots", order}};
}

// The table in point order (the results file is grouped by benchmark anyway).
void PrintInPointOrder(const std::vector<Slot>& slots,
                       const std::vector<RepResult>& reps) {
  std::vector<size_t> idx(reps.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    return std::tie(slots[a].point, slots[a].repetition) <
           std::tie(slots[b].point, slots[b].repetition);
  });
  std::vector<RepResult> sorted;
  for (size_t i : idx) sorted.push_back(reps[i]);
  PrintTable(std::cout, sorted);
}

// The crash ledger a run consults (harness/crash_ledger.h). An unreadable
// ledger is a warning: entries then say "not checked", never "checked".
struct LedgerView {
  std::string path;
  crash_ledger::Ledger ledger;
};

LedgerView OpenLedger(bool quiet) {
  LedgerView v{crash_ledger::DefaultPath(), {}};
  Result<crash_ledger::Ledger> l = crash_ledger::Load(v.path);
  if (l.ok()) {
    v.ledger = std::move(*l);
  } else {
    std::cerr << "kvbench: warning: " << Text(l.status()) << "\n";
  }
  if (!quiet && v.ledger.unreadable_lines > 0)
    std::cerr << "kvbench: warning: " << v.ledger.unreadable_lines
              << " unreadable lines in the crash ledger " << v.path << "\n";
  return v;
}

// Records on a persistent entry whether kvbench crash checked its settings.
void NoteCrashCheck(const LedgerView& v, RepResult* rep) {
  if (rep->skipped || rep->engine_options.empty()) return;
  Result<Capabilities> caps = CapabilitiesOf(rep->engine_spec);
  if (!caps.ok() || !caps->persistent) return;
  rep->crash_check =
      crash_ledger::CheckFor(v.ledger, rep->engine, rep->engine_options);
  rep->crash_check.ledger = v.path;
}

// Runs every point (already checked) in the schedule's order, writing results
// after each repetition so an interrupted run leaves data.
int Execute(const std::vector<PointSpec>& points, RunSettings settings,
            bool explicit_data_dir, const std::string& results_path,
            const std::vector<std::string>& argv, const std::string& suite_name,
            bool quiet) {
  Status env = CheckRunEnvironment(settings, quiet);
  if (!env.ok()) return UsageError(env);
  Runner runner(settings);
  json context = RunContext(points, settings, argv);
  const std::vector<Slot> slots =
      MakeSchedule(points, settings.interleave, settings.order_seed);
  json config;
  config["suite"] = suite_name;
  config["settings"] = SettingsToJson(settings, explicit_data_dir);
  config["points"] = json::array();
  for (const PointSpec& p : points) config["points"].push_back(PointToJson(p));
  config["schedule"] = ScheduleJson(slots, settings);

  const LedgerView ledger = OpenLedger(quiet);
  std::vector<RepResult> reps;
  bool failed = false;
  for (const Slot& slot : slots) {
    const PointSpec& p = points[slot.point];
    const int r = slot.repetition;
    if (!quiet) {
      std::cerr << "kvbench: " << p.workload << " on " << p.engine_spec
                << " (rep " << r + 1 << "/" << p.repetitions << ")\n";
    }
    Result<RepResult> rep = settings.memory_limit > 0
                                ? RunInMemoryCgroup(settings, p, r)
                                : runner.RunOnce(p, r);
    reps.push_back(rep.ok() ? std::move(*rep) : FailedRep(p, r, rep.status()));
    reps.back().run_order = reps.size() - 1;
    NoteCrashCheck(ledger, &reps.back());
    ReportFailures(reps.back());
    failed = failed || reps.back().failed();
    Status ws = WriteJsonFile(results_path, ResultsJson(context, config, reps));
    if (!ws.ok()) return UsageError(ws);
  }
  FinishContext(&context);
  Status ws = WriteJsonFile(results_path, ResultsJson(context, config, reps));
  if (!ws.ok()) return UsageError(ws);
  PrintInPointOrder(slots, reps);
  std::cout << "results: " << results_path << "\n";
  return failed ? kExitFailed : 0;
}

// Resolves every point's workload and engine spec before anything is created.
Status CheckPoints(const std::vector<PointSpec>& points) {
  Runner checker{RunSettings{}};
  for (const PointSpec& p : points) KVB_RETURN_IF_ERROR(checker.Check(p));
  return Status::OK();
}

// The points of `run`: the suite (or the flags alone), the overrides, the
// shard; each checked.
Status PlanRun(const RunArgs& a, std::vector<PointSpec>* points,
               std::string* suite_name) {
  Suite suite;
  if (!a.suite.empty() || (a.workloads.empty() && a.engines.empty())) {
    KVB_ASSIGN_OR_RETURN(suite, LoadSuite(a.suite.empty() ? "quick" : a.suite));
    *suite_name = suite.name;
  } else {
    suite.engines = {"@persistent", "memory"};
  }
  Overrides o;
  KVB_RETURN_IF_ERROR(ParseOverrides(a, &o));
  KVB_ASSIGN_OR_RETURN(*points, ExpandPoints(suite, o));
  KVB_RETURN_IF_ERROR(SelectShard(a.shard, points));
  return CheckPoints(*points);
}

int CmdRun(const RunArgs& a, const std::vector<std::string>& argv) {
  std::vector<PointSpec> points;
  std::string suite_name;
  Status s = PlanRun(a, &points, &suite_name);
  if (!s.ok()) return UsageError(s);
  RunSettings settings;
  s = ParseSettings(a, &settings);
  if (!s.ok()) return UsageError(s);

  std::string out = a.out.empty() ? "kvbench-out/" + Timestamp() : a.out;
  OutputDirs dirs;
  s = dirs.Prepare(out);
  if (!s.ok()) return UsageError("output directory: " + Text(s));
  std::vector<std::string> extra;  // the child must write where we would
  if (a.out.empty()) extra = {"--out", out};
  s = ResolveInstructionCounter(a.count_instructions, argv, extra,
                                out + "/callgrind", a.quiet, &settings);
  if (!s.ok()) return UsageError(s);
  settings.data_dir = a.data_dir.empty() ? out + "/data" : a.data_dir;
  s = dirs.Prepare(settings.data_dir);
  if (!s.ok()) return UsageError("data directory: " + Text(s));
  return Execute(points, settings, !a.data_dir.empty(), out + "/results.json",
                 argv, suite_name, a.quiet);
}

// A recorded number as the text a flag would have given (rerun checks what a
// file says exactly as it checks flags).
std::string NumberText(const json& st, const char* key) {
  if (!st.contains(key)) return "";
  const json& v = st[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The settings recorded in a results file, as `run` would have parsed them.
Status SettingsFromJson(const json& st, bool quiet, RunSettings* s) {
  RunArgs a;
  a.keep_data = st.value("keep_data", false);
  a.reuse = st.value("reuse", false);
  a.cache_state = st.value("cache_state", "warm");
  a.verify = st.value("verify", true) ? "on" : "off";
  a.quiet = quiet;
  a.target_rate = NumberText(st, "target_rate");
  a.warmup_seconds = NumberText(st, "warmup_seconds");
  a.latency_sample = NumberText(st, "latency_sample");
  a.warmup_ops = NumberText(st, "warmup_ops");
  // Files from before the interleaved schedule ran sequentially, with one
  // seed for every repetition.
  a.order = st.value("order", "sequential");
  a.order_seed = NumberText(st, "order_seed");
  if (st.value("memory_limit_bytes", uint64_t{0}) > 0)
    a.memory_limit = NumberText(st, "memory_limit_bytes");
  Status ok = ParseSettings(a, s);
  s->seed_per_repetition = st.value("seed_per_repetition", false);
  return ok;
}

Status PlanRerun(const std::string& file, std::vector<PointSpec>* points,
                 json* config) {
  KVB_ASSIGN_OR_RETURN(json j, ReadResultsFile(file));
  if (!j.contains("config") || !j["config"].contains("points")) {
    return Status::InvalidArgument(file + " records no configuration to rerun");
  }
  *config = j["config"];
  for (const json& pj : (*config)["points"]) {
    Result<PointSpec> p = PointFromJson(pj);
    if (!p.ok()) return p.status().WithContext(file);
    points->push_back(*p);
  }
  return CheckPoints(*points);
}

int CmdRerun(const std::string& file, bool quiet,
             const std::vector<std::string>& argv) {
  std::vector<PointSpec> points;
  json config;
  Status s = PlanRerun(file, &points, &config);
  if (!s.ok()) return UsageError(s);
  const json& st = config.value("settings", json::object());
  RunSettings settings;
  s = SettingsFromJson(st, quiet, &settings);
  if (!s.ok()) return UsageError(file + ": " + Text(s));
  std::string dir = fs::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  bool explicit_data = st.contains("data_dir") && st["data_dir"].is_string();
  settings.data_dir =
      explicit_data ? st["data_dir"].get<std::string>() : dir + "/data";
  s = ResolveInstructionCounter(st.value("count_instructions", "off"), argv, {},
                                dir + "/callgrind", quiet, &settings);
  if (!s.ok()) return UsageError(s);
  OutputDirs dirs;
  s = dirs.Prepare(settings.data_dir);
  if (!s.ok()) return UsageError("data directory: " + Text(s));
  std::string out = dir + "/results-rerun-" + Timestamp() + ".json";
  return Execute(points, settings, explicit_data, out, argv,
                 config.value("suite", ""), quiet);
}

std::string CapsText(const Capabilities& c) {
  std::string s;
  auto flag = [&](bool on, const char* name) {
    if (on) s += std::string(s.empty() ? "" : ",") + name;
  };
  flag(c.persistent, "persistent");
  flag(c.ordered, "ordered");
  flag(c.thread_safe, "thread_safe");
  flag(c.batch, "batch");
  flag(c.atomic_batch, "atomic_batch");
  flag(c.locks_directory, "locks_directory");
  if (c.max_key_size) s += ",max_key=" + std::to_string(c.max_key_size);
  if (c.max_value_size) s += ",max_value=" + std::to_string(c.max_value_size);
  return s;
}

// One line per adapter x class: "ENGINE CLASS  SETTINGS" or "refused: WHY".
int CmdListDurability() {
  for (const AdapterInfo& a : AllAdapters()) {
    if (!a.built) {
      std::cout << a.name << "  (not built)\n";
      continue;
    }
    for (const DurabilityWay& w : a.durability) {
      std::string cls(DurabilityName(w.level));
      if (w.level == Durability::kPeriodic) cls += ":MS";
      std::printf("%-12s %-12s %s%s\n", a.name.c_str(), cls.c_str(),
                  w.refused.empty() ? "" : "refused: ",
                  std::string(w.refused.empty() ? w.settings : w.refused)
                      .c_str());
    }
  }
  return 0;
}

int CmdList() {
  for (const AdapterInfo& a : AllAdapters()) {
    std::cout << a.name << (a.built ? "" : " (not built)") << " - "
              << a.description << "\n";
    if (a.built)
      std::cout << "  capabilities: " << CapsText(a.capabilities) << "\n";
    std::cout << "  options: durability=memory|process|periodic:MS|sync";
    for (const OptionSpec& o : a.options)
      std::cout << ", " << o.name << "=" << o.default_value;
    std::cout << "\n";
    for (const OptionSpec& o : a.options)
      std::cout << "    " << o.name << ": " << o.help << "\n";
    std::cout << "  inspect: " << (a.inspect ? "yes" : "no") << "\n";
  }
  std::cout << "workloads:\n";
  for (const std::string& w : PresetNames()) {
    Result<WorkloadSpec> spec = FindPreset(w);
    if (spec.ok()) std::cout << "  " << w << " - " << spec->description << "\n";
  }
  return 0;
}

struct InspectArgs {
  std::string name, path;
  bool dump_keys = false;
};

int CmdInspect(const InspectArgs& a) {
  const AdapterInfo* info = FindAdapter(a.name);
  if (info == nullptr) return UsageError("unknown engine '" + a.name + "'");
  if (!info->built) return UsageError("engine '" + a.name + "' was not built");
  if (!info->inspect) {
    std::cerr << "kvbench: error: engine '" << a.name << "' has no inspector\n";
    return kExitFailed;
  }
  Status s = info->inspect(a.path, a.dump_keys, std::cout);
  if (!s.ok()) {
    std::cerr << "kvbench: error: " << Text(s) << "\n";
    return kExitFailed;
  }
  return 0;
}

// `kvbench crash` and its hidden child (crash/crash.h).
struct CrashArgs {
  std::string engines, durability = "sync", kill_ms = "50-1000", out, data_dir;
  std::string kill_at, kill_phase = "write";
  int trials = 10;
  uint64_t seed = 42, keys = 1000, trial_seed = 0;
  uint32_t threads = 1, sync_every = 100, rounds = 1, reopen_kill_ms = 30;
  bool quiet = false, short_cycles = false;
  CrashChildOptions child;
  std::string child_model = "sync";
};

// `kvbench crash`: when and where the kills land.
void DeclareCrashKills(CLI::App* c, CrashArgs* a) {
  c->add_option("--kill-ms", a->kill_ms,
                "kill delay after the open, uniform "
                "in MIN-MAX ms (default 50-1000)");
  c->add_option("--kill-at", a->kill_at,
                "kill by op count instead: ops:MIN-MAX, the child kills "
                "itself after its N-th ack, N from the trial seed");
  c->add_option("--kill-phase", a->kill_phase,
                "write (default), open (kill a reopening child after a write "
                "kill), close (kill during Close), recovery (two reopen "
                "kills, then check)");
  c->add_option("--reopen-kill-ms", a->reopen_kill_ms,
                "open/close/recovery kill delay, uniform in 0-MAX ms "
                "(default 30)")
      ->check(CLI::Range(0, 600000));
  c->add_flag("--short-cycles", a->short_cycles,
              "linhash, typedmap: options that make rotation, checkpoint, "
              "compaction and Shrink happen within a trial (crash/README.md)");
  c->add_option("--trial-seed", a->trial_seed,
                "seed of trial 1 itself (replays a trial printed on failure)");
}

CLI::App* DeclareCrash(CLI::App* app, CrashArgs* a) {
  CLI::App* c = app->add_subcommand(
      "crash",
      "kill -9 engines mid-write, reopen, check every key; writes "
      "DIR/crash.json (exit 1 on any violation)");
  c->add_option("--engines", a->engines,
                "engines with options, e.g. "
                "linhash,typedmap:durability=memory")
      ->required();
  c->add_option("--trials", a->trials, "kills per engine (default 10)")
      ->check(CLI::Range(1, 100000));
  c->add_option("--durability", a->durability,
                "class for specs without their own (default sync); memory is "
                "checked as 'acks before the last Sync survive', every other "
                "class as 'every ack survives'");
  c->add_option("--seed", a->seed, "seed of trial seeds and kill delays");
  c->add_option("--keys", a->keys, "key set size (default 1000)")
      ->check(CLI::Range(1, 10000000));
  c->add_option("--threads", a->threads,
                "child writer threads (default 1; "
                "the prefix check needs 1)")
      ->check(CLI::Range(1, 64));
  DeclareCrashKills(c, a);
  c->add_option("--sync-every", a->sync_every,
                "mean acks between Syncs in "
                "the none model (default 100)")
      ->check(CLI::Range(1, 1000000));
  c->add_option("--rounds", a->rounds,
                "kills per trial on the same database "
                "(recovery after recovery; default 1)")
      ->check(CLI::Range(1, 1000));
  c->add_option("--out", a->out,
                "output directory (default "
                "kvbench-out/crash-<UTC time>)");
  c->add_option("--data-dir", a->data_dir,
                "where trial databases are created "
                "(default OUT/data)");
  c->add_flag("--quiet", a->quiet, "print only failed trials and the table");
  return c;
}

CLI::App* DeclareCrashChild(CLI::App* app, CrashArgs* a) {
  CrashChildOptions& o = a->child;
  CLI::App* child =
      app->add_subcommand("crash-child", "internal: run by kvbench crash");
  child->group("");  // hidden from --help
  child->add_option("--engine", o.engine)->required();
  child->add_option("--dir", o.dir)->required();
  child->add_option("--report-fd", o.report_fd)->required();
  child->add_option("--seed", o.seed);
  child->add_option("--keys", o.keys);
  child->add_option("--threads", o.threads);
  child->add_option("--model", a->child_model)
      ->check(CLI::IsMember({"sync", "none"}));
  child->add_option("--sync-every", o.sync_every);
  child->add_option("--version-base", o.version_base);
  child->add_option("--seq-base", o.seq_base);
  child->add_option("--mode", o.mode)
      ->check(CLI::IsMember({"write", "open", "close"}));
  child->add_option("--stop-at-ack", o.stop_at_ack);
  return child;
}

int CmdCrash(const CrashArgs& a, const std::vector<std::string>& argv) {
  CrashOptions o;
  o.engines = SplitSpecList(a.engines);
  o.trials = a.trials;
  o.seed = a.seed;
  o.keys = a.keys;
  o.threads = a.threads;
  o.sync_every = a.sync_every;
  o.rounds = a.rounds;
  o.quiet = a.quiet;
  Result<DurabilityClass> durability = ParseDurabilityClass(a.durability);
  if (!durability.ok())
    return UsageError("--durability: " + std::string(durability.status().message()));
  o.durability = *durability;
  Result<SizeDist> kill = ParseSizeDist(a.kill_ms);
  if (!kill.ok() || !kill->hist_sizes.empty()) {
    return UsageError("--kill-ms: expected MIN-MAX milliseconds, got '" +
                      a.kill_ms + "'");
  }
  o.kill_min_ms = kill->min;
  o.kill_max_ms = kill->max;
  o.open_kill_max_ms = a.reopen_kill_ms;
  o.trial_seed = a.trial_seed;
  o.short_cycles = a.short_cycles;
  Status s = a.kill_at.empty() ? Status::OK() : ParseKillAt(a.kill_at, &o);
  if (!s.ok()) return UsageError(s);
  Result<KillPhase> phase = ParseKillPhase(a.kill_phase);
  if (!phase.ok()) return UsageError(phase.status());
  o.phase = *phase;
  s = ResolveCrashOptions(&o);
  if (!s.ok()) return UsageError(s);
  std::string out = a.out.empty() ? "kvbench-out/crash-" + Timestamp() : a.out;
  OutputDirs dirs;
  s = dirs.Prepare(out);
  if (!s.ok()) return UsageError("output directory: " + Text(s));
  o.data_dir = a.data_dir.empty() ? out + "/data" : a.data_dir;
  s = dirs.Prepare(o.data_dir);
  if (!s.ok()) return UsageError("data directory: " + Text(s));
  o.context = CaptureContext({o.data_dir, argv, "warm", o.seed});
  Result<CrashReport> r = RunCrash(o, std::cerr);
  if (!r.ok()) {
    std::cerr << "kvbench: error: " << Text(r.status()) << "\n";
    return kExitFailed;
  }
  FinishContext(&r->context);
  s = WriteJsonFile(out + "/crash.json", CrashReportJson(*r));
  if (!s.ok()) return UsageError(s);
  // Only a run that passed vouches for its settings; a failed one is recorded
  // too (with its failures), so later entries show what was found.
  Status ls = crash_ledger::Append(crash_ledger::DefaultPath(), *r);
  if (!ls.ok()) std::cerr << "kvbench: warning: " << Text(ls) << "\n";
  PrintCrashTable(std::cout, *r);
  std::cout << "results: " << out << "/crash.json\n";
  return r->failed() ? kExitFailed : 0;
}

// ---- Declarations: one small function per subcommand ----------------------

CLI::App* DeclareRun(CLI::App* app, RunArgs* a) {
  CLI::App* run = app->add_subcommand(
      "run", "run a suite (default: quick) and write DIR/results.json");
  CLI::Option* warmup_ops = nullptr;
  for (const TextOption& o : RunOptions()) {
    CLI::Option* opt = run->add_option(o.flag, a->*o.field, o.help);
    opt->type_name(o.type);
    if (!o.choices.empty()) opt->check(CLI::IsMember(o.choices));
    if (std::string(o.flag) == "--warmup-ops") warmup_ops = opt;
    if (std::string(o.flag) == "--warmup-seconds") opt->excludes(warmup_ops);
  }
  run->add_option(
      "--set", a->sets,
      "any workload parameter NAME=VALUE (repeatable): distribution, "
      "zipf_theta, mix, scan_length, insert_order, batch_size, "
      "hot_data_fraction, ...");
  run->add_flag("--keep-data", a->keep_data,
                "keep each point's database directory");
  run->add_flag(
      "--reuse", a->reuse,
      "reuse a database loaded by an earlier run with the same load parameters "
      "(implies keeping it)");
  run->add_flag("--quiet", a->quiet,
                "no progress or per-point messages on stderr");
  return run;
}

struct RerunArgs {
  std::string file;
  bool quiet = false;
};

CLI::App* DeclareRerun(CLI::App* app, RerunArgs* a) {
  CLI::App* rerun = app->add_subcommand(
      "rerun", "repeat the configuration recorded in a results file");
  rerun->add_option("FILE", a->file, "results.json to repeat")->required();
  rerun->add_flag("--quiet", a->quiet, "no progress or per-point messages");
  return rerun;
}

CLI::App* DeclareList(CLI::App* app, bool* durability) {
  CLI::App* list = app->add_subcommand(
      "list", "list adapters, capabilities, options, workloads");
  list->add_flag("--durability", *durability,
                 "instead: every adapter x durability class -> the engine "
                 "settings used, or why the class is refused");
  return list;
}

CLI::App* DeclareInspect(CLI::App* app, InspectArgs* a) {
  CLI::App* inspect = app->add_subcommand(
      "inspect", "check a database offline with its engine");
  inspect->add_option("NAME", a->name, "engine name")->required();
  inspect->add_option("PATH", a->path, "database directory or file")
      ->required();
  inspect->add_flag("--dump-keys", a->dump_keys, "print every key");
  return inspect;
}

// The report-side commands parse their own arguments (report/commands.h).
struct PassThrough {
  const char* name;
  const char* help;
  int (*fn)(const std::vector<std::string>&, std::ostream&, std::ostream&);
  CLI::App* app = nullptr;
};

std::vector<PassThrough> DeclarePassThrough(CLI::App* app) {
  std::vector<PassThrough> commands = {
      {"report", "write DIR/report.md and DIR/plots/ from results files",
       report::RunReportCommand},
      {"compare", "compare two results (--gate: exit non-zero on regression)",
       history::RunCompareCommand},  // report's, with --against-history
      {"merge", "join results files (shards, machines) into one",
       report::RunMergeCommand},
      {"ab", "run two kvbench builds alternately and compare them",
       report::RunAbCommand},
      {"history", "results history: add, show, regressions, html",
       history::RunHistoryCommand},
  };
  for (PassThrough& p : commands) {
    p.app = app->add_subcommand(p.name, p.help);
    p.app->prefix_command();
    p.app->set_help_flag();
  }
  return commands;
}

// Every subcommand's arguments and its parsed-or-not flag.
struct Commands {
  RunArgs run_args;
  RerunArgs rerun_args;
  InspectArgs inspect_args;
  bool list_durability = false;
  CrashArgs crash_args;
  CLI::App *run = nullptr, *rerun = nullptr, *list = nullptr,
           *inspect = nullptr, *crash = nullptr, *crash_child = nullptr;
  std::vector<PassThrough> pass_through;
};

void DeclareAll(CLI::App* app, Commands* c) {
  app->require_subcommand(1);
  c->run = DeclareRun(app, &c->run_args);
  c->rerun = DeclareRerun(app, &c->rerun_args);
  c->list = DeclareList(app, &c->list_durability);
  c->inspect = DeclareInspect(app, &c->inspect_args);
  c->crash = DeclareCrash(app, &c->crash_args);
  c->crash_child = DeclareCrashChild(app, &c->crash_args);
  c->pass_through = DeclarePassThrough(app);
}

// Parses argv; an exit code when parsing ends the program (help, bad usage).
std::optional<int> Parse(CLI::App* app, int argc, char** argv) {
  try {
    app->parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app->exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    return UsageError(what + " (see kvbench --help)");
  }
  return std::nullopt;
}

int Dispatch(Commands& c, const std::vector<std::string>& args) {
  if (*c.run) return CmdRun(c.run_args, args);
  if (*c.rerun) return CmdRerun(c.rerun_args.file, c.rerun_args.quiet, args);
  if (*c.list) return c.list_durability ? CmdListDurability() : CmdList();
  if (*c.inspect) return CmdInspect(c.inspect_args);
  if (*c.crash) return CmdCrash(c.crash_args, args);
  if (*c.crash_child) {
    c.crash_args.child.sync_model = c.crash_args.child_model == "sync";
    return CrashChildMain(c.crash_args.child);
  }
  for (const PassThrough& p : c.pass_through) {
    if (*p.app) return p.fn(p.app->remaining(), std::cout, std::cerr);
  }
  return kExitUsage;
}

}  // namespace

int KvbenchMain(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  CLI::App app{
      "kvbench: measure embedded key-value engines side by side, reproducibly"};
  Commands commands;
  DeclareAll(&app, &commands);
  if (std::optional<int> rc = Parse(&app, argc, argv)) return *rc;
  try {
    return Dispatch(commands, args);
  } catch (const std::exception& e) {
    // Third-party code (JSON, filesystem) may throw; never crash with a trace.
    std::cerr << "kvbench: error: " << e.what() << "\n";
    return kExitFailed;
  }
}

}  // namespace kvb
