// DB::Impl — the linhash engine proper. Internal to engines/linhash.
//
// Locks, in the order they may be taken:
//   compact_mu_  one compaction or backup at a time (try-lock: Busy);
//   ckpt_mu_     one checkpoint at a time;
//   writer_mu_   serialises every change: log appends, index changes, rotation,
//   accounting; index_mu_    shared by readers for a lookup and the copy of the
//   record; exclusive only
//                while slots change, a buffer is recycled, a mapping or a
//                segment is published or retired — never across an fsync or a
//                pwrite;
//   sync_mu_     group commit state.
// Readers take only index_mu_ (shared).
#ifndef KVB_ENGINES_LINHASH_DB_IMPL_H_
#define KVB_ENGINES_LINHASH_DB_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>  // std::shared_lock
#include <string>
#include <thread>
#include <vector>

#include "engines/linhash/format.h"
#include "engines/linhash/index.h"
#include "engines/linhash/linhash.h"
#include "engines/linhash/segment.h"

namespace kvb::linhash {

// A counter incremented from many threads without sharing a cache line between
// them.
class ShardedCounter {
 public:
  void Add(uint64_t n = 1);
  uint64_t Sum() const;

 private:
  struct alignas(128) Cell {
    std::atomic<uint64_t> v{0};
  };
  Cell cells_[16];
};

// Everything a checkpoint file holds, captured under the writer lock.
// A record of a compaction source, read before the writer lock is taken.
struct PendingRecord {
  uint64_t offset;
  uint64_t hash;
  RecordType type;
  std::string bytes;  // the whole record, copied verbatim
  std::string key;
};

struct CheckpointImage {
  IndexHeader header;
  std::vector<SegmentEntry> segments;
  std::vector<uint32_t> free_list;
  std::vector<uint32_t> chunk_crcs;  // set by SealImage / ParseCheckpoint
  std::string buckets;               // primary then overflow buckets
};

class DB::Impl {
 public:
  Impl(std::string dir, const Options& options);
  ~Impl();

  Status Open();
  Status Close();
  Status Put(std::string_view key, std::string_view value, bool if_absent,
             bool* inserted);
  Status Get(std::string_view key, std::string* out, bool append);
  Status Has(std::string_view key, bool* found);
  Status MultiGet(std::span<const std::string_view> keys, std::string* values,
                  Status* statuses);
  Status Delete(std::string_view key);
  Status Write(const WriteBatch::Op* ops, size_t n);
  struct EncodedBatch;
  static Status CheckSizes(std::string_view key, std::string_view value);
  static Status CheckBatchSizes(const WriteBatch::Op* ops, size_t n);
  EncodedBatch EncodeBatch(const WriteBatch::Op* ops, size_t n) const;
  Status IndexBatchLocked(const EncodedBatch& batch, const WriteBatch::Op* ops,
                          uint64_t off);  // REQUIRES writer_mu_
  std::unique_ptr<Iterator> NewIterator();
  uint64_t Count() const;
  Result<uint64_t> FileSize() const;
  Result<CompactionResult> Compact();
  Status Sync();
  Status Checkpoint();
  Status Backup(const std::string& dir);
  Metrics GetMetrics() const;
  Stats GetStats() const;
  // Inspect support: verifies every record CRC of every segment and every index
  // slot.
  Status VerifyAll(std::ostream& out, bool dump_keys);
  // Checks every index slot against its record (writer lock held); returns
  // the bad ones, counts all into *slots, prints keys when dump_keys.
  uint64_t VerifySlots(std::ostream& out, bool dump_keys, uint64_t* slots);
  const std::vector<std::string>& recovery_notes() const {
    return recovery_notes_;
  }

  // Open found that a chunk of the checkpoint it adopted fails its check (the
  // tail replay touched it): DB::Open then retries with IgnoreCheckpoint().
  bool checkpoint_damaged() const { return checkpoint_damaged_; }
  void IgnoreCheckpoint() { ignore_checkpoint_ = true; }
  // Passes what Open's recovery did to Options::logger.
  void LogOpen() const;

  // For the iterator.
  RwLock& index_mu() { return index_mu_; }
  bool verify_checksums() const { return options_.verify_checksums; }

 private:
  friend class SnapshotIterator;
  struct Found {
    SlotRef ref;
    uint32_t old_size = 0;
    Segment* old_segment = nullptr;
    bool found() const { return ref.bucket != nullptr; }
  };

  uint64_t HashKey(std::string_view key) const;
  std::string Path(const std::string& name) const;
  Status ValidateOptions() const;
  Status CheckWritable() const;
  Status CheckOpen() const;
  // Returns s, or the index's failure if a lazily loaded chunk failed its
  // check (then, once, removes the checkpoint file: see FORMAT.md).
  Status CheckIndex(Status s);
  Status CheckAfterApply();

  // ---- Open / recovery (recovery.cc) ----
  struct DiskSegment {
    SegmentName name;
    std::unique_ptr<File> file;
    uint64_t size;
  };
  // Creates the directory if missing and allowed (durably), or refuses it.
  Status PrepareDirectory();
  Status ScanDirectory(std::vector<DiskSegment>* segs, bool* has_index);
  Status OpenSegmentFiles(std::vector<DiskSegment>* segs);
  Status LoadCheckpointFile(CheckpointImage* img,
                            std::vector<DiskSegment>* segs, bool* usable);
  // img: the usable checkpoint, or null (replay everything).
  Status RecoverTail(const CheckpointImage* img, bool rebuild,
                     bool had_segments);
  Status FinishWritableOpen(bool* write_checkpoint);  // not read-only
  Status Replay(uint64_t from_seq, uint64_t from_offset);
  Status ReplaySegment(Segment* seg, uint64_t from, bool newest);
  Status ApplyRecord(Segment* seg, uint64_t offset, const RecordView& rec);
  // Sets *damage_at (the first bad record of the body) when the batch is not
  // intact; the batch is then cut at `offset`.
  Status ApplyBatch(Segment* seg, uint64_t offset, const RecordView& rec,
                    LogReader* reader, uint64_t* damage_at);
  // Replay met damage at `damage`; the segment is cut at `cut` <= damage. A
  // torn tail of the newest segment is cut; anything else is Corruption unless
  // repair, which saves the cut bytes aside first.
  Status HandleDamage(Segment* seg, uint64_t cut, uint64_t damage, bool newest);
  Status SaveAside(Segment* seg, uint64_t cut);
  Status AdoptSegments(std::vector<DiskSegment>* disk,
                       const CheckpointImage* img);
  Status DropGarbageSources(std::vector<DiskSegment>* disk,
                            const CheckpointImage* img);
  Status DropRenumberedOriginals(std::vector<DiskSegment>* segs);
  Status CheckUniqueIds(std::vector<DiskSegment>* disk);
  Status RenumberSegment(DiskSegment* d, uint32_t new_id);

  // ---- Write path (db_impl.cc) ----
  template <typename Fn>
  Status Lookup(uint64_t h, std::string_view key, bool key_only, Fn&& found);
  // Finds the slot of `key` (reading keys only); f->found() false if absent.
  Status FindKey(uint64_t h, std::string_view key, Found* f);
  // One MultiGet group (n <= kMultiGetGroup keys) under one shared lock.
  void MultiGetGroup(const std::string_view* keys, size_t n,
                     std::string* values, Status* statuses);
  void ApplyPut(uint64_t h, const Found& f, uint64_t loc, Segment* dst,
                uint32_t size);
  void ApplyDelete(const Found& f, Segment* dst, uint32_t size);
  // As above with index_mu_ already held exclusively.
  void ApplyPutLocked(uint64_t h, const Found& f, uint64_t loc, Segment* dst,
                      uint32_t size);
  void ApplyDeleteLocked(const Found& f, Segment* dst, uint32_t size);
  Status PrepareAppend(uint64_t bytes);
  Status AppendLocked(std::string_view records, uint64_t* offset);
  Status Rotate();
  Status NewSegment();
  Segment* active() const {
    return segments_.empty() ? nullptr : segments_.rbegin()->second.get();
  }
  uint64_t CurrentLsn() const;
  Status WaitDurable(uint64_t lsn);
  Status SyncLog(uint64_t* covered);
  Status SetBackgroundError(Status s);
  // Close after a sticky error: rewrites what a failed sync dropped in every
  // segment whose sync failed (Segment::RewriteUnsynced) and returns the
  // sticky error (or the rewrite's). REQUIRES: background work stopped.
  Status RepairUnsyncedTails();

  // ---- Checkpoints (checkpoint.cc) ----
  // Fails if the index is unhealthy (a lazily loaded chunk failed its check).
  Status CaptureLocked(CheckpointImage* img);
  static void SealImage(CheckpointImage* img);
  Status WriteCheckpointFile(const std::string& dir,
                             const CheckpointImage& img);
  // Reads and checks the header and tables of a checkpoint file (not the
  // buckets).
  Status ParseCheckpoint(const File& file, uint64_t file_size,
                         CheckpointImage* img, uint64_t* buckets_offset);

  // ---- Compaction (compaction.cc) ----
  Status CopyLiveRecords(Segment* src, CompactionResult* result);
  // Copies one record of `src` to the active segment and repoints its slot,
  // if the index still points at it; else counts it reclaimed. Writer lock held.
  Status MoveIfLiveLocked(const Segment& src, const PendingRecord& p,
                          CompactionResult* result);
  void RetireSources(const std::vector<std::shared_ptr<Segment>>& victims);
  Status RemoveRetired(CompactionResult* result);

  // ---- Background thread, events ----
  void Log(Options::LogLevel level, const std::string& line) const;
  // Reports a failed background call (logger + Metrics::background_errors);
  // a sticky write error only the first time. Background thread only.
  void BackgroundResult(const char* what, const Status& s);
  void StartBackground();
  void StopBackground();
  void BackgroundLoop();

  const std::string dir_;
  Options options_;
  Env* env_ = nullptr;
  std::unique_ptr<FileLock> lock_;
  // Files Open found to be garbage (a newest segment whose creation was cut
  // short, sources of a compaction that crashed after its checkpoint); removed
  // once the rest checked out.
  std::vector<std::string> garbage_files_;
  // What recovery cut or repaired, one line each (Inspect prints them).
  std::vector<std::string> recovery_notes_;
  uint64_t hash_seed_ = 0;
  std::atomic<bool> open_{false};
  bool ignore_checkpoint_ = false;
  bool checkpoint_damaged_ = false;
  std::atomic<bool> index_failure_noted_{false};

  std::mutex compact_mu_;
  std::mutex ckpt_mu_;
  std::mutex writer_mu_;
  mutable RwLock index_mu_;

  // Guarded by writer_mu_ (seg_table_ and index_ changes also by index_mu_
  // exclusive).
  LinearIndex index_;
  std::map<uint64_t, std::shared_ptr<Segment>> segments_;  // by sequence number
  std::vector<Segment*> seg_table_;                        // by segment id
  // Ids of retired compaction sources whose files may still exist: never
  // given to a new segment.
  std::vector<bool> id_reserved_;
  // Guarded by compact_mu_: retired sources not yet removed, and removed ones
  // whose removal is not yet synced.
  struct Retired {
    uint32_t id;
    std::string path;
  };
  std::vector<Retired> retired_;
  std::vector<uint32_t> freed_;
  Status bg_error_;
  uint64_t checkpoint_number_ = 0;
  std::string encode_buf_;
  std::atomic<uint64_t> key_count_{0};

  // Group commit.
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool syncing_ = false;
  uint64_t durable_lsn_ = 0;
  std::atomic<uint64_t> last_ckpt_lsn_{0};

  // Background work.
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool bg_stop_ = false;
  std::thread bg_thread_;
  bool sticky_reported_ = false;  // background thread only

  // Metrics.
  ShardedCounter puts_, gets_, deletes_, deletes_absent_, collisions_;
  std::atomic<uint64_t> compactions_{0}, recoveries_{0}, replayed_{0},
      rebuilds_{0}, checkpoints_{0}, syncs_{0}, torn_tail_bytes_{0},
      repair_cut_bytes_{0}, repair_lost_records_{0}, background_errors_{0};
};

}  // namespace kvb::linhash

#endif  // KVB_ENGINES_LINHASH_DB_IMPL_H_
