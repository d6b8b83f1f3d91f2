#include "harness/testing/cli_runner.h"

#include <iostream>
#include <sstream>
#include <utility>

#include "harness/cli.h"

namespace kvb::testing {

int Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "kvbench");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return KvbenchMain(static_cast<int>(argv.size()), argv.data());
}

int CliCapture(std::vector<std::string> args, std::string* err) {
  std::ostringstream captured;
  std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
  int rc = Cli(std::move(args));
  std::cerr.rdbuf(old);
  *err = captured.str();
  return rc;
}

}  // namespace kvb::testing
