#include "adapters/linhash_adapter.h"

#include <ostream>

#include "adapters/builtin.h"
#include "adapters/options.h"

namespace kvb {

LinhashAdapter::~LinhashAdapter() { Close().IgnoreError(); }

Capabilities LinhashAdapter::Caps() {
  Capabilities c;
  c.persistent = true;
  c.ordered = false;
  c.thread_safe = true;
  c.batch = true;
  c.atomic_batch = true;
  c.locks_directory = true;
  c.max_key_size = linhash::kMaxKeySize;
  c.max_value_size = linhash::kMaxValueSize;
  return c;
}

Result<linhash::Options> LinhashAdapter::OptionsFrom(const OptionMap& o) {
  linhash::Options opts;
  KVB_ASSIGN_OR_RETURN(Durability d, GetDurabilityOption(o));
  KVB_ASSIGN_OR_RETURN(int64_t interval, GetIntOption(o, "sync_interval_ms",
                                                      1000, 1, 86'400'000));
  switch (d) {
    case Durability::kNone:
      opts.background_sync_interval_ms = 0;
      break;
    case Durability::kAsync:
      opts.background_sync_interval_ms = interval;
      break;
    case Durability::kSync:
      opts.background_sync_interval_ms = -1;
      break;
  }
  KVB_ASSIGN_OR_RETURN(int64_t seg_mb,
                       GetIntOption(o, "max_segment_mb", 256, 1, 4095));
  opts.max_segment_size = static_cast<uint64_t>(seg_mb) << 20;
  std::string backend = GetStringOption(o, "read_backend", "mmap");
  if (backend == "mmap") {
    opts.read_backend = linhash::ReadBackend::kMmap;
  } else if (backend == "pread") {
    opts.read_backend = linhash::ReadBackend::kPread;
  } else {
    return Status::InvalidArgument(
        "option read_backend: expected mmap or pread, got '" + backend + "'");
  }
  KVB_ASSIGN_OR_RETURN(opts.background_compaction_interval_ms,
                       GetIntOption(o, "compaction_interval_ms", 0, 0));
  KVB_ASSIGN_OR_RETURN(int64_t min_mb,
                       GetIntOption(o, "compaction_min_segment_mb", 32, 0));
  opts.compaction_min_segment_size = static_cast<uint64_t>(min_mb) << 20;
  KVB_ASSIGN_OR_RETURN(opts.compaction_min_fragmentation,
                       GetDoubleOption(o, "compaction_min_fragmentation", 0.5));
  KVB_ASSIGN_OR_RETURN(opts.checkpoint_interval_ms,
                       GetIntOption(o, "checkpoint_interval_ms", 60000, 0));
  KVB_ASSIGN_OR_RETURN(int64_t buf_kb,
                       GetIntOption(o, "write_buffer_kb", 256, 0, 65536));
  opts.write_buffer_size = static_cast<size_t>(buf_kb) << 10;
  KVB_ASSIGN_OR_RETURN(opts.load_factor,
                       GetDoubleOption(o, "load_factor", 0.8));
  KVB_ASSIGN_OR_RETURN(int64_t preload_mb,
                       GetIntOption(o, "index_preload_mb", 8, 0, 1 << 20));
  opts.index_preload_bytes = static_cast<uint64_t>(preload_mb) << 20;
  KVB_ASSIGN_OR_RETURN(opts.verify_checksums,
                       GetBoolOption(o, "verify_checksums", true));
  KVB_ASSIGN_OR_RETURN(opts.read_only, GetBoolOption(o, "read_only", false));
  KVB_ASSIGN_OR_RETURN(opts.repair, GetBoolOption(o, "repair", false));
  return opts;
}

Status LinhashAdapter::NotOpen() const {
  return Status::FailedPrecondition("linhash adapter is not open");
}

Status LinhashAdapter::Open(const std::string& dir) {
  if (db_) return Status::FailedPrecondition("linhash adapter is already open");
  if (!options_.read_only) KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
  dir_ = dir;
  KVB_ASSIGN_OR_RETURN(db_, linhash::DB::Open(dir, options_));
  return Status::OK();
}

Status LinhashAdapter::Close() {
  if (!db_) return Status::OK();
  Status s = db_->Close();
  db_.reset();
  return s;
}

Status LinhashAdapter::Put(std::string_view key, std::string_view value) {
  if (!db_) return NotOpen();
  return db_->Put(key, value);
}

Status LinhashAdapter::Get(std::string_view key, std::string* value) {
  if (!db_) return NotOpen();
  return db_->Get(key, value);
}

Status LinhashAdapter::Delete(std::string_view key) {
  if (!db_) return NotOpen();
  return db_->Delete(key);
}

Status LinhashAdapter::Has(std::string_view key, bool* found) {
  if (!db_) return NotOpen();
  return db_->Has(key, found);
}

Status LinhashAdapter::WriteBatch(std::span<const KeyValue> pairs) {
  if (!db_) return NotOpen();
  linhash::WriteBatch batch;
  for (const KeyValue& kv : pairs) batch.Put(kv.key, kv.value);
  return db_->Write(batch);
}

Status LinhashAdapter::Sync() {
  if (!db_) return NotOpen();
  return db_->Sync();
}

std::map<std::string, double> LinhashAdapter::Stats() {
  if (!db_) return {};
  const linhash::Stats s = db_->GetStats();
  const linhash::Metrics m = db_->GetMetrics();
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  return {{"keys", d(s.keys)},
          {"index_level", d(s.level)},
          {"primary_buckets", d(s.primary_buckets)},
          {"overflow_buckets", d(s.overflow_buckets)},
          {"index_bytes", d(s.index_bytes)},
          {"segments", d(s.segments)},
          {"log_bytes", d(s.log_bytes)},
          {"dead_bytes", d(s.dead_bytes)},
          {"puts", d(m.puts)},
          {"gets", d(m.gets)},
          {"deletes", d(m.deletes)},
          {"hash_collisions", d(m.hash_collisions)},
          {"compactions", d(m.compactions)},
          {"recoveries", d(m.recoveries)},
          {"replayed_records", d(m.replayed_records)},
          {"full_rebuilds", d(m.full_rebuilds)},
          {"index_chunks_loaded", d(m.index_chunks_loaded)},
          {"checkpoints", d(m.checkpoints)},
          {"syncs", d(m.syncs)}};
}

Status InspectLinhash(const std::string& path, bool dump_keys,
                      std::ostream& out) {
  return linhash::Inspect(path, dump_keys, out);
}

namespace adapters_internal {

void AddLinhashAdapter(std::vector<AdapterInfo>* out) {
  AdapterInfo info;
  info.name = "linhash";
  info.description =
      "Pogreb design: segment log + checkpointed linear-hashing index";
  info.built = true;
  info.capabilities = LinhashAdapter::Caps();
  info.options = {
      {"sync_interval_ms", "1000",
       "durability=async: background fdatasync period"},
      {"max_segment_mb", "256", "rotate log segments at this size (1..4095)"},
      {"read_backend", "mmap", "mmap (bounded read-only mappings) or pread"},
      {"compaction_interval_ms", "0",
       "background compaction period; 0 = never"},
      {"compaction_min_segment_mb", "32",
       "compact only segments at least this large"},
      {"compaction_min_fragmentation", "0.5",
       "compact segments with this dead fraction"},
      {"checkpoint_interval_ms", "60000",
       "periodic index checkpoint; 0 = only at close"},
      {"write_buffer_kb", "256",
       "user-space log append buffer; 0 = one pwrite per record"},
      {"load_factor", "0.8",
       "index slots filled before a bucket split (0.3..1]"},
      {"index_preload_mb", "8",
       "Open verifies an index up to this size whole; a larger one loads "
       "2 MiB chunks lazily"},
      {"verify_checksums", "true", "check each record's CRC on every read"},
      {"read_only", "false", "open without writing or locking"},
      {"repair", "false",
       "cut damaged older segments instead of failing to open"},
  };
  info.factory = [](const OptionMap& o) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(linhash::Options opts, LinhashAdapter::OptionsFrom(o));
    return std::unique_ptr<Adapter>(new LinhashAdapter(opts));
  };
  info.inspect = InspectLinhash;
  out->push_back(std::move(info));
}

}  // namespace adapters_internal
}  // namespace kvb
