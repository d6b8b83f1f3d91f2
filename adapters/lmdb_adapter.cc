// kvb::LmdbAdapter — LMDB (Debian liblmdb-dev 0.9.24) behind the adapter
// interface.
//
// One MDB_env and its unnamed main database, in the directory given to Open
// (data.mdb and lock.mdb), opened once for the adapter's whole life.
//
// Threads: the env is opened with MDB_NOTLS. Each thread gets its own
// read-only transaction (kvb::PerThread), kept reset between operations and
// renewed for each Get/Has/Scan, so reads take no lock of LMDB's and scale
// with cores. Writes are serialized by an adapter mutex (LMDB allows one
// writer anyway); each Put/Delete is one write transaction, each WriteBatch
// one transaction. Read transactions are aborted at Close; a thread that
// exits gives its transaction back for reuse. The Scan callback must not call
// back into the adapter.
//
// Map size: the map starts at map_mb and doubles whenever a write hits
// MDB_MAP_FULL, up to max_map_mb; a write that still does not fit returns
// NoSpace and the database stays intact. LMDB allows a resize only while no
// transaction is live in this process. Writers are excluded by the writer
// mutex (the resize runs in the writer, between transactions); readers take no
// shared lock: each read transaction has its own "active" flag (its own cache
// line), set around every read; the resizer raises a process-wide "resizing"
// flag and waits until no reader is active, and a reader that sees the flag
// steps back and waits for the resize to end (seq_cst on both sides, so one of
// the two always sees the other). Sync and Stats, rare, wait out a resize on
// its mutex. A map grown by another process (MDB_MAP_RESIZED) is adopted on the
// next write the same way.
//
// Durability (kLmdbDurability below):
//   memory       refused: every commit pwrite(2)s its pages.
//   process      MDB_NOSYNC: commits are not flushed; Sync() =
//                mdb_env_sync(force). A process crash loses nothing; LMDB
//                warns that a system crash in this mode may lose recent
//                transactions or, if the file system reorders writes, corrupt
//                the database.
//   periodic:MS  MDB_NOSYNC plus a background mdb_env_sync every MS ms.
//   sync         LMDB's default: every commit fsyncs the data, then the meta
//                page.
// Close() syncs, then closes the env.
//
// Options:
//   map_mb = 1024              initial map size in MiB.
//   max_map_mb = 262144        the map never grows past this (256 GiB of
//                              address space by default).
//   max_readers = 1024         reader slots, one per thread that ever read
//                              (LMDB's default is 126).
//
// Limits: keys are 1..mdb_env_get_maxkeysize() bytes (511 in Debian's build).
// Put of an empty or longer key is InvalidArgument; Get/Has of one is
// NotFound; Delete of one is OK. Values up to 4 GiB - 1 (and the map).
// Locking: LMDB forbids opening one env twice in a process, so a second open
// of the same directory in this process returns Busy (a process-wide set of
// open paths). Other processes may open it at the same time: LMDB is
// multi-process and its lock file coordinates them.
#include <lmdb.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "adapters/per_thread.h"
#include "adapters/periodic_sync.h"

namespace kvb {
namespace {

MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view FromVal(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

Status FromMdb(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::OK();
  std::string msg = "lmdb " + std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND:
      return Status::NotFound(msg);
    case MDB_MAP_FULL:
      return Status::NoSpace(msg);
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
      return Status::Corruption(msg);
    case MDB_BAD_VALSIZE:
      return Status::InvalidArgument(msg);
    case MDB_READERS_FULL:
      return Status::Busy(msg);
    default:
      break;
  }
  // Positive codes are errno values (EACCES, ENOSPC, ...).
  if (rc > 0) return Status::FromErrno(rc, "lmdb " + std::string(what));
  return Status::IOError(msg);
}

// LMDB must not open one env twice in a process (its locks are per process):
// the canonical directories of open envs.
std::mutex& OpenPathsMu() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& OpenPaths() {
  static std::set<std::string> paths;
  return paths;
}

struct LmdbConfig {
  uint64_t map_mb = 1024;
  uint64_t max_map_mb = 262144;
  unsigned max_readers = 1024;
  DurabilityClass durability;

  static Result<LmdbConfig> Parse(const OptionMap& o) {
    LmdbConfig c;
    KVB_RETURN_IF_ERROR(ReadOption(o, "map_mb", &c.map_mb, 1, 1LL << 30));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "max_map_mb", &c.max_map_mb, 1, 1LL << 30));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "max_readers", &c.max_readers, 1, 1 << 20));
    KVB_RETURN_IF_ERROR(ReadDurability(o, &c.durability));
    if (c.max_map_mb < c.map_mb) {
      return Status::InvalidArgument(
          "option max_map_mb (" + std::to_string(c.max_map_mb) +
          ") is smaller than map_mb (" + std::to_string(c.map_mb) + ")");
    }
    return c;
  }
};

constexpr Capabilities kLmdbCaps{
    .ordered = true,
    .batch = true,
    .atomic_batch = true,
    .locks_directory = true,  // within this process; see the file comment
    .max_key_size = 511,
    .max_value_size = 0xffffffffu};

// Opens the env and its main database; on failure nothing stays open.
Status OpenEnv(const LmdbConfig& c, const std::string& dir, MDB_env** out,
               MDB_dbi* dbi) {
  MDB_env* env = nullptr;
  KVB_RETURN_IF_ERROR(FromMdb(mdb_env_create(&env), "env create"));
  unsigned flags = MDB_NOTLS;
  if (c.durability.level != Durability::kSync) flags |= MDB_NOSYNC;
  int rc = mdb_env_set_maxreaders(env, c.max_readers);
  if (rc == 0) rc = mdb_env_set_mapsize(env, c.map_mb << 20);
  if (rc == 0) rc = mdb_env_open(env, dir.c_str(), flags, 0644);
  if (rc != 0) {
    mdb_env_close(env);
    return FromMdb(rc, "open " + dir);
  }
  int dead = 0;
  mdb_reader_check(env, &dead);  // clears slots left by crashed processes
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(env, nullptr, 0, &txn);
  if (rc == 0) {
    rc = mdb_dbi_open(txn, nullptr, 0, dbi);
    rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
  }
  if (rc != 0) {
    mdb_env_close(env);
    return FromMdb(rc, "open main db in " + dir);
  }
  *out = env;
  return Status::OK();
}

// This process's claim on an env directory (see OpenPaths), released when
// the holder is destroyed.
class PathClaim {
 public:
  static Result<PathClaim> Take(const std::string& dir) {
    std::error_code ec;
    std::string canonical = std::filesystem::canonical(dir, ec).string();
    if (ec) return Status::FromErrno(ec.value(), "lmdb: resolve " + dir);
    std::lock_guard lock(OpenPathsMu());
    if (!OpenPaths().insert(canonical).second)
      return Status::Busy("lmdb: " + dir + " is already open in this process");
    return PathClaim(std::move(canonical));
  }
  PathClaim(PathClaim&& o) noexcept : path_(std::exchange(o.path_, "")) {}
  PathClaim& operator=(PathClaim&&) = delete;
  ~PathClaim() { Release(); }
  void Release() {
    if (path_.empty()) return;
    std::lock_guard lock(OpenPathsMu());
    OpenPaths().erase(path_);
    path_.clear();
  }

 private:
  explicit PathClaim(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

class LmdbAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const LmdbConfig& c,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    KVB_ASSIGN_OR_RETURN(PathClaim claim, PathClaim::Take(dir));
    MDB_env* env = nullptr;
    MDB_dbi dbi = 0;
    KVB_RETURN_IF_ERROR(OpenEnv(c, dir, &env, &dbi));
    return std::unique_ptr<Adapter>(
        new LmdbAdapter(c, dir, std::move(claim), env, dbi));
  }
  ~LmdbAdapter() override { Close().IgnoreError(); }

  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status WriteBatch(std::span<const KeyValue> pairs) override;
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override;
  Status Sync() override;
  // Settle is the default, Sync: LMDB defers no work past a commit (no
  // memtable, no compaction, no checkpoint), so it has no state figures.
  std::map<std::string, double> Stats() override;

 private:
  // One thread's read transaction; `active` while it is between renew and
  // reset (or being begun). Aligned so threads' flags never share a line.
  struct alignas(64) ReadTxn {
    MDB_txn* txn = nullptr;  // begun on first use, then reset/renewed
    std::atomic<bool> active{false};
    ~ReadTxn() {
      if (txn != nullptr) mdb_txn_abort(txn);
    }
  };

  LmdbAdapter(const LmdbConfig& c, const std::string& dir, PathClaim claim,
              MDB_env* env, MDB_dbi dbi)
      : BuiltinAdapter("lmdb", kLmdbCaps, dir),
        config_(c),
        claim_(std::move(claim)),
        env_(env),
        dbi_(dbi),
        max_key_(static_cast<size_t>(mdb_env_get_maxkeysize(env))) {
    // No LMDB call here: the transaction is begun inside the reader
    // protocol, at its first read.
    readers_.Reset([]() -> Result<std::unique_ptr<ReadTxn>> {
      return std::make_unique<ReadTxn>();
    });
    syncer_.StartIfPeriodic(c.durability, [this] { return Sync(); });
  }

  // Runs `fn` inside one write transaction, growing the map and retrying on
  // MDB_MAP_FULL. (Templates: a std::function would allocate on every
  // operation.)
  template <typename Fn>
  Status WriteTxn(const char* what, Fn&& fn);
  Status GrowMap(size_t failed_size);
  // Runs `fn` (an mdb_env_set_mapsize) while no read transaction of this
  // process is active. REQUIRES: write_mu_ held (so no write txn is live).
  template <typename Fn>
  Status Quiesced(Fn&& fn);
  // Marks `r` active, first waiting out any resize in progress.
  void EnterRead(ReadTxn* r);
  // Runs `fn` with this thread's renewed read transaction, resetting it
  // afterwards.
  template <typename Fn>
  Status WithReadTxn(Fn&& fn);
  bool KeyFits(std::string_view key) const {
    return !key.empty() && key.size() <= max_key_;
  }
  Status KeyTooLong(std::string_view what, std::string_view key) const {
    return Status::InvalidArgument(
        "lmdb: " + std::string(what) + " of " + std::to_string(key.size()) +
        " bytes; LMDB takes 1.." + std::to_string(max_key_));
  }

  const LmdbConfig config_;
  PathClaim claim_;
  MDB_env* env_;  // null after Close
  const MDB_dbi dbi_;
  const size_t max_key_;
  // Held for a whole resize; readers that met `resizing_` and Sync/Stats wait
  // on it.
  std::mutex resize_mu_;
  std::atomic<bool> resizing_{false};
  std::mutex write_mu_;  // one writer at a time
  std::atomic<uint64_t> map_grows_{0};
  PerThread<ReadTxn> readers_;
  PeriodicSync syncer_;
};

Status LmdbAdapter::Close() {
  if (env_ == nullptr) return Status::OK();
  syncer_.Stop();
  readers_.Clear();  // every read txn must go before the env
  Status s = FromMdb(mdb_env_sync(env_, 1), "sync");
  mdb_env_close(env_);
  env_ = nullptr;
  claim_.Release();
  return s;
}

template <typename Fn>
Status LmdbAdapter::Quiesced(Fn&& fn) {
  std::lock_guard lock(resize_mu_);
  resizing_.store(true, std::memory_order_seq_cst);
  // Readers that attach meanwhile see `resizing_` (they attach under the
  // pool's lock, which ForEach holds) and step back.
  readers_.ForEach([](ReadTxn& r) {
    while (r.active.load(std::memory_order_seq_cst)) std::this_thread::yield();
  });
  Status s = fn();
  resizing_.store(false, std::memory_order_seq_cst);
  return s;
}

void LmdbAdapter::EnterRead(ReadTxn* r) {
  for (;;) {
    r->active.store(true, std::memory_order_seq_cst);
    if (!resizing_.load(std::memory_order_seq_cst)) return;
    r->active.store(false, std::memory_order_seq_cst);
    std::lock_guard wait(resize_mu_);  // until the resize is done
  }
}

Status LmdbAdapter::GrowMap(size_t failed_size) {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  if (info.me_mapsize > failed_size) return Status::OK();  // already grown
  size_t max = config_.max_map_mb << 20;
  if (info.me_mapsize >= max) {
    return Status::NoSpace("lmdb: map full at max_map_mb=" +
                           std::to_string(config_.max_map_mb));
  }
  size_t next = std::min(max, info.me_mapsize * 2);
  KVB_RETURN_IF_ERROR(Quiesced(
      [&] { return FromMdb(mdb_env_set_mapsize(env_, next), "grow map"); }));
  map_grows_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

template <typename Fn>
Status LmdbAdapter::WriteTxn(const char* what, Fn&& fn) {
  std::lock_guard writer(write_mu_);
  for (;;) {
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    const size_t map_size = info.me_mapsize;
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == 0) {
      rc = fn(txn);
      // Commit frees the txn even when it fails; abort on an operation error.
      rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
    }
    if (rc == MDB_MAP_FULL) {
      KVB_RETURN_IF_ERROR(GrowMap(map_size));
      continue;
    }
    if (rc == MDB_MAP_RESIZED) {
      // Another process grew the file: adopt its size (0 = use the size on
      // disk).
      KVB_RETURN_IF_ERROR(Quiesced([&] {
        return FromMdb(mdb_env_set_mapsize(env_, 0), "adopt map size");
      }));
      continue;
    }
    return FromMdb(rc, what);
  }
}

template <typename Fn>
Status LmdbAdapter::WithReadTxn(Fn&& fn) {
  KVB_ASSIGN_OR_RETURN(ReadTxn * r, readers_.Local());
  EnterRead(r);
  Status s;
  if (r->txn == nullptr) {
    MDB_txn* txn = nullptr;
    s = FromMdb(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "begin read");
    if (s.ok()) r->txn = txn;
  } else {
    s = FromMdb(mdb_txn_renew(r->txn), "renew read txn");
  }
  if (s.ok()) {
    s = fn(r->txn);
    mdb_txn_reset(r->txn);  // releases the snapshot so writers reuse pages
  }
  r->active.store(false, std::memory_order_seq_cst);
  return s;
}

Status LmdbAdapter::Put(std::string_view key, std::string_view value) {
  if (!KeyFits(key)) return KeyTooLong("key", key);
  return WriteTxn("put", [&](MDB_txn* txn) {
    MDB_val k = ToVal(key), v = ToVal(value);
    return mdb_put(txn, dbi_, &k, &v, 0);
  });
}

Status LmdbAdapter::Get(std::string_view key, std::string* value) {
  if (!KeyFits(key))
    return Status::NotFound();  // such a key can never have been stored
  return WithReadTxn([&](MDB_txn* txn) {
    MDB_val k = ToVal(key), v;
    int rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return Status::NotFound();
    if (rc != 0) return FromMdb(rc, "get");
    value->assign(FromVal(v));  // an owned copy
    return Status::OK();
  });
}

Status LmdbAdapter::Has(std::string_view key, bool* found) {
  *found = false;
  if (!KeyFits(key)) return Status::OK();
  return WithReadTxn([&](MDB_txn* txn) {
    MDB_val k = ToVal(key), v;
    int rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return Status::OK();
    *found = rc == 0;
    return FromMdb(rc, "has");
  });
}

Status LmdbAdapter::Delete(std::string_view key) {
  if (!KeyFits(key)) return Status::OK();
  return WriteTxn("delete", [&](MDB_txn* txn) {
    MDB_val k = ToVal(key);
    int rc = mdb_del(txn, dbi_, &k, nullptr);
    return rc == MDB_NOTFOUND ? 0 : rc;
  });
}

Status LmdbAdapter::WriteBatch(std::span<const KeyValue> pairs) {
  for (const KeyValue& kv : pairs) {
    if (!KeyFits(kv.key)) return KeyTooLong("batch key", kv.key);
  }
  return WriteTxn("write batch", [&](MDB_txn* txn) {
    for (const KeyValue& kv : pairs) {
      MDB_val k = ToVal(kv.key), v = ToVal(kv.value);
      if (int rc = mdb_put(txn, dbi_, &k, &v, 0); rc != 0) return rc;
    }
    return 0;
  });
}

Status LmdbAdapter::Scan(std::string_view start, size_t limit,
                         const ScanCallback& cb) {
  if (limit == 0) return Status::OK();
  return WithReadTxn([&](MDB_txn* txn) {
    MDB_cursor* cursor = nullptr;
    KVB_RETURN_IF_ERROR(
        FromMdb(mdb_cursor_open(txn, dbi_, &cursor), "cursor open"));
    MDB_val k, v;
    int rc;
    if (start.empty()) {
      rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
    } else {
      // A start longer than any storable key: position on its storable
      // prefix, then skip.
      k = ToVal(start.substr(0, max_key_));
      rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    }
    size_t n = 0;
    while (rc == 0 && n < limit) {
      if (FromVal(k) >= start) {
        n++;
        if (!cb(FromVal(k), FromVal(v))) break;
      }
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    return rc == 0 || rc == MDB_NOTFOUND ? Status::OK() : FromMdb(rc, "scan");
  });
}

Status LmdbAdapter::Sync() {
  std::lock_guard no_resize(resize_mu_);
  return FromMdb(mdb_env_sync(env_, 1), "sync");
}

std::map<std::string, double> LmdbAdapter::Stats() {
  std::map<std::string, double> out;
  std::lock_guard no_resize(resize_mu_);
  MDB_stat st;
  if (mdb_env_stat(env_, &st) == 0) {
    out["entries"] = static_cast<double>(st.ms_entries);
    out["depth"] = st.ms_depth;
    out["branch_pages"] = static_cast<double>(st.ms_branch_pages);
    out["leaf_pages"] = static_cast<double>(st.ms_leaf_pages);
    out["overflow_pages"] = static_cast<double>(st.ms_overflow_pages);
    out["page_size"] = st.ms_psize;
  }
  MDB_envinfo info;
  if (mdb_env_info(env_, &info) == 0) {
    out["map_size"] = static_cast<double>(info.me_mapsize);
    out["last_pgno"] = static_cast<double>(info.me_last_pgno);
    out["readers"] = info.me_numreaders;
  }
  out["map_grows"] = static_cast<double>(map_grows_.load());
  out["read_txns"] = static_cast<double>(readers_.size());
  out["periodic_syncs"] = static_cast<double>(syncer_.syncs());
  return out;
}

constexpr DurabilityTable kLmdbDurability{{
    {Durability::kMemory, "",
     "every commit pwrite(2)s its pages: nothing weaker than process"},
    {Durability::kProcess,
     "MDB_NOSYNC (commits written, not flushed); Sync() = "
     "mdb_env_sync(force)",
     ""},
    {Durability::kPeriodic,
     "MDB_NOSYNC plus mdb_env_sync(force) every MS ms from a background "
     "thread",
     ""},
    {Durability::kSync,
     "LMDB's default flags: each commit fdatasyncs the data, then the meta "
     "page",
     ""},
}};

}  // namespace

namespace adapters_internal {

void AddLmdbAdapter(std::vector<AdapterInfo>* out) {
  Register<LmdbConfig>(
      out,
      {"lmdb",
       "LMDB copy-on-write B+tree (reference; Debian liblmdb)",
       kLmdbCaps,
       {
           {"map_mb", "1024", "initial map size in MiB (doubles on demand)"},
           {"max_map_mb", "262144",
            "largest map size in MiB; beyond it writes fail with NoSpace"},
           {"max_readers", "1024", "reader slots (one per reading thread)"},
       },
       kLmdbDurability},
      &LmdbConfig::Parse, &LmdbAdapter::Open);
}

}  // namespace adapters_internal
}  // namespace kvb
