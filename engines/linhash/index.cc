#include "engines/linhash/index.h"

#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/checksum.h"
#include "core/coding.h"

namespace kvb::linhash {
namespace {

constexpr uint64_t kChunkBuckets = uint64_t{1} << 14;
constexpr size_t kChunkBytes = kChunkBuckets * sizeof(Bucket);

// Chunks come straight from mmap so that a checkpoint load can ask for them
// pre-faulted (MAP_POPULATE: one system call instead of one page fault per 4
// KiB, which is most of the cost of loading a large index). Contents need no
// zeroing: every bucket is initialised (memset or loaded) before it becomes
// reachable. (Transparent huge pages were tried and dropped: with
// defrag=madvise a fault may stall for direct compaction, making Open times
// erratic.)
Bucket* AllocChunk(bool populate) {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0);
  void* p = mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<Bucket*>(p);
}

void FreeChunk(Bucket* p) {
  if (p != nullptr) munmap(p, kChunkBytes);
}

uint32_t BucketCrc(const char* bucket, uint64_t number) {
  char seed[8];
  EncodeFixed64(seed, number);
  return Crc32cExtend(Crc32c(seed, 8), bucket, sizeof(Bucket) - 4);
}

}  // namespace

LinearIndex::LinearIndex(double load_factor)
    : load_factor_(load_factor),
      primary_(
          static_cast<Bucket**>(std::calloc(kDirEntries, sizeof(Bucket*)))),
      overflow_(
          static_cast<Bucket**>(std::calloc(kDirEntries, sizeof(Bucket*)))) {
  if (primary_ && overflow_) primary_[0] = AllocChunk(false);
  if (primary_ && primary_[0]) std::memset(primary_[0], 0, sizeof(Bucket));
}

LinearIndex::~LinearIndex() {
  for (uint64_t c = 0; primary_ && c < kDirEntries && primary_[c]; ++c)
    FreeChunk(primary_[c]);
  for (uint64_t c = 0; overflow_ && c < kDirEntries && overflow_[c]; ++c) {
    FreeChunk(overflow_[c]);
  }
}

Status LinearIndex::EnsurePrimary(uint64_t b, bool populate) {
  uint64_t c = b >> kChunkBits;
  if (!primary_ || c >= kDirEntries)
    return Status::NoSpace("linhash index: bucket limit");
  if (primary_[c] == nullptr &&
      (primary_[c] = AllocChunk(populate)) == nullptr) {
    return Status::NoSpace("linhash index: out of memory");
  }
  return Status::OK();
}

Status LinearIndex::EnsureOverflow(uint64_t i, bool populate) {
  uint64_t c = i >> kChunkBits;
  if (!overflow_ || c >= kDirEntries || i >= 0xFFFFFFFEull) {
    return Status::NoSpace("linhash index: overflow bucket limit");
  }
  if (overflow_[c] == nullptr &&
      (overflow_[c] = AllocChunk(populate)) == nullptr) {
    return Status::NoSpace("linhash index: out of memory");
  }
  return Status::OK();
}

Status LinearIndex::Reserve(uint64_t inserts) {
  if (!primary_ || !overflow_ || primary_[0] == nullptr) {
    return Status::NoSpace("linhash index: out of memory");
  }
  if (level_ >= 46) return Status::NoSpace("linhash index: level limit");
  // Each insert may split once (creating the next primary bucket) and may need
  // one new overflow bucket; splits reuse the buckets they free.
  for (uint64_t b = num_primary(); b <= num_primary() + inserts;
       b += kChunkBuckets) {
    KVB_RETURN_IF_ERROR(EnsurePrimary(b));
  }
  KVB_RETURN_IF_ERROR(EnsurePrimary(num_primary() + inserts));
  uint64_t need = inserts > free_.size() ? inserts - free_.size() : 0;
  for (uint64_t i = num_overflow_; i < num_overflow_ + need;
       i += kChunkBuckets) {
    KVB_RETURN_IF_ERROR(EnsureOverflow(i));
  }
  if (need > 0) KVB_RETURN_IF_ERROR(EnsureOverflow(num_overflow_ + need - 1));
  return Status::OK();
}

uint32_t LinearIndex::AllocOverflow() {
  if (!free_.empty()) {
    uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  return static_cast<uint32_t>(num_overflow_++);
}

SlotRef LinearIndex::FindHole(uint64_t h) const {
  Bucket* b = Primary(BucketFor(h));
  for (;;) {
    for (int i = 0; i < kSlotsPerBucket; ++i) {
      if (b->loc[i] == 0) return {b, i};
    }
    Bucket* n = Next(b);
    if (n == nullptr) return {b, -1};
    b = n;
  }
}

void LinearIndex::Insert(SlotRef hole, uint64_t h, uint64_t loc) {
  if (hole.slot < 0) {
    uint32_t i = AllocOverflow();
    Bucket* nb = Overflow(i);
    std::memset(nb, 0, sizeof(Bucket));
    hole.bucket->next = i + 1;
    hole = {nb, 0};
  }
  hole.bucket->loc[hole.slot] = loc;
  hole.bucket->hlo[hole.slot] = static_cast<uint32_t>(h);
  ++count_;
  double capacity = static_cast<double>(num_primary()) * kSlotsPerBucket;
  if (static_cast<double>(count_) > load_factor_ * capacity) Split();
}

void LinearIndex::Remove(SlotRef ref) {
  ref.bucket->loc[ref.slot] = 0;
  ref.bucket->hlo[ref.slot] = 0;
  --count_;
}

// Splits bucket S into S and S + 2^L. Only slots move; the stored 48 hash bits
// say where each goes, so no key is read. The old chain's overflow buckets are
// freed first and then reused by the two new chains, which together never need
// more buckets than the old chain plus the new primary (Reserve() provided that
// one).
void LinearIndex::Split() {
  const uint64_t old_b = split_;
  const uint64_t new_b = old_b + (uint64_t{1} << level_);
  const uint32_t bit = level_;
  scratch_.clear();
  Bucket* b = Primary(old_b);
  uint32_t next = b->next;
  for (int i = 0; i < kSlotsPerBucket; ++i) {
    if (b->loc[i] != 0) scratch_.emplace_back(b->loc[i], b->hlo[i]);
  }
  while (next != 0) {
    Bucket* o = Overflow(next - 1);
    for (int i = 0; i < kSlotsPerBucket; ++i) {
      if (o->loc[i] != 0) scratch_.emplace_back(o->loc[i], o->hlo[i]);
    }
    free_.push_back(next - 1);
    next = o->next;
    std::memset(o, 0, sizeof(Bucket));
  }
  std::memset(Primary(old_b), 0, sizeof(Bucket));
  std::memset(Primary(new_b), 0, sizeof(Bucket));
  if (++split_ == (uint64_t{1} << level_)) {
    ++level_;
    split_ = 0;
  }
  Bucket* tail[2] = {Primary(old_b), Primary(new_b)};
  int fill[2] = {0, 0};
  for (const auto& [loc, hlo] : scratch_) {
    int t = static_cast<int>((SlotHash(loc, hlo) >> bit) & 1);
    if (fill[t] == kSlotsPerBucket) {
      uint32_t i = AllocOverflow();
      Bucket* nb = Overflow(i);
      std::memset(nb, 0, sizeof(Bucket));
      tail[t]->next = i + 1;
      tail[t] = nb;
      fill[t] = 0;
    }
    tail[t]->loc[fill[t]] = loc;
    tail[t]->hlo[fill[t]] = hlo;
    ++fill[t];
  }
}

void LinearIndex::SnapshotBuckets(std::string* out) const {
  size_t start = out->size();
  out->resize(start + MemoryBytes());
  char* p = out->data() + start;
  auto copy = [&](Bucket* const* dir, uint64_t n) {
    for (uint64_t c = 0; c * kChunkBuckets < n; ++c) {
      uint64_t k = std::min(kChunkBuckets, n - c * kChunkBuckets);
      std::memcpy(p, dir[c], k * sizeof(Bucket));
      p += k * sizeof(Bucket);
    }
  };
  copy(primary_.get(), num_primary());
  copy(overflow_.get(), num_overflow_);
}

void LinearIndex::SealBuckets(char* buckets, uint64_t n) {
  for (uint64_t j = 0; j < n; ++j) {
    char* b = buckets + j * sizeof(Bucket);
    EncodeFixed32(b + sizeof(Bucket) - 4, MaskCrc(BucketCrc(b, j)));
  }
}

Status LinearIndex::Load(uint32_t level, uint64_t split, uint64_t num_overflow,
                         uint64_t key_count, const ReadFn& read,
                         const std::vector<uint32_t>& free_list) {
  level_ = level;
  split_ = split;
  num_overflow_ = num_overflow;
  count_ = 0;
  free_ = free_list;
  const uint64_t np = num_primary();
  // seen[o]: overflow bucket o is on the free list or linked from some bucket.
  std::vector<std::atomic<uint8_t>> seen(num_overflow);
  for (uint32_t f : free_) {
    if (f >= num_overflow || seen[f].exchange(1) != 0) {
      return Status::Corruption("index free list invalid");
    }
  }
  // One job per 2 MiB chunk: read it in place, check CRCs and links, count
  // keys. Loading is most of the cost of a clean Open, so two threads share the
  // chunks.
  struct Job {
    bool primary;
    uint64_t chunk;
    uint64_t buckets;
  };
  std::vector<Job> jobs;
  for (uint64_t c = 0; c * kChunkBuckets < np; ++c) {
    jobs.push_back({true, c, std::min(kChunkBuckets, np - c * kChunkBuckets)});
  }
  for (uint64_t c = 0; c * kChunkBuckets < num_overflow; ++c) {
    jobs.push_back(
        {false, c, std::min(kChunkBuckets, num_overflow - c * kChunkBuckets)});
  }
  std::atomic<uint64_t> occupied{0};
  std::mutex error_mu;
  Status error;
  auto run_job = [&](const Job& j) -> Status {
    // Each job allocates its own chunk (pre-faulted): the two threads write
    // different directory entries, and no reader exists yet.
    KVB_RETURN_IF_ERROR(j.primary
                            ? EnsurePrimary(j.chunk * kChunkBuckets, true)
                            : EnsureOverflow(j.chunk * kChunkBuckets, true));
    Bucket* chunk = j.primary ? primary_[j.chunk] : overflow_[j.chunk];
    const uint64_t number0 = (j.primary ? 0 : np) + j.chunk * kChunkBuckets;
    KVB_RETURN_IF_ERROR(read(number0 * sizeof(Bucket),
                             j.buckets * sizeof(Bucket),
                             reinterpret_cast<char*>(chunk)));
    uint64_t count = 0;
    for (uint64_t k = 0; k < j.buckets; ++k) {
      Bucket* b = chunk + k;
      if (UnmaskCrc(b->crc) !=
          BucketCrc(reinterpret_cast<char*>(b), number0 + k)) {
        return Status::Corruption("index bucket " +
                                  std::to_string(number0 + k) +
                                  " checksum mismatch");
      }
      b->crc = 0;
      for (int i = 0; i < kSlotsPerBucket; ++i) count += b->loc[i] != 0;
      if (b->next == 0) continue;
      uint64_t o = b->next - 1;
      if (o >= num_overflow || seen[o].exchange(1) != 0) {
        return Status::Corruption("index chain link invalid");
      }
    }
    occupied.fetch_add(count, std::memory_order_relaxed);
    return Status::OK();
  };
  auto worker = [&](size_t first) {
    for (size_t i = first; i < jobs.size(); i += 2) {
      Status s = run_job(jobs[i]);
      if (!s.ok()) {
        std::lock_guard lock(error_mu);
        if (error.ok()) error = s;
        return;
      }
    }
  };
  if (jobs.size() > 1) {
    std::thread helper(worker, 1);
    worker(0);
    helper.join();
  } else {
    worker(0);
    worker(1);
  }
  KVB_RETURN_IF_ERROR(error);
  for (uint64_t o = 0; o < num_overflow; ++o) {
    if (seen[o].load(std::memory_order_relaxed) == 0) {
      return Status::Corruption("index overflow bucket unreachable");
    }
  }
  count_ = occupied.load();
  if (count_ != key_count)
    return Status::Corruption("index key count mismatch");
  return Reserve();
}

void LinearIndex::Reset() {
  for (uint64_t c = 1; c < kDirEntries && primary_[c]; ++c) {
    FreeChunk(primary_[c]);
    primary_[c] = nullptr;
  }
  for (uint64_t c = 0; c < kDirEntries && overflow_[c]; ++c) {
    FreeChunk(overflow_[c]);
    overflow_[c] = nullptr;
  }
  if (primary_[0] != nullptr) std::memset(primary_[0], 0, sizeof(Bucket));
  level_ = 0;
  split_ = 0;
  count_ = 0;
  num_overflow_ = 0;
  free_.clear();
}

int LinearIndex::TEST_ChainLength(uint64_t b) const {
  int n = 0;
  for (Bucket* p = Primary(b); p != nullptr; p = Next(p)) ++n;
  return n;
}

}  // namespace kvb::linhash
