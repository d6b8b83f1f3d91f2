// kvb::LinhashAdapter — the linhash engine (engines/linhash, Pogreb's design)
// behind the Adapter interface. Registered as "linhash".
//
// Durability mapping (the common `durability` option):
//   none  -> background_sync_interval_ms = 0: no automatic fsync; Sync() and
//   Close() make
//            everything durable (Close also writes the index checkpoint).
//   async -> background_sync_interval_ms = sync_interval_ms (default 1000): a
//   background thread
//            flushes and fdatasyncs the log; a crash loses at most about that
//            window.
//   sync  -> background_sync_interval_ms = -1: every Put/Delete/WriteBatch is
//   durable before it
//            returns; concurrent writers share fdatasyncs (group commit).
// WriteBatch is native and atomic across a crash (one batch record, one append,
// one sync).
//
// Options (see AddLinhashAdapter for defaults): sync_interval_ms,
// max_segment_mb, read_backend=mmap|pread, compaction_interval_ms,
// compaction_min_segment_mb, compaction_min_fragmentation,
// checkpoint_interval_ms, write_buffer_kb, load_factor, index_preload_mb,
// verify_checksums, read_only, repair.
//
// Capabilities: persistent, unordered (no Scan), thread_safe, batch +
// atomic_batch, locks its directory (a second Open is Busy), keys <= 65,535
// bytes, values <= 512 MiB. Thread safety: every operation between Open and
// Close may run from any number of threads; they all share one linhash::DB
// (readers take a shared index lock only).
#ifndef KVB_ADAPTERS_LINHASH_ADAPTER_H_
#define KVB_ADAPTERS_LINHASH_ADAPTER_H_

#include <iosfwd>
#include <memory>

#include "adapters/adapter.h"
#include "adapters/registry.h"
#include "engines/linhash/linhash.h"

namespace kvb {

class LinhashAdapter final : public Adapter {
 public:
  explicit LinhashAdapter(linhash::Options options) : options_(options) {}
  ~LinhashAdapter() override;
  static Capabilities Caps();
  // Builds engine options from adapter options (defaults already filled in by
  // the registry).
  static Result<linhash::Options> OptionsFrom(const OptionMap& o);

  std::string_view name() const override { return "linhash"; }
  Capabilities capabilities() const override { return Caps(); }
  Status Open(const std::string& dir) override;
  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status WriteBatch(std::span<const KeyValue> pairs) override;
  Status Sync() override;
  std::map<std::string, double> Stats() override;

 private:
  Status NotOpen() const;
  linhash::Options options_;
  std::unique_ptr<linhash::DB> db_;
};

// `kvbench inspect linhash DIR`.
Status InspectLinhash(const std::string& path, bool dump_keys,
                      std::ostream& out);

}  // namespace kvb

#endif  // KVB_ADAPTERS_LINHASH_ADAPTER_H_
