// On-disk formats of linhash (described byte by byte in FORMAT.md): file names,
// the segment header, log records and the checkpoint header. Internal to
// engines/linhash.
#ifndef KVB_ENGINES_LINHASH_FORMAT_H_
#define KVB_ENGINES_LINHASH_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace kvb::linhash {

inline constexpr uint32_t kFormatVersion = 1;  // segment files
// Checkpoint files: version 2 added the per-chunk checksum table (lazy load);
// a version-1 checkpoint is not read (Open rebuilds the index from the log).
inline constexpr uint32_t kIndexVersion = 2;
inline constexpr char kSegmentMagic[8] = {'L', 'H', 'L',  'O',
                                          'G', 0,   '\r', '\n'};
inline constexpr char kIndexMagic[8] = {'L', 'H', 'I', 'D', 'X', 0, '\r', '\n'};
inline constexpr uint32_t kSegmentHeaderSize = 64;
inline constexpr uint32_t kIndexHeaderSize = 256;
inline constexpr uint32_t kSegmentEntrySize = 64;
inline constexpr const char* kLockName = "LOCK";
inline constexpr const char* kIndexName = "index.lhx";
inline constexpr const char* kIndexTmpName = "index.lhx.tmp";
inline constexpr uint32_t kMaxSegmentId = 65535;

// ---- Segment files: "NNNNN-SSSSSSSSSS.lhlog" (id, sequence) ----
std::string SegmentFileName(uint32_t id, uint64_t seq);
// Parses a segment file name; nullopt if `name` is not one.
struct SegmentName {
  uint32_t id;
  uint64_t seq;
};
std::optional<SegmentName> ParseSegmentFileName(std::string_view name);

// ---- Aside files: "NNNNN-SSSSSSSSSS.lhlog.OFFSET.corrupt" ----
// The bytes [OFFSET, old end) that Open with repair cut from that segment,
// kept verbatim for salvage. Open ignores them and never deletes them.
std::string AsideFileName(uint32_t id, uint64_t seq, uint64_t offset);
bool IsAsideFileName(std::string_view name);

std::string EncodeSegmentHeader(uint32_t id, uint64_t seq);
// Corruption unless `data` (>= kSegmentHeaderSize bytes) is a valid header for
// id/seq.
Status CheckSegmentHeader(std::string_view data, uint32_t id, uint64_t seq);

// ---- Records ----
enum class RecordType : uint8_t { kPut = 0, kDelete = 1, kBatch = 2 };
inline constexpr size_t kMaxRecordHeader =
    4 + 3 + 5;  // crc + varint32(klen<<2|t) + varint32
inline constexpr size_t kBatchValueSize = 12;  // u32 count + u64 body bytes

struct RecordView {
  RecordType type;
  std::string_view key;
  std::string_view value;
  uint32_t size;  // whole record, header included
};

// Appends an encoded record to *dst.
void AppendRecord(std::string* dst, RecordType type, std::string_view key,
                  std::string_view value);
size_t RecordSize(size_t key_len, size_t value_len);

enum class ParseResult : uint8_t {
  kOk,
  kNeedMore,  // `data` ends inside the record; *need says how many bytes the
              // record has
  kBad,       // malformed header or checksum mismatch
};
// Parses the record at the front of `data`. With verify = false the CRC is not
// checked.
ParseResult ParseRecord(std::string_view data, bool verify, RecordView* out,
                        size_t* need);
// Parses only the header and key of the record at the front of `data`, for
// lookups that need no value (Has, the overwrite check of Put): out->value is
// empty, out->size is the whole record's size, *need counts header and key
// only, and no checksum is checked (the header's bounds still are).
ParseResult ParseRecordKey(std::string_view data, RecordView* out,
                           size_t* need);

// ---- Checkpoint (index.lhx) header fields ----
struct IndexHeader {
  uint32_t level = 0;
  uint64_t split = 0;
  uint64_t num_primary = 1;
  uint64_t num_overflow = 0;
  uint64_t num_free = 0;
  uint64_t key_count = 0;
  uint64_t hash_seed = 0;
  uint64_t covered_seq =
      0;  // the log up to (covered_seq, covered_offset) is in the index
  uint64_t covered_offset = 0;
  uint32_t segment_count = 0;
  uint64_t checkpoint_number = 0;
  uint32_t load_factor_permille = 800;
  uint32_t tables_crc =
      0;  // CRC of the segment table and free list that follow
};
std::string EncodeIndexHeader(const IndexHeader& h);
Status DecodeIndexHeader(std::string_view data, IndexHeader* h);

// A segment's entry in the checkpoint's segment table.
struct SegmentEntry {
  uint32_t id = 0;
  uint32_t flags = 0;  // bit 0: sealed
  uint64_t seq = 0;
  uint64_t size = 0;  // bytes of the segment the checkpoint relies on
  uint64_t put_records = 0;
  uint64_t delete_records = 0;
  uint64_t dead_keys = 0;
  uint64_t dead_bytes = 0;
};
void EncodeSegmentEntry(const SegmentEntry& e, std::string* dst);
SegmentEntry DecodeSegmentEntry(const char* p);

}  // namespace kvb::linhash

#endif  // KVB_ENGINES_LINHASH_FORMAT_H_
