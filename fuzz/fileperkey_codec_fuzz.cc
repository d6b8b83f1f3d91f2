// fileperkey's decompressors on arbitrary bytes. Properties: no crash; the
// whole-buffer and the streaming decoder (read in small uneven chunks) agree on
// success and on the bytes; a value that decoded re-compresses with every codec
// and round-trips.
#include <cstdint>
#include <string>

#include "engines/fileperkey/codec.h"
#include "engines/fileperkey/stream.h"
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

}  // namespace
}  // namespace kvb::fileperkey

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvb;
  using namespace kvb::fileperkey;
  std::string_view in(reinterpret_cast<const char*>(data), size);
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
