// A workload is data: a key space, size distributions, a request distribution,
// an op mix, thread count, durability mode and seed. Named presets (see
// PresetNames(), documented with their sources in workloads/README.md) are
// WorkloadSpecs; suites and the CLI override fields by name with ApplyParam, so
// every run is described by (preset, params). This library knows nothing of
// engines or adapters. Thread safety: plain values.
#ifndef KVB_WORKLOADS_WORKLOAD_H_
#define KVB_WORKLOADS_WORKLOAD_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "workloads/distribution.h"
#include "workloads/sizes.h"

namespace kvb {

enum class OpType : uint8_t {
  kRead,
  kUpdate,
  kInsert,
  kDelete,
  kReadModifyWrite,
  kScan
};
inline constexpr int kOpTypes = 6;
// "read", "update", "insert", "delete", "rmw", "scan".
std::string_view OpTypeName(OpType op);

// Proportions of each op type (need not sum to 1; they are normalised).
struct OpMix {
  std::array<double, kOpTypes> weight{};
  double& operator[](OpType op) { return weight[static_cast<int>(op)]; }
  double operator[](OpType op) const { return weight[static_cast<int>(op)]; }
  bool Has(OpType op) const { return (*this)[op] > 0; }
  std::string ToString() const;  // "read:0.95,update:0.05"
};
Result<OpMix> ParseOpMix(std::string_view text);

// Draws op types with the mix's proportions from one uniform 64-bit number.
class OpChooser {
 public:
  explicit OpChooser(const OpMix& mix);
  OpType Next(uint64_t r) const {
    int i = 0;
    while (i < kOpTypes - 1 && r >= cum_[i]) ++i;
    return static_cast<OpType>(i);
  }

 private:
  std::array<uint64_t, kOpTypes> cum_{};
};

// What a value is. kBytes: self-verifying bytes (value_codec.h). kStruct: a
// UserRecord (user_record.h); the harness stores it natively where the adapter
// can, else as JSON it encodes and decodes itself, as an application would.
enum class ValueKind : uint8_t { kBytes, kStruct };
std::string_view ValueKindName(ValueKind k);  // "bytes", "struct"

// How the measured phase is shaped.
enum class RunShape : uint8_t {
  // `ops` operations drawn from the mix and the request distribution.
  kMix,
  // Read every loaded key exactly once, in a seeded shuffled order.
  kReadAllShuffled,
  // No run phase: the load is the measured phase (bulk-insert).
  kNone,
};

// The engine's state when the measured phase starts; every workload states it
// and results record it (params.state, and the engine's own figures in
// engine_state):
//   fresh     straight after the load: memtables full, compactions and
//             checkpoints still owed;
//   settled   after Adapter::Settle() (untimed): flushed, compacted,
//             checkpointed, no background work queued;
//   reopened  after Close and a new open (timed as reopen_ms): what a
//             restarted application sees.
// For bulk-insert (no run phase) it is the state after the measured load.
enum class EngineState : uint8_t { kFresh, kSettled, kReopened };
std::string_view EngineStateName(EngineState s);  // "fresh", ...

struct WorkloadSpec {
  std::string name;
  std::string description;  // one line
  std::string source;       // where the shape comes from

  uint64_t keys = 100000;  // keys loaded before the run
  uint64_t ops = 0;        // run-phase operations over all threads (0 = keys)
  SizeDist key_size = SizeDist::Fixed(16);
  SizeDist value_size = SizeDist::Fixed(100);  // kBytes only
  ValueKind value_kind = ValueKind::kBytes;
  // insert_order=sequential: ordered key bytes, ascending load.
  bool ordered_keys = false;
  DistSpec request;
  OpMix mix;
  // Per-thread mixes: thread t uses roles[t % roles.size()] when
  // threads >= roles.size().
  std::vector<OpMix> roles;
  std::vector<std::string> role_names;
  // Read-while-writing (readers > 0; db_bench's readwhilewriting): threads
  // 0..readers-1 are role "reader" running `mix` and sharing the run's ops;
  // the last thread is role "writer", overwriting existing keys (update:1,
  // same request distribution) at write_rate ops/s (open loop, Poisson
  // arrivals; 0 = as fast as it can) until the readers finish. threads is
  // always readers + 1: setting either sets the other.
  uint32_t readers = 0;
  double write_rate = 0;
  SizeDist scan_length = SizeDist::Uniform(1, 100);
  uint32_t threads = 1;
  // A class of core/durability.h as text: memory | process | periodic:MS |
  // sync.
  std::string durability = "process";
  uint64_t seed = 42;

  RunShape shape = RunShape::kMix;
  bool load = true;  // run a load phase
  EngineState state = EngineState::kFresh;
  bool batch_load = false;  // load with WriteBatch of `batch_size` pairs
  uint32_t batch_size = 1000;
  bool final_verify = false;  // at the end: close, reopen, check every key

  uint64_t RunOps() const {
    return shape == RunShape::kNone ? 0 : (ops ? ops : keys);
  }
  // The highest key id count the run can reach (loaded keys plus inserts).
  uint64_t KeyCapacity() const;
  bool NeedsScan() const;
  bool Writes() const;
};

// The preset names, in display order.
const std::vector<std::string>& PresetNames();
// InvalidArgument naming the known presets for an unknown name.
Result<WorkloadSpec> FindPreset(std::string_view name);
// Parses a presets file in the format of workloads/presets.json (the one
// compiled into this library, which PresetNames/FindPreset use): every preset
// is the defaults, then its template's params, then its own params through
// ApplyParam, then its roles and shape, and must pass Validate. Unknown fields,
// templates and duplicate names are InvalidArgument naming the preset.
[[nodiscard]] Result<std::vector<WorkloadSpec>> ParsePresets(
    std::string_view json_text);

// Sets one field by name from text. Names: keys, ops, threads, key_size,
// value_size, scan_length, insert_order (sequential|shuffled), distribution,
// zipf_theta, hot_data_fraction, hot_op_fraction, mix, durability, seed,
// batch_size, value_kind (bytes|struct), readers, write_rate, state
// (fresh|settled|reopened).
Status ApplyParam(WorkloadSpec* spec, std::string_view name,
                  std::string_view value);
// Checks ranges and consistency (value sizes >= the verifying header, theta in
// (0,1), ...).
Status Validate(const WorkloadSpec& spec);
// Every parameter as text (the inverse of ApplyParam), for results files.
// value_kind appears only when it is not the default (bytes), so results of
// byte workloads keep their earlier parameter sets.
std::map<std::string, std::string> DescribeParams(const WorkloadSpec& spec);

}  // namespace kvb

#endif  // KVB_WORKLOADS_WORKLOAD_H_
