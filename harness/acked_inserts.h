// AckedInserts: the highest key id below which every insert of a run has been
// acknowledged by the engine (YCSB's AcknowledgedCounterGenerator).
//
// Why: inserting threads claim ids with a counter before they write them. Had
// readers drawn ids below the claim counter, a read could target a key whose
// insert was claimed by another thread but not yet acknowledged: a "missing"
// key that is the harness's doing, not the engine's (issue 16). Readers draw
// below Limit() instead; ids in [Limit(), claimed) are in flight.
//
// Contract: Reset(start, end) before a phase (ids in [start, end) may be
// acknowledged, each at most once; ids below start count as acknowledged).
// Ack(id) and Limit() are thread-safe and lock-free; Limit() never goes back
// and only passes an id once it and every id below it were acknowledged.
#ifndef KVB_HARNESS_ACKED_INSERTS_H_
#define KVB_HARNESS_ACKED_INSERTS_H_

#include <atomic>
#include <cstdint>
#include <memory>

namespace kvb {

class AckedInserts {
 public:
  void Reset(uint64_t start, uint64_t end);
  // Marks `id` acknowledged; ids outside [start, end) are ignored.
  void Ack(uint64_t id);
  uint64_t Limit() const { return limit_.load(std::memory_order_acquire); }

 private:
  std::unique_ptr<std::atomic<uint8_t>[]> done_;  // by id - start_
  uint64_t start_ = 0, end_ = 0;
  std::atomic<uint64_t> limit_{0};
};

}  // namespace kvb

#endif  // KVB_HARNESS_ACKED_INSERTS_H_
