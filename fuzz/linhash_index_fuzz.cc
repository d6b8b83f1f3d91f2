// linhash's checkpoint bucket decoder (LinearIndex::Attach + LoadAll + Verify)
// on arbitrary bucket images, and (structure-aware mode) the lookups and
// mutations a DB runs on an attached image that was never verified.
//
// Byte 0 is a flags byte. Bit 1 clear (raw mode): bit 0 takes the chunk CRCs
// from the input instead of computing them, so both the CRC check and the
// structural checks behind it are reachable; byte 1 level (mod 8), bytes 2-3
// split, byte 4 free-list length, bytes 5-8 key count, then the free list (u32
// each), then (bit 0) one u32 CRC per chunk, then 128-byte buckets (primary
// then overflow; missing primary buckets are zero). Properties: nothing
// crashes; after a Verify that passes, the slots reachable from the primary
// buckets are exactly count(), lookups and inserts work, and a snapshot
// attaches and verifies again.
//
// Bit 1 set (structure-aware mode, issue 14 defect 4): the input describes
// chains rather than bytes, so cyclic and overlapping chains with valid CRCs
// are the common case: byte 1 level (mod 6), byte 2 split, byte 3 overflow
// bucket count (mod 64), then per bucket (primary, then overflow) a link byte
// (0 = end of chain, else overflow bucket (b - 1) mod count) and a fill byte
// (slots occupied, mod 11, with hashes that belong to the chain's primary
// bucket). The image is attached and loaded (its CRCs are computed) but not
// verified first, as a DB does at Open; every later byte is one operation
// (lookup, insert as Put does it, remove, walk of every slot). Properties:
// every operation ends (the fuzzer's timeout catches a hang), nothing
// crashes; an image that Verify accepts stays healthy and verifiable through
// every operation, and an unhealthy index refuses Reserve.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engines/linhash/index.h"
#include "fuzz/fuzz_util.h"

namespace kvb::linhash {
namespace {

uint32_t Le32(const uint8_t* p) {
  return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}

uint64_t Mix(uint64_t x) {  // a cheap stand-in for key hashes
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

Status AttachImage(LinearIndex* index, uint32_t level, uint64_t split,
                   uint64_t num_overflow, uint64_t key_count,
                   std::shared_ptr<const std::string> image,
                   const std::vector<uint32_t>& free_list,
                   const std::vector<uint32_t>* crcs) {
  LinearIndex::Image im;
  im.level = level;
  im.split = split;
  im.num_overflow = num_overflow;
  im.key_count = key_count;
  im.free_list = free_list;
  im.salt = 7;
  const uint64_t np = (uint64_t{1} << level) + split;
  im.chunk_crcs = crcs != nullptr
                      ? *crcs
                      : LinearIndex::ChunkChecksums(image->data(), np,
                                                    num_overflow, im.salt);
  im.read = [image](uint64_t offset, size_t n, char* dst) -> Status {
    if (offset > image->size() || n > image->size() - offset) {
      return Status::Corruption("short image");
    }
    std::memcpy(dst, image->data() + offset, n);
    return Status::OK();
  };
  KVB_RETURN_IF_ERROR(index->Attach(std::move(im)));
  KVB_RETURN_IF_ERROR(index->LoadAll());
  return index->Verify();
}

void CheckLoaded(LinearIndex* index) {
  uint64_t reachable = 0;
  index->ForEachSlot([&](uint64_t, uint32_t) { ++reachable; });
  if (reachable != index->count()) {
    fuzz::Fail(
        "Load accepted an index whose chains do not hold key_count slots");
  }
  for (uint64_t i = 0; i < 64; ++i) {
    uint64_t h = Mix(i) & kHashMask48;
    index->ForEachCandidate(h, [](Bucket*, int) { return false; });
    if (!index->Reserve().ok()) return;
    SlotRef hole = index->FindHole(h);
    index->Insert(hole, h, MakeLoc(h, 1, 64 + static_cast<uint32_t>(i)));
  }
  auto snap = std::make_shared<std::string>();
  Status s = index->SnapshotBuckets(snap.get());
  if (!s.ok()) fuzz::Fail("snapshot of a verified index", s);
  LinearIndex again(0.8);
  s = AttachImage(&again, index->level(), index->split(), index->num_overflow(),
                  index->count(), snap, index->free_list(), nullptr);
  if (!s.ok()) fuzz::Fail("a snapshot of a loaded index does not load back", s);
}

// A hash whose chain is primary bucket p at this level and split.
uint64_t HashInBucket(uint64_t p, uint32_t level, uint64_t salt) {
  const uint64_t mask = (uint64_t{1} << (level + 1)) - 1;
  return ((Mix(salt) & kHashMask48 & ~mask) | p) & kHashMask48;
}

struct Structured {
  uint32_t level;
  uint64_t split;
  uint64_t np;
  uint64_t no;
  uint64_t keys = 0;
  std::shared_ptr<std::string> image = std::make_shared<std::string>();
  size_t pos;  // first byte not used by the description
};

Structured DescribeImage(const uint8_t* data, size_t size) {
  Structured st{};
  st.level = data[1] % 6;
  st.split = data[2] % (uint64_t{1} << st.level);
  st.np = (uint64_t{1} << st.level) + st.split;
  st.no = data[3] % 64;
  st.image->assign((st.np + st.no) * sizeof(Bucket), '\0');
  auto* buckets = reinterpret_cast<Bucket*>(st.image->data());
  size_t pos = 4;
  for (uint64_t b = 0; b < st.np + st.no && pos + 2 <= size; ++b, pos += 2) {
    const uint8_t link = data[pos];
    buckets[b].next = link == 0 || st.no == 0
                          ? 0
                          : static_cast<uint32_t>(1 + (link - 1) % st.no);
    const uint64_t home = b < st.np ? b : (b - st.np) % st.np;
    for (int i = 0; i < data[pos + 1] % (kSlotsPerBucket + 1); ++i) {
      const uint64_t h = HashInBucket(home, st.level, b * 16 + i);
      buckets[b].loc[i] = MakeLoc(h, 1, 64 + static_cast<uint32_t>(i));
      buckets[b].hlo[i] = static_cast<uint32_t>(h);
      ++st.keys;
    }
  }
  st.pos = pos;
  return st;
}

// One operation as the DB performs it (a Put walks the chain for the key
// before it inserts). Returns false when the DB would stop: Reserve failed or
// the index is unhealthy (the DB then refuses every later operation).
bool RunOp(LinearIndex* index, uint8_t op, uint64_t n) {
  const uint64_t h =
      (HashInBucket(op >> 2, index->level(), n) ^ (op & 0x80 ? n : 0)) &
      kHashMask48;
  auto none = [](Bucket*, int) { return false; };
  switch (op & 3) {
    case 0:
      index->ForEachCandidate(h, none);
      break;
    case 1:
      if (!index->Reserve().ok()) return false;
      index->ForEachCandidate(h, none);
      if (!index->health().ok()) return false;
      index->Insert(index->FindHole(h), h,
                    MakeLoc(h, 2, 64 + static_cast<uint32_t>(n)));
      break;
    case 2: {
      SlotRef found;
      index->ForEachCandidate(h, [&](Bucket* b, int i) {
        found = {b, i};
        return true;
      });
      if (found.bucket != nullptr && index->health().ok()) index->Remove(found);
      break;
    }
    default: {
      uint64_t slots = 0;
      index->ForEachSlot([&](uint64_t, uint32_t) { ++slots; });
      break;
    }
  }
  return index->health().ok();
}

Status AttachStructured(LinearIndex* index, const Structured& st) {
  LinearIndex::Image im;
  im.level = st.level;
  im.split = st.split;
  im.num_overflow = st.no;
  im.key_count = st.keys;
  im.salt = 11;
  im.chunk_crcs =
      LinearIndex::ChunkChecksums(st.image->data(), st.np, st.no, im.salt);
  std::shared_ptr<const std::string> image = st.image;
  im.read = [image](uint64_t offset, size_t n, char* dst) -> Status {
    if (offset > image->size() || n > image->size() - offset) {
      return Status::Corruption("short image");
    }
    std::memcpy(dst, image->data() + offset, n);
    return Status::OK();
  };
  KVB_RETURN_IF_ERROR(index->Attach(std::move(im)));
  return index->LoadAll();
}

void RunStructured(const uint8_t* data, size_t size) {
  const Structured st = DescribeImage(data, size);
  LinearIndex index(0.8);
  if (!AttachStructured(&index, st).ok()) return;
  // Verified on a copy, so the index under test is exactly what Open attaches.
  LinearIndex probe(0.8);
  const bool valid = AttachStructured(&probe, st).ok() && probe.Verify().ok();
  for (size_t i = st.pos; i < size; ++i) {
    if (!RunOp(&index, data[i], i)) break;
  }
  const Status health = index.health();
  if (valid && !health.ok()) {
    fuzz::Fail("a verified index became unhealthy", health);
  }
  if (valid && !index.Verify().ok()) {
    fuzz::Fail("a verified index no longer verifies", index.Verify());
  }
  if (!health.ok() && index.Reserve().ok()) {
    fuzz::Fail("an unhealthy index accepts a Reserve");
  }
}

}  // namespace
}  // namespace kvb::linhash

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb::linhash;
  if (size < 4 || size > (1 << 20)) return 0;
  if ((data[0] & 2) != 0) {
    RunStructured(data, size);
    return 0;
  }
  if (size < 9) return 0;
  const bool keep_crcs = (data[0] & 1) != 0;
  const uint32_t level = data[1] % 8;
  const uint64_t split = (data[2] | data[3] << 8) % (uint64_t{1} << level);
  const size_t nfree = data[4];
  const uint64_t key_count = Le32(data + 5);
  size_t pos = 9;
  std::vector<uint32_t> free_list;
  for (size_t i = 0; i < nfree && pos + 4 <= size; ++i, pos += 4) {
    free_list.push_back(Le32(data + pos));
  }
  std::vector<uint32_t> crcs;
  auto image = std::make_shared<std::string>(
      reinterpret_cast<const char*>(data + pos), size - pos);
  image->resize(image->size() / sizeof(Bucket) * sizeof(Bucket));
  const uint64_t np = (uint64_t{1} << level) + split;
  if (image->size() < np * sizeof(Bucket))
    image->resize(np * sizeof(Bucket), '\0');
  const uint64_t no = image->size() / sizeof(Bucket) - np;
  if (keep_crcs) {
    // The CRCs are read from the first bytes of the bucket area (they also stay
    // buckets).
    const uint64_t n = LinearIndex::ChunksFor(np) + LinearIndex::ChunksFor(no);
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* p = data + pos + 4 * i;
      crcs.push_back(pos + 4 * i + 4 <= size ? Le32(p) : 0);
    }
  }
  LinearIndex index(0.8);
  if (AttachImage(&index, level, split, no, key_count, image, free_list,
                  keep_crcs ? &crcs : nullptr)
          .ok()) {
    CheckLoaded(&index);
  }
  return 0;
}
