#include "adapters/null_adapter.h"

#include <chrono>
#include <memory>

#include "adapters/builtin.h"
#include "adapters/options.h"

namespace kvb {

Capabilities NullAdapter::Caps() {
  Capabilities c;
  c.persistent = false;
  c.ordered = true;
  c.thread_safe = true;
  c.batch = true;
  c.atomic_batch = false;
  c.locks_directory = false;
  return c;
}

void NullAdapter::Delay() const {
  // The empty asm keeps the compiler from deleting or folding the loop, so the
  // work is a fixed instruction count whatever the clock does.
  for (uint64_t i = 0; i < spin_iters_; ++i) asm volatile("" ::: "memory");
  if (delay_ns_ == 0) return;
  // Spin on the clock rather than sleeping: a sleep costs tens of microseconds
  // of scheduler latency and would swamp the delays used to calibrate gates.
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(delay_ns_);
  while (std::chrono::steady_clock::now() < deadline) {
  }
}

Status NullAdapter::Open(const std::string& dir) {
  KVB_RETURN_IF_ERROR(PrepareDirectory(dir));
  dir_ = dir;
  return Status::OK();
}

Status NullAdapter::Close() { return Status::OK(); }

Status NullAdapter::Put(std::string_view key, std::string_view value) {
  Delay();
  return Status::OK();
}

Status NullAdapter::Get(std::string_view key, std::string* value) {
  Delay();
  return Status::NotFound();
}

Status NullAdapter::Delete(std::string_view key) {
  Delay();
  return Status::OK();
}

Status NullAdapter::Has(std::string_view key, bool* found) {
  Delay();
  *found = false;
  return Status::OK();
}

Status NullAdapter::WriteBatch(std::span<const KeyValue> pairs) {
  Delay();
  return Status::OK();
}

Status NullAdapter::Scan(std::string_view start, size_t limit,
                         const ScanCallback& cb) {
  Delay();
  return Status::OK();
}

Status NullAdapter::Sync() {
  Delay();
  return Status::OK();
}

namespace adapters_internal {

void AddNullAdapter(std::vector<AdapterInfo>* out) {
  AdapterInfo info;
  info.name = "null";
  info.description =
      "stores nothing (Get = NotFound); measures harness overhead";
  info.built = true;
  info.capabilities = NullAdapter::Caps();
  info.options = {
      {"delay_ns", "0",
       "busy-wait this many ns in every operation (gate calibration)"},
      {"spin_iters", "0",
       "spin an empty loop this many times in every operation (a fixed "
       "instruction cost, for instruction-count gates)"}};
  info.factory = [](const OptionMap& o) -> Result<std::unique_ptr<Adapter>> {
    KVB_ASSIGN_OR_RETURN(int64_t delay,
                         GetIntOption(o, "delay_ns", 0, 0, 1'000'000'000));
    KVB_ASSIGN_OR_RETURN(int64_t spins,
                         GetIntOption(o, "spin_iters", 0, 0, 1'000'000'000));
    return std::unique_ptr<Adapter>(new NullAdapter(
        static_cast<uint64_t>(delay), static_cast<uint64_t>(spins)));
  };
  out->push_back(std::move(info));
}

}  // namespace adapters_internal
}  // namespace kvb
