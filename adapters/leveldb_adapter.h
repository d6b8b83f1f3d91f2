// kvb::LevelDbAdapter — LevelDB (Debian libleveldb-dev 1.23) behind the
// adapter interface.
//
// One leveldb::DB shared by all threads (LevelDB synchronizes internally).
// The database lives directly in the directory given to Open.
//
// Durability (LevelDB always writes its log):
//   none   WriteOptions.sync=false: writes reach the OS page cache (they
//          survive a process crash, not a power loss). Sync() writes an empty
//          batch with sync=true, which fsyncs the log and so every write
//          before it (LevelDB has no SyncWAL call).
//   async  as none, plus a background thread doing that Sync() every
//          async_ms.
//   sync   WriteOptions.sync=true on every write (LevelDB groups concurrent
//          writers into one fsync).
// Close() syncs, then deletes the DB.
//
// Options (compression off by default for every kvbench adapter):
//   cache_mb = 64              block cache (LRU) in MiB; 0 = LevelDB's 8 MiB.
//   bloom_bits = 10            bloom filter bits per key; 0 = no filter.
//   write_buffer_mb = 64       memtable size in MiB (LevelDB's default: 4).
//   max_open_files = 1000      table cache size.
//   compression = none         none|snappy.
//   async_ms = 1000            sync interval for durability=async.
//
// Capabilities: persistent; ordered (bytewise); native atomic WriteBatch;
// locks its directory (LOCK file: a second Open gets Busy). No key/value
// limits of its own.
// Thread safety: every operation between Open and Close, from any thread.
#ifndef KVB_ADAPTERS_LEVELDB_ADAPTER_H_
#define KVB_ADAPTERS_LEVELDB_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"
#include "adapters/periodic_sync.h"
#include "adapters/registry.h"

namespace kvb {

struct LevelDbConfig {
  uint64_t cache_mb = 64;
  int bloom_bits = 10;
  uint64_t write_buffer_mb = 64;
  int max_open_files = 1000;
  bool snappy = false;
  uint64_t async_ms = 1000;
  Durability durability = Durability::kNone;

  static Result<LevelDbConfig> FromOptions(const OptionMap& options);
};

class LevelDbAdapter final : public Adapter {
 public:
  explicit LevelDbAdapter(LevelDbConfig config);
  ~LevelDbAdapter() override;
  static Capabilities Caps();

  std::string_view name() const override { return "leveldb"; }
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
  const LevelDbConfig config_;
  std::unique_ptr<Impl> impl_;  // null when closed
  PeriodicSync syncer_;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_LEVELDB_ADAPTER_H_
