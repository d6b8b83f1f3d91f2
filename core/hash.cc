#include "core/hash.h"

#include <xxhash.h>

#include <cstring>

namespace kvb {
namespace {

inline uint32_t Rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

// The final avalanche of MurmurHash3: every input bit affects every output bit.
inline uint32_t Fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

}  // namespace

uint32_t Murmur3_32(const void* data, size_t n, uint32_t seed) {
  constexpr uint32_t kC1 = 0xcc9e2d51u;
  constexpr uint32_t kC2 = 0x1b873593u;
  const auto* p = static_cast<const unsigned char*>(data);
  const size_t nblocks = n / 4;
  uint32_t h = seed;

  for (size_t i = 0; i < nblocks; ++i) {
    uint32_t k;
    std::memcpy(&k, p + 4 * i, 4);  // little-endian load, unaligned-safe
    k *= kC1;
    k = Rotl32(k, 15);
    k *= kC2;
    h ^= k;
    h = Rotl32(h, 13);
    h = h * 5 + 0xe6546b64u;
  }

  const unsigned char* tail = p + 4 * nblocks;
  uint32_t k = 0;
  switch (n & 3) {
    case 3:
      k ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= kC1;
      k = Rotl32(k, 15);
      k *= kC2;
      h ^= k;
  }

  // The reference mixes in the length as a 32-bit value.
  h ^= static_cast<uint32_t>(n);
  return Fmix32(h);
}

uint64_t Hash64(const void* data, size_t n, uint64_t seed) {
  return XXH3_64bits_withSeed(data, n, seed);
}

}  // namespace kvb
