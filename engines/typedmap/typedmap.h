// kvb::typedmap — a memory-first store of typed maps persisted by one
// JSON-lines log (the go-persist design, github.com/Jipok/go-persist, rebuilt
// in C++ with its defects fixed).
//
// Every live value is a native C++ object in a sharded concurrent hash map;
// reads never touch the disk and never decode. One append-only, human-readable
// log file is the database: each change appends a two-line record (`S <crc>
// map:key` / JSON value, or `D <crc> map:key` / empty line); Open replays it;
// Shrink rewrites it atomically as a snapshot. FORMAT.md specifies the bytes;
// README.md gives the tour.
//
//   struct User { std::string name; int age; };
//   NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, name, age)
//   // (or KVB_GO_STRUCT, go_compat.h, to mirror a Go struct of a go-persist
//   // file with Go's JSON idioms)
//
//   kvb::typedmap::Store store;
//   auto users = store.Map<User>("users");           // Result<TypedMap<User>*>
//   KVB_RETURN_IF_ERROR(store.Open("/data/app.db"));  // replays the log
//   KVB_RETURN_IF_ERROR((*users)->Set("alice", User{"Alice", 28}));
//   User u;
//   if ((*users)->Get("alice", &u).ok()) { ... }
//   (*users)->Update("alice", [](Updater<User>& up) { up.value.age++; });
//
// Durability, chosen per call (Durability below):
//   kAsync      memory now; the key is marked dirty and the background flusher
//               (every sync_interval) appends the latest value of each dirty
//               key in one write, then fsyncs. A crash loses what was not
//               flushed; repeated writes to a key coalesce.
//   kImmediate  the record is handed to the OS (write(2)) before the call
//               returns: survives a process crash; the flusher's periodic
//               fdatasync bounds what a power loss can take to about one
//               sync_interval. The default.
//   kFSync      the record is durable (fdatasync) before the call returns.
//               Concurrent callers share one fdatasync (group commit), which
//               runs outside the append lock.
// In every level memory changes only after the record was appended successfully
// (kAsync: after the value was encoded), so a failed call leaves memory and log
// as they were. An fsync error is returned after the change is in memory and in
// the OS's hands. A failed fdatasync or fsync (of the log, by a caller or the
// background flusher, or of Shrink's new log) is sticky: every later write,
// FSyncAll and Shrink of this Store returns IOError, at every level, because
// Linux may have dropped the unsynced pages and a later fdatasync would
// "succeed" without them. Close then rewrites the log from memory (as Shrink
// does) and returns the error, so a reopen, which would read the dropped pages
// from the page cache, starts from a log that is durable as it reads.
//
// Errors: every call returns Status/Result; the library never exits the process
// and no exception escapes it, except one thrown by the caller's own
// Update/Range callback, which propagates unchanged after every lock is
// released and nothing was changed. Closed store: every call on a Store or
// TypedMap after Close() returns FailedPrecondition.
//
// Thread safety: all methods of Store and TypedMap may be called from any
// number of threads, except Open and Close, which must not run concurrently
// with any other call.
#ifndef KVB_ENGINES_TYPEDMAP_TYPEDMAP_H_
#define KVB_ENGINES_TYPEDMAP_TYPEDMAP_H_

#include <atomic>
#include <bitset>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/hash.h"
#include "core/result.h"
#include "core/status.h"
#include "engines/typedmap/internal/map_base.h"
#include "engines/typedmap/internal/spin_lock.h"
#include "engines/typedmap/log_format.h"
#include "engines/typedmap/value_codec.h"

namespace kvb::typedmap {

enum class Durability : uint8_t { kAsync, kImmediate, kFSync };

// What Open does with a record whose value does not decode as its map's type:
// a schema error (the record is intact; the C++ type does not fit it), never
// treated as damage and never cut by Options::recover.
enum class SchemaErrorPolicy : uint8_t {
  // Open fails with InvalidArgument naming the map, the key and the offset of
  // the first such record that is still its key's live value (one that a later
  // record of the key replaced or deleted is harmless); the file is not
  // changed.
  kFail,
  // Open succeeds; each such key holds its record's JSON text instead of a
  // typed value: TypedMap::Get says NotFound, TypedMap::GetRaw returns the
  // text, Stats::raw_keys counts them. The record stays in the log (Shrink
  // writes it back unchanged) until a Set, Update or Delete of the key
  // replaces it.
  kKeepRaw,
};

struct Options {
  // File system; null means Env::Default(). Must outlive the Store.
  Env* env = nullptr;
  // Period of the background flusher: flush of kAsync changes, then fdatasync.
  std::chrono::milliseconds sync_interval{1000};
  // Run the background flusher. When false, kAsync changes reach the log only
  // through FSyncAll(), Shrink() or Close().
  bool background_flush = true;
  // A complete record in the middle of the log that fails its checksum or parse
  // (or, in the go-persist format, which has no checksum, whose value is not
  // JSON at all) makes Open fail with Corruption. With recover = true, Open
  // instead keeps every record before it, copies the bytes from it to the end
  // into "<path>.corrupt" (or "<path>.corrupt.N" if that exists: an earlier
  // recovery's file is never replaced) and truncates the log there. A value
  // that is JSON but does not fit its map's type is not damage: see
  // on_schema_error.
  bool recover = false;
  SchemaErrorPolicy on_schema_error = SchemaErrorPolicy::kFail;
  // A go-persist ("go-persist 1") log keeps its format, so go-persist can still
  // read it, until this is true: then Open rewrites it in the native,
  // checksummed format. While it keeps that format, a write whose record has a
  // line longer than go-persist can read (kLegacyMaxLine, 4096 bytes with its
  // LF) is refused with InvalidArgument, nothing changed.
  bool upgrade_legacy_format = false;
  // Auto-shrink (0 = off): every auto_shrink_interval, Shrink when
  // records / live keys >= auto_shrink_ratio (which must be > 1), or when
  // there are records but no live keys.
  double auto_shrink_ratio = 0;
  std::chrono::milliseconds auto_shrink_interval{60000};
  // Take an exclusive lock file "<path>.lock" so two handles cannot open one
  // log (Busy).
  bool lock_file = true;
  // Called on the background thread with each error of the flusher or
  // auto-shrink.
  std::function<void(const Status&)> on_background_error;
};

// OpenSingleMap's defaults: go-persist's auto-shrink (every minute, ratio 1.8).
Options SingleMapOptions();

struct Stats {
  uint64_t live_keys = 0;       // keys of all maps plus store-level keys
  uint64_t records = 0;         // in the log (loaded + appended; Shrink resets)
  uint64_t log_bytes = 0;       // size of the log file
  uint64_t dirty_keys = 0;      // kAsync changes not yet flushed
  uint64_t loaded_records = 0;  // records replayed by Open
  uint64_t truncated_bytes = 0;  // bytes Open cut off (torn tail, or recover)
  uint64_t appends = 0;          // write calls to the log
  uint64_t flushes = 0;          // background/explicit flushes with records
  uint64_t syncs = 0;            // fdatasync calls on the log
  // Durability waits (kFSync calls, FSyncAll); sync_requests / syncs is the
  // group-commit batching factor.
  uint64_t sync_requests = 0;
  uint64_t shrinks = 0;  // completed Shrinks
  // Keys held as raw JSON because their value did not decode
  // (SchemaErrorPolicy::kKeepRaw); also counted in live_keys.
  uint64_t raw_keys = 0;
  LogFormat format = LogFormat::kNative;
};

template <typename T>
class TypedMap;

// What an Update callback sees and decides. The default action is Set:
// modifying `value` in place is enough. Consequently a callback that does
// nothing on an absent key creates it with T{} (go-persist's behaviour); call
// Cancel() to leave an absent key absent.
template <typename T>
class Updater {
 public:
  enum class Action : uint8_t { kSet, kDelete, kCancel };
  Updater(T current, bool existed)
      : value(std::move(current)), exists(existed) {}

  T value;  // the current value, or T{} if the key is absent
  const bool exists;

  void Set(T v) {
    value = std::move(v);
    action_ = Action::kSet;
  }
  void Delete() { action_ = Action::kDelete; }
  void Cancel() { action_ = Action::kCancel; }
  Action action() const { return action_; }

 private:
  Action action_ = Action::kSet;
};

class Store {
 public:
  explicit Store(Options options = {});
  // Closes the store if it is open (errors are lost: call Close() to see them).
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Registers a typed map named `name` (may be empty; must not contain ':' or
  // control characters). Before Open, the map receives its records during
  // replay. After Open it adopts the records of that name that were loaded
  // without an owner. The map is owned by the Store and valid until the Store
  // is destroyed. Errors: InvalidArgument for a bad name or a name already
  // registered; InvalidArgument naming the key if an adopted record does not
  // decode as T (with SchemaErrorPolicy::kKeepRaw it is kept raw instead);
  // FailedPrecondition after Close.
  template <typename T>
  Result<TypedMap<T>*> Map(std::string_view name);

  // Opens or creates the log at `path` and replays it. A torn last record
  // (crash during an append) is cut off. Errors: Corruption for a file that is
  // not a typedmap/go-persist log or whose middle is corrupt (see
  // Options::recover); InvalidArgument naming map, key and offset if a record's
  // value does not decode as its map's type (see Options::on_schema_error);
  // Busy if another handle holds the lock; IOError. After a failed Open
  // the maps are empty and Open may be called again. REQUIRES: called once,
  // with no other call running.
  Status Open(const std::string& path);
  // Stops the background threads, waits for a running Shrink, flushes kAsync
  // changes, syncs and closes the log. If a sync failed (earlier or now), it
  // also rewrites the whole log from memory as Shrink does (the changes of
  // failed calls included or not, as memory has them), so a reopen does not
  // build on pages the kernel dropped, and still returns the error. OK if not
  // open. The Store cannot be reopened.
  Status Close();
  bool is_open() const {
    return state_.load(std::memory_order_acquire) == kOpen;
  }
  const std::string& path() const { return path_; }

  // Appends every pending kAsync change, then makes the whole log durable
  // (fdatasync).
  Status FSyncAll();
  // Rewrites the log as one S record per live key (in-memory-only values
  // included) into "<path>.tmp", then renames it over the log and syncs the
  // directory. Writers
  // keep going: records appended meanwhile are copied to the new log before it
  // takes over. Busy if a Shrink is running. On error the old log stays in use
  // and the temp file is removed (a failed sync of it is sticky: see the file
  // comment). IOError after an earlier failed sync.
  Status Shrink();
  // Starts auto-shrink (see Options::auto_shrink_ratio). InvalidArgument unless
  // ratio > 1; FailedPrecondition if not open or already running.
  Status StartAutoShrink(std::chrono::milliseconds every, double ratio);

  void SetSyncInterval(std::chrono::milliseconds interval);
  std::chrono::milliseconds sync_interval() const;
  Stats GetStats() const;
  // The last error of the background flusher or auto-shrink (OK if none).
  Status background_error() const;

  // Store-level (untyped) keys: full keys without a map prefix, go-persist's
  // Store.Set/Get/Delete. The key must be non-empty, valid (ValidateKey) and
  // not belong to a registered map ("users:x" when map "users" exists; any
  // colon-less key when map "" exists).
  // kAsync acts as kImmediate here. Values are kept as JSON text and decoded on
  // each Get (NotFound if absent, InvalidArgument if the text does not decode
  // as V). Delete of an absent key is OK and appends nothing.
  template <typename V>
  Status Set(std::string_view key, const V& value,
             Durability d = Durability::kImmediate);
  template <typename V>
  Result<V> Get(std::string_view key) const;
  Status Delete(std::string_view key, Durability d = Durability::kImmediate);

 private:
  template <typename T>
  friend class TypedMap;
  enum State : int { kNew, kOpen, kClosed };

  // Writers of every map hold one of these stripes (chosen by shard) across
  // log append + memory change, so the order of records in the log equals the
  // order of states in memory; readers never take them. Flush and Shrink take
  // all of them. (A mutex per shard of every map would make a flush hold
  // hundreds of mutexes at once.)
  // A batch holds its touched stripes and its touched shards (of one map) at
  // once; 16 + 32 stays under ThreadSanitizer's 64 locks held per thread, so
  // the sanitizer builds can check batches of any size.
  static constexpr size_t kWriterStripes = 16;
  struct alignas(64) Stripe {
    std::mutex mu;
  };
  std::mutex& WriterStripe(size_t shard) {
    return stripes_[shard % kWriterStripes].mu;
  }
  void LockAllWriters();
  void UnlockAllWriters();
  // The stripes in `set`, in index order (the lock order among stripes).
  void LockStripes(const std::bitset<kWriterStripes>& set);
  void UnlockStripes(const std::bitset<kWriterStripes>& set);

  Status CheckOpen() const;
  // CheckOpen, then the sticky error of a failed sync or unrecoverable write.
  Status CheckWritable() const;
  // OK, or the sticky error (see write_error_).
  Status WriteError() const;
  // Makes `s` (a failed sync, or a write that could not be undone) sticky and
  // returns it. The Locked form REQUIRES log_mu_.
  Status MakeSticky(Status s, std::string_view what);
  Status MakeStickyLocked(Status s, std::string_view what);
  LogFormat format() const { return format_; }
  // Appends `n` complete records with one write. Serialised by log_mu_.
  Status Append(std::string_view records, uint64_t n,
                internal::LogPosition* pos);
  // Appends the `n` records in `body` framed as one batch record (native
  // format), upgrading a version-1 header first. One write.
  Status AppendBatch(std::string_view body, uint64_t n,
                     internal::LogPosition* pos);
  Status AppendLocked(std::string_view records, uint64_t n,
                      internal::LogPosition* pos);  // REQUIRES log_mu_
  Status EnableBatchesLocked();                     // REQUIRES log_mu_
  // Returns once everything up to `pos` is durable (group commit).
  Status SyncTo(internal::LogPosition pos);
  // REQUIRES sync_mu_ held by `lock` and no round running (see SyncTo).
  Status RunSyncRoundLocked(std::unique_lock<std::mutex>& lock);
  Status SyncAll();
  // Appends the pending kAsync records of every map, or only of `only`, with
  // one write.
  Status FlushDirty(const internal::MapBase* only = nullptr);
  // Replay or adoption of an S record of `map`: decodes it, or applies
  // Options::on_schema_error to a schema error. `offset` < 0: not from the log.
  Status LoadValue(internal::MapBase* map, std::string_view key,
                   std::string_view json, int64_t offset);
  // After replay: with SchemaErrorPolicy::kFail, the error of the first
  // undecodable record that is still a key's live value.
  Status FailOnSchemaErrors();

  Status RegisterMap(std::unique_ptr<internal::MapBase> map);
  // REQUIRES maps_mu_ or state_mu_.
  internal::MapBase* FindMap(std::string_view name) const;
  Status OpenLog();
  Status Replay(File* file, uint64_t start, uint64_t size);
  Status ReserveForReplay(File* file, uint64_t start, uint64_t size);
  Status ApplyRecord(const RecordView& rec, internal::MapBase** cache);
  Status CutTail(File* file, uint64_t good_end, uint64_t size, bool save);
  void ResetAfterFailedOpen();
  Status ShrinkTo(LogFormat target);
  // Rewrites the log from memory into a temp file and renames it over the
  // log (Shrink, Close after a failed sync). REQUIRES shrink_mu_.
  Status RewriteLog(LogFormat target);
  struct NewLog;
  Status WriteSnapshotTo(LogFormat target,
                         NewLog* out);  // REQUIRES maps_mu_ shared
  Status CatchUp(NewLog* out);
  Status FinishNewLogLocked(NewLog* out);  // REQUIRES log_mu_
  void AdoptNewLogLocked(const NewLog& out, LogFormat target,
                         bool dir_synced);  // REQUIRES log_mu_
  void BeginCapture();
  void EndCapture();
  // REQUIRES maps_mu_ shared.
  Status ValidateStoreKey(std::string_view key) const;
  Status SetRaw(std::string_view key, std::string_view json, Durability d);
  Status GetRaw(std::string_view key, std::string* json) const;

  void StartBackground();
  void StopBackground();
  void FlusherLoop();
  void AutoShrinkLoop(std::chrono::milliseconds every, double ratio);
  void ReportBackgroundError(const Status& s);

  const Options options_;
  Env* const env_;
  std::string path_, tmp_path_, dir_;
  std::atomic<int> state_{kNew};
  std::mutex state_mu_;  // Open, Close, map registration
  std::unique_ptr<Stripe[]> stripes_;
  std::unique_ptr<FileLock> lock_;
  // Set by Open, before state_ becomes kOpen.
  LogFormat format_ = LogFormat::kNative;
  // Undecodable records met by replay (see LoadValue).
  struct SchemaError {
    internal::MapBase* map;
    std::string key;
    Status error;
  };
  std::vector<SchemaError> schema_errors_;

  // Lock order: state_mu_ > shrink_mu_ > flush_mu_ > maps_mu_ > orphan_mu_ >
  // writer stripes (index order) > shard map mutexes > log_mu_ > sync_mu_ >
  // bg_mu_.
  mutable std::shared_mutex maps_mu_;
  std::vector<std::unique_ptr<internal::MapBase>> maps_;
  mutable std::mutex orphan_mu_;
  std::unordered_map<std::string, std::string, internal::KeyHash,
                     internal::KeyEq>
      orphans_;

  std::mutex shrink_mu_;
  std::mutex flush_mu_;

  mutable std::mutex log_mu_;
  std::shared_ptr<File> file_;
  uint64_t log_size_ = 0;
  // A failed write could not be undone, or a sync failed: every later write and
  // sync returns this until the Store is closed. write_failed_ is its lock-free
  // "not OK" flag.
  Status write_error_;
  std::atomic<bool> write_failed_{false};
  bool shrinking_ = false;  // appends are also copied to pending_
  bool batches_ = false;    // the native log's header is version 2
  std::string pending_;
  uint64_t pending_records_ = 0;
  uint64_t generation_ = 0;  // written under log_mu_ and sync_mu_ together

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_running_ = false;
  uint64_t sync_round_ = 0;
  uint64_t synced_end_ = 0;  // of generation_
  // What an older generation's waiter must wait for after Shrink.
  uint64_t gen_base_ = 0;
  bool dir_sync_needed_ = false;
  // The failed fdatasync that write_error_ also holds, for waiters under
  // sync_mu_ (see SyncTo).
  Status sync_error_;
  Status last_round_status_;
  uint64_t last_round_gen_ = 0, last_round_end_ = 0;

  mutable std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;
  bool interval_changed_ = false;
  std::chrono::milliseconds sync_interval_;
  std::thread flusher_, shrinker_;
  Status bg_error_;

  std::atomic<uint64_t> records_{0}, loaded_records_{0}, truncated_bytes_{0},
      appends_{0}, flushes_{0}, syncs_{0}, sync_requests_{0}, shrinks_{0},
      log_bytes_{0};
};

// A named map of key -> T (see the file comment). Obtained from Store::Map<T>.
template <typename T>
class TypedMap final : public internal::MapBase {
 public:
  using Codec = ValueCodec<T>;

  // Copies the value of `key` into *value. NotFound if absent (also for keys
  // that could never be stored); FailedPrecondition if the store is not open.
  // Never does I/O.
  Status Get(std::string_view key, T* value) const;
  // Calls fn(const T&) on the stored value under the shard's shared lock (no
  // copy). fn must not call into this map. NotFound if absent.
  template <typename F>
  Status View(std::string_view key, F&& fn) const;
  // Inserts or overwrites. InvalidArgument for an invalid key, a value
  // ValueCodec cannot encode (a NaN or ±Inf anywhere in it, a non-UTF-8
  // string), or, in a go-persist format log, a record with a line longer than
  // kLegacyMaxLine (go-persist could not read it): nothing changes, in memory
  // or in the log. Replaces a raw value of the key (GetRaw).
  Status Set(std::string_view key, T value,
             Durability d = Durability::kImmediate);
  // Removes the key; OK whether or not it existed (*existed tells, if given).
  // An absent key appends nothing; with kFSync the log is still synced.
  // (go-persist's DeleteFSync returns ErrKeyNotFound for an absent key, its
  // only way to report what *existed reports here at every durability level;
  // an error would make a retried, idempotent delete look like a failure.)
  // A key held raw (GetRaw) counts as absent for *existed but its record is
  // deleted.
  Status Delete(std::string_view key, Durability d = Durability::kImmediate,
                bool* existed = nullptr);
  // Atomic read-modify-write: fn(Updater<T>&) runs while the key's shard is
  // locked against other writers (readers continue); its decision is logged and
  // applied before the lock is released. Returns the value after the call
  // (nullopt if absent). fn must be short and must not call into this map. If
  // fn throws, nothing changes and the exception propagates. A value fn sets
  // that cannot be encoded (see Set) is InvalidArgument, nothing changed.
  template <typename F>
  Result<std::optional<T>> Update(std::string_view key, F&& fn,
                                  Durability d = Durability::kImmediate);
  // A group of changes to this map that Write applies as one unit. Plain data:
  // build it on any thread; keys are checked by Write.
  class Batch {
   public:
    void Set(std::string key, T value) {
      ops_.push_back(Op{std::move(key), std::move(value)});
    }
    void Delete(std::string key) {
      ops_.push_back(Op{std::move(key), std::nullopt});
    }
    size_t size() const { return ops_.size(); }
    bool empty() const { return ops_.empty(); }
    void Clear() { ops_.clear(); }

   private:
    friend class TypedMap;
    struct Op {
      std::string key;
      std::optional<T> value;  // nullopt: delete
    };
    std::vector<Op> ops_;
  };
  // Applies the changes of `batch` in order, atomically: they are appended as
  // one batch record with one write (FORMAT.md), so after a crash Open replays
  // all of them or none; no other writer's change interleaves with them; and a
  // reader that has seen one of them sees all (their shards are updated under
  // their locks together). kAsync: all are marked dirty at once and a flush
  // writes every dirty record as one batch record, so the batch stays
  // all-or-nothing (a later non-async write of one of its keys may reach the
  // log before the rest). Deletes are logged whether or not the key exists.
  // An empty batch changes nothing. Errors: InvalidArgument for an invalid key
  // or unencodable value (nothing changed); NotSupported in the go-persist
  // format, which has no batch record; the errors of Set otherwise.
  Status Write(Batch batch, Durability d = Durability::kImmediate);
  // Memory only: no record and no dirty mark. The value becomes durable only if
  // a later persisting call writes the key or a Shrink snapshots memory (Shrink
  // does include it). The value is still encoded once, to check that a later
  // Shrink can write it.
  Status SetInMemory(std::string_view key, T value);
  // Update in memory only; fn may only Set (Delete/Cancel -> InvalidArgument,
  // no change).
  template <typename F>
  Result<T> UpdateInMemory(std::string_view key, F&& fn);

  // The JSON text of a key whose value did not decode when the log was opened
  // (SchemaErrorPolicy::kKeepRaw); NotFound for any other key. The text stays
  // until a Set, Update or Delete of the key replaces it.
  Status GetRaw(std::string_view key, std::string* json) const;
  // go-persist's PersistMap.Sync: appends this map's pending kAsync changes to
  // the log now (one write), without fdatasync (FSyncAll makes them durable).
  // The sticky error after a failed sync, or the append's IOError (the changes
  // stay pending).
  Status Sync();

  // Number of typed keys (exact when no writer is running); keys held raw are
  // not counted (RawCount).
  size_t Size() const {
    return static_cast<size_t>(count_.load(std::memory_order_relaxed));
  }
  // Calls fn(std::string_view key, const T& value) -> bool for every key until
  // it returns false. Each shard is copied under its lock and visited outside
  // it, so fn may call into the map; a key changed meanwhile may be seen in
  // either state. Not a snapshot.
  template <typename F>
  Status Range(F&& fn) const;

  Store& store() const { return *store_; }

 private:
  friend class Store;
  static constexpr size_t kShardBits = 5;  // see kWriterStripes
  static constexpr size_t kShards = size_t{1} << kShardBits;
  using Table =
      std::unordered_map<std::string, T, internal::KeyHash, internal::KeyEq>;
  using DirtyTable = std::unordered_map<std::string, std::string,
                                        internal::KeyHash, internal::KeyEq>;
  struct alignas(64) Shard {
    // Writers hold the Store's writer stripe of the shard (see Store). Guards
    // `data` against readers; writers take it exclusively only to apply a
    // change.
    mutable std::shared_mutex map_mu;
    Table data;
    DirtyTable dirty;  // kAsync: key -> the record to append at the next flush
    DirtyTable raw;    // key -> JSON that did not decode (kKeepRaw)
  };

  TypedMap(Store* store, std::string name)
      : MapBase(std::move(name)), store_(store), shards_(new Shard[kShards]) {
    // Reads are dominated by cache misses along a bucket's chain: a lower load
    // factor than the default 1.0 shortens it, for 8-16 bytes per key.
    for (size_t i = 0; i < kShards; i++) shards_[i].data.max_load_factor(0.5f);
  }

  std::mutex& WriterMutex(const internal::KeyProbe& p) const {
    return store_->WriterStripe(p.hash >> (64 - kShardBits));
  }
  static size_t ShardIndex(const internal::KeyProbe& p) {
    return p.hash >> (64 - kShardBits);
  }
  Shard& ShardFor(const internal::KeyProbe& p) const {
    return shards_[ShardIndex(p)];
  }
  // Whether the log holds a live record of a key absent from `data`: a pending
  // kAsync record or a raw value. REQUIRES the key's writer stripe.
  bool InLog(const Shard& shard, const internal::KeyProbe& p) const {
    return shard.dirty.find(p) != shard.dirty.end() ||
           (raw_count_.load(std::memory_order_relaxed) != 0 &&
            shard.raw.find(p) != shard.raw.end());
  }
  // fn(value) on the key's entry in shard member `table` (data or raw) under
  // the shard's shared lock; NotFound if absent, FailedPrecondition if closed.
  template <typename Tab, typename F>
  Status Lookup(Tab Shard::*table, std::string_view key, F&& fn) const;
  // Forgets the key's raw value. REQUIRES shard.map_mu held exclusively (or
  // replay).
  void DropRaw(Shard& shard, const internal::KeyProbe& p);
  Status EncodeRecord(char op, std::string_view key, const T* value,
                      std::string* rec) const;
  // ValidateKey, then the 'S' record of a Set.
  Status EncodeSet(std::string_view key, const T& value,
                   std::string* rec) const;
  Status Persist(Shard& shard, const internal::KeyProbe& p, std::string&& rec,
                 Durability d, internal::LogPosition* pos);
  // kAsync: make `rec` the key's pending record. Otherwise, after an append:
  // forget an older pending record. REQUIRES the key's writer stripe.
  void MarkDirty(Shard& shard, const internal::KeyProbe& p, std::string&& rec);
  void DropDirty(Shard& shard, const internal::KeyProbe& p);
  void Assign(Shard& shard, const internal::KeyProbe& p, T&& value);
  void Erase(Shard& shard, const internal::KeyProbe& p);
  // As Assign/Erase, with shard.map_mu already held exclusively.
  void AssignLocked(Shard& shard, const internal::KeyProbe& p, T&& value);
  void EraseLocked(Shard& shard, const internal::KeyProbe& p);
  // Write's memory step: every change in order, with all touched shards
  // locked together.
  void ApplyBatch(Batch& batch, const std::vector<internal::KeyProbe>& probes,
                  const std::bitset<kShards>& touched);
  Status Finish(Durability d, const internal::LogPosition& pos) const;
  // Releases a set of writer stripes when the scope ends (Write).
  struct ScopedUnlock {
    Store* store;
    const std::bitset<Store::kWriterStripes>* set;
    ~ScopedUnlock() { store->UnlockStripes(*set); }
  };

  // MapBase.
  Status LoadSet(std::string_view key, std::string_view json) override;
  void LoadDelete(std::string_view key) override;
  void LoadRaw(std::string_view key, std::string_view json) override;
  uint64_t RawCount() const override {
    return raw_count_.load(std::memory_order_relaxed);
  }
  bool HasRaw(std::string_view key) const override {
    internal::KeyProbe p = internal::MakeProbe(key);
    return ShardFor(p).raw.find(p) != ShardFor(p).raw.end();
  }
  void Clear() override;
  void ReserveForLoad(size_t keys) override {
    for (size_t i = 0; i < kShards; i++)
      shards_[i].data.reserve(keys / kShards);
  }
  void TrimAfterLoad() override {
    for (size_t i = 0; i < kShards; i++) {
      Table& t = shards_[i].data;
      if (t.bucket_count() > 4 * t.size() + 64) t.rehash(0);
    }
  }
  uint64_t LiveCount() const override { return Size() + RawCount(); }
  uint64_t DirtyCount() const override {
    return dirty_count_.load(std::memory_order_relaxed);
  }
  void CollectDirty(std::string* out, uint64_t* records) const override;
  void ClearDirty() override;
  Status WriteSnapshot(LogFormat f, const internal::SnapshotSink& sink,
                       uint64_t* records) const override;

  Store* const store_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<int64_t> count_{0};
  std::atomic<uint64_t> dirty_count_{0};
  std::atomic<uint64_t> raw_count_{0};
};

// A Store holding one map named "" (keys are written as ":key"), go-persist's
// OpenSingleMap.
template <typename T>
class SingleMap {
 public:
  TypedMap<T>& map() { return *map_; }
  TypedMap<T>* operator->() { return map_; }
  Store& store() { return *store_; }

  // Options default to SingleMapOptions() (auto-shrink every minute at ratio
  // 1.8).
  static Result<std::unique_ptr<SingleMap>> Open(
      const std::string& path, Options options = SingleMapOptions()) {
    auto single = std::unique_ptr<SingleMap>(new SingleMap());
    single->store_ = std::make_unique<Store>(std::move(options));
    Store* store = single->store_.get();
    KVB_ASSIGN_OR_RETURN(single->map_, store->Map<T>(""));
    KVB_RETURN_IF_ERROR(store->Open(path));
    return single;
  }

 private:
  SingleMap() = default;
  std::unique_ptr<Store> store_;
  TypedMap<T>* map_ = nullptr;
};

template <typename T>
Result<std::unique_ptr<SingleMap<T>>> OpenSingleMap(
    const std::string& path, Options options = SingleMapOptions()) {
  return SingleMap<T>::Open(path, std::move(options));
}

}  // namespace kvb::typedmap

// The template bodies: not part of the contract.
#include "engines/typedmap/typedmap_inl.h"

#endif  // KVB_ENGINES_TYPEDMAP_TYPEDMAP_H_
