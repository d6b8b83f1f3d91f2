#include "core/coding.h"

namespace kvb {

void PutVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

bool GetVarint64(std::string_view* input, uint64_t* value) {
  uint64_t result = 0;
  // Ten groups of 7 bits cover 64 bits; the tenth byte may only contribute bit
  // 63, so a larger tenth byte (an overflowing encoding) is rejected as
  // malformed.
  for (size_t i = 0; i < input->size() && i < 10; ++i) {
    uint64_t byte = static_cast<unsigned char>((*input)[i]);
    if (i == 9 && byte > 1) return false;
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      input->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

}  // namespace kvb
