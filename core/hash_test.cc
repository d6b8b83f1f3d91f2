#include "core/hash.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace kvb {
namespace {

// Vectors of the reference MurmurHash3_x86_32 (smhasher), cross-checked with an
// independent Python transcription of the algorithm as described in
// specs/pogreb.md §4.
TEST_CASE("Murmur3_32 matches reference vectors", "[hash]") {
  CHECK(Murmur3_32("", 0) == 0u);
  CHECK(Murmur3_32("", 1) == 0x514e28b7u);
  CHECK(Murmur3_32("", 0xffffffffu) == 0x81f16f39u);
  CHECK(Murmur3_32("a", 0) == 0x3c2569b2u);
  CHECK(Murmur3_32("ab", 0x9747b28cu) == 0x74875592u);
  CHECK(Murmur3_32("abc", 0) == 0xb3dd93fau);
  CHECK(Murmur3_32("test", 0) == 0xba6bd213u);
  CHECK(Murmur3_32("aaaa", 0x9747b28cu) == 0x5a97808au);
  CHECK(Murmur3_32("hello", 0) == 0x248bfa47u);
  CHECK(Murmur3_32("Hello, world!", 1234) == 0xfaf6cdb3u);
  CHECK(Murmur3_32("The quick brown fox jumps over the lazy dog", 0) ==
        0x2e4ff723u);
}

TEST_CASE("Murmur3_32 reads unaligned input correctly", "[hash]") {
  std::string buf = "xHello, world!";
  CHECK(Murmur3_32(buf.data() + 1, buf.size() - 1, 1234) == 0xfaf6cdb3u);
}

// Note: Hash64("abc", 0) with a string literal picks the (pointer, length)
// overload; pass a std::string_view to get the seeded string overload.
TEST_CASE("Hash64 is XXH3-64 with seed", "[hash]") {
  using namespace std::string_view_literals;
  CHECK(Hash64(""sv, 0) ==
        0x2d06800538d394c2ull);  // XXH3_64bits("") reference value
  CHECK(Hash64("abc"sv) == Hash64("abc"sv, 0));
  CHECK(Hash64("abc"sv, 1) != Hash64("abc"sv, 2));
  CHECK(Hash64("abc"sv, 7) == Hash64("abc", 3, 7));
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(Hash64("key" + std::to_string(i)));
  CHECK(seen.size() == 1000);
}

}  // namespace
}  // namespace kvb
