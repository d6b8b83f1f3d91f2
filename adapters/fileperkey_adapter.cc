#include "adapters/fileperkey_adapter.h"

#include <chrono>
#include <ostream>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "engines/fileperkey/inspect.h"

namespace kvb {

using fileperkey::Codec;
using fileperkey::KeyEncoding;
using fileperkey::Store;
using fileperkey::Transform;

Result<FileperkeyConfig> FileperkeyConfig::FromOptions(const OptionMap& o) {
  FileperkeyConfig c;
  c.transform = GetStringOption(o, "transform", c.transform);
  // Checked here so a bad spec fails at creation, not at Open.
  KVB_RETURN_IF_ERROR(
      Transform::Parse(c.transform, KeyEncoding::kEscaped).status());
  KVB_ASSIGN_OR_RETURN(int64_t cache_mb,
                       GetIntOption(o, "cache_mb", 0, 0, 1 << 20));
  c.cache_bytes = static_cast<uint64_t>(cache_mb) << 20;
  KVB_ASSIGN_OR_RETURN(c.compression, fileperkey::ParseCodec(GetStringOption(
                                          o, "compression", "none")));
  KVB_ASSIGN_OR_RETURN(int64_t level, GetIntOption(o, "level", 0, 0, 22));
  c.level = static_cast<int>(level);
  KVB_ASSIGN_OR_RETURN(c.index, GetBoolOption(o, "index", false));
  KVB_ASSIGN_OR_RETURN(bool sync, GetBoolOption(o, "sync", false));
  KVB_ASSIGN_OR_RETURN(c.durability, GetDurabilityOption(o));
  if (sync) c.durability = Durability::kSync;
  return c;
}

FileperkeyAdapter::FileperkeyAdapter(FileperkeyConfig config)
    : config_(std::move(config)) {
  options_.transform =
      *Transform::Parse(config_.transform, KeyEncoding::kEscaped);
  options_.cache_bytes = config_.cache_bytes;
  options_.compression = config_.compression;
  options_.compression_level = config_.level;
  options_.index = config_.index;
  options_.sync = config_.durability == Durability::kSync;
  // A directory of another engine is refused rather than adopted as a tree of
  // keys.
  options_.adopt_existing = false;
}

FileperkeyAdapter::~FileperkeyAdapter() { Close().IgnoreError(); }

Capabilities FileperkeyAdapter::Caps(bool ordered) {
  Capabilities c;
  c.persistent = true;
  c.ordered = ordered;
  c.thread_safe = true;
  c.batch = false;
  c.atomic_batch = false;
  c.locks_directory = true;
  c.max_key_size = kMaxKeySize;
  return c;
}

Status FileperkeyAdapter::Open(const std::string& dir) {
  if (store_) return Status::FailedPrecondition("fileperkey: already open");
  KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
  KVB_ASSIGN_OR_RETURN(store_, Store::Open(dir, options_));
  dir_ = dir;
  if (config_.durability == Durability::kAsync) {
    periodic_.Start(std::chrono::milliseconds(1000),
                    [this] { return store_->Sync(); });
  }
  return Status::OK();
}

Status FileperkeyAdapter::Close() {
  if (!store_) return Status::OK();
  periodic_.Stop();
  Status s = store_->Sync();
  store_.reset();
  return s;
}

Status FileperkeyAdapter::CheckOpen(std::string_view key) const {
  if (!store_) return Status::FailedPrecondition("fileperkey: not open");
  if (key.size() > kMaxKeySize) {
    return Status::InvalidArgument("fileperkey: key of " +
                                   std::to_string(key.size()) +
                                   " bytes exceeds max_key_size 1024");
  }
  return Status::OK();
}

Status FileperkeyAdapter::Put(std::string_view key, std::string_view value) {
  KVB_RETURN_IF_ERROR(CheckOpen(key));
  return store_->Write(key, value);
}

Status FileperkeyAdapter::Get(std::string_view key, std::string* value) {
  KVB_RETURN_IF_ERROR(CheckOpen(key));
  return store_->Read(key, value);
}

Status FileperkeyAdapter::Delete(std::string_view key) {
  KVB_RETURN_IF_ERROR(CheckOpen(key));
  Status s = store_->Erase(key);
  return s.IsNotFound() ? Status::OK() : s;
}

Status FileperkeyAdapter::Has(std::string_view key, bool* found) {
  KVB_RETURN_IF_ERROR(CheckOpen(key));
  return store_->Has(key, found);
}

Status FileperkeyAdapter::Scan(std::string_view start, size_t limit,
                               const ScanCallback& cb) {
  if (!store_) return Status::FailedPrecondition("fileperkey: not open");
  if (!config_.index)
    return Status::NotSupported("fileperkey: Scan needs index=on");
  constexpr size_t kPage = 256;
  std::string value;
  std::string last;
  bool first = true;
  size_t emitted = 0;
  while (emitted < limit) {
    const size_t want = std::min(kPage, limit - emitted);
    KVB_ASSIGN_OR_RETURN(std::vector<std::string> page,
                         first ? store_->IndexKeysFrom(start, want)
                               : store_->IndexKeysAfter(last, want));
    first = false;
    if (page.empty()) return Status::OK();
    for (const std::string& key : page) {
      Status s = store_->Read(key, &value);
      if (s.IsNotFound()) continue;  // erased since the page was taken
      KVB_RETURN_IF_ERROR(s);
      emitted++;
      if (!cb(key, value) || emitted == limit) return Status::OK();
    }
    last = page.back();
  }
  return Status::OK();
}

Status FileperkeyAdapter::Sync() {
  if (!store_) return Status::FailedPrecondition("fileperkey: not open");
  return store_->Sync();
}

std::map<std::string, double> FileperkeyAdapter::Stats() {
  if (!store_) return {};
  const fileperkey::StoreStats st = store_->stats();
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  return {{"cache_hits", d(st.cache.hits)},
          {"cache_misses", d(st.cache.misses)},
          {"cache_entries", d(st.cache.entries)},
          {"cache_bytes", d(st.cache.charge)},
          {"cache_evictions", d(st.cache.evictions)},
          {"index_keys", d(st.index_keys)},
          {"writes", d(st.writes)},
          {"rename_retries", d(st.rename_retries)}};
}

Status InspectFileperkey(const std::string& path, bool dump_keys,
                         std::ostream& out) {
  std::function<void(const std::string&)> on_key;
  if (dump_keys) {
    on_key = [&out](const std::string& key) {
      out << "key: " << fileperkey::EscapeKey(key) << "\n";
    };
  }
  Result<fileperkey::InspectReport> r =
      fileperkey::Inspect(Env::Default(), path, true, on_key);
  if (!r.ok()) {
    out << "fileperkey store " << path << ": " << r.status().ToString() << "\n";
    return r.status();
  }
  out << "store: " << path << "\n"
      << "layout: transform=" << r->transform << " encoding=" << r->encoding
      << " compression=" << r->compression << "\n"
      << "keys: " << r->keys << "\n"
      << "directories: " << r->directories << "\n"
      << "value bytes (apparent): " << r->value_bytes << "\n"
      << "bytes on disk (allocated): " << r->allocated_bytes << "\n"
      << "stray temp files: " << r->temp_files
      << (r->temp_files ? " (interrupted writes; removed at the next open)"
                        : "")
      << "\n"
      << "files that are not keys: " << r->foreign_files << "\n"
      << "index consistency: "
      << (r->foreign_files == 0 ? "every file maps back to its own path"
                                : "FAILED")
      << "\n"
      << "compressed values failing their checksum: " << r->bad_values << "\n";
  for (const std::string& p : r->problems) out << "problem: " << p << "\n";
  if (!r->ok()) {
    out << "status: CORRUPT\n";
    return Status::Corruption(
        "fileperkey: " + std::to_string(r->foreign_files) + " foreign files, " +
        std::to_string(r->bad_values) + " bad values under " + path);
  }
  out << "status: OK\n";
  return Status::OK();
}

namespace adapters_internal {

void AddFileperkeyAdapter(std::vector<AdapterInfo>* out) {
  AdapterInfo info;
  info.name = "fileperkey";
  info.description =
      "diskv design: one plain file per key, optional LRU cache, index, "
      "compression";
  info.built = true;
  info.capabilities = FileperkeyAdapter::Caps(false);
  info.options = {
      {"transform", "hash:2:1",
       "directory layout: flat | blocks:W:D | hash:W:D"},
      {"cache_mb", "0",
       "read cache in MiB (byte-bounded sharded LRU); 0 = off"},
      {"sync", "false",
       "fsync every write (file + directory); same as durability=sync"},
      {"compression", "none", "none | gzip | zlib | zstd (standard frames)"},
      {"level", "0", "compression level; 0 = codec default"},
      {"index", "off",
       "ordered in-memory key index (rebuilt at open); enables Scan"},
  };
  info.factory = [](const OptionMap& o) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(FileperkeyConfig config,
                         FileperkeyConfig::FromOptions(o));
    return std::unique_ptr<Adapter>(new FileperkeyAdapter(std::move(config)));
  };
  info.inspect = InspectFileperkey;
  out->push_back(std::move(info));
}

}  // namespace adapters_internal
}  // namespace kvb
