// kvb::powerloss::ReadLog — parses a power-loss log (log_format.h).
#ifndef KVB_CRASH_POWERLOSS_LOG_READER_H_
#define KVB_CRASH_POWERLOSS_LOG_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "crash/powerloss/log_format.h"

namespace kvb::powerloss {

// One record, decoded. Field use per type: log_format.h.
struct Entry {
  RecordType type = RecordType::kBegin;
  int32_t fd = -1;
  int32_t fd2 = -1;
  int64_t a = 0;
  int64_t b = 0;
  int64_t c = 0;
  std::string path1;
  std::string path2;
  std::string data;
};

struct Log {
  std::string root;            // from kBegin
  std::vector<Entry> entries;  // entries[0] is kBegin
  bool torn_tail = false;      // the file ended inside a record (dropped)
};

// Reads the whole log. Corruption if it does not start with kBegin or a
// header has a bad magic; a record cut short at the end of the file is dropped
// and reported through torn_tail (the process died while logging).
Result<Log> ReadLog(const std::string& path);

// Lower-case name of a record type ("write", "fsync", ...).
const char* RecordTypeName(RecordType t);

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_LOG_READER_H_
