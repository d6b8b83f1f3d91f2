// Shared by the parent and child sides of `kvbench crash` (crash/crash.h):
// both must build the same keys and values from a trial seed.
#ifndef KVB_CRASH_CRASH_INTERNAL_H_
#define KVB_CRASH_CRASH_INTERNAL_H_

#include <cstdint>

#include "workloads/sizes.h"

namespace kvb {

// 16-byte printable keys (KeySet, hashed order); values of 24-2048 bytes, so
// small records and multi-block ones both occur.
inline SizeDist CrashKeySizes() { return SizeDist::Fixed(16); }
inline SizeDist CrashValueSizes() { return SizeDist::Uniform(24, 2048); }
// One op in this many is a delete; the rest are puts of a new version.
inline constexpr uint64_t kCrashDeleteOneIn = 5;

}  // namespace kvb

#endif  // KVB_CRASH_CRASH_INTERNAL_H_
