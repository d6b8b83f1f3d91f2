#include "adapters/lmdb_adapter.h"

#include <cstring>
#include <filesystem>
#include <set>

#include "adapters/builtin.h"
#include "adapters/options.h"

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

}  // namespace

struct LmdbAdapter::ReadTxn {
  MDB_txn* txn = nullptr;
  ~ReadTxn() {
    if (txn != nullptr) mdb_txn_abort(txn);
  }
};

Result<LmdbConfig> LmdbConfig::FromOptions(const OptionMap& o) {
  LmdbConfig c;
  KVB_ASSIGN_OR_RETURN(int64_t map,
                       GetIntOption(o, "map_mb", 1024, 1, 1LL << 30));
  KVB_ASSIGN_OR_RETURN(int64_t max_map,
                       GetIntOption(o, "max_map_mb", 262144, 1, 1LL << 30));
  KVB_ASSIGN_OR_RETURN(int64_t readers,
                       GetIntOption(o, "max_readers", 1024, 1, 1 << 20));
  KVB_ASSIGN_OR_RETURN(int64_t async_ms,
                       GetIntOption(o, "async_ms", 1000, 1, 3'600'000));
  KVB_ASSIGN_OR_RETURN(c.durability, GetDurabilityOption(o));
  if (max_map < map) {
    return Status::InvalidArgument(
        "option max_map_mb (" + std::to_string(max_map) +
        ") is smaller than map_mb (" + std::to_string(map) + ")");
  }
  c.map_mb = static_cast<uint64_t>(map);
  c.max_map_mb = static_cast<uint64_t>(max_map);
  c.max_readers = static_cast<unsigned>(readers);
  c.async_ms = static_cast<uint64_t>(async_ms);
  return c;
}

LmdbAdapter::LmdbAdapter(LmdbConfig config) : config_(std::move(config)) {}

LmdbAdapter::~LmdbAdapter() { Close().IgnoreError(); }

Capabilities LmdbAdapter::Caps() {
  Capabilities c;
  c.persistent = true;
  c.ordered = true;
  c.thread_safe = true;
  c.batch = true;
  c.atomic_batch = true;
  c.locks_directory = true;  // within this process; see the header
  c.max_key_size = 511;
  c.max_value_size = 0xffffffffu;
  return c;
}

Status LmdbAdapter::Open(const std::string& dir) {
  if (env_ != nullptr) return Status::FailedPrecondition("lmdb: already open");
  KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
  std::error_code ec;
  std::string canonical = std::filesystem::canonical(dir, ec).string();
  if (ec) return Status::FromErrno(ec.value(), "lmdb: resolve " + dir);
  {
    std::lock_guard lock(OpenPathsMu());
    if (!OpenPaths().insert(canonical).second) {
      return Status::Busy("lmdb: " + dir + " is already open in this process");
    }
  }
  Status s = OpenEnv(dir);
  if (!s.ok()) {
    std::lock_guard lock(OpenPathsMu());
    OpenPaths().erase(canonical);
    return s;
  }
  lock_path_ = canonical;
  dir_ = dir;
  readers_.Reset([this]() -> Result<std::unique_ptr<ReadTxn>> {
    auto r = std::make_unique<ReadTxn>();
    KVB_RETURN_IF_ERROR(FromMdb(
        mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r->txn), "begin read"));
    mdb_txn_reset(r->txn);  // parked until the first renew
    return r;
  });
  if (config_.durability == Durability::kAsync) {
    syncer_.Start(std::chrono::milliseconds(config_.async_ms),
                  [this] { return Sync(); });
  }
  return Status::OK();
}

Status LmdbAdapter::OpenEnv(const std::string& dir) {
  MDB_env* env = nullptr;
  KVB_RETURN_IF_ERROR(FromMdb(mdb_env_create(&env), "env create"));
  unsigned flags = MDB_NOTLS;
  if (config_.durability != Durability::kSync) flags |= MDB_NOSYNC;
  int rc = mdb_env_set_maxreaders(env, config_.max_readers);
  if (rc == 0) rc = mdb_env_set_mapsize(env, config_.map_mb << 20);
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
    rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
  }
  if (rc != 0) {
    mdb_env_close(env);
    return FromMdb(rc, "open main db in " + dir);
  }
  max_key_ = static_cast<size_t>(mdb_env_get_maxkeysize(env));
  env_ = env;
  return Status::OK();
}

Status LmdbAdapter::Close() {
  if (env_ == nullptr) return Status::OK();
  syncer_.Stop();
  readers_.Clear();  // every read txn must go before the env
  Status s = FromMdb(mdb_env_sync(env_, 1), "sync");
  mdb_env_close(env_);
  env_ = nullptr;
  std::lock_guard lock(OpenPathsMu());
  OpenPaths().erase(lock_path_);
  lock_path_.clear();
  return s;
}

bool LmdbAdapter::KeyFits(std::string_view key) const {
  return !key.empty() && key.size() <= max_key_;
}

Status LmdbAdapter::GrowMap(size_t failed_size) {
  std::unique_lock lock(resize_mu_);
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  // Another writer may have grown it while we waited for the lock.
  if (info.me_mapsize > failed_size) return Status::OK();
  size_t max = config_.max_map_mb << 20;
  if (info.me_mapsize >= max) {
    return Status::NoSpace("lmdb: map full at max_map_mb=" +
                           std::to_string(config_.max_map_mb));
  }
  size_t next = std::min(max, info.me_mapsize * 2);
  KVB_RETURN_IF_ERROR(FromMdb(mdb_env_set_mapsize(env_, next), "grow map"));
  map_grows_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

template <typename Fn>
Status LmdbAdapter::WriteTxn(const char* what, Fn&& fn) {
  if (env_ == nullptr) return Status::FailedPrecondition("lmdb: not open");
  std::lock_guard writer(write_mu_);
  for (;;) {
    size_t map_size;
    int rc;
    {
      std::shared_lock shared(resize_mu_);
      MDB_envinfo info;
      mdb_env_info(env_, &info);
      map_size = info.me_mapsize;
      MDB_txn* txn = nullptr;
      rc = mdb_txn_begin(env_, nullptr, 0, &txn);
      if (rc == 0) {
        rc = fn(txn);
        // Commit frees the txn even when it fails; abort on an operation error.
        rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
      }
    }
    if (rc == MDB_MAP_FULL) {
      KVB_RETURN_IF_ERROR(GrowMap(map_size));
      continue;
    }
    if (rc == MDB_MAP_RESIZED) {
      // Another process grew the file: adopt its size (0 = use the size on
      // disk).
      std::unique_lock lock(resize_mu_);
      KVB_RETURN_IF_ERROR(
          FromMdb(mdb_env_set_mapsize(env_, 0), "adopt map size"));
      continue;
    }
    return FromMdb(rc, what);
  }
}

template <typename Fn>
Status LmdbAdapter::WithReadTxn(Fn&& fn) {
  if (env_ == nullptr) return Status::FailedPrecondition("lmdb: not open");
  std::shared_lock shared(resize_mu_);
  KVB_ASSIGN_OR_RETURN(ReadTxn * r, readers_.Local());
  KVB_RETURN_IF_ERROR(FromMdb(mdb_txn_renew(r->txn), "renew read txn"));
  Status s = fn(r->txn);
  mdb_txn_reset(r->txn);  // releases the snapshot so writers can reuse pages
  return s;
}

Status LmdbAdapter::Put(std::string_view key, std::string_view value) {
  if (!KeyFits(key)) {
    return Status::InvalidArgument(
        "lmdb: key of " + std::to_string(key.size()) +
        " bytes; LMDB takes 1.." + std::to_string(max_key_));
  }
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
    value->assign(static_cast<const char*>(v.mv_data),
                  v.mv_size);  // owned copy
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
    if (!KeyFits(kv.key)) {
      return Status::InvalidArgument(
          "lmdb: batch key of " + std::to_string(kv.key.size()) +
          " bytes; LMDB takes 1.." + std::to_string(max_key_));
    }
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
      // A start longer than any storable key: position on its storable prefix,
      // then skip.
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
  if (env_ == nullptr) return Status::FailedPrecondition("lmdb: not open");
  std::shared_lock shared(resize_mu_);
  return FromMdb(mdb_env_sync(env_, 1), "sync");
}

std::map<std::string, double> LmdbAdapter::Stats() {
  std::map<std::string, double> out;
  if (env_ == nullptr) return out;
  std::shared_lock shared(resize_mu_);
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
  out["async_syncs"] = static_cast<double>(syncer_.syncs());
  return out;
}

namespace adapters_internal {

void AddLmdbAdapter(std::vector<AdapterInfo>* out) {
  AdapterInfo info;
  info.name = "lmdb";
  info.description = "LMDB copy-on-write B+tree (reference; Debian liblmdb)";
  info.built = true;
  info.capabilities = LmdbAdapter::Caps();
  info.options = {
      {"map_mb", "1024", "initial map size in MiB (doubles on demand)"},
      {"max_map_mb", "262144",
       "largest map size in MiB; beyond it writes fail with NoSpace"},
      {"max_readers", "1024", "reader slots (one per reading thread)"},
      {"async_ms", "1000", "sync interval for durability=async"},
  };
  info.factory = [](const OptionMap& o) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(LmdbConfig config, LmdbConfig::FromOptions(o));
    return std::unique_ptr<Adapter>(new LmdbAdapter(std::move(config)));
  };
  out->push_back(std::move(info));
}

}  // namespace adapters_internal
}  // namespace kvb
