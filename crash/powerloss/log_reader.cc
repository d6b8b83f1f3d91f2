#include "crash/powerloss/log_reader.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "core/names.h"

namespace kvb::powerloss {

constexpr NameTable<RecordType, 19> kRecordTypeNames{{{
    {RecordType::kBegin, "begin"},
    {RecordType::kOpen, "open"},
    {RecordType::kClose, "close"},
    {RecordType::kDup, "dup"},
    {RecordType::kWrite, "write"},
    {RecordType::kTruncate, "truncate"},
    {RecordType::kFallocate, "fallocate"},
    {RecordType::kRename, "rename"},
    {RecordType::kUnlink, "unlink"},
    {RecordType::kMkdir, "mkdir"},
    {RecordType::kRmdir, "rmdir"},
    {RecordType::kLink, "link"},
    {RecordType::kFsync, "fsync"},
    {RecordType::kSyncFileRange, "sync_file_range"},
    {RecordType::kMsync, "msync"},
    {RecordType::kMmapShared, "mmap_shared_writable"},
    {RecordType::kSync, "sync"},
    {RecordType::kAck, "ack"},
    {RecordType::kUnsupported, "unsupported"},
}}};

const char* RecordTypeName(RecordType t) {
  return kRecordTypeNames.Name(t, "unknown").data();
}

Result<Log> ReadLog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read power-loss log " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  Log log;
  size_t pos = 0;
  while (pos < bytes.size()) {
    RecordHeader h;
    if (bytes.size() - pos < sizeof(h)) {
      log.torn_tail = true;
      break;
    }
    std::memcpy(&h, bytes.data() + pos, sizeof(h));
    if (h.magic != kLogMagic) {
      return Status::Corruption("power-loss log " + path +
                                ": bad record magic at byte " +
                                std::to_string(pos));
    }
    size_t need = sizeof(h) + size_t{h.path1_len} + h.path2_len + h.data_len;
    if (bytes.size() - pos < need) {
      log.torn_tail = true;
      break;
    }
    Entry e;
    e.type = static_cast<RecordType>(h.type);
    e.fd = h.fd;
    e.fd2 = h.fd2;
    e.a = h.a;
    e.b = h.b;
    e.c = h.c;
    const char* p = bytes.data() + pos + sizeof(h);
    e.path1.assign(p, h.path1_len);
    e.path2.assign(p + h.path1_len, h.path2_len);
    e.data.assign(p + h.path1_len + h.path2_len, h.data_len);
    log.entries.push_back(std::move(e));
    pos += need;
  }
  if (log.entries.empty() || log.entries[0].type != RecordType::kBegin) {
    return Status::Corruption("power-loss log " + path +
                              " does not start with a begin record");
  }
  log.root = log.entries[0].path1;
  return log;
}

}  // namespace kvb::powerloss
