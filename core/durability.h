// kvb::DurabilityClass — what survives, the same for every adapter and
// every workload.
//
// A benchmark number is only comparable with another taken under the same
// guarantee, so the harness never passes an engine-specific word: it asks for a
// class, defined by what an acknowledged write (Put, Delete, WriteBatch that
// returned OK) survives:
//
//   class        survives the death of    survives a power loss
//   -----------  -----------------------  -----------------------------------
//   memory       nothing is promised      nothing is promised
//   process      the process (kill -9,    only what a Sync()/Close() covered
//                OOM killer, a crash
//                elsewhere in the app)
//   periodic:MS  the process              all but the last MS milliseconds
//   sync         the process              everything (group commit allowed)
//
// `process` means the write is in the kernel's hands (write(2), pwrite(2), a
// shared mapping) before the call returns; a user-space buffer is not. It is
// the default of every suite: what RocksDB, LevelDB, LMDB (MDB_NOSYNC) and
// SQLite (WAL, synchronous=OFF) give without a sync.
//
// Adapters state how they provide each class (adapters/durability.h);
// workloads and results carry the class as text (ToString()).
//
// Spelling (the `durability` option of every adapter): "memory", "process",
// "periodic:MS" (MS in 1..86400000) or "sync". The old words "none" and
// "async" meant different things on different engines and are refused with a
// message naming the classes; "sync" kept its exact meaning.
#ifndef KVB_CORE_DURABILITY_H_
#define KVB_CORE_DURABILITY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace kvb {

enum class Durability : uint8_t { kMemory, kProcess, kPeriodic, kSync };

struct DurabilityClass {
  Durability level = Durability::kProcess;
  uint64_t period_ms = 0;  // kPeriodic: the power-loss window; else 0

  // "memory", "process", "periodic:1000", "sync": ParseDurabilityClass's input.
  std::string ToString() const;
  bool operator==(const DurabilityClass&) const = default;
};

// "memory" | "process" | "periodic" | "sync" (no argument)
std::string_view DurabilityName(Durability d);
// Parses the spelling above; InvalidArgument with a one-line message otherwise
// (including the retired words, with what to use instead).
Result<DurabilityClass> ParseDurabilityClass(std::string_view text);

}  // namespace kvb

#endif  // KVB_CORE_DURABILITY_H_
