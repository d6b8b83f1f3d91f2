// Test helpers that run kvbench's command line inside the test process
// (harness tests only; linked through kvb_harness_testing, never into kvbench).
#ifndef KVB_HARNESS_TESTING_CLI_RUNNER_H_
#define KVB_HARNESS_TESTING_CLI_RUNNER_H_

#include <string>
#include <vector>

namespace kvb::testing {

// Runs `kvbench ARGS...` through KvbenchMain; returns its exit code.
int Cli(std::vector<std::string> args);
// As Cli, with what it writes to std::cerr captured into *err.
int CliCapture(std::vector<std::string> args, std::string* err);

}  // namespace kvb::testing

#endif  // KVB_HARNESS_TESTING_CLI_RUNNER_H_
