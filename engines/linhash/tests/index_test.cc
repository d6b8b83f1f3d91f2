// Unit tests of the linear-hashing index on its own: addressing, splits,
// overflow chains, holes, fingerprints and the checkpoint image.
#include "engines/linhash/index.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "core/testing/test_util.h"

namespace kvb::linhash {
namespace {

// Inserts (h -> loc) the way the DB does: reserve, find a hole, insert.
void Add(LinearIndex* idx, uint64_t h, uint64_t loc) {
  REQUIRE_OK(idx->Reserve());
  idx->Insert(idx->FindHole(h), h, loc);
}

SlotRef Find(const LinearIndex& idx, uint64_t h, uint64_t loc) {
  SlotRef out;
  idx.ForEachCandidate(h, [&](Bucket* b, int i) {
    if (b->loc[i] != loc) return false;
    out = {b, i};
    return true;
  });
  return out;
}

LinearIndex::ReadFn ReaderOf(const std::string& img) {
  return [&img](uint64_t off, size_t n, char* dst) {
    if (off + n > img.size()) return Status::Corruption("short image");
    std::memcpy(dst, img.data() + off, n);
    return Status::OK();
  };
}

// A checkpoint image of idx: its buckets and their chunk checksums.
struct Snapshot {
  std::string buckets;
  std::vector<uint32_t> crcs;
};
Snapshot Snap(const LinearIndex& idx, uint64_t salt = 9) {
  Snapshot s;
  REQUIRE_OK(idx.SnapshotBuckets(&s.buckets));
  s.crcs = LinearIndex::ChunkChecksums(s.buckets.data(), idx.num_primary(),
                                       idx.num_overflow(), salt);
  return s;
}

// Attaches `copy` to the image (as Open does) with the given key count.
Status AttachTo(LinearIndex* copy, const LinearIndex& idx,
                const std::string& buckets, const std::vector<uint32_t>& crcs,
                uint64_t key_count, uint64_t salt = 9) {
  LinearIndex::Image im;
  im.level = idx.level();
  im.split = idx.split();
  im.num_overflow = idx.num_overflow();
  im.key_count = key_count;
  im.free_list = idx.free_list();
  im.chunk_crcs = crcs;
  im.salt = salt;
  im.read = ReaderOf(buckets);
  return copy->Attach(std::move(im));
}

uint64_t LocFor(uint64_t h, uint64_t n) {
  return MakeLoc(h, static_cast<uint32_t>(n % 7),
                 static_cast<uint32_t>(64 + n));
}

TEST_CASE("index splits keep every slot findable and in its bucket",
          "[linhash][index]") {
  LinearIndex idx(0.8);
  std::mt19937_64 rng(7);
  std::map<uint64_t, uint64_t> all;
  for (uint64_t n = 0; n < 20000; ++n) {
    uint64_t h = rng();
    Add(&idx, h, LocFor(h, n));
    all[h] = LocFor(h, n);
  }
  CHECK(idx.count() == 20000);
  // 20000 keys at load 0.8 with 10 slots per bucket: 2500 primary buckets,
  // level 11.
  CHECK(idx.num_primary() >= 2500);
  CHECK(idx.level() == 11);
  CHECK(static_cast<double>(idx.count()) <=
        0.8 * 10 * static_cast<double>(idx.num_primary()));
  for (const auto& [h, loc] : all) {
    SlotRef r = Find(idx, h, loc);
    REQUIRE(r.bucket != nullptr);
  }
  // The checkpoint image round-trips: attached lazily, chunks load on first
  // use, and the full structural check passes.
  Snapshot img = Snap(idx);
  LinearIndex copy(0.8);
  REQUIRE_OK(AttachTo(&copy, idx, img.buckets, img.crcs, idx.count()));
  CHECK(copy.chunks_loaded() == 0);
  for (const auto& [h, loc] : all)
    REQUIRE(Find(copy, h, loc).bucket != nullptr);
  CHECK(copy.chunks_loaded() > 0);
  REQUIRE_OK(copy.health());
  REQUIRE_OK(copy.Verify());
  // And it keeps growing past the image (the partial last chunk is loaded,
  // not replaced).
  for (uint64_t n = 0; n < 20000; ++n) {
    uint64_t h = rng();
    Add(&copy, h, LocFor(h, n));
    all[h] = LocFor(h, n);
  }
  for (const auto& [h, loc] : all)
    REQUIRE(Find(copy, h, loc).bucket != nullptr);
  REQUIRE_OK(copy.Verify());
}

TEST_CASE("lazy chunks: concurrent first touch, many chunks",
          "[linhash][index]") {
  LinearIndex idx(0.8);
  std::mt19937_64 rng(11);
  std::vector<uint64_t> hs;
  // 400k keys: ~50k primary buckets = 4 primary chunks plus overflow chunks.
  for (uint64_t n = 0; n < 400000; ++n) {
    hs.push_back(rng());
    Add(&idx, hs.back(), LocFor(hs.back(), n));
  }
  Snapshot img = Snap(idx);
  LinearIndex copy(0.8);
  REQUIRE_OK(AttachTo(&copy, idx, img.buckets, img.crcs, idx.count()));
  std::atomic<int> missing{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (size_t n = t; n < hs.size(); n += 4) {
        if (Find(copy, hs[n], LocFor(hs[n], n)).bucket == nullptr) missing++;
      }
    });
  }
  for (auto& th : ts) th.join();
  CHECK(missing.load() == 0);
  CHECK(copy.chunks_loaded() == LinearIndex::ChunksFor(idx.num_primary()) +
                                    LinearIndex::ChunksFor(idx.num_overflow()));
  REQUIRE_OK(copy.health());
}

TEST_CASE(
    "index fingerprints: only slots with equal 48 hash bits are candidates",
    "[linhash][index]") {
  LinearIndex idx(0.8);
  const uint64_t a = 0x0000'1234'5678'9abcull;
  const uint64_t b =
      a | (uint64_t{1} << 40);  // same bucket bits, different fingerprint bits
  const uint64_t c =
      a | (uint64_t{1} << 50);  // differs only above bit 47: same slot hash
  Add(&idx, a, MakeLoc(a, 1, 100));
  Add(&idx, b, MakeLoc(b, 1, 200));
  int cands = 0;
  idx.ForEachCandidate(a, [&](Bucket*, int) {
    ++cands;
    return false;
  });
  CHECK(cands == 1);
  cands = 0;
  idx.ForEachCandidate(c, [&](Bucket*, int) {
    ++cands;
    return false;
  });
  CHECK(cands ==
        1);  // a true 48-bit collision: the DB resolves it by comparing keys
}

TEST_CASE("index overflow chains, holes and reuse under forced collisions",
          "[linhash][index]") {
  LinearIndex idx(0.8);
  // Every hash has the same low 20 bits: all keys share one chain until
  // level 20.
  std::vector<uint64_t> hs;
  for (uint64_t n = 0; n < 45; ++n) hs.push_back((n << 20) | 0x5);
  for (uint64_t n = 0; n < hs.size(); ++n) Add(&idx, hs[n], LocFor(hs[n], n));
  const uint64_t b = idx.BucketFor(hs[0]);
  for (uint64_t h : hs) REQUIRE(idx.BucketFor(h) == b);
  CHECK(idx.TEST_ChainLength(b) == 5);  // 45 slots need 5 buckets of 10
  // Delete one from the primary bucket: a hole, the chain stays.
  SlotRef r = Find(idx, hs[3], LocFor(hs[3], 3));
  REQUIRE(r.bucket == idx.Primary(b));
  idx.Remove(r);
  CHECK(idx.count() == 44);
  CHECK(Find(idx, hs[3], LocFor(hs[3], 3)).bucket == nullptr);
  SlotRef hole = idx.FindHole(hs[0]);
  CHECK(hole.bucket == r.bucket);
  CHECK(hole.slot == r.slot);
  // Every other key is still found, including those in overflow buckets.
  for (uint64_t n = 0; n < hs.size(); ++n) {
    if (n != 3) REQUIRE(Find(idx, hs[n], LocFor(hs[n], n)).bucket != nullptr);
  }
  // Replace keeps the slot.
  SlotRef last = Find(idx, hs[44], LocFor(hs[44], 44));
  idx.Replace(last, MakeLoc(hs[44], 9, 999));
  CHECK(Find(idx, hs[44], MakeLoc(hs[44], 9, 999)).bucket == last.bucket);
}

TEST_CASE("index load rejects damaged images", "[linhash][index]") {
  LinearIndex idx(0.8);
  std::mt19937_64 rng(3);
  for (uint64_t n = 0; n < 500; ++n) {
    uint64_t h = rng();
    Add(&idx, h, LocFor(h, n));
  }
  Snapshot img = Snap(idx);
  SECTION("bit flip in a bucket: the lazy load fails, the chunk reads empty") {
    img.buckets[img.buckets.size() / 2] ^= 0x10;
    LinearIndex copy(0.8);
    REQUIRE_OK(AttachTo(&copy, idx, img.buckets, img.crcs, idx.count()));
    CHECK(copy.LoadAll().IsCorruption());
    CHECK(copy.health().IsCorruption());
    std::string again;
    CHECK(copy.SnapshotBuckets(&again).IsCorruption());
    CHECK(copy.Reserve().IsCorruption());
  }
  SECTION("wrong key count") {
    LinearIndex copy(0.8);
    REQUIRE_OK(AttachTo(&copy, idx, img.buckets, img.crcs, idx.count() + 1));
    CHECK(copy.Verify().IsCorruption());
  }
  SECTION("buckets swapped") {
    std::string swapped = img.buckets;
    std::memcpy(swapped.data(), img.buckets.data() + sizeof(Bucket),
                sizeof(Bucket));
    std::memcpy(swapped.data() + sizeof(Bucket), img.buckets.data(),
                sizeof(Bucket));
    LinearIndex copy(0.8);
    REQUIRE_OK(AttachTo(&copy, idx, swapped, img.crcs, idx.count()));
    CHECK(copy.LoadAll().IsCorruption());
  }
  SECTION("a chunk of another checkpoint (other salt)") {
    LinearIndex copy(0.8);
    REQUIRE_OK(AttachTo(&copy, idx, img.buckets, img.crcs, idx.count(), 10));
    CHECK(copy.LoadAll().IsCorruption());
  }
  SECTION("chunk table of the wrong size") {
    LinearIndex copy(0.8);
    std::vector<uint32_t> crcs = img.crcs;
    crcs.push_back(0);
    CHECK(AttachTo(&copy, idx, img.buckets, crcs, idx.count()).IsCorruption());
    CHECK(copy.count() == 0);
  }
}

// A checkpoint image whose chain of bucket `b` loops back on itself, with
// valid chunk CRCs (issue 14, defect 4): every walk must end with Corruption.
TEST_CASE("a cyclic overflow chain in a checkpoint is Corruption, not a hang",
          "[linhash][index]") {
  LinearIndex idx(0.8);
  std::vector<uint64_t> hs;
  for (uint64_t n = 0; n < 50; ++n) hs.push_back((n << 20) | 0x5);  // full
  for (uint64_t n = 0; n < hs.size(); ++n) Add(&idx, hs[n], LocFor(hs[n], n));
  const uint64_t b = idx.BucketFor(hs[0]);
  REQUIRE(idx.TEST_ChainLength(b) == 5);
  Snapshot img = Snap(idx);
  // Link the last overflow bucket of the chain back to the first one.
  auto* buckets = reinterpret_cast<Bucket*>(img.buckets.data());
  Bucket* tail = &buckets[b];
  while (tail->next != 0) tail = &buckets[idx.num_primary() + tail->next - 1];
  tail->next = buckets[b].next;
  img.crcs = LinearIndex::ChunkChecksums(img.buckets.data(), idx.num_primary(),
                                         idx.num_overflow(), 9);
  LinearIndex copy(0.8);
  REQUIRE_OK(AttachTo(&copy, idx, img.buckets, img.crcs, idx.count()));
  REQUIRE_OK(copy.LoadAll());  // CRCs and link ranges are fine

  SECTION("lookup of an absent key") {
    const uint64_t absent = (uint64_t{999} << 20) | 0x5;
    CHECK(!copy.ForEachCandidate(absent, [](Bucket*, int) { return false; }));
    CHECK(copy.health().IsCorruption());
  }
  SECTION("insert into the full cyclic chain") {
    REQUIRE_OK(copy.Reserve());
    const uint64_t h = (uint64_t{1000} << 20) | 0x5;
    copy.Insert(copy.FindHole(h), h, LocFor(h, 1000));
    CHECK(copy.health().IsCorruption());
    CHECK(copy.Reserve().IsCorruption());
  }
  SECTION("walk of every slot, chain length, verify") {
    uint64_t n = 0;
    copy.ForEachSlot([&](uint64_t, uint32_t) { ++n; });
    CHECK(copy.health().IsCorruption());
    CHECK(copy.TEST_ChainLength(b) <=
          static_cast<int>(copy.num_overflow()) + 1);
    CHECK(copy.Verify().IsCorruption());
  }
  SECTION("splits that walk the cycle") {
    for (uint64_t n = 0; n < 200 && copy.health().ok(); ++n) {
      REQUIRE_OK(copy.Reserve());
      const uint64_t h = n * 0x9e3779b97f4a7c15ULL & kHashMask48;
      copy.Insert(copy.FindHole(h), h, LocFor(h, n));
    }
    CHECK(copy.health().IsCorruption());
  }
}

}  // namespace
}  // namespace kvb::linhash
