// kvb::LmdbAdapter — LMDB (Debian liblmdb-dev 0.9.24) behind the adapter
// interface.
//
// One MDB_env and its unnamed main database, in the directory given to Open
// (data.mdb and lock.mdb).
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
// NoSpace and the database stays intact. Resizing needs no transaction live
// in this process, so every operation holds a shared lock and the resize
// takes it exclusively. A map grown by another process (MDB_MAP_RESIZED) is
// adopted on the next write.
//
// Durability:
//   none   MDB_NOSYNC: commits are not flushed; Sync() = mdb_env_sync(force).
//          A process crash loses nothing; LMDB warns that a system crash in
//          this mode may lose recent transactions or, if the file system
//          reorders writes, corrupt the database.
//   async  MDB_NOSYNC plus a background mdb_env_sync every async_ms.
//   sync   LMDB's default: every commit fsyncs the data, then the meta page.
// Close() syncs, then closes the env.
//
// Options:
//   map_mb = 1024              initial map size in MiB.
//   max_map_mb = 262144        the map never grows past this (256 GiB of
//                              address space by default).
//   max_readers = 1024         reader slots, one per thread that ever read
//                              (LMDB's default is 126).
//   async_ms = 1000            sync interval for durability=async.
//
// Limits: keys are 1..mdb_env_get_maxkeysize() bytes (511 in Debian's build).
// Put of an empty or longer key is InvalidArgument; Get/Has of one is
// NotFound; Delete of one is OK. Values up to 4 GiB - 1 (and the map).
// Locking: LMDB forbids opening one env twice in a process, so a second Open
// of the same directory in this process returns Busy (a process-wide set of
// open paths). Other processes may open it at the same time: LMDB is
// multi-process and its lock file coordinates them.
#ifndef KVB_ADAPTERS_LMDB_ADAPTER_H_
#define KVB_ADAPTERS_LMDB_ADAPTER_H_

#include <lmdb.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>

#include "adapters/adapter.h"
#include "adapters/per_thread.h"
#include "adapters/periodic_sync.h"
#include "adapters/registry.h"

namespace kvb {

struct LmdbConfig {
  uint64_t map_mb = 1024;
  uint64_t max_map_mb = 262144;
  unsigned max_readers = 1024;
  uint64_t async_ms = 1000;
  Durability durability = Durability::kNone;

  static Result<LmdbConfig> FromOptions(const OptionMap& options);
};

class LmdbAdapter final : public Adapter {
 public:
  explicit LmdbAdapter(LmdbConfig config);
  ~LmdbAdapter() override;
  static Capabilities Caps();

  std::string_view name() const override { return "lmdb"; }
  Capabilities capabilities() const override { return Caps(); }
  Status Open(const std::string& dir) override;
  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status WriteBatch(std::span<const KeyValue> pairs) override;
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override;
  Status Sync() override;
  std::map<std::string, double> Stats() override;

 private:
  struct ReadTxn;
  // Runs `fn` inside one write transaction, growing the map and retrying on
  // MDB_MAP_FULL. (Templates, defined in the .cc: a std::function would
  // allocate on every operation.)
  template <typename Fn>
  Status WriteTxn(const char* what, Fn&& fn);
  Status GrowMap(size_t failed_size);
  // Runs `fn` with this thread's renewed read transaction, resetting it
  // afterwards.
  template <typename Fn>
  Status WithReadTxn(Fn&& fn);
  bool KeyFits(std::string_view key) const;
  Status OpenEnv(const std::string& dir);

  const LmdbConfig config_;
  MDB_env* env_ = nullptr;  // null when closed
  MDB_dbi dbi_ = 0;
  size_t max_key_ = 511;
  std::string lock_path_;  // canonical directory, in the process-wide open set
  std::shared_mutex
      resize_mu_;  // shared: any txn in flight; exclusive: mdb_env_set_mapsize
  std::mutex write_mu_;  // one writer at a time
  std::atomic<uint64_t> map_grows_{0};
  PerThread<ReadTxn> readers_;
  PeriodicSync syncer_;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_LMDB_ADAPTER_H_
