#include "workloads/version_tracker.h"

namespace kvb {

VersionTracker::VersionTracker(uint64_t capacity, bool lock_writes)
    : capacity_(capacity),
      lock_writes_(lock_writes),
      issued_(new std::atomic<uint32_t>[capacity]),
      committed_(new std::atomic<uint32_t>[capacity]) {
  for (uint64_t i = 0; i < capacity; ++i) {
    issued_[i].store(0, std::memory_order_relaxed);
    committed_[i].store(0, std::memory_order_relaxed);
  }
  if (lock_writes_) stripes_.reset(new std::mutex[kStripes]);
}

}  // namespace kvb
