// kvb::powerloss::ShimSelfTest — a fixed script of file-system calls for the
// shim's own test (run as `kvb-powerloss --shim-selftest DIR` under the shim).
//
// Under DIR it exercises O_APPEND, dup/fcntl(F_DUPFD), writev, pwrite,
// ftruncate, fallocate, lseek+write, mkdir/rmdir, rename into a subdirectory,
// openat relative to a directory descriptor, writes to an unlinked file,
// link, a failing open (errno must come back unchanged), fdatasync, four
// threads appending concurrently (one file shared), and ends
// with sync(): replaying the whole log must then rebuild DIR exactly.
// Returns 0, or a non-zero code after printing what misbehaved.
#ifndef KVB_CRASH_POWERLOSS_SHIM_SELFTEST_H_
#define KVB_CRASH_POWERLOSS_SHIM_SELFTEST_H_

#include <string>

namespace kvb::powerloss {

int ShimSelfTest(const std::string& dir);

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_SHIM_SELFTEST_H_
