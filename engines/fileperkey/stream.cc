#include "engines/fileperkey/stream.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace kvb::fileperkey {
namespace {

class StringReader final : public ValueReader {
 public:
  explicit StringReader(std::string_view data) : data_(data) {}
  Status Read(char* dst, size_t n, size_t* got) override {
    const size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(dst, data_.data() + pos_, k);
    pos_ += k;
    *got = k;
    return Status::OK();
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

class SharedStringReader final : public ValueReader {
 public:
  explicit SharedStringReader(std::shared_ptr<const std::string> data)
      : data_(std::move(data)), reader_(*data_) {}
  Status Read(char* dst, size_t n, size_t* got) override {
    return reader_.Read(dst, n, got);
  }

 private:
  std::shared_ptr<const std::string> data_;
  StringReader reader_;
};

class FileReader final : public ValueReader {
 public:
  explicit FileReader(std::unique_ptr<File> file) : file_(std::move(file)) {}
  Status Read(char* dst, size_t n, size_t* got) override {
    KVB_RETURN_IF_ERROR(file_->ReadAt(offset_, n, dst, got));
    offset_ += *got;
    return Status::OK();
  }

 private:
  std::unique_ptr<File> file_;  // closed by its destructor
  uint64_t offset_ = 0;
};

class FileWriter final : public ValueWriter {
 public:
  FileWriter(File* file, size_t buffer_bytes)
      : file_(file), limit_(buffer_bytes) {}
  Status Append(std::string_view data) override {
    // Large pieces go straight to the file; small ones are batched into one
    // write(2).
    if (buf_.size() + data.size() > limit_) {
      KVB_RETURN_IF_ERROR(Flush());
      if (data.size() >= limit_) return file_->Append(data);
    }
    buf_.append(data);
    return Status::OK();
  }
  Status Finish() override { return Flush(); }

 private:
  Status Flush() {
    if (buf_.empty()) return Status::OK();
    Status s = file_->Append(buf_);
    buf_.clear();
    return s;
  }

  File* file_;
  size_t limit_;
  std::string buf_;
};

class StringWriter final : public ValueWriter {
 public:
  explicit StringWriter(std::string* out) : out_(out) {}
  Status Append(std::string_view data) override {
    out_->append(data);
    return Status::OK();
  }
  Status Finish() override { return Status::OK(); }

 private:
  std::string* out_;
};

}  // namespace

std::unique_ptr<ValueReader> NewStringReader(std::string_view data) {
  return std::make_unique<StringReader>(data);
}

std::unique_ptr<ValueReader> NewSharedStringReader(
    std::shared_ptr<const std::string> data) {
  return std::make_unique<SharedStringReader>(std::move(data));
}

std::unique_ptr<ValueReader> NewFileReader(std::unique_ptr<File> file) {
  return std::make_unique<FileReader>(std::move(file));
}

std::unique_ptr<ValueWriter> NewFileWriter(File* file, size_t buffer_bytes) {
  return std::make_unique<FileWriter>(file, std::max<size_t>(buffer_bytes, 1));
}

std::unique_ptr<ValueWriter> NewStringWriter(std::string* out) {
  return std::make_unique<StringWriter>(out);
}

Status ReadAll(ValueReader* reader, std::string* out) {
  std::vector<char> buf(kStreamChunk);
  while (true) {
    size_t got = 0;
    KVB_RETURN_IF_ERROR(reader->Read(buf.data(), buf.size(), &got));
    if (got == 0) return Status::OK();
    out->append(buf.data(), got);
  }
}

Status CopyStream(ValueReader* reader, ValueWriter* writer) {
  std::vector<char> buf(kStreamChunk);
  while (true) {
    size_t got = 0;
    KVB_RETURN_IF_ERROR(reader->Read(buf.data(), buf.size(), &got));
    if (got == 0) return Status::OK();
    KVB_RETURN_IF_ERROR(writer->Append(std::string_view(buf.data(), got)));
  }
}

}  // namespace kvb::fileperkey
