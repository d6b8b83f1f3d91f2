// kvb::FileperkeyAdapter — the fileperkey engine (diskv design,
// engines/fileperkey) as the adapter "fileperkey": one plain file per key.
//
// Key mapping: adapter keys are arbitrary bytes (NUL included). They go through
// the engine's `escaped` encoding: [A-Za-z0-9_-.] stay as they are (except a
// leading '.'), every other byte becomes %XX, and names longer than 255 bytes
// are split into '+'-marked directory components. A key of up to max_key_size =
// 1024 bytes always fits a Linux path (at most 3 x 1024 escaped bytes +
// markers) when the directory given to Open is at most 900 bytes long; longer
// keys are InvalidArgument. The empty key is InvalidArgument.
//
// Options (plus the common durability):
//   transform   hash:2:1  flat | blocks:W:D | hash:W:D  — directory layout
//   (engine README) cache_mb    0         read cache in MiB (sharded
//   byte-bounded LRU); 0 = off sync        false     same as durability=sync
//   compression none      none | gzip | zlib | zstd (standard frames, one per
//   file) level       0         compression level; 0 = codec default index off
//   keep an ordered key index in memory (enables Scan, ordered = true)
//
// Durability:
//   none   writes are atomic (temp file + rename) but not fsynced; Sync() and
//   Close() fsync
//          every file written since the last Sync and the directories holding
//          their names.
//   async  as none, plus a background Sync() every second.
//   sync   each Put/Delete fsyncs the value file and its directory before
//   returning.
//
// Capabilities: persistent, thread_safe, ordered only with index=on (Scan pages
// through the index and reads each value; keys erased in between are skipped),
// no native batch, locks_directory (BASE/.fpk-lock), max_key_size 1024.
// BytesOnDisk (default walk) counts allocated blocks, so the per-file block
// cost of the design shows. Thread safety: the engine's Store is thread-safe;
// the adapter adds no lock of its own.
#ifndef KVB_ADAPTERS_FILEPERKEY_ADAPTER_H_
#define KVB_ADAPTERS_FILEPERKEY_ADAPTER_H_

#include <iosfwd>
#include <memory>
#include <string>

#include "adapters/adapter.h"
#include "adapters/periodic_sync.h"
#include "adapters/registry.h"
#include "engines/fileperkey/fileperkey.h"

namespace kvb {

struct FileperkeyConfig {
  std::string transform = "hash:2:1";
  uint64_t cache_bytes = 0;
  fileperkey::Codec compression = fileperkey::Codec::kNone;
  int level = 0;
  bool index = false;
  Durability durability = Durability::kNone;

  static Result<FileperkeyConfig> FromOptions(const OptionMap& options);
};

class FileperkeyAdapter final : public Adapter {
 public:
  static constexpr size_t kMaxKeySize = 1024;

  explicit FileperkeyAdapter(FileperkeyConfig config);
  ~FileperkeyAdapter() override;
  static Capabilities Caps(bool ordered);

  std::string_view name() const override { return "fileperkey"; }
  Capabilities capabilities() const override { return Caps(config_.index); }
  Status Open(const std::string& dir) override;
  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override;
  Status Sync() override;
  std::map<std::string, double> Stats() override;

 private:
  Status CheckOpen(std::string_view key) const;

  FileperkeyConfig config_;
  fileperkey::Options options_;
  std::unique_ptr<fileperkey::Store> store_;
  PeriodicSync periodic_;
};

// `kvbench inspect fileperkey DIR`: counts, bytes, stray temp files, foreign
// files, index consistency (every file maps back to its own path),
// compressed-value checksums. Corruption if a check failed.
Status InspectFileperkey(const std::string& path, bool dump_keys,
                         std::ostream& out);

}  // namespace kvb

#endif  // KVB_ADAPTERS_FILEPERKEY_ADAPTER_H_
