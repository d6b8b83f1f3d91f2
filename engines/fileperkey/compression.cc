#include "engines/fileperkey/compression.h"

#include <zlib.h>

#include <cstdio>

namespace kvb::fileperkey {
namespace {

class CodecCompression final : public Compression {
 public:
  CodecCompression(Codec codec, int level) : codec_(codec), level_(level) {}

  std::string Describe() const override {
    return std::string(CodecName(codec_)) + " level " +
           (level_ == 0 ? std::string("default") : std::to_string(level_));
  }
  Codec codec() const override { return codec_; }
  Result<std::unique_ptr<ValueWriter>> NewWriter(
      std::unique_ptr<ValueWriter> dst) const override {
    return NewCompressingWriter(codec_, level_, std::move(dst));
  }
  std::unique_ptr<ValueReader> NewReader(
      std::unique_ptr<ValueReader> src) const override {
    return NewDecompressingReader(std::move(src));
  }

 private:
  const Codec codec_;
  const int level_;
};

class ZlibDict final : public Compression {
 public:
  ZlibDict(int level, std::string dictionary)
      : level_(level), dictionary_(std::move(dictionary)) {}

  std::string Describe() const override {
    const uLong id = adler32(adler32(0L, Z_NULL, 0),
                             reinterpret_cast<const Bytef*>(dictionary_.data()),
                             static_cast<uInt>(dictionary_.size()));
    char buf[16];
    std::snprintf(buf, sizeof(buf), "0x%08lx", id & 0xffffffffUL);
    return "zlib level " +
           (level_ == 0 ? std::string("default") : std::to_string(level_)) +
           ", dictionary " + buf;
  }
  Codec codec() const override { return Codec::kZlib; }
  Result<std::unique_ptr<ValueWriter>> NewWriter(
      std::unique_ptr<ValueWriter> dst) const override {
    return NewZlibDictWriter(level_, dictionary_, std::move(dst));
  }
  std::unique_ptr<ValueReader> NewReader(
      std::unique_ptr<ValueReader> src) const override {
    return NewDecompressingReader(std::move(src), dictionary_);
  }

 private:
  const int level_;
  const std::string dictionary_;
};

}  // namespace

Result<std::shared_ptr<const Compression>> BuiltinCompression(Codec codec,
                                                              int level) {
  // Checks codec and level once, by making a writer.
  std::string scratch;
  KVB_RETURN_IF_ERROR(CompressString(codec, level, "", &scratch));
  return std::shared_ptr<const Compression>(
      std::make_shared<CodecCompression>(codec, level));
}

Result<std::shared_ptr<const Compression>> ZlibDictCompression(
    int level, std::string dictionary) {
  std::string scratch;
  KVB_RETURN_IF_ERROR(
      NewZlibDictWriter(level, dictionary, NewStringWriter(&scratch)).status());
  return std::shared_ptr<const Compression>(
      std::make_shared<ZlibDict>(level, std::move(dictionary)));
}

}  // namespace kvb::fileperkey
