#include "core/coding.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace kvb {
namespace {

TEST_CASE("fixed-width encodings are little-endian", "[coding]") {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  REQUIRE(s.size() == 12);
  CHECK(s.substr(0, 4) == std::string("\x01\x02\x03\x04", 4));
  CHECK(DecodeFixed32(s.data()) == 0x04030201u);
  CHECK(DecodeFixed64(s.data() + 4) == 0x0807060504030201ull);
  char buf[2];
  EncodeFixed16(buf, 0xbeef);
  CHECK(DecodeFixed16(buf) == 0xbeef);
  CHECK(static_cast<unsigned char>(buf[0]) == 0xef);
}

TEST_CASE("varints round-trip at every length boundary", "[coding]") {
  std::vector<uint64_t> values = {
      0,         1,     127,   128,        255,
      300,       16383, 16384, UINT32_MAX, UINT64_MAX - 1,
      UINT64_MAX};
  for (int shift = 0; shift < 64; ++shift) {
    values.push_back(uint64_t{1} << shift);
    values.push_back((uint64_t{1} << shift) - 1);
  }
  std::string buf;
  for (uint64_t v : values) PutVarint64(&buf, v);
  std::string_view in(buf);
  for (uint64_t v : values) {
    uint64_t got = 0;
    REQUIRE(GetVarint64(&in, &got));
    CHECK(got == v);
  }
  CHECK(in.empty());
}

TEST_CASE("varint lengths and bytes match LEB128", "[coding]") {
  std::string s;
  PutVarint64(&s, 300);
  CHECK(s == std::string("\xac\x02", 2));
  s.clear();
  PutVarint64(&s, UINT64_MAX);
  CHECK(s.size() == 10);
}

TEST_CASE("malformed varints are rejected without advancing", "[coding]") {
  uint64_t v = 0;
  std::string_view empty;
  CHECK_FALSE(GetVarint64(&empty, &v));
  std::string truncated("\x80\x80", 2);
  std::string_view in(truncated);
  CHECK_FALSE(GetVarint64(&in, &v));
  CHECK(in.size() == 2);
  std::string too_long(11, '\x80');
  in = too_long;
  CHECK_FALSE(GetVarint64(&in, &v));
  // Ten bytes whose last byte would overflow 64 bits.
  std::string overflow(9, '\xff');
  overflow += '\x02';
  in = overflow;
  CHECK_FALSE(GetVarint64(&in, &v));
}

}  // namespace
}  // namespace kvb
