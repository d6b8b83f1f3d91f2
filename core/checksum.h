// The one checksum of kvbench's on-disk formats: CRC-32C (Castagnoli),
// polynomial 0x1EDC6F41 reflected (0x82F63B78), initial value ~0 and final xor
// ~0 — the iSCSI/ext4/LevelDB CRC. Chosen over XXH3 because it is a standard
// whose values any tool can check, detects every burst error up to 32 bits, and
// runs in hardware (SSE4.2 crc32 instruction) where present, with a portable
// table fallback.
//
// Checksums stored next to data that may itself contain CRCs are masked
// (LevelDB's trick): Mask() rotates and adds a constant so a CRC of a CRC does
// not degenerate.
#ifndef KVB_CORE_CHECKSUM_H_
#define KVB_CORE_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kvb {

// CRC-32C of data[0, n) continuing from the CRC `init` of earlier data (0 to
// start). Crc32cExtend(Crc32c(a), b) == Crc32c(a + b).
uint32_t Crc32cExtend(uint32_t init, const void* data, size_t n);
inline uint32_t Crc32c(const void* data, size_t n) {
  return Crc32cExtend(0, data, n);
}
inline uint32_t Crc32c(std::string_view s) {
  return Crc32c(s.data(), s.size());
}

inline constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
inline uint32_t MaskCrc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta;
}
inline uint32_t UnmaskCrc(uint32_t masked) {
  uint32_t rot = masked - kCrcMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace kvb

#endif  // KVB_CORE_CHECKSUM_H_
