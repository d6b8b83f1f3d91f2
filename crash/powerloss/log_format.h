// The power-loss log: what the LD_PRELOAD shim (shim.cc) writes and the
// reconstructor (model.h) replays.
//
// The log is a sequence of records, each a fixed 48-byte RecordHeader followed
// by path1, path2 and data bytes (lengths in the header), little-endian, no
// padding. A record's index in the file is its sequence number: a power cut
// "at point k" means records [0, k) happened and nothing after. The first
// record is kBegin (path1 = the watched root, absolute). Records are written
// by one write() each, in completion order, under the shim's lock, so the log
// order is a valid linearisation of the operations on the watched files.
//
// Paths are relative to the root ("" is the root itself). Only successful
// calls are logged; a failed call changes nothing the reconstructor models.
//
// This header is plain C++ with no dependencies: the shim includes it too.
#ifndef KVB_CRASH_POWERLOSS_LOG_FORMAT_H_
#define KVB_CRASH_POWERLOSS_LOG_FORMAT_H_

#include <cstdint>

namespace kvb::powerloss {

inline constexpr uint32_t kLogMagic = 0x314c504b;  // "KPL1", in every header

// Field use per type (unused fields are 0):
enum class RecordType : uint16_t {
  kBegin = 1,      // path1 = root (absolute), a = pid
  kOpen = 2,       // fd, path1, a = open flags (O_CREAT, O_TRUNC, O_DSYNC...)
  kClose = 3,      // fd
  kDup = 4,        // fd = new fd, fd2 = old fd (dup, dup2, dup3, F_DUPFD)
  kWrite = 5,      // fd, a = file offset, b = 1 if this write was O_DSYNC-
                   // like (RWF_DSYNC/RWF_SYNC), data = the bytes written
  kTruncate = 6,   // fd (or -1 and path1 for truncate()), a = new length
  kFallocate = 7,  // fd, a = mode, b = offset, c = length
  kRename = 8,     // path1 -> path2, a = renameat2 flags
  kUnlink = 9,     // path1 (a file)
  kMkdir = 10,     // path1
  kRmdir = 11,     // path1
  kLink = 12,      // path1 (existing) -> path2 (new name)
  kFsync = 13,     // fd, a = sequence number when the call started,
                   // b = 1 for fdatasync
  kSyncFileRange = 14,  // fd, a = offset, b = length, c = flags (no
                        // durability: recorded for information)
  kMsync = 15,          // a = address, b = length, c = flags
  kMmapShared = 16,     // fd, path1, a = prot, b = length, c = offset: a
                        // writable shared mapping (stores are invisible)
  kSync = 17,           // sync()/syncfs(): a = sequence number at start
  kAck = 18,            // a = the workload's op id (kvb_powerloss_ack)
  kUnsupported = 19,    // path1 = what happened (a call the model cannot
                        // replay: O_TMPFILE, symlink, sendfile, ...)
};

#pragma pack(push, 1)
struct RecordHeader {
  uint32_t magic;
  uint16_t type;  // RecordType
  uint16_t path1_len;
  uint16_t path2_len;
  uint16_t reserved;
  int32_t fd;
  int32_t fd2;
  int64_t a;
  int64_t b;
  int64_t c;
  uint32_t data_len;
};
#pragma pack(pop)
static_assert(sizeof(RecordHeader) == 48, "RecordHeader layout");

// The op id the workload acknowledges right after its adapter's Open returns.
inline constexpr uint64_t kOpenDoneAck = ~uint64_t{0};

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_LOG_FORMAT_H_
