// LinearIndex — the in-memory linear-hashing table of linhash (Litwin's linear
// hashing as Pogreb uses it), persisted by checkpoints in exactly this bucket
// layout (FORMAT.md).
//
// Buckets are 128 bytes: ten 12-byte slots stored as two arrays, an overflow
// link and a CRC field that is filled only in checkpoint files. A slot keeps 48
// bits of the key's 64-bit hash (the low 48 bits: the bucket address bits plus
// at least a 16-bit fingerprint) and the record's location (16-bit segment id,
// 32-bit offset). An empty slot has loc == 0 (offset 0 is inside every
// segment's header). Deletes leave holes; inserts scan the whole chain for the
// key before they take the first hole, so a key is never stored twice (Pogreb
// defect D1).
//
// Addressing: b = h mod 2^L; if b < S then b = h mod 2^(L+1). N = 2^L + S
// primary buckets. One split (of bucket S) per insert that takes the load past
// the load factor.
//
// Thread safety: none inside for mutations. The DB serialises mutating calls
// (its writer mutex) and excludes readers while a mutating call runs (its index
// lock held exclusively); const lookups may run concurrently with each other.
// Memory never moves: buckets live in fixed-size chunks (2 MiB) found through a
// directory allocated once, so a pointer to a bucket stays valid until
// destruction.
//
// Lazy checkpoint load: Attach() adopts a checkpoint without reading its
// buckets; each chunk is read and verified (its CRC from the checkpoint's
// checksummed chunk table, every overflow link in range) the first time any
// lookup or mutation touches it. That first touch is thread-safe: directory
// entries are published with release/acquire atomics and a chunk is loaded
// under one of a few striped mutexes (so concurrent readers of other chunks do
// not wait). A chunk that fails its check is replaced by an empty one and the
// index becomes unhealthy for good (health() != OK): the DB then refuses every
// operation, because lookups through that chunk would miss keys.
#ifndef KVB_ENGINES_LINHASH_INDEX_H_
#define KVB_ENGINES_LINHASH_INDEX_H_

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace kvb::linhash {

inline constexpr int kSlotsPerBucket = 10;
inline constexpr uint64_t kHashMask48 = (uint64_t{1} << 48) - 1;

struct Bucket {
  uint64_t loc[kSlotsPerBucket];  // offset | segment << 32 | hash bits 32..47
                                  // << 48; 0 = empty
  uint32_t hlo[kSlotsPerBucket];  // hash bits 0..31
  uint32_t next;                  // overflow bucket index + 1; 0 = end of chain
  uint32_t reserved;              // 0 (in memory and in checkpoint files)
};
static_assert(sizeof(Bucket) == 128,
              "bucket layout is part of the file format");

inline uint64_t MakeLoc(uint64_t h, uint32_t segment, uint32_t offset) {
  return offset | (uint64_t{segment} << 32) | ((h >> 32 & 0xFFFF) << 48);
}
inline uint32_t LocSegment(uint64_t loc) {
  return static_cast<uint32_t>(loc >> 32) & 0xFFFF;
}
inline uint32_t LocOffset(uint64_t loc) { return static_cast<uint32_t>(loc); }
// The 48 hash bits a slot keeps.
inline uint64_t SlotHash(uint64_t loc, uint32_t hlo) {
  return (loc >> 48 << 32) | hlo;
}
inline bool SlotMatches(const Bucket& b, int i, uint64_t h) {
  return b.loc[i] != 0 && b.hlo[i] == static_cast<uint32_t>(h) &&
         (b.loc[i] >> 48) == (h >> 32 & 0xFFFF);
}

struct SlotRef {
  Bucket* bucket = nullptr;
  int slot = -1;  // -1 with a bucket: "append after this full tail bucket"
};

class LinearIndex {
 public:
  explicit LinearIndex(double load_factor);
  ~LinearIndex();
  LinearIndex(const LinearIndex&) = delete;
  LinearIndex& operator=(const LinearIndex&) = delete;

  uint64_t BucketFor(uint64_t h) const {
    uint64_t b = h & ((uint64_t{1} << level_) - 1);
    if (b < split_) b = h & ((uint64_t{1} << (level_ + 1)) - 1);
    return b;
  }
  Bucket* Primary(uint64_t b) const {
    return Chunk(kPrimary, b >> kChunkBits) + (b & kChunkMask);
  }
  Bucket* Overflow(uint64_t i) const {
    return Chunk(kOverflow, i >> kChunkBits) + (i & kChunkMask);
  }
  // The next bucket of a chain, or null.
  Bucket* Next(const Bucket* b) const {
    return b->next == 0 ? nullptr : Overflow(b->next - 1);
  }

  // Calls fn(bucket, slot) for each slot whose 48 hash bits match h, in chain
  // order, until fn returns true. Returns whether fn stopped the walk.
  // A chain that is longer than the index has buckets (a cycle in a damaged
  // checkpoint whose CRCs are valid) makes the index unhealthy (Corruption)
  // and ends the walk: every walk of a chain is bounded.
  template <typename Fn>
  bool ForEachCandidate(uint64_t h, Fn&& fn) const {
    uint64_t steps = 0;
    for (Bucket* b = Primary(BucketFor(h)); b != nullptr; b = Next(b)) {
      if (steps++ > num_overflow_) return FailCycle();
      for (int i = 0; i < kSlotsPerBucket; ++i) {
        if (SlotMatches(*b, i, h) && fn(b, i)) return true;
      }
    }
    return false;
  }
  // Calls fn(loc, hlo) for every occupied slot (bucket order, then chain
  // order).
  // Bounded as ForEachCandidate.
  template <typename Fn>
  void ForEachSlot(Fn&& fn) const {
    for (uint64_t p = 0; p < num_primary(); ++p) {
      uint64_t steps = 0;
      for (Bucket* b = Primary(p); b != nullptr; b = Next(b)) {
        if (steps++ > num_overflow_) {
          FailCycle();
          return;
        }
        for (int i = 0; i < kSlotsPerBucket; ++i) {
          if (b->loc[i] != 0) fn(b->loc[i], b->hlo[i]);
        }
      }
    }
  }

  // ---- Mutations (see the class comment for locking) ----
  // Allocates whatever the next insert and split may need, so that they cannot
  // fail after the record was appended to the log (Pogreb defect D10). NoSpace
  // at the engine's limits or when memory runs out. May be called without
  // excluding readers.
  Status Reserve(uint64_t inserts = 1);
  // The first hole of h's chain, or {tail bucket, -1} if the chain is full.
  SlotRef FindHole(uint64_t h) const;
  // Stores (h, loc) at `hole` (from FindHole; allocates and links an overflow
  // bucket when hole.slot < 0), counts the key, and splits once if the load
  // factor is exceeded.
  void Insert(SlotRef hole, uint64_t h, uint64_t loc);
  void Replace(SlotRef ref, uint64_t loc) { ref.bucket->loc[ref.slot] = loc; }
  void Remove(SlotRef ref);

  uint64_t count() const { return count_; }
  uint32_t level() const { return level_; }
  uint64_t split() const { return split_; }
  uint64_t num_primary() const { return (uint64_t{1} << level_) + split_; }
  uint64_t num_overflow() const { return num_overflow_; }
  uint64_t num_free() const { return free_.size(); }
  uint64_t MemoryBytes() const {
    return (num_primary() + num_overflow_) * sizeof(Bucket);
  }

  // ---- Checkpoints ----
  static constexpr int kChunkBits = 14;  // 16384 buckets = 2 MiB per chunk
  static constexpr uint64_t kChunkBuckets = uint64_t{1} << kChunkBits;
  // Chunks of a table of n buckets.
  static uint64_t ChunksFor(uint64_t n) {
    return (n + kChunkBuckets - 1) >> kChunkBits;
  }

  // Appends every primary then every overflow bucket, raw. Loads any chunk not
  // loaded yet first; fails (appending nothing) if the index is unhealthy.
  // A memcpy per chunk, done under the writer lock.
  Status SnapshotBuckets(std::string* out) const;
  const std::vector<uint32_t>& free_list() const { return free_; }
  // The masked CRC of each chunk of a bucket image (primary chunks, then
  // overflow chunks; FORMAT.md), salted with the checkpoint number.
  static std::vector<uint32_t> ChunkChecksums(const char* buckets,
                                              uint64_t num_primary,
                                              uint64_t num_overflow,
                                              uint64_t salt);

  // A checkpoint's index, as Attach() adopts it. `read(offset, n, dst)` reads
  // bytes of the bucket image (primary then overflow buckets); it must stay
  // usable until every chunk is loaded (the index owns it and drops it once
  // that happened, see ReleaseSource()).
  using ReadFn = std::function<Status(uint64_t offset, size_t n, char* dst)>;
  struct Image {
    uint32_t level = 0;
    uint64_t split = 0;
    uint64_t num_overflow = 0;
    uint64_t key_count = 0;
    std::vector<uint32_t> free_list;
    std::vector<uint32_t> chunk_crcs;  // ChunksFor(N) + ChunksFor(O) entries
    uint64_t salt = 0;
    ReadFn read;
  };
  // Replaces the contents with a checkpoint's without reading any bucket
  // (O(chunks + free list)). Corruption if the image's tables are inconsistent
  // (the index is then empty again); NoSpace if memory cannot be reserved.
  // REQUIRES: no concurrent use.
  Status Attach(Image image);
  // Loads every chunk not loaded yet. Returns health().
  Status LoadAll() const;
  // OK, or the first lazy-load failure (Corruption for a chunk that failed its
  // check, or the read's error). Sticky.
  Status health() const {
    if (!failed_.load(std::memory_order_acquire)) return Status::OK();
    std::lock_guard lock(fail_mu_);
    return fail_status_;
  }
  // Chunks read from a checkpoint so far (lazily or by LoadAll).
  uint64_t chunks_loaded() const {
    return chunks_loaded_.load(std::memory_order_relaxed);
  }
  // Drops the checkpoint source if every chunk is loaded (closes the file).
  // REQUIRES: the writer lock (no concurrent Attach/Reset).
  void ReleaseSource();
  // Full structural check (loads everything): every overflow bucket on exactly
  // one chain or the free list, links in range, occupied slots = count().
  Status Verify() const;

  // Back to the empty table of a new database.
  void Reset();

  // TEST ONLY: bucket chain length of primary bucket b.
  int TEST_ChainLength(uint64_t b) const;

 private:
  static constexpr uint64_t kChunkMask = (uint64_t{1} << kChunkBits) - 1;
  static constexpr uint64_t kDirEntries = uint64_t{1} << 20;
  static constexpr int kPrimary = 0;
  static constexpr int kOverflow = 1;
  static constexpr int kLoadStripes = 16;

  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };

  // The chunk c of table `kind`, loading it from the checkpoint on first use;
  // null only for a chunk that was never allocated (a caller bug).
  Bucket* Chunk(int kind, uint64_t c) const {
    Bucket* p =
        std::atomic_ref<Bucket*>(dir_[kind][c]).load(std::memory_order_acquire);
    return p != nullptr ? p : LoadChunk(kind, c);
  }
  Bucket* LoadChunk(int kind, uint64_t c) const;
  Status ReadChunk(int kind, uint64_t c, Bucket* dst) const;
  void Fail(const Status& s) const;
  // Records a chain cycle; returns false (for the walks' convenience).
  bool FailCycle() const;
  Status EnsureChunk(int kind, uint64_t c);
  Status EnsurePrimary(uint64_t b) {
    return EnsureChunk(kPrimary, b >> kChunkBits);
  }
  Status EnsureOverflow(uint64_t i);
  void FreeAll();
  uint32_t
  AllocOverflow();  // REQUIRES: Reserve() succeeded since the last allocation
  void Split();

  const double load_factor_;
  uint32_t level_ = 0;
  uint64_t split_ = 0;
  uint64_t count_ = 0;
  uint64_t num_overflow_ = 0;
  std::vector<uint32_t> free_;
  // dir_[kind][c]: chunk c of the primary or overflow table; read and written
  // through std::atomic_ref (a reader may publish a lazily loaded chunk).
  std::unique_ptr<Bucket*[], FreeDeleter> dir_[2];
  uint64_t allocated_end_[2] = {0, 0};  // chunks [0, end) may be non-null

  // Lazy-load state, fixed by Attach(): chunks [0, pending_end_[kind]) come
  // from the checkpoint and live in one reserved arena; buckets_in_image_ is
  // how many buckets of each table the image holds.
  uint64_t pending_end_[2] = {0, 0};
  uint64_t buckets_in_image_[2] = {0, 0};
  uint64_t image_overflow_ = 0;
  std::vector<uint32_t> chunk_crcs_;
  uint64_t salt_ = 0;
  char* arena_ = nullptr;
  size_t arena_bytes_ = 0;
  mutable ReadFn read_;
  mutable std::mutex load_mu_[kLoadStripes];
  mutable std::atomic<uint64_t> chunks_loaded_{0};
  mutable std::atomic<bool> failed_{false};
  mutable std::mutex fail_mu_;
  mutable Status fail_status_;

  std::vector<std::pair<uint64_t, uint32_t>> scratch_;  // split's slot buffer
};

}  // namespace kvb::linhash

#endif  // KVB_ENGINES_LINHASH_INDEX_H_
