// Segment — one log file of linhash: an append buffer in front of the file,
// bounded read-only mappings of its flushed part, and the dead-space accounting
// compaction uses. LogReader — a sequential, checksum-verifying scan of a
// segment (recovery, compaction, inspect).
//
// Locking (owned by the DB): `writer` = the DB writer mutex; `readers` = the DB
// index lock.
//   Append/Flush/Seal/Sync and the counters: writer mutex held.
//   ReadRecord: the index lock held shared (or the writer mutex held). The
//   views it returns point into a mapping, the append buffer or the caller's
//   scratch, and stay valid only while that lock is held: callers copy what
//   they keep. Flush publishes new bytes and recycles the buffer under the
//   index lock held exclusively, taken inside Flush for a few instructions
//   (never across the pwrite).
#ifndef KVB_ENGINES_LINHASH_SEGMENT_H_
#define KVB_ENGINES_LINHASH_SEGMENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>  // std::shared_lock
#include <string>
#include <vector>

#include "core/env.h"
#include "engines/linhash/format.h"
#include "engines/linhash/rwlock.h"

namespace kvb::linhash {

class Segment {
 public:
  // `file` holds a valid header and `size` bytes. `readers` is the DB index
  // lock.
  Segment(uint32_t id, uint64_t seq, std::string path,
          std::unique_ptr<File> file, uint64_t size, bool use_mmap,
          size_t buffer_size, RwLock* readers);
  ~Segment();

  uint32_t id() const { return id_; }
  uint64_t seq() const { return seq_; }
  const std::string& path() const { return path_; }
  File* file() const { return file_.get(); }

  // Reads the record at `offset`. Corruption if the offset is out of range or
  // the bytes are not a valid record.
  Status ReadRecord(uint64_t offset, bool verify, std::string* scratch,
                    RecordView* rec) const;
  // Reads only the header and key of the record at `offset` (no value, no
  // checksum: ParseRecordKey); rec->size is still the whole record's size.
  // Locking and errors as ReadRecord.
  Status ReadKey(uint64_t offset, std::string* scratch, RecordView* rec) const;
  // Starts loading the first lines of the record at `offset` into the cache
  // when it is in a mapping (a hint: no read, no error). Locking as
  // ReadRecord.
  void Prefetch(uint64_t offset) const;

  // ---- Writer side ----
  uint64_t end() const {
    return appended_end_;
  }  // logical size (file + buffer)
  uint64_t flushed_end() const { return flushed_end_; }
  bool sealed() const { return sealed_; }
  // Appends encoded records (buffered; written through when larger than the
  // buffer).
  Status Append(std::string_view records);
  // Writes the buffer to the file (no sync).
  Status Flush();
  // Flush + fdatasync.
  Status Sync();
  // fdatasync of the file. `covered` is flushed_end() read (writer mutex held)
  // before the call: on success the bytes below it are durable. On failure the
  // kernel may have dropped the dirty pages (Linux marks them clean after a
  // writeback error), so [synced_end(), end) stays in doubt for good: the
  // segment remembers it (sync_failed()). May run without the writer mutex.
  Status DataSync(uint64_t covered);
  // The end of the bytes known durable (the size at construction, raised by
  // every successful sync).
  uint64_t synced_end() const {
    return synced_end_.load(std::memory_order_acquire);
  }
  bool sync_failed() const {
    return sync_failed_.load(std::memory_order_acquire);
  }
  // After a failed sync, at Close: writes [synced_end(), end) again from what
  // the file reads back (the page cache still shows the dropped bytes) and
  // fdatasyncs it. A later sync alone would not make those bytes durable, so
  // a reopen before any reboot would read records the disk lost and append
  // after them, leaving a damaged range in the middle of the log. Bytes the
  // cache no longer holds read back as the disk has them: a torn tail that the
  // next Open cuts. REQUIRES: writer mutex.
  Status RewriteUnsynced();
  // Flush + fdatasync + mark sealed (no more appends) + map the tail.
  Status Seal();
  // Discards bytes after `size` (recovery of a torn tail). REQUIRES: nothing
  // buffered.
  Status TruncateTo(uint64_t size);
  // Read-only recovery: treats the segment as ending at `size` without touching
  // the file.
  Status ForgetTail(uint64_t size);
  void MarkSealed() { sealed_ = true; }

  // Accounting (writer mutex).
  uint64_t put_records = 0;
  uint64_t delete_records = 0;
  uint64_t dead_keys = 0;
  uint64_t dead_bytes = 0;

 private:
  struct Region {
    uint64_t start;
    uint64_t end;
    std::unique_ptr<MappedRegion> map;
  };
  enum class Part : uint8_t { kWhole, kVerified, kKey };
  Status Read(uint64_t offset, Part part, std::string* scratch,
              RecordView* rec) const;
  Status WriteThrough(std::string_view data);
  // Maps flushed bytes not yet mapped when enough of them accumulated (or
  // `force`).
  std::unique_ptr<MappedRegion> MaybeMap(uint64_t flushed, bool force,
                                         uint64_t* start, uint64_t* end);
  void Publish(uint64_t new_flushed, std::unique_ptr<MappedRegion> map,
               uint64_t map_start, uint64_t map_end);
  const Region* FindRegion(uint64_t offset) const;

  const uint32_t id_;
  const uint64_t seq_;
  const std::string path_;
  std::unique_ptr<File> file_;
  RwLock* const readers_;
  bool use_mmap_;
  bool sealed_ = false;
  uint64_t appended_end_;
  std::atomic<uint64_t> synced_end_;
  std::atomic<bool> sync_failed_{false};
  // Guarded by readers_ (exclusive to write, shared to read) — or the writer
  // mutex to read.
  uint64_t flushed_end_;
  uint64_t mapped_end_ = 0;
  std::vector<Region> regions_;
  // The buffer holds the bytes [flushed_end_, flushed_end_ + buf_len_).
  std::unique_ptr<char[]> buf_;
  const size_t buf_cap_;
  std::atomic<size_t> buf_len_{0};
};

// Sequential scan of [start, end) of a segment file.
class LogReader {
 public:
  enum class Result : uint8_t { kRecord, kEnd, kDamaged };
  LogReader(const File* file, uint64_t start, uint64_t end);
  // kRecord: *rec (views valid until the next call) at *offset. kEnd: clean end
  // at `end`. kDamaged: the record at *offset is torn or fails its checksum
  // (*offset = where to cut).
  Result Next(RecordView* rec, uint64_t* offset);
  uint64_t position() const { return pos_; }
  Status io_status() const { return io_; }

 private:
  bool Fill(uint64_t need);
  const File* file_;
  uint64_t pos_;
  const uint64_t end_;
  std::string buf_;
  uint64_t buf_start_ = 0;
  Status io_;
};

}  // namespace kvb::linhash

#endif  // KVB_ENGINES_LINHASH_SEGMENT_H_
