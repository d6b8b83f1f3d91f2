#include "core/checksum.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "core/checksum_internal.h"

namespace kvb {
namespace {

// Vectors from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check
// value.
TEST_CASE("Crc32c matches standard vectors", "[checksum]") {
  CHECK(Crc32c("123456789") == 0xe3069283u);
  CHECK(Crc32c(std::string(32, '\0')) == 0x8a9136aau);
  CHECK(Crc32c(std::string(32, '\xff')) == 0x62a8ab43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  CHECK(Crc32c(ascending) == 0x46dd794eu);
  CHECK(Crc32c("") == 0u);
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_CASE("hardware and portable CRC paths agree", "[checksum]") {
  if (!internal::Crc32cHardwareAvailable()) {
    WARN("no SSE4.2: only the portable path is exercised");
    return;
  }
  std::mt19937_64 rng(42);
  for (size_t n = 0; n < 300; ++n) {
    std::string data = RandomBytes(rng, n);
    // Odd starting offsets exercise unaligned loads in both paths.
    for (size_t off = 0; off < std::min<size_t>(n, 9); ++off) {
      uint32_t init = static_cast<uint32_t>(rng());
      CHECK(internal::Crc32cHardwareUpdate(init, data.data() + off, n - off) ==
            internal::Crc32cPortableUpdate(init, data.data() + off, n - off));
    }
  }
}

TEST_CASE("Crc32cExtend composes", "[checksum]") {
  std::mt19937_64 rng(7);
  std::string data = RandomBytes(rng, 1000);
  const uint32_t whole = Crc32c(data);
  for (size_t split : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    uint32_t first = Crc32c(data.data(), split);
    CHECK(Crc32cExtend(first, data.data() + split, data.size() - split) ==
          whole);
  }
  CHECK(Crc32cExtend(Crc32c("1234"), "56789", 5) == 0xe3069283u);
}

TEST_CASE("CRC detects single-bit flips", "[checksum]") {
  std::string data(64, 'a');
  const uint32_t base = Crc32c(data);
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    std::string copy = data;
    copy[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    CHECK(Crc32c(copy) != base);
  }
}

TEST_CASE("MaskCrc round-trips and changes the value", "[checksum]") {
  for (uint32_t crc : {0u, 1u, 0xe3069283u, 0xffffffffu}) {
    CHECK(UnmaskCrc(MaskCrc(crc)) == crc);
    CHECK(MaskCrc(crc) != crc);
  }
}

}  // namespace
}  // namespace kvb
