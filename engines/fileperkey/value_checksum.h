// kvb::fileperkey value checksum — the CRC-32C trailer of uncompressed values.
//
// In a store created with a checksum (FORMAT.md 2.1; the default for new
// uncompressed stores), a value file is the value's bytes followed by an
// 8-byte trailer:
//   bytes 0-3  masked CRC-32C of the value (core/checksum.h MaskCrc(Crc32c())),
//              little-endian
//   bytes 4-7  the magic "\xfbfk\x01" (the last byte is the trailer version)
// so a flipped byte, a truncation or a zero-length file (a name that reached
// the disk before its data) is Corruption, never a wrong or empty value.
// Compressed values have no trailer: their frame carries its own checksum.
//
// Thread safety: each stream object is used by one thread at a time.
#ifndef KVB_ENGINES_FILEPERKEY_VALUE_CHECKSUM_H_
#define KVB_ENGINES_FILEPERKEY_VALUE_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/status.h"
#include "engines/fileperkey/stream.h"

namespace kvb::fileperkey {

inline constexpr size_t kTrailerSize = 8;
inline constexpr std::string_view kTrailerMagic =
    "\xfb"
    "fk\x01";

// The trailer of a value whose CRC-32C (unmasked) is `crc`.
std::string EncodeTrailer(uint32_t crc);

// Checks that `file` (a whole value file) ends in a trailer matching the bytes
// before it and removes the trailer. Corruption (naming what is wrong: too
// short, bad magic, checksum mismatch) otherwise, with `file` unchanged.
Status CheckAndStripTrailer(std::string* file);

// A writer that passes the value on to `dst` (owned) and, at Finish(), appends
// the trailer and finishes `dst`.
std::unique_ptr<ValueWriter> NewTrailerWriter(std::unique_ptr<ValueWriter> dst);

// A reader of the value in `src` (owned; a whole value file of `file_size`
// bytes, read from its start). It hands out the value's bytes and never the
// trailer; the read that reaches the end of the value checks the trailer first
// and returns Corruption instead of those bytes if it does not match, so a
// reader that gets to *got == 0 has read a verified value. A file shorter than
// the trailer or one that ends early is Corruption.
std::unique_ptr<ValueReader> NewTrailerReader(std::unique_ptr<ValueReader> src,
                                              uint64_t file_size);

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_VALUE_CHECKSUM_H_
