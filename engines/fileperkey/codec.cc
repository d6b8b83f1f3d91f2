#include "engines/fileperkey/codec.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <vector>

namespace kvb::fileperkey {
namespace {

constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};

uLong DictionaryId(std::string_view dict) {
  return adler32(adler32(0L, Z_NULL, 0),
                 reinterpret_cast<const Bytef*>(dict.data()),
                 static_cast<uInt>(dict.size()));
}

std::string HexId(uLong id) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08lx", id & 0xffffffffUL);
  return buf;
}

Status ZlibError(const char* what, const z_stream& zs, int code) {
  std::string msg = std::string("fileperkey: ") + what + ": ";
  msg += zs.msg != nullptr ? zs.msg : ("zlib error " + std::to_string(code));
  return Status::Corruption(msg);
}

// deflate into gzip (windowBits 15 + 16) or zlib (15) framing.
class DeflateWriter final : public ValueWriter {
 public:
  DeflateWriter(std::unique_ptr<ValueWriter> dst)
      : dst_(std::move(dst)), out_(kStreamChunk) {}
  ~DeflateWriter() override {
    if (initialised_) deflateEnd(&zs_);
  }
  // `dictionary` non-empty only for zlib framing (gzip has no FDICT).
  Status Init(bool gzip, int level, std::string_view dictionary = {}) {
    const int window = gzip ? 15 + 16 : 15;
    const int rc =
        deflateInit2(&zs_, level == 0 ? Z_DEFAULT_COMPRESSION : level,
                     Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) return Status::IOError("fileperkey: deflateInit2 failed");
    initialised_ = true;
    if (!dictionary.empty() &&
        deflateSetDictionary(&zs_,
                             reinterpret_cast<const Bytef*>(dictionary.data()),
                             static_cast<uInt>(dictionary.size())) != Z_OK) {
      return Status::IOError("fileperkey: deflateSetDictionary failed");
    }
    return Status::OK();
  }
  Status Append(std::string_view data) override {
    while (!data.empty()) {
      // avail_in is 32-bit: feed huge pieces in slices.
      const size_t slice = std::min<size_t>(data.size(), UINT_MAX);
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      zs_.avail_in = static_cast<uInt>(slice);
      while (zs_.avail_in > 0) KVB_RETURN_IF_ERROR(Step(Z_NO_FLUSH, nullptr));
      data.remove_prefix(slice);
    }
    return Status::OK();
  }
  Status Finish() override {
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    bool end = false;
    while (!end) KVB_RETURN_IF_ERROR(Step(Z_FINISH, &end));
    return dst_->Finish();
  }

 private:
  Status Step(int flush, bool* end) {
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
    zs_.avail_out = static_cast<uInt>(out_.size());
    const int rc = deflate(&zs_, flush);
    if (rc == Z_STREAM_ERROR) return ZlibError("deflate", zs_, rc);
    if (end != nullptr) *end = rc == Z_STREAM_END;
    const size_t produced = out_.size() - zs_.avail_out;
    if (produced == 0) return Status::OK();
    return dst_->Append(std::string_view(out_.data(), produced));
  }

  std::unique_ptr<ValueWriter> dst_;
  std::vector<char> out_;
  z_stream zs_{};
  bool initialised_ = false;
};

class ZstdWriter final : public ValueWriter {
 public:
  explicit ZstdWriter(std::unique_ptr<ValueWriter> dst)
      : dst_(std::move(dst)),
        cctx_(ZSTD_createCCtx()),
        out_(ZSTD_CStreamOutSize()) {}
  ~ZstdWriter() override { ZSTD_freeCCtx(cctx_); }
  Status Init(int level) {
    if (cctx_ == nullptr)
      return Status::IOError("fileperkey: ZSTD_createCCtx failed");
    size_t rc = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel,
                                       level == 0 ? 3 : level);
    if (!ZSTD_isError(rc))
      rc = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(rc)) {
      return Status::InvalidArgument(std::string("fileperkey: zstd: ") +
                                     ZSTD_getErrorName(rc));
    }
    return Status::OK();
  }
  Status Append(std::string_view data) override {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size) {
      size_t left = 0;
      KVB_RETURN_IF_ERROR(Step(&in, ZSTD_e_continue, &left));
    }
    return Status::OK();
  }
  Status Finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    size_t left = 1;
    while (left != 0) KVB_RETURN_IF_ERROR(Step(&in, ZSTD_e_end, &left));
    return dst_->Finish();
  }

 private:
  Status Step(ZSTD_inBuffer* in, ZSTD_EndDirective mode, size_t* left) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    *left = ZSTD_compressStream2(cctx_, &out, in, mode);
    if (ZSTD_isError(*left)) {
      return Status::IOError(std::string("fileperkey: zstd: ") +
                             ZSTD_getErrorName(*left));
    }
    if (out.pos == 0) return Status::OK();
    return dst_->Append(std::string_view(out_.data(), out.pos));
  }

  std::unique_ptr<ValueWriter> dst_;
  ZSTD_CCtx* cctx_;
  std::vector<char> out_;
};

// Detects the frame on the first read, then inflates or zstd-decodes. Errors
// are sticky.
class DecompressingReader final : public ValueReader {
 public:
  DecompressingReader(std::unique_ptr<ValueReader> src, std::string dictionary)
      : src_(std::move(src)), dictionary_(std::move(dictionary)) {}
  ~DecompressingReader() override {
    if (z_initialised_) inflateEnd(&zs_);
    ZSTD_freeDCtx(zd_);
  }

  Status Read(char* dst, size_t n, size_t* got) override {
    *got = 0;
    if (!error_.ok()) return error_;
    if (codec_ == Codec::kNone) error_ = Start();
    if (error_.ok() && !done_) error_ = Decode(dst, n, got);
    return error_;
  }

 private:
  Status Start() {
    // Enough bytes to recognise the magic (sources may return short reads).
    char buf[4];
    while (in_.size() < 4 && !src_eof_) {
      size_t got = 0;
      KVB_RETURN_IF_ERROR(src_->Read(buf, 4 - in_.size(), &got));
      if (got == 0) src_eof_ = true;
      in_.append(buf, got);
    }
    codec_ = DetectCodec(in_);
    switch (codec_) {
      case Codec::kNone:
        return Status::Corruption(
            "fileperkey: value is not a gzip, zlib or zstd frame");
      case Codec::kGzip:
      case Codec::kZlib:
        // 15 + 32: zlib and gzip headers both accepted (the magic already
        // chose).
        if (inflateInit2(&zs_, 15 + 32) != Z_OK) {
          return Status::IOError("fileperkey: inflateInit2 failed");
        }
        z_initialised_ = true;
        return Status::OK();
      case Codec::kZstd:
        zd_ = ZSTD_createDCtx();
        if (zd_ == nullptr)
          return Status::IOError("fileperkey: ZSTD_createDCtx failed");
        return Status::OK();
    }
    return Status::OK();
  }

  // Refills the input buffer once it is used up.
  Status Fill() {
    if (in_pos_ < in_.size() || src_eof_) return Status::OK();
    in_.resize(kStreamChunk);
    size_t got = 0;
    Status s = src_->Read(in_.data(), in_.size(), &got);
    in_.resize(s.ok() ? got : 0);
    in_pos_ = 0;
    if (s.ok() && got == 0) src_eof_ = true;
    return s;
  }
  bool InputExhausted() const { return src_eof_ && in_pos_ == in_.size(); }

  Status Decode(char* dst, size_t n, size_t* got) {
    while (*got == 0 && !done_) {
      KVB_RETURN_IF_ERROR(Fill());
      KVB_RETURN_IF_ERROR(codec_ == Codec::kZstd ? ZstdStep(dst, n, got)
                                                 : ZlibStep(dst, n, got));
    }
    return Status::OK();
  }

  Status ZlibStep(char* dst, size_t n, size_t* got) {
    const size_t avail = in_.size() - in_pos_;
    zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
    zs_.avail_in = static_cast<uInt>(avail);
    zs_.next_out = reinterpret_cast<Bytef*>(dst);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, UINT_MAX));
    const uInt out_before = zs_.avail_out;
    int rc = inflate(&zs_, Z_NO_FLUSH);
    if (rc == Z_NEED_DICT) {
      KVB_RETURN_IF_ERROR(SetDictionary());
      rc = inflate(&zs_, Z_NO_FLUSH);
    }
    in_pos_ += avail - zs_.avail_in;
    *got = out_before - zs_.avail_out;
    if (rc == Z_STREAM_END) {
      done_ = true;
      return CheckTrailing();
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return ZlibError("inflate", zs_, rc);
    if (*got == 0 && InputExhausted()) {
      return Status::Corruption("fileperkey: truncated compressed value");
    }
    return Status::OK();
  }

  Status ZstdStep(char* dst, size_t n, size_t* got) {
    ZSTD_inBuffer in{in_.data(), in_.size(), in_pos_};
    ZSTD_outBuffer out{dst, n, 0};
    const size_t rc = ZSTD_decompressStream(zd_, &out, &in);
    if (ZSTD_isError(rc)) {
      return Status::Corruption(std::string("fileperkey: zstd: ") +
                                ZSTD_getErrorName(rc));
    }
    // With no input left, the decoder reports the header size of a next frame;
    // only a call that made progress tells whether the current frame is
    // complete.
    if (in.pos != in_pos_ || out.pos != 0) zstd_frame_open_ = rc != 0;
    in_pos_ = in.pos;
    *got = out.pos;
    if (*got == 0 && InputExhausted()) {
      // rc == 0: the last frame ended and was flushed; otherwise the file stops
      // mid-frame.
      if (zstd_frame_open_)
        return Status::Corruption("fileperkey: truncated zstd frame");
      done_ = true;
    }
    return Status::OK();
  }

  // The stream's header named a dictionary (its Adler-32 is in zs_.adler).
  Status SetDictionary() {
    const uLong want = zs_.adler;
    if (dictionary_.empty()) {
      return Status::Corruption(
          "fileperkey: the zlib stream needs a preset dictionary (id " +
          HexId(want) + ") and none is configured");
    }
    const uLong have = DictionaryId(dictionary_);
    if (have != want) {
      return Status::Corruption(
          "fileperkey: wrong zlib dictionary: the stream needs id " +
          HexId(want) + ", the configured dictionary has id " + HexId(have));
    }
    if (inflateSetDictionary(&zs_,
                             reinterpret_cast<const Bytef*>(dictionary_.data()),
                             static_cast<uInt>(dictionary_.size())) != Z_OK) {
      return Status::Corruption("fileperkey: inflateSetDictionary failed");
    }
    return Status::OK();
  }

  // A gzip/zlib value is one stream; bytes after it mean the file is not what
  // we wrote.
  Status CheckTrailing() {
    KVB_RETURN_IF_ERROR(Fill());
    if (in_pos_ < in_.size()) {
      return Status::Corruption(
          "fileperkey: bytes after the end of the compressed value");
    }
    return Status::OK();
  }

  std::unique_ptr<ValueReader> src_;
  const std::string dictionary_;
  std::string in_;
  size_t in_pos_ = 0;
  bool src_eof_ = false;
  bool done_ = false;
  Codec codec_ = Codec::kNone;
  Status error_;
  z_stream zs_{};
  bool z_initialised_ = false;
  ZSTD_DCtx* zd_ = nullptr;
  bool zstd_frame_open_ = true;  // until a frame is seen to end
};

}  // namespace

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone:
      return "none";
    case Codec::kGzip:
      return "gzip";
    case Codec::kZlib:
      return "zlib";
    case Codec::kZstd:
      return "zstd";
  }
  return "none";
}

Result<Codec> ParseCodec(std::string_view name) {
  for (Codec c : {Codec::kNone, Codec::kGzip, Codec::kZlib, Codec::kZstd}) {
    if (name == CodecName(c)) return c;
  }
  return Status::InvalidArgument("fileperkey: compression '" +
                                 std::string(name) +
                                 "': expected none, gzip, zlib or zstd");
}

Codec DetectCodec(std::string_view head) {
  auto u = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (head.size() >= 4 && u(0) == kZstdMagic[0] && u(1) == kZstdMagic[1] &&
      u(2) == kZstdMagic[2] && u(3) == kZstdMagic[3]) {
    return Codec::kZstd;
  }
  if (head.size() >= 2 && u(0) == kGzipMagic[0] && u(1) == kGzipMagic[1])
    return Codec::kGzip;
  // RFC 1950: CM = 8 (deflate), CINFO <= 7, and (CMF * 256 + FLG) divisible
  // by 31.
  if (head.size() >= 2 && (u(0) & 0x0f) == 8 && (u(0) >> 4) <= 7 &&
      (u(0) * 256 + u(1)) % 31 == 0) {
    return Codec::kZlib;
  }
  return Codec::kNone;
}

Result<std::unique_ptr<ValueWriter>> NewCompressingWriter(
    Codec codec, int level, std::unique_ptr<ValueWriter> dst) {
  if (codec == Codec::kGzip || codec == Codec::kZlib) {
    if (level < 0 || level > 9) {
      return Status::InvalidArgument(
          "fileperkey: gzip/zlib level must be 1..9 (0 = default)");
    }
    auto w = std::make_unique<DeflateWriter>(std::move(dst));
    KVB_RETURN_IF_ERROR(w->Init(codec == Codec::kGzip, level));
    return std::unique_ptr<ValueWriter>(std::move(w));
  }
  if (codec == Codec::kZstd) {
    if (level < 0 || level > ZSTD_maxCLevel()) {
      return Status::InvalidArgument("fileperkey: zstd level must be 1.." +
                                     std::to_string(ZSTD_maxCLevel()) +
                                     " (0 = default)");
    }
    auto w = std::make_unique<ZstdWriter>(std::move(dst));
    KVB_RETURN_IF_ERROR(w->Init(level));
    return std::unique_ptr<ValueWriter>(std::move(w));
  }
  return Status::InvalidArgument("fileperkey: no compressor for codec none");
}

std::unique_ptr<ValueReader> NewDecompressingReader(
    std::unique_ptr<ValueReader> src) {
  return std::make_unique<DecompressingReader>(std::move(src), std::string());
}

std::unique_ptr<ValueReader> NewDecompressingReader(
    std::unique_ptr<ValueReader> src, std::string dictionary) {
  return std::make_unique<DecompressingReader>(std::move(src),
                                               std::move(dictionary));
}

Result<std::unique_ptr<ValueWriter>> NewZlibDictWriter(
    int level, std::string_view dictionary, std::unique_ptr<ValueWriter> dst) {
  if (level < 0 || level > 9) {
    return Status::InvalidArgument(
        "fileperkey: zlib level must be 1..9 (0 = default)");
  }
  if (dictionary.empty() || dictionary.size() > UINT_MAX) {
    return Status::InvalidArgument(
        "fileperkey: a zlib preset dictionary must not be empty");
  }
  auto w = std::make_unique<DeflateWriter>(std::move(dst));
  KVB_RETURN_IF_ERROR(w->Init(/*gzip=*/false, level, dictionary));
  return std::unique_ptr<ValueWriter>(std::move(w));
}

Status CompressString(Codec codec, int level, std::string_view in,
                      std::string* out) {
  KVB_ASSIGN_OR_RETURN(
      auto w, NewCompressingWriter(codec, level, NewStringWriter(out)));
  KVB_RETURN_IF_ERROR(w->Append(in));
  return w->Finish();
}

Status DecompressString(std::string_view in, std::string* out) {
  auto r = NewDecompressingReader(NewStringReader(in));
  return ReadAll(r.get(), out);
}

}  // namespace kvb::fileperkey
