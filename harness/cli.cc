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
#include <sstream>

#include "adapters/registry.h"
#include "core/strings.h"
#include "harness/context.h"
#include "harness/crash.h"
#include "harness/icount.h"
#include "harness/probes.h"
#include "harness/progress.h"
#include "harness/results.h"
#include "harness/runner.h"
#include "harness/suite.h"
#include "report/commands.h"
#include "report/shard.h"

namespace kvb {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int UsageError(const std::string& msg) {
  std::cerr << "kvbench: error: " << msg << "\n";
  return kExitUsage;
}

std::string Timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&t));
  return buf;
}

struct RunArgs {
  std::string suite;
  std::string engines, workloads, threads;
  uint64_t keys = 0, ops = 0, seed = 0, warmup_ops = 0;
  bool keys_set = false, ops_set = false, seed_set = false;
  std::string value_size, key_size, durability;
  int repetitions = 0;
  std::string out, data_dir;
  bool keep_data = false, reuse = false, quiet = false;
  std::string cache_state = "warm";
  std::string verify = "on";
  std::vector<std::string> sets;
  double target_rate = 0, warmup_seconds = 0;
  uint32_t latency_sample = 1;
  std::string
      shard;  // "i/n"; empty: from the environment (report/shard.h), else all
  std::string count_instructions = "off";  // auto | perf | callgrind | off
};

// Keeps the points of one shard of the suite: --shard i/n, else the CI or batch
// scheduler's environment (KVB_SHARD, CI_NODE_INDEX, SLURM_ARRAY_TASK_ID, ...).
Status SelectShard(const std::string& flag, std::vector<PointSpec>* points) {
  std::optional<report::ShardSpec> spec;
  if (!flag.empty()) {
    Result<report::ShardSpec> parsed = report::ParseShardSpec(flag);
    if (!parsed.ok()) return parsed.status().WithContext("--shard");
    spec = *parsed;
  } else {
    Result<std::optional<report::ShardSpec>> env = report::ShardFromEnv();
    if (!env.ok()) return env.status();
    spec = *env;
  }
  if (!spec) return Status::OK();
  std::vector<PointSpec> mine;
  for (size_t k = 0; k < points->size(); ++k) {
    if (report::ShardSelect(k, spec->index, spec->count)) {
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
      {"count_instructions", icount::ModeName(s.count_instructions)}};
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

// Context fields describing how memory and instructions were measured.
void AddMeasurementContext(const RunSettings& s, json* c) {
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

// Runs every point, writing results after each repetition so an interrupted run
// leaves data.
int Execute(const std::vector<PointSpec>& points, RunSettings settings,
            bool explicit_data_dir, const std::string& results_path,
            const std::vector<std::string>& argv, const std::string& suite_name,
            bool quiet) {
  Runner runner(settings);
  for (const PointSpec& p : points) {
    Status s = runner.Check(p);
    if (!s.ok())
      return UsageError(
          std::string(s.message().empty() ? s.ToString() : s.message()));
  }
  ContextInputs in;
  in.data_dir = settings.data_dir;
  in.argv = argv;
  in.cache_state = settings.cold_cache ? "cold" : "warm";
  in.seed = 0;
  for (const PointSpec& p : points) {
    Result<WorkloadSpec> w = ResolveWorkload(p);
    if (w.ok()) in.seed = w->seed;
  }
  json context = CaptureContext(in);
  AddMeasurementContext(settings, &context);
  json config;
  config["suite"] = suite_name;
  config["settings"] = SettingsToJson(settings, explicit_data_dir);
  config["points"] = json::array();
  for (const PointSpec& p : points) config["points"].push_back(PointToJson(p));

  std::vector<RepResult> reps;
  bool failed = false;
  for (const PointSpec& p : points) {
    for (int r = 0; r < p.repetitions; ++r) {
      if (!quiet) {
        std::cerr << "kvbench: " << p.workload << " on " << p.engine_spec
                  << " (rep " << r + 1 << "/" << p.repetitions << ")\n";
      }
      Result<RepResult> rep = runner.RunOnce(p, r);
      if (!rep.ok()) {
        // The point could not be set up (open failed, bad directory): record it
        // and go on.
        RepResult bad;
        bad.point = p;
        bad.repetition = r;
        bad.engine_spec = p.engine_spec;
        bad.workload = p.workload;
        Result<WorkloadSpec> w = ResolveWorkload(p);
        bad.threads = w.ok() ? w->threads : 1;
        bad.name = BenchmarkName(p.workload, p.engine_spec,
                                 w.ok() ? w->keys : 0, bad.threads);
        bad.errors = 1;
        bad.error_messages.push_back(rep.status().ToString());
        bad.primary_phase = "run";
        std::cerr << "kvbench: error: " << p.workload << " on " << p.engine_spec
                  << ": " << rep.status().ToString() << "\n";
        reps.push_back(std::move(bad));
      } else {
        if (rep->failed()) {
          std::cerr << "kvbench: " << rep->name << ": " << rep->errors
                    << " errors, " << rep->verify.mismatches()
                    << " mismatches, " << rep->verify.missing << " missing";
          if (!rep->error_messages.empty())
            std::cerr << " (first: " << rep->error_messages[0] << ")";
          std::cerr << "\n";
        }
        reps.push_back(std::move(*rep));
      }
      failed = failed || reps.back().failed();
      json partial = ResultsJson(context, config, reps);
      Status ws = WriteJsonFile(results_path, partial);
      if (!ws.ok()) return UsageError(ws.ToString());
    }
  }
  FinishContext(&context);
  Status ws = WriteJsonFile(results_path, ResultsJson(context, config, reps));
  if (!ws.ok()) return UsageError(ws.ToString());
  PrintTable(std::cout, reps);
  std::cout << "results: " << results_path << "\n";
  return failed ? kExitFailed : 0;
}

Status PrepareOutput(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("not a directory: " + dir);
  }
  return PrepareDirectory(dir);
}

int CmdRun(const RunArgs& a, const std::vector<std::string>& argv) {
  Suite suite;
  std::string suite_name;
  if (!a.suite.empty() || (a.workloads.empty() && a.engines.empty())) {
    std::string name = a.suite.empty() ? "quick" : a.suite;
    Result<Suite> s = LoadSuite(name);
    if (!s.ok()) return UsageError(std::string(s.status().message()));
    suite = *s;
    suite_name = suite.name;
  } else {
    suite.engines = {"@persistent", "memory"};
  }
  Overrides o;
  o.engines = SplitSpecList(a.engines);
  o.workloads = SplitList(a.workloads);
  for (const std::string& t : SplitList(a.threads)) {
    Result<uint64_t> v = ParseUint(t, "--threads", 1, 4096);
    if (!v.ok()) return UsageError(std::string(v.status().message()));
    o.threads.push_back(static_cast<uint32_t>(*v));
  }
  if (a.keys_set) o.params.emplace_back("keys", std::to_string(a.keys));
  if (a.ops_set) o.params.emplace_back("ops", std::to_string(a.ops));
  if (a.seed_set) o.params.emplace_back("seed", std::to_string(a.seed));
  if (!a.value_size.empty()) o.params.emplace_back("value_size", a.value_size);
  if (!a.key_size.empty()) o.params.emplace_back("key_size", a.key_size);
  if (!a.durability.empty()) o.params.emplace_back("durability", a.durability);
  for (const std::string& kv : a.sets) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError("--set: expected NAME=VALUE, got '" + kv + "'");
    }
    o.params.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  o.repetitions = a.repetitions;
  Result<std::vector<PointSpec>> points = ExpandPoints(suite, o);
  if (!points.ok()) return UsageError(std::string(points.status().message()));
  Status shard_status = SelectShard(a.shard, &*points);
  if (!shard_status.ok()) return UsageError(shard_status.ToString());

  std::string out = a.out.empty() ? "kvbench-out/" + Timestamp() : a.out;
  Status s = PrepareOutput(out);
  if (!s.ok()) return UsageError("output directory: " + s.ToString());
  RunSettings settings;
  std::vector<std::string> extra;  // the child must write where we would
  if (a.out.empty()) extra = {"--out", out};
  s = ResolveInstructionCounter(a.count_instructions, argv, extra,
                                out + "/callgrind", a.quiet, &settings);
  if (!s.ok()) return UsageError(std::string(s.message()));
  settings.data_dir = a.data_dir.empty() ? out + "/data" : a.data_dir;
  s = PrepareOutput(settings.data_dir);
  if (!s.ok()) return UsageError("data directory: " + s.ToString());
  settings.keep_data = a.keep_data;
  settings.reuse = a.reuse;
  settings.cold_cache = a.cache_state == "cold";
  settings.target_rate = a.target_rate;
  settings.warmup_ops = a.warmup_ops;
  settings.warmup_seconds = a.warmup_seconds;
  settings.latency_sample = a.latency_sample;
  settings.verify = a.verify == "on";
  settings.progress = !a.quiet && StderrIsTerminal();
  int rc = Execute(*points, settings, !a.data_dir.empty(),
                   out + "/results.json", argv, suite_name, a.quiet);
  // The default data directory is ours: remove it when empty.
  if (a.data_dir.empty() && !a.keep_data && !a.reuse) {
    std::error_code ec;
    fs::remove(settings.data_dir, ec);
  }
  return rc;
}

int CmdRerun(const std::string& file, bool quiet,
             const std::vector<std::string>& argv) {
  Result<json> j = ReadResultsFile(file);
  if (!j.ok()) return UsageError(std::string(j.status().message()));
  if (!j->contains("config") || !(*j)["config"].contains("points")) {
    return UsageError(file + " records no configuration to rerun");
  }
  const json& config = (*j)["config"];
  std::vector<PointSpec> points;
  for (const json& pj : config["points"]) {
    Result<PointSpec> p = PointFromJson(pj);
    if (!p.ok())
      return UsageError(file + ": " + std::string(p.status().message()));
    points.push_back(*p);
  }
  const json& st = config.value("settings", json::object());
  std::string dir = fs::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  RunSettings settings;
  bool explicit_data = st.contains("data_dir") && st["data_dir"].is_string();
  settings.data_dir =
      explicit_data ? st["data_dir"].get<std::string>() : dir + "/data";
  settings.keep_data = st.value("keep_data", false);
  settings.reuse = st.value("reuse", false);
  settings.cold_cache = st.value("cache_state", "warm") == "cold";
  settings.target_rate = st.value("target_rate", 0.0);
  settings.warmup_ops = st.value("warmup_ops", uint64_t{0});
  settings.warmup_seconds = st.value("warmup_seconds", 0.0);
  settings.latency_sample = st.value("latency_sample", 1u);
  settings.verify = st.value("verify", true);
  settings.progress = !quiet && StderrIsTerminal();
  Status cs =
      ResolveInstructionCounter(st.value("count_instructions", "off"), argv, {},
                                dir + "/callgrind", quiet, &settings);
  if (!cs.ok()) return UsageError(std::string(cs.message()));
  Status s = PrepareOutput(settings.data_dir);
  if (!s.ok()) return UsageError("data directory: " + s.ToString());
  std::string out = dir + "/results-rerun-" + Timestamp() + ".json";
  int rc = Execute(points, settings, explicit_data, out, argv,
                   config.value("suite", ""), quiet);
  if (!explicit_data && !settings.keep_data && !settings.reuse) {
    std::error_code ec;
    fs::remove(settings.data_dir, ec);
  }
  return rc;
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

int CmdList() {
  for (const AdapterInfo& a : AllAdapters()) {
    std::cout << a.name << (a.built ? "" : " (not built)") << " - "
              << a.description << "\n";
    if (a.built)
      std::cout << "  capabilities: " << CapsText(a.capabilities) << "\n";
    std::cout << "  options: durability=none|async|sync";
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

int CmdInspect(const std::string& name, const std::string& path,
               bool dump_keys) {
  const AdapterInfo* info = FindAdapter(name);
  if (info == nullptr) return UsageError("unknown engine '" + name + "'");
  if (!info->built) return UsageError("engine '" + name + "' was not built");
  if (!info->inspect) {
    std::cerr << "kvbench: error: engine '" << name << "' has no inspector\n";
    return kExitFailed;
  }
  Status s = info->inspect(path, dump_keys, std::cout);
  if (!s.ok()) {
    std::cerr << "kvbench: error: " << s.ToString() << "\n";
    return kExitFailed;
  }
  return 0;
}

// `kvbench crash` and its hidden child (harness/crash.h).
struct CrashArgs {
  std::string engines, durability = "sync", kill_ms = "50-1000", out, data_dir;
  int trials = 10;
  uint64_t seed = 42, keys = 1000;
  uint32_t threads = 1, sync_every = 100, rounds = 1;
  bool quiet = false;
  CrashChildOptions child;
  std::string child_model = "sync";
};

CLI::App* AddCrashCommands(CLI::App* app, CrashArgs* a, CLI::App** child) {
  CLI::App* c = app->add_subcommand(
      "crash",
      "kill -9 engines mid-write, reopen, check every key; writes "
      "DIR/crash.json (exit 1 on any violation)");
  c->add_option("--engines", a->engines,
                "engines with options, e.g. "
                "linhash,typedmap:durability=none")
      ->required();
  c->add_option("--trials", a->trials, "kills per engine (default 10)")
      ->check(CLI::Range(1, 100000));
  c->add_option("--durability", a->durability,
                "for specs without their own: sync (every ack durable) or "
                "none (acks before the last Sync durable); default sync")
      ->check(CLI::IsMember({"none", "async", "sync"}));
  c->add_option("--seed", a->seed, "seed of trial seeds and kill delays");
  c->add_option("--keys", a->keys, "key set size (default 1000)")
      ->check(CLI::Range(1, 10000000));
  c->add_option("--threads", a->threads,
                "child writer threads (default 1; "
                "the prefix check needs 1)")
      ->check(CLI::Range(1, 64));
  c->add_option("--kill-ms", a->kill_ms,
                "kill delay after the open, uniform "
                "in MIN-MAX ms (default 50-1000)");
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

  CrashChildOptions& o = a->child;
  *child = app->add_subcommand("crash-child", "internal: run by kvbench crash");
  (*child)->group("");  // hidden from --help
  (*child)->add_option("--engine", o.engine)->required();
  (*child)->add_option("--dir", o.dir)->required();
  (*child)->add_option("--report-fd", o.report_fd)->required();
  (*child)->add_option("--seed", o.seed);
  (*child)->add_option("--keys", o.keys);
  (*child)->add_option("--threads", o.threads);
  (*child)
      ->add_option("--model", a->child_model)
      ->check(CLI::IsMember({"sync", "none"}));
  (*child)->add_option("--sync-every", o.sync_every);
  (*child)->add_option("--version-base", o.version_base);
  (*child)->add_option("--seq-base", o.seq_base);
  return c;
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
  o.argv = argv;
  o.durability = *ParseDurability(a.durability);  // checked by CLI11
  Result<SizeDist> kill = ParseSizeDist(a.kill_ms);
  if (!kill.ok() || !kill->hist_sizes.empty()) {
    return UsageError("--kill-ms: expected MIN-MAX milliseconds, got '" +
                      a.kill_ms + "'");
  }
  o.kill_min_ms = kill->min;
  o.kill_max_ms = kill->max;
  Status s = ResolveCrashOptions(&o);
  if (!s.ok()) return UsageError(std::string(s.message()));
  std::string out = a.out.empty() ? "kvbench-out/crash-" + Timestamp() : a.out;
  s = PrepareOutput(out);
  if (!s.ok()) return UsageError("output directory: " + s.ToString());
  o.data_dir = a.data_dir.empty() ? out + "/data" : a.data_dir;
  s = PrepareOutput(o.data_dir);
  if (!s.ok()) return UsageError("data directory: " + s.ToString());
  Result<CrashReport> r = RunCrash(o, std::cerr);
  std::error_code ec;
  if (a.data_dir.empty()) fs::remove(o.data_dir, ec);  // ours, if empty
  if (!r.ok()) {
    std::cerr << "kvbench: error: " << r.status().ToString() << "\n";
    return kExitFailed;
  }
  s = WriteJsonFile(out + "/crash.json", CrashReportJson(*r));
  if (!s.ok()) return UsageError(s.ToString());
  PrintCrashTable(std::cout, *r);
  std::cout << "results: " << out << "/crash.json\n";
  return r->failed() ? kExitFailed : 0;
}

}  // namespace

int KvbenchMain(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  CLI::App app{
      "kvbench: measure embedded key-value engines side by side, reproducibly"};
  app.require_subcommand(1);
  RunArgs ra;
  CLI::App* run = app.add_subcommand(
      "run", "run a suite (default: quick) and write DIR/results.json");
  run->add_option("--suite", ra.suite,
                  "suite name (suites/NAME.json) or file; default quick");
  run->add_option("--engines", ra.engines,
                  "engines with options, e.g. rocksdb:cache_mb=256,lmdb; "
                  "@persistent = every "
                  "built persistent engine, @all = every built engine");
  run->add_option("--workloads", ra.workloads,
                  "comma list of workloads (filters the suite)");
  run->add_option("--keys", ra.keys, "keys loaded (overrides the workload)")
      ->each([&](const std::string&) { ra.keys_set = true; });
  run->add_option("--ops", ra.ops, "run-phase operations over all threads")
      ->each([&](const std::string&) { ra.ops_set = true; });
  run->add_option("--threads", ra.threads,
                  "thread counts, a comma list sweeps: 1,2,4");
  run->add_option("--value-size", ra.value_size,
                  "value bytes: N, A-B (uniform) or hist:S:W,...");
  run->add_option("--key-size", ra.key_size, "key bytes: N or A-B");
  run->add_option("--durability", ra.durability, "none | async | sync")
      ->check(CLI::IsMember({"none", "async", "sync"}));
  run->add_option("--repetitions", ra.repetitions,
                  "repetitions of every point (fresh data each)")
      ->check(CLI::Range(1, 1000));
  run->add_option("--shard", ra.shard,
                  "run only shard i of n (0-based \"i/n\"); default: from "
                  "KVB_SHARD, CI_NODE_INDEX/CI_NODE_TOTAL or SLURM array vars");
  run->add_option("--seed", ra.seed, "workload seed (default 42)")
      ->each([&](const std::string&) { ra.seed_set = true; });
  run->add_option("--out", ra.out,
                  "output directory (default kvbench-out/<UTC time>)");
  run->add_option("--data-dir", ra.data_dir,
                  "where databases are created (default OUT/data)");
  run->add_flag("--keep-data", ra.keep_data,
                "keep each point's database directory");
  run->add_flag(
      "--reuse", ra.reuse,
      "reuse a database loaded by an earlier run with the same load parameters "
      "(implies keeping it)");
  run->add_option("--cache-state", ra.cache_state,
                  "warm, or cold: evict the database's files from the page "
                  "cache before the "
                  "measured phase")
      ->check(CLI::IsMember({"warm", "cold"}));
  run->add_option(
         "--target-rate", ra.target_rate,
         "open loop at this many ops/s in total; latency counts from each op's "
         "intended start")
      ->check(CLI::NonNegativeNumber);
  auto* wo = run->add_option("--warmup-ops", ra.warmup_ops,
                             "warm-up operations (not recorded)");
  run->add_option("--warmup-seconds", ra.warmup_seconds,
                  "warm-up seconds (not recorded)")
      ->check(CLI::NonNegativeNumber)
      ->excludes(wo);
  run->add_option(
      "--set", ra.sets,
      "any workload parameter NAME=VALUE (repeatable): distribution, "
      "zipf_theta, "
      "mix, scan_length, insert_order, batch_size, hot_data_fraction, ...");
  run->add_option("--latency-sample", ra.latency_sample,
                  "time 1 op in N (power of two; default 1 = every op); for "
                  "sub-100 ns engines "
                  "where two timestamps (~10 ns each here) would dominate")
      ->check([](const std::string& s) -> std::string {
        unsigned long v = std::strtoul(s.c_str(), nullptr, 10);
        return v >= 1 && (v & (v - 1)) == 0 ? "" : "must be a power of two";
      });
  run->add_option("--verify", ra.verify,
                  "on (default): check every value read; off: db_bench's mode "
                  "for comparing with other harnesses: reads unchecked, no "
                  "per-key harness memory touched by reads")
      ->check(CLI::IsMember({"on", "off"}));
  run->add_option(
         "--count-instructions", ra.count_instructions,
         "count the instructions of each measured phase (deterministic gates "
         "for CPU-bound points): perf (hardware counter), callgrind (re-runs "
         "kvbench under valgrind, ~50x slower: keep suites small), auto (perf, "
         "else callgrind, else off), off (default); results get "
         "instructions and instructions_per_op")
      ->check(CLI::IsMember({"auto", "perf", "callgrind", "off"}));
  run->add_flag("--quiet", ra.quiet,
                "no progress or per-point messages on stderr");

  std::string rerun_file;
  bool rerun_quiet = false;
  CLI::App* rerun = app.add_subcommand(
      "rerun", "repeat the configuration recorded in a results file");
  rerun->add_option("FILE", rerun_file, "results.json to repeat")->required();
  rerun->add_flag("--quiet", rerun_quiet, "no progress or per-point messages");

  CLI::App* list = app.add_subcommand(
      "list", "list adapters, capabilities, options, workloads");

  std::string inspect_name, inspect_path;
  bool dump_keys = false;
  CLI::App* inspect =
      app.add_subcommand("inspect", "check a database offline with its engine");
  inspect->add_option("NAME", inspect_name, "engine name")->required();
  inspect->add_option("PATH", inspect_path, "database directory or file")
      ->required();
  inspect->add_flag("--dump-keys", dump_keys, "print every key");

  CrashArgs crash_args;
  CLI::App* crash_child = nullptr;
  CLI::App* crash = AddCrashCommands(&app, &crash_args, &crash_child);

  // The report-side commands parse their own arguments (report/commands.h).
  struct PassThrough {
    const char* name;
    const char* help;
    int (*fn)(const std::vector<std::string>&, std::ostream&, std::ostream&);
    CLI::App* app = nullptr;
  };
  PassThrough pass_through[] = {
      {"report", "write DIR/report.md and DIR/plots/ from results files",
       report::RunReportCommand},
      {"compare", "compare two results (--gate: exit non-zero on regression)",
       report::RunCompareCommand},
      {"merge", "join results files (shards, machines) into one",
       report::RunMergeCommand},
      {"ab", "run two kvbench builds alternately and compare them",
       report::RunAbCommand},
  };
  for (PassThrough& p : pass_through) {
    p.app = app.add_subcommand(p.name, p.help);
    p.app->prefix_command();
    p.app->set_help_flag();
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    return UsageError(what + " (see kvbench --help)");
  }
  try {
    if (*run) return CmdRun(ra, args);
    if (*rerun) return CmdRerun(rerun_file, rerun_quiet, args);
    if (*list) return CmdList();
    if (*inspect) return CmdInspect(inspect_name, inspect_path, dump_keys);
    if (*crash) return CmdCrash(crash_args, args);
    if (*crash_child) {
      crash_args.child.sync_model = crash_args.child_model == "sync";
      return CrashChildMain(crash_args.child);
    }
    for (const PassThrough& p : pass_through) {
      if (*p.app) return p.fn(p.app->remaining(), std::cout, std::cerr);
    }
  } catch (const std::exception& e) {
    // Third-party code (JSON, filesystem) may throw; never crash with a trace.
    std::cerr << "kvbench: error: " << e.what() << "\n";
    return kExitFailed;
  }
  return kExitUsage;
}

}  // namespace kvb
