// kvb::powerloss::Ack — the workload side of the acknowledgement marker.
//
// A workload calls Ack(op_id) right after an operation was acknowledged (its
// call returned OK). Under the shim (libkvb_powerloss_shim.so, LD_PRELOAD) this
// logs an ack record in order with the file-system calls; without it, it does
// nothing. The shim's function is found once with dlsym. Thread-safe.
#ifndef KVB_CRASH_POWERLOSS_ACK_H_
#define KVB_CRASH_POWERLOSS_ACK_H_

#include <cstdint>

namespace kvb::powerloss {

void Ack(uint64_t op_id);
// True if the shim is loaded in this process.
bool ShimLoaded();

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_ACK_H_
