// kvb::typedmap log format — record framing, key rules and the log scanner.
//
// The log is the database: a header line, then records of two lines each.
// FORMAT.md (beside this file) is the byte-level specification; in short:
//   kvb-typedmap 1                      native format (written for new files)
//   S 1a2b3c4d users:alice              op, CRC-32C as 8 lower-case hex digits,
//   full key
//   {"Name":"Alice","Age":30}           the JSON value (empty line for a D
//   record)
// Version 2 of the native format ("kvb-typedmap 2") adds the batch record: a
// line "B <crc> <count> <length>" followed by exactly `length` bytes holding
// `count` S/D records, replayed all or none. A version-1 log is upgraded in
// place (the header's digit) before its first batch is appended.
// The legacy format of go-persist files is read and (for files that have it)
// appended:
//   go-persist 1
//   S users:alice
//   {"Name":"Alice","Age":30}
// The checksum is CRC-32C (core/checksum.h, unmasked) of the record as the
// legacy format would spell it: "S users:alice\n{...}\n". A full key is "<map
// name>:<user key>".
//
// Thread safety: everything here is a pure function, except that ScanLog reads
// a File (thread-safe ReadAt) and calls back on the caller's thread.
#ifndef KVB_ENGINES_TYPEDMAP_LOG_FORMAT_H_
#define KVB_ENGINES_TYPEDMAP_LOG_FORMAT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace kvb::typedmap {

inline constexpr std::string_view kNativeHeader = "kvb-typedmap 1";
// Version 2: may hold batch records. Same length as version 1, so the upgrade
// rewrites one byte.
inline constexpr std::string_view kNativeHeaderV2 = "kvb-typedmap 2";
inline constexpr std::string_view kLegacyHeader = "go-persist 1";

enum class LogFormat : uint8_t { kNative, kLegacy };
std::string_view LogFormatName(LogFormat f);
// The header line (without LF); `batches` selects native version 2.
std::string_view HeaderFor(LogFormat f, bool batches = false);

// go-persist reads its log with a bufio.Reader of 4096 bytes and ReadSlice
// ('\n'), which fails with "bufio: buffer full" (and so fails its whole Open)
// for a line longer than the buffer: a line may hold at most this many bytes,
// its LF included (4095 bytes of key or JSON text).
inline constexpr size_t kLegacyMaxLine = 4096;
// OK if every line of the complete record(s) `records` (go-persist format) fits
// kLegacyMaxLine; else InvalidArgument saying which line and how long.
Status CheckLegacyLines(std::string_view records);

// A user key (the part after "map:") or a store-level key. InvalidArgument if
// it contains a byte 0x00-0x1F or 0x7F or a UTF-8 C1 control (U+0080-U+009F),
// the rule of go-persist's ValidateKey, which also keeps LF out of the
// line-oriented log. The empty user key is valid inside a map (its full key
// "name:" is not empty).
Status ValidateKey(std::string_view key);
// A map name: ValidateKey plus no ':' (the separator; go-persist defect 5).
Status ValidateMapName(std::string_view name);

// Record building. BeginRecord appends the header line of a record ("S <crc>
// prefix+key\n", crc still blank) and returns the record's start offset in
// *out; the caller appends the JSON value (nothing for 'D'), then FinishRecord
// appends the final LF and fills in the CRC.
size_t BeginRecord(LogFormat f, char op, std::string_view prefix,
                   std::string_view key, std::string* out);
void FinishRecord(LogFormat f, size_t start, std::string* out);
// Appends the header line of a batch record (native format) announcing `count`
// records in the `body_size` bytes the caller appends next.
void AppendBatchHeader(uint64_t count, uint64_t body_size, std::string* out);

// One parsed record. Views point into the scanner's buffer: valid only during
// the callback.
struct RecordView {
  char op = 0;             // 'S' or 'D'
  std::string_view key;    // full key
  std::string_view value;  // JSON text; empty for 'D'
  uint64_t offset = 0;     // file offset of the record
  uint64_t size = 0;       // bytes including both LFs
};

struct Header {
  LogFormat format = LogFormat::kNative;
  uint64_t size = 0;     // bytes of the header line including its LF
  bool batches = false;  // native version 2 (may hold batch records)
  bool empty = false;    // the file is empty or holds only a prefix of a native
                         // header line
};
// Reads and checks the header line. Corruption if the file is neither format.
Status ReadHeader(const File& file, uint64_t file_size, Header* header);

struct ScanResult {
  enum class Stop : uint8_t {
    kEnd,       // every byte belonged to a good record
    kTornTail,  // the bytes after good_end are an incomplete last record (a
                // torn append)
    kCorrupt,   // a complete record at good_end failed its checks (see error)
  };
  Stop stop = Stop::kEnd;
  uint64_t records = 0;   // good records passed to the callback
  uint64_t good_end = 0;  // offset just after the last good record
  std::string error;      // why the record at good_end is bad (kCorrupt)
};

// Called per good record in file order. The records of a batch are passed one
// by one, only after the whole batch was read and checked (a batch cut short by
// the end of the file is a torn tail: none of its records is passed). Returning
// Corruption marks that record as bad (the scan stops with kCorrupt at its
// offset, or at its batch's); any other error aborts ScanLog with that error.
using RecordFn = std::function<Status(const RecordView&)>;

// Scans records in [start, file_size) and reports where and why it stopped.
// IOError if a read fails. Never modifies the file. Records may be of any
// length (read in growing chunks).
Status ScanLog(const File& file, LogFormat format, uint64_t start,
               uint64_t file_size, const RecordFn& fn, ScanResult* result);

}  // namespace kvb::typedmap

#endif  // KVB_ENGINES_TYPEDMAP_LOG_FORMAT_H_
