// kvb::fileperkey::ValueReader / ValueWriter — chunked value streams over
// kvb::Env files.
//
// Values can be larger than memory, so the store moves them as streams (diskv's
// io.Reader / io.Writer): a writer takes the value piece by piece, a reader
// hands it out piece by piece. Compression (codec.h) and the store's cache tee
// are stream wrappers on top of these.
//
// Ownership: a reader over a file owns the file and closes it when destroyed,
// whether or not it was read to the end (diskv defect D12: a partly read stream
// leaked its descriptor). Thread safety: one stream object is used by one
// thread at a time.
#ifndef KVB_ENGINES_FILEPERKEY_STREAM_H_
#define KVB_ENGINES_FILEPERKEY_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace kvb::fileperkey {

// The chunk size of file and codec streams.
inline constexpr size_t kStreamChunk = 64 << 10;

class ValueReader {
 public:
  virtual ~ValueReader() = default;
  // Reads up to `n` (> 0) bytes into `dst` (caller-owned, at least n bytes).
  // *got == 0 means the end of the value; a short read does not. Errors:
  // IOError from the file, Corruption from a decompressor (bad or truncated
  // frame, checksum mismatch).
  virtual Status Read(char* dst, size_t n, size_t* got) = 0;
};

class ValueWriter {
 public:
  virtual ~ValueWriter() = default;
  virtual Status Append(std::string_view data) = 0;
  // Flushes everything buffered (and ends a compressed frame). No Append
  // afterwards.
  virtual Status Finish() = 0;
};

// A reader over bytes that the caller keeps alive and unchanged while the
// reader lives.
std::unique_ptr<ValueReader> NewStringReader(std::string_view data);
// A reader that shares ownership of the bytes (used for cache hits).
std::unique_ptr<ValueReader> NewSharedStringReader(
    std::shared_ptr<const std::string> data);
// A reader over an Env file from offset 0; owns the file and closes it on
// destruction.
std::unique_ptr<ValueReader> NewFileReader(std::unique_ptr<File> file);
// A writer that appends to `file` (not owned; must outlive the writer) in
// chunks of up to `buffer_bytes`. Finish() flushes but neither syncs nor closes
// the file.
std::unique_ptr<ValueWriter> NewFileWriter(File* file,
                                           size_t buffer_bytes = kStreamChunk);
// A writer that appends to *out (not owned).
std::unique_ptr<ValueWriter> NewStringWriter(std::string* out);

// Appends everything `reader` yields to *out.
Status ReadAll(ValueReader* reader, std::string* out);
// Copies `reader` into `writer` chunk by chunk (does not call Finish).
Status CopyStream(ValueReader* reader, ValueWriter* writer);

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_STREAM_H_
