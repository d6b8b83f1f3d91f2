// The store's metadata file BASE/.fpk-meta (FORMAT.md, "Metadata file"): which
// transform, key encoding and codec created the store, so a reopen with other
// settings is refused and `kvbench inspect` can decode file names offline.
// Internal to the fileperkey engine.
#ifndef KVB_ENGINES_FILEPERKEY_INTERNAL_META_H_
#define KVB_ENGINES_FILEPERKEY_INTERNAL_META_H_

#include <string>
#include <string_view>

#include "core/result.h"
#include "engines/fileperkey/codec.h"
#include "engines/fileperkey/transform.h"

namespace kvb::fileperkey::internal {

// Version 2 added the `checksum` line; a version-1 file means no checksum.
inline constexpr int kMetaVersion = 2;

struct StoreMeta {
  int version = kMetaVersion;
  std::string transform;  // Transform::Describe()
  KeyEncoding encoding = KeyEncoding::kPlain;
  Codec compression = Codec::kNone;
  // Uncompressed values end in a CRC-32C trailer (value_checksum.h).
  bool value_crc = false;
};

std::string_view EncodingName(KeyEncoding e);
Result<KeyEncoding> ParseEncoding(std::string_view name);

// Text form with a masked CRC-32C trailer line. `meta.version` 1 writes the
// old four fields (no checksum line; value_crc must be false), for tests of
// stores made by older builds.
std::string EncodeMeta(const StoreMeta& meta);
// Corruption for anything EncodeMeta would not write (bad magic, CRC, field);
// NotSupported for a newer version.
Result<StoreMeta> DecodeMeta(std::string_view text);

}  // namespace kvb::fileperkey::internal

#endif  // KVB_ENGINES_FILEPERKEY_INTERNAL_META_H_
