// kvb::fileperkey codecs — optional compression of value files as standard
// frames.
//
// A compressed value file is exactly one standard frame, so ordinary tools read
// it:
//   gzip  RFC 1952 member (zcat, gzip -d)          — CRC-32 + length trailer
//   zlib  RFC 1950 stream (zlib-flate -uncompress) — Adler-32 trailer
//   zstd  RFC 8878 frame with the content checksum (zstd -d) — XXH64 (low 32
//   bits)
// Readers detect the codec from the frame's magic bytes, so a store can change
// codec and still read its older values; anything else is Corruption.
// Uncompressed values are stored raw (see FORMAT.md for why).
//
// Thread safety: each stream object is used by one thread at a time.
#ifndef KVB_ENGINES_FILEPERKEY_CODEC_H_
#define KVB_ENGINES_FILEPERKEY_CODEC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/status.h"
#include "engines/fileperkey/stream.h"

namespace kvb::fileperkey {

enum class Codec : uint8_t { kNone, kGzip, kZlib, kZstd };

// "none", "gzip", "zlib", "zstd".
std::string_view CodecName(Codec codec);
// Accepts the names above; InvalidArgument otherwise.
Result<Codec> ParseCodec(std::string_view name);
// The codec whose magic starts `head` (at least 4 bytes for zstd, 2 for
// gzip/zlib), or kNone.
Codec DetectCodec(std::string_view head);

// Compresses into `dst` (owned). `level` 0 = the codec's default (6 for
// gzip/zlib, 3 for zstd). Finish() ends the frame and then finishes `dst`.
// InvalidArgument for kNone or a level out of range.
Result<std::unique_ptr<ValueWriter>> NewCompressingWriter(
    Codec codec, int level, std::unique_ptr<ValueWriter> dst);
// Like NewCompressingWriter(kZlib, ...), with a preset dictionary (non-empty):
// the stream carries the FDICT flag and the dictionary's Adler-32.
Result<std::unique_ptr<ValueWriter>> NewZlibDictWriter(
    int level, std::string_view dictionary, std::unique_ptr<ValueWriter> dst);
// Decompresses `src` (owned), detecting the codec from its first bytes. Read()
// returns Corruption for an unknown magic, a damaged or truncated frame, a
// checksum mismatch, or bytes after the frame.
std::unique_ptr<ValueReader> NewDecompressingReader(
    std::unique_ptr<ValueReader> src);
// Like NewDecompressingReader, offering `dictionary` to a zlib stream that
// asks for one. A stream that asks for a dictionary with another id (or for
// one when `dictionary` is empty) is Corruption saying so.
std::unique_ptr<ValueReader> NewDecompressingReader(
    std::unique_ptr<ValueReader> src, std::string dictionary);

// Whole-buffer conveniences built on the streams.
Status CompressString(Codec codec, int level, std::string_view in,
                      std::string* out);
Status DecompressString(std::string_view in, std::string* out);

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_CODEC_H_
