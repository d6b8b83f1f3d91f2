#include "core/checksum.h"

#include <array>
#include <cstring>

#include "core/checksum_internal.h"

namespace kvb {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // CRC-32C, reflected

// Slicing-by-8 tables: kTables[0] is the classic byte table; kTables[k][b] is
// the CRC of byte b followed by k zero bytes, so eight bytes can be folded with
// eight independent lookups.
using Tables = std::array<std::array<uint32_t, 256>, 8>;
constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1) ? kPoly : 0);
    t[0][b] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
  }
  return t;
}
constexpr Tables kTables = MakeTables();

#if defined(__x86_64__)
// The SSE4.2 crc32 instruction computes exactly the reflected CRC-32C step (no
// pre/post inversion), eight bytes per instruction.
__attribute__((target("sse4.2"))) uint32_t HardwareUpdate(
    uint32_t crc, const unsigned char* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, *p);
    ++p;
    --n;
  }
  return c32;
}
#endif

bool DetectHardware() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

}  // namespace

namespace internal {

uint32_t Crc32cPortableUpdate(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (n >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^
          kTables[5][(lo >> 16) & 0xff] ^ kTables[4][lo >> 24] ^
          kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
          kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ *p) & 0xff];
    ++p;
    --n;
  }
  return crc;
}

bool Crc32cHardwareAvailable() {
  static const bool available = DetectHardware();
  return available;
}

uint32_t Crc32cHardwareUpdate(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  return HardwareUpdate(crc, static_cast<const unsigned char*>(data), n);
#else
  return Crc32cPortableUpdate(crc, data, n);
#endif
}

}  // namespace internal

uint32_t Crc32cExtend(uint32_t init, const void* data, size_t n) {
  // The stored CRC is the final (inverted) value; undo the inversion to
  // continue it.
  uint32_t crc = ~init;
  crc = internal::Crc32cHardwareAvailable()
            ? internal::Crc32cHardwareUpdate(crc, data, n)
            : internal::Crc32cPortableUpdate(crc, data, n);
  return ~crc;
}

}  // namespace kvb
