// kvb::icount — counts the instructions of a measured phase, so a CI gate on a
// shared machine compares a deterministic figure instead of noisy time.
//
// Two counters:
//   perf       one perf_event_open(PERF_COUNT_HW_INSTRUCTIONS) counter per
//              worker thread (user space only), enabled around that thread's
//              share of the phase; the phase's count is the sum.
//   callgrind  kvbench re-executes itself under
//              `valgrind --tool=callgrind --collect-atstart=no` (see
//              ExecUnderCallgrind); each worker thread toggles collection on
//              and off around its share (callgrind keeps the collect state
//              per thread: verified with 1-3 threads, counts scale exactly),
//              and the supervisor dumps the totals with
//              CALLGRIND_DUMP_STATS_AT("<benchmark>/rep:<i>") and reads the Ir
//              total back from the dump file. About 50x slower than native.
// Neither counts the engine's own background threads (compaction, flush) nor
// time blocked in syscalls: use instruction counts for CPU-bound points.
//
// Thread safety: PhaseCounter::ThreadBegin/ThreadEnd may be called
// concurrently for different thread indexes; everything else from one thread.
#ifndef KVB_HARNESS_ICOUNT_H_
#define KVB_HARNESS_ICOUNT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace kvb::icount {

enum class Mode { kOff, kPerf, kCallgrind };
const char* ModeName(Mode m);  // "off", "perf", "callgrind"

// What the auto decision needs to know about the machine (injectable in
// tests).
struct Probes {
  std::function<Status()> perf;  // OK when a hardware counter opens
  std::function<bool()> under_valgrind;
  std::function<bool()> valgrind_on_path;
};
Probes SystemProbes();

struct Decision {
  Mode mode = Mode::kOff;
  std::string note;  // why auto chose this mode (empty when explicit)
};
// `flag` is auto | perf | callgrind | off. auto: perf if the syscall works
// (callgrind when already running under valgrind), else callgrind if valgrind
// is on PATH, else off with a note. An explicit perf or callgrind that cannot
// work is InvalidArgument (with the reason); an unknown flag too.
Result<Decision> Decide(const std::string& flag, const Probes& probes);

// OK when perf_event_open(PERF_COUNT_HW_INSTRUCTIONS, user space) works here;
// else the errno as an error.
Status ProbePerf();
bool RunningOnValgrind();
// `valgrind` is an executable file in one of the PATH directories.
bool ValgrindOnPath();

// The Ir count of a callgrind dump: the `totals:` line (else `summary:`), in
// the column of `Ir` in the `events:` line. InvalidArgument if absent.
Result<uint64_t> ParseCallgrindTotals(std::string_view dump);

// Where this process's callgrind dumps go: $KVB_CALLGRIND_DIR/cg.<pid>.N when
// set (ExecUnderCallgrind sets it), else callgrind's default
// ./callgrind.out.<pid>.N.
std::string DumpPrefix();
// The newest dump of this process whose trigger is `label`, parsed.
Result<uint64_t> ReadDump(const std::string& prefix, const std::string& label);

// The valgrind command line that re-runs `args` (argv without argv[0]) of
// `self_exe` with dumps in `dump_dir`.
std::vector<std::string> CallgrindCommand(const std::string& self_exe,
                                          const std::vector<std::string>& args,
                                          const std::string& dump_dir);
// Replaces this process with CallgrindCommand (setting KVB_CALLGRIND_DIR);
// returns only on failure.
Status ExecUnderCallgrind(const std::vector<std::string>& args,
                          const std::string& dump_dir);

// Counts the instructions of one phase's worker threads. Construct it on the
// supervisor thread before the workers start (callgrind: zeroes the stats),
// bracket each worker's share with ThreadBegin/ThreadEnd, and call Finish
// after they have joined. Mode kOff does nothing.
class PhaseCounter {
 public:
  PhaseCounter(Mode mode, size_t threads);
  ~PhaseCounter();
  PhaseCounter(const PhaseCounter&) = delete;
  PhaseCounter& operator=(const PhaseCounter&) = delete;

  bool active() const { return mode_ != Mode::kOff; }
  void ThreadBegin(size_t t);
  void ThreadEnd(size_t t);
  // The phase's instruction count; `label` names the callgrind dump.
  Result<uint64_t> Finish(const std::string& label);

 private:
  struct Slot {
    int fd = -1;
    uint64_t count = 0;
    Status status;
  };
  Mode mode_;
  std::vector<Slot> slots_;
};

}  // namespace kvb::icount

#endif  // KVB_HARNESS_ICOUNT_H_
