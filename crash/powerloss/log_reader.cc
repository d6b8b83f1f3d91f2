#include "crash/powerloss/log_reader.h"

#include <cstring>
#include <fstream>
#include <iterator>

namespace kvb::powerloss {

const char* RecordTypeName(RecordType t) {
  switch (t) {
    case RecordType::kBegin:
      return "begin";
    case RecordType::kOpen:
      return "open";
    case RecordType::kClose:
      return "close";
    case RecordType::kDup:
      return "dup";
    case RecordType::kWrite:
      return "write";
    case RecordType::kTruncate:
      return "truncate";
    case RecordType::kFallocate:
      return "fallocate";
    case RecordType::kRename:
      return "rename";
    case RecordType::kUnlink:
      return "unlink";
    case RecordType::kMkdir:
      return "mkdir";
    case RecordType::kRmdir:
      return "rmdir";
    case RecordType::kLink:
      return "link";
    case RecordType::kFsync:
      return "fsync";
    case RecordType::kSyncFileRange:
      return "sync_file_range";
    case RecordType::kMsync:
      return "msync";
    case RecordType::kMmapShared:
      return "mmap_shared_writable";
    case RecordType::kSync:
      return "sync";
    case RecordType::kAck:
      return "ack";
    case RecordType::kUnsupported:
      return "unsupported";
  }
  return "unknown";
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
