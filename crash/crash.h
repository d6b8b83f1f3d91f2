// kvbench crash — kill -9 testing of every persistent adapter.
//
// For each engine and trial the parent starts a child process (kvbench itself,
// hidden subcommand `crash-child`, fork + exec so the child is a clean
// process). The child opens the adapter on a fresh directory and writes
// self-verifying values (workloads/value_codec.h: each value encodes key,
// version and seed) and deletes over a small key set, reporting every step on
// a pipe: "about to apply op #i (key, version, put|delete)", "acknowledged op
// #i", and in the non-durable model "sync #s starts" / "sync #s done". The
// parent SIGKILLs it at a seeded random moment after it reported the open,
// drains the pipe (everything written before the kill is still there), reopens
// the database in-process (timed: the recovery time) and checks every key.
//
// Durability model, per engine spec: the spec's own `durability` option wins,
// else --durability fills it in. A kill -9 is the death of the process, so
// classes process, periodic:MS and sync (core/durability.h) all promise that
// every acknowledged op survives it: model `every-ack`. Class memory promises
// nothing, so the child calls Sync() every ~sync_every acks and an op must
// survive when its ack was reported before the start of a Sync that completed:
// model `synced-only`. (Power loss, where the classes differ, is the
// recorder's job: crash/powerloss/.)
//
// The allowed recovered states of a key are its state after its last durable
// op, or after any later issued op (acknowledged or in flight: a later op may
// legitimately have landed). Violations (names used in output and crash.json):
//   open_failed   the database does not open, or reading it returns errors;
//   lost_durable  a key is absent, older, or present after a durable delete;
//   invented      a value never written for that key (unknown version, other
//                 key's value, torn or corrupt bytes, a key never written);
//   not_prefix    (single-threaded children, engines that document prefix
//                 consistency) no prefix of the issued ops explains the state.
// Each key is owned by one child thread, so its ops are ordered.
//
// Thread safety: RunCrash runs trials one after another on the calling thread;
// CrashOracle is single-threaded.
#ifndef KVB_CRASH_CRASH_H_
#define KVB_CRASH_CRASH_H_

#include <array>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.h"
#include "core/result.h"
#include "core/status.h"

namespace kvb {

enum class Violation : uint8_t {
  kOpenFailed,
  kLostDurable,
  kInvented,
  kNotPrefix
};
inline constexpr int kViolationClasses = 4;
// "open_failed", "lost_durable", "invented", "not_prefix".
std::string_view ViolationName(Violation v);

// One report from the child: a fixed 24-byte record, written with one write(2)
// (atomic on a pipe: below PIPE_BUF), so child threads need no lock.
enum class CrashEventKind : uint8_t {
  kOpened = 1,     // the adapter opened; the kill timer starts
  kIssue = 2,      // about to apply op `seq` to `key` (version, deleted)
  kAck = 3,        // op `seq` returned OK
  kSyncStart = 4,  // Sync `seq` is about to be called
  kSyncDone = 5,   // Sync `seq` returned OK
  kClosing = 6,    // (close phase) Close is about to be called; kill timer
  kClosed = 7,     // (close phase) Close returned OK: a later kill missed it
};
struct CrashEvent {
  CrashEventKind kind;
  uint8_t deleted;
  uint16_t thread;
  uint32_t version;
  uint64_t key;
  uint64_t seq;
};
static_assert(sizeof(CrashEvent) == 24);

// The recovered state of one key, as read back by the parent.
struct RecoveredKey {
  enum Kind : uint8_t { kAbsent, kVersion, kForeign } kind = kAbsent;
  uint32_t version = 0;  // for kVersion
};

// What the child reported, and the judgement of a recovered state against it.
class CrashOracle {
 public:
  // `durable_acks`: true = every ack is durable (the sync model).
  CrashOracle(uint64_t keys, bool durable_acks);

  // Feeds the next event, in pipe order. Corruption for an inconsistent
  // stream (an ack of an op never issued, a key out of range, ...).
  Status Add(const CrashEvent& e);

  struct Verdict {
    bool ok = true;
    Violation violation = Violation::kLostDurable;  // when !ok
    bool lost_acked = false;  // an acknowledged (not necessarily durable)
                              // op is not reflected (information only)
    std::string detail;       // when !ok: what was expected, what was found
  };
  // Judges key `id`. Call after the last Add.
  Verdict Check(uint64_t id, const RecoveredKey& state) const;
  // Whether the whole state (one RecoveredKey per key) is the result of some
  // prefix of the issued ops that contains every durable op. Meaningful only
  // when one child thread issued the ops (seqs 0, 1, 2, ... in order).
  bool PrefixConsistent(const std::vector<RecoveredKey>& states) const;
  // After a clean check and a Close: `states` is now the durable state of
  // every key, and ops that did not land can never appear. Prepares for the
  // next child on the same directory (which must use versions above
  // next_version() and seqs from next_seq()).
  void Settle(const std::vector<RecoveredKey>& states);
  uint32_t next_version() const { return max_version_ + 1; }
  uint64_t next_seq() const { return end_seq_; }

  uint64_t issued() const { return issued_; }
  uint64_t acked() const { return acked_; }
  // Acks that are durable under the model.
  uint64_t durable_acks() const;
  uint64_t syncs() const { return syncs_done_; }
  bool opened() const { return opened_; }

 private:
  static constexpr uint64_t kNever = ~uint64_t{0};
  struct Op {
    uint64_t seq;
    uint64_t ack_pos;  // position of the ack in the stream, or kNever
    uint32_t version;
    bool deleted;
    bool settled = false;  // recovered by an earlier round: durable
  };
  // Index of the newest op of `ops` acked before stream position `cut`, or -1.
  static int64_t LastAckedBefore(const std::vector<Op>& ops, uint64_t cut);
  uint64_t DurableCut() const { return durable_acks_ ? kNever : durable_cut_; }
  Verdict Judge(uint64_t id, const RecoveredKey& state, int64_t base) const;

  bool durable_acks_;
  bool opened_ = false;
  uint64_t pos_ = 0;  // events seen
  uint64_t issued_ = 0, acked_ = 0, syncs_done_ = 0;
  uint32_t max_version_ = 0;
  uint64_t end_seq_ = 0;      // 1 + the highest seq issued
  uint64_t durable_cut_ = 0;  // stream position of the newest completed
                              // sync's start (acks before it are durable)
  std::vector<std::vector<Op>> ops_;  // per key, in issue order
  std::vector<std::pair<uint64_t, uint64_t>> sync_starts_;  // (id, pos)
};

// Adapter names (and durability models) whose documentation promises that a
// crash leaves the state of a prefix of the acknowledged ops.
bool PromisesPrefix(std::string_view name, Durability durability);
// True for every class but memory: a killed process loses no acknowledged op.
bool EveryAckSurvives(const DurabilityClass& c);

// Where in an engine's life a trial's kill lands (--kill-phase):
//   write     mid-write (the default): the child writes until killed;
//   open      a write-phase kill, then a child that only reopens the database
//             is killed 0..open_kill_max_ms after its start (during Open and
//             recovery, or just after); the parent then reopens and checks;
//   close     the child writes kill_at ops, then calls Close, and is killed
//             0..open_kill_max_ms after Close starts;
//   recovery  as open, but two reopening children are killed one after the
//             other (a second kill during recovery) before the parent's check.
// A recovery never changes the acknowledged-durable set, so every phase is
// judged by the same oracle.
enum class KillPhase : uint8_t { kWrite, kOpen, kClose, kRecovery };
std::string_view KillPhaseName(KillPhase p);  // "write", "open", ...
// InvalidArgument (one line) for an unknown name.
Result<KillPhase> ParseKillPhase(std::string_view name);

struct CrashOptions {
  std::vector<std::string> engines;  // specs, as given
  int trials = 10;
  // For specs without their own.
  DurabilityClass durability{Durability::kSync, 0};
  uint64_t seed = 42;
  uint64_t keys = 1000;
  uint32_t threads = 1;         // child writer threads
  uint32_t kill_min_ms = 50;    // kill delay after the open, uniform in
  uint32_t kill_max_ms = 1000;  // [kill_min_ms, kill_max_ms]
  // Kill by operation count instead (--kill-at ops:MIN-MAX; 0-0 = by time):
  // the child SIGKILLs itself right after its N-th acknowledged op, N uniform
  // in [kill_min_ops, kill_max_ops] from the trial seed. With one writer
  // thread the same seed replays the same kill point. The close phase always
  // counts ops (default 100-1000).
  uint64_t kill_min_ops = 0, kill_max_ops = 0;
  KillPhase phase = KillPhase::kWrite;
  uint32_t open_kill_max_ms = 30;  // open/close/recovery kill delay bound
  // Non-zero: trial 0's seed (a replay of one trial); later trials derive
  // theirs from it as from --seed.
  uint64_t trial_seed = 0;
  // --short-cycles: ResolveCrashOptions adds kShortCycleOptions to the specs
  // of those engines (an option the spec sets itself wins), so rotation,
  // checkpoint, compaction and Shrink happen within a trial.
  bool short_cycles = false;
  uint32_t sync_every = 100;  // mean acks between Syncs (synced-only model)
  // Kills per trial on the same directory: each round a new child reopens
  // what the previous round's check left (recovery after recovery).
  uint32_t rounds = 1;
  std::string data_dir;   // trial databases: DATA/<engine>/trial-<t>
  std::string child_exe;  // default: /proc/self/exe (kvbench)
  // crash.json's context block (machine, build, ...), captured by the caller
  // (the CLI: harness/context.h) and recorded as is, with schema_version set.
  nlohmann::json context;
  bool quiet = false;
  // Test seam: opens the adapter that checks a trial's database in `dir`
  // (default: OpenAdapter). The child always uses the registry.
  std::function<Result<std::unique_ptr<Adapter>>(const std::string& spec,
                                                 const std::string& dir)>
      open_for_check;
};

// Per engine, the options that shorten its maintenance cycles to a few ms
// or one MB: linhash rotates 1 MB segments, checkpoints every 15 ms and
// compacts every 10 ms any segment with 10% dead bytes; typedmap shrinks its
// log every 10 ms once it holds 1.5 records per live key.
struct ShortCycle {
  std::string_view engine, options;
};
inline constexpr ShortCycle kShortCycleOptions[] = {
    {"linhash",
     "max_segment_mb=1,checkpoint_interval_ms=15,compaction_interval_ms=10,"
     "compaction_min_segment_mb=0,compaction_min_fragmentation=0.1"},
    {"typedmap", "auto_shrink_ratio=1.5,auto_shrink_ms=10"},
};

// Parses --kill-at: "ops:MIN-MAX" or "ops:N" (MIN >= 1) into the options'
// kill_min_ops/kill_max_ops. InvalidArgument (one line) otherwise.
Status ParseKillAt(std::string_view text, CrashOptions* o);

// Validates options and resolves each engine: fills the default durability
// into specs that lack one. InvalidArgument with a one-line message for an
// unknown engine or option, or a bad count.
Status ResolveCrashOptions(CrashOptions* o);

// A trial whose child acknowledged fewer ops than this before the kill tested
// nothing (no order, no durable state to check): it is "untested", not passed.
inline constexpr uint64_t kMinAckedOpsPerTrial = 2;

// What a crash run showed. kUntested: nothing failed, but nothing (or not
// everything) was tested: every engine was skipped, or some trial acknowledged
// fewer than kMinAckedOpsPerTrial ops. Only kPassed exits 0.
enum class CrashVerdict : uint8_t { kPassed, kFailed, kUntested };
std::string_view CrashVerdictName(CrashVerdict v);  // "passed", ...

struct CrashTrial {
  int trial = 0;
  uint64_t seed = 0;
  uint32_t kill_after_ms = 0;  // of the first round (time-based kills)
  uint64_t kill_at_op = 0;     // of the first round (op-count kills), else 0
  KillPhase phase = KillPhase::kWrite;
  std::vector<uint32_t> reopen_kill_ms;  // open/close/recovery kill delays
  // Reopening children (open, recovery) killed before they reported the open:
  // the kills that landed inside Open/recovery, not after it.
  uint32_t kills_in_open = 0;
  // Close phase: 1 if the child was killed before it reported that Close
  // returned (the kill landed inside Close), else 0.
  uint32_t kills_in_close = 0;
  // The last check's view of the database: the reopened adapter's Stats()
  // (segments, recoveries, records, ...) and the files in the trial
  // directory, so a run shows whether rotation, checkpoint, compaction or
  // shrink happened before the kill.
  std::map<std::string, double> engine_stats;
  std::vector<std::string> files;
  std::string replay;   // one command line that replays this trial
  uint32_t rounds = 0;  // rounds run (stops at the first failure)
  uint64_t issued = 0, acked = 0, durable_acked = 0, syncs = 0;  // all rounds
  double recovery_ms = -1;  // the slowest round's reopen; -1: did not open
  std::array<uint64_t, kViolationClasses> violations{};  // keys (open_failed,
                                                         // not_prefix: 1)
  uint64_t lost_unsynced = 0;  // acked-not-durable ops lost (information)
  bool prefix_checked = false;
  std::string child_error;  // the child died on its own, or misreported
  std::vector<std::string> examples;  // first violations, readable
  std::string kept_dir;               // data kept for a failed trial
  bool failed() const;                // a violation or a child error
  bool tested() const { return acked >= kMinAckedOpsPerTrial; }
};

struct CrashEngineResult {
  std::string spec;             // resolved, durability included
  std::string skipped;          // non-empty: why no trials ran
  std::string model;            // "every-ack" or "synced-only"
  bool prefix_checked = false;  // not_prefix was checked
  std::vector<CrashTrial> trials;
  uint64_t Violations(Violation v) const;
  uint64_t ChildErrors() const;
  uint64_t UntestedTrials() const;  // trials that acked too few ops
  bool failed() const;              // some trial failed
};

struct CrashReport {
  std::vector<CrashEngineResult> engines;
  nlohmann::json context;
  nlohmann::json config;
  CrashVerdict Verdict() const;
  // True unless the verdict is kPassed (a violation, or nothing tested): the
  // CLI exits non-zero then.
  bool failed() const { return Verdict() != CrashVerdict::kPassed; }
  // One line saying why the verdict is not kPassed ("" when it is).
  std::string VerdictReason() const;
};

// Runs every trial of every engine (progress on `log`). Errors only for
// setup failures (no pipe, no child executable); engine misbehaviour is data.
// The caller may add end-of-run facts (load average) to the report's context.
Result<CrashReport> RunCrash(const CrashOptions& o, std::ostream& log);
// crash.json (results/SCHEMA.md, "Crash results").
nlohmann::json CrashReportJson(const CrashReport& r);
// One row per engine: trials, violations by class, recovery median/max, acked
// ops per trial (median).
void PrintCrashTable(std::ostream& out, const CrashReport& r);

// The hidden `kvbench crash-child` subcommand.
struct CrashChildOptions {
  std::string engine;  // resolved spec
  std::string dir;
  int report_fd = -1;
  uint64_t seed = 0;
  uint64_t keys = 0;
  uint32_t threads = 1;
  bool sync_model = true;  // false: call Sync() every ~sync_every acks
  uint32_t sync_every = 100;
  uint32_t version_base = 0;  // versions start above it (later rounds)
  uint64_t seq_base = 0;      // op numbers start here (later rounds)
  // "write": write until killed; "open": open, report, then wait to be
  // killed; "close": after stop_at_ack acks, report kClosing and Close.
  std::string mode = "write";
  uint64_t stop_at_ack = 0;  // write mode: SIGKILL ourselves after this ack
};
// Runs until killed; returns non-zero (message on stderr) if the adapter
// fails to open or an op fails.
int CrashChildMain(const CrashChildOptions& o);

}  // namespace kvb

#endif  // KVB_CRASH_CRASH_H_
