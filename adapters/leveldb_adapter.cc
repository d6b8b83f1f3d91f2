// kvb::LevelDbAdapter — LevelDB (Debian libleveldb-dev 1.23) behind the
// adapter interface.
//
// One leveldb::DB shared by all threads (LevelDB synchronizes internally).
// The database lives directly in the adapter's directory.
//
// Durability (kLevelDbDurability below; LevelDB always writes its log):
//   memory       refused: there is no mode weaker than process.
//   process      WriteOptions.sync=false: writes reach the OS page cache (they
//                survive a process crash, not a power loss). Sync() writes an
//                empty batch with sync=true, which fsyncs the log and so every
//                write before it (LevelDB has no SyncWAL call).
//   periodic:MS  as process, plus a background thread doing that Sync() every
//                MS ms.
//   sync         WriteOptions.sync=true on every write (LevelDB groups
//                concurrent writers into one fsync).
// Close() syncs, then deletes the DB.
//
// Options (compression off by default for every kvbench adapter):
//   cache_mb = 64              block cache (LRU) in MiB; 0 = LevelDB's 8 MiB.
//   bloom_bits = 10            bloom filter bits per key; 0 = no filter.
//   write_buffer_mb = 64       memtable size in MiB (LevelDB's default: 4).
//   max_open_files = 1000      table cache size.
//   compression = none         none|snappy.
//
// Capabilities: persistent; ordered (bytewise); native atomic WriteBatch;
// locks its directory (LOCK file: a second open gets Busy). No key/value
// limits of its own.
// Thread safety: every operation before Close, from any thread.
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "adapters/builtin.h"
#include "adapters/lsm.h"
#include "adapters/options.h"
#include "adapters/periodic_sync.h"

namespace kvb {
namespace {

leveldb::Slice ToSlice(std::string_view s) {
  return leveldb::Slice(s.data(), s.size());
}

Status FromLevel(const leveldb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (auto shared = adapters_internal::SharedLsmCode(s, msg)) return *shared;
  if (s.IsNotSupportedError()) return Status::NotSupported(msg);
  // LevelDB reports a held LOCK as an IOError: "lock <dir>/LOCK: already held
  // by process" (same process) or "lock <dir>/LOCK: Resource temporarily
  // unavailable" (another one).
  if (s.IsIOError() && msg.find("LOCK") != std::string::npos)
    return Status::Busy(msg);
  if (msg.find("No space left") != std::string::npos)
    return Status::NoSpace(msg);
  return Status::IOError(msg);
}

// The shape of LevelDB's tree, from its "leveldb.sstables" property: one
// "--- level N ---" line per level, then " NUMBER:BYTES[smallest .. largest]"
// per table file (Version::DebugString; keys are escaped, so one line each).
struct LevelShape {
  static constexpr int kLevels = 7;  // leveldb config::kNumLevels
  int files[kLevels] = {};
  uint64_t bytes[kLevels] = {};
};

LevelShape ParseSstables(std::string_view text) {
  LevelShape shape;
  int level = -1;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string line(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    int n = 0;
    unsigned long long number = 0, bytes = 0;
    if (std::sscanf(line.c_str(), "--- level %d ---", &n) == 1) {
      level = n;
    } else if (level >= 0 && level < LevelShape::kLevels &&
               std::sscanf(line.c_str(), " %llu:%llu[", &number, &bytes) == 2) {
      shape.files[level]++;
      shape.bytes[level] += bytes;
    }
  }
  return shape;
}

// LevelDB's own compaction score (version_set.cc, VersionSet::Finalize): level
// 0 by its file count over kL0_CompactionTrigger (4), level L >= 1 by its
// bytes over 10 MiB * 10^(L-1); the last level is never scored. LevelDB keeps
// compacting in the background while the highest score is >= 1, and a running
// compaction keeps its inputs (so the score) until it installs its output.
double MaxCompactionScore(const LevelShape& shape) {
  double best = shape.files[0] / 4.0;
  double max_bytes = 10.0 * 1048576.0;
  for (int level = 1; level < LevelShape::kLevels - 1; level++) {
    best = std::max(best, static_cast<double>(shape.bytes[level]) / max_bytes);
    max_bytes *= 10;
  }
  return best;
}

struct LevelDbConfig : adapters_internal::LsmOptions {
  int max_open_files = 1000;
  bool snappy = false;

  static Result<LevelDbConfig> Parse(const OptionMap& o) {
    LevelDbConfig c;
    KVB_RETURN_IF_ERROR(c.Read(o));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "max_open_files", &c.max_open_files, 64, 1 << 20));
    std::string compression = GetStringOption(o, "compression", "none");
    if (compression != "none" && compression != "snappy") {
      return Status::InvalidArgument(
          "option compression: expected none or snappy, got '" + compression +
          "'");
    }
    c.snappy = compression == "snappy";
    return c;
  }
};

constexpr Capabilities kLevelDbCaps{.ordered = true,
                                    .batch = true,
                                    .atomic_batch = true,
                                    .locks_directory = true};

class LevelDbAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const LevelDbConfig& c,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    std::unique_ptr<LevelDbAdapter> a(new LevelDbAdapter(dir));
    leveldb::Options options;
    options.create_if_missing = true;
    options.write_buffer_size = c.write_buffer_mb << 20;
    options.max_open_files = c.max_open_files;
    options.compression =
        c.snappy ? leveldb::kSnappyCompression : leveldb::kNoCompression;
    if (c.cache_mb > 0) {
      a->cache_.reset(leveldb::NewLRUCache(c.cache_mb << 20));
      options.block_cache = a->cache_.get();
    }
    if (c.bloom_bits > 0) {
      a->filter_.reset(leveldb::NewBloomFilterPolicy(c.bloom_bits));
      options.filter_policy = a->filter_.get();
    }
    leveldb::DB* raw = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, dir, &raw);
    if (!s.ok()) return FromLevel(s, "leveldb open " + dir);
    a->db_.reset(raw);
    a->write_options_.sync = c.durability.level == Durability::kSync;
    a->syncer_.StartIfPeriodic(c.durability,
                               [p = a.get()] { return p->Sync(); });
    return std::unique_ptr<Adapter>(std::move(a));
  }
  ~LevelDbAdapter() override { Close().IgnoreError(); }

  Status Close() override {
    if (!db_) return Status::OK();
    syncer_.Stop();
    Status s = Sync();
    db_.reset();  // deletes the DB, which waits for its background compaction
    return s;
  }

  Status Put(std::string_view key, std::string_view value) override {
    return FromLevel(db_->Put(write_options_, ToSlice(key), ToSlice(value)),
                     "leveldb put");
  }

  Status Get(std::string_view key, std::string* value) override {
    leveldb::Status s = db_->Get(read_options_, ToSlice(key), value);
    if (s.IsNotFound()) return Status::NotFound();
    return FromLevel(s, "leveldb get");
  }

  Status Delete(std::string_view key) override {
    return FromLevel(db_->Delete(write_options_, ToSlice(key)),
                     "leveldb delete");
  }

  Status WriteBatch(std::span<const KeyValue> pairs) override {
    leveldb::WriteBatch batch;
    for (const KeyValue& kv : pairs)
      batch.Put(ToSlice(kv.key), ToSlice(kv.value));
    return FromLevel(db_->Write(write_options_, &batch), "leveldb write batch");
  }

  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(read_options_));
    adapters_internal::ScanFrom(it.get(), ToSlice(start), limit, cb);
    return FromLevel(it->status(), "leveldb scan");
  }

  Status Sync() override {
    // An empty batch written with sync = true fsyncs the log file, which holds
    // every earlier write: LevelDB's writer queue orders it after all of them.
    leveldb::WriteOptions sync_options;
    sync_options.sync = true;
    leveldb::WriteBatch empty;
    return FromLevel(db_->Write(sync_options, &empty), "leveldb sync");
  }

  // LevelDB has no flush call and no pending-compaction figure. A compaction
  // of the range ["", ""] flushes the memtable (and waits for it) but
  // overlaps no table file (the workloads never write the empty key), so it
  // compacts nothing else; then Settle waits until LevelDB's own compaction
  // score is below 1, when it schedules no more background work.
  Status Settle() override {
    KVB_RETURN_IF_ERROR(Sync());
    const leveldb::Slice empty;
    db_->CompactRange(&empty, &empty);
    return adapters_internal::WaitUntilIdle(
        [this] { return MaxCompactionScore(Shape()) < 1; },
        [this] { return adapters_internal::FiguresText(StateFigures()); },
        "leveldb");
  }
  std::map<std::string, double> StateFigures() override {
    const LevelShape shape = Shape();
    std::map<std::string, double> out;
    uint64_t table_bytes = 0;
    for (int level = 0; level < LevelShape::kLevels; level++)
      table_bytes += shape.bytes[level];
    out["num-files-at-level0"] = shape.files[0];
    out["table-bytes"] = static_cast<double>(table_bytes);
    out["max-compaction-score"] = MaxCompactionScore(shape);
    std::string usage;
    if (db_->GetProperty("leveldb.approximate-memory-usage", &usage))
      out["approximate-memory-usage"] = std::strtod(usage.c_str(), nullptr);
    return out;
  }

  bool IsInfoLog(std::string_view name) const override {
    return adapters_internal::IsLsmInfoLog(name);
  }
  std::map<std::string, double> Stats() override {
    std::map<std::string, double> out;
    adapters_internal::AddLevelFileCounts(
        [this](const std::string& level, std::string* v) {
          return db_->GetProperty("leveldb.num-files-at-level" + level, v);
        },
        &out);
    std::string usage;
    if (db_->GetProperty("leveldb.approximate-memory-usage", &usage))
      out["approximate-memory-usage"] = std::strtod(usage.c_str(), nullptr);
    out["periodic-syncs"] = static_cast<double>(syncer_.syncs());
    return out;
  }

 private:
  explicit LevelDbAdapter(const std::string& dir)
      : BuiltinAdapter("leveldb", kLevelDbCaps, dir) {}

  LevelShape Shape() const {
    std::string text;
    return db_->GetProperty("leveldb.sstables", &text) ? ParseSstables(text)
                                                       : LevelShape{};
  }

  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  // Declared after the cache and filter: deleted before them. Null after Close.
  std::unique_ptr<leveldb::DB> db_;
  leveldb::WriteOptions write_options_;
  leveldb::ReadOptions read_options_;
  PeriodicSync syncer_;
};

constexpr DurabilityTable kLevelDbDurability{{
    {Durability::kMemory, "",
     "LevelDB writes its log before every write returns: nothing weaker "
     "than process"},
    {Durability::kProcess,
     "WriteOptions.sync=false (the log is write(2)n before each write "
     "returns); Sync() = an empty batch with sync=true",
     ""},
    {Durability::kPeriodic,
     "as process, plus that Sync() every MS ms from a background thread", ""},
    {Durability::kSync,
     "WriteOptions.sync=true (log fsync before each write returns; "
     "concurrent writers share one)",
     ""},
}};

}  // namespace

namespace adapters_internal {

void AddLevelDbAdapter(std::vector<AdapterInfo>* out) {
  Register<LevelDbConfig>(
      out,
      {"leveldb",
       "LevelDB LSM tree (reference; Debian libleveldb)",
       kLevelDbCaps,
       {
           {"cache_mb", "64",
            "block cache size in MiB (0 = LevelDB's 8 MiB default)"},
           {"bloom_bits", "10", "bloom filter bits per key (0 = none)"},
           {"write_buffer_mb", "64", "memtable size in MiB"},
           {"max_open_files", "1000", "table cache size"},
           {"compression", "none",
            "none|snappy (off by default for all adapters)"},
       },
       kLevelDbDurability},
      &LevelDbConfig::Parse, &LevelDbAdapter::Open);
}

}  // namespace adapters_internal
}  // namespace kvb
