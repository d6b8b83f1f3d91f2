#include "engines/linhash/format.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "core/checksum.h"
#include "core/coding.h"

namespace kvb::linhash {
namespace {

void PutVarint32(std::string* dst, uint32_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

size_t VarintLen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Parses a varint32 of at most 5 bytes from p[0, n). Returns bytes used, 0 if
// truncated, -1 if malformed.
int GetVarint32(const char* p, size_t n, uint32_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < 5; ++i) {
    if (i >= n) return 0;
    auto byte = static_cast<uint8_t>(p[i]);
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (result > 0xFFFFFFFFull) return -1;
      *v = static_cast<uint32_t>(result);
      return static_cast<int>(i + 1);
    }
  }
  return -1;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string SegmentFileName(uint32_t id, uint64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%05u-%010" PRIu64 ".lhlog", id, seq);
  return buf;
}

std::optional<SegmentName> ParseSegmentFileName(std::string_view name) {
  constexpr std::string_view kExt = ".lhlog";
  if (name.size() != 5 + 1 + 10 + kExt.size()) return std::nullopt;
  if (name.substr(16) != kExt || name[5] != '-') return std::nullopt;
  std::string_view id = name.substr(0, 5);
  std::string_view seq = name.substr(6, 10);
  if (!AllDigits(id) || !AllDigits(seq)) return std::nullopt;
  SegmentName out{};
  out.id = static_cast<uint32_t>(std::stoul(std::string(id)));
  out.seq = std::stoull(std::string(seq));
  if (out.id > kMaxSegmentId || out.seq == 0) return std::nullopt;
  return out;
}

std::string AsideFileName(uint32_t id, uint64_t seq, uint64_t offset) {
  return SegmentFileName(id, seq) + "." + std::to_string(offset) + ".corrupt";
}

bool IsAsideFileName(std::string_view name) {
  constexpr std::string_view kExt = ".corrupt";
  constexpr size_t kSegmentNameSize = 22;
  if (name.size() <= kSegmentNameSize + 1 + kExt.size()) return false;
  if (name.substr(name.size() - kExt.size()) != kExt) return false;
  if (!ParseSegmentFileName(name.substr(0, kSegmentNameSize))) return false;
  // OFFSET, or OFFSET-K when an earlier repair already used that name.
  std::string_view offset = name.substr(
      kSegmentNameSize + 1, name.size() - kSegmentNameSize - 1 - kExt.size());
  const size_t dash = offset.find('-');
  if (dash != std::string_view::npos && !AllDigits(offset.substr(dash + 1))) {
    return false;
  }
  return name[kSegmentNameSize] == '.' && AllDigits(offset.substr(0, dash));
}

std::string EncodeSegmentHeader(uint32_t id, uint64_t seq) {
  std::string h(kSegmentHeaderSize, '\0');
  std::memcpy(h.data(), kSegmentMagic, 8);
  EncodeFixed32(h.data() + 8, kFormatVersion);
  EncodeFixed32(h.data() + 12, id);
  EncodeFixed64(h.data() + 16, seq);
  EncodeFixed32(h.data() + 60, MaskCrc(Crc32c(h.data(), 60)));
  return h;
}

Status CheckSegmentHeader(std::string_view data, uint32_t id, uint64_t seq) {
  if (data.size() < kSegmentHeaderSize ||
      std::memcmp(data.data(), kSegmentMagic, 8) != 0) {
    return Status::Corruption("not a linhash segment (bad magic)");
  }
  if (UnmaskCrc(DecodeFixed32(data.data() + 60)) != Crc32c(data.data(), 60)) {
    return Status::Corruption("segment header checksum mismatch");
  }
  uint32_t version = DecodeFixed32(data.data() + 8);
  if (version != kFormatVersion) {
    return Status::Corruption("unsupported segment version " +
                              std::to_string(version));
  }
  if (DecodeFixed32(data.data() + 12) != id ||
      DecodeFixed64(data.data() + 16) != seq) {
    return Status::Corruption("segment header does not match its file name");
  }
  return Status::OK();
}

size_t RecordSize(size_t key_len, size_t value_len) {
  return 4 + VarintLen(key_len << 2) + VarintLen(value_len) + key_len +
         value_len;
}

void AppendRecord(std::string* dst, RecordType type, std::string_view key,
                  std::string_view value) {
  size_t start = dst->size();
  dst->append(4, '\0');
  PutVarint32(dst, static_cast<uint32_t>(key.size() << 2) |
                       static_cast<uint32_t>(type));
  PutVarint32(dst, static_cast<uint32_t>(value.size()));
  dst->append(key);
  dst->append(value);
  uint32_t crc = Crc32c(dst->data() + start + 4, dst->size() - start - 4);
  EncodeFixed32(dst->data() + start, MaskCrc(crc));
}

namespace {

// The parsed header of the record at the front of `data`.
struct RecordHeader {
  RecordType type;
  size_t hdr;  // crc + both varints
  uint64_t klen;
  uint64_t total;
};

ParseResult ParseHeader(const char* p, size_t n, RecordHeader* h,
                        size_t* need) {
  *need = kMaxRecordHeader;
  if (n < 6) return ParseResult::kNeedMore;
  uint32_t tag = 0;
  uint32_t vlen = 0;
  int a = GetVarint32(p + 4, n - 4, &tag);
  if (a < 0) return ParseResult::kBad;
  if (a == 0) return ParseResult::kNeedMore;
  int b = GetVarint32(p + 4 + a, n - 4 - a, &vlen);
  if (b < 0) return ParseResult::kBad;
  if (b == 0) return ParseResult::kNeedMore;
  uint32_t type = tag & 3;
  uint64_t klen = tag >> 2;
  if (type > 2 || klen > 65535 || vlen > (512u << 20)) return ParseResult::kBad;
  if (type == 1 && vlen != 0) return ParseResult::kBad;
  if (type == 2 && (klen != 0 || vlen != kBatchValueSize))
    return ParseResult::kBad;
  h->type = static_cast<RecordType>(type);
  h->hdr = 4 + static_cast<size_t>(a) + static_cast<size_t>(b);
  h->klen = klen;
  h->total = h->hdr + klen + vlen;
  return ParseResult::kOk;
}

}  // namespace

ParseResult ParseRecord(std::string_view data, bool verify, RecordView* out,
                        size_t* need) {
  const char* p = data.data();
  RecordHeader h{};
  ParseResult r = ParseHeader(p, data.size(), &h, need);
  if (r != ParseResult::kOk) return r;
  *need = h.total;
  if (data.size() < h.total) return ParseResult::kNeedMore;
  if (verify && UnmaskCrc(DecodeFixed32(p)) != Crc32c(p + 4, h.total - 4)) {
    return ParseResult::kBad;
  }
  out->type = h.type;
  out->key = std::string_view(p + h.hdr, h.klen);
  out->value = std::string_view(p + h.hdr + h.klen, h.total - h.hdr - h.klen);
  out->size = static_cast<uint32_t>(h.total);
  return ParseResult::kOk;
}

ParseResult ParseRecordKey(std::string_view data, RecordView* out,
                           size_t* need) {
  const char* p = data.data();
  RecordHeader h{};
  ParseResult r = ParseHeader(p, data.size(), &h, need);
  if (r != ParseResult::kOk) return r;
  *need = h.hdr + h.klen;
  if (data.size() < *need) return ParseResult::kNeedMore;
  out->type = h.type;
  out->key = std::string_view(p + h.hdr, h.klen);
  out->value = {};
  out->size = static_cast<uint32_t>(h.total);
  return ParseResult::kOk;
}

// The index header's variable fields: byte offset and member (FORMAT.md).
// Bytes 0-23 are the magic, version and geometry.
constexpr std::pair<size_t, uint32_t IndexHeader::*> kIndexHeader32[] = {
    {24, &IndexHeader::level},
    {28, &IndexHeader::segment_count},
    {104, &IndexHeader::load_factor_permille},
    {108, &IndexHeader::tables_crc},
};
constexpr std::pair<size_t, uint64_t IndexHeader::*> kIndexHeader64[] = {
    {32, &IndexHeader::split},
    {40, &IndexHeader::num_primary},
    {48, &IndexHeader::num_overflow},
    {56, &IndexHeader::num_free},
    {64, &IndexHeader::key_count},
    {72, &IndexHeader::hash_seed},
    {80, &IndexHeader::covered_seq},
    {88, &IndexHeader::covered_offset},
    {96, &IndexHeader::checkpoint_number},
};

std::string EncodeIndexHeader(const IndexHeader& h) {
  std::string s(kIndexHeaderSize, '\0');
  char* p = s.data();
  std::memcpy(p, kIndexMagic, 8);
  EncodeFixed32(p + 8, kIndexVersion);
  EncodeFixed32(p + 12, kIndexHeaderSize);
  EncodeFixed32(p + 16, 128);  // bucket size
  EncodeFixed32(p + 20, 10);   // slots per bucket
  for (const auto& [off, field] : kIndexHeader32)
    EncodeFixed32(p + off, h.*field);
  for (const auto& [off, field] : kIndexHeader64)
    EncodeFixed64(p + off, h.*field);
  EncodeFixed32(p + kIndexHeaderSize - 4,
                MaskCrc(Crc32c(p, kIndexHeaderSize - 4)));
  return s;
}

Status DecodeIndexHeader(std::string_view data, IndexHeader* h) {
  if (data.size() < kIndexHeaderSize ||
      std::memcmp(data.data(), kIndexMagic, 8) != 0) {
    return Status::Corruption("not a linhash index (bad magic)");
  }
  const char* p = data.data();
  if (UnmaskCrc(DecodeFixed32(p + kIndexHeaderSize - 4)) !=
      Crc32c(p, kIndexHeaderSize - 4)) {
    return Status::Corruption("index header checksum mismatch");
  }
  if (DecodeFixed32(p + 8) != kIndexVersion) {
    return Status::Corruption("unsupported index version " +
                              std::to_string(DecodeFixed32(p + 8)));
  }
  if (DecodeFixed32(p + 12) != kIndexHeaderSize ||
      DecodeFixed32(p + 16) != 128 || DecodeFixed32(p + 20) != 10) {
    return Status::Corruption("index geometry not supported");
  }
  for (const auto& [off, field] : kIndexHeader32)
    h->*field = DecodeFixed32(p + off);
  for (const auto& [off, field] : kIndexHeader64)
    h->*field = DecodeFixed64(p + off);
  if (h->level > 47 || h->split >= (uint64_t{1} << h->level) ||
      h->num_primary != (uint64_t{1} << h->level) + h->split ||
      h->num_free > h->num_overflow || h->num_overflow >= 0xFFFFFFFFull ||
      h->segment_count > kMaxSegmentId + 1 || h->load_factor_permille < 300 ||
      h->load_factor_permille > 1000) {
    return Status::Corruption("index header fields out of range");
  }
  return Status::OK();
}

void EncodeSegmentEntry(const SegmentEntry& e, std::string* dst) {
  char b[kSegmentEntrySize] = {};
  EncodeFixed32(b, e.id);
  EncodeFixed32(b + 4, e.flags);
  EncodeFixed64(b + 8, e.seq);
  EncodeFixed64(b + 16, e.size);
  EncodeFixed64(b + 24, e.put_records);
  EncodeFixed64(b + 32, e.delete_records);
  EncodeFixed64(b + 40, e.dead_keys);
  EncodeFixed64(b + 48, e.dead_bytes);
  dst->append(b, sizeof(b));
}

SegmentEntry DecodeSegmentEntry(const char* p) {
  SegmentEntry e;
  e.id = DecodeFixed32(p);
  e.flags = DecodeFixed32(p + 4);
  e.seq = DecodeFixed64(p + 8);
  e.size = DecodeFixed64(p + 16);
  e.put_records = DecodeFixed64(p + 24);
  e.delete_records = DecodeFixed64(p + 32);
  e.dead_keys = DecodeFixed64(p + 40);
  e.dead_bytes = DecodeFixed64(p + 48);
  return e;
}

}  // namespace kvb::linhash
