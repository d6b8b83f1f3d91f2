#include "workloads/version_tracker.h"

namespace kvb {

VersionTracker::VersionTracker(uint64_t capacity, bool lock_writes)
    : capacity_(capacity),
      lock_writes_(lock_writes),
      slots_(new Slot[capacity]) {  // Slot's initialisers zero both words
  if (lock_writes_) stripes_.reset(new std::mutex[kStripes]);
}

bool VersionTracker::MarkUniform(uint64_t n, uint32_t version) {
  if (n > capacity_ || version == 0) return false;
  for (uint64_t id = 0; id < capacity_; ++id) {
    const uint32_t want = id < n ? version : 0;
    if (Issued(id) != want || Committed(id) != want << 1) return false;
  }
  uniform_version_ = version;
  uniform_count_.store(n, std::memory_order_release);
  return true;
}

}  // namespace kvb
