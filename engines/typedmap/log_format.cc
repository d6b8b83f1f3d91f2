#include "engines/typedmap/log_format.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/checksum.h"

namespace kvb::typedmap {
namespace {

constexpr char kHex[] = "0123456789abcdef";
// Native header line: "S " + 8 hex digits + " " before the key.
constexpr size_t kCrcOffset = 2;
constexpr size_t kNativeKeyOffset = 11;
// Replay reads the file in chunks of this size; a longer record grows the
// buffer.
constexpr size_t kReadChunk = 4 << 20;

bool ParseHex8(const char* p, uint32_t* v) {
  uint32_t r = 0;
  for (int i = 0; i < 8; i++) {
    char c = p[i];
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    r = (r << 4) | d;
  }
  *v = r;
  return true;
}

// The CRC of a native record [rec, rec + size): the legacy spelling "S " +
// rest, skipping the "xxxxxxxx " field.
uint32_t NativeCrc(const char* rec, size_t size) {
  return Crc32cExtend(Crc32c(rec, kCrcOffset), rec + kNativeKeyOffset,
                      size - kNativeKeyOffset);
}

enum class Parse { kOk, kNeedMore, kBad };

// Parses the record at the front of [p, p + n).
Parse ParseRecord(LogFormat f, const char* p, size_t n, RecordView* r,
                  std::string* err) {
  const char* lf1 = static_cast<const char*>(std::memchr(p, '\n', n));
  if (lf1 == nullptr) return Parse::kNeedMore;
  const char* v = lf1 + 1;
  const char* lf2 = static_cast<const char*>(std::memchr(v, '\n', p + n - v));
  if (lf2 == nullptr) return Parse::kNeedMore;
  size_t line = lf1 - p;
  r->size = lf2 + 1 - p;
  r->op = p[0];
  r->value = std::string_view(v, lf2 - v);
  if (r->op != 'S' && r->op != 'D') {
    *err = "unknown record type";
    return Parse::kBad;
  }
  if (f == LogFormat::kLegacy) {
    // go-persist: "S key" with at least one key byte; D records' second line is
    // ignored.
    if (line < 3 || p[1] != ' ') {
      *err = "malformed record header line";
      return Parse::kBad;
    }
    r->key = std::string_view(p + 2, line - 2);
  } else {
    uint32_t stored;
    if (line <= kNativeKeyOffset || p[1] != ' ' || p[10] != ' ' ||
        !ParseHex8(p + kCrcOffset, &stored)) {
      *err = "malformed record header line";
      return Parse::kBad;
    }
    if (NativeCrc(p, r->size) != stored) {
      *err = "checksum mismatch";
      return Parse::kBad;
    }
    r->key = std::string_view(p + kNativeKeyOffset, line - kNativeKeyOffset);
    if (r->op == 'D' && !r->value.empty()) {
      *err = "delete record with a value";
      return Parse::kBad;
    }
  }
  if (r->op == 'S' && r->value.empty()) {
    *err = "set record without a value";
    return Parse::kBad;
  }
  return Parse::kOk;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Parses a decimal number of at most 19 digits at the front of *s.
bool ConsumeDecimal(std::string_view* s, uint64_t* v) {
  size_t i = 0;
  uint64_t r = 0;
  while (i < s->size() && i < 19 && (*s)[i] >= '0' && (*s)[i] <= '9') {
    r = r * 10 + static_cast<uint64_t>((*s)[i] - '0');
    i++;
  }
  if (i == 0) return false;
  s->remove_prefix(i);
  *v = r;
  return true;
}

// Parses the batch record at the front of [p, p + n) (native format, p[0] ==
// 'B'): its checked header line, then exactly `count` complete, checked S/D
// records filling `length` bytes. *records get offsets relative to p; *size is
// the whole batch. kNeedMore while any byte of the batch is missing, so a batch
// cut short is a torn tail as a whole.
Parse ParseBatch(const char* p, size_t n, std::vector<RecordView>* records,
                 uint64_t* size, std::string* err) {
  const char* lf = static_cast<const char*>(std::memchr(p, '\n', n));
  if (lf == nullptr) return Parse::kNeedMore;
  size_t line = lf - p;
  uint32_t stored;
  if (line <= kNativeKeyOffset || p[1] != ' ' || p[10] != ' ' ||
      !ParseHex8(p + kCrcOffset, &stored)) {
    *err = "malformed batch header line";
    return Parse::kBad;
  }
  if (NativeCrc(p, line + 1) != stored) {
    *err = "checksum mismatch (batch header)";
    return Parse::kBad;
  }
  std::string_view fields(p + kNativeKeyOffset, line - kNativeKeyOffset);
  uint64_t count = 0, length = 0;
  if (!ConsumeDecimal(&fields, &count) || fields.empty() ||
      fields.front() != ' ') {
    *err = "malformed batch header line";
    return Parse::kBad;
  }
  fields.remove_prefix(1);
  if (!ConsumeDecimal(&fields, &length) || !fields.empty()) {
    *err = "malformed batch header line";
    return Parse::kBad;
  }
  const size_t head = line + 1;
  if (length > n - head) return Parse::kNeedMore;
  records->clear();
  size_t off = 0;
  while (off < length) {
    RecordView r;
    Parse q =
        ParseRecord(LogFormat::kNative, p + head + off, length - off, &r, err);
    if (q != Parse::kOk) {
      // The whole batch is present (its length said so): a record that does
      // not fit or parse in it is damage, not a torn write.
      if (q == Parse::kNeedMore) *err = "record runs past the end";
      *err = "in batch: " + *err;
      return Parse::kBad;
    }
    r.offset = head + off;
    off += r.size;
    records->push_back(r);
  }
  if (records->size() != count) {
    *err = "batch holds " + std::to_string(records->size()) +
           " records, its header says " + std::to_string(count);
    return Parse::kBad;
  }
  *size = head + length;
  return Parse::kOk;
}

}  // namespace

std::string_view LogFormatName(LogFormat f) {
  return f == LogFormat::kNative ? "kvb-typedmap 1" : "go-persist 1";
}

std::string_view HeaderFor(LogFormat f, bool batches) {
  if (f == LogFormat::kLegacy) return kLegacyHeader;
  return batches ? kNativeHeaderV2 : kNativeHeader;
}

Status ValidateKey(std::string_view key) {
  for (size_t i = 0; i < key.size(); i++) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7F) {
      return Status::InvalidArgument("key contains a control character");
    }
    // C1 controls U+0080-U+009F are 0xC2 0x80-0x9F in UTF-8.
    if (c == 0xC2 && i + 1 < key.size()) {
      unsigned char d = static_cast<unsigned char>(key[i + 1]);
      if (d >= 0x80 && d <= 0x9F) {
        return Status::InvalidArgument("key contains a C1 control character");
      }
    }
  }
  return Status::OK();
}

Status CheckLegacyLines(std::string_view records) {
  size_t line = 0;
  while (!records.empty()) {
    size_t lf = records.find('\n');
    size_t len = lf == std::string_view::npos ? records.size() : lf + 1;
    if (len > kLegacyMaxLine) {
      return Status::InvalidArgument(
          std::string(line % 2 == 0 ? "key" : "value") + " line of " +
          std::to_string(len) + " bytes exceeds go-persist's line limit of " +
          std::to_string(kLegacyMaxLine) +
          " bytes: go-persist could not read the log (a go-persist format "
          "log; Options::upgrade_legacy_format converts it to the native "
          "format, which has no limit)");
    }
    records.remove_prefix(len);
    line++;
  }
  return Status::OK();
}

Status ValidateMapName(std::string_view name) {
  KVB_RETURN_IF_ERROR(ValidateKey(name));
  if (name.find(':') != std::string_view::npos) {
    return Status::InvalidArgument(
        "map name must not contain ':' (the key separator)");
  }
  return Status::OK();
}

size_t BeginRecord(LogFormat f, char op, std::string_view prefix,
                   std::string_view key, std::string* out) {
  size_t start = out->size();
  out->push_back(op);
  out->push_back(' ');
  if (f == LogFormat::kNative) out->append("00000000 ");
  out->append(prefix);
  out->append(key);
  out->push_back('\n');
  return start;
}

void FinishRecord(LogFormat f, size_t start, std::string* out) {
  out->push_back('\n');
  if (f != LogFormat::kNative) return;
  char* rec = out->data() + start;
  uint32_t crc = NativeCrc(rec, out->size() - start);
  for (int i = 7; i >= 0; i--) {
    rec[kCrcOffset + i] = kHex[crc & 0xF];
    crc >>= 4;
  }
}

void AppendBatchHeader(uint64_t count, uint64_t body_size, std::string* out) {
  size_t start = out->size();
  out->append("B 00000000 ");
  out->append(std::to_string(count));
  out->push_back(' ');
  out->append(std::to_string(body_size));
  out->push_back('\n');
  char* rec = out->data() + start;
  uint32_t crc = NativeCrc(rec, out->size() - start);
  for (int i = 7; i >= 0; i--) {
    rec[kCrcOffset + i] = kHex[crc & 0xF];
    crc >>= 4;
  }
}

Status ReadHeader(const File& file, uint64_t file_size, Header* header) {
  *header = Header();
  if (file_size == 0) {
    header->empty = true;
    return Status::OK();
  }
  char buf[256];
  size_t n = static_cast<size_t>(std::min<uint64_t>(file_size, sizeof(buf)));
  size_t got = 0;
  KVB_RETURN_IF_ERROR(file.ReadAt(0, n, buf, &got));
  std::string_view head(buf, got);
  size_t lf = head.find('\n');
  if (lf == std::string_view::npos) {
    // A crash while the header of a new file was being written leaves a prefix
    // of it.
    std::string native = std::string(kNativeHeader) + "\n";
    std::string legacy = std::string(kLegacyHeader) + "\n";
    if (got == file_size && (std::string_view(native).starts_with(head) ||
                             std::string_view(legacy).starts_with(head))) {
      header->empty = true;
      return Status::OK();
    }
    return Status::Corruption("not a typedmap log: no header line");
  }
  std::string_view line = head.substr(0, lf);
  while (!line.empty() && IsBlank(line.front())) line.remove_prefix(1);
  while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
  if (line == kNativeHeader) {
    header->format = LogFormat::kNative;
  } else if (line == kNativeHeaderV2) {
    header->format = LogFormat::kNative;
    header->batches = true;
  } else if (line == kLegacyHeader) {
    header->format = LogFormat::kLegacy;
  } else {
    return Status::Corruption("not a typedmap log: header is '" +
                              std::string(line.substr(0, 40)) + "'");
  }
  header->size = lf + 1;
  return Status::OK();
}

Status ScanLog(const File& file, LogFormat format, uint64_t start,
               uint64_t file_size, const RecordFn& fn, ScanResult* result) {
  *result = ScanResult();
  result->good_end = start;
  std::string buf;
  size_t pos = 0;               // parse position in buf
  uint64_t buf_offset = start;  // file offset of buf[0]
  uint64_t next_read = start;   // file offset of the next unread byte
  std::string err;
  std::vector<RecordView> batch;  // the records of a batch record
  while (true) {
    RecordView rec;
    bool is_batch = false;
    Parse p = Parse::kNeedMore;
    if (pos < buf.size()) {
      is_batch = format == LogFormat::kNative && buf[pos] == 'B';
      p = is_batch ? ParseBatch(buf.data() + pos, buf.size() - pos, &batch,
                                &rec.size, &err)
                   : ParseRecord(format, buf.data() + pos, buf.size() - pos,
                                 &rec, &err);
    }
    if (p == Parse::kNeedMore) {
      if (next_read >= file_size) {
        if (pos < buf.size()) result->stop = ScanResult::Stop::kTornTail;
        return Status::OK();
      }
      // Keep the unparsed tail and read more after it; a record longer than the
      // buffer simply makes the buffer grow.
      buf.erase(0, pos);
      buf_offset += pos;
      pos = 0;
      size_t want = static_cast<size_t>(
          std::min<uint64_t>(kReadChunk, file_size - next_read));
      size_t old = buf.size();
      buf.resize(old + want);
      size_t got = 0;
      KVB_RETURN_IF_ERROR(file.ReadAt(next_read, want, buf.data() + old, &got));
      buf.resize(old + got);
      next_read += got;
      if (got < want)
        file_size = next_read;  // the file is shorter than its size said
      continue;
    }
    rec.offset = buf_offset + pos;
    if (p == Parse::kBad) {
      result->stop = ScanResult::Stop::kCorrupt;
      result->error = err + " at offset " + std::to_string(rec.offset);
      return Status::OK();
    }
    Status s;
    if (is_batch) {
      for (RecordView& r : batch) {
        r.offset += rec.offset;
        s = fn(r);
        if (!s.ok()) break;
      }
    } else {
      s = fn(rec);
    }
    if (!s.ok()) {
      if (!s.IsCorruption()) return s;
      result->stop = ScanResult::Stop::kCorrupt;
      result->error =
          std::string(s.message()) + " at offset " + std::to_string(rec.offset);
      return Status::OK();
    }
    pos += rec.size;
    result->records += is_batch ? batch.size() : 1;
    result->good_end = buf_offset + pos;
  }
}

}  // namespace kvb::typedmap
