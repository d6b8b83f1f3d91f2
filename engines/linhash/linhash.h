// kvb::linhash — an embedded key-value store for random point reads and bulk
// inserts, built on Pogreb's design: an append-only log of numbered segment
// files is the data store, and a linear-hashing index (fixed-size buckets of
// fixed-size slots, overflow chains, split pointer and level, one split per
// insert past the load factor) maps a 64-bit hash of each key to the record's
// location. FORMAT.md describes the files byte by byte; README.md says how it
// differs from Pogreb and what was measured.
//
// Quick use:
//   kvb::linhash::Options opts;
//   auto db = kvb::linhash::DB::Open("/path/db", opts);
//   if (!db.ok()) ...;
//   Status s = (*db)->Put("k", "v");
//   std::string v;
//   s = (*db)->Get("k", &v);   // NotFound if absent
//   s = (*db)->Close();
//
// THE INDEX is held in memory (chunked bucket arrays) and persisted by
// checkpoints. A checkpoint is the whole index plus per-segment accounting,
// written to a temporary file, synced, renamed over `index.lhx`, and the
// directory synced (LMDB's "sync data, then a small root record" order: the log
// it covers is synced first). It records the log position it covers. A clean
// Close writes one; Open verifies its header and tables (not its buckets: each
// 2 MiB chunk of the index is read and verified on first use, see README.md)
// and replays only the log written after it. A checkpoint that fails its own
// checks is ignored and the index is rebuilt from the whole log; a chunk that
// fails its check later makes that operation and every later one return
// Corruption, and the next Open rebuilds.
//
// DURABILITY is chosen by Options::background_sync_interval_ms:
//
//   value   a Put/Delete/Write that returned OK survives ...
//   -----   ----------------------------------------------------------------
//    0      a crash of the process (its record reached the OS before the
//           call returned, unless Options::write_buffer_size > 0); a power
//           loss only after Sync(), a checkpoint or Close.
//   -1      anything: it returns only after an fdatasync covering it (group
//           commit: one fdatasync covers every record appended before it).
//   >0      a power loss that comes more than about that many milliseconds
//           after it (a background thread syncs with that period).
//
// In every mode the database opens after a crash with a prefix of the log:
// nothing is invented, and a Write(batch) is applied entirely or not at all.
//
// THREAD SAFETY: every method of DB may be called from any number of threads
// at once (except Close, see there). Reads (Get, GetAppend, Has) take a shared
// lock on the index for the lookup and the record copy; a writer holds it
// exclusively only while it changes index slots (never while it appends to the
// log or fsyncs). Writers are serialised by one writer mutex; with
// sync-every-write, concurrent writers share fsyncs (group commit).
//
// ERRORS are kvb::Status codes, each with a one-line message:
//   InvalidArgument     key/value too large, bad option, a directory holding
//                       files that are not a linhash database;
//   NotFound            Get of a missing key; Open of a missing directory
//                       with create_if_missing = false or read_only;
//   Busy                another handle holds the directory lock; Compact
//                       while another compaction or a backup runs;
//   Corruption          a file that is not ours or fails a check;
//   IOError / NoSpace   from the Env; NoSpace also for the engine's own
//                       limits (segment ids, overflow buckets exhausted);
//   FailedPrecondition  a write to a read-only or closed database, or any
//                       write after a failed log write or fsync (sticky until
//                       the database is reopened).
//
// LIMITS (see README.md): key <= 65,535 bytes (empty keys allowed); value <=
// 512 MiB; segment <= 4 GiB - 1 (offsets are 32-bit); 65,536 segment ids (256
// TiB of log at 4 GiB per segment); key count is 64-bit; the index addresses
// buckets with up to 47 bits of a 64-bit hash (XXH3, seeded per database) and
// keeps 48 hash bits per slot, so there is no 4-billion-key ceiling.
#ifndef KVB_ENGINES_LINHASH_LINHASH_H_
#define KVB_ENGINES_LINHASH_LINHASH_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "core/status.h"

namespace kvb::linhash {

inline constexpr size_t kMaxKeySize = 65535;
inline constexpr size_t kMaxValueSize = size_t{512} << 20;
inline constexpr uint64_t kMaxSegmentSizeLimit = 0xFFFFFFFFull;  // 4 GiB - 1

// How record bytes are read back.
enum class ReadBackend : uint8_t {
  kMmap,   // through bounded read-only mappings of the flushed log (copied
           // out, never exposed to the caller)
  kPread,  // every record read is a pread(2) into a scratch buffer
};

// Options for DB::Open. Every field has a safe default; ValidateOptions at
// Open refuses values outside the stated ranges with InvalidArgument.
struct Options {
  // File system seam; null means Env::Default(). Must outlive the DB.
  Env* env = nullptr;

  // ---- Durability (see the table at the top of this file) ----
  // 0 = never, -1 = every write (group commit), > 0 = period in milliseconds.
  int64_t background_sync_interval_ms = 0;
  // 0 (the default): every Put/Delete/Write hands its records to the OS
  // (one pwrite) before it returns, so a crash of the process loses no
  // acknowledged write, and an append error (ENOSPC, EIO) is returned by the
  // call that owns the record (then every later write fails, see ERRORS).
  // > 0: a user-space append buffer of that many bytes (<= 64 MiB); records
  // reach the file when it fills, at Sync, at a checkpoint or at Close. This
  // is faster for small records but NOT process-crash safe: a kill -9, a
  // crash elsewhere in the process or the OOM killer loses the buffered,
  // acknowledged writes, and an append error is returned by whichever later
  // call flushes the buffer (the buffered writes it held are lost).
  size_t write_buffer_size = 0;

  // ---- Background work ----
  // 0 = only at Close (and after recovery/compaction); > 0 = write a
  // checkpoint every that many milliseconds if the log grew since the last.
  int64_t checkpoint_interval_ms = 60'000;
  // 0 = never; > 0 = run Compact() every that many milliseconds.
  int64_t background_compaction_interval_ms = 0;
  // Compaction selects a sealed segment at least this large ...
  uint64_t compaction_min_segment_size = uint64_t{32} << 20;
  // ... whose dead bytes are at least this fraction of its size. [0, 1].
  double compaction_min_fragmentation = 0.5;

  // ---- Layout ----
  // Rotate to a new segment before an append would make the current one
  // larger than this (a single record or batch larger than this gets a
  // segment of its own). [4 KiB, 4 GiB - 1].
  uint64_t max_segment_size = uint64_t{256} << 20;
  // Fraction of slots filled before a split (one split per insert past it).
  // (0.3, 1.0].
  double load_factor = 0.8;
  ReadBackend read_backend = ReadBackend::kMmap;
  // Open reads and verifies a checkpoint's whole index when it is at most
  // this many bytes (so damage there is found at Open and repaired by a
  // rebuild); a larger index is attached lazily: each 2 MiB chunk is read and
  // verified the first time it is used (README.md, "Reopen").
  uint64_t index_preload_bytes = uint64_t{8} << 20;

  // ---- Opening ----
  bool create_if_missing = true;
  // Open without taking the lock or writing anything; writes fail with
  // FailedPrecondition. A crashed log tail is replayed in memory only. Must
  // not be used while a writer process has the database open (there is no
  // shared lock in the Env).
  bool read_only = false;
  // Open cuts a torn tail of the newest segment (a damaged last write that
  // no valid record follows). Any other damage in the log (valid records
  // after it, or any damage in an older segment) is Corruption at Open and
  // nothing is changed, unless this is set: then that segment is cut at the
  // damage, the cut bytes are first copied into an aside file
  // `<segment>.<offset>.corrupt` in the directory (never deleted by linhash),
  // Metrics::repair_* count what was cut, and newer segments are still
  // replayed (which can resurrect a value whose Delete was in the cut part:
  // use only to salvage data). Repair also renumbers a segment whose id an
  // older segment uses (a state versions before issue 14 could leave after a
  // crash during compaction): a full copy under a free id, then the original
  // is removed.
  bool repair = false;
  // Verify each record's CRC on every read (a few ns per record).
  bool verify_checksums = true;

  // ---- Events ----
  // Receives one line per event the caller would otherwise not see: a
  // failure of background work (periodic sync, background compaction,
  // periodic checkpoint; kError, also counted in Metrics::background_errors)
  // and what Open's recovery did (a replayed tail, a rebuild, a cut; kInfo).
  // Called from the background thread or the thread inside Open, never with a
  // lock of the DB held; must be thread-safe and must not call into the DB.
  // Null: events are only counted.
  enum class LogLevel : uint8_t { kInfo, kError };
  std::function<void(LogLevel level, std::string_view message)> logger;

  // TEST ONLY: replaces the key hash (e.g. to force every key into one bucket
  // chain).
  uint64_t (*TEST_hash)(std::string_view key) = nullptr;
};

// What one Compact() call did.
struct CompactionResult {
  uint64_t compacted_segments = 0;  // source segments deleted
  uint64_t reclaimed_records = 0;   // dead records dropped
  uint64_t reclaimed_bytes = 0;     // dead bytes of the sources
};

// Counters since Open.
struct Metrics {
  uint64_t puts = 0;     // Put, PutIfAbsent, and each put op of a Write
  uint64_t gets = 0;     // Get, GetAppend, Has and each key of a MultiGet
  uint64_t deletes = 0;  // every Delete call and delete op of a Write, as
                         // Pogreb's Dels (present or absent key)
  uint64_t deletes_absent = 0;    // those of `deletes` that found no key (no
                                  // record logged)
  uint64_t hash_collisions = 0;   // slots whose 48 hash bits matched but whose
                                  // key did not
  uint64_t compactions = 0;       // Compact calls that deleted a segment
  uint64_t recoveries = 0;        // 1 if this Open replayed log or rebuilt
  uint64_t replayed_records = 0;  // log records applied by this Open
  uint64_t full_rebuilds = 0;     // 1 if this Open rebuilt the whole index
  uint64_t checkpoints = 0;       // checkpoints written
  uint64_t syncs = 0;  // fdatasync calls on the log (group commit makes this
                       // smaller than puts)
  // 2 MiB index chunks read from the checkpoint so far (Open reads none of a
  // large checkpoint; each is read and verified on first use).
  uint64_t index_chunks_loaded = 0;
  // What this Open found in the log (FORMAT.md, "Open and recovery"):
  uint64_t torn_tail_bytes = 0;      // torn tail cut (no valid record in it)
  uint64_t repair_cut_bytes = 0;     // cut by repair, kept in *.corrupt files
  uint64_t repair_lost_records = 0;  // valid records inside those cut bytes
  // Failures of background work (periodic sync, background compaction,
  // periodic checkpoint), each also passed to Options::logger.
  uint64_t background_errors = 0;
};

// Shape of the index and log, for stats and tests.
struct Stats {
  uint64_t keys = 0;
  uint32_t level = 0;  // linear hashing level
  uint64_t split = 0;  // next bucket to split
  uint64_t primary_buckets = 0;
  uint64_t overflow_buckets = 0;  // allocated (in use or free)
  uint64_t free_overflow_buckets = 0;
  uint64_t segments = 0;
  uint64_t log_bytes = 0;
  uint64_t dead_bytes = 0;   // bytes compaction could reclaim
  uint64_t index_bytes = 0;  // size of the index in memory (= checkpoint body)
};

// A group of puts and deletes applied atomically across a crash: after a crash
// either all of them or none are in the database. Concurrent readers may
// observe a batch half-applied. Not thread-safe.
class WriteBatch {
 public:
  // Adds an operation; later operations on the same key win.
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  void Clear();
  size_t Count() const { return ops_.size(); }

 private:
  friend class DB;
  struct Op {
    bool is_delete;
    std::string key;
    std::string value;
  };
  std::vector<Op> ops_;
};

class Iterator;

// An open database. Obtained from Open; every method is thread-safe except
// Close and the destructor.
class DB {
 public:
  // Opens (creating if allowed) the database in directory `dir`: loads the
  // checkpoint and replays the log written after it (a torn tail is cut).
  // Errors: InvalidArgument for a bad option or a directory holding files
  // that are not a linhash database (nothing is written there); NotFound for
  // a missing directory that may not be created; Corruption for a damaged
  // database (see Options::repair: a torn tail is cut, any other damage is
  // refused with nothing changed); Busy if another handle holds the lock.
  [[nodiscard]] static Result<std::unique_ptr<DB>> Open(const std::string& dir,
                                                        const Options& options);

  // Closes if still open (errors are then lost: call Close()).
  ~DB();
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // Stops background work, flushes and syncs the log, writes a checkpoint,
  // releases the lock. Idempotent. Every other call fails with
  // FailedPrecondition afterwards. REQUIRES: no other call in flight, and
  // every Iterator destroyed.
  [[nodiscard]] Status Close();

  // Inserts or overwrites `key`. Durable as the durability table says.
  // InvalidArgument if key or value exceeds its limit; FailedPrecondition if
  // read-only, closed, or after an earlier failed log write.
  [[nodiscard]] Status Put(std::string_view key, std::string_view value);
  // Inserts only if the key is absent; *inserted says which happened. Atomic
  // with respect to other writers. Errors as Put.
  [[nodiscard]] Status PutIfAbsent(std::string_view key, std::string_view value,
                                   bool* inserted);
  // Replaces *value with a copy of the value, or returns NotFound (then
  // *value is unchanged). Corruption if the record fails its checksum.
  [[nodiscard]] Status Get(std::string_view key, std::string* value);
  // Appends the value to *out (no allocation when its capacity suffices), or
  // returns NotFound. Errors as Get.
  [[nodiscard]] Status GetAppend(std::string_view key, std::string* out);
  // *found = whether the key exists. Reads only the key of a candidate record
  // (as Pogreb): its value and value checksum are not read, so Has is as fast
  // for large values as for small ones and a damaged value does not make it
  // fail (Get still reports it). Errors as Get (never NotFound).
  [[nodiscard]] Status Has(std::string_view key, bool* found);
  // Looks up every keys[i] as Get does: statuses[i] is OK (values[i] then
  // holds the value), NotFound (values[i] unchanged) or Get's error for it.
  // Faster than a loop of Get: keys are taken in groups of 16, and the index
  // buckets of a group, then its records, are prefetched before any of them
  // is read, so the memory misses of the group overlap. A group is read under
  // one hold of the shared index lock. Returns OK if every status is OK or
  // NotFound, else the first other status. REQUIRES: values and statuses
  // have keys.size() elements.
  [[nodiscard]] Status MultiGet(std::span<const std::string_view> keys,
                                std::string* values, Status* statuses);
  // Removes the key; OK whether or not it existed (nothing is written if it
  // did not). Errors as Put.
  [[nodiscard]] Status Delete(std::string_view key);
  // Applies the batch atomically across a crash (one lock, one log append, at
  // most one sync). An empty batch only reports whether writes are possible.
  // Errors as Put.
  [[nodiscard]] Status Write(const WriteBatch& batch);

  // A point-in-time iterator over all items (in hash order). It pins the
  // segments it needs, so a concurrent compaction does not invalidate it.
  std::unique_ptr<Iterator> NewIterator();

  // Number of keys (exact; a relaxed read while writers run).
  uint64_t Count() const;
  // Sum of the sizes of the database's files.
  [[nodiscard]] Result<uint64_t> FileSize() const;
  // Rewrites the live records of fragmented sealed segments to the head of
  // the log, makes them durable, writes a checkpoint, then deletes the
  // sources. Busy if a compaction or backup is running.
  [[nodiscard]] Result<CompactionResult> Compact();
  // Makes every write acknowledged so far durable (flushes and fdatasyncs the
  // log). FailedPrecondition after an earlier failed log write.
  [[nodiscard]] Status Sync();
  // Writes a checkpoint now (see THE INDEX at the top of this file).
  [[nodiscard]] Status Checkpoint();
  // Writes a consistent copy (segments + a checkpoint covering them) into
  // `dir`, which must not exist or be empty (else InvalidArgument). The copy
  // opens without replay. Waits for a running compaction to finish.
  [[nodiscard]] Status Backup(const std::string& dir);

  Metrics GetMetrics() const;
  Stats GetStats() const;

  class Impl;

 private:
  friend Status Inspect(const std::string& dir, bool dump_keys,
                        std::ostream& out, Env* env);
  explicit DB(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Iterates a snapshot of the items taken when it was created (later writes are
// not seen, and no item is returned twice). Not thread-safe: one thread at a
// time. REQUIRES: destroyed before its DB is closed. key()/value() stay valid
// until the next Next().
class Iterator {
 public:
  virtual ~Iterator() = default;
  // Advances to the next item; false at the end or on error (then status()
  // says which).
  virtual bool Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // OK, or why the iteration stopped early (Corruption of a record).
  virtual Status status() const = 0;
};

// Checks a database offline (read-only, takes no lock, writes nothing): every
// header, every checkpoint bucket, every record CRC, and that the index
// agrees with the log. Writes a report to `out`, ending in a `verdict:` line
// (and every key, hex-escaped, when dump_keys). Corruption if any check
// failed. REQUIRES: no writer has the database open.
[[nodiscard]] Status Inspect(const std::string& dir, bool dump_keys,
                             std::ostream& out, Env* env = nullptr);

}  // namespace kvb::linhash

#endif  // KVB_ENGINES_LINHASH_LINHASH_H_
