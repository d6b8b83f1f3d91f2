#include "adapters/typedmap_adapter.h"

#include <chrono>
#include <ostream>
#include <unordered_set>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "core/env.h"
#include "engines/typedmap/log_format.h"

namespace kvb {
namespace {

using typedmap::Bytes;

constexpr char kHexUpper[] = "0123456789ABCDEF";

bool NeedsEscape(unsigned char c) { return c < 0x20 || c >= 0x7F || c == '%'; }

typedmap::Durability LevelFor(Durability d) {
  switch (d) {
    case Durability::kAsync:
      return typedmap::Durability::kAsync;
    case Durability::kSync:
      return typedmap::Durability::kFSync;
    case Durability::kNone:
      break;
  }
  return typedmap::Durability::kImmediate;
}

Status NotOpen() {
  return Status::FailedPrecondition("typedmap adapter is not open");
}

}  // namespace

Result<TypedmapConfig> TypedmapConfig::FromOptions(const OptionMap& o) {
  TypedmapConfig c;
  KVB_ASSIGN_OR_RETURN(c.durability, GetDurabilityOption(o));
  KVB_ASSIGN_OR_RETURN(int64_t interval,
                       GetIntOption(o, "sync_interval_ms", 1000, 1));
  c.sync_interval_ms = static_cast<uint64_t>(interval);
  KVB_ASSIGN_OR_RETURN(c.auto_shrink_ratio,
                       GetDoubleOption(o, "auto_shrink_ratio", 0));
  if (c.auto_shrink_ratio != 0 && !(c.auto_shrink_ratio > 1.0)) {
    return Status::InvalidArgument(
        "option auto_shrink_ratio: must be 0 (off) or > 1");
  }
  KVB_ASSIGN_OR_RETURN(int64_t shrink_ms,
                       GetIntOption(o, "auto_shrink_ms", 60000, 1));
  c.auto_shrink_ms = static_cast<uint64_t>(shrink_ms);
  KVB_ASSIGN_OR_RETURN(c.recover, GetBoolOption(o, "recover", false));
  return c;
}

TypedmapAdapter::TypedmapAdapter(TypedmapConfig config)
    : config_(config), level_(LevelFor(config.durability)) {}

TypedmapAdapter::~TypedmapAdapter() { Close().IgnoreError(); }

Capabilities TypedmapAdapter::Caps() {
  Capabilities c;
  c.persistent = true;
  c.ordered = false;
  c.thread_safe = true;
  c.batch = true;
  c.atomic_batch = true;
  c.locks_directory = true;
  c.max_key_size = 0;
  c.max_value_size = 0;
  return c;
}

std::string TypedmapAdapter::LogPath(const std::string& dir) {
  return JoinPath(dir, "typedmap.log");
}

// A directory that holds files but no typedmap.log is another program's (or
// another engine's) data: refuse it before the store creates anything there.
Status TypedmapAdapter::RefuseForeignDirectory(const std::string& dir) {
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

std::string_view TypedmapAdapter::EncodeKey(std::string_view key,
                                            std::string* scratch) {
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

Status TypedmapAdapter::Open(const std::string& dir) {
  if (store_)
    return Status::FailedPrecondition("typedmap adapter is already open");
  KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
  KVB_RETURN_IF_ERROR(RefuseForeignDirectory(dir));
  dir_ = dir;
  typedmap::Options o;
  o.sync_interval = std::chrono::milliseconds(config_.sync_interval_ms);
  o.auto_shrink_ratio = config_.auto_shrink_ratio;
  o.auto_shrink_interval = std::chrono::milliseconds(config_.auto_shrink_ms);
  o.recover = config_.recover;
  auto store = std::make_unique<typedmap::Store>(o);
  KVB_ASSIGN_OR_RETURN(map_, store->Map<Bytes>(""));
  KVB_ASSIGN_OR_RETURN(records_, store->Map<UserRecord>("records"));
  KVB_RETURN_IF_ERROR(store->Open(LogPath(dir)));
  store_ = std::move(store);
  return Status::OK();
}

Status TypedmapAdapter::Close() {
  if (!store_) return Status::OK();
  Status s = store_->Close();
  store_.reset();
  map_ = nullptr;
  records_ = nullptr;
  return s;
}

Status TypedmapAdapter::Put(std::string_view key, std::string_view value) {
  if (map_ == nullptr) return NotOpen();
  std::string scratch;
  return map_->Set(EncodeKey(key, &scratch), Bytes{std::string(value)}, level_);
}

Status TypedmapAdapter::Get(std::string_view key, std::string* value) {
  if (map_ == nullptr) return NotOpen();
  std::string scratch;
  return map_->View(EncodeKey(key, &scratch), [value](const Bytes& stored) {
    value->assign(stored.data);
  });
}

Status TypedmapAdapter::Delete(std::string_view key) {
  if (map_ == nullptr) return NotOpen();
  std::string scratch;
  return map_->Delete(EncodeKey(key, &scratch), level_);
}

Status TypedmapAdapter::WriteBatch(std::span<const KeyValue> pairs) {
  if (map_ == nullptr) return NotOpen();
  typedmap::TypedMap<Bytes>::Batch batch;
  std::string scratch;
  for (const KeyValue& kv : pairs) {
    batch.Set(std::string(EncodeKey(kv.key, &scratch)),
              Bytes{std::string(kv.value)});
  }
  return map_->Write(std::move(batch), level_);
}

Status TypedmapAdapter::Has(std::string_view key, bool* found) {
  if (map_ == nullptr) return NotOpen();
  std::string scratch;
  Status s = map_->View(EncodeKey(key, &scratch), [](const Bytes&) {});
  *found = s.ok();
  return s.IsNotFound() ? Status::OK() : s;
}

Status TypedmapAdapter::PutRecord(std::string_view key, const UserRecord& r) {
  if (records_ == nullptr) return NotOpen();
  std::string scratch;
  return records_->Set(EncodeKey(key, &scratch), r, level_);
}

Status TypedmapAdapter::GetRecord(std::string_view key, UserRecord* r) {
  if (records_ == nullptr) return NotOpen();
  std::string scratch;
  return records_->Get(EncodeKey(key, &scratch), r);
}

Status TypedmapAdapter::DeleteRecord(std::string_view key) {
  if (records_ == nullptr) return NotOpen();
  std::string scratch;
  return records_->Delete(EncodeKey(key, &scratch), level_);
}

Status TypedmapAdapter::Sync() {
  if (!store_) return NotOpen();
  return store_->FSyncAll();
}

std::map<std::string, double> TypedmapAdapter::Stats() {
  if (!store_) return {};
  typedmap::Stats st = store_->GetStats();
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  return {{"live_keys", d(st.live_keys)},
          {"records", d(st.records)},
          {"log_bytes", d(st.log_bytes)},
          {"dirty_keys", d(st.dirty_keys)},
          {"loaded_records", d(st.loaded_records)},
          {"truncated_bytes", d(st.truncated_bytes)},
          {"appends", d(st.appends)},
          {"flushes", d(st.flushes)},
          {"syncs", d(st.syncs)},
          {"sync_requests", d(st.sync_requests)},
          {"shrinks", d(st.shrinks)}};
}

Status InspectTypedmapLog(const std::string& path, bool dump_keys,
                          std::ostream& out) {
  Env* env = Env::Default();
  std::string file_path = path;
  auto st = env->Stat(path);
  if (st.ok() && st->is_dir) file_path = TypedmapAdapter::LogPath(path);
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

namespace adapters_internal {

void AddTypedmapAdapter(std::vector<AdapterInfo>* out) {
  AdapterInfo info;
  info.name = "typedmap";
  info.description =
      "go-persist design: typed in-memory maps persisted by one JSON-lines log";
  info.built = true;
  info.capabilities = TypedmapAdapter::Caps();
  info.options = {
      {"sync_interval_ms", "1000", "background flush + fdatasync period"},
      {"auto_shrink_ratio", "0",
       "shrink when records/live keys >= ratio (> 1); 0 = off"},
      {"auto_shrink_ms", "60000", "how often auto-shrink checks the ratio"},
      {"recover", "false",
       "open a log with mid-file corruption, keeping what precedes it"},
  };
  info.factory = [](const OptionMap& o) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(TypedmapConfig config, TypedmapConfig::FromOptions(o));
    return std::unique_ptr<Adapter>(new TypedmapAdapter(config));
  };
  info.inspect = InspectTypedmapLog;
  out->push_back(std::move(info));
}

}  // namespace adapters_internal
}  // namespace kvb
