// FaultInjectionEnv: see core/testing/fault_env.h for what it does; this file
// explains how.
//
// The durability model
// --------------------
// Only paths touched through this Env (opened, locked, renamed, removed) are
// modelled; everything else in the wrapped Env is left alone, which is what
// "files that existed before count as durable as they were" needs: the first
// touch snapshots the file's contents from the base as both its current and its
// durable state.
//
// The model is a tiny inode table:
//   Inode: the data of one file. `durable` holds its bytes as of the last
//     successful Sync/DataSync; the current bytes live in the base Env.
//   PathState: per modelled path, `live` is the inode now at that name and
//     `durable` the inode a power loss would leave there (null: none).
// File data and directory entries become durable independently, as on a real
// file system:
//   Sync/DataSync of a handle: inode.durable = current bytes (read back);
//   SyncDir(d): for every modelled name in d, durable = live.
// So a file created and synced but whose directory was never synced vanishes; a
// rename that was not followed by SyncDir is undone (the old inode, with its
// last synced bytes, is back); a removed name comes back with its last durable
// contents.
//
// By default directories themselves are not modelled: CreateDir and RemoveDir
// count as durable at once. With Model::dirs_need_parent_sync, `new_dirs` holds
// each directory created or removed through this Env whose entry in its parent
// is not yet durable; a power loss removes the ones not durable (with all they
// contain) and recreates the durably present ones. Renaming a directory through
// this Env is NotSupported.
//
// Model::unsynced_names: every change of a file name is also appended to
// `journal` (a rename as one group of two entries); SyncDir(d) drops d's
// entries, since they are durable anyway. A power loss first applies all, none
// or a prefix of the journal to the durable names: the committed part of a
// journal that outran the data.
//
// Model::failed_sync_drops_data: a failed sync adds the unsynced range to the
// inode's `dropped` ranges; later syncs keep those bytes as they were durable
// (zeros past the old end) until a write covers them again.
//
// SimulatePowerLoss rewrites the base so that every modelled path holds its
// durable inode's bytes (or nothing), gives each restored path a fresh inode,
// bumps an epoch so that every File opened earlier fails from then on, and
// releases locks held through this Env (the process that held them is "dead").
#include "core/testing/fault_env.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "core/env_internal.h"

namespace kvb {
namespace {

using Op = FaultInjectionEnv::Op;
using internal::NormalizePath;

// A half-open byte range [begin, end).
using Range = std::pair<uint64_t, uint64_t>;

struct Inode {
  std::string durable;      // contents as of the last successful Sync/DataSync
  uint64_t dirty_from = 0;  // lowest offset possibly changed since then
  std::vector<Range> dropped;  // bytes a failed sync dropped (fsync-gate)
};

// Removes [begin, end) from a set of disjoint ranges.
void Subtract(std::vector<Range>* ranges, uint64_t begin, uint64_t end) {
  std::vector<Range> out;
  for (const Range& r : *ranges) {
    if (r.second <= begin || r.first >= end) {
      out.push_back(r);
      continue;
    }
    if (r.first < begin) out.emplace_back(r.first, begin);
    if (r.second > end) out.emplace_back(end, r.second);
  }
  *ranges = std::move(out);
}

// One change of a file name (see the journal in the file comment).
struct NameOp {
  uint64_t group;  // entries of one rename share a group
  std::string dir;
  std::string name;
  std::shared_ptr<Inode> inode;  // the name's new inode; null: removed
};

// A directory whose entry in its parent is not yet durable.
struct DirState {
  bool live;     // exists now
  bool durable;  // a power loss would leave it
};

struct PathState {
  std::shared_ptr<Inode> live;
  std::shared_ptr<Inode> durable;
};

struct Fault {
  Op op;
  bool always;
  uint64_t skip;  // matching calls still to let through (FailOnce)
  Status error;
  std::string filter;
  std::vector<Op> then;  // FailSticky: ops that fail always once this fires
};

struct Tear {
  size_t keep;
  std::string filter;
};

Status Crashed() { return Status::IOError("fault env: crashed"); }

}  // namespace

class FaultLockImpl;

// All mutable state; FaultInjectionEnv::State (private in the header) is just
// this, so the File and FileLock wrappers below can name it.
struct FaultState {
  explicit FaultState(Env* b) : base(b) {}

  Env* const base;
  std::atomic<uint64_t> epoch{0};  // bumped by each power loss
  std::atomic<bool> crashed{false};
  // True while any fault, tear or crash countdown is armed: lets the hot path
  // (ReadAt from many threads) skip the mutex entirely in the common no-fault
  // case.
  std::atomic<bool> armed{false};

  mutable std::mutex mu;  // guards everything below
  // dir -> name -> state: SyncDir touches one inner map.
  std::map<std::string, std::map<std::string, PathState>> dirs;
  std::vector<Fault> faults;
  std::optional<Tear> tear;
  std::optional<uint64_t> crash_after;  // sync points left before the crash
  uint64_t sync_points = 0;
  uint64_t injected = 0;
  std::set<FaultLockImpl*> locks;
  FaultInjectionEnv::Model model;
  std::vector<NameOp> journal;  // only with model.unsynced_names != kOnlySynced
  uint64_t next_group = 0;
  std::map<std::string, DirState> new_dirs;  // path -> state

  bool EagerNamesLocked() const {
    return model.unsynced_names != FaultInjectionEnv::Model::Names::kOnlySynced;
  }

  // Points `path`'s live name at `inode` (null: removed) and journals it.
  void SetLiveLocked(const std::string& path, PathState* st,
                     std::shared_ptr<Inode> inode, uint64_t group) {
    st->live = inode;
    if (EagerNamesLocked())
      journal.push_back(
          {group, DirName(path), BaseName(path), std::move(inode)});
  }

  void RearmLocked() {
    armed.store(!faults.empty() || tear.has_value() || crash_after.has_value(),
                std::memory_order_release);
  }

  // The injected error for a call of `op` on `path`, or OK. Every call passes
  // through here.
  Status Check(Op op, const std::string& path) {
    if (crashed.load(std::memory_order_acquire)) return Crashed();
    if (!armed.load(std::memory_order_acquire)) return Status::OK();
    std::lock_guard guard(mu);
    for (size_t i = 0; i < faults.size(); ++i) {
      Fault& f = faults[i];
      if ((f.op != Op::kAny && f.op != op) ||
          path.find(f.filter) == std::string::npos)
        continue;
      if (f.always) {
        ++injected;
        return f.error;
      }
      if (f.skip > 0) {
        --f.skip;
        continue;
      }
      Status error = f.error;
      std::vector<Op> then = std::move(f.then);
      faults.erase(faults.begin() + static_cast<ptrdiff_t>(i));
      for (Op t : then) faults.push_back(Fault{t, true, 0, error, "", {}});
      ++injected;
      RearmLocked();
      return error;
    }
    return Status::OK();
  }

  // If a torn write is armed for `path`, disarms it and returns how many bytes
  // to keep.
  std::optional<size_t> TakeTear(const std::string& path) {
    if (!armed.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard guard(mu);
    if (!tear || path.find(tear->filter) == std::string::npos)
      return std::nullopt;
    size_t keep = tear->keep;
    tear.reset();
    ++injected;
    RearmLocked();
    return keep;
  }

  // Power loss: the committed part of the name journal becomes durable.
  void ApplyJournalLocked(std::mt19937_64* rng) {
    size_t keep = 0;
    if (model.unsynced_names == FaultInjectionEnv::Model::Names::kAll) {
      keep = journal.size();
    } else if (model.unsynced_names ==
               FaultInjectionEnv::Model::Names::kRandomPrefix) {
      keep = (*rng)() % (journal.size() + 1);
      // Never split a rename.
      while (keep > 0 && keep < journal.size() &&
             journal[keep].group == journal[keep - 1].group)
        ++keep;
    }
    for (size_t i = 0; i < keep; ++i) {
      const NameOp& op = journal[i];
      dirs[op.dir][op.name].durable = op.inode;
    }
    journal.clear();
  }

  // Power loss: directories whose entry was not durable vanish with their
  // contents; durably present ones removed since come back (empty; their
  // modelled files are written back afterwards). Parents sort before children.
  Status RestoreDirsLocked() {
    for (const auto& [path, d] : new_dirs) {
      if (d.live && !d.durable) KVB_RETURN_IF_ERROR(base->RemoveAll(path));
    }
    for (const auto& [path, d] : new_dirs) {
      if (d.live || !d.durable) continue;
      Result<FileStat> parent = base->Stat(DirName(path));
      if (parent.ok() && parent->is_dir)
        KVB_RETURN_IF_ERROR(base->CreateDir(path));
    }
    new_dirs.clear();
    return Status::OK();
  }

  // Counts a successful Sync/DataSync/SyncDir and fires an armed crash.
  void OnSyncPointLocked() {
    ++sync_points;
    if (crash_after && --*crash_after == 0) {
      crashed.store(true, std::memory_order_release);
      crash_after.reset();
      RearmLocked();
    }
  }

  PathState* FindLocked(const std::string& path) {
    auto d = dirs.find(DirName(path));
    if (d == dirs.end()) return nullptr;
    auto n = d->second.find(BaseName(path));
    return n == d->second.end() ? nullptr : &n->second;
  }

  // Brings `path` into the model before its first change. A file already in the
  // base is durable as it is now; a missing path is durably absent; a directory
  // is not modelled.
  Result<PathState*> TouchLocked(const std::string& path) {
    if (PathState* st = FindLocked(path)) return st;
    PathState fresh;
    Result<FileStat> stat = base->Stat(path);
    if (stat.ok()) {
      if (stat->is_dir) return static_cast<PathState*>(nullptr);
      KVB_ASSIGN_OR_RETURN(std::string contents, base->ReadFileToString(path));
      auto inode = std::make_shared<Inode>();
      inode->dirty_from = contents.size();
      inode->durable = std::move(contents);
      fresh.live = fresh.durable = inode;
    } else if (!stat.status().IsNotFound()) {
      return stat.status();
    }
    PathState& slot = dirs[DirName(path)][BaseName(path)];
    slot = std::move(fresh);
    return &slot;
  }

  // Reads the file's current bytes back from the base into inode->durable. Only
  // the range that may have changed since the last sync is read, so frequent
  // syncs of a growing log cost O(new bytes), not O(file). Dropped ranges keep
  // their old durable bytes (zeros past the old end).
  Status RecordSyncLocked(Inode* inode, const File& file) {
    KVB_ASSIGN_OR_RETURN(uint64_t size, file.Size());
    uint64_t keep =
        std::min<uint64_t>({inode->dirty_from, size, inode->durable.size()});
    std::string old_tail;
    if (!inode->dropped.empty()) old_tail = inode->durable.substr(keep);
    inode->durable.resize(size);
    size_t done = keep;
    while (done < size) {
      size_t got = 0;
      KVB_RETURN_IF_ERROR(
          file.ReadAt(done, size - done, inode->durable.data() + done, &got));
      if (got == 0) break;
      done += got;
    }
    inode->durable.resize(done);
    inode->dirty_from = done;
    for (const Range& r : inode->dropped) {
      for (uint64_t off = std::max(r.first, keep);
           off < std::min(r.second, done); ++off) {
        const uint64_t i = off - keep;
        inode->durable[off] = i < old_tail.size() ? old_tail[i] : '\0';
      }
    }
    return Status::OK();
  }

  // A sync of `inode` failed: its unsynced bytes will never become durable
  // unless written again (fsync-gate).
  void DropDirtyLocked(Inode* inode, const File& file) {
    Result<uint64_t> size = file.Size();
    if (!size.ok() || inode->dirty_from >= *size) return;
    inode->dropped.emplace_back(inode->dirty_from, *size);
  }
};

struct FaultInjectionEnv::State : FaultState {
  using FaultState::FaultState;
};

namespace {

using State = FaultState;

class FaultFile : public File {
 public:
  FaultFile(State* s, std::string path, std::unique_ptr<File> base,
            std::shared_ptr<Inode> inode)
      : s_(s),
        path_(std::move(path)),
        base_(std::move(base)),
        inode_(std::move(inode)),
        epoch_(s->epoch.load()) {}

  Status ReadAt(uint64_t offset, size_t n, char* scratch,
                size_t* bytes_read) const override {
    *bytes_read = 0;
    KVB_RETURN_IF_ERROR(Guard(Op::kRead));
    return base_->ReadAt(offset, n, scratch, bytes_read);
  }

  Status Append(std::string_view data) override {
    KVB_RETURN_IF_ERROR(Guard(Op::kAppend));
    // Appends never lower dirty_from: they land at or past the end, and
    // anything that moved the end below the durable size (Truncate) already
    // lowered it.
    if (std::optional<size_t> keep = s_->TakeTear(path_)) {
      base_->Append(data.substr(0, std::min(*keep, data.size()))).IgnoreError();
      return Status::IOError("fault env: torn write: " + path_);
    }
    return base_->Append(data);
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    KVB_RETURN_IF_ERROR(Guard(Op::kWriteAt));
    NoteWrite(offset, offset + data.size());
    if (std::optional<size_t> keep = s_->TakeTear(path_)) {
      base_->WriteAt(offset, data.substr(0, std::min(*keep, data.size())))
          .IgnoreError();
      return Status::IOError("fault env: torn write: " + path_);
    }
    return base_->WriteAt(offset, data);
  }

  Status Truncate(uint64_t size) override {
    KVB_RETURN_IF_ERROR(Guard(Op::kTruncate));
    NoteWrite(size, UINT64_MAX);
    {
      std::lock_guard guard(s_->mu);
      // A journalled size change: durable at once when names outrun data.
      if (s_->EagerNamesLocked() && size < inode_->durable.size())
        inode_->durable.resize(size);
    }
    return base_->Truncate(size);
  }

  Status Sync() override { return SyncAs(Op::kSync); }
  Status DataSync() override { return SyncAs(Op::kDataSync); }

  Result<uint64_t> Size() const override {
    KVB_RETURN_IF_ERROR(Alive());
    return base_->Size();
  }

  Status Close() override {
    Status alive = Alive();
    Status s = base_->Close();
    return alive.ok() ? s : alive;
  }
  // Map and DropCache: the File defaults (NotSupported, no-op), so engines fall
  // back to ReadAt and every read passes through the fault checks.

 private:
  // Fails if the Env crashed or lost power since this handle was opened.
  Status Alive() const {
    if (epoch_ != s_->epoch.load(std::memory_order_acquire)) {
      return Status::IOError("fault env: file opened before power loss: " +
                             path_);
    }
    if (s_->crashed.load(std::memory_order_acquire)) return Crashed();
    return Status::OK();
  }

  Status Guard(Op op) const {
    KVB_RETURN_IF_ERROR(Alive());
    return s_->Check(op, path_);
  }

  // Bytes [begin, end) are about to change.
  void NoteWrite(uint64_t begin, uint64_t end) {
    std::lock_guard guard(s_->mu);
    inode_->dirty_from = std::min(inode_->dirty_from, begin);
    if (!inode_->dropped.empty()) Subtract(&inode_->dropped, begin, end);
  }

  Status SyncAs(Op op) {
    KVB_RETURN_IF_ERROR(Alive());
    Status s = s_->Check(op, path_);
    if (s.ok()) s = op == Op::kSync ? base_->Sync() : base_->DataSync();
    std::lock_guard guard(s_->mu);
    if (!s.ok()) {
      // A crash is not a failed fsync: the power loss that follows decides.
      if (s_->model.failed_sync_drops_data && !s_->crashed.load())
        s_->DropDirtyLocked(inode_.get(), *base_);
      return s;
    }
    KVB_RETURN_IF_ERROR(s_->RecordSyncLocked(inode_.get(), *base_));
    s_->OnSyncPointLocked();
    return Status::OK();
  }

  State* const s_;
  const std::string path_;
  const std::unique_ptr<File> base_;
  const std::shared_ptr<Inode> inode_;
  const uint64_t epoch_;
};

}  // namespace

// Wraps a base lock so a power loss can release it (the process holding it
// "died").
class FaultLockImpl : public FileLock {
 public:
  FaultLockImpl(State* s, std::unique_ptr<FileLock> base)
      : s_(s), base_(std::move(base)) {
    s_->locks.insert(this);  // caller holds s->mu
  }
  ~FaultLockImpl() override {
    std::lock_guard guard(s_->mu);
    s_->locks.erase(this);
    base_.reset();
  }
  void ReleaseLocked() { base_.reset(); }

 private:
  State* const s_;
  std::unique_ptr<FileLock> base_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base)
    : state_(std::make_unique<State>(base)) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::FailOnce(Op op, uint64_t skip, Status error,
                                 std::string path_filter) {
  std::lock_guard guard(state_->mu);
  state_->faults.push_back(
      Fault{op, false, skip, std::move(error), std::move(path_filter), {}});
  state_->RearmLocked();
}

void FaultInjectionEnv::FailAlways(Op op, Status error,
                                   std::string path_filter) {
  std::lock_guard guard(state_->mu);
  state_->faults.push_back(
      Fault{op, true, 0, std::move(error), std::move(path_filter), {}});
  state_->RearmLocked();
}

void FaultInjectionEnv::FailSticky(Op op, uint64_t skip, Status error,
                                   std::vector<Op> then) {
  std::lock_guard guard(state_->mu);
  state_->faults.push_back(
      Fault{op, false, skip, std::move(error), "", std::move(then)});
  state_->RearmLocked();
}

void FaultInjectionEnv::TearNextWrite(size_t keep, std::string path_filter) {
  std::lock_guard guard(state_->mu);
  state_->tear = Tear{keep, std::move(path_filter)};
  state_->RearmLocked();
}

void FaultInjectionEnv::CrashAfterSyncs(uint64_t k) {
  std::lock_guard guard(state_->mu);
  if (k == 0) {
    state_->crashed.store(true);
    state_->crash_after.reset();
  } else {
    state_->crash_after = k;
  }
  state_->RearmLocked();
}

void FaultInjectionEnv::SetModel(const Model& model) {
  std::lock_guard guard(state_->mu);
  state_->model = model;
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard guard(state_->mu);
  state_->faults.clear();
  state_->tear.reset();
  state_->crash_after.reset();
  state_->crashed.store(false);
  state_->RearmLocked();
}

uint64_t FaultInjectionEnv::sync_points() const {
  std::lock_guard guard(state_->mu);
  return state_->sync_points;
}

uint64_t FaultInjectionEnv::injected_failures() const {
  std::lock_guard guard(state_->mu);
  return state_->injected;
}

bool FaultInjectionEnv::crashed() const { return state_->crashed.load(); }

namespace {

// Replaces the base file at `path` with exactly `contents`.
Status WriteBaseFile(Env* base, const std::string& path,
                     const std::string& contents) {
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> f,
                       base->OpenFile(path, OpenMode::kTruncate));
  KVB_RETURN_IF_ERROR(f->Append(contents));
  KVB_RETURN_IF_ERROR(f->Sync());  // matters when the base is the real disk
  return f->Close();
}

// 1. What each durable inode will hold, decided before the base is touched (a
// torn tail is read from the current bytes). Iterating sorted maps keeps a
// seed reproducible.
std::map<const Inode*, std::string> DurableContents(
    FaultState& s, FaultInjectionEnv::PowerLossMode mode,
    std::mt19937_64* rng) {
  std::map<const Inode*, std::string> live_path;
  for (const auto& [dir, names] : s.dirs) {
    for (const auto& [name, st] : names) {
      if (st.live) live_path.emplace(st.live.get(), JoinPath(dir, name));
    }
  }
  std::map<const Inode*, std::string> final_contents;
  for (const auto& [dir, names] : s.dirs) {
    for (const auto& [name, st] : names) {
      const Inode* inode = st.durable.get();
      if (inode == nullptr || final_contents.count(inode) != 0) continue;
      std::string contents = inode->durable;
      auto lp = live_path.find(inode);
      // Only a pure append since the last sync can leave a torn tail: the
      // synced prefix is intact and some of the new bytes made it to the
      // platter.
      if (mode == FaultInjectionEnv::PowerLossMode::kTornTail &&
          lp != live_path.end() && inode->dirty_from >= contents.size()) {
        Result<std::string> current = s.base->ReadFileToString(lp->second);
        if (current.ok() && current->size() > contents.size()) {
          size_t extra = (*rng)() % (current->size() - contents.size() + 1);
          contents = current->substr(0, contents.size() + extra);
        }
      }
      final_contents.emplace(inode, std::move(contents));
    }
  }
  return final_contents;
}

// 2. Removes every modelled file from the base.
Status RemoveModelledFiles(FaultState& s) {
  for (auto& [dir, names] : s.dirs) {
    for (auto& [name, st] : names) {
      if (!st.live) continue;
      Status r = s.base->RemoveFile(JoinPath(dir, name));
      if (!r.ok() && !r.IsNotFound()) return r;
    }
  }
  return Status::OK();
}

// 3. Writes back the durable files, each with a fresh inode (two names durably
// sharing one inode become two files, like a lost hard link).
Status WriteBackDurable(
    FaultState& s, const std::map<const Inode*, std::string>& final_contents) {
  for (auto& [dir, names] : s.dirs) {
    Result<FileStat> dir_stat = s.base->Stat(dir);
    const bool dir_exists = dir_stat.ok() && dir_stat->is_dir;
    for (auto& [name, st] : names) {
      PathState restored;
      if (st.durable && dir_exists) {
        const std::string& contents = final_contents.at(st.durable.get());
        KVB_RETURN_IF_ERROR(
            WriteBaseFile(s.base, JoinPath(dir, name), contents));
        auto inode = std::make_shared<Inode>();
        inode->durable = contents;
        inode->dirty_from = contents.size();
        restored.live = restored.durable = inode;
      }
      st = std::move(restored);
    }
  }
  return Status::OK();
}

}  // namespace

Status FaultInjectionEnv::SimulatePowerLoss(PowerLossMode mode, uint64_t seed) {
  State& s = *state_;
  std::lock_guard guard(s.mu);
  s.epoch.fetch_add(1);  // every File opened so far is now dead
  for (FaultLockImpl* lock : s.locks) lock->ReleaseLocked();
  std::mt19937_64 rng(seed);
  s.ApplyJournalLocked(&rng);
  const std::map<const Inode*, std::string> contents =
      DurableContents(s, mode, &rng);
  Status restored = RemoveModelledFiles(s);
  if (restored.ok()) restored = s.RestoreDirsLocked();
  if (restored.ok()) restored = WriteBackDurable(s, contents);
  KVB_RETURN_IF_ERROR(restored.WithContext("fault env: power loss"));

  // 4. The machine is back up: no faults, not crashed.
  s.faults.clear();
  s.tear.reset();
  s.crash_after.reset();
  s.crashed.store(false);
  s.RearmLocked();
  return Status::OK();
}

Result<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(
    const std::string& raw, OpenMode mode) {
  const std::string path = NormalizePath(raw);
  KVB_RETURN_IF_ERROR(state_->Check(Op::kOpen, path));
  std::lock_guard guard(state_->mu);
  KVB_ASSIGN_OR_RETURN(PathState * st, state_->TouchLocked(path));
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                       state_->base->OpenFile(path, mode));
  if (st == nullptr)
    return Status::InvalidArgument("open " + path + ": is a directory");
  if (!st->live) {
    // Created now; never synced, so durably empty.
    state_->SetLiveLocked(path, st, std::make_shared<Inode>(),
                          state_->next_group++);
  } else if (mode == OpenMode::kTruncate) {
    st->live->dirty_from = 0;
    st->live->dropped.clear();
    if (state_->EagerNamesLocked()) st->live->durable.clear();
  }
  return std::unique_ptr<File>(std::make_unique<FaultFile>(
      state_.get(), path, std::move(file), st->live));
}

Status FaultInjectionEnv::RenameFile(const std::string& raw_from,
                                     const std::string& raw_to) {
  const std::string from = NormalizePath(raw_from);
  const std::string to = NormalizePath(raw_to);
  // A path filter matches if it occurs in either name.
  KVB_RETURN_IF_ERROR(state_->Check(Op::kRename, from + " -> " + to));
  std::lock_guard guard(state_->mu);
  KVB_ASSIGN_OR_RETURN(PathState * src, state_->TouchLocked(from));
  if (src == nullptr) {
    return Status::NotSupported(
        "fault env: renaming a directory is not modelled: " + from);
  }
  KVB_ASSIGN_OR_RETURN(PathState * dst, state_->TouchLocked(to));
  KVB_RETURN_IF_ERROR(state_->base->RenameFile(from, to));
  if (from == to) return Status::OK();
  // std::map nodes never move, so `src` is still valid after the second touch.
  const uint64_t group = state_->next_group++;
  state_->SetLiveLocked(to, dst, src->live, group);
  state_->SetLiveLocked(from, src, nullptr, group);
  return Status::OK();
}

Status FaultInjectionEnv::RemoveFile(const std::string& raw) {
  const std::string path = NormalizePath(raw);
  KVB_RETURN_IF_ERROR(state_->Check(Op::kRemove, path));
  std::lock_guard guard(state_->mu);
  KVB_ASSIGN_OR_RETURN(PathState * st, state_->TouchLocked(path));
  KVB_RETURN_IF_ERROR(state_->base->RemoveFile(path));
  if (st != nullptr && st->live)
    state_->SetLiveLocked(path, st, nullptr, state_->next_group++);
  return Status::OK();
}

Status FaultInjectionEnv::CreateDir(const std::string& raw) {
  const std::string path = NormalizePath(raw);
  KVB_RETURN_IF_ERROR(state_->Check(Op::kCreateDir, path));
  std::lock_guard guard(state_->mu);
  if (!state_->model.dirs_need_parent_sync)
    return state_->base->CreateDir(path);
  const bool existed = state_->base->Stat(path).ok();
  KVB_RETURN_IF_ERROR(state_->base->CreateDir(path));
  if (!existed) {
    auto [it, fresh] =
        state_->new_dirs.try_emplace(path, DirState{true, false});
    it->second.live = true;  // re-created after a RemoveDir not yet durable
  }
  return Status::OK();
}

Status FaultInjectionEnv::RemoveDir(const std::string& raw) {
  const std::string path = NormalizePath(raw);
  KVB_RETURN_IF_ERROR(state_->Check(Op::kRemoveDir, path));
  std::lock_guard guard(state_->mu);
  KVB_RETURN_IF_ERROR(state_->base->RemoveDir(path));
  if (state_->model.dirs_need_parent_sync) {
    // A directory not created through this Env was durable.
    auto [it, fresh] =
        state_->new_dirs.try_emplace(path, DirState{false, true});
    it->second.live = false;
  }
  return Status::OK();
}

Result<std::vector<std::string>> FaultInjectionEnv::ListDir(
    const std::string& dir) {
  KVB_RETURN_IF_ERROR(state_->Check(Op::kListDir, dir));
  return state_->base->ListDir(dir);
}

Result<FileStat> FaultInjectionEnv::Stat(const std::string& path) {
  if (state_->crashed.load()) return Crashed();
  return state_->base->Stat(path);
}

Status FaultInjectionEnv::SyncDir(const std::string& raw) {
  const std::string dir = NormalizePath(raw);
  KVB_RETURN_IF_ERROR(state_->Check(Op::kSyncDir, dir));
  KVB_RETURN_IF_ERROR(state_->base->SyncDir(dir));
  std::lock_guard guard(state_->mu);
  auto it = state_->dirs.find(dir);
  if (it != state_->dirs.end()) {
    for (auto& [name, st] : it->second) st.durable = st.live;
  }
  std::erase_if(state_->journal,
                [&](const NameOp& op) { return op.dir == dir; });
  // Subdirectories whose entry is now durable leave the table.
  std::erase_if(state_->new_dirs,
                [&](const auto& entry) { return DirName(entry.first) == dir; });
  state_->OnSyncPointLocked();
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(
    const std::string& raw) {
  const std::string path = NormalizePath(raw);
  KVB_RETURN_IF_ERROR(state_->Check(Op::kLock, path));
  std::lock_guard guard(state_->mu);
  KVB_ASSIGN_OR_RETURN(PathState * st, state_->TouchLocked(path));
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock,
                       state_->base->LockFile(path));
  if (st != nullptr && !st->live)  // created by locking
    state_->SetLiveLocked(path, st, std::make_shared<Inode>(),
                          state_->next_group++);
  return std::unique_ptr<FileLock>(
      std::make_unique<FaultLockImpl>(state_.get(), std::move(lock)));
}

}  // namespace kvb
