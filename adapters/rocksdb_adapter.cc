// kvb::RocksDbAdapter — RocksDB (Debian librocksdb-dev 7.8) behind the adapter
// interface.
//
// One rocksdb::DB shared by all threads (RocksDB synchronizes internally).
// The database lives directly in the adapter's directory.
//
// Durability (kRocksDbDurability below; adapters/durability.h):
//   memory       WriteOptions.disableWAL=true: writes live in the memtable
//                until a flush. Sync() = Flush(wait).
//   process      WAL on, WriteOptions.sync=false: each write reaches the OS
//                page cache through the WAL before it returns, so it survives
//                a process crash but not a power loss. Sync() = SyncWAL().
//   periodic:MS  as process, plus a background thread calling SyncWAL() every
//                MS ms.
//   sync         WriteOptions.sync=true: every Put/Delete/WriteBatch fsyncs the
//                WAL before it returns (RocksDB groups concurrent writers into
//                one fsync).
// Close() calls Sync() then DB::Close(): everything acknowledged is durable.
//
// Options (compression is off for every kvbench adapter, so values cost the
// same bytes everywhere):
//   cache_mb = 64              block cache (LRU) in MiB; 0 = no block cache.
//   bloom_bits = 10            bloom filter bits per key; 0 = no filter.
//   write_buffer_mb = 64       memtable size in MiB.
//   max_background_jobs = 2    flush + compaction threads (2-core machine).
//   compression = none         none|snappy|lz4|zstd|zlib (if compiled in).
//   perf_level = disable       RocksDB's per-thread perf_context counting:
//                              disable|count|time. db_bench's default is
//                              disable; RocksDB's own default (count) costs
//                              ~10% of an uncached Get.
//
// Capabilities: persistent; ordered (bytewise comparator); native atomic
// WriteBatch; locks its directory (RocksDB's LOCK file: a second open, in
// this process or another, gets Busy). No key/value limits of its own.
// Errors: RocksDB statuses map to ours (a held lock -> Busy, NoSpace ->
// NoSpace, Corruption -> Corruption, the rest -> IOError), keeping RocksDB's
// message.
// Thread safety: every operation before Close, from any thread.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "adapters/builtin.h"
#include "adapters/lsm.h"
#include "adapters/options.h"
#include "adapters/periodic_sync.h"

namespace kvb {
namespace {

rocksdb::Slice ToSlice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (auto shared = adapters_internal::SharedLsmCode(s, msg)) return *shared;
  if (s.IsNotSupported()) return Status::NotSupported(msg);
  if (s.IsNoSpace()) return Status::NoSpace(msg);
  if (s.IsBusy() || s.IsTryAgain()) return Status::Busy(msg);
  // RocksDB reports a held LOCK file as an IOError ("lock hold by current
  // process" or "While lock file: ... Resource temporarily unavailable").
  if (s.IsIOError() && msg.find("lock") != std::string::npos)
    return Status::Busy(msg);
  return Status::IOError(msg);
}

Result<rocksdb::CompressionType> ParseCompression(const std::string& name) {
  rocksdb::CompressionType type;
  if (name == "none") return rocksdb::kNoCompression;
  if (name == "snappy") {
    type = rocksdb::kSnappyCompression;
  } else if (name == "lz4") {
    type = rocksdb::kLZ4Compression;
  } else if (name == "zstd") {
    type = rocksdb::kZSTD;
  } else if (name == "zlib") {
    type = rocksdb::kZlibCompression;
  } else {
    return Status::InvalidArgument(
        "option compression: expected none, snappy, lz4, zstd or zlib, got '" +
        name + "'");
  }
  std::vector<rocksdb::CompressionType> have =
      rocksdb::GetSupportedCompressions();
  if (std::find(have.begin(), have.end(), type) == have.end()) {
    return Status::InvalidArgument("option compression: '" + name +
                                   "' is not compiled into this librocksdb");
  }
  return type;
}

// RocksDB's perf level is per thread and defaults to kEnableCount, which bumps
// thread-local perf_context counters at every step of a Get (measured: ~0.6
// us of a ~5 us uncached Get, most of the old gap to db_bench, which runs at
// kDisable). Each calling thread sets the configured level once.
void ApplyPerfLevel(rocksdb::PerfLevel level) {
  thread_local rocksdb::PerfLevel applied = rocksdb::PerfLevel::kUninitialized;
  if (applied == level) return;
  rocksdb::SetPerfLevel(level);
  applied = level;
}

Result<rocksdb::PerfLevel> ParsePerfLevel(const std::string& name) {
  if (name == "disable") return rocksdb::PerfLevel::kDisable;
  if (name == "count") return rocksdb::PerfLevel::kEnableCount;
  if (name == "time") return rocksdb::PerfLevel::kEnableTime;
  return Status::InvalidArgument(
      "option perf_level: expected disable, count or time, got '" + name + "'");
}

using adapters_internal::LsmOptions;

struct RocksDbConfig : LsmOptions {
  int max_background_jobs = 2;
  rocksdb::CompressionType compression = rocksdb::kNoCompression;
  rocksdb::PerfLevel perf_level = rocksdb::PerfLevel::kDisable;

  static Result<RocksDbConfig> Parse(const OptionMap& o) {
    RocksDbConfig c;
    KVB_RETURN_IF_ERROR(c.Read(o));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "max_background_jobs", &c.max_background_jobs, 1, 256));
    KVB_ASSIGN_OR_RETURN(c.compression, ParseCompression(GetStringOption(
                                            o, "compression", "none")));
    KVB_ASSIGN_OR_RETURN(c.perf_level, ParsePerfLevel(GetStringOption(
                                           o, "perf_level", "disable")));
    return c;
  }

  rocksdb::Options ToOptions() const {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.write_buffer_size = write_buffer_mb << 20;
    options.max_background_jobs = max_background_jobs;
    options.compression = compression;
    options.bottommost_compression = compression;
    rocksdb::BlockBasedTableOptions table;
    if (cache_mb > 0) table.block_cache = rocksdb::NewLRUCache(cache_mb << 20);
    table.no_block_cache = cache_mb == 0;
    if (bloom_bits > 0)
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(bloom_bits));
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    return options;
  }
};

constexpr Capabilities kRocksDbCaps{.ordered = true,
                                    .batch = true,
                                    .atomic_batch = true,
                                    .locks_directory = true};

class RocksDbAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const RocksDbConfig& c,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(c.ToOptions(), dir, &raw);
    if (!s.ok()) return FromRocks(s, "rocksdb open " + dir);
    return std::unique_ptr<Adapter>(new RocksDbAdapter(c, dir, raw));
  }
  ~RocksDbAdapter() override { Close().IgnoreError(); }

  Status Close() override {
    if (!db_) return Status::OK();
    syncer_.Stop();
    Status result = Sync();
    Status closed = FromRocks(db_->Close(), "rocksdb close");
    db_.reset();
    return result.ok() ? closed : result;
  }

  Status Put(std::string_view key, std::string_view value) override {
    ApplyPerfLevel(perf_level_);
    return FromRocks(db_->Put(write_options_, ToSlice(key), ToSlice(value)),
                     "rocksdb put");
  }

  Status Get(std::string_view key, std::string* value) override {
    ApplyPerfLevel(perf_level_);
    rocksdb::Status s = db_->Get(read_options_, ToSlice(key), value);
    if (s.IsNotFound()) return Status::NotFound();  // the hot miss: no message
    return FromRocks(s, "rocksdb get");
  }

  Status Delete(std::string_view key) override {
    ApplyPerfLevel(perf_level_);
    return FromRocks(db_->Delete(write_options_, ToSlice(key)),
                     "rocksdb delete");
  }

  Status WriteBatch(std::span<const KeyValue> pairs) override {
    ApplyPerfLevel(perf_level_);
    rocksdb::WriteBatch batch;
    for (const KeyValue& kv : pairs) {
      KVB_RETURN_IF_ERROR(FromRocks(
          batch.Put(ToSlice(kv.key), ToSlice(kv.value)), "rocksdb batch"));
    }
    return FromRocks(db_->Write(write_options_, &batch), "rocksdb write batch");
  }

  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override {
    ApplyPerfLevel(perf_level_);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_));
    adapters_internal::ScanFrom(it.get(), ToSlice(start), limit, cb);
    return FromRocks(it->status(), "rocksdb scan");
  }

  Status Sync() override {
    if (write_options_.disableWAL)
      return FromRocks(db_->Flush(rocksdb::FlushOptions()), "rocksdb Flush");
    return FromRocks(db_->SyncWAL(), "rocksdb SyncWAL");
  }

  // Flushes the memtables (waiting for the flush), then waits until no
  // compaction is pending or running and no flush is running.
  Status Settle() override {
    KVB_RETURN_IF_ERROR(Sync());
    rocksdb::FlushOptions wait;
    wait.wait = true;
    KVB_RETURN_IF_ERROR(FromRocks(db_->Flush(wait), "rocksdb settle: Flush"));
    return adapters_internal::WaitUntilIdle(
        [this] {
          return IntProperty("rocksdb.compaction-pending") == 0 &&
                 IntProperty("rocksdb.num-running-compactions") == 0 &&
                 IntProperty("rocksdb.num-running-flushes") == 0;
        },
        [this] { return adapters_internal::FiguresText(StateFigures()); }, "rocksdb");
  }
  std::map<std::string, double> StateFigures() override;

  bool IsInfoLog(std::string_view name) const override {
    return adapters_internal::IsLsmInfoLog(name);
  }
  std::map<std::string, double> Stats() override;

 private:
  RocksDbAdapter(const RocksDbConfig& c, const std::string& dir,
                 rocksdb::DB* db)
      : BuiltinAdapter("rocksdb", kRocksDbCaps, dir),
        db_(db),
        perf_level_(c.perf_level) {
    write_options_.sync = c.durability.level == Durability::kSync;
    write_options_.disableWAL = c.durability.level == Durability::kMemory;
    syncer_.StartIfPeriodic(c.durability, [this] { return Sync(); });
  }

  // The named properties that RocksDB reports, without the "rocksdb."
  // prefix.
  std::map<std::string, double> PropertyFigures(
      std::initializer_list<const char*> props) const;
  // An integer property's value; 0 when the engine does not report it.
  uint64_t IntProperty(const char* name) const {
    uint64_t v = 0;
    return db_->GetIntProperty(name, &v) ? v : 0;
  }

  std::unique_ptr<rocksdb::DB> db_;  // null after Close
  rocksdb::WriteOptions write_options_;
  rocksdb::ReadOptions read_options_;
  const rocksdb::PerfLevel perf_level_;
  PeriodicSync syncer_;
};

std::map<std::string, double> RocksDbAdapter::Stats() {
  std::map<std::string, double> out = PropertyFigures({
      "rocksdb.estimate-num-keys",
      "rocksdb.total-sst-files-size",
      "rocksdb.cur-size-all-mem-tables",
      "rocksdb.estimate-live-data-size",
      "rocksdb.num-running-compactions",
      "rocksdb.block-cache-usage",
      "rocksdb.num-live-versions",
      "rocksdb.estimate-pending-compaction-bytes",
  });
  adapters_internal::AddLevelFileCounts(
      [this](const std::string& level, std::string* v) {
        return db_->GetProperty("rocksdb.num-files-at-level" + level, v);
      },
      &out);
  out["periodic-syncs"] = static_cast<double>(syncer_.syncs());
  return out;
}

std::map<std::string, double> RocksDbAdapter::StateFigures() {
  return PropertyFigures({
      "rocksdb.cur-size-all-mem-tables",
      "rocksdb.num-entries-active-mem-table",
      "rocksdb.num-immutable-mem-table",
      "rocksdb.num-files-at-level0",
      "rocksdb.estimate-pending-compaction-bytes",
      "rocksdb.compaction-pending",
      "rocksdb.num-running-compactions",
      "rocksdb.num-running-flushes",
  });
}

std::map<std::string, double> RocksDbAdapter::PropertyFigures(
    std::initializer_list<const char*> props) const {
  std::map<std::string, double> out;
  for (const char* prop : props) {
    uint64_t v = 0;
    std::string text;  // num-files-at-levelN is a string property
    double figure = 0;
    if (db_->GetIntProperty(prop, &v)) {
      figure = static_cast<double>(v);
    } else if (db_->GetProperty(prop, &text)) {
      figure = std::strtod(text.c_str(), nullptr);
    } else {
      continue;
    }
    out[std::string(prop).substr(sizeof("rocksdb.") - 1)] = figure;
  }
  return out;
}

constexpr DurabilityTable kRocksDbDurability{{
    {Durability::kMemory,
     "WriteOptions.disableWAL=true; Sync() = Flush(wait)", ""},
    {Durability::kProcess,
     "WAL on, WriteOptions.sync=false (each write is write(2)n to the WAL "
     "before it returns); Sync() = SyncWAL()",
     ""},
    {Durability::kPeriodic,
     "as process, plus SyncWAL() every MS ms from a background thread", ""},
    {Durability::kSync,
     "WriteOptions.sync=true (WAL fdatasync before each write returns; "
     "concurrent writers share one)",
     ""},
}};

}  // namespace

namespace adapters_internal {

void AddRocksDbAdapter(std::vector<AdapterInfo>* out) {
  Register<RocksDbConfig>(
      out,
      {"rocksdb",
       "RocksDB LSM tree (reference; Debian librocksdb)",
       kRocksDbCaps,
       {
           {"cache_mb", "64", "block cache size in MiB (0 = no block cache)"},
           {"bloom_bits", "10", "bloom filter bits per key (0 = none)"},
           {"write_buffer_mb", "64", "memtable size in MiB"},
           {"max_background_jobs", "2", "flush and compaction threads"},
           {"compression", "none",
            "none|snappy|lz4|zstd|zlib (off by default for all adapters)"},
           {"perf_level", "disable",
            "perf_context counting per thread: disable|count|time (db_bench: "
            "disable)"},
       },
       kRocksDbDurability},
      &RocksDbConfig::Parse, &RocksDbAdapter::Open);
}

}  // namespace adapters_internal
}  // namespace kvb
