// kvb::TypedmapAdapter — the typedmap engine (engines/typedmap, the go-persist
// design) behind the byte-key/byte-value adapter interface. Registered as
// "typedmap".
//
// One Store with a map named "" of typedmap::Bytes (and a map "records" of
// UserRecord for struct values, below), in the file
// "<dir>/typedmap.log" (lock file "<dir>/typedmap.log.lock"). Reads are lookups
// in the engine's 64-shard hash map under a shared lock: no I/O and no
// decoding.
//
// Bytes to log text (the log stays line-oriented and readable):
//   keys   — percent-encoded: every byte below 0x20, 0x7F, every byte >= 0x80
//   and '%' itself
//            become "%XX" (upper-case hex); other bytes are kept. So keys with
//            LF, NUL or the separator ':' all work; printable ASCII keys are
//            written unchanged. A key of n bytes takes at most 3n bytes in the
//            log; there is no length limit.
//   values — typedmap::Bytes: valid UTF-8 is written as a JSON string, anything
//   else as
//            {"b64":"<base64>"}; both read back exactly. No length limit.
//
// Durability mapping:
//   none  — Durability::kImmediate: each write is handed to the OS (write(2))
//   before Put
//           returns; the engine's flusher fdatasyncs every sync_interval_ms;
//           Sync() = FSyncAll.
//   async — Durability::kAsync: memory only; the flusher appends the latest
//   value of each
//           changed key every sync_interval_ms in one write, then fdatasyncs.
//   sync  — Durability::kFSync: durable before Put/Delete returns; concurrent
//   writers share
//           one fdatasync (group commit).
//
// Options:
//   sync_interval_ms (1000)   flusher period.
//   auto_shrink_ratio (0)     0 = off; else Shrink when records / live keys >=
//   ratio (> 1),
//                             checked every auto_shrink_ms.
//   auto_shrink_ms (60000)
//   recover (false)           open a log with mid-file corruption by keeping
//   what precedes it.
//
// Struct values (TypedRecordAccess, adapters/typed_record.h): UserRecords are
// stored natively in a second map, "records"; see PutRecord.
//
// Capabilities: persistent, unordered, thread-safe, WriteBatch is native and
// atomic (one framed batch record, one write; after a crash all of it or none
// is replayed), locks its directory, no key or value size limit. Empty keys are
// allowed. Thread safety: every operation between Open and Close is safe from
// any number of threads.
#ifndef KVB_ADAPTERS_TYPEDMAP_ADAPTER_H_
#define KVB_ADAPTERS_TYPEDMAP_ADAPTER_H_

#include <memory>
#include <string>
#include <string_view>

#include "adapters/adapter.h"
#include "adapters/registry.h"
#include "adapters/typed_record.h"
#include "engines/typedmap/typedmap.h"

namespace kvb {

struct TypedmapConfig {
  Durability durability = Durability::kNone;
  uint64_t sync_interval_ms = 1000;
  double auto_shrink_ratio = 0;
  uint64_t auto_shrink_ms = 60000;
  bool recover = false;

  static Result<TypedmapConfig> FromOptions(const OptionMap& options);
};

class TypedmapAdapter final : public Adapter, public TypedRecordAccess {
 public:
  explicit TypedmapAdapter(TypedmapConfig config);
  ~TypedmapAdapter() override;
  static Capabilities Caps();
  // The log file inside an adapter directory.
  static Status RefuseForeignDirectory(const std::string& dir);
  static std::string LogPath(const std::string& dir);
  // The percent-encoding of keys described above. Returns `key` itself when
  // nothing needs escaping, else a view of *scratch.
  static std::string_view EncodeKey(std::string_view key, std::string* scratch);

  std::string_view name() const override { return "typedmap"; }
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
  TypedRecordAccess* typed_records() override { return this; }

  // TypedRecordAccess: UserRecords kept natively in the map "records" (log
  // keys "records:<key>", values JSON objects); reads copy the struct, with no
  // decoding. Same durability level and key encoding as Put/Get.
  Status PutRecord(std::string_view key, const UserRecord& r) override;
  Status GetRecord(std::string_view key, UserRecord* r) override;
  Status DeleteRecord(std::string_view key) override;

 private:
  const TypedmapConfig config_;
  const typedmap::Durability level_;
  std::unique_ptr<typedmap::Store> store_;  // null when closed
  typedmap::TypedMap<typedmap::Bytes>* map_ = nullptr;
  typedmap::TypedMap<UserRecord>* records_ = nullptr;
};

// `kvbench inspect typedmap PATH` (PATH = adapter directory or log file): see
// registry.h.
Status InspectTypedmapLog(const std::string& path, bool dump_keys,
                          std::ostream& out);

}  // namespace kvb

#endif  // KVB_ADAPTERS_TYPEDMAP_ADAPTER_H_
