#include "harness/acked_inserts.h"

namespace kvb {

void AckedInserts::Reset(uint64_t start, uint64_t end) {
  start_ = start;
  end_ = end > start ? end : start;
  done_ = std::make_unique<std::atomic<uint8_t>[]>(end_ - start_);
  limit_.store(start_, std::memory_order_release);
}

void AckedInserts::Ack(uint64_t id) {
  if (id < start_ || id >= end_) return;
  // Sequentially consistent store then load: the thread that acknowledges
  // the id the limit waits on must see every later mark made before it, and
  // a thread whose mark lands after that scan must see the advanced limit
  // (otherwise both stop and the limit sticks).
  done_[id - start_].store(1, std::memory_order_seq_cst);
  uint64_t l = limit_.load(std::memory_order_seq_cst);
  while (l < end_ && done_[l - start_].load(std::memory_order_seq_cst)) {
    // On failure `l` is the current limit (another thread advanced it).
    if (limit_.compare_exchange_weak(l, l + 1, std::memory_order_seq_cst)) l++;
  }
}

}  // namespace kvb
