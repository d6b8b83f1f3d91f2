// Hash functions used by engines. Both are stable across platforms and
// versions: they are part of on-disk formats.
#ifndef KVB_CORE_HASH_H_
#define KVB_CORE_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kvb {

// MurmurHash3 x86_32 (Austin Appleby's reference, little-endian), as Pogreb
// uses it.
uint32_t Murmur3_32(const void* data, size_t n, uint32_t seed);
inline uint32_t Murmur3_32(std::string_view s, uint32_t seed) {
  return Murmur3_32(s.data(), s.size(), seed);
}

// XXH3 64-bit (libxxhash) with a seed: the 64-bit hash for indexes and
// in-memory tables.
uint64_t Hash64(const void* data, size_t n, uint64_t seed = 0);
inline uint64_t Hash64(std::string_view s, uint64_t seed = 0) {
  return Hash64(s.data(), s.size(), seed);
}

}  // namespace kvb

#endif  // KVB_CORE_HASH_H_
