// The power-loss workload and its oracle.
//
// The workload is a seeded sequence of ops over `keys` keys ("pl-key-0000"..):
// a put of the key's next version (self-verifying value,
// workloads/value_codec.h, 24-2048 bytes) or, one op in five, a delete. It is
// the same sequence in the child that runs it and in the driver that checks
// it, so nothing but the ack ids needs to cross the process boundary. Ops are
// issued one at a time from one thread: when ops [0, a) are acknowledged, op
// a is the only one that may be in flight.
//
// Oracle, per key, at a cut point with `acked` acknowledged ops: allowed are
// the state after the key's last acknowledged op (absent if none) and, if op
// `acked` is on this key and was issued, the state after it. Anything else is
//   lost_durable  absent, or an older version, or a deleted key resurrected;
//   invented      a version never (yet) written, another key's value, torn or
//                 corrupt bytes, or (ordered engines) a key never written;
//   read_failed   Get/Scan returned an error other than NotFound.
// Thread safety: plain functions over immutable inputs.
#ifndef KVB_CRASH_POWERLOSS_WORKLOAD_H_
#define KVB_CRASH_POWERLOSS_WORKLOAD_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "workloads/value_codec.h"

namespace kvb::powerloss {

struct WorkloadOptions {
  uint64_t ops = 200;
  uint32_t keys = 32;
  uint64_t seed = 1;
};

struct Op {
  uint32_t key = 0;
  uint32_t version = 0;  // 1, 2, ... per key (a delete takes a number too)
  bool del = false;
};

std::vector<Op> MakeOps(const WorkloadOptions& options);
std::string KeyName(uint32_t key);
ValueCodec MakeCodec(uint64_t seed);
uint32_t KeyHash(uint32_t key, uint64_t seed);

// The child: opens `spec` on `dir`, acks kOpenDoneAck, runs the ops (acking
// each after it returned OK), closes. Returns a process exit code (0 = all
// done) and prints the first error to stderr.
int RunWorkload(const std::string& spec, const std::string& dir,
                const WorkloadOptions& options);

struct CheckOutcome {
  std::map<std::string, uint64_t> violations;  // class -> keys
  std::vector<std::string> examples;           // up to 3, one line each
};

// Checks every key of `adapter` (already open on the recovered directory)
// against `ops`, of which [0, acked) are acknowledged and op `acked` is in
// flight if `in_flight`.
CheckOutcome CheckState(Adapter& adapter, const std::vector<Op>& ops,
                        uint64_t acked, bool in_flight,
                        const WorkloadOptions& options);

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_WORKLOAD_H_
