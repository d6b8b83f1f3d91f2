// kvb::io — what an engine asked of the kernel: write system calls, bytes
// handed to the kernel, bytes the kernel sent to the device, and flushes.
//
// The write figures come from /proc/self/io (the whole process: engine
// background threads included, the harness's own writes too, which stay out
// of measured phases): `syscw` counts write(2), pwrite(2), writev(2) and
// friends; `wchar` the bytes they passed; `write_bytes` the bytes this process
// caused to be sent to the block layer (0 on tmpfs and on file systems
// without block accounting; dirty pages another process writes back are not
// counted). Flushes are counted by this library itself: it defines fsync,
// fdatasync, msync, sync_file_range and syncfs, so every call from the
// process — our engines, and RocksDB, LevelDB, LMDB and SQLite through their
// shared libraries — arrives here first, is counted, and goes to the kernel
// as the same system call. Calls glibc makes internally are not seen.
//
// Thread safety: every function may be called from any thread.
#ifndef KVB_HARNESS_IO_COUNTERS_H_
#define KVB_HARNESS_IO_COUNTERS_H_

#include <cstdint>

namespace kvb::io {

struct Counters {
  bool proc_io = false;      // /proc/self/io was readable
  uint64_t write_calls = 0;  // syscw
  uint64_t write_bytes = 0;  // wchar: bytes passed to write calls
  uint64_t device_bytes = 0;  // write_bytes: bytes sent to the block layer
  uint64_t fsyncs = 0;       // fsync + syncfs
  uint64_t fdatasyncs = 0;
  uint64_t msyncs = 0;
  // sync_file_range: starts or waits for write-back of a range (RocksDB's
  // bytes_per_sync); not a durability point, so not among the flushes.
  uint64_t range_syncs = 0;
  uint64_t flushes() const { return fsyncs + fdatasyncs + msyncs; }
};

// The process's counters now.
Counters Read();
// b - a, field by field (b read after a).
Counters Delta(const Counters& a, const Counters& b);

}  // namespace kvb::io

#endif  // KVB_HARNESS_IO_COUNTERS_H_
