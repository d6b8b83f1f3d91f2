// Disk full (ENOSPC -> NoSpace) and I/O errors (EIO -> IOError) at every write
// and sync call of a small workload, for each of our engines (FaultInjectionEnv
// over an in-memory Env).
//
// For each engine configuration, each failing operation kind (append, pwrite,
// truncate, fsync, fdatasync, directory fsync, rename) and each k = 0, 1, 2,
// ...: the k-th such call fails, until a run passes with no injection (so every
// call of the dry run was a point).
//   EIO     FailOnce: one call fails, later calls succeed (a transient error).
//   ENOSPC  FailOnce at the k-th call, then FailAlways for the rest of the run
//           (the disk stays full while the engine is closed).
// The workload stops at the first error (the engine must report one: an
// injected failure that no call reported is a swallowed error), the handle is
// closed (whatever it returns), the fault is cleared, and the database must
// reopen cleanly with, for every key, its value as of the last acknowledged
// durable point or one written after it, and no other key.
//
// fileperkey makes every call here through the Env it is given (its Sync() is
// per-file and per-directory fsync through the Env); only Options::file_mode /
// dir_mode use chmod(2) directly, with the POSIX Env, and they are unused here.
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/test_util.h"
#include "engines/fileperkey/fileperkey.h"
#include "engines/linhash/linhash.h"
#include "engines/typedmap/store.h"

namespace kvb {
namespace {

using Op = FaultInjectionEnv::Op;

// The engine under test, behind the few calls the workload makes.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual Status Open(Env* env) = 0;
  virtual Status Put(const std::string& k, const std::string& v) = 0;
  virtual Status Delete(const std::string& k) = 0;
  virtual Status Sync() = 0;
  // Closes and releases the handle (also after errors); returns Close's status.
  virtual Status Close() = 0;
  virtual Status Get(const std::string& k, std::string* v) = 0;
  virtual Status Keys(std::set<std::string>* keys) = 0;
  // Whether an OK Put/Delete is acknowledged for a clean reopen (it reached the
  // Env before returning); otherwise only Sync and Close acknowledge.
  virtual bool WriteAcknowledges() const = 0;
};

class LinhashDriver : public Driver {
 public:
  explicit LinhashDriver(int64_t sync_interval)
      : sync_interval_(sync_interval) {}
  Status Open(Env* env) override {
    linhash::Options o;
    o.env = env;
    o.background_sync_interval_ms = sync_interval_;
    o.checkpoint_interval_ms = 0;
    o.read_backend = linhash::ReadBackend::kPread;
    o.max_segment_size = 4096;  // rotate a few times
    o.write_buffer_size = 1024;
    auto db = linhash::DB::Open("/db", o);
    if (!db.ok()) return db.status();
    db_ = std::move(*db);
    return Status::OK();
  }
  Status Put(const std::string& k, const std::string& v) override {
    return db_->Put(k, v);
  }
  Status Delete(const std::string& k) override { return db_->Delete(k); }
  Status Sync() override { return db_->Sync(); }
  Status Close() override {
    if (!db_) return Status::OK();
    Status s = db_->Close();
    db_.reset();
    return s;
  }
  Status Get(const std::string& k, std::string* v) override {
    return db_->Get(k, v);
  }
  Status Keys(std::set<std::string>* keys) override {
    auto it = db_->NewIterator();
    while (it->Next()) keys->insert(std::string(it->key()));
    return it->status();
  }
  bool WriteAcknowledges() const override { return sync_interval_ == -1; }

 private:
  const int64_t sync_interval_;
  std::unique_ptr<linhash::DB> db_;
};

class TypedmapDriver : public Driver {
 public:
  explicit TypedmapDriver(typedmap::Durability d) : durability_(d) {}
  Status Open(Env* env) override {
    typedmap::Options o;
    o.env = env;
    o.background_flush = false;  // deterministic: no background fdatasync
    store_ = std::make_unique<typedmap::Store>(o);
    auto m = store_->Map<std::string>("m");
    if (!m.ok()) return m.status();
    map_ = *m;
    Status s = store_->Open("/db/log");
    if (!s.ok()) store_.reset();
    return s;
  }
  Status Put(const std::string& k, const std::string& v) override {
    return map_->Set(k, v, durability_);
  }
  Status Delete(const std::string& k) override {
    return map_->Delete(k, durability_);
  }
  Status Sync() override { return store_->FSyncAll(); }
  Status Close() override {
    if (!store_) return Status::OK();
    Status s = store_->Close();
    store_.reset();
    return s;
  }
  Status Get(const std::string& k, std::string* v) override {
    return map_->Get(k, v);
  }
  Status Keys(std::set<std::string>* keys) override {
    return map_->Range([&](std::string_view k, const std::string&) {
      keys->insert(std::string(k));
      return true;
    });
  }
  bool WriteAcknowledges() const override {
    return durability_ != typedmap::Durability::kAsync;
  }

 private:
  const typedmap::Durability durability_;
  std::unique_ptr<typedmap::Store> store_;
  typedmap::TypedMap<std::string>* map_ = nullptr;
};

class FileperkeyDriver : public Driver {
 public:
  explicit FileperkeyDriver(bool sync) : sync_(sync) {}
  Status Open(Env* env) override {
    fileperkey::Options o;
    o.env = env;
    o.sync = sync_;
    o.transform = fileperkey::Transform::Blocks(1, 1);
    auto st = fileperkey::Store::Open("/db", o);
    if (!st.ok()) return st.status();
    store_ = std::move(*st);
    return Status::OK();
  }
  Status Put(const std::string& k, const std::string& v) override {
    return store_->Write(k, v);
  }
  Status Delete(const std::string& k) override {
    Status s = store_->Erase(k);
    return s.IsNotFound() ? Status::OK() : s;
  }
  Status Sync() override { return store_->Sync(); }
  Status Close() override {
    if (!store_) return Status::OK();
    // The store has no Close: Sync is what makes a clean shutdown durable.
    Status s = store_->Sync();
    store_.reset();
    return s;
  }
  Status Get(const std::string& k, std::string* v) override {
    return store_->Read(k, v);
  }
  Status Keys(std::set<std::string>* keys) override {
    return store_->ForEachKey("", [&](const std::string& k) {
      keys->insert(k);
      return true;
    });
  }
  // A Write returns after its rename: a clean reopen sees it, synced or not.
  bool WriteAcknowledges() const override { return true; }

 private:
  const bool sync_;
  std::unique_ptr<fileperkey::Store> store_;
};

struct Step {
  enum Kind { kOpen, kPut, kDelete, kSync, kClose } kind;
  std::string key;
  std::string value;
};

std::vector<Step> Workload() {
  std::vector<Step> w;
  auto put = [&](int k, int version) {
    std::string key = "key";
    key += std::to_string(k);
    std::string value = "v";
    value += std::to_string(version);
    value.append(static_cast<size_t>(40 + (k * 37 + version * 11) % 200),
                 'a' + k);
    w.push_back({Step::kPut, key, value});
  };
  auto del = [&](int k) {
    std::string key = "key";
    key += std::to_string(k);
    w.push_back({Step::kDelete, key, ""});
  };
  w.push_back({Step::kOpen, "", ""});
  for (int k = 0; k < 8; ++k) put(k, 1);
  w.push_back({Step::kSync, "", ""});
  for (int k = 0; k < 4; ++k) put(k, 2);
  del(5);
  del(6);
  w.push_back({Step::kSync, "", ""});
  put(8, 1);
  w.push_back({Step::kClose, "", ""});
  w.push_back({Step::kOpen, "", ""});
  put(5, 3);
  del(0);
  put(9, 1);
  w.push_back({Step::kSync, "", ""});
  put(1, 4);
  del(2);
  w.push_back({Step::kClose, "", ""});
  return w;
}

using Value = std::optional<std::string>;

struct RunResult {
  bool injected = false;  // the armed fault fired
  bool reported = false;  // some step returned an error
  std::string failure;    // why the run violated the contract ("" = fine)
  std::string first_error;
};

// Every value each key may have after a clean reopen.
std::map<std::string, std::set<Value>> Allowed(const std::vector<Step>& w,
                                               int acked, int last_attempted) {
  std::map<std::string, Value> state;
  for (const Step& s : w) {
    if (!s.key.empty()) state[s.key] = std::nullopt;
  }
  std::map<std::string, std::set<Value>> allowed;
  for (int i = 0; i <= acked; ++i) {
    const Step& s = w[i];
    if (s.kind == Step::kPut) state[s.key] = s.value;
    if (s.kind == Step::kDelete) state[s.key] = std::nullopt;
  }
  for (const auto& [k, v] : state) allowed[k].insert(v);
  for (int i = acked + 1; i <= last_attempted; ++i) {
    const Step& s = w[i];
    if (s.kind == Step::kPut) allowed[s.key].insert(s.value);
    if (s.kind == Step::kDelete) allowed[s.key].insert(std::nullopt);
  }
  return allowed;
}

std::string Verify(Driver* d,
                   const std::map<std::string, std::set<Value>>& allowed) {
  std::set<std::string> keys;
  Status s = d->Keys(&keys);
  if (!s.ok()) return "listing keys after reopen: " + s.ToString();
  for (const std::string& k : keys) {
    if (allowed.count(k) == 0) return "invented key '" + k + "'";
  }
  for (const auto& [k, values] : allowed) {
    std::string v;
    s = d->Get(k, &v);
    if (!s.ok() && !s.IsNotFound())
      return "Get(" + k + ") after reopen: " + s.ToString();
    Value got = s.ok() ? Value(v) : std::nullopt;
    if (values.count(got) == 0) {
      return "key '" + k + "' has " +
             (got ? "a value it never had acknowledged" : "no value") +
             " after reopen";
    }
    if (got.has_value() != (keys.count(k) == 1))
      return "Get and the key walk disagree on '" + k + "'";
  }
  return "";
}

RunResult RunOnce(const std::function<std::unique_ptr<Driver>()>& make, Op op,
                  uint64_t k, bool disk_full) {
  std::unique_ptr<Env> mem = NewMemEnv();
  REQUIRE(mem->CreateDirs("/db").ok());
  FaultInjectionEnv env(mem.get());
  const Status error =
      disk_full ? Status::NoSpace("injected: no space left on device")
                : Status::IOError("injected: input/output error");
  const std::vector<Step> w = Workload();
  std::unique_ptr<Driver> d = make();
  env.FailOnce(op, k, error);
  RunResult r;
  int acked = -1;
  int last = -1;
  for (int i = 0; i < static_cast<int>(w.size()); ++i) {
    const Step& step = w[i];
    last = i;
    Status s;
    switch (step.kind) {
      case Step::kOpen:
        s = d->Open(&env);
        break;
      case Step::kPut:
        s = d->Put(step.key, step.value);
        break;
      case Step::kDelete:
        s = d->Delete(step.key);
        break;
      case Step::kSync:
        s = d->Sync();
        break;
      case Step::kClose:
        s = d->Close();
        break;
    }
    if (!s.ok()) {
      r.reported = true;
      r.first_error = s.ToString();
      break;
    }
    const bool is_write = step.kind == Step::kPut || step.kind == Step::kDelete;
    if (step.kind == Step::kSync || step.kind == Step::kClose ||
        (is_write && d->WriteAcknowledges())) {
      acked = i;
    }
  }
  r.injected = env.injected_failures() > 0;
  if (disk_full && r.injected) env.FailAlways(op, error);
  d->Close()
      .IgnoreError();  // must return; its status after a failure is not checked
  env.ClearFaults();
  if (r.injected && !r.reported) {
    r.failure = "injected failure was not reported by any call";
    return r;
  }
  std::unique_ptr<Driver> again = make();
  Status s = again->Open(&env);
  if (!s.ok()) {
    r.failure = "reopen failed: " + s.ToString();
    return r;
  }
  r.failure = Verify(again.get(), Allowed(w, acked, last));
  s = again->Close();
  if (r.failure.empty() && !s.ok())
    r.failure = "close after reopen: " + s.ToString();
  return r;
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kAppend:
      return "append";
    case Op::kWriteAt:
      return "pwrite";
    case Op::kTruncate:
      return "truncate";
    case Op::kSync:
      return "fsync";
    case Op::kDataSync:
      return "fdatasync";
    case Op::kSyncDir:
      return "fsync(dir)";
    case Op::kRename:
      return "rename";
    default:
      return "?";
  }
}

// Runs every point for one engine configuration; returns the number of points
// checked.
uint64_t CheckAllPoints(const std::string& name,
                        const std::function<std::unique_ptr<Driver>()>& make) {
  uint64_t points = 0;
  std::string counts;
  for (Op op : {Op::kAppend, Op::kWriteAt, Op::kTruncate, Op::kSync,
                Op::kDataSync, Op::kSyncDir, Op::kRename}) {
    uint64_t calls = 0;
    for (bool disk_full : {true, false}) {
      for (uint64_t k = 0;; ++k) {
        RunResult r = RunOnce(make, op, k, disk_full);
        if (!r.injected) {
          REQUIRE(r.failure.empty());  // the dry run itself must pass
          calls = k;
          break;
        }
        ++points;
        INFO(name << ": " << (disk_full ? "ENOSPC" : "EIO") << " at "
                  << OpName(op) << " #" << k
                  << " (first error returned: " << r.first_error << ")");
        CHECK(r.failure == "");
        REQUIRE(k < 10000);
      }
    }
    counts += std::string(" ") + OpName(op) + "=" + std::to_string(calls);
  }
  WARN(name << ": " << points
            << " fault points checked (calls per kind:" << counts << ")");
  return points;
}

TEST_CASE("linhash survives ENOSPC and EIO at every write and sync",
          "[reliability]") {
  CHECK(CheckAllPoints("linhash sync=0",
                       [] { return std::make_unique<LinhashDriver>(0); }) > 0);
  CHECK(CheckAllPoints("linhash sync=every-write",
                       [] { return std::make_unique<LinhashDriver>(-1); }) > 0);
}

TEST_CASE("typedmap survives ENOSPC and EIO at every write and sync",
          "[reliability]") {
  using typedmap::Durability;
  for (auto [d, name] :
       {std::pair{Durability::kAsync, "typedmap async"},
        std::pair{Durability::kImmediate, "typedmap immediate"},
        std::pair{Durability::kFSync, "typedmap fsync"}}) {
    Durability level = d;
    CHECK(CheckAllPoints(name, [level] {
            return std::make_unique<TypedmapDriver>(level);
          }) > 0);
  }
}

TEST_CASE("fileperkey survives ENOSPC and EIO at every write and sync",
          "[reliability]") {
  CHECK(CheckAllPoints("fileperkey sync=off", [] {
          return std::make_unique<FileperkeyDriver>(false);
        }) > 0);
  CHECK(CheckAllPoints("fileperkey sync=on", [] {
          return std::make_unique<FileperkeyDriver>(true);
        }) > 0);
}

}  // namespace
}  // namespace kvb
