// kvb::RocksDbAdapter — RocksDB (Debian librocksdb-dev 7.8) behind the adapter
// interface.
//
// One rocksdb::DB shared by all threads (RocksDB synchronizes internally).
// The database lives directly in the directory given to Open.
//
// Durability (the write-ahead log is always on):
//   none   WriteOptions.sync=false: each write reaches the OS page cache
//          through the WAL, so it survives a process crash but not a power
//          loss. Sync() = SyncWAL().
//   async  as none, plus a background thread calling SyncWAL() every
//          async_ms: at most ~async_ms of acknowledged writes lost on power
//          failure.
//   sync   WriteOptions.sync=true: every Put/Delete/WriteBatch fsyncs the WAL
//          before it returns (RocksDB groups concurrent writers into one
//          fsync).
// Close() calls SyncWAL() then DB::Close(): everything acknowledged is
// durable.
//
// Options (compression is off for every kvbench adapter, so values cost the
// same bytes everywhere):
//   cache_mb = 64              block cache (LRU) in MiB; 0 = no block cache.
//   bloom_bits = 10            bloom filter bits per key; 0 = no filter.
//   write_buffer_mb = 64       memtable size in MiB.
//   max_background_jobs = 2    flush + compaction threads (2-core machine).
//   compression = none         none|snappy|lz4|zstd|zlib (if compiled in).
//   async_ms = 1000            sync interval for durability=async.
//   perf_level = disable       RocksDB's per-thread perf_context counting:
//                              disable|count|time. db_bench's default is
//                              disable; RocksDB's own default (count) costs
//                              ~10% of an uncached Get.
//
// Capabilities: persistent; ordered (bytewise comparator); native atomic
// WriteBatch; locks its directory (RocksDB's LOCK file: a second Open, in
// this process or another, gets Busy). No key/value limits of its own.
// Errors: RocksDB statuses map to ours (a held lock -> Busy, NoSpace ->
// NoSpace, Corruption -> Corruption, the rest -> IOError), keeping RocksDB's
// message.
// Thread safety: every operation between Open and Close, from any thread.
#ifndef KVB_ADAPTERS_ROCKSDB_ADAPTER_H_
#define KVB_ADAPTERS_ROCKSDB_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"
#include "adapters/periodic_sync.h"
#include "adapters/registry.h"

namespace rocksdb {
class DB;
}

namespace kvb {

struct RocksDbConfig {
  uint64_t cache_mb = 64;
  int bloom_bits = 10;
  uint64_t write_buffer_mb = 64;
  int max_background_jobs = 2;
  std::string compression = "none";
  uint64_t async_ms = 1000;
  std::string perf_level = "disable";
  Durability durability = Durability::kNone;

  static Result<RocksDbConfig> FromOptions(const OptionMap& options);
};

class RocksDbAdapter final : public Adapter {
 public:
  explicit RocksDbAdapter(RocksDbConfig config);
  ~RocksDbAdapter() override;
  static Capabilities Caps();

  std::string_view name() const override { return "rocksdb"; }
  Capabilities capabilities() const override { return Caps(); }
  Status Open(const std::string& dir) override;
  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status WriteBatch(std::span<const KeyValue> pairs) override;
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override;
  Status Sync() override;
  std::map<std::string, double> Stats() override;

 private:
  struct Impl;
  const RocksDbConfig config_;
  std::unique_ptr<Impl> impl_;  // null when closed
  PeriodicSync syncer_;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_ROCKSDB_ADAPTER_H_
