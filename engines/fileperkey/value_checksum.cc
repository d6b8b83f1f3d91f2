#include "engines/fileperkey/value_checksum.h"

#include <algorithm>

#include "core/checksum.h"
#include "core/coding.h"

namespace kvb::fileperkey {
namespace {

Status Damaged(std::string_view why) {
  return Status::Corruption("fileperkey: value checksum: " + std::string(why));
}

// Checks an 8-byte trailer against the CRC-32C of the value before it.
Status CheckTrailer(const char* trailer, uint32_t crc) {
  if (std::string_view(trailer + 4, 4) != kTrailerMagic)
    return Damaged(
        "no trailer (torn, truncated or not written by a store "
        "with checksums)");
  if (UnmaskCrc(DecodeFixed32(trailer)) != crc)
    return Damaged("CRC-32C mismatch (the value is damaged)");
  return Status::OK();
}

Status TooShort(uint64_t size) {
  return Damaged("file of " + std::to_string(size) +
                 " bytes is shorter than the 8-byte trailer");
}

class TrailerWriter final : public ValueWriter {
 public:
  explicit TrailerWriter(std::unique_ptr<ValueWriter> dst)
      : dst_(std::move(dst)) {}
  Status Append(std::string_view data) override {
    crc_ = Crc32cExtend(crc_, data.data(), data.size());
    return dst_->Append(data);
  }
  Status Finish() override {
    KVB_RETURN_IF_ERROR(dst_->Append(EncodeTrailer(crc_)));
    return dst_->Finish();
  }

 private:
  std::unique_ptr<ValueWriter> dst_;
  uint32_t crc_ = 0;
};

class TrailerReader final : public ValueReader {
 public:
  TrailerReader(std::unique_ptr<ValueReader> src, uint64_t file_size)
      : src_(std::move(src)),
        file_size_(file_size),
        value_size_(file_size >= kTrailerSize ? file_size - kTrailerSize : 0) {}

  Status Read(char* dst, size_t n, size_t* got) override {
    *got = 0;
    if (!error_.ok()) return error_;
    if (verified_) return Status::OK();
    error_ = ReadValue(dst, n, got);
    if (!error_.ok()) *got = 0;
    return error_;
  }

 private:
  Status ReadValue(char* dst, size_t n, size_t* got) {
    if (file_size_ < kTrailerSize) return TooShort(file_size_);
    const uint64_t left = value_size_ - pos_;
    size_t k = 0;
    if (left > 0) {
      KVB_RETURN_IF_ERROR(src_->Read(
          dst, static_cast<size_t>(std::min<uint64_t>(n, left)), &k));
      if (k == 0) return Ended();
      crc_ = Crc32cExtend(crc_, dst, k);
      pos_ += k;
    }
    // The last bytes of the value are handed out only once the trailer
    // matches.
    if (pos_ == value_size_) KVB_RETURN_IF_ERROR(Verify());
    *got = k;
    return Status::OK();
  }

  Status Ended() const {
    return Damaged("file ended after " + std::to_string(pos_) + " of " +
                   std::to_string(file_size_) + " bytes");
  }

  Status Verify() {
    char trailer[kTrailerSize];
    size_t have = 0;
    while (have < kTrailerSize) {
      size_t k = 0;
      KVB_RETURN_IF_ERROR(src_->Read(trailer + have, kTrailerSize - have, &k));
      if (k == 0) return Ended();
      have += k;
    }
    KVB_RETURN_IF_ERROR(CheckTrailer(trailer, crc_));
    verified_ = true;
    return Status::OK();
  }

  std::unique_ptr<ValueReader> src_;
  const uint64_t file_size_;
  const uint64_t value_size_;
  uint64_t pos_ = 0;
  uint32_t crc_ = 0;
  bool verified_ = false;
  Status error_;  // once damage is found, every later Read returns it
};

}  // namespace

std::string EncodeTrailer(uint32_t crc) {
  std::string t;
  PutFixed32(&t, MaskCrc(crc));
  t.append(kTrailerMagic);
  return t;
}

Status CheckAndStripTrailer(std::string* file) {
  if (file->size() < kTrailerSize) return TooShort(file->size());
  const size_t value_size = file->size() - kTrailerSize;
  KVB_RETURN_IF_ERROR(CheckTrailer(file->data() + value_size,
                                   Crc32c(file->data(), value_size)));
  file->resize(value_size);
  return Status::OK();
}

std::unique_ptr<ValueWriter> NewTrailerWriter(
    std::unique_ptr<ValueWriter> dst) {
  return std::make_unique<TrailerWriter>(std::move(dst));
}

std::unique_ptr<ValueReader> NewTrailerReader(std::unique_ptr<ValueReader> src,
                                              uint64_t file_size) {
  return std::make_unique<TrailerReader>(std::move(src), file_size);
}

}  // namespace kvb::fileperkey
