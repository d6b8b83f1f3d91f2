// kvb::TypedmapAdapter — the typedmap engine (engines/typedmap, the go-persist
// design) behind the byte-key/byte-value adapter interface. Registered as
// "typedmap".
//
// One Store with a map named "" of typedmap::Bytes (and a map "records" of
// TypedRecord for struct values, below), in the file
// "<dir>/typedmap.log" (lock file "<dir>/typedmap.log.lock"). Reads are lookups
// in the engine's 64-shard hash map under a shared lock: no I/O and no
// decoding.
//
// Bytes to log text (the log stays line-oriented and readable):
//   keys   — percent-encoded: every byte below 0x20, 0x7F, every byte >= 0x80
//            and '%' itself become "%XX" (upper-case hex); other bytes are
//            kept. So keys with LF, NUL or the separator ':' all work;
//            printable ASCII keys are written unchanged. A key of n bytes
//            takes at most 3n bytes in the log; there is no length limit.
//   values — typedmap::Bytes: valid UTF-8 is written as a JSON string,
//            anything else as {"b64":"<base64>"}; both read back exactly. No
//            length limit.
//
// Durability mapping (kTypedmapDurability below):
//   memory       typedmap kAsync: memory only; the flusher appends the latest
//                value of each changed key every sync_interval_ms in one
//                write, then fdatasyncs. A killed process loses up to that.
//   process      typedmap kImmediate, background flusher off: each write is
//                handed to the OS (write(2)) before Put returns; Sync() =
//                FSyncAll.
//   periodic:MS  typedmap kImmediate, flusher fdatasyncs every MS ms.
//   sync         typedmap kFSync: durable before Put/Delete returns;
//                concurrent writers share one fdatasync (group commit).
//
// Options:
//   sync_interval_ms (1000)   durability=memory: flusher period.
//   auto_shrink_ratio (0)     0 = off; else Shrink when records / live keys
//                             >= ratio (> 1), checked every auto_shrink_ms.
//   auto_shrink_ms (60000)
//   recover (false)           open a log with mid-file corruption by keeping
//                             what precedes it.
//
// Struct values (TypedRecordAccess, adapters/typed_record.h): TypedRecords are
// stored natively in a second map, "records"; see PutRecord.
//
// Capabilities: persistent, unordered, thread-safe, WriteBatch is native and
// atomic (one framed batch record, one write; after a crash all of it or none
// is replayed), locks its directory, no key or value size limit. Empty keys are
// allowed. Thread safety: every operation before Close is safe from any number
// of threads.
#include <chrono>
#include <memory>
#include <ostream>
#include <unordered_set>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "adapters/typed_record.h"
#include "core/env.h"
#include "engines/typedmap/log_format.h"
#include "engines/typedmap/typedmap.h"

namespace kvb {
namespace {

using typedmap::Bytes;

constexpr char kHexUpper[] = "0123456789ABCDEF";

bool NeedsEscape(unsigned char c) { return c < 0x20 || c >= 0x7F || c == '%'; }

typedmap::Durability LevelFor(Durability d) {
  switch (d) {
    case Durability::kMemory:
      return typedmap::Durability::kAsync;
    case Durability::kSync:
      return typedmap::Durability::kFSync;
    case Durability::kProcess:
    case Durability::kPeriodic:
      break;
  }
  return typedmap::Durability::kImmediate;
}

// The engine's flusher: memory flushes and syncs every sync_interval_ms,
// periodic syncs every period, process and sync need no flusher.
void SetFlusher(const DurabilityClass& d, uint64_t sync_interval_ms,
                typedmap::Options* o) {
  o->background_flush = d.level == Durability::kMemory ||
                        d.level == Durability::kPeriodic;
  uint64_t ms =
      d.level == Durability::kPeriodic ? d.period_ms : sync_interval_ms;
  o->sync_interval = std::chrono::milliseconds(ms);
}

struct TypedmapConfig {
  DurabilityClass durability;
  uint64_t sync_interval_ms = 1000;
  double auto_shrink_ratio = 0;
  uint64_t auto_shrink_ms = 60000;
  bool recover = false;

  static Result<TypedmapConfig> Parse(const OptionMap& o) {
    TypedmapConfig c;
    KVB_RETURN_IF_ERROR(ReadDurability(o, &c.durability));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "sync_interval_ms", &c.sync_interval_ms, 1, INT64_MAX));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "auto_shrink_ratio", &c.auto_shrink_ratio));
    if (c.auto_shrink_ratio != 0 && !(c.auto_shrink_ratio > 1.0)) {
      return Status::InvalidArgument(
          "option auto_shrink_ratio: must be 0 (off) or > 1");
    }
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "auto_shrink_ms", &c.auto_shrink_ms, 1, INT64_MAX));
    KVB_RETURN_IF_ERROR(ReadOption(o, "recover", &c.recover));
    return c;
  }
};

constexpr Capabilities kTypedmapCaps{
    .batch = true, .atomic_batch = true, .locks_directory = true};

// The log file inside an adapter directory.
std::string LogPath(const std::string& dir) {
  return JoinPath(dir, "typedmap.log");
}

// A directory that holds files but no typedmap.log is another program's (or
// another engine's) data: refuse it before the store creates anything there.
Status RefuseForeignDirectory(const std::string& dir) {
  const std::string log = LogPath(dir);
  Result<FileStat> st = Env::Default()->Stat(log);
  if (st.ok()) return Status::OK();
  if (!st.status().IsNotFound()) return st.status();
  KVB_ASSIGN_OR_RETURN(std::vector<std::string> names,
                       Env::Default()->ListDir(dir));
  for (const std::string& name : names) {
    if (name.rfind("typedmap.log", 0) != 0) {
      return Status::Corruption("typedmap: " + dir + " holds '" + name +
                                "' but no typedmap.log: not a typedmap "
                                "database");
    }
  }
  return Status::OK();
}

// The percent-encoding of keys described above. Returns `key` itself when
// nothing needs escaping, else a view of *scratch.
std::string_view EncodeKey(std::string_view key, std::string* scratch) {
  size_t i = 0;
  while (i < key.size() && !NeedsEscape(static_cast<unsigned char>(key[i])))
    i++;
  if (i == key.size()) return key;  // the common case: printable ASCII, no copy
  scratch->assign(key.data(), i);
  for (; i < key.size(); i++) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (NeedsEscape(c)) {
      scratch->push_back('%');
      scratch->push_back(kHexUpper[c >> 4]);
      scratch->push_back(kHexUpper[c & 0xF]);
    } else {
      scratch->push_back(static_cast<char>(c));
    }
  }
  return *scratch;
}

class TypedmapAdapter final : public adapters_internal::BuiltinAdapter,
                              public TypedRecordAccess {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const TypedmapConfig& c,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    KVB_RETURN_IF_ERROR(RefuseForeignDirectory(dir));
    typedmap::Options o;
    SetFlusher(c.durability, c.sync_interval_ms, &o);
    o.auto_shrink_ratio = c.auto_shrink_ratio;
    o.auto_shrink_interval = std::chrono::milliseconds(c.auto_shrink_ms);
    o.recover = c.recover;
    std::unique_ptr<TypedmapAdapter> a(
        new TypedmapAdapter(dir, LevelFor(c.durability.level), o));
    KVB_ASSIGN_OR_RETURN(a->map_, a->store_.Map<Bytes>(""));
    KVB_ASSIGN_OR_RETURN(a->records_, a->store_.Map<TypedRecord>("records"));
    KVB_RETURN_IF_ERROR(a->store_.Open(LogPath(dir)));
    a->open_ = true;
    return std::unique_ptr<Adapter>(std::move(a));
  }
  ~TypedmapAdapter() override { Close().IgnoreError(); }

  Status Close() override {
    if (!open_) return Status::OK();
    open_ = false;
    return store_.Close();
  }
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status WriteBatch(std::span<const KeyValue> pairs) override;
  Status Sync() override;
  // Settle is the default, Sync (FSyncAll: the dirty keys of kAsync flushed).
  // The figures show what the log owes: records beyond live keys are what a
  // Shrink would drop.
  std::map<std::string, double> StateFigures() override;
  std::map<std::string, double> Stats() override;
  TypedRecordAccess* typed_records() override { return this; }

  // TypedRecordAccess: TypedRecords kept natively in the map "records" (log
  // keys "records:<key>", values JSON objects); reads copy the struct, with no
  // decoding. Same durability level and key encoding as Put/Get.
  Status PutRecord(std::string_view key, const TypedRecord& r) override;
  Status GetRecord(std::string_view key, TypedRecord* r) override;
  Status DeleteRecord(std::string_view key) override;

 private:
  TypedmapAdapter(const std::string& dir, typedmap::Durability level,
                  const typedmap::Options& o)
      : BuiltinAdapter("typedmap", kTypedmapCaps, dir),
        level_(level),
        store_(o) {}

  const typedmap::Durability level_;
  typedmap::Store store_;
  bool open_ = false;  // the store is open (until Close)
  typedmap::TypedMap<Bytes>* map_ = nullptr;
  typedmap::TypedMap<TypedRecord>* records_ = nullptr;
};

Status TypedmapAdapter::Put(std::string_view key, std::string_view value) {
  std::string scratch;
  return map_->Set(EncodeKey(key, &scratch), Bytes{std::string(value)}, level_);
}

Status TypedmapAdapter::Get(std::string_view key, std::string* value) {
  std::string scratch;
  return map_->View(EncodeKey(key, &scratch), [value](const Bytes& stored) {
    value->assign(stored.data);
  });
}

Status TypedmapAdapter::Delete(std::string_view key) {
  std::string scratch;
  return map_->Delete(EncodeKey(key, &scratch), level_);
}

Status TypedmapAdapter::WriteBatch(std::span<const KeyValue> pairs) {
  typedmap::TypedMap<Bytes>::Batch batch;
  std::string scratch;
  for (const KeyValue& kv : pairs) {
    batch.Set(std::string(EncodeKey(kv.key, &scratch)),
              Bytes{std::string(kv.value)});
  }
  return map_->Write(std::move(batch), level_);
}

Status TypedmapAdapter::Has(std::string_view key, bool* found) {
  std::string scratch;
  Status s = map_->View(EncodeKey(key, &scratch), [](const Bytes&) {});
  *found = s.ok();
  return s.IsNotFound() ? Status::OK() : s;
}

Status TypedmapAdapter::PutRecord(std::string_view key, const TypedRecord& r) {
  std::string scratch;
  return records_->Set(EncodeKey(key, &scratch), r, level_);
}

Status TypedmapAdapter::GetRecord(std::string_view key, TypedRecord* r) {
  std::string scratch;
  return records_->Get(EncodeKey(key, &scratch), r);
}

Status TypedmapAdapter::DeleteRecord(std::string_view key) {
  std::string scratch;
  return records_->Delete(EncodeKey(key, &scratch), level_);
}

Status TypedmapAdapter::Sync() { return store_.FSyncAll(); }

std::map<std::string, double> TypedmapAdapter::StateFigures() {
  return adapters_internal::PickFigures(
      Stats(), {"live_keys", "records", "log_bytes", "dirty_keys"});
}

std::map<std::string, double> TypedmapAdapter::Stats() {
  typedmap::Stats st = store_.GetStats();
  return adapters_internal::CountStats({{"live_keys", st.live_keys},
                                        {"records", st.records},
                                        {"log_bytes", st.log_bytes},
                                        {"dirty_keys", st.dirty_keys},
                                        {"loaded_records", st.loaded_records},
                                        {"truncated_bytes", st.truncated_bytes},
                                        {"appends", st.appends},
                                        {"flushes", st.flushes},
                                        {"syncs", st.syncs},
                                        {"sync_requests", st.sync_requests},
                                        {"shrinks", st.shrinks}});
}

Status InspectTypedmapLog(const std::string& path, bool dump_keys,
                          std::ostream& out) {
  Env* env = Env::Default();
  std::string file_path = path;
  auto st = env->Stat(path);
  if (st.ok() && st->is_dir) file_path = LogPath(path);
  KVB_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                       env->OpenFile(file_path, OpenMode::kReadOnly));
  KVB_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  typedmap::Header header;
  Status hs = typedmap::ReadHeader(*file, size, &header);
  out << "file: " << file_path << "\nbytes: " << size << "\n";
  if (!hs.ok()) {
    out << "header: BAD (" << hs.ToString() << ")\n";
    return hs;
  }
  if (header.empty) {
    out << "header: none (empty log)\n";
    return Status::OK();
  }
  out << "format: " << typedmap::HeaderFor(header.format, header.batches)
      << "\n";
  uint64_t sets = 0, deletes = 0, bad_json = 0;
  std::unordered_set<std::string> live;
  typedmap::ScanResult scan;
  KVB_RETURN_IF_ERROR(typedmap::ScanLog(
      *file, header.format, header.size, size,
      [&](const typedmap::RecordView& rec) {
        if (rec.op == 'S') {
          sets++;
          if (!nlohmann::json::accept(rec.value)) bad_json++;
          live.emplace(rec.key);
        } else {
          deletes++;
          live.erase(std::string(rec.key));
        }
        return Status::OK();
      },
      &scan));
  out << "records: " << scan.records << " (" << sets << " set, " << deletes
      << " delete)\n"
      << "live keys: " << live.size() << "\n"
      << "checksums: "
      << (header.format == typedmap::LogFormat::kNative ? "verified"
                                                        : "none in this format")
      << "\n"
      << "values that are not JSON: " << bad_json << "\n";
  if (dump_keys) {
    for (const auto& k : live) out << "key: " << k << "\n";
  }
  if (scan.stop == typedmap::ScanResult::Stop::kTornTail) {
    out << "torn tail: " << (size - scan.good_end) << " bytes after offset "
        << scan.good_end << " (an interrupted append; the next open cuts it)\n";
  }
  if (scan.stop == typedmap::ScanResult::Stop::kCorrupt) {
    out << "CORRUPT: " << scan.error << "; " << (size - scan.good_end)
        << " bytes from there on are unreadable\n";
    return Status::Corruption(scan.error);
  }
  if (bad_json > 0)
    return Status::Corruption(std::to_string(bad_json) +
                              " values are not JSON");
  out << "status: OK\n";
  return Status::OK();
}

constexpr DurabilityTable kTypedmapDurability{{
    {Durability::kMemory,
     "typedmap kAsync; background flush + fdatasync every sync_interval_ms",
     ""},
    {Durability::kProcess,
     "typedmap kImmediate (one write(2) per op), no background flusher", ""},
    {Durability::kPeriodic,
     "typedmap kImmediate; background fdatasync every MS ms", ""},
    {Durability::kSync, "typedmap kFSync (fdatasync per op, group commit)",
     ""},
}};

}  // namespace

namespace adapters_internal {

void AddTypedmapAdapter(std::vector<AdapterInfo>* out) {
  Register<TypedmapConfig>(
      out,
      {"typedmap",
       "go-persist design: typed in-memory maps persisted by one JSON-lines "
       "log",
       kTypedmapCaps,
       {
           {"sync_interval_ms", "1000",
            "durability=memory: background flush + fdatasync period"},
           {"auto_shrink_ratio", "0",
            "shrink when records/live keys >= ratio (> 1); 0 = off"},
           {"auto_shrink_ms", "60000",
            "how often auto-shrink checks the ratio"},
           {"recover", "false",
            "open a log with mid-file corruption, keeping what precedes it"},
       },
       kTypedmapDurability},
      &TypedmapConfig::Parse, &TypedmapAdapter::Open, InspectTypedmapLog);
}

}  // namespace adapters_internal
}  // namespace kvb
