// Little-endian fixed-width and varint encoding for on-disk formats.
#ifndef KVB_CORE_CODING_H_
#define KVB_CORE_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kvb {

inline void EncodeFixed16(char* dst, uint16_t v) { std::memcpy(dst, &v, 2); }
inline void EncodeFixed32(char* dst, uint32_t v) { std::memcpy(dst, &v, 4); }
inline void EncodeFixed64(char* dst, uint64_t v) { std::memcpy(dst, &v, 8); }
inline uint16_t DecodeFixed16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "formats assume little-endian");

inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, 8);
}
// LEB128 varints (at most 10 bytes for 64-bit values).
void PutVarint64(std::string* dst, uint64_t v);
// Parses a varint from the front of *input and advances it; false if malformed
// or truncated.
bool GetVarint64(std::string_view* input, uint64_t* value);

}  // namespace kvb

#endif  // KVB_CORE_CODING_H_
