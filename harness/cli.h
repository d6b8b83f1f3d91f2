// The kvbench command line (run, rerun, list, inspect). main.cc calls
// KvbenchMain; tests call it too. Exit codes: 0 success; 1 a run had errors or
// mismatches (results are still written), or inspect found corruption; 2 bad
// usage (unknown flag, engine or workload, unwritable output). Messages go to
// stderr as one line "kvbench: error: ...".
#ifndef KVB_HARNESS_CLI_H_
#define KVB_HARNESS_CLI_H_

#include <iosfwd>

namespace kvb {

int KvbenchMain(int argc, char** argv);

}  // namespace kvb

#endif  // KVB_HARNESS_CLI_H_
