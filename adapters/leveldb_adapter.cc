#include "adapters/leveldb_adapter.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <cstdlib>

#include "adapters/builtin.h"
#include "adapters/options.h"

namespace kvb {
namespace {

leveldb::Slice ToSlice(std::string_view s) {
  return leveldb::Slice(s.data(), s.size());
}

Status FromLevel(const leveldb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
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

}  // namespace

struct LevelDbAdapter::Impl {
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::DB>
      db;  // declared last: deleted before the cache and filter
  leveldb::WriteOptions write_options;
  leveldb::ReadOptions read_options;
};

Result<LevelDbConfig> LevelDbConfig::FromOptions(const OptionMap& o) {
  LevelDbConfig c;
  KVB_ASSIGN_OR_RETURN(int64_t cache,
                       GetIntOption(o, "cache_mb", 64, 0, 1 << 20));
  KVB_ASSIGN_OR_RETURN(int64_t bloom, GetIntOption(o, "bloom_bits", 10, 0, 64));
  KVB_ASSIGN_OR_RETURN(int64_t wb,
                       GetIntOption(o, "write_buffer_mb", 64, 1, 1 << 16));
  KVB_ASSIGN_OR_RETURN(int64_t files,
                       GetIntOption(o, "max_open_files", 1000, 64, 1 << 20));
  KVB_ASSIGN_OR_RETURN(int64_t async_ms,
                       GetIntOption(o, "async_ms", 1000, 1, 3'600'000));
  KVB_ASSIGN_OR_RETURN(c.durability, GetDurabilityOption(o));
  std::string compression = GetStringOption(o, "compression", "none");
  if (compression != "none" && compression != "snappy") {
    return Status::InvalidArgument(
        "option compression: expected none or snappy, got '" + compression +
        "'");
  }
  c.cache_mb = static_cast<uint64_t>(cache);
  c.bloom_bits = static_cast<int>(bloom);
  c.write_buffer_mb = static_cast<uint64_t>(wb);
  c.max_open_files = static_cast<int>(files);
  c.snappy = compression == "snappy";
  c.async_ms = static_cast<uint64_t>(async_ms);
  return c;
}

LevelDbAdapter::LevelDbAdapter(LevelDbConfig config)
    : config_(std::move(config)) {}

LevelDbAdapter::~LevelDbAdapter() { Close().IgnoreError(); }

Capabilities LevelDbAdapter::Caps() {
  Capabilities c;
  c.persistent = true;
  c.ordered = true;
  c.thread_safe = true;
  c.batch = true;
  c.atomic_batch = true;
  c.locks_directory = true;
  return c;
}

Status LevelDbAdapter::Open(const std::string& dir) {
  if (impl_) return Status::FailedPrecondition("leveldb: already open");
  KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
  auto impl = std::make_unique<Impl>();
  leveldb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = config_.write_buffer_mb << 20;
  options.max_open_files = config_.max_open_files;
  options.compression =
      config_.snappy ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  if (config_.cache_mb > 0) {
    impl->cache.reset(leveldb::NewLRUCache(config_.cache_mb << 20));
    options.block_cache = impl->cache.get();
  }
  if (config_.bloom_bits > 0) {
    impl->filter.reset(leveldb::NewBloomFilterPolicy(config_.bloom_bits));
    options.filter_policy = impl->filter.get();
  }
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromLevel(s, "leveldb open " + dir);
  impl->db.reset(raw);
  impl->write_options.sync = config_.durability == Durability::kSync;
  impl_ = std::move(impl);
  dir_ = dir;
  if (config_.durability == Durability::kAsync) {
    syncer_.Start(std::chrono::milliseconds(config_.async_ms),
                  [this] { return Sync(); });
  }
  return Status::OK();
}

Status LevelDbAdapter::Close() {
  if (!impl_) return Status::OK();
  syncer_.Stop();
  Status s = Sync();
  impl_.reset();  // deletes the DB, which waits for its background compaction
  return s;
}

Status LevelDbAdapter::Put(std::string_view key, std::string_view value) {
  if (!impl_) return Status::FailedPrecondition("leveldb: not open");
  return FromLevel(
      impl_->db->Put(impl_->write_options, ToSlice(key), ToSlice(value)),
      "leveldb put");
}

Status LevelDbAdapter::Get(std::string_view key, std::string* value) {
  if (!impl_) return Status::FailedPrecondition("leveldb: not open");
  leveldb::Status s = impl_->db->Get(impl_->read_options, ToSlice(key), value);
  if (s.IsNotFound()) return Status::NotFound();
  return FromLevel(s, "leveldb get");
}

Status LevelDbAdapter::Delete(std::string_view key) {
  if (!impl_) return Status::FailedPrecondition("leveldb: not open");
  return FromLevel(impl_->db->Delete(impl_->write_options, ToSlice(key)),
                   "leveldb delete");
}

Status LevelDbAdapter::WriteBatch(std::span<const KeyValue> pairs) {
  if (!impl_) return Status::FailedPrecondition("leveldb: not open");
  leveldb::WriteBatch batch;
  for (const KeyValue& kv : pairs)
    batch.Put(ToSlice(kv.key), ToSlice(kv.value));
  return FromLevel(impl_->db->Write(impl_->write_options, &batch),
                   "leveldb write batch");
}

Status LevelDbAdapter::Scan(std::string_view start, size_t limit,
                            const ScanCallback& cb) {
  if (!impl_) return Status::FailedPrecondition("leveldb: not open");
  std::unique_ptr<leveldb::Iterator> it(
      impl_->db->NewIterator(impl_->read_options));
  size_t n = 0;
  for (it->Seek(ToSlice(start)); it->Valid() && n < limit; it->Next(), n++) {
    leveldb::Slice k = it->key();
    leveldb::Slice v = it->value();
    if (!cb(std::string_view(k.data(), k.size()),
            std::string_view(v.data(), v.size())))
      break;
  }
  return FromLevel(it->status(), "leveldb scan");
}

Status LevelDbAdapter::Sync() {
  if (!impl_) return Status::FailedPrecondition("leveldb: not open");
  // An empty batch written with sync = true fsyncs the log file, which holds
  // every earlier write: LevelDB's writer queue orders it after all of them.
  leveldb::WriteOptions sync_options;
  sync_options.sync = true;
  leveldb::WriteBatch empty;
  return FromLevel(impl_->db->Write(sync_options, &empty), "leveldb sync");
}

std::map<std::string, double> LevelDbAdapter::Stats() {
  std::map<std::string, double> out;
  if (!impl_) return out;
  for (int level = 0; level < 7; level++) {
    std::string v;
    if (impl_->db->GetProperty(
            "leveldb.num-files-at-level" + std::to_string(level), &v)) {
      out["files-at-level" + std::to_string(level)] =
          std::strtod(v.c_str(), nullptr);
    }
  }
  std::string usage;
  if (impl_->db->GetProperty("leveldb.approximate-memory-usage", &usage)) {
    out["approximate-memory-usage"] = std::strtod(usage.c_str(), nullptr);
  }
  out["async-syncs"] = static_cast<double>(syncer_.syncs());
  return out;
}

namespace adapters_internal {

void AddLevelDbAdapter(std::vector<AdapterInfo>* out) {
  AdapterInfo info;
  info.name = "leveldb";
  info.description = "LevelDB LSM tree (reference; Debian libleveldb)";
  info.built = true;
  info.capabilities = LevelDbAdapter::Caps();
  info.options = {
      {"cache_mb", "64",
       "block cache size in MiB (0 = LevelDB's 8 MiB default)"},
      {"bloom_bits", "10", "bloom filter bits per key (0 = none)"},
      {"write_buffer_mb", "64", "memtable size in MiB"},
      {"max_open_files", "1000", "table cache size"},
      {"compression", "none", "none|snappy (off by default for all adapters)"},
      {"async_ms", "1000", "log sync interval for durability=async"},
  };
  info.factory = [](const OptionMap& o) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(LevelDbConfig config, LevelDbConfig::FromOptions(o));
    return std::unique_ptr<Adapter>(new LevelDbAdapter(std::move(config)));
  };
  out->push_back(std::move(info));
}

}  // namespace adapters_internal
}  // namespace kvb
