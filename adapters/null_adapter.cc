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
// lock. Opening creates the directory, so a bad path is reported as by the
// real adapters.
// Thread safety: every method is safe from any number of threads (no state).
#include <chrono>
#include <memory>

#include "adapters/builtin.h"
#include "adapters/options.h"

namespace kvb {
namespace {

struct NullConfig {
  uint64_t delay_ns = 0;
  uint64_t spin_iters = 0;

  static Result<NullConfig> Parse(const OptionMap& o) {
    NullConfig c;
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "delay_ns", &c.delay_ns, 0, 1'000'000'000));
    KVB_RETURN_IF_ERROR(
        ReadOption(o, "spin_iters", &c.spin_iters, 0, 1'000'000'000));
    return c;
  }
};

constexpr Capabilities kNullCaps{
    .persistent = false, .ordered = true, .batch = true};

class NullAdapter final : public adapters_internal::BuiltinAdapter {
 public:
  static Result<std::unique_ptr<Adapter>> Open(const NullConfig& c,
                                               const std::string& dir) {
    KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
    return std::unique_ptr<Adapter>(new NullAdapter(c, dir));
  }

  Status Close() override { return Status::OK(); }
  Status Put(std::string_view, std::string_view) override { return Done(); }
  Status Get(std::string_view, std::string*) override {
    Delay();
    return Status::NotFound();
  }
  Status Delete(std::string_view) override { return Done(); }
  Status Has(std::string_view, bool* found) override {
    *found = false;
    return Done();
  }
  Status WriteBatch(std::span<const KeyValue>) override { return Done(); }
  Status Scan(std::string_view, size_t, const ScanCallback&) override {
    return Done();
  }
  Status Sync() override { return Done(); }

 private:
  NullAdapter(const NullConfig& c, const std::string& dir)
      : BuiltinAdapter("null", kNullCaps, dir), config_(c) {}

  void Delay() const {
    // The empty asm keeps the compiler from deleting or folding the loop, so
    // the work is a fixed instruction count whatever the clock does.
    for (uint64_t i = 0; i < config_.spin_iters; ++i)
      asm volatile("" ::: "memory");
    if (config_.delay_ns == 0) return;
    // Spin on the clock rather than sleeping: a sleep costs tens of
    // microseconds of scheduler latency and would swamp the delays used to
    // calibrate gates.
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::nanoseconds(config_.delay_ns);
    while (std::chrono::steady_clock::now() < deadline) {
    }
  }
  Status Done() const {
    Delay();
    return Status::OK();
  }

  const NullConfig config_;
};

}  // namespace

namespace adapters_internal {

void AddNullAdapter(std::vector<AdapterInfo>* out) {
  Register<NullConfig>(
      out,
      {"null",
       "stores nothing (Get = NotFound); measures harness overhead",
       kNullCaps,
       {{"delay_ns", "0",
         "busy-wait this many ns in every operation (gate calibration)"},
        {"spin_iters", "0",
         "spin an empty loop this many times in every operation (a fixed "
         "instruction cost, for instruction-count gates)"}},
       kNotPersistent},
      &NullConfig::Parse, &NullAdapter::Open);
}

}  // namespace adapters_internal
}  // namespace kvb
