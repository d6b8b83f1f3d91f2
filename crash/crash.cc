#include "crash/crash.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "adapters/registry.h"
#include "core/names.h"
#include "core/stats.h"
#include "core/strings.h"
#include "crash/crash_internal.h"
#include "results/schema.h"
#include "workloads/keyset.h"
#include "workloads/random.h"
#include "workloads/value_codec.h"

namespace kvb {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr NameTable<Violation, 4> kViolationNames{{{
    {Violation::kOpenFailed, "open_failed"},
    {Violation::kLostDurable, "lost_durable"},
    {Violation::kInvented, "invented"},
    {Violation::kNotPrefix, "not_prefix"},
}}};

std::string_view ViolationName(Violation v) {
  return kViolationNames.Name(v, "?");
}

constexpr NameTable<KillPhase, 4> kKillPhaseNames{{{
    {KillPhase::kWrite, "write"},
    {KillPhase::kOpen, "open"},
    {KillPhase::kClose, "close"},
    {KillPhase::kRecovery, "recovery"},
}}};

std::string_view KillPhaseName(KillPhase p) {
  return kKillPhaseNames.Name(p, "?");
}

Result<KillPhase> ParseKillPhase(std::string_view name) {
  if (std::optional<KillPhase> p = kKillPhaseNames.Find(name)) return *p;
  return Status::InvalidArgument(
      "--kill-phase: expected write, open, close "
      "or recovery, got '" +
      std::string(name) + "'");
}

// ---------------------------------------------------------------------------
// CrashOracle

CrashOracle::CrashOracle(uint64_t keys, bool durable_acks)
    : durable_acks_(durable_acks), ops_(keys) {}

Status CrashOracle::Add(const CrashEvent& e) {
  const uint64_t pos = pos_++;
  auto bad = [&](const std::string& what) {
    return Status::Corruption("child report #" + std::to_string(pos) + ": " +
                              what);
  };
  switch (e.kind) {
    case CrashEventKind::kOpened:
      opened_ = true;
      return Status::OK();
    case CrashEventKind::kIssue: {
      if (e.key >= ops_.size()) return bad("key out of range");
      std::vector<Op>& ops = ops_[e.key];
      // Versions of a key only grow; anything else is a protocol error, and
      // the per-key judgement below would be meaningless.
      if (!ops.empty() && e.version <= ops.back().version) {
        return bad("version did not grow");
      }
      ops.push_back(Op{e.seq, kNever, e.version, e.deleted != 0});
      ++issued_;
      max_version_ = std::max(max_version_, e.version);
      end_seq_ = std::max(end_seq_, e.seq + 1);
      return Status::OK();
    }
    case CrashEventKind::kAck: {
      if (e.key >= ops_.size()) return bad("key out of range");
      std::vector<Op>& ops = ops_[e.key];
      for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
        if (it->seq != e.seq) continue;
        if (it->ack_pos != kNever) return bad("op acknowledged twice");
        it->ack_pos = pos;
        ++acked_;
        return Status::OK();
      }
      return bad("ack of an op never issued");
    }
    case CrashEventKind::kClosing:
    case CrashEventKind::kClosed:
      return Status::OK();
    case CrashEventKind::kSyncStart:
      sync_starts_.emplace_back(e.seq, pos);
      return Status::OK();
    case CrashEventKind::kSyncDone: {
      auto it = std::find_if(sync_starts_.begin(), sync_starts_.end(),
                             [&](const auto& s) { return s.first == e.seq; });
      if (it == sync_starts_.end()) return bad("sync done without start");
      // Every ack reported before this sync started is durable now.
      durable_cut_ = std::max(durable_cut_, it->second);
      sync_starts_.erase(it);
      ++syncs_done_;
      return Status::OK();
    }
  }
  return bad("unknown record kind " + std::to_string(int(e.kind)));
}

int64_t CrashOracle::LastAckedBefore(const std::vector<Op>& ops, uint64_t cut) {
  for (int64_t j = static_cast<int64_t>(ops.size()) - 1; j >= 0; --j) {
    if (ops[j].settled || ops[j].ack_pos < cut) return j;
  }
  return -1;
}

uint64_t CrashOracle::durable_acks() const {
  if (durable_acks_) return acked_;
  uint64_t n = 0;
  for (const std::vector<Op>& ops : ops_) {
    for (const Op& op : ops) n += op.ack_pos < durable_cut_;
  }
  return n;
}

// `base`: index of the op whose state must at least be reflected (-1: the key
// had no durable op). Allowed: the state after ops[base] or after any later
// issued op, whether acknowledged or not.
CrashOracle::Verdict CrashOracle::Judge(uint64_t id, const RecoveredKey& state,
                                        int64_t base) const {
  const std::vector<Op>& ops = ops_[id];
  Verdict v;
  auto fail = [&](Violation cls, std::string detail) {
    v.ok = false;
    v.violation = cls;
    v.detail = std::move(detail);
    return v;
  };
  std::string durable =
      base < 0 ? std::string("nothing durable")
               : (ops[base].deleted ? "durable delete" : "durable put") +
                     std::string(" v") + std::to_string(ops[base].version);
  if (state.kind == RecoveredKey::kForeign) {
    return fail(Violation::kInvented,
                "holds a value not written for this key (another key's, torn "
                "or corrupt); " +
                    durable);
  }
  if (state.kind == RecoveredKey::kVersion) {
    auto it = std::find_if(ops.begin(), ops.end(), [&](const Op& op) {
      return !op.deleted && op.version == state.version;
    });
    if (it == ops.end()) {
      return fail(Violation::kInvented,
                  "holds v" + std::to_string(state.version) +
                      ", never written (" + std::to_string(ops.size()) +
                      " ops issued)");
    }
    if (it - ops.begin() < base) {
      return fail(Violation::kLostDurable,
                  "holds v" + std::to_string(state.version) + ", but " +
                      durable + " is newer");
    }
    return v;
  }
  if (base < 0 || ops[base].deleted) return v;
  for (size_t j = base + 1; j < ops.size(); ++j) {
    if (ops[j].deleted) return v;  // a later delete may have landed
  }
  return fail(Violation::kLostDurable, "absent, but " + durable);
}

CrashOracle::Verdict CrashOracle::Check(uint64_t id,
                                        const RecoveredKey& state) const {
  const std::vector<Op>& ops = ops_[id];
  Verdict v = Judge(id, state, LastAckedBefore(ops, DurableCut()));
  if (v.ok && !durable_acks_) {
    v.lost_acked = !Judge(id, state, LastAckedBefore(ops, kNever)).ok;
  }
  return v;
}

bool CrashOracle::PrefixConsistent(
    const std::vector<RecoveredKey>& states) const {
  // L = the number of ops applied (ops with seq < L). Each key allows a union
  // of disjoint L intervals; count, per L, the keys that allow it. Seqs may
  // have gaps (ops of an earlier round that never landed were dropped).
  const uint64_t n = end_seq_;
  std::vector<int64_t> diff(n + 2, 0);
  uint64_t constrained = 0, lo = 0;
  auto allow = [&](uint64_t a, uint64_t b) {
    b = std::min(b, n);
    if (a > b) return;
    ++diff[a];
    --diff[b + 1];
  };
  for (uint64_t id = 0; id < ops_.size(); ++id) {
    const std::vector<Op>& ops = ops_[id];
    const RecoveredKey& st = states[id];
    if (ops.empty()) {
      if (st.kind != RecoveredKey::kAbsent) return false;
      continue;
    }
    int64_t base = LastAckedBefore(ops, DurableCut());
    if (base >= 0) lo = std::max(lo, ops[base].seq + 1);
    auto next = [&](size_t j) {
      return j + 1 < ops.size() ? ops[j + 1].seq : n;
    };
    if (st.kind == RecoveredKey::kForeign) return false;
    if (st.kind == RecoveredKey::kAbsent) allow(0, ops[0].seq);
    bool any = st.kind == RecoveredKey::kAbsent;
    for (size_t j = 0; j < ops.size(); ++j) {
      bool match = st.kind == RecoveredKey::kAbsent
                       ? ops[j].deleted
                       : !ops[j].deleted && ops[j].version == st.version;
      if (match) {
        allow(ops[j].seq + 1, next(j));
        any = true;
      }
    }
    if (!any) return false;
    ++constrained;
  }
  int64_t running = 0;
  for (uint64_t l = 0; l <= n; ++l) {
    running += diff[l];
    if (l >= lo && running == static_cast<int64_t>(constrained)) return true;
  }
  return false;
}

void CrashOracle::Settle(const std::vector<RecoveredKey>& states) {
  for (uint64_t id = 0; id < ops_.size(); ++id) {
    std::vector<Op>& ops = ops_[id];
    const RecoveredKey& st = states[id];
    // The op whose state was recovered (for an absent key: the newest
    // delete; none: the key is back to never written).
    int64_t j = static_cast<int64_t>(ops.size()) - 1;
    for (; j >= 0; --j) {
      bool match = st.kind == RecoveredKey::kAbsent
                       ? ops[j].deleted
                       : !ops[j].deleted && ops[j].version == st.version;
      if (match) break;
    }
    ops.resize(static_cast<size_t>(j + 1));
    if (j >= 0) ops[j].settled = true;
  }
  // Sync ids restart with each child.
  sync_starts_.clear();
  opened_ = false;
}

bool EveryAckSurvives(const DurabilityClass& c) {
  return c.level != Durability::kMemory;
}

bool PromisesPrefix(std::string_view name, Durability durability) {
  // From each engine's documentation: linhash README "Durability contract"
  // (every mode: the state after some prefix of the acknowledged ops);
  // RocksDB/LevelDB replay their write-ahead log in order and stop at its
  // end; LMDB and SQLite (WAL) commit transactions in order. typedmap appends
  // each write to its log in call order in classes process, periodic
  // (kImmediate) and sync (kFSync); at memory (kAsync) it coalesces dirty
  // keys, so no promise there.
  // fileperkey writes one file per key and promises nothing across keys.
  if (name == "linhash" || name == "rocksdb" || name == "leveldb" ||
      name == "lmdb" || name == "sqlite") {
    return true;
  }
  if (name == "typedmap") return durability != Durability::kMemory;
  return false;
}

// ---------------------------------------------------------------------------
// Options

Status ParseKillAt(std::string_view text, CrashOptions* o) {
  auto bad = [&] {
    return Status::InvalidArgument(
        "--kill-at: expected ops:MIN-MAX (counts >= 1, MIN <= MAX), got '" +
        std::string(text) + "'");
  };
  std::string_view kind, range, lo_text, hi_text;
  if (!SplitOnce(text, ':', &kind, &range) || kind != "ops") return bad();
  if (!SplitOnce(range, '-', &lo_text, &hi_text)) lo_text = hi_text = range;
  Result<uint64_t> lo = ParseUint(lo_text, "--kill-at", 1);
  Result<uint64_t> hi = ParseUint(hi_text, "--kill-at", 1);
  if (!lo.ok() || !hi.ok() || *lo > *hi) return bad();
  o->kill_min_ops = *lo;
  o->kill_max_ops = *hi;
  return Status::OK();
}

namespace {
// Adds the engine's kShortCycleOptions that `spec` does not set itself.
void AddShortCycles(AdapterSpec* spec) {
  for (const ShortCycle& c : kShortCycleOptions) {
    if (c.engine != spec->name) continue;
    for (const std::string& kv : SplitList(c.options)) {
      std::string_view key, value;
      if (!SplitOnce(kv, '=', &key, &value)) continue;
      spec->options.emplace(std::string(key), std::string(value));
    }
  }
}
}  // namespace

Status ResolveCrashOptions(CrashOptions* o) {
  if (o->engines.empty()) {
    return Status::InvalidArgument("--engines: expected at least one engine");
  }
  if (o->trials < 1) return Status::InvalidArgument("--trials: must be >= 1");
  if (o->keys < 1) return Status::InvalidArgument("--keys: must be >= 1");
  if (o->threads < 1) return Status::InvalidArgument("--threads: must be >= 1");
  if (o->rounds < 1) return Status::InvalidArgument("--rounds: must be >= 1");
  if (o->kill_min_ms > o->kill_max_ms) {
    return Status::InvalidArgument(
        "--kill-ms: expected MIN-MAX with MIN <= MAX");
  }
  if (o->kill_min_ops > o->kill_max_ops) {
    return Status::InvalidArgument(
        "--kill-at: expected ops:MIN-MAX with MIN <= MAX");
  }
  if (o->kill_max_ops > 0 && o->kill_min_ops < 1) {
    return Status::InvalidArgument("--kill-at: MIN must be >= 1");
  }
  for (std::string& spec : o->engines) {
    Result<AdapterSpec> parsed = ParseAdapterSpec(spec);
    if (!parsed.ok()) return parsed.status().WithContext("--engines");
    if (o->short_cycles) AddShortCycles(&*parsed);
    const AdapterInfo* info = FindAdapter(parsed->name);
    bool keeps_data = info == nullptr || info->capabilities.persistent;
    if (!parsed->options.count("durability") && keeps_data) {
      parsed->options["durability"] = o->durability.ToString();
    }
    spec = parsed->ToString();
    // The registry checks the name, the options and their values; an adapter
    // that was not built is skipped at run time with a note.
    Status checked = CheckAdapterSpec(spec);
    if (!checked.ok() && !checked.IsNotSupported()) {
      return checked.WithContext("--engines");
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------
// One child

namespace {

struct ChildRun {
  std::vector<CrashEvent> events;
  std::string error;  // the child ended on its own or misreported
};

// Sent by the forked process when exec fails (not a CrashEventKind: the
// oracle never sees it).
constexpr CrashEventKind kExecFailed = static_cast<CrashEventKind>(0x7f);

struct ChildArgs {
  std::string exe, spec, dir;
  uint64_t seed = 0, keys = 0;
  uint32_t threads = 1, sync_every = 100, kill_ms = 0;
  bool sync_model = true;
  uint32_t version_base = 0;
  uint64_t seq_base = 0;
  std::string mode = "write";  // crash-child --mode
  uint64_t stop_at_ack = 0;    // write: self-kill; close: Close after it
};

// When the parent's kill timer starts: at the child's open report, at its
// Close report (close mode), or at its start (open mode: the open is the
// target). kNoTimer: the child kills itself (op-count kills).
constexpr uint32_t kNoTimer = UINT32_MAX;
CrashEventKind TimerEvent(const ChildArgs& a) {
  return a.mode == "close" ? CrashEventKind::kClosing : CrashEventKind::kOpened;
}
bool SelfKill(const ChildArgs& a) {
  return a.mode == "write" && a.stop_at_ack > 0;
}

std::string WaitStatusText(int status) {
  if (WIFEXITED(status))
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("died of signal ") + strsignal(WTERMSIG(status));
  }
  return "ended (status " + std::to_string(status) + ")";
}

// Appends the complete records in `buf` to `out`, keeping a partial tail.
void TakeRecords(std::string* buf, std::vector<CrashEvent>* out) {
  size_t whole = buf->size() / sizeof(CrashEvent);
  if (whole == 0) return;  // memcpy into an empty vector's null data() is UB
  size_t at = out->size();
  out->resize(at + whole);
  std::memcpy(out->data() + at, buf->data(), whole * sizeof(CrashEvent));
  buf->erase(0, whole * sizeof(CrashEvent));
}

// The child's command line; `report_fd` is the pipe's write end.
std::vector<std::string> ChildCommandLine(const ChildArgs& a, int report_fd) {
  return {a.exe,
          "crash-child",
          "--engine",
          a.spec,
          "--dir",
          a.dir,
          "--report-fd",
          std::to_string(report_fd),
          "--seed",
          std::to_string(a.seed),
          "--keys",
          std::to_string(a.keys),
          "--threads",
          std::to_string(a.threads),
          "--model",
          a.sync_model ? "sync" : "none",
          "--sync-every",
          std::to_string(a.sync_every),
          "--version-base",
          std::to_string(a.version_base),
          "--seq-base",
          std::to_string(a.seq_base),
          "--mode",
          a.mode,
          "--stop-at-ack",
          std::to_string(a.stop_at_ack)};
}

// fork + exec of the child with fds[1] as its report pipe; closes fds[1] in
// the parent. The child reports a failed exec as a kExecFailed record.
Result<pid_t> StartChild(const ChildArgs& a, const int fds[2]) {
  std::vector<std::string> args = ChildCommandLine(a, fds[1]);
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[1]);
    return Status::FromErrno(err, "fork");
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec (the parent may have
    // threads: RocksDB's, LMDB's syncers from earlier trials).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fcntl(fds[1], F_SETFD, 0);
    execv(argv[0], argv.data());
    // Tell the parent why, in the record format (write is signal-safe).
    CrashEvent failed{kExecFailed, 0, 0, static_cast<uint32_t>(errno), 0, 0};
    ssize_t ignored = write(fds[1], &failed, sizeof failed);
    (void)ignored;
    _exit(127);
  }
  close(fds[1]);
  return pid;
}

// What the parent read from the pipe.
struct PipeState {
  std::string buf;  // a partial record not yet taken
  bool opened = false, eof = false;
};

// Reads records until the kill moment (kill_ms after TimerEvent, or after the
// start in open mode; 60 s for the open itself, which may recover or create
// files; 300 s for a child that kills itself) or EOF.
void ReadUntilKill(const ChildArgs& a, int fd, ChildRun* run, PipeState* st) {
  char chunk[65536];
  const uint32_t kill_ms = a.kill_ms;
  const CrashEventKind timer = TimerEvent(a);
  Clock::time_point deadline =
      Clock::now() + (a.mode == "open" ? std::chrono::milliseconds(kill_ms)
                                       : std::chrono::milliseconds(60000));
  while (!st->eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (r <= 0) continue;  // EINTR or timeout: the loop re-checks the deadline
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      st->eof = true;
      break;
    }
    st->buf.append(chunk, static_cast<size_t>(n));
    size_t before = run->events.size();
    TakeRecords(&st->buf, &run->events);
    for (size_t i = before; i < run->events.size(); ++i) {
      st->opened |= run->events[i].kind == CrashEventKind::kOpened;
      if (run->events[i].kind != timer || a.mode == "open") continue;
      deadline = Clock::now() + (kill_ms == kNoTimer
                                     ? std::chrono::milliseconds(300000)
                                     : std::chrono::milliseconds(kill_ms));
    }
  }
}

// Everything the child wrote before it died is still in the pipe.
void DrainPipe(int fd, ChildRun* run, PipeState* st) {
  char chunk[65536];
  while (!st->eof) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    st->buf.append(chunk, static_cast<size_t>(n));
  }
  TakeRecords(&st->buf, &run->events);
}

// Sets run->error unless the child died of our SIGKILL after opening.
void JudgeExit(const ChildArgs& a, int status, const PipeState& st,
               ChildRun* run) {
  bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
                (!st.eof || SelfKill(a));
  if (!killed) {
    run->error = "child " + WaitStatusText(status) +
                 (st.opened ? " before the kill" : " before opening");
    if (!run->events.empty() && run->events[0].kind == kExecFailed) {
      run->error += " (cannot execute " + a.exe + ": " +
                    strerror(static_cast<int>(run->events[0].version)) + ")";
      run->events.clear();
    }
  } else if (!st.opened && a.mode != "open") {
    run->error = "child did not open the database within 60 s";
  }
  if (!st.buf.empty()) run->error += " (partial report record)";
}

Result<ChildRun> RunChild(const ChildArgs& a) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  Result<pid_t> pid = StartChild(a, fds);
  if (!pid.ok()) {
    close(fds[0]);
    return pid.status();
  }
  ChildRun run;
  PipeState st;
  ReadUntilKill(a, fds[0], &run, &st);
  kill(*pid, SIGKILL);
  DrainPipe(fds[0], &run, &st);
  close(fds[0]);
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  JudgeExit(a, status, st, &run);
  return run;
}

// ---------------------------------------------------------------------------
// One trial

struct EngineSetup {
  std::string spec, name, dir;
  Capabilities caps;
  DurabilityClass durability;
  uint32_t threads = 1;
  bool prefix = false;
};

void AddExample(CrashTrial* t, std::string text) {
  if (t->examples.size() < 5) t->examples.push_back(std::move(text));
}

// Reads key `id` back into `st`; the engine's error if the read failed.
Status ReadRecovered(Adapter* db, const KeySet& keys, const ValueCodec& codec,
                     uint64_t id, std::string_view key, std::string* value,
                     RecoveredKey* st) {
  Status s = db->Get(key, value);
  if (s.IsNotFound()) {
    st->kind = RecoveredKey::kAbsent;
  } else if (!s.ok()) {
    return s;
  } else if (codec.Verify(keys.hash(id), *value, &st->version) ==
             VerifyResult::kOk) {
    st->kind = RecoveredKey::kVersion;
  } else {
    st->kind = RecoveredKey::kForeign;
  }
  return Status::OK();
}

// Ordered engines: keys we never wrote can only be found by enumerating.
// False on a scan error (noted in `t`).
bool ScanForInvented(const CrashOptions& o, const KeySet& keys, Adapter* db,
                     CrashTrial* t) {
  std::string scratch;  // a stored KeySet never touches it
  // Views into the stored KeySet, which outlives the set.
  std::unordered_set<std::string_view> known;
  for (uint64_t id = 0; id < o.keys; ++id) known.insert(keys.key(id, &scratch));
  Status s = db->Scan("", SIZE_MAX, [&](std::string_view k, std::string_view) {
    if (!known.count(k)) {
      ++t->violations[int(Violation::kInvented)];
      AddExample(t, "invented: scan found key '" + std::string(k) +
                        "' that was never written");
    }
    return true;
  });
  if (!s.ok()) AddExample(t, "scan: " + s.ToString());
  return s.ok();
}

// A per-key failure already explains a non-prefix state; the cross-key check
// counts only on top of a clean per-key result.
void CheckPrefix(const CrashOracle& oracle,
                 const std::vector<RecoveredKey>& states, CrashTrial* t) {
  t->prefix_checked = true;
  if (!oracle.PrefixConsistent(states)) {
    t->violations[int(Violation::kNotPrefix)] = 1;
    AddExample(t, "not_prefix: no prefix of the " +
                      std::to_string(oracle.issued()) +
                      " issued ops explains the recovered state");
  }
}

// Reads every key back and judges it; fills the violation counts.
void CheckRecovered(const CrashOptions& o, const EngineSetup& e,
                    const CrashOracle& oracle, Adapter* db, uint64_t seed,
                    CrashTrial* t, std::vector<RecoveredKey>* out) {
  Result<KeySet> keys = KeySet::Build(o.keys, CrashKeySizes(), false, seed);
  if (!keys.ok()) {
    AddExample(t, "keys: " + keys.status().ToString());
    t->violations[int(Violation::kOpenFailed)] = 1;
    return;
  }
  ValueCodec codec(seed, CrashValueSizes());
  std::vector<RecoveredKey> states(o.keys);
  bool read_error = false;
  std::string value, scratch;  // a stored KeySet never touches `scratch`
  for (uint64_t id = 0; id < o.keys; ++id) {
    const std::string_view key = keys->key(id, &scratch);
    Status s = ReadRecovered(db, *keys, codec, id, key, &value, &states[id]);
    if (!s.ok()) {
      if (!read_error)
        AddExample(t, "get " + std::string(key) + ": " + s.ToString());
      read_error = true;
      continue;
    }
    CrashOracle::Verdict v = oracle.Check(id, states[id]);
    t->lost_unsynced += v.lost_acked;
    if (!v.ok) {
      ++t->violations[int(v.violation)];
      AddExample(t, std::string(ViolationName(v.violation)) + ": key " +
                        std::string(key) + " (id " + std::to_string(id) + ") " +
                        v.detail);
    }
  }
  if (e.caps.ordered && !ScanForInvented(o, *keys, db, t)) read_error = true;
  if (read_error) t->violations[int(Violation::kOpenFailed)] = 1;
  bool keys_ok = t->violations[int(Violation::kLostDurable)] == 0 &&
                 t->violations[int(Violation::kInvented)] == 0 && !read_error;
  if (e.prefix && keys_ok) CheckPrefix(oracle, states, t);
  *out = std::move(states);
}

// One round's kill points, drawn from the trial's kill Rng.
struct KillPlan {
  uint32_t kill_ms = 0;     // write child: delay after its open
  uint64_t kill_at_op = 0;  // or its self-kill (write) / Close (close) op
  std::vector<uint32_t> reopen_ms;  // each later child's kill delay
};

KillPlan DrawKillPlan(const CrashOptions& o, Rng* rng) {
  KillPlan p;
  p.kill_ms =
      o.kill_min_ms +
      static_cast<uint32_t>(rng->Below(o.kill_max_ms - o.kill_min_ms + 1));
  uint64_t lo = o.kill_min_ops, hi = o.kill_max_ops;
  if (hi == 0 && o.phase == KillPhase::kClose) lo = 100, hi = 1000;
  if (hi > 0) p.kill_at_op = lo + rng->Below(hi - lo + 1);
  int reopens = o.phase == KillPhase::kRecovery ? 2
                : o.phase == KillPhase::kWrite  ? 0
                                                : 1;
  if (o.phase == KillPhase::kClose) reopens = 1;
  for (int i = 0; i < reopens; ++i) {
    p.reopen_ms.push_back(
        static_cast<uint32_t>(rng->Below(uint64_t{o.open_kill_max_ms} + 1)));
  }
  return p;
}

ChildArgs ChildArgsFor(const CrashOptions& o, const EngineSetup& e,
                       const std::string& dir, const KillPlan& plan,
                       const CrashOracle& oracle, uint64_t seed) {
  ChildArgs args;
  args.exe = o.child_exe;
  args.spec = e.spec;
  args.dir = dir;
  args.seed = seed;
  args.keys = o.keys;
  args.threads = e.threads;
  args.sync_every = o.sync_every;
  args.sync_model = EveryAckSurvives(e.durability);
  args.version_base = oracle.next_version() - 1;
  args.seq_base = oracle.next_seq();
  args.stop_at_ack = plan.kill_at_op;
  args.kill_ms = plan.kill_at_op > 0 ? kNoTimer : plan.kill_ms;
  if (o.phase == KillPhase::kClose) {
    args.mode = "close";
    args.kill_ms = plan.reopen_ms[0];
  }
  return args;
}

// The names under `dir` (recursive, relative, sorted; at most 64).
std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (out.size() == 64) break;
    out.push_back(fs::relative(it->path(), dir, ec).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Reopens `dir` (timed: the recovery time) and checks every key into
// `states`. False when the trial cannot go on (it failed).
bool ReopenAndCheck(const CrashOptions& o, const EngineSetup& e,
                    const std::string& dir, const CrashOracle& oracle,
                    CrashTrial* t, std::vector<RecoveredKey>* states) {
  if (Status cs = CheckAdapterSpec(e.spec); !cs.ok()) {
    t->child_error = "cannot create adapter: " + cs.ToString();
    return false;
  }
  auto open_db = o.open_for_check
                     ? o.open_for_check
                     : [](const std::string& s, const std::string& d) {
                         return OpenAdapter(s, d);
                       };
  Clock::time_point start = Clock::now();
  Result<std::unique_ptr<Adapter>> db = open_db(e.spec, dir);
  double ms =
      std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!db.ok()) {
    t->violations[int(Violation::kOpenFailed)] = 1;
    AddExample(t, "open_failed: " + db.status().ToString());
    return false;
  }
  t->recovery_ms = std::max(t->recovery_ms, ms);
  CheckRecovered(o, e, oracle, db->get(), t->seed, t, states);
  t->engine_stats = (*db)->Stats();
  t->files = ListFiles(dir);
  Status s = (*db)->Close();
  if (!s.ok()) {
    t->violations[int(Violation::kOpenFailed)] = 1;
    AddExample(t, "open_failed: close after recovery: " + s.ToString());
  }
  return !t->failed();
}

// Runs one child to its kill and feeds its report to the oracle. False when
// the trial cannot go on (the child misbehaved or misreported).
bool RunAndRecord(const ChildArgs& args, CrashOracle* oracle, CrashTrial* t) {
  Result<ChildRun> run = RunChild(args);
  if (!run.ok()) {
    t->child_error = run.status().ToString();
    return false;
  }
  t->child_error = run->error;
  bool opened = false;
  bool closed = false;
  for (const CrashEvent& ev : run->events) {
    opened |= ev.kind == CrashEventKind::kOpened;
    closed |= ev.kind == CrashEventKind::kClosed;
    Status s = oracle->Add(ev);
    if (!s.ok()) {
      t->child_error = s.ToString();
      return false;
    }
  }
  if (args.mode == "open" && !opened) ++t->kills_in_open;
  if (args.mode == "close" && !closed) ++t->kills_in_close;
  return t->child_error.empty();
}

// Open and recovery phases: children that only reopen `dir`, each killed
// after its drawn delay, with no check in between.
bool KillReopens(const std::vector<uint32_t>& delays, ChildArgs args,
                 CrashOracle* oracle, CrashTrial* t) {
  args.mode = "open";
  args.stop_at_ack = 0;
  for (uint32_t ms : delays) {
    args.kill_ms = ms;
    if (!RunAndRecord(args, oracle, t)) return false;
  }
  return true;
}

// One child on `dir`, killed (and, by phase, reopening children killed);
// then reopen and check. Returns whether the trial may go on with another
// round (no failure so far).
bool RunRound(const CrashOptions& o, const EngineSetup& e,
              const std::string& dir, const KillPlan& plan, CrashOracle* oracle,
              CrashTrial* t) {
  ChildArgs args = ChildArgsFor(o, e, dir, plan, *oracle, t->seed);
  bool ok = RunAndRecord(args, oracle, t);
  ++t->rounds;
  t->issued = oracle->issued();
  t->acked = oracle->acked();
  t->durable_acked = oracle->durable_acks();
  t->syncs = oracle->syncs();
  if (!ok || !oracle->opened()) return false;  // nothing new to recover
  bool reopening =
      o.phase == KillPhase::kOpen || o.phase == KillPhase::kRecovery;
  if (reopening && !KillReopens(plan.reopen_ms, args, oracle, t)) {
    return false;
  }
  std::vector<RecoveredKey> states;
  if (!ReopenAndCheck(o, e, dir, *oracle, t, &states)) return false;
  oracle->Settle(states);
  return true;
}

uint64_t TrialSeed(const CrashOptions& o, int trial) {
  if (o.trial_seed == 0)
    return StreamSeed(o.seed, static_cast<uint64_t>(trial));
  return trial == 0 ? o.trial_seed
                    : StreamSeed(o.trial_seed, static_cast<uint64_t>(trial));
}

// The command line that replays one trial (same seed, same kill points).
std::string ReplayCommand(const CrashOptions& o, const EngineSetup& e,
                          const CrashTrial& t) {
  std::ostringstream s;
  s << "kvbench crash --engines '" << e.spec << "' --trial-seed " << t.seed
    << " --trials 1 --keys " << o.keys << " --threads " << o.threads
    << " --sync-every " << o.sync_every << " --rounds " << o.rounds
    << " --kill-phase " << KillPhaseName(o.phase) << " --kill-ms "
    << o.kill_min_ms << "-" << o.kill_max_ms << " --reopen-kill-ms "
    << o.open_kill_max_ms;
  if (o.short_cycles) s << " --short-cycles";
  if (o.kill_max_ops > 0) {
    s << " --kill-at ops:" << o.kill_min_ops << "-" << o.kill_max_ops;
  }
  return s.str();
}

CrashTrial RunTrial(const CrashOptions& o, const EngineSetup& e, int trial) {
  CrashTrial t;
  t.trial = trial;
  t.seed = TrialSeed(o, trial);
  t.phase = o.phase;
  Rng rng(Mix64(t.seed ^ 0x6b696c6c));  // "kill"
  std::string dir = e.dir + "/trial-" + std::to_string(trial);
  std::error_code ec;
  fs::remove_all(dir, ec);
  CrashOracle oracle(o.keys, EveryAckSurvives(e.durability));
  for (uint32_t round = 0; round < o.rounds; ++round) {
    KillPlan plan = DrawKillPlan(o, &rng);
    if (round == 0) {
      t.kill_after_ms = plan.kill_at_op > 0 ? 0 : plan.kill_ms;
      t.kill_at_op = plan.kill_at_op;
      t.reopen_kill_ms = plan.reopen_ms;
    }
    if (!RunRound(o, e, dir, plan, &oracle, &t)) break;
  }
  if (t.failed()) {
    t.kept_dir = dir;
    t.replay = ReplayCommand(o, e, t);
  } else {
    fs::remove_all(dir, ec);
  }
  return t;
}

std::string DirName(const std::string& spec) {
  std::string out;
  for (char c : spec)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string TrialLine(const CrashEngineResult& r, const CrashTrial& t,
                      int trials) {
  std::ostringstream s;
  s << "kvbench crash: " << r.spec << " trial " << t.trial + 1 << "/" << trials
    << " [" << KillPhaseName(t.phase) << "]: killed after ";
  if (t.kill_at_op > 0) {
    s << "op " << t.kill_at_op;
  } else {
    s << t.kill_after_ms << " ms";
  }
  for (uint32_t ms : t.reopen_kill_ms) s << ", then " << ms << " ms";
  if (t.rounds > 1) s << " (+" << t.rounds - 1 << " more rounds)";
  s << ", " << t.acked << " acked (" << t.durable_acked << " durable)";
  if (t.recovery_ms >= 0) {
    s << ", recovery " << std::fixed << std::setprecision(1) << t.recovery_ms
      << " ms";
  }
  if (!t.child_error.empty()) s << ", child error: " << t.child_error;
  bool any = false;
  for (int c = 0; c < kViolationClasses; ++c) {
    if (t.violations[c] == 0) continue;
    s << (any ? ", " : ", VIOLATIONS: ") << ViolationName(Violation(c)) << "="
      << t.violations[c];
    any = true;
  }
  if (!any && t.child_error.empty())
    s << (t.tested() ? ", ok" : ", untested (fewer than 2 acked)");
  for (const std::string& ex : t.examples) s << "\n    " << ex;
  if (!t.kept_dir.empty()) s << "\n    data kept in " << t.kept_dir;
  if (!t.replay.empty()) {
    s << "\n    seed " << t.seed << "; replay: " << t.replay;
  }
  return s.str();
}

Result<EngineSetup> SetUpEngine(const CrashOptions& o, const std::string& spec,
                                std::string* skipped) {
  Result<AdapterSpec> parsed = ParseAdapterSpec(spec);
  if (!parsed.ok()) return parsed.status();
  const AdapterInfo* info = FindAdapter(parsed->name);
  if (info == nullptr) return Status::InvalidArgument("unknown engine " + spec);
  EngineSetup e;
  e.spec = spec;
  e.name = parsed->name;
  e.caps = info->capabilities;
  if (!info->built) {
    *skipped = "not built";
    return e;
  }
  if (!e.caps.persistent) {
    *skipped = "not persistent: nothing survives a restart to check";
    return e;
  }
  KVB_ASSIGN_OR_RETURN(e.durability,
                       ParseDurabilityClass(parsed->options["durability"]));
  e.threads = e.caps.thread_safe ? o.threads : 1;
  // The prefix check needs one global order of ops: one writer thread.
  e.prefix = e.threads == 1 && PromisesPrefix(e.name, e.durability.level);
  e.dir = o.data_dir + "/" + DirName(spec);
  return e;
}

}  // namespace

bool CrashTrial::failed() const {
  if (!child_error.empty()) return true;
  for (uint64_t v : violations) {
    if (v) return true;
  }
  return false;
}

uint64_t CrashEngineResult::Violations(Violation v) const {
  uint64_t n = 0;
  for (const CrashTrial& t : trials) n += t.violations[int(v)];
  return n;
}

uint64_t CrashEngineResult::ChildErrors() const {
  uint64_t n = 0;
  for (const CrashTrial& t : trials) n += !t.child_error.empty();
  return n;
}

bool CrashEngineResult::failed() const {
  for (const CrashTrial& t : trials) {
    if (t.failed()) return true;
  }
  return false;
}

uint64_t CrashEngineResult::UntestedTrials() const {
  uint64_t n = 0;
  for (const CrashTrial& t : trials) n += !t.failed() && !t.tested();
  return n;
}

constexpr NameTable<CrashVerdict, 3> kCrashVerdictNames{{{
    {CrashVerdict::kPassed, "passed"},
    {CrashVerdict::kFailed, "failed"},
    {CrashVerdict::kUntested, "untested"},
}}};

std::string_view CrashVerdictName(CrashVerdict v) {
  return kCrashVerdictNames.Name(v, "?");
}

CrashVerdict CrashReport::Verdict() const {
  bool any_ran = false, all_tested = true;
  for (const CrashEngineResult& e : engines) {
    if (e.failed()) return CrashVerdict::kFailed;
    if (!e.skipped.empty()) continue;
    any_ran = any_ran || !e.trials.empty();
    all_tested = all_tested && e.UntestedTrials() == 0;
  }
  return any_ran && all_tested ? CrashVerdict::kPassed
                               : CrashVerdict::kUntested;
}

std::string CrashReport::VerdictReason() const {
  switch (Verdict()) {
    case CrashVerdict::kPassed:
      return "";
    case CrashVerdict::kFailed:
      return "violations or child errors (see the failed trials above)";
    case CrashVerdict::kUntested:
      break;
  }
  uint64_t untested = 0;
  for (const CrashEngineResult& e : engines) untested += e.UntestedTrials();
  if (untested == 0) return "nothing tested: every engine was skipped";
  return "nothing tested in " + std::to_string(untested) +
         " trial(s): the child acknowledged fewer than " +
         std::to_string(kMinAckedOpsPerTrial) +
         " ops before the kill (raise --kill-ms)";
}

Result<CrashReport> RunCrash(const CrashOptions& opts, std::ostream& log) {
  CrashOptions o = opts;
  if (o.child_exe.empty()) {
    std::error_code ec;
    o.child_exe = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec)
      return Status::IOError("cannot find kvbench itself: " + ec.message());
  }
  CrashReport report;
  report.context = o.context.is_object() ? o.context : nlohmann::json::object();
  // Readers check the schema version (results/schema.h) even without a context.
  report.context["schema_version"] = kResultsSchemaVersion;
  report.config = {{"engines", o.engines},
                   {"trials", o.trials},
                   {"durability", o.durability.ToString()},
                   {"seed", o.seed},
                   {"keys", o.keys},
                   {"threads", o.threads},
                   {"kill_ms", {o.kill_min_ms, o.kill_max_ms}},
                   {"kill_at_ops", {o.kill_min_ops, o.kill_max_ops}},
                   {"kill_phase", std::string(KillPhaseName(o.phase))},
                   {"reopen_kill_ms", o.open_kill_max_ms},
                   {"trial_seed", o.trial_seed},
                   {"short_cycles", o.short_cycles},
                   {"sync_every", o.sync_every},
                   {"rounds", o.rounds},
                   {"key_size", CrashKeySizes().ToString()},
                   {"value_size", CrashValueSizes().ToString()},
                   {"delete_fraction", 1.0 / kCrashDeleteOneIn}};
  for (const std::string& spec : o.engines) {
    CrashEngineResult r;
    r.spec = spec;
    Result<EngineSetup> e = SetUpEngine(o, spec, &r.skipped);
    if (!e.ok()) return e.status();
    r.model = EveryAckSurvives(e->durability) ? "every-ack" : "synced-only";
    r.prefix_checked = e->prefix;
    if (!r.skipped.empty()) {
      if (!o.quiet)
        log << "kvbench crash: " << spec << ": skipped (" << r.skipped << ")\n";
      report.engines.push_back(std::move(r));
      continue;
    }
    for (int t = 0; t < o.trials; ++t) {
      r.trials.push_back(RunTrial(o, *e, t));
      if (!o.quiet || r.trials.back().failed()) {
        log << TrialLine(r, r.trials.back(), o.trials) << "\n";
      }
    }
    std::error_code ec;
    fs::remove(e->dir, ec);  // only if empty: failed trials keep their data
    report.engines.push_back(std::move(r));
  }
  return report;
}

// ---------------------------------------------------------------------------
// Output

namespace {

json ViolationsJson(const std::array<uint64_t, kViolationClasses>& v) {
  json j = json::object();
  for (int c = 0; c < kViolationClasses; ++c)
    j[std::string(ViolationName(Violation(c)))] = v[c];
  return j;
}

std::vector<double> RecoveryTimes(const CrashEngineResult& r) {
  std::vector<double> v;
  for (const CrashTrial& t : r.trials) {
    if (t.recovery_ms >= 0) v.push_back(t.recovery_ms);
  }
  return v;
}

std::vector<double> AckedCounts(const CrashEngineResult& r) {
  std::vector<double> v;
  for (const CrashTrial& t : r.trials)
    v.push_back(static_cast<double>(t.acked));
  return v;
}

json TrialJson(const CrashTrial& t) {
  return json{
      {"trial", t.trial},
      {"rounds", t.rounds},
      {"seed", t.seed},
      {"kill_after_ms", t.kill_after_ms},
      {"phase", std::string(KillPhaseName(t.phase))},
      {"kill_mode", t.kill_at_op > 0 ? "ops" : "time"},
      {"kill_at_op", t.kill_at_op},
      {"reopen_kill_ms", t.reopen_kill_ms},
      {"kills_in_open", t.kills_in_open},
      {"kills_in_close", t.kills_in_close},
      {"engine_stats", t.engine_stats},
      {"files", t.files},
      {"replay", t.replay.empty() ? json(nullptr) : json(t.replay)},
      {"issued", t.issued},
      {"acked", t.acked},
      {"durable_acked", t.durable_acked},
      {"syncs", t.syncs},
      {"recovery_ms", t.recovery_ms >= 0 ? json(t.recovery_ms) : json(nullptr)},
      {"violations", ViolationsJson(t.violations)},
      {"prefix_checked", t.prefix_checked},
      {"lost_unsynced", t.lost_unsynced},
      {"child_error",
       t.child_error.empty() ? json(nullptr) : json(t.child_error)},
      {"examples", t.examples},
      {"kept_dir", t.kept_dir.empty() ? json(nullptr) : json(t.kept_dir)}};
}

}  // namespace

json CrashReportJson(const CrashReport& r) {
  json engines = json::array();
  uint64_t total = 0;
  for (const CrashEngineResult& e : r.engines) {
    std::array<uint64_t, kViolationClasses> v{};
    for (int c = 0; c < kViolationClasses; ++c) {
      v[c] = e.Violations(Violation(c));
      total += v[c];
    }
    std::vector<double> rec = RecoveryTimes(e);
    uint64_t lost_unsynced = 0;
    json trials = json::array();
    for (const CrashTrial& t : e.trials) {
      trials.push_back(TrialJson(t));
      lost_unsynced += t.lost_unsynced;
    }
    engines.push_back(
        json{{"engine", e.spec},
             {"skipped", e.skipped.empty() ? json(nullptr) : json(e.skipped)},
             {"model", e.model},
             {"prefix_checked", e.prefix_checked},
             {"trials", e.trials.size()},
             {"failed_trials",
              std::count_if(e.trials.begin(), e.trials.end(),
                            [](const CrashTrial& t) { return t.failed(); })},
             {"violations", ViolationsJson(v)},
             {"child_errors", e.ChildErrors()},
             {"untested_trials", e.UntestedTrials()},
             {"recovery_ms",
              {{"median", rec.empty() ? json(nullptr) : json(Median(rec))},
               {"max", rec.empty()
                           ? json(nullptr)
                           : json(*std::max_element(rec.begin(), rec.end()))}}},
             {"acked_per_trial", {{"median", Median(AckedCounts(e))}}},
             {"lost_unsynced", lost_unsynced},
             {"trial_results", trials}});
  }
  return json{{"kind", "kvbench-crash"},
              {"schema_version", 1},
              {"context", r.context},
              {"config", r.config},
              {"engines", engines},
              {"violations_total", total},
              {"passed", !r.failed()},
              {"verdict", std::string(CrashVerdictName(r.Verdict()))}};
}

namespace {

std::string Fixed(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(v < 10 ? 2 : 1) << v;
  return s.str();
}

// One table row of a (not skipped) engine.
std::vector<std::string> EngineRow(const CrashEngineResult& e) {
  std::vector<double> rec = RecoveryTimes(e);
  uint64_t failed = 0, lost_unsynced = 0, in_open = 0, in_close = 0;
  for (const CrashTrial& t : e.trials) {
    in_open += t.kills_in_open;
    in_close += t.kills_in_close;
    failed += t.failed();
    lost_unsynced += t.lost_unsynced;
  }
  std::string phase = "-", mode = "-";
  if (!e.trials.empty()) {
    phase = KillPhaseName(e.trials[0].phase);
    mode = e.trials[0].kill_at_op > 0 ? "ops" : "time";
  }
  std::vector<std::string> row = {e.spec,
                                  e.model,
                                  phase,
                                  mode,
                                  std::to_string(e.trials.size()),
                                  std::to_string(failed)};
  for (int c = 0; c < kViolationClasses; ++c) {
    std::string cell = std::to_string(e.Violations(Violation(c)));
    if (c == int(Violation::kNotPrefix) && !e.prefix_checked) cell = "-";
    row.push_back(cell);
  }
  row.push_back(std::to_string(e.ChildErrors()));
  row.push_back(rec.empty() ? "-" : Fixed(Median(rec)));
  row.push_back(rec.empty() ? "-"
                            : Fixed(*std::max_element(rec.begin(), rec.end())));
  row.push_back(std::to_string(std::llround(Median(AckedCounts(e)))));
  row.push_back(e.model == "every-ack" ? "-" : std::to_string(lost_unsynced));
  row.push_back(std::to_string(in_open));
  row.push_back(std::to_string(in_close));
  return row;
}

// Columns aligned to their widest cell; a row shorter than the header (a
// skipped engine: name and reason) prints its name aligned and the reason.
void PrintAligned(std::ostream& out,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    size_t cols = row.size() == width.size() ? row.size() : 1;
    for (size_t c = 0; c < cols; ++c)
      width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    if (row.size() != width.size()) {
      out << std::left << std::setw(static_cast<int>(width[0])) << row[0]
          << "  " << row[1] << "\n";
      continue;
    }
    for (size_t c = 0; c < row.size(); ++c) {
      out << (c == 0 ? std::left : std::right)
          << std::setw(static_cast<int>(width[c])) << row[c]
          << (c + 1 == row.size() ? "\n" : "  ");
    }
  }
}

}  // namespace

void PrintCrashTable(std::ostream& out, const CrashReport& r) {
  std::vector<std::vector<std::string>> rows = {
      {"engine", "model", "phase", "kill", "trials", "failed", "open_failed",
       "lost_durable", "invented", "not_prefix", "child_err", "recovery_ms p50",
       "max", "acked/trial p50", "lost_unsynced", "kills_in_open",
       "kills_in_close"}};
  for (const CrashEngineResult& e : r.engines) {
    if (e.skipped.empty()) {
      rows.push_back(EngineRow(e));
    } else {
      rows.push_back({e.spec, "skipped: " + e.skipped});
    }
  }
  PrintAligned(out, rows);
  out << "(lost_durable, invented: keys; open_failed, not_prefix: trials; "
         "not_prefix '-' = not promised or not checkable; lost_unsynced: "
         "acknowledged but unsynced writes lost, allowed; kills_in_open: "
         "reopening children killed before their Open returned; kills_in_close: "
         "closing children killed before their Close returned)\n";
  out << "verdict: " << CrashVerdictName(r.Verdict());
  if (!r.VerdictReason().empty()) out << " — " << r.VerdictReason();
  out << "\n";
}

}  // namespace kvb
