#include "crash/powerloss/driver.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "crash/powerloss/engine_open.h"
#include "crash/powerloss/log_format.h"
#include "workloads/random.h"

extern char** environ;

namespace kvb::powerloss {

namespace fs = std::filesystem;

namespace {

// The environment of the child: ours without LD_PRELOAD/KVB_POWERLOSS_*,
// plus the shim's three variables (and ASan told not to insist on being
// first: the shim is not instrumented). Built before fork (no malloc after).
std::vector<std::string> ChildEnv(const std::string& shim,
                                  const std::string& root,
                                  const std::string& log) {
  std::vector<std::string> env;
  std::string asan = "ASAN_OPTIONS=verify_asan_link_order=0";
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view v(*e);
    if (v.starts_with("LD_PRELOAD=") || v.starts_with("KVB_POWERLOSS_")) {
      continue;
    }
    if (v.starts_with("ASAN_OPTIONS=")) {
      asan = std::string(v) + ":verify_asan_link_order=0";
      continue;
    }
    env.emplace_back(v);
  }
  env.push_back(asan);
  env.push_back("LD_PRELOAD=" + shim);
  env.push_back("KVB_POWERLOSS_DIR=" + root);
  env.push_back("KVB_POWERLOSS_LOG=" + log);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Status RunChild(const DriverOptions& o, const std::string& spec,
                const std::string& db, const std::string& log) {
  const WorkloadOptions& w = o.workload;
  std::vector<std::string> args = {o.child_exe, "--child",
                                   "--spec",    spec,
                                   "--dir",     db,
                                   "--ops",     std::to_string(w.ops),
                                   "--keys",    std::to_string(w.keys),
                                   "--seed",    std::to_string(w.seed)};
  return RunUnderShim(o.shim_path, args, db, log, o.child_timeout_s);
}

// Files whose writable shared mapping holds no durable state: SQLite's
// wal-index (-shm) and LMDB's reader table (lock.mdb) are rebuilt on open.
bool KnownVolatileMapping(const std::string& path) {
  return path.ends_with("-shm") || path.ends_with("lock.mdb");
}

// A directory name for a spec: "rocksdb:durability=sync" -> "rocksdb_durability_sync".
std::string DirName(const std::string& spec) {
  std::string name;
  for (char c : spec.substr(0, 80))
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return name;
}

// Progress through the log while replaying it.
struct Replay {
  uint64_t applied = 0;
  uint64_t acked = 0;
  bool opened = false;
};

void Advance(const Log& log, uint64_t to, Model* model, Replay* r,
             EngineResult* out) {
  for (; r->applied < to; ++r->applied) {
    const Entry& e = log.entries[r->applied];
    model->Apply(e, r->applied);
    if (e.type != RecordType::kAck) continue;
    if (static_cast<uint64_t>(e.a) == kOpenDoneAck) {
      r->opened = true;
    } else {
      r->acked = static_cast<uint64_t>(e.a) + 1;
    }
  }
}

// Opens the adapter on the materialised point and judges it.
CheckOutcome JudgePoint(const std::string& spec, const std::string& dir,
                        const std::vector<Op>& ops, const Replay& r,
                        const WorkloadOptions& w) {
  Result<std::unique_ptr<Adapter>> db = OpenEngine(spec, dir);
  if (!db.ok()) {
    CheckOutcome out;
    std::string cls = r.opened ? "open_failed" : "open_failed_during_create";
    out.violations[cls] = 1;
    out.examples.push_back(cls + ": " + db.status().ToString());
    return out;
  }
  CheckOutcome out =
      CheckState(**db, ops, r.acked, r.opened && r.acked < ops.size(), w);
  Status s = (*db)->Close();
  if (!s.ok()) {
    out.violations["read_failed"]++;
    out.examples.push_back("read_failed: close: " + s.ToString());
  }
  return out;
}

void Record(const CheckOutcome& c, uint64_t point, const Replay& r,
            EngineResult* out) {
  if (c.violations.empty()) return;
  out->violating_points++;
  for (const auto& [cls, n] : c.violations) out->violations[cls] += n;
  // One example per point (the first few points), so they show variety.
  for (const std::string& ex : c.examples) {
    if (out->examples.size() >= 6) break;
    out->examples.push_back("point at record " + std::to_string(point) + " (" +
                            std::to_string(r.acked) + " acked): " + ex);
    break;
  }
}

}  // namespace

Status RunUnderShim(const std::string& shim,
                    const std::vector<std::string>& command,
                    const std::string& root, const std::string& log,
                    int timeout_s) {
  std::vector<std::string> args = command;
  std::vector<std::string> env = ChildEnv(shim, root, log);
  std::vector<char*> argv = CStrings(args), envp = CStrings(env);
  pid_t pid = fork();
  if (pid < 0) return Status::FromErrno(errno, "fork");
  if (pid == 0) {
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Status::IOError("child " + command[0] + " timed out after " +
                             std::to_string(timeout_s) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IOError("child " + command[0] + " failed (wait status " +
                           std::to_string(status) + "; see its stderr)");
  }
  return Status::OK();
}

std::vector<uint64_t> DirectorySyncPoints(const Log& log) {
  std::set<std::string> dirs{""};  // the root, and every mkdir'ed path
  std::map<int, std::string> fd_path;
  std::vector<uint64_t> out;
  for (uint64_t i = 0; i < log.entries.size(); ++i) {
    const Entry& e = log.entries[i];
    if (e.type == RecordType::kMkdir) dirs.insert(e.path1);
    if (e.type == RecordType::kOpen) fd_path[e.fd] = e.path1;
    if (e.type == RecordType::kDup && fd_path.count(e.fd2)) {
      fd_path[e.fd] = fd_path[e.fd2];
    }
    if (e.type == RecordType::kClose) fd_path.erase(e.fd);
    auto it = fd_path.find(e.fd);
    if (e.type == RecordType::kFsync && it != fd_path.end() &&
        dirs.count(it->second)) {
      out.push_back(i);  // cut just before the fsync record: it did not finish
    }
  }
  return out;
}

std::vector<uint64_t> ChooseCutPoints(const Log& log, uint32_t count,
                                      uint64_t seed) {
  uint64_t n = log.entries.size();
  std::vector<uint64_t> after_ack;
  for (uint64_t i = 0; i < n; ++i) {
    if (log.entries[i].type == RecordType::kAck) after_ack.push_back(i + 1);
  }
  std::set<uint64_t> points{n};
  // Up to a third of the budget, spread evenly: the moments before directory
  // fsyncs, when the most directory changes are pending.
  std::vector<uint64_t> dir_syncs = DirectorySyncPoints(log);
  uint64_t take = std::min<uint64_t>(dir_syncs.size(), count / 3);
  for (uint64_t j = 0; j < take; ++j) {
    points.insert(dir_syncs[j * dir_syncs.size() / take]);
  }
  Rng rng(StreamSeed(seed, 0x63757473));  // "cuts"
  for (uint64_t tries = 0; points.size() < count && tries < 20ull * count;
       ++tries) {
    if (tries % 2 == 0 && !after_ack.empty()) {
      points.insert(after_ack[rng.Below(after_ack.size())]);
    } else {
      points.insert(1 + rng.Below(n));
    }
  }
  return {points.begin(), points.end()};
}

Result<EngineResult> RunEngine(const DriverOptions& o,
                               const std::string& spec) {
  auto started = std::chrono::steady_clock::now();
  std::string base = o.work_dir + "/" + DirName(spec);
  std::error_code ec;
  fs::remove_all(base, ec);
  fs::create_directories(base + "/db", ec);
  fs::create_directories(base + "/snapshot", ec);
  if (ec) return Status::IOError("cannot create " + base + ": " + ec.message());
  std::string db = fs::canonical(base + "/db", ec).string();
  Status s = RunChild(o, spec, db, base + "/log");
  if (!s.ok()) return s;
  Result<Log> log = ReadLog(base + "/log");
  if (!log.ok()) return log.status();
  EngineResult out;
  out.spec = spec;
  out.log_records = log->entries.size();
  for (const Entry& e : log->entries) {
    out.record_counts[RecordTypeName(e.type)]++;
    if (e.type == RecordType::kAck &&
        static_cast<uint64_t>(e.a) != kOpenDoneAck) {
      out.acks++;
    }
  }
  Model model(o.model);
  s = model.LoadSnapshot(base + "/snapshot");
  if (!s.ok()) return s;
  std::vector<Op> ops = MakeOps(o.workload);
  Replay replay;
  for (uint64_t point : ChooseCutPoints(*log, o.points, o.workload.seed)) {
    Advance(*log, point, &model, &replay, &out);
    std::string dir = base + "/point";
    fs::remove_all(dir, ec);
    s = model.Materialize(dir, Mix64(o.workload.seed ^ point));
    if (!s.ok()) return s;
    CheckOutcome c = JudgePoint(spec, dir, ops, replay, o.workload);
    out.points++;
    if (!c.violations.empty() && out.kept_point_dir.empty()) {
      // Materialised again: the reopen above may have changed `dir`.
      out.kept_point_dir = base + "/violation-at-" + std::to_string(point);
      fs::remove_all(out.kept_point_dir, ec);
      s = model.Materialize(out.kept_point_dir, Mix64(o.workload.seed ^ point));
      if (!s.ok()) return s;
    }
    Record(c, point, replay, &out);
  }
  fs::remove_all(base + "/point", ec);
  out.anomalies = model.anomalies();
  for (const std::string& m : model.shared_mappings()) {
    out.shared_mappings.push_back(
        m + (KnownVolatileMapping(m) ? " (rebuilt on open: ignored)"
                                     : " (UNSUPPORTED: stores invisible)"));
  }
  out.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  return out;
}

std::string SummaryJson(const DriverOptions& o,
                        const std::vector<EngineResult>& results,
                        const std::vector<std::string>& errors) {
  nlohmann::json j;
  j["tool"] = "kvb-powerloss";
  j["options"] = {
      {"ops", o.workload.ops},
      {"keys", o.workload.keys},
      {"seed", o.workload.seed},
      {"points", o.points},
      {"data_model",
       o.model.data == DataModel::kPrefix ? "prefix" : "pessimistic"},
      {"dir_model", o.model.dir == DirModel::kExt4 ? "ext4" : "posix"}};
  uint64_t violations = 0;
  j["engines"] = nlohmann::json::array();
  for (const EngineResult& r : results) {
    nlohmann::json e = {{"spec", r.spec},
                        {"log_records", r.log_records},
                        {"acks", r.acks},
                        {"points", r.points},
                        {"violating_points", r.violating_points},
                        {"violations", r.violations},
                        {"examples", r.examples},
                        {"anomalies", r.anomalies},
                        {"shared_mappings", r.shared_mappings},
                        {"records", r.record_counts},
                        {"seconds", r.seconds}};
    if (!r.kept_point_dir.empty()) e["kept_point_dir"] = r.kept_point_dir;
    j["engines"].push_back(e);
    violations += r.violating_points;
  }
  j["errors"] = errors;
  j["passed"] = violations == 0 && errors.empty() && !results.empty();
  return j.dump(2) + "\n";
}

}  // namespace kvb::powerloss
