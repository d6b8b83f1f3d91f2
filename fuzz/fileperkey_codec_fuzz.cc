// fileperkey's value decoders on arbitrary bytes: the decompressors and the
// CRC-32C trailer check of checksummed stores (value_checksum.h). Properties:
// no crash; for each, the whole-buffer and the streaming decoder (read in
// small uneven chunks) agree on success and on the bytes, and every failure is
// Corruption; the trailer stream never hands out a byte past the value nor
// reaches its end on damage; a value that decoded re-encodes (every codec, or
// the trailer) and round-trips.
#include <cstdint>
#include <string>

#include "core/checksum.h"
#include "engines/fileperkey/codec.h"
#include "engines/fileperkey/stream.h"
#include "engines/fileperkey/value_checksum.h"
#include "fuzz/fuzz_util.h"

namespace kvb::fileperkey {
namespace {

Status StreamDecode(std::string_view in, size_t chunk, std::string* out) {
  std::unique_ptr<ValueReader> r = NewDecompressingReader(NewStringReader(in));
  std::string buf(chunk, '\0');
  out->clear();
  for (int i = 0; i < (1 << 20); ++i) {
    size_t got = 0;
    KVB_RETURN_IF_ERROR(r->Read(buf.data(), buf.size(), &got));
    if (got == 0) return Status::OK();
    out->append(buf.data(), got);
    if (out->size() > (64u << 20))
      return Status::Corruption("too large for the fuzzer");
  }
  return Status::Corruption("no end");
}

// The trailer reader over `in` as a whole file, in pieces of `chunk` bytes.
Status StreamUntrail(std::string_view in, size_t chunk, std::string* out) {
  std::unique_ptr<ValueReader> r =
      NewTrailerReader(NewStringReader(in), in.size());
  std::string buf(chunk, '\0');
  out->clear();
  while (true) {
    size_t got = 0;
    KVB_RETURN_IF_ERROR(r->Read(buf.data(), buf.size(), &got));
    if (got == 0) return Status::OK();
    out->append(buf.data(), got);
    if (out->size() + kTrailerSize > in.size())
      fuzz::Fail("trailer reader handed out more than the value");
  }
}

void CheckTrailerDecoders(std::string_view in) {
  std::string whole(in);
  const Status s1 = CheckAndStripTrailer(&whole);
  std::string streamed;
  const Status s2 = StreamUntrail(in, 1 + in.size() % 5, &streamed);
  if (s1.ok() != s2.ok())
    fuzz::Fail("whole-buffer and streaming trailer checks disagree",
               s1.ok() ? s2 : s1);
  if (!s1.ok()) {
    if (!s1.IsCorruption() || !s2.IsCorruption())
      fuzz::Fail("trailer check error other than Corruption", s1);
    if (whole != in) fuzz::Fail("a failed check changed its input");
    return;
  }
  KVB_FUZZ_CHECK(whole == streamed);
  KVB_FUZZ_CHECK(whole + EncodeTrailer(Crc32c(whole)) == in);
}

}  // namespace
}  // namespace kvb::fileperkey

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb;
  using namespace kvb::fileperkey;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckTrailerDecoders(in);
  std::string whole;
  Status s1 = DecompressString(in, &whole);
  std::string streamed;
  Status s2 = StreamDecode(in, 1 + size % 7, &streamed);
  if (s2.ToString().find("too large") != std::string::npos) return 0;
  if (s1.ok() != s2.ok())
    fuzz::Fail("whole-buffer and streaming decoders disagree",
               s1.ok() ? s2 : s1);
  if (!s1.ok()) {
    if (!s1.IsCorruption())
      fuzz::Fail("decoder error other than Corruption", s1);
    return 0;
  }
  KVB_FUZZ_CHECK(whole == streamed);
  for (Codec c : {Codec::kGzip, Codec::kZlib, Codec::kZstd}) {
    std::string packed, back;
    Status s = CompressString(c, 1, whole, &packed);
    if (!s.ok()) fuzz::Fail("compress", s);
    KVB_FUZZ_CHECK(DetectCodec(packed) == c);
    s = DecompressString(packed, &back);
    if (!s.ok()) fuzz::Fail("decompress of our own frame", s);
    KVB_FUZZ_CHECK(back == whole);
  }
  return 0;
}
