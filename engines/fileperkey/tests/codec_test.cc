// Codecs: round trips of both families through the streaming APIs, detection by
// magic, and damaged or truncated frames reported as Corruption.
#include "engines/fileperkey/codec.h"

#include <catch2/catch.hpp>
#include <random>

namespace kvb::fileperkey {
namespace {

std::string Data(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  // Half compressible text, half random bytes.
  for (size_t i = 0; i < n; i++) {
    s[i] = (i / 4096) % 2 == 0 ? static_cast<char>('a' + i % 7)
                               : static_cast<char>(rng());
  }
  return s;
}

// A reader that returns at most 1000 bytes per call (sources may be short).
class Dribble final : public ValueReader {
 public:
  explicit Dribble(std::string_view s) : s_(s) {}
  Status Read(char* dst, size_t n, size_t* got) override {
    *got = std::min({n, s_.size() - pos_, size_t{1000}});
    std::copy_n(s_.data() + pos_, *got, dst);
    pos_ += *got;
    return Status::OK();
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

TEST_CASE("round trips, all codecs, streaming in and out", "[codec]") {
  for (Codec codec : {Codec::kGzip, Codec::kZlib, Codec::kZstd}) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{3} << 20}) {
      INFO(CodecName(codec) << " size " << size);
      const std::string in = Data(size, size);
      std::string packed;
      {
        auto w = NewCompressingWriter(codec, 0, NewStringWriter(&packed));
        REQUIRE(w.ok());
        // Feed in uneven pieces.
        for (size_t pos = 0; pos < in.size(); pos += 77777) {
          REQUIRE((*w)->Append(std::string_view(in).substr(pos, 77777)).ok());
        }
        REQUIRE((*w)->Finish().ok());
      }
      CHECK(DetectCodec(packed) == codec);
      auto r = NewDecompressingReader(std::make_unique<Dribble>(packed));
      std::string out;
      REQUIRE(ReadAll(r.get(), &out).ok());
      CHECK(out == in);
    }
  }
}

TEST_CASE("damage is Corruption, never a crash", "[codec]") {
  const std::string in = Data(200000, 3);
  for (Codec codec : {Codec::kGzip, Codec::kZlib, Codec::kZstd}) {
    INFO(CodecName(codec));
    std::string packed;
    REQUIRE(CompressString(codec, 0, in, &packed).ok());
    std::string out;
    // Truncated anywhere.
    for (size_t cut :
         {size_t{1}, size_t{3}, packed.size() / 2, packed.size() - 1}) {
      out.clear();
      CHECK(DecompressString(packed.substr(0, cut), &out).IsCorruption());
    }
    // A flipped byte in the middle or the trailer (checksums catch what the
    // format does not).
    for (size_t at : {packed.size() / 2, packed.size() - 2}) {
      std::string bad = packed;
      bad[at] = static_cast<char>(bad[at] ^ 0x40);
      out.clear();
      CHECK(DecompressString(bad, &out).IsCorruption());
    }
    // Trailing garbage after a gzip/zlib stream.
    if (codec != Codec::kZstd) {
      out.clear();
      CHECK(DecompressString(packed + "xx", &out).IsCorruption());
    }
  }
  std::string out;
  CHECK(DecompressString("plain text", &out).IsCorruption());
  CHECK(DecompressString("", &out).IsCorruption());
}

TEST_CASE("levels and names", "[codec]") {
  std::string out;
  CHECK(CompressString(Codec::kGzip, 10, "x", &out).IsInvalidArgument());
  CHECK(CompressString(Codec::kZstd, 99, "x", &out).IsInvalidArgument());
  CHECK(CompressString(Codec::kNone, 0, "x", &out).IsInvalidArgument());
  CHECK(ParseCodec("zstd").ok());
  CHECK(ParseCodec("lz4").status().IsInvalidArgument());
}

}  // namespace
}  // namespace kvb::fileperkey
