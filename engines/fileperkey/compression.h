// kvb::fileperkey::Compression — pluggable compression of value files
// (diskv's Compression interface: Writer(dst) / Reader(src)).
//
// The store compresses every value it writes through NewWriter and reads every
// value file through NewReader. The built-in implementations write one
// standard frame per file (codec.h); their reader recognises any of gzip,
// zlib and zstd by the magic bytes, so a store can change codec and still read
// its older values. ZlibDictCompression is zlib with a preset dictionary
// (diskv's NewZlibCompressionLevelDict): RFC 1950 streams with the FDICT flag
// and the dictionary's Adler-32 id, which is how a diskv store written with
// that option opens here.
//
// A user implementation must be thread-safe (shared by every reader and
// writer of the store) and its reader must return Corruption, never garbage,
// for bytes its writer did not produce (the store cannot tell a foreign frame
// otherwise: nothing on disk names the compression).
#ifndef KVB_ENGINES_FILEPERKEY_COMPRESSION_H_
#define KVB_ENGINES_FILEPERKEY_COMPRESSION_H_

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "engines/fileperkey/codec.h"
#include "engines/fileperkey/stream.h"

namespace kvb::fileperkey {

class Compression {
 public:
  virtual ~Compression() = default;

  // For messages: e.g. "zlib level 6" or "zlib level 9, dictionary 0x1a2b3c4d".
  virtual std::string Describe() const = 0;
  // The standard frame it writes, recorded in .fpk-meta (kZlib for the
  // dictionary variant). A user format that is none of them returns any
  // codec but kNone: the store only checks "compressed or not" at Open.
  virtual Codec codec() const = 0;
  // A writer compressing into `dst` (owned); its Finish() ends the stream and
  // then finishes `dst`.
  virtual Result<std::unique_ptr<ValueWriter>> NewWriter(
      std::unique_ptr<ValueWriter> dst) const = 0;
  // A reader decompressing `src` (owned). Read() returns Corruption for
  // damaged, truncated or foreign input.
  virtual std::unique_ptr<ValueReader> NewReader(
      std::unique_ptr<ValueReader> src) const = 0;
};

// gzip, zlib or zstd at `level` (0 = the codec's default). InvalidArgument for
// kNone or a level out of range.
Result<std::shared_ptr<const Compression>> BuiltinCompression(Codec codec,
                                                              int level);
// zlib with a preset dictionary (1..32768 bytes; zlib uses its last 32 KiB).
// Its reader also reads zlib streams without a dictionary, and gzip / zstd
// frames; a stream that needs another dictionary is Corruption naming both
// dictionary ids, never garbage. InvalidArgument for an empty dictionary or a
// level out of range.
Result<std::shared_ptr<const Compression>> ZlibDictCompression(
    int level, std::string dictionary);

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_COMPRESSION_H_
