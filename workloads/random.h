// Cheap deterministic randomness for workload generation.
//
// Everything a workload draws (key sizes, value bytes, request keys, op
// choices) comes from SplitMix64 streams seeded from the workload seed, so a
// run is reproducible from its seed alone. SplitMix64 is a few cycles per draw,
// which keeps generation out of measured time. Thread safety: an Rng is owned
// by one thread; the free functions are pure.
#ifndef KVB_WORKLOADS_RANDOM_H_
#define KVB_WORKLOADS_RANDOM_H_

#include <cstdint>

namespace kvb {

// The SplitMix64 finaliser: a bijection on 64-bit values with good avalanche.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A value uniform in [0, n) from a uniform 64-bit `r` (Lemire's multiply-shift;
// the bias is below 2^-64 * n, far under anything a benchmark can see).
inline uint64_t ScaleBelow(uint64_t r, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(r) * n) >> 64);
}

// A double uniform in [0, 1) from the top 53 bits of `r`.
inline double ToUnit(uint64_t r) {
  return static_cast<double>(r >> 11) * 0x1.0p-53;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ull;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return ScaleBelow(Next(), n); }
  double Unit() { return ToUnit(Next()); }

 private:
  uint64_t state_;
};

// Derives an independent stream seed for (seed, stream) such as a thread index.
inline uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  return Mix64(seed ^ Mix64(stream + 0x5851f42d4c957f2dull));
}

}  // namespace kvb

#endif  // KVB_WORKLOADS_RANDOM_H_
