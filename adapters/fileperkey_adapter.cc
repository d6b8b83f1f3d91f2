// kvb::FileperkeyAdapter — the fileperkey engine (diskv design,
// engines/fileperkey) as the adapter "fileperkey": one plain file per key.
//
// Key mapping: adapter keys are arbitrary bytes (NUL included). They go through
// the engine's `escaped` encoding: [A-Za-z0-9_-.] stay as they are (except a
// leading '.'), every other byte becomes %XX, and names longer than 255 bytes
// are split into '+'-marked directory components. A key of up to max_key_size =
// 1024 bytes always fits a Linux path (at most 3 x 1024 escaped bytes +
// markers) when the adapter's directory is at most 900 bytes long; longer
// keys are InvalidArgument. The empty key is InvalidArgument.
//
// Options (plus the common durability):
//   transform   hash:2:1  flat | blocks:W:D | hash:W:D — directory layout
//                         (engine README)
//   cache_mb    0         read cache in MiB (sharded byte-bounded LRU); 0 = off
//   compression none      none | gzip | zlib | zstd (standard frames, one per
//                         file)
//   level       0         compression level; 0 = codec default
//   index       off       keep an ordered key index in memory (enables Scan,
//                         ordered = true)
//   checksum    default   default | on | off: a CRC-32C trailer on every
//                         uncompressed value file (default: on for a new
//                         uncompressed store, what the store records otherwise;
//                         on with compression is refused)
//
// Durability (the table kFileperkeyDurability below; adapters/durability.h):
// memory is refused (every Put hands its file to the kernel); process: writes
// are atomic (temp file + rename) but not fsynced, and Sync() and Close() fsync
// every file written since the last Sync and the directories holding their
// names; periodic:MS: as process plus a background Sync() every MS ms; sync:
// each Put/Delete fsyncs the value file and its directory before returning.
//
// Capabilities: persistent, thread_safe, ordered only with index=on (Scan pages
// through the index and reads each value; keys erased in between are skipped),
// no native batch, locks_directory (BASE/.fpk-lock), max_key_size 1024.
// BytesOnDisk (default walk) counts allocated blocks, so the per-file block
// cost of the design shows. Thread safety: the engine's Store is thread-safe;
// the adapter adds no lock of its own.
#include <chrono>
#include <memory>
#include <ostream>

#include "adapters/builtin.h"
#include "adapters/options.h"
#include "adapters/periodic_sync.h"
#include "engines/fileperkey/fileperkey.h"
#include "engines/fileperkey/inspect.h"

namespace kvb {
namespace {

using fileperkey::Codec;
using fileperkey::KeyEncoding;
using fileperkey::Store;
using fileperkey::Transform;

constexpr size_t kMaxKeySize = 1024;

constexpr Capabilities Caps(bool ordered) {
  return {
      .ordered = ordered, .locks_directory = true, .max_key_size = kMaxKeySize};
}

struct FileperkeyConfig {
  fileperkey::Options options;
  DurabilityClass durability;

  // index=on makes the adapter ordered.
  Capabilities capabilities() const { return Caps(options.index); }

  static Result<FileperkeyConfig> Parse(const OptionMap& o) {
    FileperkeyConfig c;
    // Checked here so a bad spec fails CheckAdapterSpec, not only opening.
    KVB_ASSIGN_OR_RETURN(
        c.options.transform,
        Transform::Parse(GetStringOption(o, "transform", "hash:2:1"),
                         KeyEncoding::kEscaped));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "cache_mb", &c.options.cache_bytes, 0, 1 << 20));
    c.options.cache_bytes <<= 20;
    KVB_ASSIGN_OR_RETURN(
        c.options.compression,
        fileperkey::ParseCodec(GetStringOption(o, "compression", "none")));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "level", &c.options.compression_level, 0, 22));
    KVB_RETURN_IF_ERROR(ReadOption(o, "index", &c.options.index));
    KVB_ASSIGN_OR_RETURN(c.options.checksum,
                         fileperkey::ParseValueChecksum(
                             GetStringOption(o, "checksum", "default")));
    if (c.options.checksum == fileperkey::ValueChecksum::kCrc32c &&
        c.options.compression != Codec::kNone) {
      return Status::InvalidArgument(
          "fileperkey: checksum=on is for uncompressed values; compressed "
          "frames carry their own checksum");
    }
    KVB_RETURN_IF_ERROR(ReadDurability(o, &c.durability));
    c.options.sync = c.durability.level == Durability::kSync;
    // A directory of another engine is refused rather than adopted as a tree
    // of keys.
    c.options.adopt_existing = false;
    return c;
  }
};

class FileperkeyAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const FileperkeyConfig& c,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    KVB_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                         Store::Open(dir, c.options));
    return std::unique_ptr<Adapter>(
        new FileperkeyAdapter(c, dir, std::move(store)));
  }
  ~FileperkeyAdapter() override { Close().IgnoreError(); }

  Status Close() override {
    if (!store_) return Status::OK();
    periodic_.Stop();
    Status s = store_->Sync();
    store_.reset();
    return s;
  }
  Status Put(std::string_view key, std::string_view value) override {
    KVB_RETURN_IF_ERROR(CheckKey(key));
    return store_->Write(key, value);
  }
  Status Get(std::string_view key, std::string* value) override {
    KVB_RETURN_IF_ERROR(CheckKey(key));
    return store_->Read(key, value);
  }
  Status Delete(std::string_view key) override {
    KVB_RETURN_IF_ERROR(CheckKey(key));
    Status s = store_->Erase(key);
    return s.IsNotFound() ? Status::OK() : s;
  }
  Status Has(std::string_view key, bool* found) override {
    KVB_RETURN_IF_ERROR(CheckKey(key));
    return store_->Has(key, found);
  }
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override;
  Status Sync() override { return store_->Sync(); }
  // Sync, and with index=on the background index walk finished.
  Status Settle() override {
    KVB_RETURN_IF_ERROR(store_->Sync());
    return index_ ? store_->WaitForIndex() : Status::OK();
  }
  std::map<std::string, double> StateFigures() override {
    const fileperkey::StoreStats st = store_->stats();
    return {{"index_building", st.index_building ? 1.0 : 0.0},
            {"index_keys", static_cast<double>(st.index_keys)},
            {"cache_entries", static_cast<double>(st.cache.entries)}};
  }
  std::map<std::string, double> Stats() override;

 private:
  FileperkeyAdapter(const FileperkeyConfig& c, const std::string& dir,
                    std::unique_ptr<Store> store)
      : BuiltinAdapter("fileperkey", c.capabilities(), dir),
        index_(c.options.index),
        store_(std::move(store)) {
    periodic_.StartIfPeriodic(c.durability, [this] { return Sync(); });
  }

  static Status CheckKey(std::string_view key) {
    if (key.size() <= kMaxKeySize) return Status::OK();
    return Status::InvalidArgument("fileperkey: key of " +
                                   std::to_string(key.size()) +
                                   " bytes exceeds max_key_size 1024");
  }

  const bool index_;
  std::unique_ptr<Store> store_;  // null after Close
  PeriodicSync periodic_;
};

Status FileperkeyAdapter::Scan(std::string_view start, size_t limit,
                               const ScanCallback& cb) {
  if (!index_) return Status::NotSupported("fileperkey: Scan needs index=on");
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

std::map<std::string, double> FileperkeyAdapter::Stats() {
  const fileperkey::StoreStats st = store_->stats();
  return adapters_internal::CountStats({{"cache_hits", st.cache.hits},
                                        {"cache_misses", st.cache.misses},
                                        {"cache_entries", st.cache.entries},
                                        {"cache_bytes", st.cache.charge},
                                        {"cache_evictions", st.cache.evictions},
                                        {"index_keys", st.index_keys},
                                        {"writes", st.writes},
                                        {"rename_retries", st.rename_retries}});
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
      << " compression=" << r->compression << " checksum=" << r->checksum
      << "\n"
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
      << "values failing their checksum: " << r->bad_values << "\n";
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


constexpr DurabilityTable kFileperkeyDurability{{
    {Durability::kMemory, "",
     "every Put hands its file to the kernel (write + rename): nothing weaker "
     "than process"},
    {Durability::kProcess,
     "Options::sync=false: temp file write(2) + rename before Put returns; "
     "fsync of files and directories at Sync/Close",
     ""},
    {Durability::kPeriodic,
     "as process, plus a background Sync every MS ms", ""},
    {Durability::kSync,
     "Options::sync=true: fdatasync of the value file and fsync of its "
     "directory before Put/Delete returns",
     ""},
}};

}  // namespace

namespace adapters_internal {

void AddFileperkeyAdapter(std::vector<AdapterInfo>* out) {
  Register<FileperkeyConfig>(
      out,
      {"fileperkey",
       "diskv design: one plain file per key, optional LRU cache, index, "
       "compression",
       Caps(false),
       {
           {"transform", "hash:2:1",
            "directory layout: flat | blocks:W:D | hash:W:D"},
           {"cache_mb", "0",
            "read cache in MiB (byte-bounded sharded LRU); 0 = off"},
           {"compression", "none",
            "none | gzip | zlib | zstd (standard frames)"},
           {"level", "0", "compression level; 0 = codec default"},
           {"index", "off",
            "ordered in-memory key index (rebuilt at open); enables Scan"},
           {"checksum", "default",
            "default | on | off: CRC-32C trailer per uncompressed value file "
            "(default: on for new uncompressed stores)"},
       },
       kFileperkeyDurability},
      &FileperkeyConfig::Parse, &FileperkeyAdapter::Open, InspectFileperkey);
}

}  // namespace adapters_internal
}  // namespace kvb
