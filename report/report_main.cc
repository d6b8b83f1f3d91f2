// kvb-report: the report-side subcommands of kvbench as a stand-alone tool.
//   kvb-report report DIR [--no-plots]
//   kvb-report compare BASE NEW [--gate] [--threshold P] [--alpha A] [--json
//   FILE] kvb-report merge OUT IN1 IN2 ... kvb-report ab BIN_A BIN_B --out DIR
//   [--rounds N] [--gate] ... -- RUN FLAGS
#include <iostream>
#include <string>
#include <vector>

#include "report/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << "usage: kvb-report report|compare|merge|ab ARGS (see "
                 "report/commands.h)\n";
    return 2;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "report")
    return kvb::report::RunReportCommand(args, std::cout, std::cerr);
  if (cmd == "compare")
    return kvb::report::RunCompareCommand(args, std::cout, std::cerr);
  if (cmd == "merge")
    return kvb::report::RunMergeCommand(args, std::cout, std::cerr);
  if (cmd == "ab") return kvb::report::RunAbCommand(args, std::cout, std::cerr);
  std::cerr << "kvb-report: error: unknown command '" << cmd << "'\n";
  return 2;
}
