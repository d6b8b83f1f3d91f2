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
                             bool ordered, uint64_t seed, KeyStorage storage) {
  if (key_size.min == 0)
    return Status::InvalidArgument("key size must be at least 1 byte");
  if (key_size.min < kPrefixLetters &&
      std::log2(static_cast<double>(count)) > 6.0 * key_size.min) {
    return Status::InvalidArgument("key size " + std::to_string(key_size.min) +
                                   " is too short for " +
                                   std::to_string(count) + " distinct keys");
  }
  KeySet ks;
  ks.count_ = count;
  ks.storage_ = storage;
  ks.key_size_ = key_size;
  ks.ordered_ = ordered;
  ks.seed_ = seed;
  ks.size_seed_ = StreamSeed(seed, 0x6b657973);  // "keys"
  if (storage == KeyStorage::kComputed) return ks;
  ks.offsets_.reserve(count + 1);
  ks.hashes_.reserve(count);
  ks.arena_.reserve(static_cast<size_t>(count * key_size.Mean()) + 64);
  std::string key;
  for (uint64_t i = 0; i < count; ++i) {
    ks.offsets_.push_back(ks.arena_.size());
    ks.SpellKey(i, &key);
    ks.arena_ += key;
    ks.hashes_.push_back(KeyHash32(key, seed));
  }
  ks.offsets_.push_back(ks.arena_.size());
  return ks;
}

KeyStorage KeySet::StorageFor(uint64_t count, const SizeDist& key_size) {
  const double stored =
      count * (key_size.Mean() + sizeof(uint64_t) + sizeof(uint32_t));
  return stored <= kMaxStoredBytes ? KeyStorage::kStored
                                   : KeyStorage::kComputed;
}

void KeySet::SpellKey(uint64_t id, std::string* out) const {
  const uint32_t len = key_size_.Pick(Mix64(size_seed_ ^ id));
  out->resize(len);
  char* k = out->data();
  if (len < kPrefixLetters) {
    Spell(id, static_cast<int>(len), k);
    return;
  }
  Spell(ordered_ ? id : Mix64(id ^ seed_), kPrefixLetters, k);
  uint64_t filler = Mix64(size_seed_ + id);
  for (uint32_t j = kPrefixLetters; j < len; ++j) {
    if ((j - kPrefixLetters) % 10 == 0) filler = Mix64(filler);
    k[j] = kAlphabet[filler & 63];
    filler >>= 6;
  }
}

uint32_t KeySet::hash(uint64_t id) const {
  if (storage_ == KeyStorage::kStored) return hashes_[id];
  thread_local std::string key;  // no allocation per call after the first
  SpellKey(id, &key);
  return KeyHash32(key, seed_);
}

}  // namespace kvb
