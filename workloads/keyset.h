// KeySet — every key a run can touch, generated once before any timed phase.
//
// Key id i (0 <= i < count) maps to one byte string, unique by construction:
//   hashed order (default): the first 11 bytes spell Mix64(i ^ seed) — a
//   bijection — in a
//     64-letter printable alphabet, so byte order is unrelated to id order
//     (like YCSB's insertorder=hashed); further bytes are printable filler from
//     (seed, i);
//   ordered: the first bytes spell i itself in an order-preserving alphabet,
//   zero-padded to
//     11 letters, so byte order equals id order (db_bench fillseq, YCSB
//     insertorder=ordered).
// Keys shorter than 11 bytes spell i in as many letters as they have (so count
// must fit in 64^length). Key lengths are drawn from the size distribution per
// id. The keys live in one arena (no per-key allocation) with a 32-bit hash of
// each key for the value codec, so per-op key lookup is two array reads. Thread
// safety: immutable after Build; share freely.
#ifndef KVB_WORKLOADS_KEYSET_H_
#define KVB_WORKLOADS_KEYSET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "workloads/sizes.h"

namespace kvb {

class KeySet {
 public:
  // InvalidArgument if a key length is 0 or too short to hold `count` distinct
  // keys.
  static Result<KeySet> Build(uint64_t count, const SizeDist& key_size,
                              bool ordered, uint64_t seed);

  uint64_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  std::string_view key(uint64_t id) const {
    return std::string_view(arena_.data() + offsets_[id],
                            offsets_[id + 1] - offsets_[id]);
  }
  uint32_t hash(uint64_t id) const { return hashes_[id]; }
  // Cache hints for a key about to be used: stage 1 fetches its offsets, stage
  // 2 (issued a few ops later, when the offsets are cached) its bytes and hash.
  // Keeps loops over large key sets from stalling on DRAM for harness metadata.
  void PrefetchIndex(uint64_t id) const { __builtin_prefetch(&offsets_[id]); }
  void PrefetchKey(uint64_t id) const {
    __builtin_prefetch(arena_.data() + offsets_[id]);
    __builtin_prefetch(&hashes_[id]);
  }
  uint64_t memory_bytes() const {
    return arena_.size() + offsets_.size() * sizeof(uint64_t) +
           hashes_.size() * 4;
  }

 private:
  std::string arena_;
  std::vector<uint64_t> offsets_;
  std::vector<uint32_t> hashes_;
};

// The 32-bit key hash the value codec stores (low bits of Hash64(key, seed)).
uint32_t KeyHash32(std::string_view key, uint64_t seed);

}  // namespace kvb

#endif  // KVB_WORKLOADS_KEYSET_H_
