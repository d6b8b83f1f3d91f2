// KeySet — every key a run can touch, defined before any timed phase.
//
// Key id i (0 <= i < count) maps to one byte string, unique by construction:
//   hashed order (default): the first 11 bytes spell Mix64(i ^ seed) — a
//     bijection — in a 64-letter printable alphabet, so byte order is
//     unrelated to id order (like YCSB's insertorder=hashed); further bytes
//     are printable filler from (seed, i);
//   ordered: the first bytes spell i itself in an order-preserving alphabet,
//     zero-padded to 11 letters, so byte order equals id order (db_bench
//     fillseq, YCSB insertorder=ordered).
// Keys shorter than 11 bytes spell i in as many letters as they have (so count
// must fit in 64^length). Key lengths are drawn from the size distribution per
// id.
//
// Two storages give the same keys:
//   kStored: built once into one arena (no per-key allocation) with a 32-bit
//     hash of each key for the value codec, so a lookup is two array reads.
//   kComputed: nothing per key is kept; each lookup spells the key (~10-20
//     ns) into the caller's scratch.
// Stored is cheaper while the arena stays in cache; past that every lookup is
// three DRAM lines (offsets, bytes, hash) that also evict the engine's own
// data: at 1 M 16-byte keys the stored set is 28 MB against this machine's
// 32 MB L3, and RocksDB's uncached Gets ran ~20 % slower beside it than in
// db_bench. StorageFor picks stored only for sets that fit in a corner of L3.
// Thread safety: immutable after Build; share freely.
#ifndef KVB_WORKLOADS_KEYSET_H_
#define KVB_WORKLOADS_KEYSET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "workloads/sizes.h"

namespace kvb {

// The 32-bit key hash the value codec stores (low bits of Hash64(key, seed)).
uint32_t KeyHash32(std::string_view key, uint64_t seed);

enum class KeyStorage : uint8_t { kStored, kComputed };

class KeySet {
 public:
  // InvalidArgument if a key length is 0 or too short to hold `count` distinct
  // keys.
  static Result<KeySet> Build(uint64_t count, const SizeDist& key_size,
                              bool ordered, uint64_t seed,
                              KeyStorage storage = KeyStorage::kStored);

  // kStored when the stored form of `count` keys of `key_size` would take at
  // most kMaxStoredBytes, else kComputed.
  static constexpr uint64_t kMaxStoredBytes = 4 << 20;
  static KeyStorage StorageFor(uint64_t count, const SizeDist& key_size);

  uint64_t size() const { return count_; }
  KeyStorage storage() const { return storage_; }

  // Key `id`. kStored: a view into the set, valid as long as the set
  // (`scratch` is not touched). kComputed: spelled into *scratch; the view is
  // valid until *scratch changes.
  std::string_view key(uint64_t id, std::string* scratch) const {
    if (storage_ == KeyStorage::kStored) {
      return std::string_view(arena_.data() + offsets_[id],
                              offsets_[id + 1] - offsets_[id]);
    }
    SpellKey(id, scratch);
    return *scratch;
  }
  // Key `id` in *out, copied (kStored) or spelled (kComputed): the view is
  // valid until *out changes. For a caller that hands the key to an engine:
  // the key's bytes are then first touched here, not inside the engine call
  // (at 1 M stored keys that first touch is a DRAM miss).
  std::string_view KeyInto(uint64_t id, std::string* out) const {
    if (storage_ == KeyStorage::kStored) {
      out->assign(arena_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
      return *out;
    }
    SpellKey(id, out);
    return *out;
  }
  // KeyHash32 of key `id` (computed: spells the key to hash it).
  uint32_t hash(uint64_t id) const;
  // The same, for a caller that holds the key's bytes (`key` == key(id)):
  // computed sets hash them instead of spelling the key again.
  uint32_t hash(uint64_t id, std::string_view key) const {
    return storage_ == KeyStorage::kStored ? hashes_[id]
                                           : KeyHash32(key, seed_);
  }

  // Cache hints for a key about to be used: stage 1 fetches its offsets, stage
  // 2 (issued a few ops later, when the offsets are cached) its bytes and hash.
  // Keeps loops over large key sets from stalling on DRAM for harness metadata.
  // No-ops for kComputed, which has nothing to fetch.
  void PrefetchIndex(uint64_t id) const {
    if (storage_ == KeyStorage::kStored) __builtin_prefetch(&offsets_[id]);
  }
  void PrefetchKey(uint64_t id) const {
    if (storage_ != KeyStorage::kStored) return;
    __builtin_prefetch(arena_.data() + offsets_[id]);
    __builtin_prefetch(&hashes_[id]);
  }
  uint64_t memory_bytes() const {
    return arena_.size() + offsets_.size() * sizeof(uint64_t) +
           hashes_.size() * 4;
  }

 private:
  void SpellKey(uint64_t id, std::string* out) const;

  uint64_t count_ = 0;
  KeyStorage storage_ = KeyStorage::kStored;
  SizeDist key_size_ = SizeDist::Fixed(16);
  bool ordered_ = false;
  uint64_t seed_ = 0;
  uint64_t size_seed_ = 0;
  std::string arena_;
  std::vector<uint64_t> offsets_;
  std::vector<uint32_t> hashes_;
};

}  // namespace kvb

#endif  // KVB_WORKLOADS_KEYSET_H_
