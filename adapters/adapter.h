// kvb::Adapter — the one interface through which the harness drives a storage
// engine.
//
// An adapter wraps one engine (ours or a reference database) behind byte keys
// and byte values. The harness, the conformance suite and the crash tester see
// only this interface; an adapter is opened by the registry (adapters/
// registry.h) from a spec string such as "rocksdb:cache_mb=256,bloom_bits=10"
// and a directory.
//
// Lifecycle: an Adapter object is always open: OpenAdapter() returns one that
// is, or an error and none. Any number of operations follow, then Close(),
// which is the last call: it makes everything durable, releases the database
// and reports what went wrong. After Close only Close() again (a no-op that
// returns OK), BytesOnDisk(), name() and capabilities() may be called, then the
// destructor. Destroying an adapter without Close() closes it and drops the
// error. Reopening a directory is Close, destroy, and OpenAdapter again.
//
// Threads: when capabilities().thread_safe is true, every operation before
// Close may be called from many threads at once; the adapter maps that
// onto its engine (one read transaction per thread for LMDB, one connection per
// thread for SQLite, one shared handle for RocksDB/LevelDB) and documents how
// in its header.
//
// Values returned through `std::string* value` are owned by the caller: later
// operations never change them.
//
// Durability: the option `durability` of every adapter names a class
// (adapters/durability.h: memory, process, periodic:MS, sync), defined by what
// an acknowledged write survives; an adapter that cannot provide a class is
// refused by the registry before it opens.
#ifndef KVB_ADAPTERS_ADAPTER_H_
#define KVB_ADAPTERS_ADAPTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/durability.h"
#include "core/result.h"
#include "core/status.h"

namespace kvb {

struct Capabilities {
  bool persistent = true;   // data survives Close and a new OpenAdapter
  bool ordered = false;     // Scan() returns keys in byte order
  bool thread_safe = true;  // concurrent calls allowed (see above)
  bool batch = false;       // WriteBatch is native (one txn / one log write)
  // A WriteBatch survives a crash entirely or not at all.
  bool atomic_batch = false;
  // A second OpenAdapter of the same directory fails with Busy.
  bool locks_directory = false;
  size_t max_key_size = 0;    // 0 = no documented limit
  size_t max_value_size = 0;  // 0 = no documented limit
};

struct KeyValue {
  std::string_view key;
  std::string_view value;
};

class TypedRecordAccess;  // adapters/typed_record.h

// Receives each (key, value) of a scan in order; return false to stop early.
using ScanCallback =
    std::function<bool(std::string_view key, std::string_view value)>;

class Adapter {
 public:
  virtual ~Adapter() = default;

  // The registry name ("rocksdb", "linhash", ...).
  virtual std::string_view name() const = 0;
  virtual Capabilities capabilities() const = 0;

  // The open errors every adapter reports from OpenAdapter(spec, dir): the
  // directory is created if missing; InvalidArgument if `dir` is a file;
  // IOError if not writable; Busy if the engine locks and another handle holds
  // it; Corruption if `dir` holds something that is not this engine's database.

  // Makes everything durable and releases the database; the last call (see
  // above). Closing twice is OK.
  virtual Status Close() = 0;

  // Inserts or overwrites. InvalidArgument for a key or value over the engine's
  // limit (capabilities()) or an empty key where the engine forbids it.
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  // Fills *value (replacing its contents) and returns OK, or returns NotFound.
  virtual Status Get(std::string_view key, std::string* value) = 0;
  // Removes the key. OK whether or not it existed.
  virtual Status Delete(std::string_view key) = 0;
  // *found = whether the key exists. Default: Get.
  virtual Status Has(std::string_view key, bool* found);
  // Looks up every keys[i]: statuses[i] is what Get(keys[i], &values[i])
  // returns (values[i] filled when OK). Returns OK if every status is OK or
  // NotFound, else the first other one. Default: a loop of Get; an engine
  // with a batched read (linhash) overrides it. REQUIRES: values and statuses
  // have keys.size() elements.
  virtual Status MultiGet(std::span<const std::string_view> keys,
                          std::string* values, Status* statuses);
  // Writes all pairs; native where capabilities().batch, else a loop of Put.
  virtual Status WriteBatch(std::span<const KeyValue> pairs);
  // Calls `cb` for up to `limit` pairs with key >= start, in byte order.
  // NotSupported unless capabilities().ordered.
  virtual Status Scan(std::string_view start, size_t limit,
                      const ScanCallback& cb);
  // Makes every write acknowledged so far durable.
  virtual Status Sync() = 0;

  // Brings the engine to its settled state and returns once it is there:
  // every write acknowledged so far is in the engine's long-term structures
  // (memtables flushed, the compactions they trigger finished, a checkpoint
  // written, a WAL folded in) and no background work is queued. Neither the
  // data nor the durability class changes. The harness calls it between the
  // load and a measured phase of state `settled` (workloads/workload.h,
  // EngineState), timed outside the measurement. Default: Sync().
  virtual Status Settle();
  // The engine's own figures of how settled it is, named as the engine names
  // them: RocksDB's cur-size-all-mem-tables, num-files-at-level0,
  // estimate-pending-compaction-bytes; linhash's segments and the index
  // chunks still unread; SQLite's WAL bytes ... Recorded at the start of
  // every measured phase, so a reader can see what state was measured. May be
  // empty (an engine with no deferred work). Default: none.
  virtual std::map<std::string, double> StateFigures() { return {}; }
  // Engine-reported figures (segments, compactions, cache hits, ...); may be
  // empty.
  virtual std::map<std::string, double> Stats() { return {}; }
  // Allocated bytes (st_blocks * 512) of every file and subdirectory under
  // the adapter's directory except the engine's info logs (IsInfoLog): the
  // engine's data, what a space-amplification figure should divide.
  // Meaningful after Close too. Default: walks the directory.
  virtual Result<uint64_t> BytesOnDisk() const;
  // Allocated bytes of the info logs alone (0 for engines that write none).
  Result<uint64_t> InfoLogBytes() const;
  // Whether a file of this name (no directory part) is a human-readable log
  // of the engine's activity, not data (RocksDB's and LevelDB's LOG,
  // LOG.old*). Default: none is.
  virtual bool IsInfoLog(std::string_view file_name) const { return false; }
  // Native storage of struct values (adapters/typed_record.h), for engines
  // that keep typed values; null (the default) means "bytes only": the harness
  // then stores structs as JSON. Owned by the adapter; valid while it lives.
  virtual TypedRecordAccess* typed_records() { return nullptr; }

 protected:
  Adapter() = default;
  explicit Adapter(std::string dir) : dir_(std::move(dir)) {}
  // The directory the adapter was opened on, for BytesOnDisk().
  std::string dir_;
};

// Sum of st_blocks * 512 of all regular files and subdirectories under `dir`
// (recursively; symlinks are not followed). With `only`, just the regular
// files whose name it accepts.
Result<uint64_t> AllocatedBytesUnder(
    const std::string& dir,
    const std::function<bool(std::string_view)>& only = nullptr);
// Creates `dir` (mkdir -p) and checks it is a writable directory (every
// adapter's first step of opening). Clear
// one-line errors: "not a directory: X", "cannot create directory X: Permission
// denied".
Status PrepareDirectory(const std::string& dir);

}  // namespace kvb

#endif  // KVB_ADAPTERS_ADAPTER_H_
