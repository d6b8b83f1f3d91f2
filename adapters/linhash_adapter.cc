// kvb::LinhashAdapter — the linhash engine (engines/linhash, Pogreb's design)
// behind the Adapter interface. Registered as "linhash".
//
// Durability mapping (kLinhashDurability below):
//   memory       background_sync_interval_ms = 0; the only class that allows
//                write_buffer_kb > 0 (a user-space append buffer a killed
//                process loses).
//   process      background_sync_interval_ms = 0, write_buffer_kb = 0: every
//                record is write(2)n before the call returns; no automatic
//                fsync; Sync() and Close() make everything durable (Close
//                also writes the index checkpoint). write_buffer_kb > 0 is
//                refused: it is not this class.
//   periodic:MS  background_sync_interval_ms = MS, write_buffer_kb = 0: a
//                background thread fdatasyncs the log every MS ms.
//   sync         background_sync_interval_ms = -1: every Put/Delete/WriteBatch
//                is durable before it returns; concurrent writers share
//                fdatasyncs (group commit).
// WriteBatch is native and atomic across a crash (one batch record, one append,
// one sync).
//
// Options (see AddLinhashAdapter for defaults): max_segment_mb, read_backend=mmap|pread, compaction_interval_ms,
// compaction_min_segment_mb, compaction_min_fragmentation,
// checkpoint_interval_ms, write_buffer_kb, load_factor, index_preload_mb,
// verify_checksums, read_only, repair.
//
// Capabilities: persistent, unordered (no Scan), thread_safe, batch +
// atomic_batch, locks its directory (a second open is Busy), keys <= 65,535
// bytes, values <= 512 MiB. Thread safety: every operation before Close may
// run from any number of threads; they all share one linhash::DB (readers take
// a shared index lock only).
#include <climits>
#include <memory>
#include <ostream>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "engines/linhash/linhash.h"

namespace kvb {
namespace {

// The sync policy and append buffer of class `d`; a user-space buffer only
// in the memory class, since a killed process loses it.
Status SetSyncPolicy(const DurabilityClass& d, const OptionMap& o,
                     linhash::Options* opts) {
  KVB_ASSIGN_OR_RETURN(int64_t buf_kb,
                       GetIntOption(o, "write_buffer_kb", 0, 0, 65536));
  if (buf_kb > 0 && d.level != Durability::kMemory &&
      d.level != Durability::kSync) {
    return Status::InvalidArgument(
        "linhash: write_buffer_kb > 0 keeps acknowledged writes in user space "
        "(lost by a killed process), so it is not durability=" +
        d.ToString() + "; use durability=memory or write_buffer_kb=0");
  }
  opts->write_buffer_size = static_cast<size_t>(buf_kb) << 10;
  opts->background_sync_interval_ms =
      d.level == Durability::kSync       ? -1
      : d.level == Durability::kPeriodic ? static_cast<int64_t>(d.period_ms)
                                         : 0;
  return Status::OK();
}

// Engine options from adapter options (defaults already filled in by the
// registry).
Result<linhash::Options> ParseLinhash(const OptionMap& o) {
  linhash::Options opts;
  KVB_ASSIGN_OR_RETURN(DurabilityClass d, GetDurabilityOption(o));
  KVB_RETURN_IF_ERROR(SetSyncPolicy(d, o, &opts));
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
  KVB_RETURN_IF_ERROR(ReadOption(o, "compaction_interval_ms",
                                 &opts.background_compaction_interval_ms, 0,
                                 INT64_MAX));
  KVB_ASSIGN_OR_RETURN(int64_t min_mb,
                       GetIntOption(o, "compaction_min_segment_mb", 32, 0));
  opts.compaction_min_segment_size = static_cast<uint64_t>(min_mb) << 20;
  KVB_RETURN_IF_ERROR(ReadOption(o, "compaction_min_fragmentation",
                                 &opts.compaction_min_fragmentation));
  KVB_RETURN_IF_ERROR(ReadOption(o, "checkpoint_interval_ms",
                                 &opts.checkpoint_interval_ms, 0, INT64_MAX));
  KVB_RETURN_IF_ERROR(ReadOption(o, "load_factor", &opts.load_factor));
  KVB_ASSIGN_OR_RETURN(int64_t preload_mb,
                       GetIntOption(o, "index_preload_mb", 8, 0, 1 << 20));
  opts.index_preload_bytes = static_cast<uint64_t>(preload_mb) << 20;
  KVB_RETURN_IF_ERROR(
      ReadOption(o, "verify_checksums", &opts.verify_checksums));
  KVB_RETURN_IF_ERROR(ReadOption(o, "read_only", &opts.read_only));
  KVB_RETURN_IF_ERROR(ReadOption(o, "repair", &opts.repair));
  return opts;
}

constexpr Capabilities kLinhashCaps{.batch = true,
                                    .atomic_batch = true,
                                    .locks_directory = true,
                                    .max_key_size = linhash::kMaxKeySize,
                                    .max_value_size = linhash::kMaxValueSize};

class LinhashAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const linhash::Options& o,
                                               const std::string& dir) {
    if (!o.read_only) KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    KVB_ASSIGN_OR_RETURN(std::unique_ptr<linhash::DB> db,
                         linhash::DB::Open(dir, o));
    return std::unique_ptr<Adapter>(
        new LinhashAdapter(dir, std::move(db), o.read_only));
  }
  ~LinhashAdapter() override { Close().IgnoreError(); }

  Status Close() override {
    if (!db_) return Status::OK();
    Status s = db_->Close();
    db_.reset();
    return s;
  }
  Status Put(std::string_view key, std::string_view value) override {
    return db_->Put(key, value);
  }
  Status Get(std::string_view key, std::string* value) override {
    return db_->Get(key, value);
  }
  Status Delete(std::string_view key) override { return db_->Delete(key); }
  Status Has(std::string_view key, bool* found) override {
    return db_->Has(key, found);
  }
  Status MultiGet(std::span<const std::string_view> keys, std::string* values,
                  Status* statuses) override {
    return db_->MultiGet(keys, values, statuses);
  }
  Status WriteBatch(std::span<const KeyValue> pairs) override {
    linhash::WriteBatch batch;
    for (const KeyValue& kv : pairs) batch.Put(kv.key, kv.value);
    return db_->Write(batch);
  }
  Status Sync() override { return db_->Sync(); }
  // Sync, then a checkpoint, so that neither the periodic checkpoint nor a
  // log replay is owed when the measured phase starts. A read-only database
  // owes nothing.
  Status Settle() override {
    if (read_only_) return Status::OK();
    KVB_RETURN_IF_ERROR(db_->Sync());
    return db_->Checkpoint();
  }
  std::map<std::string, double> StateFigures() override;
  std::map<std::string, double> Stats() override;

 private:
  LinhashAdapter(const std::string& dir, std::unique_ptr<linhash::DB> db,
                 bool read_only)
      : BuiltinAdapter("linhash", kLinhashCaps, dir),
        db_(std::move(db)),
        read_only_(read_only) {}

  std::unique_ptr<linhash::DB> db_;  // null after Close
  const bool read_only_;
};

std::map<std::string, double> LinhashAdapter::StateFigures() {
  return adapters_internal::PickFigures(
      Stats(), {"segments", "log_bytes", "dead_bytes", "index_bytes",
                "index_chunks_loaded", "replayed_records", "checkpoints"});
}

std::map<std::string, double> LinhashAdapter::Stats() {
  const linhash::Stats s = db_->GetStats();
  const linhash::Metrics m = db_->GetMetrics();
  return adapters_internal::CountStats(
      {{"keys", s.keys},
       {"index_level", s.level},
       {"primary_buckets", s.primary_buckets},
       {"overflow_buckets", s.overflow_buckets},
       {"index_bytes", s.index_bytes},
       {"segments", s.segments},
       {"log_bytes", s.log_bytes},
       {"dead_bytes", s.dead_bytes},
       {"puts", m.puts},
       {"gets", m.gets},
       {"deletes", m.deletes},
       {"deletes_absent", m.deletes_absent},
       {"background_errors", m.background_errors},
       {"hash_collisions", m.hash_collisions},
       {"compactions", m.compactions},
       {"recoveries", m.recoveries},
       {"replayed_records", m.replayed_records},
       {"full_rebuilds", m.full_rebuilds},
       {"index_chunks_loaded", m.index_chunks_loaded},
       {"checkpoints", m.checkpoints},
       {"syncs", m.syncs}});
}

constexpr DurabilityTable kLinhashDurability{{
    {Durability::kMemory,
     "background_sync_interval_ms=0; write_buffer_kb as given (user-space "
     "buffer allowed)",
     ""},
    {Durability::kProcess,
     "background_sync_interval_ms=0, write_buffer_kb=0 (one write(2) per "
     "record)",
     ""},
    {Durability::kPeriodic,
     "background_sync_interval_ms=MS, write_buffer_kb=0", ""},
    {Durability::kSync,
     "background_sync_interval_ms=-1 (fdatasync before ack, group commit)",
     ""},
}};

}  // namespace

namespace adapters_internal {

void AddLinhashAdapter(std::vector<AdapterInfo>* out) {
  Register<linhash::Options>(
      out,
      {"linhash",
       "Pogreb design: segment log + checkpointed linear-hashing index",
       kLinhashCaps,
       {
           {"max_segment_mb", "256",
            "rotate log segments at this size (1..4095)"},
           {"read_backend", "mmap",
            "mmap (bounded read-only mappings) or pread"},
           {"compaction_interval_ms", "0",
            "background compaction period; 0 = never"},
           {"compaction_min_segment_mb", "32",
            "compact only segments at least this large"},
           {"compaction_min_fragmentation", "0.5",
            "compact segments with this dead fraction"},
           {"checkpoint_interval_ms", "60000",
            "periodic index checkpoint; 0 = only at close"},
           {"write_buffer_kb", "0",
            "user-space log append buffer; 0 = every acknowledged write is "
            "in the kernel's hands (>0 only with durability=memory or sync)"},
           {"load_factor", "0.8",
            "index slots filled before a bucket split (0.3..1]"},
           {"index_preload_mb", "8",
            "Open verifies an index up to this size whole; a larger one loads "
            "2 MiB chunks lazily"},
           {"verify_checksums", "true",
            "check each record's CRC on every read"},
           {"read_only", "false", "open without writing or locking"},
           {"repair", "false",
            "cut damaged older segments instead of failing to open"},
       },
       kLinhashDurability},
      &ParseLinhash, &LinhashAdapter::Open,
      [](const std::string& dir, bool dump_keys, std::ostream& out) {
        return linhash::Inspect(dir, dump_keys, out);
      });
}

}  // namespace adapters_internal
}  // namespace kvb
