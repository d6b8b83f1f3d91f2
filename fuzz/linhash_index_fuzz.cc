// linhash's checkpoint bucket decoder (LinearIndex::Attach + LoadAll + Verify)
// on arbitrary bucket images.
//
// Input: byte 0 flags (bit 0: take the chunk CRCs from the input instead of
// computing them, so both the CRC check and the structural checks behind it are
// reachable), byte 1 level (mod 8), bytes 2-3 split, byte 4 free-list length,
// bytes 5-8 key count, then the free list (u32 each), then (bit 0) one u32 CRC
// per chunk, then 128-byte buckets (primary then overflow; missing primary
// buckets are zero). Properties: nothing crashes; after a Verify that passes,
// the slots reachable from the primary buckets are exactly count(), lookups and
// inserts work, and a snapshot attaches and verifies again.
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

}  // namespace
}  // namespace kvb::linhash

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb::linhash;
  if (size < 9 || size > (1 << 20)) return 0;
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
