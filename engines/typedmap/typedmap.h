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
//   (every
//               sync_interval) appends the latest value of each dirty key in
//               one write, then fsyncs. A crash loses what was not flushed;
//               repeated writes to a key coalesce.
//   kImmediate  the record is handed to the OS (write(2)) before the call
//   returns: survives a
//               process crash; the flusher's periodic fdatasync bounds what a
//               power loss can take to about one sync_interval. The default.
//   kFSync      the record is durable (fdatasync) before the call returns.
//   Concurrent callers
//               share one fdatasync (group commit), which runs outside the
//               append lock.
// In every level memory changes only after the record was appended successfully
// (kAsync: after the value was encoded), so a failed call leaves memory and log
// as they were. An fsync error is returned after the change is in memory and in
// the OS's hands; the store then refuses further writes (IOError) until it is
// reopened, because the kernel may have dropped the unsynced pages.
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
#ifndef KVB_ENGINES_TYPEDMAP_STORE_H_
#define KVB_ENGINES_TYPEDMAP_STORE_H_

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
#include "engines/typedmap/log_format.h"
#include "engines/typedmap/value_codec.h"

namespace kvb::typedmap {

enum class Durability : uint8_t { kAsync, kImmediate, kFSync };

struct Options {
  // File system; null means Env::Default(). Must outlive the Store.
  Env* env = nullptr;
  // Period of the background flusher: flush of kAsync changes, then fdatasync.
  std::chrono::milliseconds sync_interval{1000};
  // Run the background flusher. When false, kAsync changes reach the log only
  // through FSyncAll(), Shrink() or Close().
  bool background_flush = true;
  // A complete record in the middle of the log that fails its checksum or parse
  // makes Open fail with Corruption. With recover = true, Open instead keeps
  // every record before it, copies the bytes from it to the end into
  // "<path>.corrupt" and truncates the log there.
  bool recover = false;
  // A go-persist ("go-persist 1") log keeps its format, so go-persist can still
  // read it, until this is true: then Open rewrites it in the native,
  // checksummed format.
  bool upgrade_legacy_format = false;
  // Auto-shrink (0 = off): every auto_shrink_interval, Shrink when records /
  // live keys
  // >= auto_shrink_ratio (which must be > 1), or when there are records but no
  // live keys.
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
  uint64_t live_keys = 0;  // keys of all maps plus store-level keys
  uint64_t records =
      0;  // records in the log (loaded + appended; Shrink resets)
  uint64_t log_bytes = 0;        // size of the log file
  uint64_t dirty_keys = 0;       // kAsync changes not yet flushed
  uint64_t loaded_records = 0;   // records replayed by Open
  uint64_t truncated_bytes = 0;  // bytes Open cut off (torn tail, or recover)
  uint64_t appends = 0;          // write calls to the log
  uint64_t flushes = 0;  // background/explicit flushes that wrote records
  uint64_t syncs = 0;    // fdatasync calls on the log
  uint64_t sync_requests =
      0;  // durability waits (kFSync calls, FSyncAll); / syncs = batching
  uint64_t shrinks = 0;  // completed Shrinks
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

namespace internal {

// Where an append ended: the log generation (bumped by each Shrink) and the end
// offset.
struct LogPosition {
  uint64_t generation = 0;
  uint64_t end = 0;
  bool valid = false;
};

// A key with its hash computed once, for heterogeneous lookup in the shard
// maps.
struct KeyProbe {
  std::string_view key;
  size_t hash;
};
inline KeyProbe MakeProbe(std::string_view key) {
  return KeyProbe{key, static_cast<size_t>(Hash64(key))};
}
struct KeyHash {
  using is_transparent = void;
  size_t operator()(const KeyProbe& p) const { return p.hash; }
  size_t operator()(std::string_view s) const {
    return static_cast<size_t>(Hash64(s));
  }
};
struct KeyEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return a == b;
  }
  bool operator()(const KeyProbe& a, std::string_view b) const {
    return a.key == b;
  }
  bool operator()(std::string_view a, const KeyProbe& b) const {
    return a == b.key;
  }
};

// Receives batches of snapshot records (Shrink); may consume *batch.
using SnapshotSink = std::function<Status(std::string* batch)>;

// The type-erased face of a TypedMap that the Store drives (replay, flush,
// shrink).
class MapBase {
 public:
  explicit MapBase(std::string name)
      : name_(std::move(name)), prefix_(name_ + ":") {}
  virtual ~MapBase() = default;
  const std::string& name() const { return name_; }
  const std::string& prefix() const { return prefix_; }

  // Replay; single-threaded, before the map is shared. LoadSet: Corruption if
  // `json` does not decode as the map's type.
  virtual Status LoadSet(std::string_view key, std::string_view json) = 0;
  virtual void LoadDelete(std::string_view key) = 0;
  virtual void Clear() = 0;
  // Replay sizing: reserve room for about `keys` keys before loading; give
  // back what a too-high guess left unused afterwards.
  virtual void ReserveForLoad(size_t keys) = 0;
  virtual void TrimAfterLoad() = 0;
  virtual uint64_t LiveCount() const = 0;
  virtual uint64_t DirtyCount() const = 0;
  // Flush: collect the dirty records; forget them. REQUIRES: the Store's
  // writer stripes are all held.
  virtual void CollectDirty(std::string* out,
                            uint64_t* records) const = 0;  // writers locked
  virtual void ClearDirty() = 0;                           // writers locked
  // Shrink: one S record per live key, in format f.
  virtual Status WriteSnapshot(LogFormat f, const SnapshotSink& sink,
                               uint64_t* records) const = 0;

 private:
  const std::string name_;
  const std::string prefix_;
};

}  // namespace internal

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
  // registered; Corruption if an adopted record does not decode as T;
  // FailedPrecondition after Close.
  template <typename T>
  Result<TypedMap<T>*> Map(std::string_view name);

  // Opens or creates the log at `path` and replays it. A torn last record
  // (crash during an append) is cut off. Errors: Corruption for a file that is
  // not a typedmap/go-persist log or whose middle is corrupt (see
  // Options::recover); InvalidArgument if a record does not decode as its map's
  // type; Busy if another handle holds the lock; IOError. After a failed Open
  // the maps are empty and Open may be called again. REQUIRES: called once,
  // with no other call running.
  Status Open(const std::string& path);
  // Stops the background threads, waits for a running Shrink, flushes kAsync
  // changes, syncs and closes the log. OK if not open. The Store cannot be
  // reopened.
  Status Close();
  bool is_open() const {
    return state_.load(std::memory_order_acquire) == kOpen;
  }
  const std::string& path() const { return path_; }

  // Appends every pending kAsync change, then makes the whole log durable
  // (fdatasync).
  Status FSyncAll();
  // Rewrites the log as one S record per live key (in-memory-only values
  // included) into
  // "<path>.tmp", then renames it over the log and syncs the directory. Writers
  // keep going: records appended meanwhile are copied to the new log before it
  // takes over. Busy if a Shrink is running. On error the old log stays in use
  // and the temp file is removed.
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
  // Store.Set/Get/ Delete. The key must be non-empty, valid (ValidateKey) and
  // not belong to a registered map
  // ("users:x" when map "users" exists; any colon-less key when map "" exists).
  // kAsync acts as kImmediate here. Values are kept as JSON text and decoded on
  // each Get (NotFound if absent, Corruption if the text does not decode as V).
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
  Status SyncAll();
  Status FlushDirty();

  Status RegisterMap(std::unique_ptr<internal::MapBase> map);
  internal::MapBase* FindMap(
      std::string_view name) const;  // REQUIRES maps_mu_ or state_mu_
  Status OpenLog();
  Status Replay(File* file, uint64_t start, uint64_t size);
  Status ReserveForReplay(File* file, uint64_t start, uint64_t size);
  Status ApplyRecord(const RecordView& rec, internal::MapBase** cache);
  Status CutTail(File* file, uint64_t good_end, uint64_t size, bool save);
  void ResetAfterFailedOpen();
  Status ShrinkTo(LogFormat target);
  void BeginCapture();
  void EndCapture();
  Status ValidateStoreKey(
      std::string_view key) const;  // REQUIRES maps_mu_ shared
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
  LogFormat format_ =
      LogFormat::kNative;  // set by Open, before state_ becomes kOpen

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
  bool broken_ =
      false;  // a failed write could not be undone, or an fdatasync failed
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
  uint64_t gen_base_ =
      0;  // what an older generation's waiter must wait for after Shrink
  bool dir_sync_needed_ = false;
  // A failed fdatasync of the current log: every later wait fails too (see
  // SyncTo).
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
  // Inserts or overwrites. InvalidArgument for an invalid key or an unencodable
  // value.
  Status Set(std::string_view key, T value,
             Durability d = Durability::kImmediate);
  // Removes the key; OK whether or not it existed (*existed tells, if given).
  // An absent key appends nothing; with kFSync the log is still synced.
  Status Delete(std::string_view key, Durability d = Durability::kImmediate,
                bool* existed = nullptr);
  // Atomic read-modify-write: fn(Updater<T>&) runs while the key's shard is
  // locked against other writers (readers continue); its decision is logged and
  // applied before the lock is released. Returns the value after the call
  // (nullopt if absent). fn must be short and must not call into this map. If
  // fn throws, nothing changes and the exception propagates.
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

  // Number of keys (exact when no writer is running).
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
  Status EncodeRecord(char op, std::string_view key, const T* value,
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
  uint64_t LiveCount() const override { return Size(); }
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
};

// A Store holding one map named "" (keys are written as ":key"), go-persist's
// OpenSingleMap.
template <typename T>
class SingleMap {
 public:
  TypedMap<T>& map() { return *map_; }
  TypedMap<T>* operator->() { return map_; }
  Store& store() { return *store_; }

  // Options default to SingleMapOptions() (auto-shrink every minute at
  // ratio 1.8).
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

// ---------------------------------------------------------------------------------------------
// Template implementation.

template <typename T>
Result<TypedMap<T>*> Store::Map(std::string_view name) {
  KVB_RETURN_IF_ERROR(ValidateMapName(name));
  auto* map = new TypedMap<T>(this, std::string(name));
  KVB_RETURN_IF_ERROR(RegisterMap(std::unique_ptr<internal::MapBase>(map)));
  return map;
}

template <typename V>
Status Store::Set(std::string_view key, const V& value, Durability d) {
  std::string json;
  KVB_RETURN_IF_ERROR(ValueCodec<V>::Encode(value, &json));
  return SetRaw(key, json, d);
}

template <typename V>
Result<V> Store::Get(std::string_view key) const {
  std::string json;
  KVB_RETURN_IF_ERROR(GetRaw(key, &json));
  V value{};
  KVB_RETURN_IF_ERROR(ValueCodec<V>::Decode(json, &value));
  return value;
}

template <typename T>
Status TypedMap<T>::Get(std::string_view key, T* value) const {
  return View(key, [value](const T& v) { *value = v; });
}

template <typename T>
template <typename F>
Status TypedMap<T>::View(std::string_view key, F&& fn) const {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  internal::KeyProbe p = internal::MakeProbe(key);
  const Shard& shard = ShardFor(p);
  std::shared_lock lock(shard.map_mu);
  auto it = shard.data.find(p);
  if (it == shard.data.end()) return Status::NotFound();
  std::forward<F>(fn)(it->second);
  return Status::OK();
}

template <typename T>
Status TypedMap<T>::EncodeRecord(char op, std::string_view key, const T* value,
                                 std::string* rec) const {
  LogFormat f = store_->format();
  size_t start = BeginRecord(f, op, prefix(), key, rec);
  if (value != nullptr) KVB_RETURN_IF_ERROR(Codec::Encode(*value, rec));
  FinishRecord(f, start, rec);
  return Status::OK();
}

template <typename T>
Status TypedMap<T>::Persist(Shard& shard, const internal::KeyProbe& p,
                            std::string&& rec, Durability d,
                            internal::LogPosition* pos) {
  if (d == Durability::kAsync) {
    MarkDirty(shard, p, std::move(rec));
    return Status::OK();
  }
  KVB_RETURN_IF_ERROR(store_->Append(rec, 1, pos));
  DropDirty(shard, p);
  return Status::OK();
}

template <typename T>
void TypedMap<T>::MarkDirty(Shard& shard, const internal::KeyProbe& p,
                            std::string&& rec) {
  // Coalescing: the dirty entry always holds the newest record of the key.
  auto it = shard.dirty.find(p);
  if (it != shard.dirty.end()) {
    it->second = std::move(rec);
  } else {
    shard.dirty.emplace(std::string(p.key), std::move(rec));
    dirty_count_.fetch_add(1, std::memory_order_relaxed);
  }
}

template <typename T>
void TypedMap<T>::DropDirty(Shard& shard, const internal::KeyProbe& p) {
  // The log now holds the newest state; an older pending async record must not
  // follow it.
  auto it = shard.dirty.find(p);
  if (it == shard.dirty.end()) return;
  shard.dirty.erase(it);
  dirty_count_.fetch_sub(1, std::memory_order_relaxed);
}

template <typename T>
void TypedMap<T>::Assign(Shard& shard, const internal::KeyProbe& p, T&& value) {
  std::unique_lock lock(shard.map_mu);
  AssignLocked(shard, p, std::move(value));
}

template <typename T>
void TypedMap<T>::AssignLocked(Shard& shard, const internal::KeyProbe& p,
                               T&& value) {
  auto it = shard.data.find(p);
  if (it != shard.data.end()) {
    it->second = std::move(value);
  } else {
    shard.data.emplace(std::string(p.key), std::move(value));
    count_.fetch_add(1, std::memory_order_relaxed);
  }
}

template <typename T>
void TypedMap<T>::Erase(Shard& shard, const internal::KeyProbe& p) {
  std::unique_lock lock(shard.map_mu);
  EraseLocked(shard, p);
}

template <typename T>
void TypedMap<T>::EraseLocked(Shard& shard, const internal::KeyProbe& p) {
  auto it = shard.data.find(p);
  if (it == shard.data.end()) return;
  shard.data.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
}

template <typename T>
Status TypedMap<T>::Finish(Durability d,
                           const internal::LogPosition& pos) const {
  if (d != Durability::kFSync) return Status::OK();
  return pos.valid ? store_->SyncTo(pos) : store_->SyncAll();
}

template <typename T>
Status TypedMap<T>::Set(std::string_view key, T value, Durability d) {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  std::string rec;
  KVB_RETURN_IF_ERROR(EncodeRecord('S', key, &value, &rec));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  internal::LogPosition pos;
  {
    std::lock_guard writer(WriterMutex(p));
    KVB_RETURN_IF_ERROR(Persist(shard, p, std::move(rec), d, &pos));
    Assign(shard, p, std::move(value));
  }
  return Finish(d, pos);
}

template <typename T>
Status TypedMap<T>::Delete(std::string_view key, Durability d, bool* existed) {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  internal::LogPosition pos;
  {
    std::lock_guard writer(WriterMutex(p));
    // Only writers (holding the writer stripe) change `data`, so reading it
    // here needs no map_mu.
    bool exists = shard.data.find(p) != shard.data.end();
    if (existed != nullptr) *existed = exists;
    // A key that is neither in memory nor pending has no live record in the
    // log.
    if (exists || shard.dirty.find(p) != shard.dirty.end()) {
      std::string rec;
      KVB_RETURN_IF_ERROR(EncodeRecord('D', key, nullptr, &rec));
      KVB_RETURN_IF_ERROR(Persist(shard, p, std::move(rec), d, &pos));
    }
    if (exists) Erase(shard, p);
  }
  return Finish(d, pos);
}

template <typename T>
template <typename F>
Result<std::optional<T>> TypedMap<T>::Update(std::string_view key, F&& fn,
                                             Durability d) {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  internal::LogPosition pos;
  std::optional<T> result;
  {
    // A scope guard: an exception from fn releases the lock with nothing
    // changed.
    std::lock_guard writer(WriterMutex(p));
    auto it = shard.data.find(p);
    bool exists = it != shard.data.end();
    Updater<T> up(exists ? it->second : T{}, exists);
    std::forward<F>(fn)(up);
    switch (up.action()) {
      case Updater<T>::Action::kCancel:
        if (exists) result = it->second;
        return result;
      case Updater<T>::Action::kSet: {
        std::string rec;
        KVB_RETURN_IF_ERROR(EncodeRecord('S', key, &up.value, &rec));
        KVB_RETURN_IF_ERROR(Persist(shard, p, std::move(rec), d, &pos));
        result = up.value;
        Assign(shard, p, std::move(up.value));
        break;
      }
      case Updater<T>::Action::kDelete:
        if (exists || shard.dirty.find(p) != shard.dirty.end()) {
          std::string rec;
          KVB_RETURN_IF_ERROR(EncodeRecord('D', key, nullptr, &rec));
          KVB_RETURN_IF_ERROR(Persist(shard, p, std::move(rec), d, &pos));
        }
        if (exists) Erase(shard, p);
        break;
    }
  }
  KVB_RETURN_IF_ERROR(Finish(d, pos));
  return result;
}

template <typename T>
Status TypedMap<T>::Write(Batch batch, Durability d) {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  if (batch.ops_.empty()) return Finish(d, internal::LogPosition{});
  if (store_->format() != LogFormat::kNative) {
    return Status::NotSupported(
        "atomic batches need the native log format (go-persist logs have no "
        "batch record; see Options::upgrade_legacy_format)");
  }
  // Everything that can fail without I/O happens before any lock is taken.
  const size_t n = batch.ops_.size();
  std::string body;
  std::vector<size_t> ends(n);
  std::vector<internal::KeyProbe> probes(n);
  std::bitset<kShards> touched;
  for (size_t i = 0; i < n; i++) {
    const auto& op = batch.ops_[i];
    KVB_RETURN_IF_ERROR(ValidateKey(op.key));
    KVB_RETURN_IF_ERROR(EncodeRecord(op.value ? 'S' : 'D', op.key,
                                     op.value ? &*op.value : nullptr, &body));
    ends[i] = body.size();
    probes[i] = internal::MakeProbe(op.key);
    touched.set(ShardIndex(probes[i]));
  }
  std::bitset<Store::kWriterStripes> stripes;
  for (size_t i = 0; i < kShards; i++) {
    if (touched[i]) stripes.set(i % Store::kWriterStripes);
  }
  internal::LogPosition pos;
  {
    store_->LockStripes(stripes);
    ScopedUnlock unlock{store_, &stripes};
    if (d == Durability::kAsync) {
      for (size_t i = 0; i < n; i++) {
        size_t begin = i == 0 ? 0 : ends[i - 1];
        MarkDirty(ShardFor(probes[i]), probes[i],
                  body.substr(begin, ends[i] - begin));
      }
    } else {
      KVB_RETURN_IF_ERROR(store_->AppendBatch(body, n, &pos));
      for (size_t i = 0; i < n; i++) DropDirty(ShardFor(probes[i]), probes[i]);
    }
    ApplyBatch(batch, probes, touched);
  }
  return Finish(d, pos);
}

template <typename T>
void TypedMap<T>::ApplyBatch(Batch& batch,
                             const std::vector<internal::KeyProbe>& probes,
                             const std::bitset<kShards>& touched) {
  // Shard locks in index order: readers take one at a time, so no deadlock.
  for (size_t i = 0; i < kShards; i++) {
    if (touched[i]) shards_[i].map_mu.lock();
  }
  for (size_t i = 0; i < probes.size(); i++) {
    auto& op = batch.ops_[i];
    Shard& shard = ShardFor(probes[i]);
    if (op.value) {
      AssignLocked(shard, probes[i], std::move(*op.value));
    } else {
      EraseLocked(shard, probes[i]);
    }
  }
  for (size_t i = kShards; i-- > 0;) {
    if (touched[i]) shards_[i].map_mu.unlock();
  }
}

template <typename T>
Status TypedMap<T>::SetInMemory(std::string_view key, T value) {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  std::string probe_json;
  KVB_RETURN_IF_ERROR(Codec::Encode(value, &probe_json));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  std::lock_guard writer(WriterMutex(p));
  Assign(shard, p, std::move(value));
  return Status::OK();
}

template <typename T>
template <typename F>
Result<T> TypedMap<T>::UpdateInMemory(std::string_view key, F&& fn) {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  KVB_RETURN_IF_ERROR(ValidateKey(key));
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  std::lock_guard writer(WriterMutex(p));
  auto it = shard.data.find(p);
  bool exists = it != shard.data.end();
  Updater<T> up(exists ? it->second : T{}, exists);
  std::forward<F>(fn)(up);
  if (up.action() != Updater<T>::Action::kSet) {
    return Status::InvalidArgument("UpdateInMemory allows only the Set action");
  }
  std::string probe_json;
  KVB_RETURN_IF_ERROR(Codec::Encode(up.value, &probe_json));
  T result = up.value;
  Assign(shard, p, std::move(up.value));
  return result;
}

template <typename T>
template <typename F>
Status TypedMap<T>::Range(F&& fn) const {
  KVB_RETURN_IF_ERROR(store_->CheckOpen());
  std::vector<std::pair<std::string, T>> batch;
  for (size_t i = 0; i < kShards; i++) {
    {
      std::shared_lock lock(shards_[i].map_mu);
      batch.assign(shards_[i].data.begin(), shards_[i].data.end());
    }
    for (const auto& [k, v] : batch) {
      if (!fn(std::string_view(k), v)) return Status::OK();
    }
  }
  return Status::OK();
}

template <typename T>
Status TypedMap<T>::LoadSet(std::string_view key, std::string_view json) {
  // One hash-table walk per record (a find first would walk the bucket twice),
  // and a new key's value is decoded in place, so key, node and value are
  // allocated next to each other: later lookups touch fewer cache lines.
  Table& data = ShardFor(internal::MakeProbe(key)).data;
  auto [it, inserted] = data.try_emplace(std::string(key));
  if (inserted) {
    Status s = Codec::Decode(json, &it->second);
    if (!s.ok()) {
      data.erase(it);
      return s;
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    return Status::OK();
  }
  // An existing value must survive a failed decode (recovery keeps it).
  T value{};
  KVB_RETURN_IF_ERROR(Codec::Decode(json, &value));
  it->second = std::move(value);
  return Status::OK();
}

template <typename T>
void TypedMap<T>::LoadDelete(std::string_view key) {
  internal::KeyProbe p = internal::MakeProbe(key);
  Shard& shard = ShardFor(p);
  auto it = shard.data.find(p);
  if (it == shard.data.end()) return;
  shard.data.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
}

template <typename T>
void TypedMap<T>::Clear() {
  for (size_t i = 0; i < kShards; i++) {
    std::lock_guard writer(store_->WriterStripe(i));
    std::unique_lock lock(shards_[i].map_mu);
    shards_[i].data.clear();
    shards_[i].dirty.clear();
  }
  count_ = 0;
  dirty_count_ = 0;
}

template <typename T>
void TypedMap<T>::CollectDirty(std::string* out, uint64_t* records) const {
  for (size_t i = 0; i < kShards; i++) {
    for (const auto& [key, rec] : shards_[i].dirty) {
      out->append(rec);
      ++*records;
    }
  }
}

template <typename T>
void TypedMap<T>::ClearDirty() {
  for (size_t i = 0; i < kShards; i++) shards_[i].dirty.clear();
  dirty_count_ = 0;
}

template <typename T>
Status TypedMap<T>::WriteSnapshot(LogFormat f,
                                  const internal::SnapshotSink& sink,
                                  uint64_t* records) const {
  constexpr size_t kBatch = 1 << 20;
  std::string buf;
  for (size_t i = 0; i < kShards; i++) {
    {
      // Encoding under the shared lock blocks only this shard's writers, and
      // only briefly.
      std::shared_lock lock(shards_[i].map_mu);
      for (const auto& [key, value] : shards_[i].data) {
        size_t start = BeginRecord(f, 'S', prefix(), key, &buf);
        KVB_RETURN_IF_ERROR(Codec::Encode(value, &buf));
        FinishRecord(f, start, &buf);
        ++*records;
      }
    }
    if (buf.size() >= kBatch) {
      KVB_RETURN_IF_ERROR(sink(&buf));
      buf.clear();
    }
  }
  if (!buf.empty()) KVB_RETURN_IF_ERROR(sink(&buf));
  return Status::OK();
}

}  // namespace kvb::typedmap

#endif  // KVB_ENGINES_TYPEDMAP_STORE_H_
