#include "engines/linhash/index.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include "core/checksum.h"
#include "core/coding.h"

namespace kvb::linhash {
namespace {

constexpr uint64_t kChunkBuckets = LinearIndex::kChunkBuckets;
constexpr size_t kChunkBytes = kChunkBuckets * sizeof(Bucket);

// Chunks come straight from mmap (no zeroing needed: every bucket is
// initialised, by memset or a checkpoint load, before it becomes reachable).
// (Transparent huge pages were tried and dropped: with defrag=madvise a fault
// may stall for direct compaction, making Open times erratic.)
Bucket* AllocChunk() {
  void* p = mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<Bucket*>(p);
}

void FreeChunk(Bucket* p) {
  if (p != nullptr) munmap(p, kChunkBytes);
}

// Chunk k of a checkpoint (primary chunks first): CRC-32C of the salt (the
// checkpoint number), k, and the chunk's bytes, so a chunk of another
// checkpoint or at another position fails.
uint32_t ChunkCrc(const char* data, size_t n, uint64_t salt, uint64_t k) {
  char seed[16];
  EncodeFixed64(seed, salt);
  EncodeFixed64(seed + 8, k);
  return MaskCrc(Crc32cExtend(Crc32c(seed, sizeof(seed)), data, n));
}

}  // namespace

LinearIndex::LinearIndex(double load_factor) : load_factor_(load_factor) {
  for (auto& d : dir_) {
    d.reset(static_cast<Bucket**>(std::calloc(kDirEntries, sizeof(Bucket*))));
  }
  if (dir_[0] && dir_[1]) {
    Bucket* c0 = AllocChunk();
    if (c0 != nullptr) std::memset(c0, 0, sizeof(Bucket));
    dir_[kPrimary][0] = c0;
    allocated_end_[kPrimary] = 1;
  }
}

LinearIndex::~LinearIndex() { FreeAll(); }

// REQUIRES: no concurrent use.
void LinearIndex::FreeAll() {
  for (int kind = 0; kind < 2; ++kind) {
    if (!dir_[kind]) continue;
    for (uint64_t c = 0; c < allocated_end_[kind]; ++c) {
      if (c >= pending_end_[kind]) FreeChunk(dir_[kind][c]);
      dir_[kind][c] = nullptr;
    }
    allocated_end_[kind] = 0;
    pending_end_[kind] = 0;
    buckets_in_image_[kind] = 0;
  }
  if (arena_ != nullptr) munmap(arena_, arena_bytes_);
  arena_ = nullptr;
  arena_bytes_ = 0;
  read_ = nullptr;
  chunk_crcs_.clear();
}

Status LinearIndex::EnsureChunk(int kind, uint64_t c) {
  if (!dir_[kind] || c >= kDirEntries) {
    return Status::NoSpace("linhash index: bucket limit");
  }
  if (Chunk(kind, c) != nullptr) return health();
  Bucket* p = AllocChunk();
  if (p == nullptr) return Status::NoSpace("linhash index: out of memory");
  std::atomic_ref<Bucket*>(dir_[kind][c]).store(p, std::memory_order_release);
  allocated_end_[kind] = std::max(allocated_end_[kind], c + 1);
  return Status::OK();
}

Status LinearIndex::EnsureOverflow(uint64_t i) {
  if (i >= 0xFFFFFFFEull) {
    return Status::NoSpace("linhash index: overflow bucket limit");
  }
  return EnsureChunk(kOverflow, i >> kChunkBits);
}

void LinearIndex::Fail(const Status& s) const {
  std::lock_guard lock(fail_mu_);
  if (fail_status_.ok()) fail_status_ = s;
  failed_.store(true, std::memory_order_release);
}

bool LinearIndex::FailCycle() const {
  Fail(Status::Corruption(
      "linhash index: an overflow chain is longer than the index (a cycle)"));
  return false;
}

Status LinearIndex::ReadChunk(int kind, uint64_t c, Bucket* dst) const {
  const uint64_t first = c * kChunkBuckets;
  const uint64_t n = std::min(kChunkBuckets, buckets_in_image_[kind] - first);
  const uint64_t number0 =
      (kind == kPrimary ? 0 : buckets_in_image_[0]) + first;
  char* bytes = reinterpret_cast<char*>(dst);
  KVB_RETURN_IF_ERROR(
      read_(number0 * sizeof(Bucket), n * sizeof(Bucket), bytes));
  const uint64_t k = (kind == kPrimary ? 0 : pending_end_[0]) + c;
  if (ChunkCrc(bytes, n * sizeof(Bucket), salt_, k) != chunk_crcs_[k]) {
    return Status::Corruption("linhash index: checkpoint chunk " +
                              std::to_string(k) + " checksum mismatch");
  }
  for (uint64_t j = 0; j < n; ++j) {
    if (dst[j].next > image_overflow_ || dst[j].reserved != 0) {
      return Status::Corruption("linhash index: chain link out of range");
    }
  }
  return Status::OK();
}

// The slow path of Chunk(): first touch of a chunk that is still in the
// checkpoint file. Loaders of different chunks mostly take different stripes;
// a failed chunk is replaced by an empty one (so nothing ever walks garbage)
// and the failure is recorded before the chunk is published, so whoever sees
// the chunk also sees the failure.
Bucket* LinearIndex::LoadChunk(int kind, uint64_t c) const {
  if (c >= pending_end_[kind]) return nullptr;
  std::lock_guard lock(load_mu_[(c * 2 + kind) % kLoadStripes]);
  std::atomic_ref<Bucket*> entry(dir_[kind][c]);
  Bucket* p = entry.load(std::memory_order_acquire);
  if (p != nullptr) return p;
  p = reinterpret_cast<Bucket*>(
      arena_ + ((kind == kPrimary ? 0 : pending_end_[0]) + c) * kChunkBytes);
  Status s = ReadChunk(kind, c, p);
  if (!s.ok()) {
    std::memset(p, 0, kChunkBytes);
    Fail(s);
  }
  chunks_loaded_.fetch_add(1, std::memory_order_relaxed);
  entry.store(p, std::memory_order_release);
  return p;
}

Status LinearIndex::Attach(Image image) {
  FreeAll();
  level_ = image.level;
  split_ = image.split;
  num_overflow_ = image.num_overflow;
  count_ = image.key_count;
  free_ = std::move(image.free_list);
  const uint64_t np = num_primary();
  const uint64_t pc = ChunksFor(np);
  const uint64_t oc = ChunksFor(num_overflow_);
  auto fail = [&](Status s) {
    free_.clear();
    level_ = 0;
    split_ = 0;
    count_ = 0;
    num_overflow_ = 0;
    Reset();
    return s;
  };
  if (image.chunk_crcs.size() != pc + oc || pc + oc > kDirEntries) {
    return fail(Status::Corruption("linhash index: chunk table size"));
  }
  std::vector<uint32_t> sorted = free_;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] >= num_overflow_ || (i > 0 && sorted[i] == sorted[i - 1])) {
      return fail(Status::Corruption("index free list invalid"));
    }
  }
  // One reservation for every chunk of the image (no page is touched until
  // its chunk is loaded), so a lazy load never needs to allocate.
  arena_bytes_ = (pc + oc) * kChunkBytes;
  if (arena_bytes_ > 0) {
    void* a = mmap(nullptr, arena_bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a == MAP_FAILED) {
      arena_bytes_ = 0;
      return fail(Status::NoSpace("linhash index: out of memory"));
    }
    arena_ = static_cast<char*>(a);
  }
  pending_end_[kPrimary] = pc;
  pending_end_[kOverflow] = oc;
  allocated_end_[kPrimary] = pc;
  allocated_end_[kOverflow] = oc;
  buckets_in_image_[kPrimary] = np;
  buckets_in_image_[kOverflow] = num_overflow_;
  image_overflow_ = num_overflow_;
  chunk_crcs_ = std::move(image.chunk_crcs);
  salt_ = image.salt;
  read_ = std::move(image.read);
  return Status::OK();
}

Status LinearIndex::LoadAll() const {
  for (int kind = 0; kind < 2; ++kind) {
    for (uint64_t c = 0; c < pending_end_[kind]; ++c) Chunk(kind, c);
  }
  return health();
}

void LinearIndex::ReleaseSource() {
  for (int kind = 0; kind < 2; ++kind) {
    for (uint64_t c = 0; c < pending_end_[kind]; ++c) {
      if (std::atomic_ref<Bucket*>(dir_[kind][c])
              .load(std::memory_order_acquire) == nullptr) {
        return;
      }
    }
  }
  read_ = nullptr;
}

Status LinearIndex::Reserve(uint64_t inserts) {
  if (!dir_[0] || !dir_[1] || Chunk(kPrimary, 0) == nullptr) {
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
  return health();
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
  for (uint64_t steps = 0;; ++steps) {
    for (int i = 0; i < kSlotsPerBucket; ++i) {
      if (b->loc[i] == 0) return {b, i};
    }
    Bucket* n = Next(b);
    // On a cycle the new overflow bucket replaces the link (the index is
    // unhealthy from now on, so nothing trusts the result).
    if (n == nullptr || (steps >= num_overflow_ && !FailCycle())) {
      return {b, -1};
    }
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
  for (uint64_t steps = 0; next != 0; ++steps) {
    if (steps >= num_overflow_) {
      FailCycle();
      break;
    }
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

Status LinearIndex::SnapshotBuckets(std::string* out) const {
  KVB_RETURN_IF_ERROR(LoadAll());
  size_t start = out->size();
  out->resize(start + MemoryBytes());
  char* p = out->data() + start;
  auto copy = [&](int kind, uint64_t n) {
    for (uint64_t c = 0; c * kChunkBuckets < n; ++c) {
      uint64_t k = std::min(kChunkBuckets, n - c * kChunkBuckets);
      std::memcpy(p, Chunk(kind, c), k * sizeof(Bucket));
      p += k * sizeof(Bucket);
    }
  };
  copy(kPrimary, num_primary());
  copy(kOverflow, num_overflow_);
  return Status::OK();
}

std::vector<uint32_t> LinearIndex::ChunkChecksums(const char* buckets,
                                                  uint64_t num_primary,
                                                  uint64_t num_overflow,
                                                  uint64_t salt) {
  std::vector<uint32_t> out;
  uint64_t k = 0;
  for (uint64_t n : {num_primary, num_overflow}) {
    for (uint64_t first = 0; first < n; first += kChunkBuckets) {
      uint64_t m = std::min(kChunkBuckets, n - first);
      out.push_back(ChunkCrc(buckets, m * sizeof(Bucket), salt, k++));
      buckets += m * sizeof(Bucket);
    }
  }
  return out;
}

Status LinearIndex::Verify() const {
  KVB_RETURN_IF_ERROR(LoadAll());
  // seen[o]: overflow bucket o is on the free list or linked from some bucket.
  std::vector<uint8_t> seen(num_overflow_, 0);
  for (uint32_t f : free_) {
    if (f >= num_overflow_ || seen[f]++ != 0) {
      return Status::Corruption("index free list invalid");
    }
  }
  uint64_t occupied = 0;
  for (uint64_t p = 0; p < num_primary(); ++p) {
    for (const Bucket* b = Primary(p); b != nullptr; b = Next(b)) {
      for (int i = 0; i < kSlotsPerBucket; ++i) occupied += b->loc[i] != 0;
      if (b->next == 0) continue;
      uint64_t o = b->next - 1;
      if (o >= num_overflow_ || seen[o]++ != 0) {
        return Status::Corruption("index chain link invalid");
      }
    }
  }
  for (uint64_t o = 0; o < num_overflow_; ++o) {
    if (seen[o] == 0) {
      return Status::Corruption("index overflow bucket unreachable");
    }
  }
  if (occupied != count_) return Status::Corruption("index key count mismatch");
  return Status::OK();
}

void LinearIndex::Reset() {
  FreeAll();
  if (dir_[kPrimary]) {
    Bucket* c0 = AllocChunk();
    if (c0 != nullptr) std::memset(c0, 0, sizeof(Bucket));
    dir_[kPrimary][0] = c0;
    allocated_end_[kPrimary] = 1;
  }
  level_ = 0;
  split_ = 0;
  count_ = 0;
  num_overflow_ = 0;
  free_.clear();
  std::lock_guard lock(fail_mu_);
  fail_status_ = Status::OK();
  failed_.store(false, std::memory_order_release);
}

int LinearIndex::TEST_ChainLength(uint64_t b) const {
  int n = 0;
  for (Bucket* p = Primary(b);
       p != nullptr && static_cast<uint64_t>(n) <= num_overflow_; p = Next(p)) {
    ++n;
  }
  return n;
}

}  // namespace kvb::linhash
