// Unit tests of the linear-hashing index on its own: addressing, splits,
// overflow chains, holes, fingerprints and the checkpoint image.
#include "engines/linhash/index.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <random>

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
  // The checkpoint image round-trips and Load re-checks every structural rule.
  std::string img;
  idx.SnapshotBuckets(&img);
  LinearIndex::SealBuckets(img.data(), img.size() / sizeof(Bucket));
  LinearIndex copy(0.8);
  REQUIRE_OK(copy.Load(idx.level(), idx.split(), idx.num_overflow(),
                       idx.count(), ReaderOf(img), idx.free_list()));
  for (const auto& [h, loc] : all)
    REQUIRE(Find(copy, h, loc).bucket != nullptr);
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
  std::string img;
  idx.SnapshotBuckets(&img);
  LinearIndex::SealBuckets(img.data(), img.size() / sizeof(Bucket));
  SECTION("bit flip in a bucket") {
    img[img.size() / 2] ^= 0x10;
    LinearIndex copy(0.8);
    CHECK(copy.Load(idx.level(), idx.split(), idx.num_overflow(), idx.count(),
                    ReaderOf(img), idx.free_list())
              .IsCorruption());
  }
  SECTION("wrong key count") {
    LinearIndex copy(0.8);
    CHECK(copy.Load(idx.level(), idx.split(), idx.num_overflow(),
                    idx.count() + 1, ReaderOf(img), idx.free_list())
              .IsCorruption());
  }
  SECTION("buckets swapped") {
    std::string swapped = img;
    std::memcpy(swapped.data(), img.data() + sizeof(Bucket), sizeof(Bucket));
    std::memcpy(swapped.data() + sizeof(Bucket), img.data(), sizeof(Bucket));
    LinearIndex copy(0.8);
    CHECK(copy.Load(idx.level(), idx.split(), idx.num_overflow(), idx.count(),
                    ReaderOf(swapped), idx.free_list())
              .IsCorruption());
  }
}

}  // namespace
}  // namespace kvb::linhash
