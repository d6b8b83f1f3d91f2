// Running child processes (the plot script, the two builds of `kvbench ab`)
// without a shell, so paths with spaces or quotes need no escaping. Thread
// safety: call from one thread (fork in a threaded process is only safe because
// the child execs at once).
#ifndef KVB_REPORT_PROCESS_H_
#define KVB_REPORT_PROCESS_H_

#include <string>
#include <vector>

namespace kvb::report {

struct ProcessResult {
  bool started = false;  // false: fork or exec failed (see error)
  int exit_code = -1;    // the child's exit status; 128 + signal when killed
  std::string error;
};

// Runs argv[0] (searched in PATH when it has no '/') with argv, waits for it.
// When log_path is non-empty the child's stdout and stderr go there (appended),
// else they are inherited.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::string& log_path);

}  // namespace kvb::report

#endif  // KVB_REPORT_PROCESS_H_
