// Self-verifying values: every value is derived from (seed, key, version), so
// any read can be checked without a second copy of the data.
//
// Layout (little-endian), total length L >= kValueHeaderSize:
//   u32 magic 'KVB1' | u32 key hash | u32 version | u32 L | u32 header check |
//   body[L - 20]
// The body is a slice of a seeded pool of random bytes starting at an offset
// derived from (key hash, version), so writing a value is a 20-byte header plus
// one memcpy and checking it is a header decode plus one memcmp. The header
// check is a hash of the other header fields and the seed. A read is then
// classified as
//   ok            belongs to this key, header and body intact (any version; the
//   caller decides
//                 whether the version is acceptable, see VersionTracker);
//   wrong_key     a well-formed value of another key;
//   corrupt       bad magic, length, header check or body (a torn or flipped
//   value).
// Bodies are incompressible random bytes (unlike db_bench's 50 % compressible
// values). Thread safety: immutable after construction; Encode/Verify may run
// on many threads.
#ifndef KVB_WORKLOADS_VALUE_CODEC_H_
#define KVB_WORKLOADS_VALUE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "workloads/sizes.h"

namespace kvb {

inline constexpr uint32_t kValueHeaderSize = 20;
inline constexpr uint32_t kValueMagic = 0x3142564b;  // "KVB1"

enum class VerifyResult : uint8_t { kOk, kWrongKey, kCorrupt };

class ValueCodec {
 public:
  // `sizes` gives the value length of each (key, version); every size must be
  // >= kValueHeaderSize (checked by the workload validator).
  ValueCodec(uint64_t seed, const SizeDist& sizes);

  uint32_t Length(uint32_t key_hash, uint32_t version) const {
    return sizes_.Pick(Mix64(seed_ ^ (uint64_t{version} << 32 | key_hash)));
  }
  // Writes the value of (key, version) into *out (resized; reuse it to avoid
  // allocation).
  void Encode(uint32_t key_hash, uint32_t version, std::string* out) const;
  // Checks `value` against the key hash; on kOk sets *version.
  VerifyResult Verify(uint32_t key_hash, std::string_view value,
                      uint32_t* version) const;

 private:
  uint32_t HeaderCheck(uint32_t key_hash, uint32_t version, uint32_t len) const;
  const char* Body(uint32_t key_hash, uint32_t version) const;

  uint64_t seed_;
  SizeDist sizes_;
  std::string pool_;
  uint64_t pool_span_;  // number of valid body start offsets
};

}  // namespace kvb

#endif  // KVB_WORKLOADS_VALUE_CODEC_H_
