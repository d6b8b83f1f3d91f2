// kvb::NullAdapter — stores nothing; measures the harness's own overhead.
//
// Put/Delete/WriteBatch/Sync return OK and keep nothing. Get returns NotFound:
// there is no value it could honestly return, and a verifying workload must
// not count it as a correct read. Has reports "not found"; Scan calls the
// callback zero times. Registered as "null".
//
// Options:
//   delay_ns = 0   busy-wait this long inside every operation, spinning on
//                  std::chrono::steady_clock. No sleep, so sub-microsecond
//                  delays are exact to within one clock read (~20-40 ns).
//                  Lets gates and the compare tool be calibrated against a
//                  known cost. Time-based, so its instruction count is not
//                  fixed (it depends on how fast the clock is read).
//   spin_iters = 0 run an empty loop this many times inside every operation:
//                  a fixed number of instructions (3 per iteration on x86-64)
//                  per operation, for calibrating instruction-count gates
//                  (kvbench run --count-instructions).
//   durability     accepted and ignored (nothing is stored).
//
// Capabilities: persistent=false; ordered=true (Scan is a no-op, so scan
// workloads can be measured); batch=true; no key/value limits; no directory
// lock. Open creates the directory, so a bad path is reported as by the real
// adapters.
// Thread safety: every method is safe from any number of threads (no state).
#ifndef KVB_ADAPTERS_NULL_ADAPTER_H_
#define KVB_ADAPTERS_NULL_ADAPTER_H_

#include <cstdint>

#include "adapters/adapter.h"

namespace kvb {

class NullAdapter final : public Adapter {
 public:
  explicit NullAdapter(uint64_t delay_ns, uint64_t spin_iters = 0)
      : delay_ns_(delay_ns), spin_iters_(spin_iters) {}
  static Capabilities Caps();

  std::string_view name() const override { return "null"; }
  Capabilities capabilities() const override { return Caps(); }
  Status Open(const std::string& dir) override;
  Status Close() override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Has(std::string_view key, bool* found) override;
  Status WriteBatch(std::span<const KeyValue> pairs) override;
  Status Scan(std::string_view start, size_t limit,
              const ScanCallback& cb) override;
  Status Sync() override;

 private:
  void Delay() const;
  const uint64_t delay_ns_;
  const uint64_t spin_iters_;
};

}  // namespace kvb

#endif  // KVB_ADAPTERS_NULL_ADAPTER_H_
