// Internals of core/checksum.cc, exposed so tests can check both CRC-32C paths
// agree. Not for engines: use Crc32c/Crc32cExtend from core/checksum.h.
#ifndef KVB_CORE_CHECKSUM_INTERNAL_H_
#define KVB_CORE_CHECKSUM_INTERNAL_H_

#include <cstddef>
#include <cstdint>

namespace kvb::internal {

// Raw CRC-32C register update (no pre/post inversion).
uint32_t Crc32cPortableUpdate(uint32_t crc, const void* data, size_t n);
// The SSE4.2 path. REQUIRES: Crc32cHardwareAvailable() (on non-x86 it is the
// portable path).
uint32_t Crc32cHardwareUpdate(uint32_t crc, const void* data, size_t n);
bool Crc32cHardwareAvailable();

}  // namespace kvb::internal

#endif  // KVB_CORE_CHECKSUM_INTERNAL_H_
