#include "workloads/keyset.h"

#include <cmath>

#include "core/hash.h"
#include "workloads/random.h"

namespace kvb {
namespace {

// 64 printable letters in ascending ASCII order, so "ordered" keys sort like
// their ids.
constexpr char kAlphabet[] =
    "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
constexpr int kPrefixLetters = 11;  // 11 x 6 bits >= 64 bits

void Spell(uint64_t v, int letters, char* out) {
  for (int i = letters - 1; i >= 0; --i) {
    out[i] = kAlphabet[v & 63];
    v >>= 6;
  }
}

}  // namespace

uint32_t KeyHash32(std::string_view key, uint64_t seed) {
  return static_cast<uint32_t>(Hash64(key, seed));
}

Result<KeySet> KeySet::Build(uint64_t count, const SizeDist& key_size,
                             bool ordered, uint64_t seed) {
  if (key_size.min == 0)
    return Status::InvalidArgument("key size must be at least 1 byte");
  if (key_size.min < kPrefixLetters &&
      std::log2(static_cast<double>(count)) > 6.0 * key_size.min) {
    return Status::InvalidArgument("key size " + std::to_string(key_size.min) +
                                   " is too short for " +
                                   std::to_string(count) + " distinct keys");
  }
  KeySet ks;
  ks.offsets_.reserve(count + 1);
  ks.hashes_.reserve(count);
  ks.arena_.reserve(static_cast<size_t>(count * key_size.Mean()) + 64);
  const uint64_t size_seed = StreamSeed(seed, 0x6b657973);  // "keys"
  for (uint64_t i = 0; i < count; ++i) {
    ks.offsets_.push_back(ks.arena_.size());
    uint32_t len = key_size.Pick(Mix64(size_seed ^ i));
    char buf[kPrefixLetters];
    size_t start = ks.arena_.size();
    ks.arena_.resize(start + len);
    char* k = ks.arena_.data() + start;
    if (len < kPrefixLetters) {
      Spell(i, static_cast<int>(len), k);
    } else {
      Spell(ordered ? i : Mix64(i ^ seed), kPrefixLetters, buf);
      std::copy(buf, buf + kPrefixLetters, k);
      uint64_t filler = Mix64(size_seed + i);
      for (uint32_t j = kPrefixLetters; j < len; ++j) {
        if ((j - kPrefixLetters) % 10 == 0) filler = Mix64(filler);
        k[j] = kAlphabet[filler & 63];
        filler >>= 6;
      }
    }
    ks.hashes_.push_back(KeyHash32(std::string_view(k, len), seed));
  }
  ks.offsets_.push_back(ks.arena_.size());
  return ks;
}

}  // namespace kvb
